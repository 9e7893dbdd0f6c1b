/* red_sqltype - a contract's SQL column types and defaults, validated and
 * spelled as the catalog spells them. */
#include "red_sqltype.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Each accepted spelling, its catalog spelling and how many arguments
 * (in parentheses) it takes. */
static const struct {
        const char *name;
        const char *canon;
        red_sqlt_class_t cls;
        int min_args, max_args;
} types[] = {
        {"text", "text", RED_SQLT_TEXT, 0, 0},
        {"varchar", "character varying", RED_SQLT_TEXT, 1, 1},
        {"character varying", "character varying", RED_SQLT_TEXT, 1, 1},
        {"smallint", "smallint", RED_SQLT_INTEGER, 0, 0},
        {"integer", "integer", RED_SQLT_INTEGER, 0, 0},
        {"int", "integer", RED_SQLT_INTEGER, 0, 0},
        {"bigint", "bigint", RED_SQLT_INTEGER, 0, 0},
        {"numeric", "numeric", RED_SQLT_DECIMAL, 0, 2},
        {"real", "real", RED_SQLT_FLOAT, 0, 0},
        {"double precision", "double precision", RED_SQLT_FLOAT, 0, 0},
        {"boolean", "boolean", RED_SQLT_BOOLEAN, 0, 0},
        {"uuid", "uuid", RED_SQLT_UUID, 0, 0},
        {"timestamptz", "timestamp with time zone", RED_SQLT_TIME, 0, 0},
        {"timestamp with time zone", "timestamp with time zone", RED_SQLT_TIME,
         0, 0},
        {"date", "date", RED_SQLT_TIME, 0, 0},
        {"jsonb", "jsonb", RED_SQLT_JSON, 0, 0},
        {"json", "json", RED_SQLT_JSON, 0, 0},
        {"bytea", "bytea", RED_SQLT_BYTES, 0, 0},
};

const char *red_sqltype_allowed(void)
{
        return "text, varchar(n), smallint, integer, bigint, numeric, "
               "numeric(p), numeric(p, s), real, double precision, boolean, "
               "uuid, timestamptz, date, jsonb, json, bytea";
}

/* Lowercases @p in with runs of blanks as one space, into @p out. */
static void normalise(const char *in, char *out, size_t size)
{
        size_t n = 0;
        bool blank = false;

        while (isspace((unsigned char)*in)) {
                in++;
        }
        for (; *in && n + 1 < size; in++) {
                if (isspace((unsigned char)*in)) {
                        blank = true;
                        continue;
                }
                if (blank && n && *in != '(' && *in != ')' && *in != ',' &&
                    out[n - 1] != '(' && out[n - 1] != ',') {
                        out[n++] = ' ';
                }
                blank = false;
                out[n++] = (char)tolower((unsigned char)*in);
        }
        out[n] = '\0';
}

int red_sqltype_parse(const char *in, char *out, size_t size,
                      red_sqlt_class_t *cls)
{
        char buf[128];
        long args[2] = {0, 0};
        int nargs = 0;
        char *paren;

        normalise(in, buf, sizeof(buf));
        if ((paren = strchr(buf, '('))) {
                char *p = paren + 1, *end;

                *paren = '\0';
                while (nargs < 2) {
                        args[nargs] = strtol(p, &end, 10);
                        if (end == p || args[nargs] < 0 ||
                            args[nargs] > 10485760) {
                                return -EINVAL;
                        }
                        nargs++;
                        if (*end == ',') {
                                p = end + 1;
                                continue;
                        }
                        p = end;
                        break;
                }
                if (strcmp(p, ")")) {
                        return -EINVAL;
                }
        }
        for (size_t i = 0; i < sizeof(types) / sizeof(*types); i++) {
                if (strcmp(buf, types[i].name)) {
                        continue;
                }
                if (nargs < types[i].min_args || nargs > types[i].max_args ||
                    (paren && !nargs)) {
                        return -EINVAL;
                }
                *cls = types[i].cls;
                if (types[i].cls == RED_SQLT_DECIMAL && nargs) {
                        /* numeric(p) is numeric(p,0); scale <= precision */
                        if (args[0] < 1 || args[0] > 1000 ||
                            args[1] > args[0]) {
                                return -EINVAL;
                        }
                        snprintf(out, size, "numeric(%ld,%ld)", args[0],
                                 args[1]);
                } else if (nargs) {
                        if (args[0] < 1) {
                                return -EINVAL;
                        }
                        snprintf(out, size, "%s(%ld)", types[i].canon, args[0]);
                } else {
                        snprintf(out, size, "%s", types[i].canon);
                }
                return 0;
        }
        return -EINVAL;
}

bool red_sqltype_fits(red_sqlt_class_t cls, red_sqlt_class_t value,
                      bool integral)
{
        if (cls == value || cls == RED_SQLT_TEXT) {
                return true;
        }
        switch (value) {
        case RED_SQLT_INTEGER:
                return cls == RED_SQLT_DECIMAL || cls == RED_SQLT_FLOAT;
        case RED_SQLT_DECIMAL:
        case RED_SQLT_FLOAT:
                return cls == RED_SQLT_DECIMAL || cls == RED_SQLT_FLOAT ||
                       (cls == RED_SQLT_INTEGER && integral);
        default:
                return false;
        }
}

/* A number as YAML wrote it: digits, one point, an exponent; no inf/nan. */
static bool is_number(const char *s)
{
        char *end;
        double d;

        if (!*s || isspace((unsigned char)*s)) {
                return false;
        }
        d = strtod(s, &end);
        if (*end || !isfinite(d)) {
                return false;
        }
        for (; *s; s++) {
                if (!isdigit((unsigned char)*s) && !strchr("+-.eE", *s)) {
                        return false;
                }
        }
        return true;
}

int red_sqltype_literal(const char *value, bool is_map, red_sqlt_class_t cls,
                        char *out, size_t size)
{
        size_t len = strlen(value);

        if (is_map) {
                if (cls != RED_SQLT_JSON) {
                        return -EINVAL;
                }
                snprintf(out, size, "'%s'", value);
                return 0;
        }
        switch (cls) {
        case RED_SQLT_INTEGER:
        case RED_SQLT_DECIMAL:
        case RED_SQLT_FLOAT:
                if (!is_number(value) ||
                    (cls == RED_SQLT_INTEGER && strpbrk(value, ".eE"))) {
                        return -EINVAL;
                }
                snprintf(out, size, "%s", value);
                return 0;
        case RED_SQLT_BOOLEAN:
                if (strcmp(value, "true") && strcmp(value, "false")) {
                        return -EINVAL;
                }
                snprintf(out, size, "%s", value);
                return 0;
        case RED_SQLT_TIME:
                /* the insertion time is the one useful default */
                if (strcmp(value, "now")) {
                        return -EINVAL;
                }
                snprintf(out, size, "now()");
                return 0;
        case RED_SQLT_TEXT:
                break;
        default:
                return -EINVAL;
        }
        for (size_t i = 0; i < len; i++) {
                unsigned char ch = (unsigned char)value[i];
                if (ch < 0x20 || ch == 0x7f || ch == '\'' || ch == '\\') {
                        return -EINVAL;
                }
        }
        if (len + 3 > size) {
                return -EINVAL;
        }
        snprintf(out, size, "'%s'", value);
        return 0;
}

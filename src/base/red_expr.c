/* red_expr - recursive-descent parser and evaluator for column expressions. */
#include "red_expr.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum {
        OP_NUM,
        OP_REF,
        OP_ADD,
        OP_SUB,
        OP_MUL,
        OP_DIV,
        OP_COALESCE,
} op_t;

struct red_expr_s {
        op_t op;
        double num;
        int ref;
        red_expr_t **args;
        size_t arg_cnt;
};

typedef struct parser_s {
        const char *text;
        const char *p;
        red_expr_resolve_cb *resolve;
        void *opaque;
        char *errstr;
        size_t errstr_size;
        bool failed;
} parser_t;

static red_expr_t *parse_sum(parser_t *ps);

static void fail(parser_t *ps, const char *msg)
{
        if (!ps->failed) {
                snprintf(ps->errstr, ps->errstr_size, "column %d: %s",
                         (int)(ps->p - ps->text) + 1, msg);
        }
        ps->failed = true;
}

static void skip_ws(parser_t *ps)
{
        while (isspace((unsigned char)*ps->p)) {
                ps->p++;
        }
}

static red_expr_t *node(op_t op, size_t nargs)
{
        red_expr_t *e = calloc(1, sizeof(*e));

        if (!e) {
                return NULL;
        }
        e->op = op;
        if (nargs) {
                e->args = calloc(nargs, sizeof(*e->args));
                if (!e->args) {
                        free(e);
                        return NULL;
                }
                e->arg_cnt = nargs;
        }
        return e;
}

static red_expr_t *binary(parser_t *ps, op_t op, red_expr_t *l, red_expr_t *r)
{
        red_expr_t *e;

        if (!l || !r || !(e = node(op, 2))) {
                red_expr_destroy(l);
                red_expr_destroy(r);
                if (!ps->failed) {
                        fail(ps, "out of memory");
                }
                return NULL;
        }
        e->args[0] = l;
        e->args[1] = r;
        return e;
}

static red_expr_t *parse_coalesce(parser_t *ps)
{
        red_expr_t *e = node(OP_COALESCE, 0), *arg;
        red_expr_t **args;

        if (!e) {
                fail(ps, "out of memory");
                return NULL;
        }
        do {
                ps->p++; /* '(' or ',' */
                if (!(arg = parse_sum(ps))) {
                        red_expr_destroy(e);
                        return NULL;
                }
                args = realloc(e->args, (e->arg_cnt + 1) * sizeof(*args));
                if (!args) {
                        red_expr_destroy(arg);
                        red_expr_destroy(e);
                        fail(ps, "out of memory");
                        return NULL;
                }
                e->args = args;
                e->args[e->arg_cnt++] = arg;
                skip_ws(ps);
        } while (*ps->p == ',');
        if (*ps->p != ')') {
                red_expr_destroy(e);
                fail(ps, "expected \")\" after the arguments of coalesce");
                return NULL;
        }
        ps->p++;
        return e;
}

static red_expr_t *parse_atom(parser_t *ps)
{
        red_expr_t *e;

        skip_ws(ps);
        if (*ps->p == '(') {
                ps->p++;
                e = parse_sum(ps);
                skip_ws(ps);
                if (e && *ps->p != ')') {
                        red_expr_destroy(e);
                        fail(ps, "expected \")\"");
                        return NULL;
                }
                ps->p++;
                return e;
        }
        if (*ps->p == '-') {
                ps->p++;
                e = parse_atom(ps);
                if (!e) {
                        return NULL;
                }
                return binary(ps, OP_SUB, node(OP_NUM, 0), e);
        }
        if (isdigit((unsigned char)*ps->p) || *ps->p == '.') {
                char *end;
                if (!(e = node(OP_NUM, 0))) {
                        fail(ps, "out of memory");
                        return NULL;
                }
                e->num = strtod(ps->p, &end);
                ps->p = end;
                return e;
        }
        if (isalpha((unsigned char)*ps->p) || *ps->p == '_') {
                const char *start = ps->p;
                char name[128];
                size_t len;

                while (isalnum((unsigned char)*ps->p) || *ps->p == '_' ||
                       *ps->p == '.') {
                        ps->p++;
                }
                len = (size_t)(ps->p - start);
                skip_ws(ps);
                if (len == 8 && !strncmp(start, "coalesce", 8) &&
                    *ps->p == '(') {
                        return parse_coalesce(ps);
                }
                if (len >= sizeof(name)) {
                        fail(ps, "name too long");
                        return NULL;
                }
                memcpy(name, start, len);
                name[len] = '\0';
                if (!(e = node(OP_REF, 0))) {
                        fail(ps, "out of memory");
                        return NULL;
                }
                if (ps->resolve(ps->opaque, name, &e->ref, ps->errstr,
                                ps->errstr_size)) {
                        ps->failed = true;
                        free(e);
                        return NULL;
                }
                return e;
        }
        fail(ps, *ps->p ? "expected a number, a name or \"(\""
                        : "unexpected end of expression");
        return NULL;
}

static red_expr_t *parse_product(parser_t *ps)
{
        red_expr_t *l = parse_atom(ps);

        while (l) {
                char c;
                skip_ws(ps);
                c = *ps->p;
                if (c != '*' && c != '/') {
                        break;
                }
                ps->p++;
                l = binary(ps, c == '*' ? OP_MUL : OP_DIV, l, parse_atom(ps));
        }
        return l;
}

static red_expr_t *parse_sum(parser_t *ps)
{
        red_expr_t *l = parse_product(ps);

        while (l) {
                char c;
                skip_ws(ps);
                c = *ps->p;
                if (c != '+' && c != '-') {
                        break;
                }
                ps->p++;
                l = binary(ps, c == '+' ? OP_ADD : OP_SUB, l,
                           parse_product(ps));
        }
        return l;
}

red_expr_t *red_expr_parse(const char *text, red_expr_resolve_cb *resolve,
                           void *opaque, char *errstr, size_t errstr_size)
{
        parser_t ps = {text, text, resolve, opaque, errstr, errstr_size, false};
        red_expr_t *e = parse_sum(&ps);

        if (e) {
                skip_ws(&ps);
                if (*ps.p) {
                        fail(&ps, "unexpected text after the expression");
                        red_expr_destroy(e);
                        return NULL;
                }
        }
        return e;
}

void red_expr_destroy(red_expr_t *e)
{
        if (!e) {
                return;
        }
        for (size_t i = 0; i < e->arg_cnt; i++) {
                red_expr_destroy(e->args[i]);
        }
        free(e->args);
        free(e);
}

bool red_expr_eval(const red_expr_t *e, red_expr_value_cb *value, void *opaque,
                   double *out)
{
        double a, b;

        switch (e->op) {
        case OP_NUM:
                *out = e->num;
                return true;
        case OP_REF:
                return value(opaque, e->ref, out);
        case OP_COALESCE:
                for (size_t i = 0; i < e->arg_cnt; i++) {
                        if (red_expr_eval(e->args[i], value, opaque, out)) {
                                return true;
                        }
                }
                return false;
        default:
                break;
        }
        if (!red_expr_eval(e->args[0], value, opaque, &a) ||
            !red_expr_eval(e->args[1], value, opaque, &b)) {
                return false;
        }
        switch (e->op) {
        case OP_ADD:
                *out = a + b;
                return true;
        case OP_SUB:
                *out = a - b;
                return true;
        case OP_MUL:
                *out = a * b;
                return true;
        case OP_DIV:
                if (b == 0) {
                        return false;
                }
                *out = a / b;
                return true;
        default:
                return false;
        }
}

bool red_expr_is_ref(const red_expr_t *e, int *ref)
{
        if (e->op != OP_REF) {
                return false;
        }
        *ref = e->ref;
        return true;
}

void red_expr_refs(const red_expr_t *e, void (*cb)(void *opaque, int ref),
                   void *opaque)
{
        if (e->op == OP_REF) {
                cb(opaque, e->ref);
        }
        for (size_t i = 0; i < e->arg_cnt; i++) {
                red_expr_refs(e->args[i], cb, opaque);
        }
}

bool red_expr_integral(const red_expr_t *e,
                       bool (*integral)(void *opaque, int ref), void *opaque)
{
        switch (e->op) {
        case OP_NUM:
                return e->num == (double)(long long)e->num;
        case OP_REF:
                return integral(opaque, e->ref);
        case OP_DIV:
                return false;
        default:
                break;
        }
        for (size_t i = 0; i < e->arg_cnt; i++) {
                if (!red_expr_integral(e->args[i], integral, opaque)) {
                        return false;
                }
        }
        return true;
}

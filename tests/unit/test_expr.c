/* Tests for red_expr: precedence, null propagation, coalesce, errors. */
#include "red_expr.h"
#include "red_test.h"

#include <stdio.h>
#include <string.h>

/* Names a..e resolve to refs 0..4; their values come from vals[]; NAN-ish
 * marker -1 means null. */
static double vals[5] = {3, 4, 0, -1, 10};

static int resolve(void *opaque, const char *name, int *ref, char *err,
                   size_t size)
{
        (void)opaque;
        if (strlen(name) == 1 && name[0] >= 'a' && name[0] <= 'e') {
                *ref = name[0] - 'a';
                return 0;
        }
        snprintf(err, size, "unknown measure \"%s\"", name);
        return -1;
}

static bool value(void *opaque, int ref, double *out)
{
        (void)opaque;
        if (vals[ref] == -1) {
                return false;
        }
        *out = vals[ref];
        return true;
}

static bool eval(const char *text, double *out)
{
        char err[256];
        red_expr_t *e = red_expr_parse(text, resolve, NULL, err, sizeof(err));
        bool ok;

        ck_assert_msg(e != NULL, "%s: %s", text, err);
        ok = red_expr_eval(e, value, NULL, out);
        red_expr_destroy(e);
        return ok;
}

START_TEST(arithmetic)
{
        double v;

        ck_assert(eval("a + b * 2", &v));
        ck_assert_double_eq(v, 11);
        ck_assert(eval("(a + b) * 2", &v));
        ck_assert_double_eq(v, 14);
        ck_assert(eval("a / (a + b)", &v));
        ck_assert_double_eq_tol(v, 3.0 / 7, 1e-15);
        ck_assert(eval("e - a - b", &v));
        ck_assert_double_eq(v, 3);
        ck_assert(eval("-a + 1.5", &v));
        ck_assert_double_eq(v, -1.5);
}
END_TEST

START_TEST(nulls)
{
        double v;

        ck_assert(!eval("a / c", &v)); /* division by zero */
        ck_assert(!eval("d + 1", &v)); /* null propagates */
        ck_assert(eval("coalesce(d, a / c, 7)", &v));
        ck_assert_double_eq(v, 7);
        ck_assert(eval("coalesce(a, 7)", &v));
        ck_assert_double_eq(v, 3);
}
END_TEST

START_TEST(errors)
{
        char err[256];

        ck_assert_ptr_null(
                red_expr_parse("a +", resolve, NULL, err, sizeof(err)));
        ck_assert_str_eq(err, "column 4: unexpected end of expression");
        ck_assert_ptr_null(
                red_expr_parse("a b", resolve, NULL, err, sizeof(err)));
        ck_assert_str_eq(err, "column 3: unexpected text after the expression");
        ck_assert_ptr_null(
                red_expr_parse("zz * 2", resolve, NULL, err, sizeof(err)));
        ck_assert_str_eq(err, "unknown measure \"zz\"");
        ck_assert_ptr_null(red_expr_parse("coalesce(a, b", resolve, NULL, err,
                                          sizeof(err)));
        ck_assert_str_eq(err,
                         "column 14: expected \")\" after the arguments of "
                         "coalesce");
}
END_TEST

int main(void)
{
        Suite *s = suite_create("expr");
        TCase *tc = tcase_create("expr");

        tcase_add_test(tc, arithmetic);
        tcase_add_test(tc, nulls);
        tcase_add_test(tc, errors);
        suite_add_tcase(s, tc);
        return test_main(s);
}

/* Tests for red_yaml: marks, anchors, errors. */
#include "red_test.h"
#include "red_yaml.h"

#include <string.h>

static red_yaml_doc_t *load(const char *text, char *err, size_t size)
{
        return red_yaml_load_string("t.yaml", text, strlen(text), err, size);
}

START_TEST(tree_and_marks)
{
        char err[512];
        red_yaml_doc_t *d =
                load("a: 1\nb:\n  - x\n  - 'y'\nc: {d: ~}\n", err, sizeof(err));
        const red_yaml_node_t *r, *b, *c;

        ck_assert_msg(d != NULL, "%s", err);
        r = red_yaml_doc_root(d);
        ck_assert_int_eq(red_yaml_kind(r), RED_YAML_MAP);
        ck_assert_uint_eq(red_yaml_size(r), 3);
        ck_assert_str_eq(red_yaml_str(red_yaml_get(r, "a")), "1");
        b = red_yaml_get(r, "b");
        ck_assert_int_eq(red_yaml_kind(b), RED_YAML_SEQ);
        ck_assert_int_eq(red_yaml_line(red_yaml_item(b, 1)), 4);
        ck_assert_int_eq(red_yaml_col(red_yaml_item(b, 1)), 5);
        ck_assert(red_yaml_is_quoted(red_yaml_item(b, 1)));
        c = red_yaml_get(r, "c");
        ck_assert(red_yaml_is_null(red_yaml_get(c, "d")));
        ck_assert_ptr_null(red_yaml_get(r, "zz"));
        red_yaml_doc_destroy(d);
}
END_TEST

START_TEST(anchors_are_shared)
{
        char err[512];
        red_yaml_doc_t *d =
                load("base: &b {x: 1}\nuse: *b\n", err, sizeof(err));

        ck_assert_msg(d != NULL, "%s", err);
        ck_assert_ptr_eq(red_yaml_get(red_yaml_doc_root(d), "base"),
                         red_yaml_get(red_yaml_doc_root(d), "use"));
        red_yaml_doc_destroy(d);
}
END_TEST

START_TEST(errors_point_at_input)
{
        char err[512];
        int64_t i;
        red_yaml_doc_t *d;
        static const char *const allowed[] = {"windows", "group_by", NULL};

        ck_assert_ptr_null(load("a: 1\na: 2\n", err, sizeof(err)));
        ck_assert_str_eq(err,
                         "t.yaml:2:1: duplicate key \"a\" (first at line 1)");
        ck_assert_ptr_null(load("a: *nope\n", err, sizeof(err)));
        ck_assert_str_eq(err, "t.yaml:1:4: unknown alias *nope");
        ck_assert_ptr_null(load("<<: {a: 1}\n", err, sizeof(err)));
        ck_assert_str_eq(err, "t.yaml:1:1: merge keys (<<) are not supported");
        ck_assert_ptr_null(load("a: 1\n---\nb: 2\n", err, sizeof(err)));
        ck_assert_str_eq(err, "t.yaml:2:1: only one YAML document per file "
                              "is allowed");

        d = load("agg:\n  windw: 1\n  n: '5'\n", err, sizeof(err));
        ck_assert_ptr_nonnull(d);
        ck_assert_int_ne(
                red_yaml_check_keys(red_yaml_get(red_yaml_doc_root(d), "agg"),
                                    "aggregation", allowed, err, sizeof(err)),
                0);
        ck_assert_str_eq(err, "t.yaml:2:3: unknown key \"windw\" in "
                              "aggregation (allowed: windows, group_by); did "
                              "you mean \"windows\"?");
        ck_assert_int_ne(
                red_yaml_to_int64(
                        red_yaml_get(red_yaml_get(red_yaml_doc_root(d), "agg"),
                                     "n"),
                        "n", &i, err, sizeof(err)),
                0);
        ck_assert_str_eq(err,
                         "t.yaml:3:6: expected an integer for n, got \"5\"");
        red_yaml_doc_destroy(d);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("yaml");
        TCase *tc = tcase_create("yaml");

        tcase_add_test(tc, tree_and_marks);
        tcase_add_test(tc, anchors_are_shared);
        tcase_add_test(tc, errors_point_at_input);
        suite_add_tcase(s, tc);
        return test_main(s);
}

/* Tests for red_yaml: marks, anchors, errors, bounded file reads. */
#include "red_test.h"
#include "red_yaml.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* Only regular files are read: a FIFO would block for ever (before the
 * check this test hung until its timeout), a device never end. */
START_TEST(only_regular_files)
{
        char *dir = test_tmpdir(), fifo[4096], err[512];

        snprintf(fifo, sizeof(fifo), "%s/config.yaml", dir);
        ck_assert_int_eq(mkfifo(fifo, 0600), 0);
        ck_assert_ptr_null(red_yaml_load_file(fifo, err, sizeof(err)));
        ck_assert_ptr_nonnull(strstr(err, ": not a regular file (a FIFO)"));
        ck_assert_ptr_null(red_yaml_load_file("/dev/zero", err, sizeof(err)));
        ck_assert_str_eq(err, "/dev/zero: not a regular file (a character "
                              "device)");
        ck_assert_ptr_null(red_yaml_load_file(dir, err, sizeof(err)));
        ck_assert_ptr_nonnull(strstr(err, ": not a regular file (a "
                                          "directory)"));
        ck_assert_int_eq(unlink(fifo), 0);
        ck_assert_ptr_null(red_yaml_load_file(fifo, err, sizeof(err)));
        ck_assert_ptr_nonnull(strstr(err, ": cannot open: No such file"));
        ck_assert_int_eq(rmdir(dir), 0);
        free(dir);
}
END_TEST

/* The size limit: up to it a file loads, one byte more and it is refused
 * with the setting that sets the limit. */
START_TEST(size_is_bounded)
{
        char *dir = test_tmpdir(), path[4096], err[512], text[200];
        red_yaml_doc_t *d;

        ck_assert_uint_eq(red_yaml_max_file_bytes(),
                          RED_YAML_MAX_FILE_BYTES_DEFAULT);
        snprintf(path, sizeof(path), "%s/x.yaml", dir);
        memset(text, '#', sizeof(text));
        memcpy(text, "a: 1\n", 5);
        test_write_file(path, text, 100);
        red_yaml_set_max_file_bytes(100, "test.limit");
        d = red_yaml_load_file(path, err, sizeof(err));
        ck_assert_msg(d != NULL, "%s", err);
        ck_assert_str_eq(red_yaml_str(red_yaml_get(red_yaml_doc_root(d), "a")),
                         "1");
        red_yaml_doc_destroy(d);
        test_write_file(path, text, 101);
        ck_assert_ptr_null(red_yaml_load_file(path, err, sizeof(err)));
        ck_assert_ptr_nonnull(strstr(err, "/x.yaml: too large: more than 100 "
                                          "bytes (the limit is test.limit)"));
        /* an explicit limit wins over the process-wide one */
        d = red_yaml_load_file_max(path, 200, NULL, err, sizeof(err));
        ck_assert_msg(d != NULL, "%s", err);
        red_yaml_doc_destroy(d);
        ck_assert_ptr_null(
                red_yaml_load_file_max(path, 50, NULL, err, sizeof(err)));
        ck_assert_ptr_nonnull(strstr(err, "too large: more than 50 bytes"));
        ck_assert_ptr_null(strstr(err, "limit is"));
        red_yaml_set_max_file_bytes(RED_YAML_MAX_FILE_BYTES_DEFAULT, NULL);
        ck_assert_int_eq(unlink(path), 0);
        ck_assert_int_eq(rmdir(dir), 0);
        free(dir);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("yaml");
        TCase *tc = tcase_create("yaml");

        tcase_add_test(tc, tree_and_marks);
        tcase_add_test(tc, anchors_are_shared);
        tcase_add_test(tc, errors_point_at_input);
        tcase_add_test(tc, only_regular_files);
        tcase_add_test(tc, size_is_bounded);
        suite_add_tcase(s, tc);
        return test_main(s);
}

/*
 * Tests for red_cell_codec, through red_cell_serialize() and
 * red_cell_merge_serialized(): states round-trip byte for byte, survive
 * contract changes (measures added, dropped, other precisions), reject
 * truncation and corruption cleanly, and a golden state of the first
 * encoder still decodes.
 */
#include "cell_fixtures.h"
#include "red_test.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An empty cell with @p cell's key, in aggregation @p a (same shape). */
static red_cell_t *empty_like(const red_cell_t *cell, const red_agg_t *a)
{
        red_cell_t *n = red_cell_new_like(cell, a, cg->sketch_alpha);

        ck_assert_ptr_nonnull(n);
        ck_assert_int_eq(red_cell_cmp(n, cell), 0);
        return n;
}

START_TEST(serialize_round_trip)
{
        stream_t st;
        red_aggregator_t *ag;
        red_cell_t **cells, *big = NULL;
        red_buf_t a, b, c;
        size_t n, biggest = 0, rejected = 0, accepted = 0;
        char err[256];

        stream_gen(&st, 11, 8000, 2);
        stream_decode(&st, cg);
        ag = aggregate(cg, &st, 0, st.cnt);
        cells = red_aggregator_cells(ag, &n);
        red_buf_init(&a);
        red_buf_init(&b);
        red_buf_init(&c);
        for (size_t i = 0; i < n; i++) {
                red_cell_t *e = empty_like(cells[i], &cg->aggs[0]);
                serialize(cells[i], &a);
                ck_assert_int_eq(red_cell_merge_serialized(e, a.data, a.len,
                                                           err, sizeof(err)),
                                 0);
                serialize(e, &b);
                ck_assert_uint_eq(a.len, b.len);
                ck_assert_int_eq(memcmp(a.data, b.data, a.len), 0);
                row(cells[i], &b);
                row(e, &c);
                ck_assert_str_eq(b.data, c.data);
                ck_assert_uint_eq(red_cell_events(e),
                                  red_cell_events(cells[i]));
                red_cell_destroy(e);
                if (a.len > biggest) {
                        biggest = a.len;
                        big = cells[i];
                }
        }
        /* every prefix of the biggest state is rejected, cleanly */
        serialize(big, &a);
        for (size_t len = 0; len < a.len; len++) {
                red_cell_t *e = empty_like(big, &cg->aggs[0]);
                err[0] = '\0';
                ck_assert_msg(red_cell_merge_serialized(e, a.data, len, err,
                                                        sizeof(err)) == -EINVAL,
                              "prefix %zu of %zu accepted", len, a.len);
                ck_assert_str_ne(err, "");
                red_cell_destroy(e);
        }
        /* trailing bytes too */
        red_buf_putc(&a, 0);
        {
                red_cell_t *e = empty_like(big, &cg->aggs[0]);
                ck_assert_int_eq(red_cell_merge_serialized(e, a.data, a.len,
                                                           err, sizeof(err)),
                                 -EINVAL);
                red_cell_destroy(e);
        }
        /* any single corrupted byte: accepted or rejected, never a crash */
        serialize(big, &a);
        for (size_t pos = 0; pos < a.len; pos++) {
                static const unsigned char flips[] = {0xff, 0x80, 0x01, 0x7f};
                for (size_t f = 0; f < sizeof(flips); f++) {
                        red_cell_t *e = empty_like(big, &cg->aggs[0]);
                        unsigned char old = (unsigned char)a.data[pos];
                        int r;
                        a.data[pos] = (char)(old ^ flips[f]);
                        r = red_cell_merge_serialized(e, a.data, a.len, err,
                                                      sizeof(err));
                        ck_assert(r == 0 || r == -EINVAL);
                        rejected += r != 0;
                        accepted += r == 0;
                        a.data[pos] = (char)old;
                        /* whatever got in renders */
                        row(e, &b);
                        red_cell_destroy(e);
                }
        }
        ck_assert_uint_gt(rejected, 0);
        ck_assert_uint_gt(accepted, 0);
        /* not a cell state at all */
        {
                red_cell_t *e = empty_like(big, &cg->aggs[0]);
                ck_assert_int_eq(red_cell_merge_serialized(e, "XY\1", 3, err,
                                                           sizeof(err)),
                                 -EINVAL);
                ck_assert_ptr_nonnull(strstr(err, "not a reducerd cell state"));
                red_cell_destroy(e);
        }
        red_buf_destroy(&a);
        red_buf_destroy(&b);
        red_buf_destroy(&c);
        red_aggregator_destroy(ag);
        stream_free(&st);
}
END_TEST

START_TEST(states_across_contract_versions)
{
        red_contract_t *cx =
                load("tests/data/contracts/cell_codegen_extra.yaml");
        const red_agg_t *ax = &cx->aggs[0];
        red_aggregator_t *ag, *agx;
        red_cell_t **cells, **cellsx;
        stream_t st;
        size_t n, nx, with_stages = 0;
        red_buf_t a, b;
        char err[256];

        stream_gen(&st, 21, 4000, 1);
        stream_decode(&st, cg);
        ag = aggregate(cg, &st, 0, st.cnt);
        stream_release(&st);
        stream_decode(&st, cx);
        agx = aggregate(cx, &st, 0, st.cnt);
        cells = red_aggregator_cells(ag, &n);
        cellsx = red_aggregator_cells(agx, &nx);
        ck_assert_uint_eq(n, nx);
        red_buf_init(&a);
        red_buf_init(&b);
        for (size_t i = 0; i < n; i++) {
                red_cell_t *e;

                /* the extra measure is skipped by the shipped contract */
                e = empty_like(cellsx[i], &cg->aggs[0]);
                serialize(cellsx[i], &a);
                ck_assert_int_eq(red_cell_merge_serialized(e, a.data, a.len,
                                                           err, sizeof(err)),
                                 0);
                serialize(e, &a);
                serialize(cells[i], &b);
                ck_assert_uint_eq(a.len, b.len);
                ck_assert_int_eq(memcmp(a.data, b.data, a.len), 0);
                red_cell_destroy(e);

                /* and stays empty when the state lacks it */
                e = empty_like(cells[i], ax);
                serialize(cells[i], &a);
                ck_assert_int_eq(red_cell_merge_serialized(e, a.data, a.len,
                                                           err, sizeof(err)),
                                 0);
                for (size_t k = 0; k < ax->column_cnt; k++) {
                        const char *name = ax->columns[k].name;
                        char *got = render_col(e, name);
                        char *want = render_col(cellsx[i], name);
                        if (!strcmp(name, "stage_events")) {
                                ck_assert_str_eq(got, "0");
                                with_stages += strcmp(want, "0") != 0;
                        } else {
                                ck_assert_str_eq(got, want);
                        }
                        free(got);
                        free(want);
                }
                red_cell_destroy(e);
        }
        /* not vacuous: the extra measure had counts to drop */
        ck_assert_uint_gt(with_stages, 20);
        red_buf_destroy(&a);
        red_buf_destroy(&b);
        red_aggregator_destroy(ag);
        red_aggregator_destroy(agx);
        stream_free(&st);
        red_contract_destroy(cx);
}
END_TEST

START_TEST(precision_and_measures_change)
{
        red_contract_t *c2 = load("tests/data/contracts/cell_render_v2.yaml");
        static const double amounts[] = {0.0016, 1.2504, 2.0004};
        red_cell_t *six = new_cell(cr), *three = new_cell(c2), *e;
        char err[256];
        red_buf_t b;
        hev_t h, h2;

        hev_init(&h, cr, "done", "2025-11-06T10:05:00Z");
        hev_init(&h2, c2, "done", "2025-11-06T10:05:00Z");
        for (size_t i = 0; i < 3; i++) {
                set_num(&h, cr, "amount", amounts[i]);
                set_num(&h2, c2, "amount", amounts[i]);
                apply(six, &h);
                apply(three, &h2);
        }
        hev_init(&h, cr, "failed", "2025-11-06T10:06:00Z");
        set_str(&h, cr, "reason", "oom");
        apply(six, &h);
        assert_col(six, "total_amount", "3.2524");
        assert_col(three, "total_amount", "3.252");
        assert_col(three, "again", "3");

        red_buf_init(&b);
        /* 6 decimals into 3: rescaled; reasons unknown there: skipped;
         * again absent from the state: stays 0 */
        e = new_cell(c2);
        serialize(six, &b);
        ck_assert_int_eq(
                red_cell_merge_serialized(e, b.data, b.len, err, sizeof(err)),
                0);
        assert_col(e, "total_amount", "3.252");
        assert_col(e, "again", "0");
        assert_col(e, "done_count", "3");
        ck_assert_uint_eq(red_cell_events(e), 4);
        red_cell_destroy(e);
        /* 3 decimals into 6 */
        e = new_cell(cr);
        serialize(three, &b);
        ck_assert_int_eq(
                red_cell_merge_serialized(e, b.data, b.len, err, sizeof(err)),
                0);
        assert_col(e, "total_amount", "3.252");
        assert_col(e, "reasons", "null");
        assert_col(e, "done_count", "3");
        red_cell_destroy(e);
        red_buf_destroy(&b);
        red_cell_destroy(six);
        red_cell_destroy(three);
        red_contract_destroy(c2);
}
END_TEST

/*
 * A cell of cell_render.yaml with every measure kind, multi-byte varints
 * (counts past 127, a key longer than 127 bytes), negative and fractional
 * sums and a sketch: the state today's encoder writes for it is
 * golden_state[] below. Stored states must keep decoding, whatever
 * changes in the codec.
 */
static red_cell_t *golden_cell(void)
{
        static const char *const steps[] = {"build", "test", "deploy"};
        red_cell_t *cell = new_cell(cr);
        char long_reason[131];
        hev_t h;

        for (int i = 0; i < 300; i++) {
                hev_init(&h, cr, "done", "2025-11-06T10:20:00Z");
                set_num(&h, cr, "amount", (i % 7 - 3) * 1234.5678);
                set_num(&h, cr, "seconds", 0.25 * (i % 40 + 1));
                set_str(&h, cr, "step", steps[i % 3]);
                set_bool(&h, cr, "ok", i % 5 != 0);
                apply(cell, &h);
        }
        memset(long_reason, 'x', sizeof(long_reason) - 1);
        long_reason[sizeof(long_reason) - 1] = '\0';
        for (int i = 0; i < 130; i++) {
                hev_init(&h, cr, "failed", "2025-11-06T10:40:00Z");
                set_str(&h, cr, "reason", i % 2 ? "timeout" : long_reason);
                apply(cell, &h);
        }
        return cell;
}

/* golden_cell(), serialised by the state encoder of version 1 (before the codec
 * split). */
static const char golden_state[] =
        "524301ae030604646f6e6500ac02066661696c656400820106616d6f756e7401"
        "06ac0298f83d23ffffffffffffffffffffffff04780b2468efacc004780b2468"
        "efac40077365636f6e64730306ac02e072a95800000000000000000000000000"
        "0000000000d03f0000000000002440de01d17b14ae47e17a843f8010ac020000"
        "00000000d03f0000000000002440008901ba0108000000000000000000000000"
        "0000000000000000000000000000000000000000000008000000000000000000"
        "0000000000000000000008000000000000000000000000000800000000000000"
        "0000000008000000000000000008000000000000080000000000000800000000"
        "0008000000000800000000080000000800000008000000080000000800000800"
        "0008000008000800000800070000070007000700070007000700070007070007"
        "0700070700070700070707000700000573746570730503056275696c64030472"
        "756e730064036261640014077365636f6e6473020664603fa71d000000000000"
        "000000000000000000000000d03f0000000000002440066465706c6f79030472"
        "756e730064036261640014077365636f6e6473020664603fa71d000000000000"
        "000000000000000000000000d03f00000000000024400474657374030472756e"
        "730064036261640014077365636f6e647302066420f45a1d0000000000000000"
        "00000000000000000000d03f000000000000244007726561736f6e7304020774"
        "696d656f75744182017878787878787878787878787878787878787878787878"
        "7878787878787878787878787878787878787878787878787878787878787878"
        "7878787878787878787878787878787878787878787878787878787878787878"
        "7878787878787878787878787878787878787878787878787878787878787878"
        "787878787878787878787841";

START_TEST(state_golden)
{
        static const struct {
                const char *p;
                size_t len;
        } aliases[] = {{"\x83\x00", 2},
                       {"\x83\x80\x80\x80\x80\x80\x80\x80\x7f", 9}};
        red_cell_t *cell = golden_cell(), *back = new_cell(cr);
        size_t len = strlen(golden_state) / 2;
        unsigned char *bytes = malloc(len);
        red_buf_t a, b;
        char err[256];

        for (size_t i = 0; i < len; i++) {
                unsigned x;
                ck_assert_int_eq(sscanf(golden_state + 2 * i, "%2x", &x), 1);
                bytes[i] = (unsigned char)x;
        }
        /* the encoder still writes these bytes */
        red_buf_init(&a);
        serialize(cell, &a);
        ck_assert_uint_eq(a.len, len);
        ck_assert_int_eq(memcmp(a.data, bytes, len), 0);
        /* and the decoder reads them back to the same values */
        ck_assert_int_eq(
                red_cell_merge_serialized(back, bytes, len, err, sizeof(err)),
                0);
        ck_assert_uint_eq(red_cell_events(back), 430);
        assert_col(back, "done_count", "300");
        assert_col(back, "total_amount", "-3703.7034");
        assert_col(back, "avg_seconds", "4.958333333333333");
        assert_col(back, "seconds_range", "{\"min\":0.25,\"max\":10}");
        assert_col(back, "per_step",
                   "{\"build\":{\"runs\":100,\"bad\":20,\"avg\":4.975},"
                   "\"deploy\":{\"runs\":100,\"bad\":20,\"avg\":4.975},"
                   "\"test\":{\"runs\":100,\"bad\":20,\"avg\":4.925}}");
        red_buf_init(&b);
        row(cell, &a);
        row(back, &b);
        ck_assert_str_eq(a.data, b.data);
        /* the events count, 430 = ae 03, spelt over-long (ae 83 00) or
         * past 64 bits: each value has one encoding, the rest is corrupt */
        ck_assert_uint_eq(bytes[3], 0xae);
        ck_assert_uint_eq(bytes[4], 0x03);
        for (size_t i = 0; i < sizeof(aliases) / sizeof(*aliases); i++) {
                red_buf_reset(&b);
                red_buf_append(&b, (const char *)bytes, 4);
                red_buf_append(&b, aliases[i].p, aliases[i].len);
                red_buf_append(&b, (const char *)bytes + 5, len - 5);
                red_cell_destroy(back);
                back = new_cell(cr);
                ck_assert_int_eq(red_cell_merge_serialized(back, b.data, b.len,
                                                           err, sizeof(err)),
                                 -EINVAL);
                ck_assert_str_eq(err, "cell state: truncated or corrupt");
        }
        red_buf_destroy(&a);
        red_buf_destroy(&b);
        free(bytes);
        red_cell_destroy(cell);
        red_cell_destroy(back);
}
END_TEST

/* A Failed event of the codegen contract at 10:00 + @p sec. */
static void failure(hev_t *h, int sec, const char *stage, const char *msg)
{
        char t[32];

        snprintf(t, sizeof(t), "2025-11-06T10:%02d:%02dZ", sec / 60, sec % 60);
        hev_init(h, cg, "failed", t);
        set_str(h, cg, "failed_stage", stage);
        set_str(h, cg, "error_message", msg);
}

/*
 * A recent measure (codegen's failed_errors): per stage the last five
 * distinct messages, newest first; a repeated message moves up; long
 * ones are cut at a character; halves merged in either order, through
 * the stored state, equal one pass.
 */
START_TEST(recent_values_state)
{
        static char msgs[12][16];
        char long_msg[400], err[256], *col;
        red_cell_t *one = new_cell(cg), *x = new_cell(cg), *y = new_cell(cg);
        red_cell_t *back = new_cell(cg);
        red_buf_t a, b;
        hev_t h;

        for (int i = 0; i < 12; i++) {
                snprintf(msgs[i], sizeof(msgs[i]), "error %02d", i);
                failure(&h, i, "validation", msgs[i]);
                apply(one, &h);
                apply(i % 2 ? x : y, &h);
        }
        failure(&h, 30, "validation", msgs[3]); /* again, newest */
        apply(one, &h);
        apply(y, &h);
        /* 199 ASCII bytes then "é" (2 bytes): cut before it, at 199 */
        memset(long_msg, 'x', 199);
        strcpy(long_msg + 199, "\xc3\xa9 and more");
        failure(&h, 31, "code_generation", long_msg);
        apply(one, &h);
        apply(x, &h);
        col = render_col(one, "failed_stage_errors");
        ck_assert_msg(strstr(col, "\"validation\":[\"error 03\",\"error "
                                  "11\",\"error 10\",\"error 09\",\"error "
                                  "08\"]"),
                      "%s", col);
        ck_assert_ptr_nonnull(strstr(col, "\"code_generation\":[\"xxx"));
        ck_assert_ptr_null(strstr(col, "\xc3"));
        free(col);

        red_buf_init(&a);
        red_buf_init(&b);
        serialize(x, &a);
        ck_assert_int_eq(red_cell_merge_serialized(back, a.data, a.len, err,
                                                   sizeof(err)),
                         0);
        ck_assert_int_eq(red_cell_merge(back, y, err, sizeof(err)), 0);
        ck_assert_int_eq(red_cell_merge(y, x, err, sizeof(err)), 0);
        serialize(one, &a);
        serialize(back, &b);
        ck_assert(a.len == b.len && !memcmp(a.data, b.data, a.len));
        serialize(y, &b);
        ck_assert(a.len == b.len && !memcmp(a.data, b.data, a.len));
        red_buf_destroy(&a);
        red_buf_destroy(&b);
        red_cell_destroy(one);
        red_cell_destroy(x);
        red_cell_destroy(y);
        red_cell_destroy(back);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("cell_codec");
        TCase *tc = tcase_create("state");

        tcase_add_checked_fixture(tc, cell_setup, cell_teardown);
        tcase_add_test(tc, serialize_round_trip);
        tcase_add_test(tc, states_across_contract_versions);
        tcase_add_test(tc, precision_and_measures_change);
        tcase_add_test(tc, state_golden);
        tcase_add_test(tc, recent_values_state);
        tcase_set_timeout(tc, 300);
        suite_add_tcase(s, tc);
        return test_main(s);
}

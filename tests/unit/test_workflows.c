/* Tests for red_workflows: records, dirty sets, eviction, interning, loading.
 */
#include "red_test.h"
#include "red_workflows.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define T_PENDING   0
#define T_COMPLETED 4
#define T_FAILED    5
#define TERMINAL    ((1u << T_COMPLETED) | (1u << T_FAILED))

static red_uuid_t id_n(unsigned n)
{
        red_uuid_t u;

        memset(&u, 0, sizeof(u));
        u.b[0] = 0x42;
        u.b[12] = (uint8_t)(n >> 24);
        u.b[13] = (uint8_t)(n >> 16);
        u.b[14] = (uint8_t)(n >> 8);
        u.b[15] = (uint8_t)n;
        return u;
}

static bool in_dirty(red_workflows_t *t, const red_wf_t *wf)
{
        red_wf_t **d;
        size_t n = red_workflows_dirty(t, &d);

        for (size_t i = 0; i < n; i++) {
                if (d[i] == wf) {
                        return true;
                }
        }
        return false;
}

START_TEST(create_get_restore)
{
        red_workflows_t *t = red_workflows_new(0, -1, TERMINAL, 2);
        red_uuid_t a = id_n(1), b = id_n(2), c = id_n(3);
        const char *rem[2] = {"effect", NULL};
        red_wf_t *wa, *wb, *wc, **d;

        ck_assert_ptr_nonnull(t);
        ck_assert_ptr_null(red_workflows_get(t, &a));
        wa = red_workflows_create(t, &a);
        ck_assert_ptr_nonnull(wa);
        ck_assert_ptr_eq(red_workflows_get(t, &a), wa);
        ck_assert_int_eq(memcmp(wa->id.b, a.b, 16), 0);
        ck_assert_uint_eq(wa->state, RED_WF_NONE);
        ck_assert_uint_eq(wa->previous_state, RED_WF_NONE);
        ck_assert_int_eq(wa->partition, -1);
        ck_assert_uint_eq(wa->transition_count, 0);
        ck_assert_ptr_null(wa->remembered[0]);
        ck_assert(in_dirty(t, wa));
        /* creating an existing id gives the existing record */
        ck_assert_ptr_eq(red_workflows_create(t, &a), wa);

        wb = red_workflows_restore(t, &b, 2, 1, 1000, 7, 3, rem);
        ck_assert_ptr_nonnull(wb);
        ck_assert_uint_eq(wb->state, 2);
        ck_assert_uint_eq(wb->previous_state, 1);
        ck_assert_int_eq(wb->state_entry_time, 1000);
        ck_assert_int_eq(wb->last_event_time, 1000);
        ck_assert_uint_eq(wb->transition_count, 7);
        ck_assert_int_eq(wb->partition, 3);
        ck_assert_str_eq(wb->remembered[0], "effect");
        ck_assert_ptr_null(wb->remembered[1]);
        ck_assert(!in_dirty(t, wb));
        /* restore never replaces */
        ck_assert_ptr_eq(
                red_workflows_restore(t, &b, 0, RED_WF_NONE, 5, 0, 0, NULL),
                wb);
        ck_assert_uint_eq(wb->state, 2);
        ck_assert_ptr_eq(
                red_workflows_restore(t, &a, 3, RED_WF_NONE, 5, 0, 0, NULL),
                wa);
        ck_assert_uint_eq(wa->state, RED_WF_NONE);

        /* equal strings are shared */
        wc = red_workflows_restore(t, &c, 0, RED_WF_NONE, 0, 0, 0, rem);
        ck_assert_ptr_eq(wc->remembered[0], wb->remembered[0]);
        ck_assert_uint_eq(red_workflows_interned(t), 1);
        ck_assert_int_eq(red_workflows_remember(t, wc, 1, "api-x", 3), 0);
        ck_assert_str_eq(wc->remembered[1], "api");
        ck_assert_int_eq(red_workflows_remember(t, wc, 2, "x", 1), -EINVAL);
        ck_assert_uint_eq(red_workflows_interned(t), 2);
        ck_assert(in_dirty(t, wc)); /* remembering is a change */
        ck_assert_uint_eq(red_workflows_count(t), 3);
        ck_assert_uint_eq(red_workflows_dirty(t, &d), 2);
        ck_assert_ptr_eq(d[0], wa);
        ck_assert_ptr_eq(d[1], wc);
        red_workflows_destroy(t);
        red_workflows_destroy(NULL);
        ck_assert_ptr_null(
                red_workflows_new(0, -1, 0, RED_WF_MAX_REMEMBER + 1));
}
END_TEST

START_TEST(dirty_commit_rollback)
{
        red_workflows_t *t = red_workflows_new(0, -1, TERMINAL, 1);
        red_uuid_t a = id_n(1), b = id_n(2), c = id_n(3), x = id_n(4);
        const char *rem[1] = {"compute"};
        red_wf_t *wa, *wb, *wc, **d;

        wa = red_workflows_restore(t, &a, 0, RED_WF_NONE, 10, 0, 0, rem);
        wb = red_workflows_restore(t, &b, 1, 0, 20, 1, 0, NULL);
        ck_assert_uint_eq(red_workflows_dirty(t, &d), 0);
        wc = red_workflows_create(t, &c);
        ck_assert_int_eq(red_workflows_touch(t, wa), 0);
        ck_assert_int_eq(red_workflows_touch(t, wc), 0); /* idempotent */
        ck_assert_int_eq(red_workflows_touch(t, wa), 0);
        ck_assert_uint_eq(red_workflows_dirty(t, &d), 2);
        ck_assert_ptr_eq(d[0], wc); /* first-touch order */
        ck_assert_ptr_eq(d[1], wa);
        red_workflows_commit(t);
        ck_assert_uint_eq(red_workflows_dirty(t, &d), 0);
        ck_assert_uint_eq(red_workflows_count(t), 3);
        ck_assert_ptr_eq(red_workflows_get(t, &c), wc);

        /* next batch: touch a and create x, then the transaction fails */
        ck_assert_int_eq(red_workflows_touch(t, wa), 0);
        wa->state = 2;
        ck_assert_ptr_nonnull(red_workflows_create(t, &x));
        ck_assert_uint_eq(red_workflows_dirty(t, &d), 2);
        red_workflows_rollback(t);
        ck_assert_uint_eq(red_workflows_dirty(t, &d), 0);
        ck_assert_ptr_null(red_workflows_get(t, &a)); /* reloaded later */
        ck_assert_ptr_null(red_workflows_get(t, &x));
        ck_assert_ptr_eq(red_workflows_get(t, &b), wb); /* clean: kept */
        ck_assert_ptr_eq(red_workflows_get(t, &c), wc);
        ck_assert_uint_eq(red_workflows_count(t), 2);
        ck_assert_uint_eq(red_workflows_interned(t), 0); /* a's string */
        /* the reload puts it back clean */
        wa = red_workflows_restore(t, &a, 0, RED_WF_NONE, 10, 0, 0, rem);
        ck_assert_uint_eq(wa->state, 0);
        ck_assert_uint_eq(red_workflows_interned(t), 1);
        ck_assert_uint_eq(red_workflows_count(t), 3);
        red_workflows_destroy(t);
}
END_TEST

START_TEST(evict_ttl)
{
        red_workflows_t *t = red_workflows_new(0, 1000, TERMINAL, 1);
        red_uuid_t ids[6];
        const char *rem[1] = {"reducer"};
        red_wf_t *w[6];

        for (unsigned i = 0; i < 6; i++) {
                ids[i] = id_n(i);
        }
        /* 0: completed, old; 1: failed, old; 2: completed, recent;
         * 3: pending, old (not terminal); 4: completed, old but dirty */
        w[0] = red_workflows_restore(t, &ids[0], T_COMPLETED, 3, 100, 4, 0,
                                     rem);
        w[1] = red_workflows_restore(t, &ids[1], T_FAILED, 1, 200, 2, 0, rem);
        w[2] = red_workflows_restore(t, &ids[2], T_COMPLETED, 3, 9500, 4, 0,
                                     NULL);
        w[3] = red_workflows_restore(t, &ids[3], T_PENDING, RED_WF_NONE, 50, 0,
                                     0, NULL);
        w[4] = red_workflows_restore(t, &ids[4], T_COMPLETED, 3, 300, 4, 0,
                                     NULL);
        ck_assert_int_eq(red_workflows_touch(t, w[4]), 0);
        ck_assert_uint_eq(red_workflows_interned(t), 1);

        ck_assert_uint_eq(red_workflows_evict(t, 1000), 0); /* cutoff 0 */
        ck_assert_uint_eq(red_workflows_evict(t, 10000), 2);
        ck_assert_ptr_null(red_workflows_get(t, &ids[0]));
        ck_assert_ptr_null(red_workflows_get(t, &ids[1]));
        ck_assert_ptr_eq(red_workflows_get(t, &ids[2]), w[2]);
        ck_assert_ptr_eq(red_workflows_get(t, &ids[3]), w[3]);
        ck_assert_ptr_eq(red_workflows_get(t, &ids[4]), w[4]);
        ck_assert_uint_eq(red_workflows_interned(t), 0);

        /* the dirty one gets a new event and stays; after commit its new
         * time counts */
        w[4]->last_event_time = 9800;
        red_workflows_commit(t);
        ck_assert_uint_eq(red_workflows_evict(t, 10000), 0);
        ck_assert_uint_eq(red_workflows_evict(t, 10600), 1); /* w[2] */
        ck_assert_ptr_null(red_workflows_get(t, &ids[2]));
        ck_assert_uint_eq(red_workflows_evict(t, 10900), 1); /* w[4] */
        ck_assert_ptr_null(red_workflows_get(t, &ids[4]));

        /* a failed workflow that is retried leaves the TTL set */
        w[5] = red_workflows_restore(t, &ids[5], T_FAILED, 1, 100, 2, 0, NULL);
        ck_assert_int_eq(red_workflows_touch(t, w[5]), 0);
        w[5]->state = T_PENDING;
        red_workflows_commit(t);
        ck_assert_uint_eq(red_workflows_evict(t, INT64_MAX), 0);
        /* and a pending one that completes joins it */
        ck_assert_int_eq(red_workflows_touch(t, w[3]), 0);
        w[3]->state = T_COMPLETED;
        w[3]->last_event_time = 5000;
        red_workflows_commit(t);
        ck_assert_uint_eq(red_workflows_evict(t, 5999), 0);
        ck_assert_uint_eq(red_workflows_evict(t, 6001), 1);
        ck_assert_uint_eq(red_workflows_count(t), 1);
        red_workflows_destroy(t);
}
END_TEST

START_TEST(evict_lru)
{
        red_workflows_t *t = red_workflows_new(3, -1, TERMINAL, 1);
        red_uuid_t ids[8];
        red_wf_t *w[8];

        for (unsigned i = 0; i < 8; i++) {
                ids[i] = id_n(i);
        }
        for (unsigned i = 0; i < 5; i++) {
                w[i] = red_workflows_create(t, &ids[i]);
                ck_assert_int_eq(red_workflows_remember(t, w[i], 0, "x", 1), 0);
        }
        /* everything is dirty: nothing can go */
        ck_assert_uint_eq(red_workflows_evict(t, 0), 0);
        ck_assert_uint_eq(red_workflows_count(t), 5);
        red_workflows_commit(t);
        /* use 0 and 2; 1 and 3 are then the least recently used */
        ck_assert_ptr_eq(red_workflows_get(t, &ids[0]), w[0]);
        ck_assert_ptr_eq(red_workflows_get(t, &ids[2]), w[2]);
        ck_assert_uint_eq(red_workflows_evict(t, 0), 2);
        ck_assert_uint_eq(red_workflows_count(t), 3);
        ck_assert_ptr_null(red_workflows_get(t, &ids[1]));
        ck_assert_ptr_null(red_workflows_get(t, &ids[3]));
        ck_assert_ptr_eq(red_workflows_get(t, &ids[4]), w[4]);
        ck_assert_ptr_eq(red_workflows_get(t, &ids[0]), w[0]);
        ck_assert_ptr_eq(red_workflows_get(t, &ids[2]), w[2]);
        ck_assert_uint_eq(red_workflows_interned(t), 1);

        /* LRU order now 2, 0, 4 (most recent first); make 4 dirty and add
         * two new (dirty) records: the clean 0 and 2 go, dirty ones stay
         * even above max_live */
        ck_assert_int_eq(red_workflows_touch(t, w[4]), 0);
        w[5] = red_workflows_create(t, &ids[5]);
        w[6] = red_workflows_create(t, &ids[6]);
        ck_assert_uint_eq(red_workflows_evict(t, 0), 2);
        ck_assert_ptr_null(red_workflows_get(t, &ids[0]));
        ck_assert_ptr_null(red_workflows_get(t, &ids[2]));
        ck_assert_uint_eq(red_workflows_count(t), 3);
        ck_assert_uint_eq(red_workflows_interned(t), 1); /* w[4] keeps it */
        red_workflows_commit(t);
        /* freed slots are reused */
        w[7] = red_workflows_create(t, &ids[7]);
        ck_assert(w[7] == w[0] || w[7] == w[2]);
        ck_assert_int_eq(memcmp(w[7]->id.b, ids[7].b, 16), 0);
        ck_assert_ptr_null(w[7]->remembered[0]);
        red_workflows_commit(t);
        ck_assert_uint_eq(red_workflows_evict(t, 0), 1); /* w[4]: oldest */
        ck_assert_ptr_null(red_workflows_get(t, &ids[4]));
        ck_assert_uint_eq(red_workflows_interned(t), 0);
        red_workflows_destroy(t);
}
END_TEST

START_TEST(intern_refcounts)
{
        red_workflows_t *t = red_workflows_new(0, -1, 0, 2);
        red_uuid_t a = id_n(1), b = id_n(2);
        red_wf_t *wa = red_workflows_create(t, &a);
        red_wf_t *wb = red_workflows_create(t, &b);
        char buf[32];

        /* many distinct strings force the intern set to grow and shrink */
        for (int i = 0; i < 500; i++) {
                snprintf(buf, sizeof(buf), "value-%d", i);
                ck_assert_int_eq(
                        red_workflows_remember(t, wa, 0, buf, strlen(buf)), 0);
                ck_assert_int_eq(
                        red_workflows_remember(t, wb, i % 2, buf, strlen(buf)),
                        0);
                ck_assert_str_eq(wa->remembered[0], buf);
        }
        ck_assert_ptr_eq(wa->remembered[0], wb->remembered[1]);
        ck_assert_str_eq(wb->remembered[0], "value-498");
        ck_assert_uint_eq(red_workflows_interned(t), 2);
        /* same value again: no change */
        ck_assert_int_eq(red_workflows_remember(t, wa, 0, "value-499", 9), 0);
        ck_assert_uint_eq(red_workflows_interned(t), 2);
        red_workflows_rollback(t);
        ck_assert_uint_eq(red_workflows_interned(t), 0);
        ck_assert_uint_eq(red_workflows_count(t), 0);
        red_workflows_destroy(t);
}
END_TEST

START_TEST(random_ids_round_trip)
{
        enum { N = 100000 };
        red_workflows_t *t = red_workflows_new(N / 2, -1, TERMINAL, 1);
        red_uuid_t *ids = malloc(N * sizeof(*ids));
        red_wf_t **recs = malloc(N * sizeof(*recs));
        static const char *const kinds[4] = {"effect", "compute", "reducer",
                                             "orchestrator"};

        for (size_t i = 0; i < N; i++) {
                red_uuid_v4(&ids[i]);
                recs[i] = red_workflows_create(t, &ids[i]);
                ck_assert_ptr_nonnull(recs[i]);
                recs[i]->state = (uint8_t)(i % 4);
                recs[i]->transition_count = (uint32_t)i;
                recs[i]->state_entry_time = (red_time_t)i * 1000;
                ck_assert_int_eq(red_workflows_remember(t, recs[i], 0,
                                                        kinds[i % 4],
                                                        strlen(kinds[i % 4])),
                                 0);
        }
        ck_assert_uint_eq(red_workflows_count(t), N);
        ck_assert_uint_eq(red_workflows_interned(t), 4);
        for (size_t i = 0; i < N; i++) {
                red_wf_t *w = red_workflows_get(t, &ids[i]);
                ck_assert_ptr_eq(w, recs[i]); /* records never moved */
                ck_assert_int_eq(memcmp(w->id.b, ids[i].b, 16), 0);
                ck_assert_uint_eq(w->transition_count, i);
                ck_assert_int_eq(w->state_entry_time, (red_time_t)i * 1000);
                ck_assert_str_eq(w->remembered[0], kinds[i % 4]);
        }
        red_workflows_commit(t);
        /* LRU = creation order now (the gets above ran in order): the
         * first half goes */
        ck_assert_uint_eq(red_workflows_evict(t, 0), N / 2);
        for (size_t i = 0; i < N; i++) {
                red_wf_t *w = red_workflows_get(t, &ids[i]);
                if (i < N / 2) {
                        ck_assert_ptr_null(w);
                } else {
                        ck_assert_ptr_eq(w, recs[i]);
                        ck_assert_uint_eq(w->transition_count, i);
                }
        }
        /* a random id that was never added */
        {
                red_uuid_t u;
                red_uuid_v4(&u);
                ck_assert_ptr_null(red_workflows_get(t, &u));
        }
        free(ids);
        free(recs);
        red_workflows_destroy(t);
}
END_TEST

/* ---- a loader double: the "database" is an array of saved records ---- */

typedef struct saved_s {
        red_uuid_t id;
        uint8_t state, previous_state;
        red_time_t entry;
        uint32_t count;
        int32_t partition;
        const char *remembered[2];
} saved_t;

typedef struct db_s {
        saved_t rows[16];
        size_t cnt;
        size_t calls, asked;
        bool fail;
} db_t;

static int db_load(void *opaque, const red_uuid_t *ids, size_t cnt,
                   red_workflows_t *t, char *errstr, size_t errstr_size)
{
        db_t *db = opaque;

        db->calls++;
        db->asked += cnt;
        if (db->fail) {
                snprintf(errstr, errstr_size, "connection lost");
                return -1;
        }
        for (size_t i = 0; i < cnt; i++) {
                for (size_t k = 0; k < db->cnt; k++) {
                        saved_t *s = &db->rows[k];
                        if (memcmp(s->id.b, ids[i].b, 16)) {
                                continue;
                        }
                        if (!red_workflows_restore(t, &s->id, s->state,
                                                   s->previous_state, s->entry,
                                                   s->count, s->partition,
                                                   s->remembered)) {
                                snprintf(errstr, errstr_size, "oom");
                                return -1;
                        }
                }
        }
        return 0;
}

/* The sink's side: save the dirty records, then commit. */
static void db_save_dirty(db_t *db, red_workflows_t *t)
{
        red_wf_t **d;
        size_t n = red_workflows_dirty(t, &d);

        for (size_t i = 0; i < n; i++) {
                saved_t *s = NULL;
                for (size_t k = 0; k < db->cnt; k++) {
                        if (!memcmp(db->rows[k].id.b, d[i]->id.b, 16)) {
                                s = &db->rows[k];
                        }
                }
                if (!s) {
                        ck_assert_uint_lt(db->cnt, 16);
                        s = &db->rows[db->cnt++];
                }
                s->id = d[i]->id;
                s->state = d[i]->state;
                s->previous_state = d[i]->previous_state;
                s->entry = d[i]->state_entry_time;
                s->count = d[i]->transition_count;
                s->partition = d[i]->partition;
                /* a real sink copies the text; interned strings with static
                 * lifetime stand in here */
                s->remembered[0] =
                        d[i]->remembered[0]
                                ? (strcmp(d[i]->remembered[0], "effect")
                                           ? "other"
                                           : "effect")
                                : NULL;
                s->remembered[1] = NULL;
        }
        red_workflows_commit(t);
}

/* The pipeline's side: load whatever a batch needs that is not in memory. */
static int load_batch(db_t *db, red_workflows_t *t, const red_uuid_t *keys,
                      size_t cnt, red_workflows_load_cb *cb, char *err,
                      size_t errsz)
{
        red_uuid_t missing[16];
        size_t m = 0;

        for (size_t i = 0; i < cnt; i++) {
                if (!red_workflows_get(t, &keys[i])) {
                        missing[m++] = keys[i];
                }
        }
        return m ? cb(db, missing, m, t, err, errsz) : 0;
}

START_TEST(loader_double)
{
        db_t db = {0};
        red_workflows_t *t = red_workflows_new(2, -1, TERMINAL, 2);
        red_uuid_t k[4] = {id_n(1), id_n(2), id_n(3), id_n(4)};
        char err[128];
        red_wf_t *w;

        /* batch 1 creates three workflows and commits them */
        for (int i = 0; i < 3; i++) {
                w = red_workflows_create(t, &k[i]);
                w->state = (uint8_t)i;
                w->transition_count = (uint32_t)i + 10;
                w->state_entry_time = 1000 + i;
                w->partition = 7;
                ck_assert_int_eq(red_workflows_remember(t, w, 0, "effect", 6),
                                 0);
        }
        db_save_dirty(&db, t);
        ck_assert_uint_eq(db.cnt, 3);
        ck_assert_uint_eq(red_workflows_evict(t, 0), 1); /* k[0] */
        ck_assert_ptr_null(red_workflows_get(t, &k[0]));

        /* batch 2 needs k[0] (evicted), k[2] (in memory), k[3] (new) */
        {
                red_uuid_t keys[3] = {k[0], k[2], k[3]};
                ck_assert_int_eq(
                        load_batch(&db, t, keys, 3, db_load, err, sizeof(err)),
                        0);
        }
        ck_assert_uint_eq(db.calls, 1);
        ck_assert_uint_eq(db.asked, 2);
        w = red_workflows_get(t, &k[0]);
        ck_assert_ptr_nonnull(w);
        ck_assert_uint_eq(w->state, 0);
        ck_assert_uint_eq(w->transition_count, 10);
        ck_assert_int_eq(w->state_entry_time, 1000);
        ck_assert_int_eq(w->partition, 7);
        ck_assert_str_eq(w->remembered[0], "effect");
        ck_assert(!in_dirty(t, w));
        ck_assert_ptr_null(red_workflows_get(t, &k[3])); /* unknown */

        /* a failing load reports */
        db.fail = true;
        ck_assert_int_eq(red_workflows_evict(t, 0), 1);
        {
                red_uuid_t keys[3] = {k[0], k[1], k[2]};
                ck_assert_int_eq(
                        load_batch(&db, t, keys, 3, db_load, err, sizeof(err)),
                        -1);
        }
        ck_assert_str_eq(err, "connection lost");
        red_workflows_destroy(t);
}
END_TEST

/* A partition revoked: the clean records of that partition go (restored
 * from Postgres as the next owner left them), dirty ones and the other
 * partitions' stay. */
START_TEST(drop_partition)
{
        red_workflows_t *t = red_workflows_new(0, -1, TERMINAL, 1);
        red_uuid_t a = id_n(1), b = id_n(2), c = id_n(3), d = id_n(4);
        red_wf_t *wc;

        red_workflows_restore(t, &a, 0, RED_WF_NONE, 10, 0, 3, NULL);
        red_workflows_restore(t, &b, 0, RED_WF_NONE, 10, 0, 4, NULL);
        wc = red_workflows_restore(t, &c, 0, RED_WF_NONE, 10, 0, 3, NULL);
        red_workflows_restore(t, &d, 0, RED_WF_NONE, 10, 0, -1, NULL);
        ck_assert_int_eq(red_workflows_touch(t, wc), 0);
        ck_assert_uint_eq(red_workflows_drop_partition(t, 3), 1);
        ck_assert_ptr_null(red_workflows_get(t, &a));
        ck_assert_ptr_nonnull(red_workflows_get(t, &b));
        ck_assert_ptr_eq(red_workflows_get(t, &c), wc); /* dirty: kept */
        ck_assert_ptr_nonnull(red_workflows_get(t, &d));
        red_workflows_commit(t);
        ck_assert_uint_eq(red_workflows_drop_partition(t, 3), 1);
        ck_assert_ptr_null(red_workflows_get(t, &c));
        ck_assert_uint_eq(red_workflows_count(t), 2);
        red_workflows_destroy(t);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("workflows");
        TCase *tc = tcase_create("workflows");

        tcase_add_test(tc, create_get_restore);
        tcase_add_test(tc, dirty_commit_rollback);
        tcase_add_test(tc, evict_ttl);
        tcase_add_test(tc, evict_lru);
        tcase_add_test(tc, intern_refcounts);
        tcase_add_test(tc, random_ids_round_trip);
        tcase_add_test(tc, loader_double);
        tcase_add_test(tc, drop_partition);
        suite_add_tcase(s, tc);
        return test_main(s);
}

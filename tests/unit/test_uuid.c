/* Unit tests for red_uuid: text forms, v4, v5 (SHA-1) vectors, hashing. */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "red_uuid.h"

#define NS_DNS "6ba7b810-9dad-11d1-80b4-00c04fd430c8"
#define NS_URL "6ba7b811-9dad-11d1-80b4-00c04fd430c8"

static red_uuid_t uuid_of(const char *s)
{
        red_uuid_t u;

        ck_assert_msg(red_uuid_parse(s, strlen(s), &u) == 0, "bad literal %s",
                      s);
        return u;
}

static void check_text(const red_uuid_t *u, const char *want)
{
        char buf[RED_UUID_STR_SIZE];

        red_uuid_format(u, buf);
        ck_assert_str_eq(buf, want);
}

static void check_bad(const char *s, size_t len)
{
        red_uuid_t u;

        memset(&u, 0xaa, sizeof(u));
        ck_assert_msg(red_uuid_parse(s, len, &u) == -EINVAL,
                      "accepted \"%.*s\"", (int)len, s);
        ck_assert_int_eq(u.b[0], 0xaa);
        ck_assert_int_eq(u.b[15], 0xaa);
}

/* Only calls into Check on failure; ck_assert per iteration is slow. */
#define REQUIRE(cond)                                                          \
        do {                                                                   \
                if (!(cond)) {                                                 \
                        ck_abort_msg("%s:%d: %s failed", __FILE__, __LINE__,   \
                                     #cond);                                   \
                }                                                              \
        } while (0)

START_TEST(test_parse_format)
{
        static const uint8_t want[16] = {0x88, 0x63, 0x13, 0xe1, 0x3b, 0x8a,
                                         0x53, 0x72, 0x9b, 0x90, 0x0c, 0x9a,
                                         0xee, 0x19, 0x9e, 0x5d};
        red_uuid_t u, v;

        ck_assert_int_eq(
                red_uuid_parse("886313e1-3b8a-5372-9b90-0c9aee199e5d", 36, &u),
                0);
        ck_assert_mem_eq(u.b, want, 16);
        check_text(&u, "886313e1-3b8a-5372-9b90-0c9aee199e5d");

        /* upper and mixed case read the same, format is lowercase */
        ck_assert_int_eq(
                red_uuid_parse("886313E1-3B8A-5372-9B90-0C9AEE199E5D", 36, &v),
                0);
        ck_assert_mem_eq(v.b, want, 16);
        ck_assert_int_eq(
                red_uuid_parse("886313e1-3B8a-5372-9b90-0C9aEE199e5D", 36, &v),
                0);
        ck_assert_mem_eq(v.b, want, 16);
        check_text(&v, "886313e1-3b8a-5372-9b90-0c9aee199e5d");

        /* 32 hex digits without hyphens */
        ck_assert_int_eq(
                red_uuid_parse("886313e13b8a53729b900c9aee199e5d", 32, &v), 0);
        ck_assert_mem_eq(v.b, want, 16);
        ck_assert_int_eq(
                red_uuid_parse("886313E13B8A53729B900C9AEE199E5D", 32, &v), 0);
        ck_assert_mem_eq(v.b, want, 16);

        /* extremes */
        v = uuid_of("00000000-0000-0000-0000-000000000000");
        ck_assert(red_uuid_is_nil(&v));
        check_text(&v, "00000000-0000-0000-0000-000000000000");
        v = uuid_of("ffffffffffffffffffffffffffffffff");
        for (int i = 0; i < 16; i++) {
                ck_assert_int_eq(v.b[i], 0xff);
        }
        check_text(&v, "ffffffff-ffff-ffff-ffff-ffffffffffff");
        v = uuid_of("0123456789abcdefABCDEF0123456789");
        check_text(&v, "01234567-89ab-cdef-abcd-ef0123456789");

        /* only len bytes are read */
        ck_assert_int_eq(
                red_uuid_parse("886313e1-3b8a-5372-9b90-0c9aee199e5dXYZ", 36,
                               &v),
                0);
        ck_assert_mem_eq(v.b, want, 16);
}
END_TEST

START_TEST(test_parse_invalid)
{
        static const char *const bad[] = {
                "",
                "886313e1-3b8a-5372-9b90-0c9aee199e5",   /* 35 */
                "886313e1-3b8a-5372-9b90-0c9aee199e5dd", /* 37 */
                "886313e13b8a53729b900c9aee199e5",       /* 31 */
                "886313e13b8a53729b900c9aee199e5dd",     /* 33 */
                "886313e1-3b8a-5372-9b90-0c9aee199e5g",  /* bad digit */
                "886313e1-3b8a-5372-9b90-0c9aee199e5 ",
                "886313e1-3b8a-5372-9b90-0c9aee199e:d",
                "886313e1-3b8a-5372-9b90-0c9aee199e@d", /* '@' | 0x20 == '`' */
                "886313e1-3b8a-5372-9b90-0c9aee199e`d",
                "g86313e13b8a53729b900c9aee199e5d",
                "886313e13b8a53729b900c9aee199e-d",     /* hyphen in 32 form */
                "886313e-13b8a-5372-9b90-0c9aee199e5d", /* misplaced hyphens */
                "886313e13-b8a-5372-9b90-0c9aee199e5d",
                "886313e1-3b8a5-372-9b90-0c9aee199e5d",
                "886313e1-3b8a-5372-9b900-c9aee199e5d",
                "886313e1_3b8a_5372_9b90_0c9aee199e5d",
                "886313e1-3b8a-5372-9b90-0c9aee199e5-",
                "-886313e1-3b8a-5372-9b90-0c9aee199e5",
                "886313e1--3b8a5372-9b90-0c9aee199e5d",
                "{886313e1-3b8a-5372-9b90-0c9aee199e5d}",
                "urn:uuid:886313e1-3b8a-5372-9b90-0c9aee199e5d",
                "------------------------------------",
                " 886313e1-3b8a-5372-9b90-0c9aee199e5",
                "0x886313e13b8a53729b900c9aee199e",
        };
        const char nul[] = "886313e1-3b8a-5372-9b90-0c9aee19\0e5d";
        red_uuid_t u;
        size_t i;

        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                check_bad(bad[i], strlen(bad[i]));
        }
        check_bad(nul, sizeof(nul) - 1);
        ck_assert_int_eq(red_uuid_parse(NULL, 36, &u), -EINVAL);
        ck_assert_int_eq(
                red_uuid_parse("886313e13b8a53729b900c9aee199e5d", 32, NULL),
                -EINVAL);
}
END_TEST

static int cmp_uuid_qsort(const void *a, const void *b)
{
        return red_uuid_cmp(a, b);
}

START_TEST(test_v4)
{
        enum { N = 100000 };
        red_uuid_t *u = malloc(N * sizeof(*u));
        int ones[128] = {0};
        int i, bit;

        ck_assert_ptr_nonnull(u);
        for (i = 0; i < N; i++) {
                red_uuid_v4(&u[i]);
                REQUIRE((u[i].b[6] & 0xf0) == 0x40); /* version 4 */
                REQUIRE((u[i].b[8] & 0xc0) == 0x80); /* RFC 4122 variant */
                for (bit = 0; bit < 128; bit++) {
                        ones[bit] += (u[i].b[bit / 8] >> (7 - bit % 8)) & 1;
                }
        }
        /* the 122 random bits are each set about half the time (+-12 sigma) */
        for (bit = 0; bit < 128; bit++) {
                bool fixed = (bit >= 48 && bit < 52) || bit == 64 || bit == 65;

                if (fixed) {
                        continue;
                }
                ck_assert_msg(ones[bit] > 48000 && ones[bit] < 52000,
                              "bit %d set %d times in %d", bit, ones[bit], N);
        }
        ck_assert_int_eq(ones[48], 0);
        ck_assert_int_eq(ones[49], N);
        ck_assert_int_eq(ones[50], 0);
        ck_assert_int_eq(ones[51], 0);
        ck_assert_int_eq(ones[64], N);
        ck_assert_int_eq(ones[65], 0);

        /* all distinct */
        qsort(u, N, sizeof(*u), cmp_uuid_qsort);
        for (i = 1; i < N; i++) {
                REQUIRE(red_uuid_cmp(&u[i - 1], &u[i]) < 0);
        }
        free(u);
}
END_TEST

static void *thread_draw(void *arg)
{
        red_uuid_t *out = arg;
        int i;

        for (i = 0; i < 1000; i++) {
                red_uuid_v4(&out[i]);
        }
        return NULL;
}

START_TEST(test_v4_threads)
{
        enum { T = 4, PER = 1000 };
        static red_uuid_t all[T * PER];
        pthread_t th[T];
        int i;

        for (i = 0; i < T; i++) {
                ck_assert_int_eq(pthread_create(&th[i], NULL, thread_draw,
                                                &all[i * PER]),
                                 0);
        }
        for (i = 0; i < T; i++) {
                ck_assert_int_eq(pthread_join(th[i], NULL), 0);
        }
        /* each thread seeds its own generator: no shared or repeated ids */
        qsort(all, T * PER, sizeof(all[0]), cmp_uuid_qsort);
        for (i = 1; i < T * PER; i++) {
                REQUIRE(red_uuid_cmp(&all[i - 1], &all[i]) < 0);
        }
}
END_TEST

START_TEST(test_v4_fork)
{
        red_uuid_t mine, theirs;
        int fds[2];
        pid_t pid;
        int status;

        red_uuid_v4(&mine); /* make sure this thread is seeded before fork */
        ck_assert_int_eq(pipe(fds), 0);
        pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                red_uuid_t u;

                red_uuid_v4(&u);
                _exit(write(fds[1], &u, sizeof(u)) == sizeof(u) ? 0 : 1);
        }
        close(fds[1]);
        ck_assert_int_eq(read(fds[0], &theirs, sizeof(theirs)), sizeof(theirs));
        close(fds[0]);
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        /* without reseeding the child would draw exactly our next value */
        red_uuid_v4(&mine);
        ck_assert_int_ne(red_uuid_cmp(&mine, &theirs), 0);
        ck_assert_int_eq(theirs.b[6] & 0xf0, 0x40);
}
END_TEST

static void check_v5(const char *ns, const char *name, const char *want)
{
        red_uuid_t n = uuid_of(ns), u;

        red_uuid_v5(&u, &n, name, strlen(name));
        check_text(&u, want);
}

START_TEST(test_v5_vectors)
{
        red_uuid_t u;

        /* Python: uuid.uuid5(uuid.NAMESPACE_DNS, "python.org") */
        check_v5(NS_DNS, "python.org", "886313e1-3b8a-5372-9b90-0c9aee199e5d");
        /* Python: uuid.uuid5(uuid.NAMESPACE_URL, "http://python.org/") */
        check_v5(NS_URL, "http://python.org/",
                 "4c565f0d-3f5a-5890-b41b-20cf47701c5e");
        /* the reducerd namespace is what its comment says it is */
        check_v5(NS_URL, "https://reducerd.dev/ns",
                 "38fd29a8-eb47-5e36-904c-23c54af1e341");
        check_text(&red_uuid_ns_reducerd,
                   "38fd29a8-eb47-5e36-904c-23c54af1e341");
        /* a UTF-8 name: uuid5(NAMESPACE_DNS, "café.example") */
        check_v5(NS_DNS, "caf\xc3\xa9.example",
                 "1f25f992-3aeb-54f1-b196-ccca88f733b1");
        /* multi-block: 16 namespace + 85 name bytes = 2 SHA-1 blocks */
        check_v5(NS_URL,
                 "https://reducerd.dev/workflows/0f8fad5b-d9cb-469f-a165-"
                 "70867728950e/stages/generation",
                 "6a46f757-eb2f-54f6-bebd-a973e445b803");
        /* version and variant bits */
        red_uuid_v5(&u, &red_uuid_ns_reducerd, "x", 1);
        ck_assert_int_eq(u.b[6] & 0xf0, 0x50);
        ck_assert_int_eq(u.b[8] & 0xc0, 0x80);
}
END_TEST

/*
 * SHA-1 padding edges: the namespace adds 16 bytes, so names of 39, 40 and
 * 48 bytes put the message at 55, 56 and 64 bytes. Expected values from
 * python3: uuid.uuid5(uuid.UUID("38fd29a8-eb47-5e36-904c-23c54af1e341"),
 * ("abcdefghijklmnopqrstuvwxyz0123456789" * 10)[:n]).
 */
START_TEST(test_v5_padding)
{
        static const struct {
                size_t n;
                const char *want;
        } vec[] = {
                {0, "e21b5c55-306d-5836-8f85-c5da0f0eed75"},
                {1, "f780f924-906c-5892-90bd-e24a62d94a9c"},
                {39, "f293b744-5373-5090-8f4c-ab35d7c49ffc"},
                {40, "bab11367-73ac-53c1-b20b-aa9846d6b779"},
                {47, "52972f41-74f8-5a85-9b35-e3e8389c7841"},
                {48, "4ebcf663-99dd-5381-aa23-d3e349619b2e"},
                {55, "9734c3d2-7e54-52bb-9f0f-66de53931477"},
                {56, "f077daa3-b526-5d96-84b1-9e55261999bc"},
                {63, "b5710c97-b93c-5949-9a63-83b7db47159d"},
                {64, "51a7a269-b156-57bf-8e26-0f7b8ac2d105"},
                {65, "054b9a05-2171-5f30-a6d2-27fda11c8185"},
                {119, "389ccda6-2449-5394-963b-bbbc96a614c3"},
                {120, "9f8003b7-1248-5a5f-aa96-a47f58fe4f99"},
                {200, "bcb70721-a684-52d1-b317-7a1c75372b28"},
                {300, "414fffa2-f64a-5311-a12e-bdb22f1f0933"},
        };
        char name[361];
        size_t i;

        for (i = 0; i < 10; i++) {
                memcpy(name + 36 * i, "abcdefghijklmnopqrstuvwxyz0123456789",
                       36);
        }
        for (i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
                red_uuid_t u;
                char buf[RED_UUID_STR_SIZE];

                red_uuid_v5(&u, &red_uuid_ns_reducerd, vec[i].n ? name : NULL,
                            vec[i].n);
                red_uuid_format(&u, buf);
                ck_assert_msg(strcmp(buf, vec[i].want) == 0,
                              "len %zu: got %s, want %s", vec[i].n, buf,
                              vec[i].want);
        }
}
END_TEST

START_TEST(test_nil_cmp)
{
        red_uuid_t nil, a, b;

        memset(&nil, 0, sizeof(nil));
        ck_assert(red_uuid_is_nil(&nil));
        a = nil;
        a.b[15] = 1;
        ck_assert(!red_uuid_is_nil(&a));
        a = nil;
        a.b[0] = 0x80;
        ck_assert(!red_uuid_is_nil(&a));
        ck_assert(!red_uuid_is_nil(&red_uuid_ns_reducerd));

        a = uuid_of("00000000-0000-0000-0000-0000000000ff");
        b = uuid_of("00000000-0000-0000-0000-000000000100");
        ck_assert_int_lt(red_uuid_cmp(&a, &b), 0);
        ck_assert_int_gt(red_uuid_cmp(&b, &a), 0);
        ck_assert_int_eq(red_uuid_cmp(&a, &a), 0);
        a = uuid_of("80000000-0000-0000-0000-000000000000");
        b = uuid_of("7fffffff-ffff-ffff-ffff-ffffffffffff");
        ck_assert_int_gt(red_uuid_cmp(&a, &b), 0); /* unsigned bytes */
        b = uuid_of("80000000000000000000000000000000");
        ck_assert_int_eq(red_uuid_cmp(&a, &b), 0);
}
END_TEST

START_TEST(test_hash)
{
        enum { N = 65536, BUCKETS = 1024 };
        static int bucket[BUCKETS];
        red_uuid_t a = uuid_of(NS_DNS), b = uuid_of(NS_DNS), u;
        uint64_t h = red_uuid_hash(&a);
        int i, bit, min = N, max = 0;

        ck_assert_uint_eq(red_uuid_hash(&b), h);
        /* flipping any single input bit changes about half the output bits */
        for (bit = 0; bit < 128; bit++) {
                uint64_t d;

                b = a;
                b.b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
                d = red_uuid_hash(&b) ^ h;
                ck_assert_msg(__builtin_popcountll(d) >= 12 &&
                                      __builtin_popcountll(d) <= 52,
                              "bit %d: %d output bits changed", bit,
                              __builtin_popcountll(d));
        }
        /* sequential ids (only the last two bytes differ) spread evenly */
        memset(&u, 0, sizeof(u));
        for (i = 0; i < N; i++) {
                u.b[14] = (uint8_t)(i >> 8);
                u.b[15] = (uint8_t)i;
                bucket[red_uuid_hash(&u) % BUCKETS]++;
        }
        for (i = 0; i < BUCKETS; i++) {
                min = bucket[i] < min ? bucket[i] : min;
                max = bucket[i] > max ? bucket[i] : max;
        }
        /* mean 64; a poor hash leaves buckets empty or piles them up */
        ck_assert_int_gt(min, 30);
        ck_assert_int_lt(max, 110);
}
END_TEST

static Suite *uuid_suite(void)
{
        Suite *s = suite_create("red_uuid");
        TCase *tc = tcase_create("core");

        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_parse_format);
        tcase_add_test(tc, test_parse_invalid);
        tcase_add_test(tc, test_v4);
        tcase_add_test(tc, test_v4_threads);
        tcase_add_test(tc, test_v4_fork);
        tcase_add_test(tc, test_v5_vectors);
        tcase_add_test(tc, test_v5_padding);
        tcase_add_test(tc, test_nil_cmp);
        tcase_add_test(tc, test_hash);
        suite_add_tcase(s, tc);
        return s;
}

int main(void)
{
        SRunner *sr = srunner_create(uuid_suite());
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

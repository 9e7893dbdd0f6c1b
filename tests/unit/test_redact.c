/* Unit tests for red_redact: passwords out of libpq's messages. */
#include "red_redact.h"
#include "red_test.h"

#include <string.h>

static void check(const char *msg, const char *conninfo, const char *password,
                  const char *want)
{
        char out[512];

        red_redact(out, sizeof(out), msg, strlen(msg), conninfo, password);
        ck_assert_msg(!strcmp(out, want), "%s\n  got  %s\n  want %s", msg, out,
                      want);
}

/* libpq's messages for malformed URIs, as libpq 15 words them */
START_TEST(malformed_uris)
{
        check("end of string reached when looking for matching \"]\" in "
              "IPv6 host address in URI: \"postgresql://u:S3cret@[::1\"",
              "postgresql://u:S3cret@[::1", NULL,
              "end of string reached when looking for matching \"]\" in "
              "IPv6 host address in URI: \"postgresql://u:***@[::1\"");
        /* only the token is quoted: known from the conninfo */
        check("invalid percent-encoded token: \"S3cret%zz\"",
              "postgresql://u:S3cret%zz@host/db", NULL,
              "invalid percent-encoded token: \"***\"");
        /* a percent-encoded password, quoted decoded or as written */
        check("bad token \"S3cret\" in \"S3%63ret\"",
              "postgresql://u:S3%63ret@host/db", NULL,
              "bad token \"***\" in \"***\"");
        /* the userinfo ends at the first '@' before any '/' (libpq) */
        check("invalid URI: \"postgres://u:p@ss@h/d@x\"", NULL, NULL,
              "invalid URI: \"postgres://u:***@ss@h/d@x\"");
        check("invalid URI query parameter: \"bogus\"",
              "postgresql://u@host/db?password=S3cret&bogus=1", NULL,
              "invalid URI query parameter: \"bogus\"");
        check("in \"postgresql://h/db?password=S3cret&sslmode=x\"", NULL, NULL,
              "in \"postgresql://h/db?password=***&sslmode=x\"");
}
END_TEST

START_TEST(keyword_values)
{
        check("invalid connection string \"host=h password=S3cret port=x\"",
              NULL, NULL,
              "invalid connection string \"host=h password=*** port=x\"");
        check("in password = 'S3 \\' cret' port=1", NULL, NULL,
              "in password = *** port=1");
        check("PASSWORD=S3cret", NULL, NULL, "PASSWORD=***");
        /* the conninfo's quoted value, as written and unquoted */
        check("value S3 ' cret and 'S3 \\' cret'",
              "host=h password='S3 \\' cret' port=1", NULL,
              "value *** and ***");
        check("token pw!", NULL, "pw!", "token ***");
}
END_TEST

START_TEST(no_false_alarms)
{
        static const char *const keep[] = {
                "password authentication failed for user \"u\"",
                "connection to server at \"h\" (127.0.0.1), port 1 failed: "
                "Connection refused",
                "invalid URI: \"postgresql://host:5432/db\"",
                "invalid URI: \"postgresql://u@host/db\"",
                "invalid URI: \"postgresql://u:@host/db\"",
                "",
        };

        for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
                check(keep[i], "host=h user=u", NULL, keep[i]);
        }
        /* adjacent credentials read as one */
        check("xS3cretS3cretx", NULL, "S3cret", "x***x");
}
END_TEST

START_TEST(bounds)
{
        const char *msg = "password=S3cret and more";
        char out[8];

        memset(out, 'z', sizeof(out));
        red_redact(out, sizeof(out), msg, strlen(msg), NULL, NULL);
        ck_assert_str_eq(out, "passwor");
        red_redact(out, 1, msg, strlen(msg), NULL, NULL);
        ck_assert_str_eq(out, "");
        /* only @p len bytes are read */
        red_redact(out, sizeof(out), "ab password=x", 2, NULL, NULL);
        ck_assert_str_eq(out, "ab");
        /* the secret is not cut in two by the output's end */
        red_redact(out, sizeof(out), "pw=S3cr", 7, NULL, "S3cr");
        ck_assert_str_eq(out, "pw=***");
}
END_TEST

int main(void)
{
        Suite *s = suite_create("redact");

        test_add_case(s, "malformed_uris", malformed_uris, 30);
        test_add_case(s, "keyword_values", keyword_values, 30);
        test_add_case(s, "no_false_alarms", no_false_alarms, 30);
        test_add_case(s, "bounds", bounds, 30);
        return test_main(s);
}

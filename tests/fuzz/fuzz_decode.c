/*
 * fuzz_decode - one Kafka message value through red_decode(), the entry
 * point of the pipeline (red_core decodes every message with it), for
 * every input topic of the shipped contracts, judged against jansson:
 * what jansson rejects must be invalid_json and nothing else may be
 * (the decoder's documented promise; its scanner is hand-written). One
 * documented difference: a NUL (\u0000) in a member name is valid JSON
 * to red_decode, while jansson refuses it; so jansson judges a copy in
 * which every \u0000 reads \u0001 (a NUL in a value is allowed by
 * JSON_ALLOW_NUL anyway, and the swap changes no other verdict). Another:
 * an empty value (or none, a tombstone) is empty_value. The
 * tree decoder (red_decode_tree) must reach the same verdict as the fast
 * one. Any disagreement aborts, so libFuzzer keeps the input.
 */
#include "fuzz.h"

#include "red_contract.h"
#include "red_decode.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const shipped[] = {"contracts/codegen_metrics.yaml",
                                      "contracts/agent_metrics.yaml"};
#define CONTRACT_CNT (sizeof(shipped) / sizeof(*shipped))

static red_contract_t *contracts[CONTRACT_CNT];
static red_value_t *values;

/* A fixed clock: the future-skew check must not depend on when we run. */
#define NOW ((red_time_t)1767225600 * 1000000) /* 2026-01-01T00:00:00Z */

static void init(void)
{
        size_t slots = 0;
        char err[2048];

        for (size_t i = 0; i < CONTRACT_CNT; i++) {
                char *path = fuzz_src_path(shipped[i]);
                if (!(contracts[i] =
                              red_contract_load(path, err, sizeof(err)))) {
                        fprintf(stderr, "fuzz_decode: %s\n", err);
                        abort();
                }
                free(path);
                if (contracts[i]->slot_cnt > slots) {
                        slots = contracts[i]->slot_cnt;
                }
        }
        if (!(values = calloc(slots + 1, sizeof(*values)))) {
                abort();
        }
}

static void disagree(const char *what, const red_contract_t *c,
                     const red_msg_t *msg, const char *verdict,
                     const char *detail)
{
        fprintf(stderr,
                "fuzz_decode: disagreement: %s (contract %s, topic %s, "
                "header %s): %s%s%s\n",
                what, c->name, msg->topic,
                msg->header_type ? msg->header_type : "none", verdict,
                detail[0] ? ": " : "", detail);
        abort();
}

/* One message through both decoders; checks the verdicts. */
static void decode_one(const red_contract_t *c, const red_msg_t *msg,
                       bool jansson_rejects)
{
        red_event_t ev = {.values = values};
        char detail[1024], tree_detail[1024];
        red_dlq_code_t code, tree;

        code = red_decode(c, msg, NOW, &ev, detail, sizeof(detail));
        if (code == RED_DLQ_NONE) {
                red_decode_release(&ev);
        }
        if (!msg->value || !msg->value_len) {
                /* the other documented difference: an empty value (or a
                 * tombstone) is empty_value, whatever jansson says */
                if (code != RED_DLQ_EMPTY_VALUE) {
                        disagree("an empty value is not empty_value", c, msg,
                                 red_dlq_code_name(code), detail);
                }
        } else if ((code == RED_DLQ_INVALID_JSON) != jansson_rejects) {
                disagree(jansson_rejects ? "jansson rejects, red_decode "
                                           "accepts as JSON"
                                         : "jansson accepts, red_decode "
                                           "says invalid_json",
                         c, msg, red_dlq_code_name(code), detail);
        }
        tree = red_decode_tree(c, msg, NOW, &ev, tree_detail,
                               sizeof(tree_detail));
        if (tree == RED_DLQ_NONE) {
                red_decode_release(&ev);
        }
        if (tree != code) {
                char both[2100];
                snprintf(both, sizeof(both), "fast %s (%s), tree %s (%s)",
                         red_dlq_code_name(code), detail,
                         red_dlq_code_name(tree), tree_detail);
                disagree("the fast and the tree decoder differ", c, msg, both,
                         "");
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        json_t *j;
        bool rejects;
        char *copy;

        if (!values) {
                init();
        }
        if (size > RED_DECODE_MAX_BYTES) {
                return 0; /* too_large, before any parsing */
        }
        /* the flags red_decode documents for "what jansson rejects" */
        if (!(copy = malloc(size + 1))) {
                abort();
        }
        memcpy(copy, data, size);
        for (size_t i = 0; i + 6 <= size; i++) {
                if (!memcmp(copy + i, "\\u0000", 6)) {
                        copy[i + 5] = '1';
                }
        }
        j = json_loadb(copy, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
        free(copy);
        rejects = j == NULL;
        json_decref(j);
        for (size_t i = 0; i < CONTRACT_CNT; i++) {
                const red_contract_t *c = contracts[i];

                for (size_t t = 0; t < c->input_cnt; t++) {
                        red_msg_t msg = {.topic = c->inputs[t].topic,
                                         .value = data,
                                         .value_len = size,
                                         .timestamp = -1};
                        decode_one(c, &msg, rejects);
                }
                /* the event type from the Kafka header instead */
                if (c->kind_cnt && c->kinds[0].type_cnt) {
                        red_msg_t msg = {.topic = c->inputs[0].topic,
                                         .value = data,
                                         .value_len = size,
                                         .timestamp = -1,
                                         .header_type = c->kinds[0].types[0],
                                         .header_type_len =
                                                 strlen(c->kinds[0].types[0])};
                        decode_one(c, &msg, rejects);
                }
        }
        return 0;
}

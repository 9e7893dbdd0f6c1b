/* red_sink_alertq - alerts queued for delivery in the batch transaction. */
#include "red_sink_alertq.h"

#include "red_buf.h"

#include <stdlib.h>
#include <string.h>

struct red_sink_alertq_s {
        char *contract;
        bool on;
        red_buf_t lines; /* COPY text */
};

red_sink_alertq_t *red_sink_alertq_new(const char *contract)
{
        red_sink_alertq_t *q = calloc(1, sizeof(*q));

        if (!q || !(q->contract = strdup(contract))) {
                free(q);
                return NULL;
        }
        red_buf_init(&q->lines);
        return q;
}

void red_sink_alertq_destroy(red_sink_alertq_t *q)
{
        if (!q) {
                return;
        }
        red_buf_destroy(&q->lines);
        free(q->contract);
        free(q);
}

void red_sink_alertq_enable(red_sink_alertq_t *q, bool on)
{
        q->on = on;
}

bool red_sink_alertq_enabled(const red_sink_alertq_t *q)
{
        return q->on;
}

void red_sink_alertq_reset(red_sink_alertq_t *q)
{
        red_buf_reset(&q->lines);
}

static void put_str(red_buf_t *b, const char *s)
{
        red_buf_put_copy_str(b, s, strlen(s));
        red_buf_putc(b, '\t');
}

void red_sink_alertq_add(red_sink_alertq_t *q, const red_sink_alertq_item_t *it)
{
        red_buf_t *b = &q->lines;

        if (!q->on) {
                return;
        }
        red_sink_io_put_uuid(b, it->alert_id);
        red_buf_putc(b, '\t');
        put_str(b, q->contract);
        put_str(b, it->rule_id);
        put_str(b, it->severity);
        put_str(b, it->resolved ? "resolved" : "firing");
        put_str(b, it->labels);
        put_str(b, it->annotations);
        put_str(b, it->payload);
        red_sink_io_put_time(b, it->starts_at);
        red_buf_putc(b, '\t');
        if (it->ends_at == INT64_MIN) {
                red_buf_puts(b, "\\N");
        } else {
                red_sink_io_put_time(b, it->ends_at);
        }
        /* whole seconds, at least one */
        red_buf_printf(
                b, "\t%lld\t",
                (long long)(it->hold_us > 1000000 ? it->hold_us / 1000000 : 1));
        if (it->generator) {
                red_buf_put_copy_str(b, it->generator, strlen(it->generator));
        } else {
                red_buf_puts(b, "\\N");
        }
        red_buf_putc(b, '\n');
}

red_sink_result_t red_sink_alertq_write(red_sink_alertq_t *q, red_sink_io_t *io,
                                        char *errstr, size_t size)
{
        red_sink_result_t r;

        if (!q->lines.len && !q->lines.failed) {
                return RED_SINK_OK;
        }
        if ((r = red_sink_io_copy_in(io,
                                     "COPY reducerd_alert_outbox (alert_id, "
                                     "contract, rule_id, severity, status, "
                                     "labels, annotations, payload, "
                                     "starts_at, ends_at, hold_s, generator) "
                                     "FROM STDIN",
                                     &q->lines, errstr, size))) {
                return r;
        }
        return red_sink_io_run(io, "NOTIFY reducerd_alert_outbox", errstr,
                               size);
}

/* red_sink_outbox - outbound events, COPYed in the batch transaction. */
#include "red_sink_outbox.h"

#include "red_buf.h"
#include "red_time.h"

#include <stdlib.h>
#include <string.h>

struct red_sink_outbox_s {
        char *instance;
        red_buf_t lines; /* COPY text: topic, key, payload */
        red_buf_t env;   /* one envelope, while it is rendered */
};

red_sink_outbox_t *red_sink_outbox_new(const char *instance)
{
        red_sink_outbox_t *o = calloc(1, sizeof(*o));

        if (!o) {
                return NULL;
        }
        red_buf_init(&o->lines);
        red_buf_init(&o->env);
        if (!(o->instance = strdup(instance))) {
                red_sink_outbox_destroy(o);
                return NULL;
        }
        return o;
}

void red_sink_outbox_destroy(red_sink_outbox_t *o)
{
        if (!o) {
                return;
        }
        red_buf_destroy(&o->lines);
        red_buf_destroy(&o->env);
        free(o->instance);
        free(o);
}

void red_sink_outbox_reset(red_sink_outbox_t *o)
{
        red_buf_reset(&o->lines);
}

/* The output envelope around @p payload. */
static void envelope(red_sink_outbox_t *o, const char *event_type,
                     const red_uuid_t *event_id, const char *correlation_id,
                     const char *payload)
{
        char id[RED_UUID_STR_SIZE], ts[RED_TIME_FMT_SIZE];
        red_buf_t *b = &o->env;

        red_uuid_format(event_id, id);
        red_time_format(red_time_now(), ts, sizeof(ts));
        red_buf_reset(b);
        red_buf_puts(b, "{\"envelope_version\":\"1.0\",\"event_id\":\"");
        red_buf_puts(b, id);
        red_buf_puts(b, "\",\"event_type\":");
        red_buf_put_json_str(b, event_type, strlen(event_type));
        red_buf_puts(b, ",\"event_version\":\"1.0\",\"event_timestamp\":\"");
        red_buf_puts(b, ts);
        red_buf_puts(b, "\",\"source_service\":\"reducerd\","
                        "\"source_instance\":");
        red_buf_put_json_str(b, o->instance, strlen(o->instance));
        red_buf_puts(b, ",\"correlation_id\":");
        if (correlation_id) {
                red_buf_put_json_str(b, correlation_id, strlen(correlation_id));
        } else {
                red_buf_puts(b, "null");
        }
        red_buf_puts(b, ",\"payload\":");
        red_buf_puts(b, payload);
        red_buf_putc(b, '}');
}

void red_sink_outbox_add(red_sink_outbox_t *o, const char *topic,
                         const char *key, const char *event_type,
                         const red_uuid_t *event_id, const char *correlation_id,
                         const char *payload)
{
        red_buf_t *out = &o->lines;

        envelope(o, event_type, event_id, correlation_id,
                 payload ? payload : "null");
        if (o->env.failed) {
                out->failed = true;
                return;
        }
        red_buf_put_copy_str(out, topic, strlen(topic));
        red_buf_putc(out, '\t');
        red_buf_put_copy_str(out, key, strlen(key));
        red_buf_putc(out, '\t');
        red_buf_put_copy_str(out, o->env.data, o->env.len);
        red_buf_putc(out, '\n');
}

red_sink_result_t red_sink_outbox_write(red_sink_outbox_t *o, red_sink_io_t *io,
                                        char *errstr, size_t size)
{
        red_sink_result_t r;

        if (!o->lines.len && !o->lines.failed) {
                return RED_SINK_OK;
        }
        if ((r = red_sink_io_copy_in(io,
                                     "COPY reducerd_outbox (topic, key, "
                                     "payload) FROM STDIN",
                                     &o->lines, errstr, size))) {
                return r;
        }
        return red_sink_outbox_notify(io, errstr, size);
}

red_sink_result_t red_sink_outbox_notify(red_sink_io_t *io, char *errstr,
                                         size_t size)
{
        return red_sink_io_run(io, "NOTIFY reducerd_outbox", errstr, size);
}

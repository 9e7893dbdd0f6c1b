/* red_dlq - the names of the dead-letter codes. */
#include "red_dlq.h"

/* clang-format off */
static const char *const code_names[RED_DLQ__CNT] = {
        "none",           "invalid_json",      "not_an_object",
        "too_large",      "unknown_event_type", "missing_event_type",
        "missing_field",  "wrong_type",        "out_of_range",
        "not_allowed",    "invalid_timestamp", "missing_timestamp",
        "future_timestamp", "late",          "empty_value",
        "storage_rejected"};
/* clang-format on */

const char *red_dlq_code_name(red_dlq_code_t code)
{
        return (unsigned)code < RED_DLQ__CNT ? code_names[code] : "unknown";
}

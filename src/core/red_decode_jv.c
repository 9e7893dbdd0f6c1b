/* red_decode_jv - JSON value views of the two decode paths. */
#include "red_decode_jv.h"

#include <string.h>

const char *red_decode_jv_type_name(red_json_type_t t)
{
        switch (t) {
        case RED_JSON_OBJ:
                return "an object";
        case RED_JSON_ARR:
                return "an array";
        case RED_JSON_STR:
                return "a string";
        case RED_JSON_INT:
                return "an integer";
        case RED_JSON_REAL:
                return "a number";
        case RED_JSON_TRUE:
        case RED_JSON_FALSE:
                return "a boolean";
        default:
                return "null";
        }
}

void red_decode_jv_from_json(json_t *j, red_decode_jv_t *v)
{
        memset(v, 0, sizeof(*v));
        v->j = j;
        switch (json_typeof(j)) {
        case JSON_OBJECT:
                v->t = RED_JSON_OBJ;
                break;
        case JSON_ARRAY:
                v->t = RED_JSON_ARR;
                break;
        case JSON_STRING:
                v->t = RED_JSON_STR;
                v->p = json_string_value(j);
                v->len = json_string_length(j);
                break;
        case JSON_INTEGER:
                v->t = RED_JSON_INT;
                v->i = (int64_t)json_integer_value(j);
                break;
        case JSON_REAL:
                v->t = RED_JSON_REAL;
                v->d = json_real_value(j);
                break;
        case JSON_TRUE:
                v->t = RED_JSON_TRUE;
                break;
        case JSON_FALSE:
                v->t = RED_JSON_FALSE;
                break;
        default:
                v->t = RED_JSON_NULL;
                break;
        }
}

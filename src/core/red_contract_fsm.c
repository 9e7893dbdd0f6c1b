/* red_contract_fsm - a contract's workflow state machine and triggers. */
#include "red_contract_load.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * States are bits of a uint32_t mask, events indexes into the distinct
 * transition event names (collected as transitions are read); triggers
 * map input events onto the machine and may only name events that some
 * transition uses.
 */

/* --- states and transitions ---------------------------------------------- */

/* A state name or a list of them, as a mask. */
static int state_mask_of(red_loader_t *ld, const red_fsm_t *fsm,
                         const red_yaml_node_t *n, const char *what,
                         uint32_t *mask)
{
        char **names = NULL, buf[1024];
        size_t cnt = 0;
        int r = red_contract_load_strlist(ld, n, what, &names, &cnt);

        *mask = 0;
        for (size_t i = 0; !r && i < cnt; i++) {
                int s = red_contract_load_index(fsm->states, fsm->state_cnt,
                                                names[i]);
                if (s < 0) {
                        r = red_yaml_error(ld->errstr, ld->size, n,
                                           "%s: unknown state \"%s\" "
                                           "(allowed: %s)",
                                           what, names[i],
                                           red_contract_load_join(
                                                   fsm->states, fsm->state_cnt,
                                                   buf, sizeof(buf)));
                } else {
                        *mask |= 1u << s;
                }
        }
        red_contract_load_strlist_free(names, cnt);
        return r;
}

/* Exactly one state name, as its index. */
static int state_of(red_loader_t *ld, const red_fsm_t *fsm,
                    const red_yaml_node_t *n, const char *what, int *out)
{
        uint32_t mask;
        int r;

        if (red_yaml_kind(n) != RED_YAML_SCALAR) {
                return red_yaml_error(ld->errstr, ld->size, n,
                                      "%s: expected one state", what);
        }
        if ((r = state_mask_of(ld, fsm, n, what, &mask))) {
                return r;
        }
        *out = __builtin_ctz(mask);
        return 0;
}

/* {from, to, event, guards}: guards are keys that must be truthy in the
 * event's metadata or payload. */
static int transition_of(red_loader_t *ld, red_fsm_t *fsm,
                         const red_yaml_node_t *n, red_transition_t *t)
{
        static const char *const keys[] = {"from", "to", "event", "guards",
                                           NULL};
        const red_yaml_node_t *v;
        char *ev = NULL;
        int r;

        if ((r = red_yaml_check_keys(n, "fsm transition", keys, ld->errstr,
                                     ld->size))) {
                return r;
        }
        for (const char *const *k = keys; k < keys + 3; k++) {
                if (!red_contract_load_required(ld, n, "fsm transition", *k, "",
                                                &r)) {
                        return r;
                }
        }
        if ((r = state_mask_of(ld, fsm, red_yaml_get(n, "from"),
                               "fsm transition from", &t->from)) ||
            (r = state_of(ld, fsm, red_yaml_get(n, "to"), "fsm transition to",
                          &t->to)) ||
            (r = red_contract_load_ident(ld, red_yaml_get(n, "event"),
                                         "fsm transition event", 50, &ev))) {
                free(ev);
                return r;
        }
        /* the machine's events are the distinct transition event names: a
         * new name moves into fsm->events, a known one is freed */
        t->event = red_contract_load_index(fsm->events, fsm->event_cnt, ev);
        if (t->event < 0) {
                char **ne = realloc(fsm->events,
                                    (fsm->event_cnt + 1) * sizeof(*ne));
                if (!ne) {
                        free(ev);
                        return -ENOMEM;
                }
                fsm->events = ne;
                t->event = (int)fsm->event_cnt;
                fsm->events[fsm->event_cnt++] = ev;
        } else {
                free(ev);
        }
        if ((v = red_yaml_get(n, "guards")) &&
            (r = red_contract_load_strlist(ld, v, "fsm transition guards",
                                           &t->guards, &t->guard_cnt))) {
                return r;
        }
        /* One target per (from, event) keeps "the transition from the
         * current state with that event" well defined. */
        for (red_transition_t *o = fsm->transitions; o < t; o++) {
                if ((o->from & t->from) && o->event == t->event) {
                        return red_yaml_error(ld->errstr, ld->size, n,
                                              "fsm transition: event %s "
                                              "already leaves one of these "
                                              "states",
                                              fsm->events[t->event]);
                }
                if ((o->from & t->from) && o->to == t->to) {
                        return red_yaml_error(ld->errstr, ld->size, n,
                                              "fsm transition: %s is already "
                                              "reachable from one of these "
                                              "states",
                                              fsm->states[t->to]);
                }
        }
        return 0;
}

/* --- triggers ------------------------------------------------------------ */

/*
 * set: {guard_key: value}: what the trigger asserts for the guards. The
 * value's type is guessed from the YAML (boolean, then integer, else
 * string), since guards test the truth of a value of any type.
 */
static int trigger_set_of(red_loader_t *ld, const red_yaml_node_t *v,
                          const char *what, red_trigger_t *t)
{
        size_t cnt;
        int r;

        if (red_yaml_expect(v, RED_YAML_MAP, what, ld->errstr, ld->size)) {
                return -EINVAL;
        }
        cnt = red_yaml_size(v);
        t->set_keys = calloc(cnt + 1, sizeof(*t->set_keys));
        t->set_values = calloc(cnt + 1, sizeof(*t->set_values));
        if (!t->set_keys || !t->set_values) {
                return -ENOMEM;
        }
        /* counted in once both arrays exist: the free function walks
         * both */
        t->set_cnt = cnt;
        for (size_t i = 0; i < cnt; i++) {
                const red_yaml_node_t *sv = red_yaml_value(v, i);
                red_field_type_t ty = RED_FT_STRING;
                bool b;
                int64_t iv;
                char err[8];

                if ((r = red_contract_load_str(ld, red_yaml_key(v, i), what,
                                               &t->set_keys[i]))) {
                        return r;
                }
                if (!red_yaml_to_bool(sv, what, &b, err, sizeof(err))) {
                        ty = RED_FT_BOOLEAN;
                } else if (!red_yaml_to_int64(sv, what, &iv, err,
                                              sizeof(err))) {
                        ty = RED_FT_INTEGER;
                }
                if ((r = red_contract_load_const(ld, sv, what, ty,
                                                 &t->set_values[i]))) {
                        return r;
                }
        }
        return 0;
}

/*
 * A trigger maps input events (on:, when:) onto the machine with exactly
 * one action: initialize a workflow (in the state that the field
 * state_from names, else the initial one), fire a fixed event, or fire
 * the event that the field event_from names; to_state_from names a field
 * that may pick the target state.
 */
static int trigger_of(red_loader_t *ld, red_fsm_t *fsm,
                      const red_yaml_node_t *n, red_trigger_t *t)
{
        static const char *const keys[] = {
                "on",    "when",       "initialize",    "state_from",
                "event", "event_from", "to_state_from", "set",
                NULL};
        const red_yaml_node_t *v;
        const char *what = "fsm trigger";
        char buf[1024];
        int r, actions = 0;

        t->state_from = t->event = t->event_from = t->to_state_from = -1;
        if ((r = red_yaml_check_keys(n, what, keys, ld->errstr, ld->size))) {
                return r;
        }
        if (!(v = red_contract_load_required(ld, n, what, "on", "", &r)) ||
            (r = red_contract_load_kinds(ld, v, what, &t->on))) {
                return r;
        }
        if ((v = red_yaml_get(n, "when")) &&
            (r = red_contract_load_conds(ld, v, what, &t->when,
                                         &t->when_cnt))) {
                return r;
        }
        if ((v = red_yaml_get(n, "initialize"))) {
                if ((r = red_yaml_to_bool(v, what, &t->initialize, ld->errstr,
                                          ld->size))) {
                        return r;
                }
                actions += t->initialize;
        }
        if ((v = red_yaml_get(n, "state_from")) &&
            (r = red_contract_load_string_slot(ld, v, what, &t->state_from))) {
                return r;
        }
        if ((v = red_yaml_get(n, "event"))) {
                const char *ev;
                actions++;
                if ((r = red_yaml_to_str(v, what, &ev, ld->errstr, ld->size))) {
                        return r;
                }
                t->event = red_contract_load_index(fsm->events, fsm->event_cnt,
                                                   ev);
                if (t->event < 0) {
                        return red_yaml_error(
                                ld->errstr, ld->size, v,
                                "%s: unknown event \"%s\" (allowed: %s)", what,
                                ev,
                                red_contract_load_join(fsm->events,
                                                       fsm->event_cnt, buf,
                                                       sizeof(buf)));
                }
        }
        if ((v = red_yaml_get(n, "event_from"))) {
                actions++;
                if ((r = red_contract_load_string_slot(ld, v, what,
                                                       &t->event_from))) {
                        return r;
                }
        }
        if ((v = red_yaml_get(n, "to_state_from")) &&
            (r = red_contract_load_string_slot(ld, v, what,
                                               &t->to_state_from))) {
                return r;
        }
        if (actions != 1) {
                return red_yaml_error(ld->errstr, ld->size, n,
                                      "%s: exactly one of initialize: true, "
                                      "event, event_from is needed",
                                      what);
        }
        if (t->state_from >= 0 && !t->initialize) {
                return red_yaml_error(ld->errstr, ld->size, n,
                                      "%s: state_from belongs to initialize "
                                      "triggers",
                                      what);
        }
        if ((v = red_yaml_get(n, "set"))) {
                return trigger_set_of(ld, v, what, t);
        }
        return 0;
}

/* --- the machine -------------------------------------------------------- */

/* key: the uuid field that names a workflow; one key per contract, so it
 * must equal workflows.key where both are given. */
static int fsm_key_of(red_loader_t *ld, const red_yaml_node_t *v,
                      red_fsm_t *fsm)
{
        red_contract_t *c = ld->c;
        int r;

        if ((r = red_contract_load_slot(ld, v, "fsm.key", &fsm->key_slot))) {
                return r;
        }
        if (c->slot_types[fsm->key_slot] != RED_FT_UUID) {
                return red_yaml_error(ld->errstr, ld->size, v,
                                      "fsm.key: field %s must be a uuid",
                                      c->slot_names[fsm->key_slot]);
        }
        if (c->workflow_key_slot >= 0 &&
            c->workflow_key_slot != fsm->key_slot) {
                return red_yaml_error(ld->errstr, ld->size, v,
                                      "fsm.key must equal workflows.key");
        }
        c->workflow_key_slot = fsm->key_slot;
        return 0;
}

/* states, initial, terminal. States become SQL values and event names
 * (at most 50 bytes); a state mask has 32 bits. */
static int states_of(red_loader_t *ld, const red_yaml_node_t *n, red_fsm_t *fsm)
{
        const red_yaml_node_t *v = red_yaml_get(n, "states");
        int r;

        if ((r = red_contract_load_strlist(ld, v, "fsm.states", &fsm->states,
                                           &fsm->state_cnt))) {
                return r;
        }
        if (fsm->state_cnt < 2 || fsm->state_cnt > RED_CONTRACT_MAX_STATES) {
                return red_yaml_error(ld->errstr, ld->size, v,
                                      "fsm.states: between 2 and %d states "
                                      "are allowed",
                                      RED_CONTRACT_MAX_STATES);
        }
        for (size_t i = 0; i < fsm->state_cnt; i++) {
                if (!red_contract_load_is_ident(fsm->states[i], 50) ||
                    red_contract_load_index(fsm->states, i, fsm->states[i]) >=
                            0) {
                        return red_yaml_error(ld->errstr, ld->size, v,
                                              "fsm.states: \"%s\" is "
                                              "repeated or not a valid name",
                                              fsm->states[i]);
                }
        }
        if ((r = state_of(ld, fsm, red_yaml_get(n, "initial"), "fsm.initial",
                          &fsm->initial)) ||
            (r = state_mask_of(ld, fsm, red_yaml_get(n, "terminal"),
                               "fsm.terminal", &fsm->terminal))) {
                return r;
        }
        return 0;
}

static int transitions_of(red_loader_t *ld, const red_yaml_node_t *v,
                          red_fsm_t *fsm)
{
        int r;

        if (red_yaml_expect(v, RED_YAML_SEQ, "fsm.transitions", ld->errstr,
                            ld->size)) {
                return -EINVAL;
        }
        fsm->transitions =
                calloc(red_yaml_size(v) + 1, sizeof(*fsm->transitions));
        if (!fsm->transitions) {
                return -ENOMEM;
        }
        for (size_t i = 0; i < red_yaml_size(v); i++) {
                fsm->transition_cnt++;
                if ((r = transition_of(ld, fsm, red_yaml_item(v, i),
                                       &fsm->transitions[i]))) {
                        return r;
                }
        }
        return 0;
}

static int triggers_of(red_loader_t *ld, const red_yaml_node_t *v,
                       red_fsm_t *fsm)
{
        int r;

        if (red_yaml_expect(v, RED_YAML_SEQ, "fsm.triggers", ld->errstr,
                            ld->size)) {
                return -EINVAL;
        }
        fsm->triggers = calloc(red_yaml_size(v) + 1, sizeof(*fsm->triggers));
        if (!fsm->triggers) {
                return -ENOMEM;
        }
        for (size_t i = 0; i < red_yaml_size(v); i++) {
                fsm->trigger_cnt++;
                if ((r = trigger_of(ld, fsm, red_yaml_item(v, i),
                                    &fsm->triggers[i]))) {
                        return r;
                }
        }
        return 0;
}

int red_contract_load_fsm(red_loader_t *ld, const red_yaml_node_t *n)
{
        /* the first 8 are required */
        static const char *const keys[] = {"key",
                                           "states",
                                           "initial",
                                           "terminal",
                                           "transitions",
                                           "triggers",
                                           "history_table",
                                           "current_table",
                                           "history_partition",
                                           "history_retention",
                                           "publish",
                                           NULL};
        red_fsm_t *fsm;
        const red_yaml_node_t *v;
        int r;

        if ((r = red_yaml_check_keys(n, "fsm", keys, ld->errstr, ld->size))) {
                return r;
        }
        if (!(fsm = ld->c->fsm = calloc(1, sizeof(*fsm)))) {
                return -ENOMEM;
        }
        for (const char *const *k = keys; k < keys + 8; k++) {
                if (!red_contract_load_required(ld, n, "fsm", *k, "", &r)) {
                        return r;
                }
        }
        /* transitions name states; triggers name transition events */
        if ((r = fsm_key_of(ld, red_yaml_get(n, "key"), fsm)) ||
            (r = states_of(ld, n, fsm)) ||
            (r = transitions_of(ld, red_yaml_get(n, "transitions"), fsm)) ||
            (r = triggers_of(ld, red_yaml_get(n, "triggers"), fsm))) {
                return r;
        }
        if ((r = red_contract_load_ident(ld, red_yaml_get(n, "history_table"),
                                         "fsm", TABLE_NAME_MAX,
                                         &fsm->history_table)) ||
            (r = red_contract_load_ident(ld, red_yaml_get(n, "current_table"),
                                         "fsm", TABLE_NAME_MAX,
                                         &fsm->current_table))) {
                return r;
        }
        fsm->history_partition = RED_PART_DAILY;
        if ((v = red_yaml_get(n, "history_partition")) &&
            (r = red_contract_load_partition(ld, v, "fsm",
                                             &fsm->history_partition))) {
                return r;
        }
        if ((v = red_yaml_get(n, "history_retention")) &&
            (r = red_contract_load_duration(ld, v, "fsm",
                                            &fsm->history_retention_us))) {
                return r;
        }
        if ((v = red_yaml_get(n, "publish")) &&
            (r = red_contract_load_publish(ld, v, "fsm", &fsm->publish))) {
                return r;
        }
        return 0;
}

void red_contract_load_free_fsm(red_fsm_t *fsm)
{
        if (!fsm) {
                return;
        }
        red_contract_load_strlist_free(fsm->states, fsm->state_cnt);
        red_contract_load_strlist_free(fsm->events, fsm->event_cnt);
        for (size_t i = 0; fsm->transitions && i < fsm->transition_cnt; i++) {
                red_contract_load_strlist_free(fsm->transitions[i].guards,
                                               fsm->transitions[i].guard_cnt);
        }
        free(fsm->transitions);
        for (size_t i = 0; fsm->triggers && i < fsm->trigger_cnt; i++) {
                red_trigger_t *t = &fsm->triggers[i];
                red_contract_load_conds_free(t->when, t->when_cnt);
                for (size_t k = 0; t->set_keys && k < t->set_cnt; k++) {
                        free(t->set_keys[k]);
                        red_contract_load_const_free(&t->set_values[k]);
                }
                free(t->set_keys);
                free(t->set_values);
        }
        free(fsm->triggers);
        free(fsm->history_table);
        free(fsm->current_table);
        free(fsm->publish.topic);
        free(fsm->publish.event_type);
        free(fsm);
}

/*
 * Tests of the bridge from catalog events to the ledger: a validated event appends, its stream
 * and entities are the catalog's, the actor is the session's, and a retry of the same JSON is
 * recognised as the same event.
 */
#include "tests/support/support.h"

#include "events/events.h"

#define ROLL                                                                                       \
    "{\"id\":\"0190b2a0-7c1d-7000-8000-000000000101\",\"type\":\"ProductionDeclared\","            \
    "\"occurred_at_us\":1764000000000000,\"expected_version\":0,\"payload\":{"                     \
    "\"hu_id\":\"R0001\",\"of_id\":\"OF2026-7\",\"loom_id\":\"L012\",\"item_id\":\"TW-500\","      \
    "\"qty_milli\":120000,\"unit\":\"pcs\",\"location_id\":\"WEAVING\","                           \
    "\"length_milli\":60000,\"picks\":1800000}}"

Test(catalog_bridge, a_validated_event_appends_with_the_sessions_actor_and_retries_once)
{
    char dir[256];
    test_tmpdir(dir, sizeof(dir));
    eng_ledger_t *ledger = test_ledger_open(dir);
    static ev_event_t event;
    ev_error_t error;
    ev_actor_t actor = {.user = "weaver-7", .role = EV_ROLE_WEAVER, .device = "phone-3"};
    cr_assert_eq(ev_decode_json(ROLL, strlen(ROLL), &actor, &event, &error), 0, "%s",
                 error.message);
    eng_event_t appended;
    eng_event_from_catalog(&event, &actor, &appended);
    eng_position_t first = test_append_one(ledger, &appended);
    cr_assert_eq(first.stream_version, 1);
    /* The device retries after a lost answer: the same JSON, decoded again. */
    cr_assert_eq(ev_decode_json(ROLL, strlen(ROLL), &actor, &event, &error), 0);
    eng_event_from_catalog(&event, &actor, &appended);
    eng_position_t again = test_append_one(ledger, &appended);
    cr_assert(again.duplicate);
    cr_assert_eq(again.seq, first.seq);
    eng_iter_t *iter;
    eng_record_t r;
    cr_assert_eq(eng_iter_entity(ledger, "loom-L012", 0, ENG_FORWARD, &iter), 0);
    cr_assert_eq(eng_iter_next(iter, &r), 0);
    cr_assert_eq(memcmp(r.actor_user.ptr, "weaver-7", r.actor_user.len), 0);
    cr_assert_eq(memcmp(r.actor_role.ptr, "weaver", r.actor_role.len), 0);
    cr_assert_eq(memcmp(r.stream.ptr, "hu-R0001", r.stream.len), 0);
    char text[1024];
    cr_assert_gt(ev_payload_to_json(event.type, r.schema_version, r.payload, r.payload_len, text,
                                    sizeof(text)),
                 0);
    cr_assert_not_null(strstr(text, "\"picks\":1800000"));
    eng_iter_close(iter);
    eng_close(ledger);
    test_tmpdir_remove(dir);
}

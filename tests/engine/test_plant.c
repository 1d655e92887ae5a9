/*
 * The whole plant in one test, as its apps would post it: yarn received, warp beams wound from
 * it, an order released, beams mounted, weft issued, first piece passed, weaving with a stop,
 * cutting into grades, a bundle held then released by quality, a lot sent to an embroiderer and
 * back with an allowance, packing, palletizing, shipment, a count and its adjustment. At the
 * end the stock equals the expected figures and the genealogy from the pallet reaches the yarn
 * lots and the loom, and back.
 */
#include "tests/engine/plant.h"

TestSuite(plant, .init = setup, .fini = teardown, .timeout = 60);

/* The entities reached from a start, as "name name ... " in the order met. */
typedef struct {
    char text[4096];
} reached_t;

static int reach(const eng_link_t *link, void *data)
{
    reached_t *reached = data;
    size_t len = strlen(reached->text);
    snprintf(reached->text + len, sizeof(reached->text) - len, "%s>%s(%s) ", link->from, link->to,
             link->kind);
    return 0;
}

static bool reached(const reached_t *walk, const char *edge)
{
    return strstr(walk->text, edge) != NULL;
}

Test(plant, a_day_of_the_plant_ends_with_the_expected_stock)
{
    the_plant_works_a_day();
    cr_assert_eq(stock("WARP-20", "MP1", "available"), 100000, "500 kg less 400 wound");
    cr_assert_eq(stock("YARN-30", "MP1", "available"), 149000, "200 kg less 50 issued, 1 lost");
    /* 100 + 110 first, 18 second, 8.5 back from embroidery: all shipped. */
    cr_assert_eq(stock("TW-500", "CUST-1", "shipped"), 236500);
    const char *places[] = {"WEAVING", "CUT", "FG", "SUB-BRODERIE"};
    const char *statuses[] = {"available", "on hold", "released", "rejected"};
    for (size_t p = 0; p < 4; p++)
        for (size_t s = 0; s < 4; s++)
            cr_assert_eq(stock("TW-500", places[p], statuses[s]), 0, "%s %s", places[p],
                         statuses[s]);
    eng_order_view_t order;
    cr_assert_eq(eng_order_get(ledger, "OF1", &order), 0);
    cr_assert_eq(order.declared_milli, 240000);
    eng_beam_view_t beam;
    cr_assert_eq(eng_beam_get(ledger, "BM1", &beam), 0);
    cr_assert_str_eq(beam.loom, "L1");
    cr_assert_eq(beam.remaining_milli, 3000000 - 2 * 60000, "two rolls of 60 m woven off it");
    eng_sublot_view_t lot;
    cr_assert_eq(eng_sublot_get(ledger, "SL1", &lot), 0);
    cr_assert_str_eq(lot.state, "closed");
    cr_assert_eq(lot.allowance_milli, 300);
    eng_hu_view_t pallet;
    cr_assert_eq(eng_hu_get(ledger, "P1", &pallet), 0);
    cr_assert_str_eq(pallet.status, "shipped");
    cr_assert_eq(eng_verify(ledger, &(uint64_t){0}, &(uint64_t){0}), 0);
}

Test(plant, the_pallet_leads_back_to_the_yarn_lots_and_the_loom_and_they_lead_to_the_pallet)
{
    the_plant_works_a_day();
    reached_t up = {0};
    cr_assert_eq(eng_genealogy(ledger, "hu-P1", ENG_BACKWARD, 16, 0, reach, &up), 0);
    const char *expected_up[] = {
        "hu-C1>hu-P1(packed_in)",     "hu-R1-A>hu-C1(packed_in)", "hu-R1>hu-R1-A(cut)",
        "loom-L1>hu-R1(woven_on)",    "of-OF1>hu-R1(for_order)",  "beam-BM1>hu-R1(warp)",
        "beam-BM2>hu-R2(warp)",       "hu-Y-WARP>beam-BM1(yarn)", "hu-Y-WEFT>of-OF1(yarn)",
        "hu-R2-B>hu-E1(subcontract)", "hu-E1>hu-C2(packed_in)",
    };
    for (size_t i = 0; i < sizeof(expected_up) / sizeof(expected_up[0]); i++)
        cr_assert(reached(&up, expected_up[i]), "%s not in %s", expected_up[i], up.text);

    reached_t down = {0};
    cr_assert_eq(eng_genealogy(ledger, "hu-Y-WARP", ENG_FORWARD, 16, 0, reach, &down), 0);
    cr_assert(reached(&down, ">hu-P1(packed_in)"), "%s", down.text);
    cr_assert(reached(&down, "hu-E1>hu-C2(packed_in)"), "%s", down.text);
    reached_t from_loom = {0};
    cr_assert_eq(eng_genealogy(ledger, "loom-L1", ENG_FORWARD, 16, 0, reach, &from_loom), 0);
    cr_assert(reached(&from_loom, ">hu-P1(packed_in)"), "%s", from_loom.text);

    /* Bounded: one level up from the pallet is its cartons only. */
    reached_t near = {0};
    cr_assert_eq(eng_genealogy(ledger, "hu-P1", ENG_BACKWARD, 1, 0, reach, &near), 0);
    cr_assert_str_eq(near.text, "hu-C1>hu-P1(packed_in) hu-C2>hu-P1(packed_in) ");
    reached_t few = {0};
    cr_assert_eq(eng_genealogy(ledger, "hu-P1", ENG_BACKWARD, 16, 3, reach, &few), FL_ETOOBIG);
}

/* ---- the change journal: a projection that follows it equals the state read whole */

#define ROWS_MAX 512

typedef struct {
    char keys[ROWS_MAX][192];
    char values[ROWS_MAX][512];
    unsigned count;
} table_t;

static void row_text(const eng_row_t *row, char *key, char *value)
{
    snprintf(key, 192, "%d/%s/%s", row->kind, row->kind_name, row->id);
    switch (row->kind) {
    case ENG_ROW_HU:
        snprintf(value, 512, "%s %s %s %s %lld %d %s %lld", row->hu.status, row->hu.item,
                 row->hu.location, row->hu.parent, (long long)row->hu.qty_milli, row->hu.grade,
                 row->hu.holder, (long long)row->hu.out_milli);
        break;
    case ENG_ROW_STOCK:
        snprintf(value, 512, "%lld", (long long)row->stock.qty_milli);
        break;
    case ENG_ROW_ORDER:
        snprintf(value, 512, "%s %lld %lld", row->order.state, (long long)row->order.planned_milli,
                 (long long)row->order.declared_milli);
        break;
    case ENG_ROW_LOOM:
        snprintf(value, 512, "%d %s %s %s %s", row->loom.stopped, row->loom.stop_code,
                 row->loom.order, row->loom.beams[0], row->loom.beams[1]);
        break;
    case ENG_ROW_BEAM:
        snprintf(value, 512, "%s %s %lld", row->beam.loom, row->beam.position,
                 (long long)row->beam.remaining_milli);
        break;
    case ENG_ROW_RECORD:
        snprintf(value, 512, "%s %s %u", row->record.state, row->record.subject, row->record.count);
        break;
    case ENG_ROW_SUBLOT:
        snprintf(value, 512, "%s %lld", row->sublot.state, (long long)row->sublot.out_milli);
        break;
    case ENG_ROW_LINK:
        snprintf(value, 512, "%s %llu", row->link.kind, (unsigned long long)row->link.seq);
        break;
    default:
        snprintf(value, 512, "%lld %d", (long long)row->article.cutting_tolerance_permille,
                 row->article.first_piece_required);
    }
}

/* Upserts a present row, deletes a gone one. */
static int table_apply(uint64_t seq, const eng_row_t *row, void *data)
{
    (void)seq;
    table_t *table = data;
    char key[192], value[512];
    row_text(row, key, value);
    for (unsigned i = 0; i < table->count; i++) {
        if (strcmp(table->keys[i], key) != 0)
            continue;
        if (row->present) {
            memcpy(table->values[i], value, sizeof(value));
        } else {
            table->count--;
            memcpy(table->keys[i], table->keys[table->count], sizeof(key));
            memcpy(table->values[i], table->values[table->count], sizeof(value));
        }
        return 0;
    }
    if (row->present) {
        cr_assert_lt(table->count, ROWS_MAX);
        memcpy(table->keys[table->count], key, sizeof(key));
        memcpy(table->values[table->count++], value, sizeof(value));
    }
    return 0;
}

static const char *table_find(const table_t *table, const char *key)
{
    for (unsigned i = 0; i < table->count; i++)
        if (strcmp(table->keys[i], key) == 0)
            return table->values[i];
    return NULL;
}

Test(plant, a_projection_that_follows_the_change_journal_equals_the_state_read_whole)
{
    the_plant_works_a_day();
    static table_t followed, whole;
    followed.count = whole.count = 0;
    uint64_t at = 0, last = 0, head = 0;
    do { /* a few events at a time, as a projector catching up */
        at = last;
        cr_assert_eq(eng_changes(ledger, at, 7, table_apply, &followed, &last), 0);
    } while (last != at);
    for (int kind = ENG_ROW_HU; kind < ENG_ROW_KINDS; kind++)
        cr_assert_eq(eng_rows(ledger, (eng_row_kind_t)kind, table_apply, &whole, &head), 0);
    cr_assert_eq(head, head_seq());
    cr_assert_gt(whole.count, 40, "units, stock, orders, looms, beams, records, links...");
    cr_assert_eq(followed.count, whole.count);
    for (unsigned i = 0; i < whole.count; i++) {
        const char *value = table_find(&followed, whole.keys[i]);
        cr_assert_not_null(value, "%s missing from the journal", whole.keys[i]);
        cr_assert_str_eq(value, whole.values[i], "%s", whole.keys[i]);
    }
    /* A bounded range gives what its events changed and nothing after them. */
    static table_t ranged;
    ranged.count = 0;
    cr_assert_eq(eng_changes_range(ledger, 0, 1, table_apply, &ranged), 0);
    cr_assert_eq(ranged.count, 1, "the article, not the loom defined by event 2");
    cr_assert_eq(eng_changes_range(ledger, 1, 2, table_apply, &ranged), 0);
    cr_assert_eq(ranged.count, 2, "and then the loom");
    char key[192];
    snprintf(key, sizeof(key), "%d//TW-500/CUST-1/shipped/1", ENG_ROW_STOCK);
    cr_assert_str_eq(table_find(&whole, key), "210000", "first choice shipped");
    snprintf(key, sizeof(key), "%d/sublot/SL1", ENG_ROW_SUBLOT);
    cr_assert_str_eq(table_find(&whole, key), "closed 0");
}

typedef struct {
    uint64_t after, head;
    int rc;
} waiting_t;

static void *wait_main(void *arg)
{
    waiting_t *w = arg;
    w->rc = eng_wait(ledger, w->after, 10000, &w->head);
    return NULL;
}

Test(plant, a_follower_waits_for_the_next_commit_and_not_longer)
{
    uint64_t head = 99;
    cr_assert_eq(eng_wait(ledger, 0, 20, &head), FL_ETIMEDOUT);
    cr_assert_eq(head, 0);
    waiting_t w = {.after = 0};
    pthread_t thread;
    cr_assert_eq(pthread_create(&thread, NULL, wait_main, &w), 0);
    POSTED(EV_ROLE_MANAGER, "LoomDefined", LOOM("L1"));
    pthread_join(thread, NULL);
    cr_assert_eq(w.rc, 0);
    cr_assert_eq(w.head, 1);
    cr_assert_eq(eng_wait(ledger, 0, 0, &head), 0, "already past: no wait");
}

Test(plant, a_follower_woken_by_hand_returns_at_once_with_the_head_unmoved)
{
    waiting_t w = {.after = 0};
    pthread_t thread;
    cr_assert_eq(pthread_create(&thread, NULL, wait_main, &w), 0);
    struct timespec pause = {.tv_nsec = 20000000};
    nanosleep(&pause, NULL);
    uint64_t started = fl_mono_ns();
    eng_wake(ledger);
    pthread_join(thread, NULL);
    cr_assert_eq(w.rc, 0);
    cr_assert_eq(w.head, 0, "nothing was appended");
    cr_assert_lt(fl_mono_ns() - started, 5000000000ull, "not its 10 s timeout");
}

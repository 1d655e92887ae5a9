/*
 * trace.c: recall traceability - the genealogy of an entity as nodes and edges, with what each
 * unit holds, as JSON for programs and as DOT (Graphviz) for a quality manager's picture.
 */
#define _POSIX_C_SOURCE 200809L
#include "replay/replay.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "events/events.h"

typedef struct {
    eng_link_t *edges;
    uint32_t count, cap;
    int error;
} edges_t;

static int edge_keep(const eng_link_t *link, void *data)
{
    edges_t *edges = data;
    if (edges->count == edges->cap) {
        uint32_t cap = edges->cap == 0 ? 64 : edges->cap * 2;
        eng_link_t *grown = realloc(edges->edges, cap * sizeof(*grown));
        if (grown == NULL) {
            edges->error = FL_ENOMEM;
            return 1;
        }
        edges->edges = grown;
        edges->cap = cap;
    }
    edges->edges[edges->count++] = *link;
    return 0;
}

/* Each node once: the start, then the far end of every edge, in the order met. */
static bool node_listed(const edges_t *edges, uint32_t upto, const char *name, bool far_is_to)
{
    for (uint32_t i = 0; i < upto; i++)
        if (strcmp(far_is_to ? edges->edges[i].to : edges->edges[i].from, name) == 0)
            return true;
    return false;
}

static void node_write(eng_ledger_t *ledger, const char *name, bool dot, bool first, FILE *out)
{
    eng_hu_view_t hu;
    bool unit = strncmp(name, "hu-", 3) == 0 && eng_hu_get(ledger, name + 3, &hu) == 0;
    const char *dash = strchr(name, '-');
    int kind_len = dash != NULL ? (int)(dash - name) : (int)strlen(name);
    if (dot) {
        if (unit)
            fprintf(out, "  \"%s\" [shape=box, label=\"%s\\n%s %.3f %s\\n%s at %s\"];\n", name,
                    name, hu.item, (double)hu.qty_milli / 1000, hu.unit, hu.status, hu.location);
        else
            fprintf(out, "  \"%s\" [shape=ellipse];\n", name);
        return;
    }
    fprintf(out, "%s\n    {\"id\": \"%s\", \"kind\": \"%.*s\"", first ? "" : ",", name, kind_len,
            name);
    if (unit)
        fprintf(out,
                ", \"item\": \"%s\", \"qty_milli\": %" PRId64 ", \"unit\": \"%s\", \"status\": "
                "\"%s\", \"location\": \"%s\", \"grade\": %d, \"container\": \"%s\"",
                hu.item, hu.qty_milli, hu.unit, hu.status, hu.location, hu.grade, hu.parent);
    fprintf(out, "}");
}

static bool edge_listed(const edges_t *edges, uint32_t upto, const eng_link_t *link)
{
    for (uint32_t i = 0; i < upto; i++)
        if (strcmp(edges->edges[i].from, link->from) == 0 &&
            strcmp(edges->edges[i].to, link->to) == 0)
            return true;
    return false;
}

static bool root_listed(char (*roots)[EV_NAME_LEN_MAX + 1], uint32_t count, const char *name)
{
    for (uint32_t i = 0; i < count; i++)
        if (strcmp(roots[i], name) == 0)
            return true;
    return false;
}

/* The graph of some roots and the edges met from them, each node and edge once. */
static int graph_write(eng_ledger_t *ledger, char (*roots)[EV_NAME_LEN_MAX + 1],
                       uint32_t roots_count, const char *query, const edges_t *edges, bool down,
                       bool truncated, bool dot, FILE *out)
{
    if (dot)
        fprintf(out, "digraph trace {\n  rankdir=LR;\n");
    else
        fprintf(out, "{%s, \"direction\": \"%s\", \"truncated\": %s,\n  \"nodes\": [", query,
                down ? "down" : "up", truncated ? "true" : "false");
    for (uint32_t i = 0; i < roots_count; i++)
        node_write(ledger, roots[i], dot, i == 0, out);
    for (uint32_t i = 0; i < edges->count; i++) {
        const char *far = down ? edges->edges[i].to : edges->edges[i].from;
        if (!root_listed(roots, roots_count, far) && !node_listed(edges, i, far, down))
            node_write(ledger, far, dot, roots_count == 0 && i == 0, out);
    }
    if (!dot)
        fprintf(out, "\n  ],\n  \"edges\": [");
    for (uint32_t i = 0, first = 1; i < edges->count; i++) {
        const eng_link_t *edge = &edges->edges[i];
        if (edge_listed(edges, i, edge))
            continue;
        if (dot)
            fprintf(out, "  \"%s\" -> \"%s\" [label=\"%s\"];\n", edge->from, edge->to, edge->kind);
        else
            fprintf(out,
                    "%s\n    {\"from\": \"%s\", \"to\": \"%s\", \"kind\": \"%s\", \"seq\": %" PRIu64
                    ", \"depth\": %" PRIu32 "}",
                    first ? "" : ",", edge->from, edge->to, edge->kind, edge->seq, edge->depth);
        first = 0;
    }
    fprintf(out, dot ? "}\n" : "\n  ]\n}\n");
    return ferror(out) ? FL_EIO : 0;
}

int rpl_trace(eng_ledger_t *ledger, const char *entity, int direction, uint32_t depth_max, bool dot,
              FILE *out)
{
    char roots[1][EV_NAME_LEN_MAX + 1];
    char query[EV_NAME_LEN_MAX + 32];
    if (strlen(entity) > EV_NAME_LEN_MAX)
        return FL_EINVAL;
    snprintf(roots[0], sizeof(roots[0]), "%s", entity);
    snprintf(query, sizeof(query), "\"root\": \"%s\"", entity);
    edges_t edges = {0};
    int rc = eng_genealogy(ledger, entity, direction, depth_max, 0, edge_keep, &edges);
    if (rc == 0)
        rc = edges.error;
    if (rc == 0 || rc == FL_ETOOBIG)
        rc = graph_write(ledger, roots, 1, query, &edges, direction == ENG_FORWARD,
                         rc == FL_ETOOBIG, dot, out);
    free(edges.edges);
    return rc;
}

/* The event types whose units are where a recall from such a source starts. */
static bool seed_type(const char *source, const eng_str_t *type)
{
    static const struct {
        const char *prefix;
        const char *types[3];
    } kinds[] = {
        {"loom-", {"ProductionDeclared"}},
        {"actor:", {"ProductionDeclared", "CuttingDeclared"}},
        {"sub-", {"LotReturnedFromSubcontractor"}},
    };
    for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
        if (strncmp(source, kinds[k].prefix, strlen(kinds[k].prefix)) != 0)
            continue;
        for (size_t t = 0; t < 3 && kinds[k].types[t] != NULL; t++)
            if (type->len == strlen(kinds[k].types[t]) &&
                memcmp(type->ptr, kinds[k].types[t], type->len) == 0)
                return true;
        return false;
    }
    return true; /* any other source: every unit its events name */
}

int rpl_recall(eng_ledger_t *ledger, const char *source, int64_t from_us, int64_t until_us,
               uint32_t depth_max, bool dot, FILE *out, uint32_t *seeds_count)
{
    *seeds_count = 0;
    char(*seeds)[EV_NAME_LEN_MAX + 1] = calloc(RPL_RECALL_SEEDS_MAX, sizeof(*seeds));
    edges_t edges = {0};
    eng_iter_t *iter = NULL;
    bool truncated = false;
    int rc = seeds == NULL ? FL_ENOMEM : eng_iter_entity(ledger, source, 1, ENG_FORWARD, &iter);
    eng_record_t record;
    /* The units the source's events made or named in the window: the recall's seeds. */
    while (rc == 0 && (rc = eng_iter_next(iter, &record)) == 0) {
        if ((from_us != 0 && record.occurred_at_us < from_us) ||
            (until_us != 0 && record.occurred_at_us >= until_us) ||
            !seed_type(source, &record.type))
            continue;
        for (uint32_t i = 0; i < record.entities_count; i++) {
            const eng_str_t *entity = &record.entities[i];
            char name[EV_NAME_LEN_MAX + 1];
            if (entity->len <= 3 || entity->len > EV_NAME_LEN_MAX ||
                memcmp(entity->ptr, "hu-", 3) != 0)
                continue;
            snprintf(name, sizeof(name), "%.*s", (int)entity->len, entity->ptr);
            if (root_listed(seeds, *seeds_count, name))
                continue;
            if (*seeds_count == RPL_RECALL_SEEDS_MAX) {
                truncated = true;
                continue;
            }
            snprintf(seeds[(*seeds_count)++], sizeof(seeds[0]), "%s", name);
        }
    }
    if (iter != NULL)
        eng_iter_close(iter);
    if (rc == FL_EEOF)
        rc = 0;
    for (uint32_t i = 0; rc == 0 && i < *seeds_count; i++) {
        rc = eng_genealogy(ledger, seeds[i], ENG_FORWARD, depth_max, 0, edge_keep, &edges);
        if (rc == FL_ETOOBIG) {
            truncated = true;
            rc = 0;
        }
        if (rc == 0)
            rc = edges.error;
    }
    if (rc == 0) {
        char query[EV_NAME_LEN_MAX + 128];
        snprintf(query, sizeof(query),
                 "\"source\": \"%s\", \"from_us\": %" PRId64 ", \"until_us\": %" PRId64
                 ", \"seeds\": %" PRIu32,
                 source, from_us, until_us, *seeds_count);
        rc = graph_write(ledger, seeds, *seeds_count, query, &edges, true, truncated, dot, out);
    }
    free(edges.edges);
    free(seeds);
    return rc;
}

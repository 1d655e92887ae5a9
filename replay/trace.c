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

int rpl_trace(eng_ledger_t *ledger, const char *entity, int direction, uint32_t depth_max, bool dot,
              FILE *out)
{
    edges_t edges = {0};
    int rc = eng_genealogy(ledger, entity, direction, depth_max, 0, edge_keep, &edges);
    if (rc == 0)
        rc = edges.error;
    if (rc != 0 && rc != FL_ETOOBIG)
        goto done;
    bool truncated = rc == FL_ETOOBIG, down = direction == ENG_FORWARD;
    if (dot)
        fprintf(out, "digraph trace {\n  rankdir=LR;\n");
    else
        fprintf(out, "{\"root\": \"%s\", \"direction\": \"%s\", \"truncated\": %s,\n  \"nodes\": [",
                entity, down ? "down" : "up", truncated ? "true" : "false");
    node_write(ledger, entity, dot, true, out);
    for (uint32_t i = 0; i < edges.count; i++) {
        const char *far = down ? edges.edges[i].to : edges.edges[i].from;
        if (strcmp(far, entity) != 0 && !node_listed(&edges, i, far, down))
            node_write(ledger, far, dot, false, out);
    }
    if (!dot)
        fprintf(out, "\n  ],\n  \"edges\": [");
    for (uint32_t i = 0; i < edges.count; i++) {
        const eng_link_t *edge = &edges.edges[i];
        if (dot)
            fprintf(out, "  \"%s\" -> \"%s\" [label=\"%s\"];\n", edge->from, edge->to, edge->kind);
        else
            fprintf(out,
                    "%s\n    {\"from\": \"%s\", \"to\": \"%s\", \"kind\": \"%s\", \"seq\": %" PRIu64
                    ", \"depth\": %" PRIu32 "}",
                    i == 0 ? "" : ",", edge->from, edge->to, edge->kind, edge->seq, edge->depth);
    }
    fprintf(out, dot ? "}\n" : "\n  ]\n}\n");
    rc = ferror(out) ? FL_EIO : 0;
done:
    free(edges.edges);
    return rc;
}

/*
 * pg_int.h: what the PostgreSQL sink's files share (pg_sink.c: connection, batches, COPY;
 * pg_schema.c: the schema and the mapping of rows to columns; pg_kpi.c: the KPI views and
 * functions). libpq stays inside them.
 */
#ifndef PRJ_PG_INT_H
#define PRJ_PG_INT_H

#include <libpq-fe.h>

#include "projections/projections_int.h"

#define PG_SCHEMA_LEN_MAX   (PRJ_TENANT_LEN_MAX + 16) /* "fouta_<tenant>__shadow" */
#define PG_COLUMNS_MAX      12
#define PG_EVENT_COLUMNS    12
#define PG_COPY_FLUSH_BYTES (256 * 1024) /* COPY data buffered before it is sent */
/* A statement whose work grows with the data: a migration of a schema with rows, a rebuild's
 * indexes and its COPY. */
#define PG_BULK_TIMEOUT_S   1800
#define PG_APPLICATION_NAME "fouta-projector" /* what pg_stat_activity shows */

typedef struct {
    prj_sink_t base;
    PGconn *conn;
    bool ready; /* connected, schema made, statements prepared */
    char schema[PG_SCHEMA_LEN_MAX + 1];
    char shadow[PG_SCHEMA_LEN_MAX + 1];
    char *copy; /* a COPY's buffered lines */
    size_t copy_len, copy_cap;
    char copy_table[64]; /* the shadow's table a COPY is left open on, "" when none */
    /* A connection given up in the middle of an exchange (a timeout, a stop, a break): its
     * backend, which the next connect ends before it reads anything (0: none). */
    int abandoned_pid;
    int lost;         /* why conn was given up (FL_ESINK_DOWN, FL_ECANCELED), 0 while it is not */
    uint32_t wait_ms; /* the timeout of the exchange under way, for its message */
} pg_sink_t;

/* A table the rows of one kind go to: its columns, the first `keys` of them its key. */
typedef struct {
    const char *table;
    const char *columns[PG_COLUMNS_MAX];
    uint32_t columns_count;
    uint32_t keys;
} pg_table_t;

/* One row's or event's values as text (NULL for SQL NULL); numbers are formatted into numbers. */
typedef struct {
    const char *values[PG_COLUMNS_MAX];
    char numbers[PG_COLUMNS_MAX][40];
    uint32_t numbers_used;
} pg_values_t;

const pg_table_t *prj__pg_table(eng_row_kind_t kind);
void prj__pg_row_values(const eng_row_t *row, pg_values_t *values);
extern const char *const prj__pg_event_columns[PG_EVENT_COLUMNS];
void prj__pg_event_values(const prj_batch_t *batch, const prj_event_t *event, pg_values_t *values);

/* The KPI migrations (pg_kpi.c), NULL-terminated lists of statements. */
extern const char *const prj__pg_kpi_v2[];
extern const char *const prj__pg_kpi_v3[];

/* Creates the schema (or migrates it to the latest version), in one transaction. */
int prj__pg_schema_ensure(pg_sink_t *pg, const char *schema, bool defer_indexes);
/* Makes the secondary indexes prj__pg_schema_ensure deferred, those over the events table or
 * those over the state's tables, in one transaction: a rebuild's two connections make one set
 * each, side by side. */
int prj__pg_schema_indexes(pg_sink_t *pg, const char *schema, bool events);

/* 0 when res has the expected status; otherwise the error kept in the sink's error text and
 * FL_ESINK_DOWN (connection, server shutting down, resources, serialization, a lock or a
 * statement timeout: retry), FL_ESINK_REJECTED (the data: integrity, data exception, a raise in
 * a trigger), or FL_ECANCELED (res is NULL because the projector stopped during the wait). */
int prj__pg_result(pg_sink_t *pg, const PGresult *res, ExecStatusType expected);

/* PQexec (count 0: several statements allowed) or PQexecParams, with each wait on the server
 * bounded: by timeout_ms (0: the sink's io_timeout_ms) and the projector's stop. NULL when the
 * connection is lost on the way (it is then closed, and prj__pg_result says why) or absent.
 * The caller clears the result. Like PQexec, the first error is the result, and a COPY's start
 * ends the wait. */
PGresult *prj__pg_exec(pg_sink_t *pg, const char *sql, int count, const char *const *values,
                       uint32_t timeout_ms);

#endif

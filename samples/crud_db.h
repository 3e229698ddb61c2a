/* crud_db.h -- the CRUD API's database: SQLite, inline or on worker threads.
 *
 * Two ways to run a query, chosen at open (--db-mode):
 *
 *  - inline: the query runs in the caller, on the loop thread. Simple, and
 *    the loop stands still for as long as SQLite (and --db-latency-ms)
 *    takes: in the trace a wall across every lane. This is what calling the
 *    sqlite3 module from an asyncio handler does.
 *
 *  - offload: the job goes to a queue served by `workers` pthreads, each
 *    with its own sqlite3 connection; the finished job goes to a done queue
 *    and an ev_async wakes the loop, which calls job->done. The loop keeps
 *    serving meanwhile -- the aiosqlite way.
 *
 * Durability: WAL with synchronous=FULL on every connection, one
 * transaction per write (autocommit), and a job completes only after
 * sqlite3_step has returned, i.e. after the commit reached the disk. So an
 * acknowledged write survives SIGTERM, a crash, a power cut. Concurrent
 * writers serialize on SQLite's lock (busy_timeout 5 s).
 *
 * Records: books {"title": str, "author": str, "year": int} and movies
 * {"title": str, "director": str, "year": int}, each with an integer "id"
 * the database assigns. Other fields in a request body are ignored.
 */
#ifndef EVS_CRUD_DB_H
#define EVS_CRUD_DB_H

#include <ev.h>
#include <jansson.h>
#include <stdint.h>

#include "evtrace.h"

/* A table: two text columns and one integer column, besides id. */
struct crud_table {
    const char *name;        /* "books" */
    const char *text[2];     /* "title", "author" */
    const char *number;      /* "year" */
};

enum crud_op { CRUD_LIST, CRUD_GET, CRUD_CREATE, CRUD_DELETE };

struct crud_job {
    enum crud_op op;
    const struct crud_table *table;
    int64_t id;                       /* GET, DELETE */
    json_t *input;                    /* CREATE: a validated object (the job owns a reference) */
    int status;                       /* result: an HTTP status */
    char *body;                       /* result: JSON text, malloc'd */
    void (*done)(struct crud_job *);  /* called on the loop thread; frees the job */
    void *ctx;
    struct crud_job *next;            /* queue link (internal) */
};

struct crud_db;

/* Opens (creating if needed) the database at path and its tables. Offload:
 * starts `workers` threads. Returns 0 or a negative errno (message printed). */
int crud_db_open(struct crud_db **out, const char *path, int offload, int workers, long latency_ms,
                 const struct crud_table *tables, int n_tables, struct ev_loop *loop, evt_tracer *t);

/* Runs the job (inline: now, calling job->done before returning; offload:
 * later, job->done from the loop). */
void crud_db_submit(struct crud_db *db, struct crud_job *job);

/* Validates a request body against the table: returns 0 and *out (a new
 * object with exactly the table's fields), or -1 and a message for a 400
 * in err. */
int crud_validate(const struct crud_table *table, const char *body, size_t len, json_t **out,
                  char *err, size_t errsize);

/* Joins the workers, closes the connections. Pending jobs are dropped. */
void crud_db_close(struct crud_db *db);

#endif /* EVS_CRUD_DB_H */

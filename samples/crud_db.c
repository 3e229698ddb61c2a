/* crud_db.c -- SQLite access for crud_api, inline or on a worker pool. */
#include "crud_db.h"

#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

struct crud_db {
    int offload;
    long latency_ms;
    sqlite3 *inline_db;             /* inline mode: the loop thread's connection */
    struct ev_loop *loop;
    evt_tracer *tracer;
    ev_async wake;                  /* offload: "jobs are done" */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct crud_job *todo, *todo_tail, *done, *done_tail;
    int quit;
    int n_workers;
    int wake_started;
    int pool_size;
    pthread_t *threads;
    sqlite3 **conns;                /* one per worker */
};

/* ---- SQL ------------------------------------------------------------------- */

static int db_fail(struct crud_job *job, sqlite3 *db)
{
    json_t *j = json_pack("{s:s}", "error", sqlite3_errmsg(db));
    job->status = 500;
    job->body = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    return -1;
}

static json_t *row_json(const struct crud_table *t, sqlite3_stmt *st)
{
    return json_pack("{s:I,s:s,s:s,s:I}", "id", (json_int_t)sqlite3_column_int64(st, 0),
                     t->text[0], (const char *)sqlite3_column_text(st, 1),
                     t->text[1], (const char *)sqlite3_column_text(st, 2),
                     t->number, (json_int_t)sqlite3_column_int64(st, 3));
}

/* LIST (all rows) or GET (one, by id). */
static int op_select(sqlite3 *db, struct crud_job *job)
{
    const struct crud_table *t = job->table;
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT id, %s, %s, %s FROM %s %s ORDER BY id", t->text[0], t->text[1],
             t->number, t->name, job->op == CRUD_GET ? "WHERE id = ?1" : "");
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return db_fail(job, db);
    sqlite3_bind_int64(st, 1, job->id);
    json_t *rows = json_array();
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(rows, row_json(t, st));
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        json_decref(rows);
        return db_fail(job, db);
    }
    json_t *result = job->op == CRUD_LIST ? rows : json_array_get(rows, 0);
    if (!result)
        result = json_pack("{s:s}", "error", "not found");
    else
        json_incref(result);
    job->status = job->op == CRUD_GET && json_array_size(rows) == 0 ? 404 : 200;
    job->body = json_dumps(result, JSON_COMPACT);
    json_decref(result);
    json_decref(rows);
    return 0;
}

static int op_create(sqlite3 *db, struct crud_job *job)
{
    const struct crud_table *t = job->table;
    char sql[256];
    snprintf(sql, sizeof sql, "INSERT INTO %s (%s, %s, %s) VALUES (?1, ?2, ?3)", t->name, t->text[0],
             t->text[1], t->number);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return db_fail(job, db);
    for (int i = 0; i < 2; i++)
        sqlite3_bind_text(st, i + 1, json_string_value(json_object_get(job->input, t->text[i])), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, json_integer_value(json_object_get(job->input, t->number)));
    int rc = sqlite3_step(st);   /* autocommit: returns after the commit is durable */
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return db_fail(job, db);
    json_t *out = json_pack("{s:I}", "id", (json_int_t)sqlite3_last_insert_rowid(db));
    json_object_update(out, job->input);
    job->status = 201;
    job->body = json_dumps(out, JSON_COMPACT);
    json_decref(out);
    return 0;
}

static int op_delete(sqlite3 *db, struct crud_job *job)
{
    char sql[128];
    snprintf(sql, sizeof sql, "DELETE FROM %s WHERE id = ?1", job->table->name);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return db_fail(job, db);
    sqlite3_bind_int64(st, 1, job->id);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return db_fail(job, db);
    int found = sqlite3_changes(db) > 0;
    json_t *out = found ? json_pack("{s:I}", "deleted", (json_int_t)job->id) : json_pack("{s:s}", "error", "not found");
    job->status = found ? 200 : 404;
    job->body = json_dumps(out, JSON_COMPACT);
    json_decref(out);
    return 0;
}

/* One database call: the synthetic latency first (a real blocking sleep,
 * like a slow disk or a remote database), then the SQL. */
static void job_run(sqlite3 *db, long latency_ms, struct crud_job *job)
{
    if (latency_ms > 0)
        evs_sleep_ms(latency_ms);
    switch (job->op) {
    case CRUD_LIST:
    case CRUD_GET: op_select(db, job); break;
    case CRUD_CREATE: op_create(db, job); break;
    case CRUD_DELETE: op_delete(db, job); break;
    }
    if (!job->body)   /* json_dumps failed: out of memory */
        job->status = 500;
}

int crud_validate(const struct crud_table *t, const char *body, size_t len, json_t **out, char *err, size_t errsize)
{
    json_error_t je;
    json_t *in = json_loadb(body, len, 0, &je);
    *out = NULL;
    if (!in) {
        snprintf(err, errsize, "invalid JSON: %s", je.text);
        return -1;
    }
    if (!json_is_object(in)) {
        snprintf(err, errsize, "the body must be a JSON object");
        json_decref(in);
        return -1;
    }
    json_t *obj = json_object();
    for (int i = 0; i < 3 && obj; i++) {
        const char *field = i < 2 ? t->text[i] : t->number;
        json_t *v = json_object_get(in, field);
        if (i < 2 ? !json_is_string(v) : !json_is_integer(v)) {
            snprintf(err, errsize, "missing or not a%s: '%s'", i < 2 ? " string" : "n integer", field);
            json_decref(obj);
            obj = NULL;
        } else {
            json_object_set(obj, field, v);
        }
    }
    json_decref(in);
    *out = obj;
    return obj ? 0 : -1;
}

/* ---- connections ------------------------------------------------------------ */

static int db_exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fprintf(stderr, "%s: sqlite: %s: %s\n", program_invocation_short_name, sql, msg ? msg : "?");
        sqlite3_free(msg);
        return -EIO;
    }
    return 0;
}

static int db_connect(const char *path, sqlite3 **out)
{
    *out = NULL;
    if (sqlite3_open_v2(path, out, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        fprintf(stderr, "%s: --db %s: %s\n", program_invocation_short_name, path,
                *out ? sqlite3_errmsg(*out) : "out of memory");
        sqlite3_close(*out);
        *out = NULL;
        return -EIO;
    }
    sqlite3_busy_timeout(*out, 5000);
    if (db_exec(*out, "PRAGMA journal_mode=WAL") < 0 || db_exec(*out, "PRAGMA synchronous=FULL") < 0) {
        sqlite3_close(*out);
        *out = NULL;
        return -EIO;
    }
    return 0;
}

static int db_schema(sqlite3 *db, const struct crud_table *tables, int n)
{
    for (int i = 0; i < n; i++) {
        char sql[256];
        const struct crud_table *t = &tables[i];
        snprintf(sql, sizeof sql,
                 "CREATE TABLE IF NOT EXISTS %s (id INTEGER PRIMARY KEY AUTOINCREMENT, "
                 "%s TEXT NOT NULL, %s TEXT NOT NULL, %s INTEGER NOT NULL)",
                 t->name, t->text[0], t->text[1], t->number);
        if (db_exec(db, sql) < 0)
            return -EIO;
    }
    return 0;
}

/* ---- the worker pool --------------------------------------------------------- */

struct worker_arg {
    struct crud_db *db;
    int index;
};

static void queue_push(struct crud_job **head, struct crud_job **tail, struct crud_job *job)
{
    job->next = NULL;
    if (*tail)
        (*tail)->next = job;
    else
        *head = job;
    *tail = job;
}

static void *worker_main(void *p)
{
    struct worker_arg *arg = p;
    struct crud_db *db = arg->db;
    sqlite3 *conn = db->conns[arg->index];
    char name[32];
    snprintf(name, sizeof name, "db worker %d", arg->index);
    free(arg);
    evt_thread_name(db->tracer, name);
    pthread_mutex_lock(&db->mu);
    for (;;) {
        while (!db->todo && !db->quit)
            pthread_cond_wait(&db->cv, &db->mu);
        if (db->quit)
            break;
        struct crud_job *job = db->todo;
        db->todo = job->next;
        if (!db->todo)
            db->todo_tail = NULL;
        pthread_mutex_unlock(&db->mu);
        job_run(conn, db->latency_ms, job);
        pthread_mutex_lock(&db->mu);
        queue_push(&db->done, &db->done_tail, job);
        ev_async_send(db->loop, &db->wake);
    }
    pthread_mutex_unlock(&db->mu);
    return NULL;
}

/* On the loop thread: hand every finished job back to its requester. */
static void wake_cb(struct ev_loop *loop, ev_async *w, int revents)
{
    struct crud_db *db = w->data;
    pthread_mutex_lock(&db->mu);
    struct crud_job *job = db->done;
    db->done = db->done_tail = NULL;
    pthread_mutex_unlock(&db->mu);
    while (job) {
        struct crud_job *next = job->next;
        job->done(job);
        job = next;
    }
}

void crud_db_submit(struct crud_db *db, struct crud_job *job)
{
    if (!db->offload) {
        job_run(db->inline_db, db->latency_ms, job);
        job->done(job);
        return;
    }
    pthread_mutex_lock(&db->mu);
    queue_push(&db->todo, &db->todo_tail, job);
    pthread_cond_signal(&db->cv);
    pthread_mutex_unlock(&db->mu);
}

static int pool_start(struct crud_db *db, const char *path, int workers)
{
    db->threads = calloc((size_t)workers, sizeof *db->threads);
    db->conns = calloc((size_t)workers, sizeof *db->conns);
    if (!db->threads || !db->conns)
        return -ENOMEM;
    db->pool_size = workers;
    for (int i = 0; i < workers; i++) {
        if (db_connect(path, &db->conns[i]) < 0)
            return -EIO;
        struct worker_arg *arg = malloc(sizeof *arg);
        if (!arg)
            return -ENOMEM;
        *arg = (struct worker_arg){db, i};
        if (pthread_create(&db->threads[i], NULL, worker_main, arg) != 0) {
            free(arg);
            sqlite3_close(db->conns[i]);
            db->conns[i] = NULL;
            return -EAGAIN;
        }
        db->n_workers++;
    }
    ev_async_init(&db->wake, wake_cb);
    db->wake.data = db;
    evt_watch_async(db->tracer, db->loop, &db->wake, "db done");
    ev_async_start(db->loop, &db->wake);
    db->wake_started = 1;
    return 0;
}

int crud_db_open(struct crud_db **out, const char *path, int offload, int workers, long latency_ms,
                 const struct crud_table *tables, int n_tables, struct ev_loop *loop, evt_tracer *t)
{
    struct crud_db *db = calloc(1, sizeof *db);
    if (!db)
        return -ENOMEM;
    *db = (struct crud_db){.offload = offload, .latency_ms = latency_ms, .loop = loop, .tracer = t};
    pthread_mutex_init(&db->mu, NULL);
    pthread_cond_init(&db->cv, NULL);
    int rc = db_connect(path, &db->inline_db);
    if (rc == 0)
        rc = db_schema(db->inline_db, tables, n_tables);
    if (rc == 0 && offload)
        rc = pool_start(db, path, workers);
    if (rc < 0) {
        crud_db_close(db);
        return rc;
    }
    *out = db;
    return 0;
}

static void jobs_drop(struct crud_job *job)
{
    while (job) {
        struct crud_job *next = job->next;
        json_decref(job->input);
        free(job->body);
        free(job);
        job = next;
    }
}

void crud_db_close(struct crud_db *db)
{
    if (!db)
        return;
    pthread_mutex_lock(&db->mu);
    db->quit = 1;
    pthread_cond_broadcast(&db->cv);
    pthread_mutex_unlock(&db->mu);
    for (int i = 0; i < db->n_workers; i++)
        pthread_join(db->threads[i], NULL);
    if (db->wake_started)
        ev_async_stop(db->loop, &db->wake);
    for (int i = 0; db->conns && i <= db->n_workers && i < db->pool_size; i++)
        sqlite3_close(db->conns[i]);   /* [n_workers] may hold a connection whose thread failed */
    sqlite3_close(db->inline_db);
    jobs_drop(db->todo);
    jobs_drop(db->done);
    pthread_mutex_destroy(&db->mu);
    pthread_cond_destroy(&db->cv);
    free(db->threads);
    free(db->conns);
    free(db);
}

/* crud_api -- a JSON API over SQLite: books and movies.
 *
 *   GET    /books          all books, by id           200 [{...}, ...]
 *   POST   /books          {"title","author","year"}  201 {"id":N, ...}
 *   GET    /books/{id}                                200 {...} | 404
 *   DELETE /books/{id}                                200 {"deleted":N} | 404
 *   ... and the same for /movies with {"title","director","year"}.
 *
 * Bad JSON or a missing/mistyped field: 400 {"error": "..."}. Options:
 * --db PATH (default crud.db), --db-mode inline|offload (default offload),
 * --workers N (offload threads, default 4), --db-latency-ms N (a blocking
 * sleep added to every database call, so the difference between the modes
 * shows), plus the common --port --bind --trace --idle-timeout-ms.
 *
 * The request's "process" phase covers validation and the database call; in
 * offload mode it spans the hand-off to a worker and back (crud_db.h).
 */
#include <http_parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crud_db.h"
#include "evt_reader.h"
#include "http.h"

static const struct crud_table tables[] = {
    {"books", {"title", "author"}, "year"},
    {"movies", {"title", "director"}, "year"},
};
#define N_TABLES ((int)(sizeof tables / sizeof tables[0]))

struct crud_options {
    const char *db_path;
    int offload;
    int workers;
    long latency_ms;
};

/* What a route does: an operation on a table. */
struct crud_route {
    struct crud_db **db;
    const struct crud_table *table;
    enum crud_op op;
};

static void job_done(struct crud_job *job)
{
    evs_respond(job->ctx, job->status, "application/json", job->body, strlen(job->body ? job->body : ""));
    json_decref(job->input);
    free(job->body);
    free(job);
}

static void crud_handler(struct evs_conn *c, const struct evs_request *req, void *ctx)
{
    const struct crud_route *r = ctx;
    json_t *input = NULL;
    char err[200];
    if (r->op == CRUD_CREATE && crud_validate(r->table, req->body, req->body_len, &input, err, sizeof err) < 0) {
        evs_respond_error(c, 400, err);
        return;
    }
    struct crud_job *job = calloc(1, sizeof *job);
    if (!job) {
        json_decref(input);
        evs_respond_error(c, 503, "out of memory");
        return;
    }
    *job = (struct crud_job){.op = r->op, .table = r->table, .id = req->id, .input = input,
                             .done = job_done, .ctx = c};
    crud_db_submit(*r->db, job);
}

static void usage(void)
{
    printf("usage: crud_api [--port N] [--bind ADDR] [--trace FILE] [--idle-timeout-ms N]\n"
           "                [--db PATH] [--db-mode inline|offload] [--workers N] [--db-latency-ms N]\n");
}

static void parse_options(int argc, char **argv, struct evs_common *common, struct crud_options *o)
{
    enum { OPT_DB = EVS_OPT_APP, OPT_MODE, OPT_WORKERS, OPT_LATENCY, OPT_HELP };
    static const struct option table[] = {
        EVS_COMMON_OPTIONS,
        {"db", required_argument, NULL, OPT_DB}, {"db-mode", required_argument, NULL, OPT_MODE},
        {"workers", required_argument, NULL, OPT_WORKERS}, {"db-latency-ms", required_argument, NULL, OPT_LATENCY},
        {"help", no_argument, NULL, OPT_HELP}, {NULL, 0, NULL, 0},
    };
    int opt;
    while ((opt = getopt_long(argc, argv, "", table, NULL)) != -1) {
        if (evs_common_option(common, opt, optarg))
            continue;
        switch (opt) {
        case OPT_DB: o->db_path = optarg; break;
        case OPT_MODE:
            if (strcmp(optarg, "inline") != 0 && strcmp(optarg, "offload") != 0)
                evs_usage_error("--db-mode: expected inline or offload, got '%s'", optarg);
            o->offload = strcmp(optarg, "offload") == 0;
            break;
        case OPT_WORKERS: o->workers = (int)evs_parse_long("--workers", optarg, 1, 256); break;
        case OPT_LATENCY: o->latency_ms = evs_parse_long("--db-latency-ms", optarg, 0, 60000); break;
        case OPT_HELP: usage(); exit(0);
        default: exit(2);
        }
    }
    if (optind < argc)
        evs_usage_error("unexpected argument '%s'", argv[optind]);
    /* A new trace replaces its file: the database would be gone. */
    if (common->trace && (strcmp(common->trace, o->db_path) == 0 || evt_same_file(common->trace, o->db_path)))
        evs_usage_error("--trace %s is the database (--db): tracing would replace it", common->trace);
}

#define N_ROUTES (4 * N_TABLES)

struct crud_app {
    struct crud_db *db;
    struct crud_route handlers[N_ROUTES];
    struct evs_route routes[N_ROUTES];
    char patterns[N_ROUTES][32];
};

/* Four routes per table: list, create, get, delete. */
static void build_routes(struct crud_app *app)
{
    static const struct { int method; const char *suffix; enum crud_op op; } kinds[] = {
        {HTTP_GET, "", CRUD_LIST}, {HTTP_POST, "", CRUD_CREATE},
        {HTTP_GET, "/{id}", CRUD_GET}, {HTTP_DELETE, "/{id}", CRUD_DELETE},
    };
    for (int n = 0; n < N_ROUTES; n++) {
        const struct crud_table *t = &tables[n / 4];
        snprintf(app->patterns[n], sizeof app->patterns[n], "/%s%s", t->name, kinds[n % 4].suffix);
        app->handlers[n] = (struct crud_route){&app->db, t, kinds[n % 4].op};
        app->routes[n] = (struct evs_route){kinds[n % 4].method, app->patterns[n], crud_handler, &app->handlers[n]};
    }
}

int main(int argc, char **argv)
{
    struct crud_options o = {.db_path = "crud.db", .offload = 1, .workers = 4};
    struct evs_server_config cfg = {.process_name = "crud_api", .max_body_bytes = 64 * 1024};
    evs_common_defaults(&cfg.common);
    parse_options(argc, argv, &cfg.common, &o);
    struct crud_app app = {0};
    build_routes(&app);
    cfg.routes = app.routes;
    cfg.n_routes = N_ROUTES;
    struct evs_server server;
    if (evs_server_init(&server, EV_DEFAULT, &cfg) < 0)
        return 1;
    if (crud_db_open(&app.db, o.db_path, o.offload, o.workers, o.latency_ms, tables, N_TABLES,
                     server.loop, server.tracer) < 0) {
        evs_server_finish(&server);
        return 1;
    }
    evs_server_run(&server);
    crud_db_close(app.db);
    evs_server_finish(&server);
    return 0;
}

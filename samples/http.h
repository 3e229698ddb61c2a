/* http.h -- the HTTP/1.1 server plumbing every sample server shares.
 *
 * One listening socket, connections parsed by http_parser, a route table,
 * keep-alive, idle timeouts, limits, error responses, a clean shutdown on
 * SIGINT/SIGTERM, and the evtrace instrumentation of all of it: every
 * watcher is named, the loop is attached, and every request is a request
 * span with the phases "accept", "read", "process", "respond", "close".
 *
 * Two ways to run a connection, chosen by evs_server_config.blocking:
 *
 *  - async (blocking = 0): the accept callback only accepts; each connection
 *    gets a non-blocking fd, an io watcher and an idle timer, and the loop
 *    interleaves all of them. A handler may answer at once or later (from
 *    the connection's timer, evs_conn_after; from an ev_async woken by a
 *    worker thread): it calls evs_respond() exactly once, whenever it likes.
 *
 *  - blocking (blocking = 1, sync_server): the accept callback takes one
 *    connection and serves it to the end with blocking recv/send, so the
 *    loop does nothing else meanwhile -- the point of the lesson. The handler
 *    must call evs_respond() before it returns. Responses say
 *    "Connection: close": one request per connection keeps it simple.
 *
 * The request span: the route is only known once the request line has been
 * parsed, and a span's name is fixed at evt_request_begin, so a request
 * begins when its request line is complete (in practice: with its first
 * bytes). The first request of a connection starts in phase "accept" (the
 * connection's first bytes), later ones in "read"; "read" follows while the
 * rest of the request arrives, "process" covers the handler (the delay, the
 * database call), "respond" the write, "close" the close when the
 * connection ends with the request. Unknown routes and wrong methods are
 * named "other". Bytes that never make a request line (garbage, a request
 * line cut short by the timeout) get a span named "bad request" at the
 * moment they are answered; a connection that sends nothing gets no span.
 * A request its client abandons (EOF, reset) ends with status 0.
 * The counter "open connections" follows the number of connections.
 * Limits: the time between accept and the first byte is not a phase (the
 * accept callback is visible as a watcher callback named "accept").
 *
 * Bad input never stops the server: garbage gets 400, a header block larger
 * than max_header_bytes 431, a URL longer than EVS_MAX_URL 414, a body
 * larger than max_body_bytes 413, an unknown path 404, a known path with
 * another method 405 (error bodies are JSON: {"error": "..."}). After a
 * 4xx caused by unparsable input the connection is closed; after a 404/405
 * on a well-formed request it stays open. Limit: the close after an error
 * is a plain close(), not a "lingering" one; if the client is still sending
 * (a huge header block beyond what was read), the kernel may answer with a
 * reset that destroys the error response before the client reads it.
 */
#ifndef EVS_HTTP_H
#define EVS_HTTP_H

#include <ev.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "evtrace.h"

#define EVS_MAX_URL 2048
#define EVS_IN_BUF 16384

struct evs_conn;   /* opaque: one client connection */

/* What a handler gets. Valid until it calls evs_respond. */
struct evs_request {
    int method;               /* enum http_method */
    const char *path;         /* NUL-terminated, query string removed */
    const char *body;         /* NUL-terminated copy (may contain NULs) */
    size_t body_len;
    int64_t id;               /* the {id} of a ".../{id}" route, else -1 */
    uint64_t span;            /* the evtrace request id of this request */
};

typedef void (*evs_handler_fn)(struct evs_conn *c, const struct evs_request *req, void *ctx);

/* A route: method + pattern. A pattern is an exact path ("/books") or a
 * prefix followed by "{id}" ("/books/{id}"), which matches a positive
 * decimal integer. The span name is "METHOD pattern", interned at init. */
struct evs_route {
    int method;               /* HTTP_GET, HTTP_POST, ... */
    const char *pattern;
    evs_handler_fn handler;
    void *ctx;
};

struct evs_server_config {
    struct evs_common common;     /* --port --bind --trace --idle-timeout-ms */
    const char *process_name;     /* the trace's process name */
    int blocking;                 /* 1: serve each connection inside accept */
    size_t max_header_bytes;      /* 0 = 8192 */
    size_t max_body_bytes;        /* 0 = 1 MiB */
    const struct evs_route *routes;
    size_t n_routes;
};

/* Interned names (ids from evt_intern; all 0 when untraced). */
struct evs_names {
    uint32_t accept, read, process, respond, close;   /* phases */
    uint32_t other, bad;                               /* generic span names */
    uint32_t conns;                                    /* counter "open connections" */
    uint32_t conn_io, conn_idle, delay;                /* per-connection watchers */
};

struct evs_server {
    struct ev_loop *loop;
    evt_tracer *tracer;           /* NULL when untraced */
    struct evs_server_config cfg;
    int listen_fd;
    int port;                     /* the bound port (useful with --port 0) */
    ev_io accept_w;
    ev_signal sigint_w, sigterm_w;
    struct evs_conn *conns;       /* all open connections (a list) */
    size_t n_conns;
    int stopping;
    uint64_t next_span;
    uint32_t *route_names;        /* per route, the interned "GET /x" */
    struct evs_names names;
};

/* Opens the tracer (cfg->common.trace), attaches the loop, raises the fd
 * limit, listens, names and starts the accept and signal watchers. Returns
 * 0 or -errno (message printed). */
int evs_server_init(struct evs_server *s, struct ev_loop *loop, const struct evs_server_config *cfg);

/* Prints "listening on ADDR:PORT" (once the program's own set-up, such as
 * opening a database, has succeeded: tests and scripts wait for this line)
 * and runs the loop until a signal stopped the server and every connection
 * has finished or been closed. */
void evs_server_run(struct evs_server *s);

/* Stops accepting; idle connections close now, busy ones after their
 * response (without keep-alive). Called by the signal watchers. */
void evs_server_stop(struct evs_server *s);

/* Closes what is left and the tracer (evt_close flushes the trace). Call
 * after any worker threads that record events have been joined. */
void evs_server_finish(struct evs_server *s);

/* Answers the current request of c (once per request). body is copied. */
void evs_respond(struct evs_conn *c, int status, const char *content_type, const char *body, size_t len);

/* A JSON error response {"error": message}. */
void evs_respond_error(struct evs_conn *c, int status, const char *message);

/* Calls fn(c, ctx) from the loop `after` seconds from now: for a handler
 * that answers later (async_server's --delay-ms) without a timer of its own.
 *
 * Why the connection owns the timer: a timer per request means a malloc, an
 * evt_watch_id (the tracer's wrap table lock, a watcher definition through
 * the ring) and an evt_unwatch (the lock again) on every request: about a
 * third of the instructions tracing added to each of async_server's
 * requests (callgrind, --delay-ms 0: 2090 per request, 1360 without).
 * Each connection has one ev_timer instead, named "delay" in the trace; it
 * is initialised and watched at its first use on the connection and
 * unwatched when the connection closes, so a request that waits costs only
 * its callback's two events. The trace still shows each wait as a callback
 * of a timer watcher; one "delay" watcher per connection, not per request.
 *
 * One wait per connection at a time (HTTP/1.1 handles one request at a
 * time anyway): calling it again before fn ran restarts the timer with the
 * new fn and ctx. Closing the connection stops it. Async mode only: in the
 * blocking mode the handler must answer before it returns, so this returns
 * -EINVAL and does nothing. */
typedef void (*evs_after_fn)(struct evs_conn *c, void *ctx);
int evs_conn_after(struct evs_conn *c, double after, evs_after_fn fn, void *ctx);

struct evs_server *evs_conn_server(const struct evs_conn *c);

/* The reason phrase of an HTTP status ("Not Found"). */
const char *evs_status_text(int status);

#endif /* EVS_HTTP_H */

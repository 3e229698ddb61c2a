/* http.c -- HTTP/1.1 server plumbing shared by the sample servers.
 *
 * A connection is a small state machine:
 *
 *   READING ──message complete──► PROCESSING ──evs_respond──► WRITING
 *      ▲                                                        │
 *      └──────────── keep-alive ◄── response written ──► close ─┘
 *
 * In the async mode the io watcher watches EV_READ while READING, nothing
 * while PROCESSING (a pipelined next request waits in the socket or in the
 * input buffer: one request at a time per connection, as HTTP/1.1 wants)
 * and EV_WRITE while a response does not fit the socket buffer. The idle
 * timer runs while READING and WRITING, so a silent client, a half-sent
 * request and a client that stops reading are all dropped after
 * --idle-timeout-ms; it is stopped while PROCESSING: a slow handler is the
 * server's business, not the client's. It restarts when a connection
 * opens, when a request's first byte arrives (not on every byte: a request
 * trickled in a byte at a time must still be complete in time), when the
 * response starts and when the connection waits for its next request. The
 * limit of that choice: a large body on a slow link must also arrive
 * within the timeout.
 *
 * Ownership: a function that may close a connection (conn_close frees it in
 * the async mode) is always the last thing its caller does with it; every
 * path below respects that, which is why several functions end in a tail
 * call and return nothing. In the blocking mode the serving loop holds the
 * connection (held = 1), conn_close only marks it closed and the loop frees
 * it when it leaves.
 *
 * http_parser delivers the URL, headers and body as pointers into the read
 * buffer; the URL and body are copied because the buffer is reused. Headers
 * are only counted (for the 431 limit): the servers need none of them
 * except Connection, which http_should_keep_alive reads from the parser.
 */
#include "http.h"

#include <errno.h>
#include <http_parser.h>
#include <jansson.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

enum conn_state { ST_READING, ST_PROCESSING, ST_WRITING, ST_CLOSED };

struct evs_conn {
    struct evs_server *s;
    struct evs_conn *prev, *next;   /* s->conns list */
    int fd;
    enum conn_state state;
    int held;                       /* blocking mode: the serving loop frees it */
    ev_io io;
    ev_timer idle;
    ev_timer after;                 /* evs_conn_after's timer, watched at first use */
    int after_watched;
    evs_after_fn after_fn;
    void *after_ctx;
    http_parser parser;
    size_t in_off, in_len;          /* unparsed bytes: in[in_off, in_len) */
    char url[EVS_MAX_URL + 1];
    size_t url_len;
    size_t header_bytes;
    char *body;
    size_t body_len, body_cap;
    int msg_started, msg_complete;
    int err_status;                 /* a limit hit inside a parser callback */
    int force_close;
    int keep_alive;
    int status;                     /* of the current response */
    int begun;                      /* the current request's span is open */
    uint64_t span;
    uint32_t phase;
    unsigned requests;              /* requests answered on this connection */
    int route;                      /* index into cfg.routes, or -1 */
    int path_known;                 /* route == -1 but the path exists (405) */
    int64_t route_id;
    char *out;
    size_t out_len, out_off;
    char in[EVS_IN_BUF];
};

static void conn_close(struct evs_conn *c);
static void conn_parse(struct evs_conn *c);

struct evs_server *evs_conn_server(const struct evs_conn *c) { return c->s; }

/* ---- request spans --------------------------------------------------- */

static void conn_phase(struct evs_conn *c, uint32_t phase)
{
    if (c->begun && c->phase != phase) {
        c->phase = phase;
        evt_request_phase(c->s->tracer, c->span, phase);
    }
}

static void span_begin(struct evs_conn *c, uint32_t name)
{
    struct evs_server *s = c->s;
    c->begun = 1;
    c->span = ++s->next_span;
    c->phase = 0;
    evt_request_begin(s->tracer, c->span, name);
    conn_phase(c, c->requests == 0 ? s->names.accept : s->names.read);
}

/* ---- routing ------------------------------------------------------------ */

/* "/books" matches itself; "/books/{id}" matches "/books/" + a positive
 * decimal integer without leading zeros that fits an int64. */
static int pattern_match(const char *pattern, const char *path, int64_t *id)
{
    const char *brace = strstr(pattern, "{id}");
    if (!brace)
        return strcmp(pattern, path) == 0;
    size_t plen = (size_t)(brace - pattern);
    if (strncmp(pattern, path, plen) != 0)
        return 0;
    const char *d = path + plen;
    if (*d < '1' || *d > '9' || strlen(d) > 18)
        return 0;
    int64_t v = 0;
    for (; *d; d++) {
        if (*d < '0' || *d > '9')
            return 0;
        v = v * 10 + (*d - '0');
    }
    *id = v;
    return 1;
}

static void conn_route(struct evs_conn *c)
{
    const struct evs_server_config *cfg = &c->s->cfg;
    c->url[strcspn(c->url, "?#")] = '\0';
    c->route = -1;
    c->path_known = 0;
    c->route_id = -1;
    for (size_t i = 0; i < cfg->n_routes; i++) {
        int64_t id = -1;
        if (!pattern_match(cfg->routes[i].pattern, c->url, &id))
            continue;
        c->path_known = 1;
        if (cfg->routes[i].method == (int)c->parser.method) {
            c->route = (int)i;
            c->route_id = id;
            return;
        }
    }
}

/* The request line is complete: route it and open its span. */
static void conn_begin(struct evs_conn *c)
{
    if (c->begun)
        return;
    conn_route(c);
    span_begin(c, c->route >= 0 ? c->s->route_names[c->route] : c->s->names.other);
}

/* ---- parser callbacks ---------------------------------------------------- */

/* A request's first byte starts its deadline: the whole request must
 * arrive within the idle timeout, however slowly it trickles in. */
static int on_message_begin(http_parser *p)
{
    struct evs_conn *c = p->data;
    c->msg_started = 1;
    if (!c->s->cfg.blocking)
        ev_timer_again(c->s->loop, &c->idle);
    c->url_len = 0;
    c->url[0] = '\0';
    c->header_bytes = 0;
    c->body_len = 0;
    return 0;
}

static int count_header(struct evs_conn *c, size_t len)
{
    c->header_bytes += len;
    if (c->header_bytes > c->s->cfg.max_header_bytes) {
        c->err_status = 431;
        return -1;
    }
    return 0;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
    struct evs_conn *c = p->data;
    if (c->url_len + len > EVS_MAX_URL) {
        c->err_status = 414;
        return -1;
    }
    memcpy(c->url + c->url_len, at, len);
    c->url_len += len;
    c->url[c->url_len] = '\0';
    return count_header(c, len);
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
    struct evs_conn *c = p->data;
    conn_begin(c);
    return count_header(c, len);
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
    return count_header(p->data, len);
}

static int on_headers_complete(http_parser *p)
{
    struct evs_conn *c = p->data;
    conn_begin(c);
    if (p->content_length != ULLONG_MAX && p->content_length > c->s->cfg.max_body_bytes) {
        c->err_status = 413;
        return -1;
    }
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
    struct evs_conn *c = p->data;
    if (c->body_len + len > c->s->cfg.max_body_bytes) {
        c->err_status = 413;
        return -1;
    }
    if (c->body_len + len + 1 > c->body_cap) {
        size_t cap = c->body_cap ? c->body_cap : 1024;
        while (cap < c->body_len + len + 1)
            cap *= 2;
        char *nb = realloc(c->body, cap);
        if (!nb) {
            c->err_status = 413;
            return -1;
        }
        c->body = nb;
        c->body_cap = cap;
    }
    memcpy(c->body + c->body_len, at, len);
    c->body_len += len;
    return 0;
}

/* Pausing makes http_parser_execute return right after this message, so
 * the next pipelined request stays unparsed until this one is answered. */
static int on_message_complete(http_parser *p)
{
    struct evs_conn *c = p->data;
    c->msg_complete = 1;
    http_parser_pause(p, 1);
    return 0;
}

static const http_parser_settings parser_settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

/* ---- responses ------------------------------------------------------------ */

const char *evs_status_text(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Unknown";
    }
}

static void conn_watch(struct evs_conn *c, int events)
{
    if (c->s->cfg.blocking)
        return;
    ev_io_stop(c->s->loop, &c->io);
    if (events) {
        ev_io_set(&c->io, c->fd, events);
        ev_io_start(c->s->loop, &c->io);
    }
}

static void conn_reset_request(struct evs_conn *c)
{
    free(c->out);
    c->out = NULL;
    c->out_len = c->out_off = 0;
    c->begun = 0;
    c->msg_started = c->msg_complete = 0;
    c->err_status = 0;
    c->status = 0;
    c->requests++;
}

/* The response is out: keep the connection for the next request, or close. */
static void conn_done(struct evs_conn *c)
{
    struct evs_server *s = c->s;
    if (!c->keep_alive || s->stopping) {
        conn_phase(c, s->names.close);
        conn_close(c);
        return;
    }
    evt_request_end(s->tracer, c->span, (uint32_t)c->status);
    conn_reset_request(c);
    c->state = ST_READING;
    http_parser_pause(&c->parser, 0);
    conn_watch(c, EV_READ);
    ev_timer_again(s->loop, &c->idle);
    if (c->in_off < c->in_len)   /* a pipelined request is waiting */
        ev_feed_event(s->loop, &c->io, EV_READ);
}

static void conn_write(struct evs_conn *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (n > 0) {
            c->out_off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && !c->s->cfg.blocking) {
            conn_watch(c, EV_WRITE);
            return;
        }
        conn_close(c);   /* peer gone, or the blocking send timed out */
        return;
    }
    conn_done(c);
}

void evs_respond(struct evs_conn *c, int status, const char *content_type, const char *body, size_t len)
{
    struct evs_server *s = c->s;
    char head[512];
    c->status = status;
    c->keep_alive = !s->cfg.blocking && !s->stopping && !c->force_close &&
                    http_should_keep_alive(&c->parser);
    int hlen = snprintf(head, sizeof head,
                        "HTTP/1.1 %d %s\r\nServer: evtrace-sample\r\nContent-Type: %s\r\n"
                        "Content-Length: %zu\r\nConnection: %s\r\n\r\n",
                        status, evs_status_text(status), content_type, len,
                        c->keep_alive ? "keep-alive" : "close");
    c->out = malloc((size_t)hlen + len);
    if (!c->out) {
        conn_close(c);
        return;
    }
    memcpy(c->out, head, (size_t)hlen);
    if (len)
        memcpy(c->out + hlen, body, len);
    c->out_len = (size_t)hlen + len;
    c->out_off = 0;
    c->state = ST_WRITING;
    conn_phase(c, s->names.respond);
    if (!s->cfg.blocking)
        ev_timer_again(s->loop, &c->idle);
    conn_write(c);
}

void evs_respond_error(struct evs_conn *c, int status, const char *message)
{
    json_t *j = json_pack("{s:s}", "error", message);
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    if (text)
        evs_respond(c, status, "application/json", text, strlen(text));
    else
        evs_respond(c, status, "application/json", "{}", 2);
    free(text);
    json_decref(j);
}

/* ---- the request cycle ----------------------------------------------------- */

static const char *error_message(int status)
{
    switch (status) {
    case 404: return "no such route";
    case 405: return "method not allowed";
    case 408: return "request timed out";
    case 413: return "request body too large";
    case 414: return "request URI too long";
    case 431: return "request header fields too large";
    default: return "malformed HTTP request";
    }
}

/* Answers bad input and closes afterwards: what follows the bad bytes on
 * this connection cannot be trusted to start a request. */
static void conn_fail(struct evs_conn *c, int status)
{
    if (!c->begun)
        span_begin(c, c->s->names.bad);
    c->force_close = 1;
    c->state = ST_PROCESSING;
    evs_respond_error(c, status, error_message(status));
}

static void conn_dispatch(struct evs_conn *c)
{
    struct evs_server *s = c->s;
    conn_begin(c);
    c->state = ST_PROCESSING;
    conn_watch(c, 0);
    if (!s->cfg.blocking)
        ev_timer_stop(s->loop, &c->idle);
    conn_phase(c, s->names.process);
    if (c->route < 0) {
        evs_respond_error(c, c->path_known ? 405 : 404, error_message(c->path_known ? 405 : 404));
        return;
    }
    if (c->body)
        c->body[c->body_len] = '\0';
    const struct evs_route *r = &s->cfg.routes[c->route];
    struct evs_request req = {
        .method = (int)c->parser.method, .path = c->url,
        .body = c->body ? c->body : "", .body_len = c->body_len,
        .id = c->route_id, .span = c->span,
    };
    r->handler(c, &req, r->ctx);
}

static void conn_parse(struct evs_conn *c)
{
    if (c->begun && c->phase == c->s->names.accept)
        conn_phase(c, c->s->names.read);
    size_t n = http_parser_execute(&c->parser, &parser_settings, c->in + c->in_off, c->in_len - c->in_off);
    c->in_off += n;
    if (c->in_off == c->in_len)
        c->in_off = c->in_len = 0;
    if (c->msg_complete) {
        conn_dispatch(c);
        return;
    }
    enum http_errno e = HTTP_PARSER_ERRNO(&c->parser);
    if (e != HPE_OK)
        conn_fail(c, c->err_status ? c->err_status : e == HPE_HEADER_OVERFLOW ? 431 : 400);
}

/* ---- connections ----------------------------------------------------------- */

static void conn_io_cb(struct ev_loop *loop, ev_io *w, int revents);
static void conn_idle_cb(struct ev_loop *loop, ev_timer *w, int revents);

static struct evs_conn *conn_new(struct evs_server *s, int fd)
{
    struct evs_conn *c = calloc(1, sizeof *c);
    if (!c) {
        close(fd);
        return NULL;
    }
    c->s = s;
    c->fd = fd;
    c->route = -1;
    http_parser_init(&c->parser, HTTP_REQUEST);
    c->parser.data = c;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->n_conns++;
    evt_counter(s->tracer, s->names.conns, (int64_t)s->n_conns);
    return c;
}

static void conn_free(struct evs_conn *c)
{
    free(c->body);
    free(c->out);
    free(c);
}

static void conn_close(struct evs_conn *c)
{
    struct evs_server *s = c->s;
    if (c->state == ST_CLOSED)
        return;
    if (!s->cfg.blocking) {
        ev_io_stop(s->loop, &c->io);
        ev_timer_stop(s->loop, &c->idle);
        evt_unwatch(s->tracer, s->loop, (ev_watcher *)&c->io);
        evt_unwatch(s->tracer, s->loop, (ev_watcher *)&c->idle);
        if (c->after_watched) {
            ev_timer_stop(s->loop, &c->after);
            evt_unwatch(s->tracer, s->loop, (ev_watcher *)&c->after);
        }
    }
    close(c->fd);
    if (c->begun)
        evt_request_end(s->tracer, c->span, (uint32_t)c->status);
    c->state = ST_CLOSED;
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->n_conns--;
    evt_counter(s->tracer, s->names.conns, (int64_t)s->n_conns);
    if (!c->held)
        conn_free(c);
    if (s->stopping && s->n_conns == 0)
        ev_break(s->loop, EVBREAK_ALL);
}

static void conn_readable(struct evs_conn *c)
{
    if (c->in_off == c->in_len) {
        ssize_t n = recv(c->fd, c->in + c->in_len, sizeof c->in - c->in_len, 0);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return;
        if (n <= 0) {
            conn_close(c);   /* EOF or error: a half-sent request ends with status 0 */
            return;
        }
        c->in_len += (size_t)n;
    }
    conn_parse(c);
}

static void conn_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    struct evs_conn *c = w->data;
    if (c->state == ST_WRITING && (revents & EV_WRITE))
        conn_write(c);
    else if (c->state == ST_READING && (revents & EV_READ))
        conn_readable(c);
}

/* A silent connection closes quietly; a half-sent request gets a 408; a
 * client that stopped reading our response is dropped. */
static void conn_timeout(struct evs_conn *c)
{
    if (c->state == ST_READING && c->msg_started)
        conn_fail(c, 408);
    else
        conn_close(c);
}

static void conn_idle_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    conn_timeout(w->data);
}

static void conn_after_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct evs_conn *c = w->data;
    c->after_fn(c, c->after_ctx);   /* may close c: the last thing done with it */
}

/* The timer is set up on first use rather than in conn_start_async so that
 * servers which never wait (crud_api) get no unused "delay" watcher in their
 * traces. ev_timer_set, unlike ev_timer_init, leaves the callback -- the
 * tracer's wrapper -- alone, so the watch made once stays valid. */
int evs_conn_after(struct evs_conn *c, double after, evs_after_fn fn, void *ctx)
{
    struct evs_server *s = c->s;
    if (s->cfg.blocking || c->state == ST_CLOSED)
        return -EINVAL;
    if (!c->after_watched) {
        ev_init(&c->after, conn_after_cb);
        c->after.data = c;
        evt_watch_id(s->tracer, s->loop, (ev_watcher *)&c->after, EVT_KIND_TIMER, -1, s->names.delay);
        c->after_watched = 1;
    }
    ev_timer_stop(s->loop, &c->after);
    ev_timer_set(&c->after, after, 0.);
    c->after_fn = fn;
    c->after_ctx = ctx;
    ev_timer_start(s->loop, &c->after);
    return 0;
}

static void conn_start_async(struct evs_server *s, struct evs_conn *c)
{
    ev_io_init(&c->io, conn_io_cb, c->fd, EV_READ);
    c->io.data = c;
    ev_timer_init(&c->idle, conn_idle_cb, 0., s->cfg.common.idle_timeout_ms / 1000.0);
    c->idle.data = c;
    evt_watch_id(s->tracer, s->loop, (ev_watcher *)&c->io, EVT_KIND_IO, c->fd, s->names.conn_io);
    evt_watch_id(s->tracer, s->loop, (ev_watcher *)&c->idle, EVT_KIND_TIMER, -1, s->names.conn_idle);
    ev_io_start(s->loop, &c->io);
    ev_timer_again(s->loop, &c->idle);
}

/* The blocking mode: this connection, to the end, inside the accept
 * callback. SO_RCVTIMEO bounds each recv, the deadline the whole request. */
static void conn_serve_blocking(struct evs_server *s, struct evs_conn *c)
{
    struct timeval tv = {.tv_sec = s->cfg.common.idle_timeout_ms / 1000,
                         .tv_usec = (s->cfg.common.idle_timeout_ms % 1000) * 1000};
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    uint64_t deadline = evs_now_ns() + (uint64_t)s->cfg.common.idle_timeout_ms * 1000000u;
    c->held = 1;
    while (c->state != ST_CLOSED) {
        if (c->state == ST_PROCESSING) {   /* a handler must answer before it returns */
            evs_respond_error(c, 500, "handler did not respond");
            continue;
        }
        if (c->in_off < c->in_len) {
            conn_parse(c);
            continue;
        }
        if (evs_now_ns() > deadline) {
            conn_timeout(c);
            continue;
        }
        ssize_t n = recv(c->fd, c->in + c->in_len, sizeof c->in - c->in_len, 0);
        if (n > 0)
            c->in_len += (size_t)n;
        else if (n < 0 && errno == EINTR)
            continue;
        else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            conn_timeout(c);
        else
            conn_close(c);   /* EOF or error */
    }
    conn_free(c);
}

/* ---- the server -------------------------------------------------------------- */

static void accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    struct evs_server *s = w->data;
    int blocking = s->cfg.blocking;
    /* Async: take what is waiting (bounded, so one burst cannot starve the
     * connections already open). Blocking: one connection per callback. */
    for (int i = 0; i < (blocking ? 1 : 64); i++) {
        int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC | (blocking ? 0 : SOCK_NONBLOCK));
        if (fd < 0)
            return;   /* EAGAIN, or EMFILE: the backlog keeps the client */
        struct evs_conn *c = conn_new(s, fd);
        if (!c)
            return;
        if (blocking)
            conn_serve_blocking(s, c);
        else
            conn_start_async(s, c);
    }
}

static void signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
    evs_server_stop(w->data);
}

void evs_server_stop(struct evs_server *s)
{
    if (s->stopping)
        return;
    s->stopping = 1;
    ev_io_stop(s->loop, &s->accept_w);
    close(s->listen_fd);
    s->listen_fd = -1;
    struct evs_conn *next;
    for (struct evs_conn *c = s->conns; c; c = next) {
        next = c->next;
        if (c->state == ST_READING)
            conn_close(c);
    }
    if (s->n_conns == 0)
        ev_break(s->loop, EVBREAK_ALL);
}

static int server_intern(struct evs_server *s)
{
    evt_tracer *t = s->tracer;
    s->names = (struct evs_names){
        .accept = evt_intern(t, "accept"), .read = evt_intern(t, "read"),
        .process = evt_intern(t, "process"), .respond = evt_intern(t, "respond"),
        .close = evt_intern(t, "close"), .other = evt_intern(t, "other"),
        .bad = evt_intern(t, "bad request"), .conns = evt_intern(t, "open connections"),
        .conn_io = evt_intern(t, "conn io"), .conn_idle = evt_intern(t, "conn idle"),
        .delay = evt_intern(t, "delay"),
    };
    s->route_names = calloc(s->cfg.n_routes + 1, sizeof *s->route_names);
    if (!s->route_names)
        return -ENOMEM;
    for (size_t i = 0; i < s->cfg.n_routes; i++) {
        char name[256];
        const struct evs_route *r = &s->cfg.routes[i];
        snprintf(name, sizeof name, "%s %s", http_method_str(r->method), r->pattern);
        s->route_names[i] = evt_intern(t, name);
    }
    return 0;
}

static void server_watch(struct evs_server *s)
{
    ev_io_init(&s->accept_w, accept_cb, s->listen_fd, EV_READ);
    s->accept_w.data = s;
    ev_signal_init(&s->sigint_w, signal_cb, SIGINT);
    s->sigint_w.data = s;
    ev_signal_init(&s->sigterm_w, signal_cb, SIGTERM);
    s->sigterm_w.data = s;
    evt_watch_io(s->tracer, s->loop, &s->accept_w, "accept");
    evt_watch_signal(s->tracer, s->loop, &s->sigint_w, "SIGINT");
    evt_watch_signal(s->tracer, s->loop, &s->sigterm_w, "SIGTERM");
    ev_io_start(s->loop, &s->accept_w);
    ev_signal_start(s->loop, &s->sigint_w);
    ev_signal_start(s->loop, &s->sigterm_w);
}

int evs_server_init(struct evs_server *s, struct ev_loop *loop, const struct evs_server_config *cfg)
{
    memset(s, 0, sizeof *s);
    s->loop = loop;
    s->cfg = *cfg;
    if (!s->cfg.max_header_bytes)
        s->cfg.max_header_bytes = 8192;
    if (!s->cfg.max_body_bytes)
        s->cfg.max_body_bytes = 1u << 20;
    evs_raise_nofile();
    int fd = evs_listen(cfg->common.bind, cfg->common.port, 1, &s->port);
    if (fd < 0) {
        fprintf(stderr, "%s: cannot listen on %s:%d: %s\n", program_invocation_short_name,
                cfg->common.bind, cfg->common.port, strerror(-fd));
        return fd;
    }
    s->listen_fd = fd;
    s->tracer = evs_tracer_open(cfg->common.trace, cfg->process_name);
    evt_attach_loop(s->tracer, loop);
    if (server_intern(s) < 0) {
        close(fd);
        evt_close(s->tracer);
        return -ENOMEM;
    }
    server_watch(s);
    return 0;
}

void evs_server_run(struct evs_server *s)
{
    evs_announce(s->cfg.common.bind, s->port);
    ev_run(s->loop, 0);
}

void evs_server_finish(struct evs_server *s)
{
    while (s->conns) {
        struct evs_conn *c = s->conns;
        c->held = 0;
        conn_close(c);
    }
    if (s->listen_fd >= 0)
        close(s->listen_fd);
    ev_io_stop(s->loop, &s->accept_w);
    ev_signal_stop(s->loop, &s->sigint_w);
    ev_signal_stop(s->loop, &s->sigterm_w);
    evt_close(s->tracer);
    s->tracer = NULL;
    free(s->route_names);
    s->route_names = NULL;
}

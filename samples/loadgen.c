/* loadgen -- a libev HTTP client: N requests, C in flight at once.
 *
 *   loadgen [-n N] [-c C] [--json] [--trace FILE] [--timeout-ms MS] [URL]
 *   loadgen --scenario crud [-n N] [-c C] [URL]
 *
 * URL defaults to http://127.0.0.1:3000/. Prints one `name: value` line per
 * figure (requests, errors, wall time, req/s, latency p50/p90/p99/max), or
 * one JSON object with --json. The exit status is 0 when every request got
 * the answer it expected, 1 otherwise (a transport error, an unexpected
 * status, a crud round-trip mismatch), 2 for bad arguments.
 *
 * The engine (below) is described in loadgen.h; the crud scenario lives in
 * loadgen_crud.c.
 */
#include "loadgen.h"

#include <errno.h>
#include <getopt.h>
#include <http_parser.h>
#include <jansson.h>
#include <math.h>
#include <netdb.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.h"

struct lg_conn {
    struct lg *lg;
    int fd;                     /* -1 = not connected */
    int connecting;
    int connect_err;            /* an immediate connect() failure, reported via the watcher */
    int reused;                 /* this fd already carried a response */
    ev_io io;
    ev_timer timer;
    http_parser parser;
    struct lg_req *req;         /* in flight, or NULL */
    uint64_t span;
    char *out;
    size_t out_len, out_off;
    int got_bytes, msg_complete;
    char *body;
    size_t body_len, body_cap;
    char in[16384];
};

static void conn_next(struct lg_conn *c);
static void conn_start_req(struct lg_conn *c);

/* ---- response parsing ------------------------------------------------------ */

static int on_body(http_parser *p, const char *at, size_t len)
{
    struct lg_conn *c = p->data;
    if (!c->lg->keep_body)
        return 0;
    if (c->body_len + len + 1 > c->body_cap) {
        size_t cap = c->body_cap ? c->body_cap * 2 : 4096;
        while (cap < c->body_len + len + 1)
            cap *= 2;
        char *nb = realloc(c->body, cap);
        if (!nb)
            return -1;
        c->body = nb;
        c->body_cap = cap;
    }
    memcpy(c->body + c->body_len, at, len);
    c->body_len += len;
    c->body[c->body_len] = '\0';
    return 0;
}

static int on_message_complete(http_parser *p)
{
    struct lg_conn *c = p->data;
    c->msg_complete = 1;
    http_parser_pause(p, 1);
    return 0;
}

static const http_parser_settings response_settings = {
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

/* ---- one request's life ----------------------------------------------------- */

static void phase(struct lg_conn *c, uint32_t ph)
{
    evt_request_phase(c->lg->tracer, c->span, ph);
}

static void conn_watch(struct lg_conn *c, int events)
{
    ev_io_stop(c->lg->loop, &c->io);
    if (events && c->fd >= 0) {
        ev_io_set(&c->io, c->fd, events);
        ev_io_start(c->lg->loop, &c->io);
    }
}

static void conn_drop(struct lg_conn *c)
{
    conn_watch(c, 0);
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->connecting = 0;
    c->reused = 0;
}

static void stats_add(struct lg_stats *st, double ms)
{
    if (st->n_lat == st->cap_lat) {
        size_t cap = st->cap_lat ? st->cap_lat * 2 : 1024;
        double *nl = realloc(st->lat_ms, cap * sizeof *nl);
        if (!nl)
            return;
        st->lat_ms = nl;
        st->cap_lat = cap;
    }
    st->lat_ms[st->n_lat++] = ms;
}

static void req_finish(struct lg_conn *c, int status)
{
    struct lg *lg = c->lg;
    struct lg_req *r = c->req;
    r->status = status;
    r->t1 = evs_now_ns();
    evt_request_end(lg->tracer, c->span, (uint32_t)status);
    lg->stats.requests++;
    if (status == 0 || (r->expect ? status != r->expect : status >= 400))
        lg->stats.errors++;
    if (status)
        stats_add(&lg->stats, (double)(r->t1 - r->t0) / 1e6);
    if (lg->keep_body) {
        r->resp = c->body ? c->body : strdup("");
        r->resp_len = c->body_len;
        c->body = NULL;
        c->body_len = c->body_cap = 0;
    }
    c->req = NULL;
    ev_timer_stop(lg->loop, &c->timer);
    if (++lg->done == lg->n_reqs)
        ev_break(lg->loop, EVBREAK_ONE);
    else
        conn_next(c);
}

/* A failure on a reused connection before any response byte is most likely
 * the server closing it as we sent: retry once on a fresh connection. */
static void conn_fail(struct lg_conn *c)
{
    int retry = c->reused && !c->got_bytes && !c->req->retried;
    conn_drop(c);
    if (retry) {
        c->req->retried = 1;
        conn_start_req(c);
        return;
    }
    req_finish(c, 0);
}

static void conn_write(struct lg_conn *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (n > 0) {
            c->out_off += (size_t)n;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            conn_watch(c, EV_WRITE);
            return;
        } else if (!(n < 0 && errno == EINTR)) {
            conn_fail(c);
            return;
        }
    }
    phase(c, c->lg->ph_wait);
    conn_watch(c, EV_READ);
}

static void conn_complete(struct lg_conn *c)
{
    int status = c->parser.status_code;
    c->reused = 1;
    if (!http_should_keep_alive(&c->parser))
        conn_drop(c);
    req_finish(c, status);
}

static void conn_read(struct lg_conn *c)
{
    ssize_t n = recv(c->fd, c->in, sizeof c->in, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (n > 0 && !c->got_bytes) {
        c->got_bytes = 1;
        phase(c, c->lg->ph_receive);
    }
    /* n == 0 is EOF: http_parser completes a body delimited by the close. */
    http_parser_execute(&c->parser, &response_settings, c->in, n > 0 ? (size_t)n : 0);
    if (c->msg_complete)
        conn_complete(c);
    else if (n <= 0 || HTTP_PARSER_ERRNO(&c->parser) != HPE_OK)
        conn_fail(c);
    else
        ev_timer_again(c->lg->loop, &c->timer);
}

static void conn_connected(struct lg_conn *c)
{
    int err = c->connect_err;
    socklen_t len = sizeof err;
    if (!err && getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
        err = errno;
    c->connecting = 0;
    c->connect_err = 0;
    if (err) {
        conn_fail(c);
        return;
    }
    phase(c, c->lg->ph_send);
    conn_write(c);
}

static void conn_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    struct lg_conn *c = w->data;
    if (!c->req)
        conn_drop(c);   /* an idle keep-alive connection: the server closed it */
    else if (c->connecting)
        conn_connected(c);
    else if (c->out_off < c->out_len)
        conn_write(c);
    else
        conn_read(c);
}

static void conn_timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct lg_conn *c = w->data;
    if (!c->req)
        return;
    c->req->retried = 1;   /* a timeout is not retried */
    conn_fail(c);
}

static void conn_connect(struct lg_conn *c)
{
    phase(c, c->lg->ph_connect);
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        c->req->retried = 1;
        req_finish(c, 0);
        return;
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->connecting = 1;
    if (connect(c->fd, (struct sockaddr *)&c->lg->addr, sizeof c->lg->addr) != 0 && errno != EINPROGRESS)
        c->connect_err = errno;
    conn_watch(c, EV_WRITE);
    if (c->connect_err)   /* report it from the loop, not by recursion */
        ev_feed_event(c->lg->loop, &c->io, EV_WRITE);
}

static int build_request(struct lg_conn *c)
{
    const struct lg_req *r = c->req;
    size_t blen = r->body ? strlen(r->body) : 0;
    size_t cap = 256 + strlen(r->path) + strlen(c->lg->host) + blen;
    free(c->out);
    c->out = malloc(cap);
    if (!c->out)
        return -1;
    int n = snprintf(c->out, cap, "%s %s HTTP/1.1\r\nHost: %s\r\n%s%zu\r\n\r\n%s", r->method, r->path,
                     c->lg->host, r->body ? "Content-Type: application/json\r\nContent-Length: " : "Content-Length: ",
                     blen, r->body ? r->body : "");
    c->out_len = (size_t)n;
    c->out_off = 0;
    return 0;
}

static void conn_start_req(struct lg_conn *c)
{
    http_parser_init(&c->parser, HTTP_RESPONSE);
    c->parser.data = c;
    c->got_bytes = c->msg_complete = 0;
    c->body_len = 0;
    if (build_request(c) < 0) {
        req_finish(c, 0);
        return;
    }
    ev_timer_again(c->lg->loop, &c->timer);
    if (c->fd < 0) {
        conn_connect(c);
        return;
    }
    phase(c, c->lg->ph_send);
    conn_write(c);
}

static void conn_next(struct lg_conn *c)
{
    struct lg *lg = c->lg;
    if (lg->next >= lg->n_reqs) {
        conn_watch(c, c->fd >= 0 ? EV_READ : 0);   /* notice the server closing it */
        return;
    }
    c->req = &lg->reqs[lg->next++];
    c->req->t0 = evs_now_ns();
    c->span = ++lg->next_span;
    evt_request_begin(lg->tracer, c->span, c->req->name);
    conn_start_req(c);
}

/* ---- the engine's interface ------------------------------------------------- */

int lg_init(struct lg *lg, struct ev_loop *loop, evt_tracer *t, const struct sockaddr_in *addr,
            const char *host, int concurrency, int keep_body, int timeout_ms)
{
    memset(lg, 0, sizeof *lg);
    lg->loop = loop;
    lg->tracer = t;
    lg->addr = *addr;
    snprintf(lg->host, sizeof lg->host, "%s", host);
    lg->concurrency = concurrency;
    lg->keep_body = keep_body;
    lg->timeout_ms = timeout_ms;
    lg->ph_connect = evt_intern(t, "connect");
    lg->ph_send = evt_intern(t, "send");
    lg->ph_wait = evt_intern(t, "wait");
    lg->ph_receive = evt_intern(t, "receive");
    lg->conns = calloc((size_t)concurrency, sizeof *lg->conns);
    if (!lg->conns)
        return -ENOMEM;
    for (int i = 0; i < concurrency; i++) {
        struct lg_conn *c = &lg->conns[i];
        c->lg = lg;
        c->fd = -1;
        ev_io_init(&c->io, conn_io_cb, 0, EV_READ);
        c->io.data = c;
        ev_timer_init(&c->timer, conn_timeout_cb, 0., timeout_ms / 1000.0);
        c->timer.data = c;
        evt_watch_io(t, loop, &c->io, "client io");
        evt_watch_timer(t, loop, &c->timer, "client timeout");
    }
    return 0;
}

void lg_free(struct lg *lg)
{
    for (int i = 0; lg->conns && i < lg->concurrency; i++) {
        struct lg_conn *c = &lg->conns[i];
        conn_drop(c);
        ev_timer_stop(lg->loop, &c->timer);
        free(c->out);
        free(c->body);
    }
    free(lg->conns);
    free(lg->stats.lat_ms);
    lg->conns = NULL;
}

void lg_run_batch(struct lg *lg, struct lg_req *reqs, size_t n)
{
    lg->reqs = reqs;
    lg->n_reqs = n;
    lg->next = lg->done = 0;
    if (n == 0)
        return;
    for (int i = 0; i < lg->concurrency && lg->next < n; i++)
        conn_next(&lg->conns[i]);
    if (lg->done < n)
        ev_run(lg->loop, 0);
}

void lg_free_batch(struct lg_req *reqs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(reqs[i].body);
        free(reqs[i].resp);
        reqs[i].body = reqs[i].resp = NULL;
    }
}

/* ---- command line and report --------------------------------------------------- */

struct lg_options {
    long n, c, timeout_ms;
    const char *url, *trace, *scenario;
    int json;
};

static void usage(void)
{
    printf("usage: loadgen [-n N] [-c C] [--scenario crud] [--json] [--trace FILE]\n"
           "               [--timeout-ms MS] [URL]   (default http://127.0.0.1:3000/)\n");
}

static void parse_options(int argc, char **argv, struct lg_options *o)
{
    enum { OPT_SCENARIO = 1000, OPT_JSON, OPT_TRACE, OPT_TIMEOUT, OPT_HELP };
    static const struct option table[] = {
        {"scenario", required_argument, NULL, OPT_SCENARIO}, {"json", no_argument, NULL, OPT_JSON},
        {"trace", required_argument, NULL, OPT_TRACE}, {"timeout-ms", required_argument, NULL, OPT_TIMEOUT},
        {"help", no_argument, NULL, OPT_HELP}, {NULL, 0, NULL, 0},
    };
    int opt;
    while ((opt = getopt_long(argc, argv, "n:c:", table, NULL)) != -1) {
        switch (opt) {
        case 'n': o->n = evs_parse_long("-n", optarg, 1, 100000000); break;
        case 'c': o->c = evs_parse_long("-c", optarg, 1, 100000); break;
        case OPT_SCENARIO: o->scenario = optarg; break;
        case OPT_JSON: o->json = 1; break;
        case OPT_TRACE: o->trace = optarg; break;
        case OPT_TIMEOUT: o->timeout_ms = evs_parse_long("--timeout-ms", optarg, 1, 3600000); break;
        case OPT_HELP: usage(); exit(0);
        default: exit(2);
        }
    }
    if (optind < argc)
        o->url = argv[optind++];
    if (optind < argc)
        evs_usage_error("unexpected argument '%s'", argv[optind]);
    if (o->scenario && strcmp(o->scenario, "crud") != 0)
        evs_usage_error("--scenario: unknown scenario '%s' (known: crud)", o->scenario);
}

/* http://HOST[:PORT]/PATH -> address, Host header, path. */
static void parse_url(const char *url, struct sockaddr_in *addr, char *host, size_t hsize, char *path, size_t psize)
{
    struct http_parser_url u;
    http_parser_url_init(&u);
    if (http_parser_parse_url(url, strlen(url), 0, &u) != 0 || !(u.field_set & (1 << UF_HOST)))
        evs_usage_error("bad URL '%s' (expected http://HOST[:PORT]/PATH)", url);
    char name[64];
    snprintf(name, sizeof name, "%.*s", (int)u.field_data[UF_HOST].len, url + u.field_data[UF_HOST].off);
    int port = (u.field_set & (1 << UF_PORT)) ? u.port : 80;
    snprintf(host, hsize, "%s:%d", name, port);
    if (u.field_set & (1 << UF_PATH))
        snprintf(path, psize, "%s", url + u.field_data[UF_PATH].off);
    else
        snprintf(path, psize, "/");
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res = NULL;
    if (getaddrinfo(name, NULL, &hints, &res) != 0 || !res)
        evs_usage_error("cannot resolve '%s'", name);
    *addr = *(struct sockaddr_in *)res->ai_addr;
    addr->sin_port = htons((uint16_t)port);
    freeaddrinfo(res);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double percentile(const double *sorted, size_t n, double q)
{
    if (n == 0)
        return 0;
    size_t rank = (size_t)ceil(q * (double)n);
    return sorted[rank ? rank - 1 : 0];
}

static void report(struct lg_stats *st, double wall_s, int json)
{
    qsort(st->lat_ms, st->n_lat, sizeof *st->lat_ms, cmp_double);
    double p50 = percentile(st->lat_ms, st->n_lat, 0.50), p90 = percentile(st->lat_ms, st->n_lat, 0.90);
    double p99 = percentile(st->lat_ms, st->n_lat, 0.99), max = st->n_lat ? st->lat_ms[st->n_lat - 1] : 0;
    double rps = wall_s > 0 ? (double)st->requests / wall_s : 0;
    if (json) {
        json_t *j = json_pack("{s:I,s:I,s:f,s:f,s:{s:f,s:f,s:f,s:f}}", "requests", (json_int_t)st->requests,
                              "errors", (json_int_t)st->errors, "wall_time_s", wall_s, "req_per_s", rps,
                              "latency_ms", "p50", p50, "p90", p90, "p99", p99, "max", max);
        json_dumpf(j, stdout, JSON_INDENT(2));
        putchar('\n');
        json_decref(j);
        return;
    }
    printf("requests: %llu\nerrors: %llu\nwall_time: %.3f s\nreq_per_s: %.1f req/s\n",
           (unsigned long long)st->requests, (unsigned long long)st->errors, wall_s, rps);
    printf("latency_p50: %.2f ms\nlatency_p90: %.2f ms\nlatency_p99: %.2f ms\nlatency_max: %.2f ms\n",
           p50, p90, p99, max);
}

static int run_url(struct lg *lg, const char *path, size_t n)
{
    struct lg_req *reqs = calloc(n, sizeof *reqs);
    if (!reqs)
        return 1;
    char name[160];
    snprintf(name, sizeof name, "GET %s", path);
    uint32_t id = evt_intern(lg->tracer, name);
    for (size_t i = 0; i < n; i++) {
        reqs[i].method = "GET";
        snprintf(reqs[i].path, sizeof reqs[i].path, "%s", path);
        reqs[i].name = id;
    }
    lg_run_batch(lg, reqs, n);
    lg_free_batch(reqs, n);
    free(reqs);
    return lg->stats.errors ? 1 : 0;
}

int main(int argc, char **argv)
{
    struct lg_options o = {.n = 100, .c = 10, .timeout_ms = 60000, .url = "http://127.0.0.1:3000/"};
    parse_options(argc, argv, &o);
    struct sockaddr_in addr;
    char host[80], path[128];
    parse_url(o.url, &addr, host, sizeof host, path, sizeof path);
    evs_raise_nofile();
    struct ev_loop *loop = EV_DEFAULT;
    evt_tracer *t = evs_tracer_open(o.trace, "loadgen");
    evt_attach_loop(t, loop);
    struct lg lg;
    int rc = lg_init(&lg, loop, t, &addr, host, (int)(o.c < o.n ? o.c : o.n), o.scenario != NULL, (int)o.timeout_ms);
    uint64_t t0 = evs_now_ns();
    if (rc == 0)
        rc = o.scenario ? lg_crud_scenario(&lg, (size_t)o.n) : run_url(&lg, path, (size_t)o.n);
    double wall = (double)(evs_now_ns() - t0) / 1e9;
    report(&lg.stats, wall, o.json);
    lg_free(&lg);
    evt_close(t);
    return rc ? 1 : 0;
}

/* test_samples_util.c -- see test_samples_util.h. */
#include "test_samples_util.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <http_parser.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

void ts_tmp_dir(char *dir, size_t size)
{
    snprintf(dir, size, "/tmp/evt_samples_XXXXXX");
    if (!mkdtemp(dir))
        dir[0] = '\0';
}

void ts_tmp_cleanup(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

static void binary_path(const char *name, char *buf, size_t size)
{
    const char *b = getenv("EVT_BUILD_DIR");
    snprintf(buf, size, "%s/samples/%s", b ? b : ".", name);
}

/* Splits $EVT_CHILD_WRAPPER ("valgrind --error-exitcode=99 ...") into argv
 * words: the children then run under it, and a checker's error exit makes
 * the tests that expect status 0 fail. */
static size_t wrapper_words(char *buf, size_t size, const char **argv, size_t max)
{
    const char *w = getenv("EVT_CHILD_WRAPPER");
    size_t n = 0;
    snprintf(buf, size, "%s", w ? w : "");
    for (char *save = NULL, *tok = strtok_r(buf, " ", &save); tok && n < max; tok = strtok_r(NULL, " ", &save))
        argv[n++] = tok;
    return n;
}

/* fork + exec [wrapper...] name pre... args...; stdout to a pipe. */
static int spawn(struct ts_child *c, const char *name, const char *const *pre, const char *const *args)
{
    const char *argv[64];
    char path[512], wrap[512];
    size_t n = wrapper_words(wrap, sizeof wrap, argv, 16);
    binary_path(name, path, sizeof path);
    argv[n++] = path;
    for (; pre && *pre && n < 40; pre++)
        argv[n++] = *pre;
    for (; args && *args && n < 62; args++)
        argv[n++] = *args;
    argv[n] = NULL;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
        return -1;
    c->pid = fork();
    if (c->pid == 0) {
        dup2(fds[1], 1);
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(fds[1]);
    c->out_fd = fds[0];
    c->port = 0;
    return c->pid > 0 ? 0 : -1;
}

/* Reads from fd into buf until a newline or EOF or the deadline. */
static ssize_t read_until(int fd, char *buf, size_t size, long deadline, int want_newline)
{
    size_t got = 0;
    while (got + 1 < size) {
        long left = deadline - now_ms();
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (left <= 0 || poll(&p, 1, (int)left) <= 0)
            break;
        ssize_t n = read(fd, buf + got, size - 1 - got);
        if (n <= 0)
            break;
        got += (size_t)n;
        buf[got] = '\0';
        if (want_newline && memchr(buf, '\n', got))
            break;
    }
    buf[got] = '\0';
    return (ssize_t)got;
}

int ts_server_start(struct ts_child *c, const char *name, const char *const *args)
{
    static const char *const pre[] = {"--port", "0", NULL};
    if (spawn(c, name, pre, args) < 0)
        return -1;
    char line[256];
    read_until(c->out_fd, line, sizeof line, now_ms() + 10000, 1);
    const char *colon = strrchr(line, ':');
    if (strncmp(line, "listening on ", 13) != 0 || !colon) {
        ts_child_stop(c, SIGKILL, 1000);
        return -1;
    }
    c->port = atoi(colon + 1);
    return c->port > 0 ? 0 : -1;
}

int ts_child_stop(struct ts_child *c, int sig, int timeout_ms)
{
    if (c->pid <= 0)
        return -2;
    kill(c->pid, sig);
    long deadline = now_ms() + timeout_ms;
    int status = 0, killed = 0;
    while (waitpid(c->pid, &status, WNOHANG) == 0) {
        if (now_ms() > deadline && !killed) {
            kill(c->pid, SIGKILL);
            killed = 1;
        }
        usleep(5000);
    }
    c->pid = 0;
    if (c->out_fd >= 0)
        close(c->out_fd);
    c->out_fd = -1;
    if (killed)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int ts_loadgen(const char *const *args, char *out, size_t size)
{
    return ts_run("loadgen", args, out, size);
}

int ts_run(const char *name, const char *const *args, char *out, size_t size)
{
    struct ts_child c;
    if (spawn(&c, name, NULL, args) < 0)
        return -1;
    read_until(c.out_fd, out, size, now_ms() + 120000, 0);
    return ts_child_stop(&c, 0, 120000);
}

double ts_json_number(const char *json, const char *key)
{
    json_t *j = json_loads(json, 0, NULL);
    json_t *v = json_object_get(j, key);
    double d = json_is_number(v) ? json_number_value(v) : -1;
    json_decref(j);
    return d;
}

/* ---- HTTP over blocking sockets ------------------------------------------- */

int ts_connect(int port, int timeout_ms)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int send_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

struct response {
    char *body;
    size_t len;
    int complete;
};

static int on_body(http_parser *p, const char *at, size_t len)
{
    struct response *r = p->data;
    char *nb = realloc(r->body, r->len + len + 1);
    if (!nb)
        return -1;
    memcpy(nb + r->len, at, len);
    r->body = nb;
    r->len += len;
    r->body[r->len] = '\0';
    return 0;
}

static int on_complete(http_parser *p)
{
    ((struct response *)p->data)->complete = 1;
    http_parser_pause(p, 1);   /* stop at the end of this response */
    return 0;
}

/* Reads and parses one response, and not a byte more (it peeks, parses,
 * then consumes what the parser took), so pipelined responses can be read
 * one by one. Returns its status, 0 if the server closed before a complete
 * response, -1 on timeout. */
static int read_response(int fd, struct response *r)
{
    static const http_parser_settings settings = {.on_body = on_body, .on_message_complete = on_complete};
    http_parser p;
    http_parser_init(&p, HTTP_RESPONSE);
    p.data = r;
    char buf[8192];
    while (!r->complete) {
        ssize_t n = recv(fd, buf, sizeof buf, MSG_PEEK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        size_t used = http_parser_execute(&p, &settings, buf, (size_t)n);
        if (n == 0 || (HTTP_PARSER_ERRNO(&p) != HPE_OK && !r->complete))
            break;
        if (recv(fd, buf, used, 0) != (ssize_t)used)
            return -1;
    }
    return r->complete ? (int)p.status_code : 0;
}

int ts_http(int port, const char *method, const char *path, const char *body, char **resp)
{
    int fd = ts_connect(port, 30000);
    if (fd < 0)
        return -1;
    size_t blen = body ? strlen(body) : 0;
    char *req = NULL;
    int n = asprintf(&req, "%s %s HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Length: %zu\r\n\r\n%s",
                     method, path, blen, body ? body : "");
    struct response r = {0};
    int status = n > 0 && send_all(fd, req, (size_t)n) == 0 ? read_response(fd, &r) : -1;
    free(req);
    close(fd);
    if (status <= 0)
        status = -1;
    if (resp)
        *resp = r.body ? r.body : strdup("");
    else
        free(r.body);
    return status;
}

int ts_raw(int port, const char *bytes, size_t len, int timeout_ms)
{
    int fd = ts_connect(port, timeout_ms);
    if (fd < 0)
        return -1;
    struct response r = {0};
    int status = send_all(fd, bytes, len) == 0 ? read_response(fd, &r) : -1;
    if (status > 0) {   /* answered: the server must also close (no keep-alive after bad input) */
        char c;
        if (recv(fd, &c, 1, 0) != 0)
            status = -1;
    }
    free(r.body);
    close(fd);
    return status;
}

int ts_send(int fd, const char *s)
{
    return send_all(fd, s, strlen(s));
}

int ts_read_status(int fd)
{
    struct response r = {0};
    int status = read_response(fd, &r);
    free(r.body);
    return status;
}

struct bad_case {
    const char *name;
    const char *prefix;      /* sent first */
    size_t pad;              /* then this many 'a's */
    const char *suffix;      /* then this */
    int expect;              /* status; 0 = closed without an answer */
};

static const struct bad_case bad_cases[] = {
    {"garbage", "\x01\x02\x03 garbage \xff\r\n\r\n", 0, "", 400},
    {"oversized header", "GET / HTTP/1.1\r\nHost: x\r\nX-Big: ", 9000, "\r\n\r\n", 431},
    {"oversized URL", "GET /", 3000, " HTTP/1.1\r\nHost: x\r\n\r\n", 414},
    {"oversized body", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n", 0, "", 413},
    {"half-sent request", "GET / HTTP/1.1\r\nHost: x\r\n", 0, "", 408},
    {"silent connection", "", 0, "", 0},
};

static int bad_case_run(int port, const struct bad_case *bc, int idle_ms)
{
    size_t plen = strlen(bc->prefix), slen = strlen(bc->suffix);
    char *msg = malloc(plen + bc->pad + slen + 1);
    if (!msg)
        return -1;
    memcpy(msg, bc->prefix, plen);
    memset(msg + plen, 'a', bc->pad);
    memcpy(msg + plen + bc->pad, bc->suffix, slen + 1);
    int status = ts_raw(port, msg, plen + bc->pad + slen, idle_ms * 4 + 5000);
    free(msg);
    return status;
}

const char *ts_bad_inputs(int port, const char *good_path, int idle_ms)
{
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        if (bad_case_run(port, &bad_cases[i], idle_ms) != bad_cases[i].expect)
            return bad_cases[i].name;
        if (ts_http(port, "GET", good_path, NULL, NULL) != 200)
            return "good request after a bad one";
    }
    if (ts_http(port, "GET", "/no/such/route", NULL, NULL) != 404)
        return "unknown route";
    if (ts_http(port, "PUT", good_path, NULL, NULL) != 405)
        return "wrong method";
    if (ts_http(port, "GET", good_path, NULL, NULL) != 200)
        return "good request after 404/405";
    return NULL;
}

/* ---- trace checks ------------------------------------------------------------ */

uint32_t ts_max_concurrency(const struct evt_model *m)
{
    uint32_t max = 0;
    for (size_t i = 0; i < m->n_concurrency; i++)
        if (m->concurrency[i].value > max)
            max = m->concurrency[i].value;
    return max;
}

struct edge {
    uint64_t ts;
    int delta;
};

static int cmp_edge(const void *a, const void *b)
{
    const struct edge *x = a, *y = b;
    if (x->ts != y->ts)
        return x->ts < y->ts ? -1 : 1;
    return x->delta - y->delta;   /* an end before a begin at the same instant */
}

uint32_t ts_max_phase_overlap(const struct evt_model *m, const char *phase)
{
    struct edge *e = calloc(2 * m->n_phases + 1, sizeof *e);
    size_t n = 0;
    for (size_t i = 0; e && i < m->n_requests; i++) {
        const struct evt_m_request *r = &m->requests[i];
        for (uint32_t k = 0; k < r->phase_count; k++) {
            const struct evt_m_phase *ph = &m->phases[r->phase_first + k];
            if (strcmp(ph->name, phase) != 0)
                continue;
            uint64_t end = k + 1 < r->phase_count ? m->phases[r->phase_first + k + 1].t0 : r->t1;
            e[n++] = (struct edge){ph->t0, +1};
            e[n++] = (struct edge){end, -1};
        }
    }
    qsort(e, n, sizeof *e, cmp_edge);
    int cur = 0, max = 0;
    for (size_t i = 0; i < n; i++) {
        cur += e[i].delta;
        if (cur > max)
            max = cur;
    }
    free(e);
    return (uint32_t)max;
}

size_t ts_stalls(const struct evt_model *m, uint64_t threshold_ns)
{
    const struct evt_m_callback **list = NULL;
    size_t n = evt_model_stalls(m, threshold_ns, &list);
    free(list);
    return n;
}

int ts_fixture_setup(void **state)
{
    struct ts_fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    ts_tmp_dir(f->dir, sizeof f->dir);
    snprintf(f->db, sizeof f->db, "%s/test.db", f->dir);
    snprintf(f->trace, sizeof f->trace, "%s/test.evtrace", f->dir);
    f->server.out_fd = -1;
    *state = f;
    return f->dir[0] ? 0 : -1;
}

int ts_fixture_teardown(void **state)
{
    struct ts_fixture *f = *state;
    ts_child_stop(&f->server, SIGKILL, 2000);
    ts_tmp_cleanup(f->dir);
    free(f);
    return 0;
}

const char *ts_page_server_bad_inputs(struct ts_fixture *f, const char *name)
{
    const char *args[] = {"--delay-ms", "0", "--idle-timeout-ms", "300", NULL};
    if (ts_server_start(&f->server, name, args) != 0)
        return "start";
    const char *failed = ts_bad_inputs(f->server.port, "/", 300);
    int status = ts_child_stop(&f->server, SIGTERM, 10000);
    return failed ? failed : status != 0 ? "clean exit" : NULL;
}

double ts_fire(const struct ts_fixture *f, const char *path, int n, int c)
{
    char url[128], ns[16], cs[16], out[4096];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", f->server.port, path);
    snprintf(ns, sizeof ns, "%d", n);
    snprintf(cs, sizeof cs, "%d", c);
    const char *lg[] = {"-n", ns, "-c", cs, "--json", url, NULL};
    if (ts_loadgen(lg, out, sizeof out) != 0 || ts_json_number(out, "requests") != n ||
        ts_json_number(out, "errors") != 0)
        return -1;
    return ts_json_number(out, "wall_time_s");
}

void ts_rng_init(struct ts_rng *r, uint64_t seed)
{
    const char *env = getenv("EVT_FUZZ_SEED");
    r->s = seed ^ (env ? strtoull(env, NULL, 0) : 0);
}

uint32_t ts_rng_next(struct ts_rng *r)
{
    r->s ^= r->s << 13;
    r->s ^= r->s >> 7;
    r->s ^= r->s << 17;
    return (uint32_t)(r->s >> 16);
}

uint32_t ts_rng_below(struct ts_rng *r, uint32_t n)
{
    return n ? ts_rng_next(r) % n : 0;
}

int ts_fuzz_runs(int dflt)
{
    const char *env = getenv("EVT_FUZZ_RUNS");
    return env ? atoi(env) : dflt;
}

/* test_record.c -- `evtrace record` and the LD_PRELOAD shim, end to end.
 *
 * The programs under test are plain libev programs that know nothing of
 * evtrace (plain_server.c, trap_probe.c). Each test runs one untraced and
 * traced, compares what the program did (server replies, probe output,
 * environment), and reads the trace back with the model to check what was
 * recorded: lanes per connection, a write callback per request, every
 * watcher kind, no double-recorded start or stop. Paths of the programs
 * come from CMake (EVTRACE_BIN, PLAIN_SERVER, TRAP_PROBE).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <ev.h>

#include "evt_model.h"
#include "evt_reader.h"
#include "evtrace.h"

#define REPLIES_MAX (64 * 1024)

/* ---- processes -------------------------------------------------------------- */

struct proc {
    pid_t pid;
    int out, err;     /* read ends of the child's stdout and stderr */
};

static void proc_start(struct proc *p, char *const argv[])
{
    int o[2], e[2];
    assert_int_equal(pipe2(o, O_CLOEXEC), 0);
    assert_int_equal(pipe2(e, O_CLOEXEC), 0);
    p->pid = fork();
    assert_true(p->pid >= 0);
    if (p->pid == 0) {
        dup2(o[1], 1);
        dup2(e[1], 2);
        execv(argv[0], argv);
        _exit(126);
    }
    close(o[1]);
    close(e[1]);
    p->out = o[0];
    p->err = e[0];
}

/* Reads fd to EOF (at most cap - 1 bytes kept); returns the length. */
static size_t slurp(int fd, char *buf, size_t cap)
{
    size_t len = 0;
    ssize_t n;
    char sink[4096];
    while ((n = read(fd, len < cap - 1 ? buf + len : sink, len < cap - 1 ? cap - 1 - len : sizeof sink)) > 0 ||
           (n < 0 && errno == EINTR))
        if (n > 0 && len < cap - 1)
            len += (size_t)n;
    buf[len] = '\0';
    return len;
}

/* Waits for p, collects its stderr into err (may be NULL); returns the raw
 * wait status. */
static int proc_wait(struct proc *p, char *err, size_t cap)
{
    char tmp[8192];
    slurp(p->err, err ? err : tmp, err ? cap : sizeof tmp);
    int status = -1;
    while (waitpid(p->pid, &status, 0) < 0 && errno == EINTR)
        continue;
    close(p->out);
    close(p->err);
    return status;
}

static int exit_code(int status)
{
    return WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1;
}

/* Runs argv to the end; its stdout into out, stderr into err. Returns the exit code. */
static int run(char *const argv[], char *out, size_t out_cap, char *err, size_t err_cap)
{
    struct proc p;
    proc_start(&p, argv);
    slurp(p.out, out, out_cap);
    return exit_code(proc_wait(&p, err, err_cap));
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* The server's "port N" line. */
static int read_port(int fd)
{
    char line[64];
    size_t len = 0;
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    while (len < sizeof line - 1 && poll(&pfd, 1, 10000) == 1 && read(fd, line + len, 1) == 1)
        if (line[len++] == '\n')
            break;
    line[len] = '\0';
    int port = 0;
    assert_int_equal(sscanf(line, "port %d", &port), 1);
    return port;
}

/* The program record started (record's only child). */
static pid_t child_of(pid_t parent)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)parent, (int)parent);
    FILE *f = fopen(path, "r");
    int pid = -1;
    for (int i = 0; f && i < 100 && fscanf(f, "%d", &pid) != 1; i++) {
        fclose(f);
        usleep(10000);
        f = fopen(path, "r");
    }
    if (f)
        fclose(f);
    return pid;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        continue;
}

/* ---- the client: blocking sockets ------------------------------------------- */

static int client_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

static void client_send(int fd, const char *path)
{
    char req[256];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: test\r\n\r\n", path);
    assert_int_equal(write(fd, req, (size_t)n), n);
}

/* Appends one whole reply (headers + body) to out. */
static void client_receive(int fd, char *out, size_t *len)
{
    size_t start = *len, body = 0;
    long clen = -1;
    while (clen < 0 || *len - body < (size_t)clen) {
        assert_true(*len < REPLIES_MAX - 1);
        ssize_t r = read(fd, out + *len, REPLIES_MAX - 1 - *len);
        assert_true(r > 0);
        *len += (size_t)r;
        out[*len] = '\0';
        char *end = strstr(out + start, "\r\n\r\n");
        if (clen < 0 && end) {
            assert_int_equal(sscanf(strstr(out + start, "Content-Length:"), "Content-Length: %ld", &clen), 1);
            body = (size_t)(end + 4 - out);
        }
    }
}

/* Sends one request and appends the whole reply to out. */
static void client_request(int fd, const char *path, char *out, size_t *len)
{
    client_send(fd, path);
    client_receive(fd, out, len);
}

/* conns connections, reqs requests on each, interleaved so that the
 * connections' lifetimes overlap; all replies appended to out. */
static size_t client_session(int port, int conns, int reqs, char *out)
{
    int fds[16];
    size_t len = 0;
    assert_true(conns <= 16);
    for (int c = 0; c < conns; c++)
        fds[c] = client_connect(port);
    for (int r = 0; r < reqs; r++)
        for (int c = 0; c < conns; c++) {
            char path[64];
            snprintf(path, sizeof path, "/conn%d/req%d", c, r);
            client_request(fds[c], path, out, &len);
        }
    for (int c = 0; c < conns; c++)
        close(fds[c]);
    return len;
}

/* One more connection saying QUIT: the server closes it and returns from main. */
static void client_quit(int port)
{
    int fd = client_connect(port);
    char c;
    assert_int_equal(write(fd, "QUIT\r\n\r\n", 8), 8);
    assert_int_equal(read(fd, &c, 1), 0);
    close(fd);
}

/* ---- trace checks ------------------------------------------------------------- */

static char g_trace[256];   /* per test: the -o path (unlinked in teardown) */

static int setup_trace(void **state)
{
    snprintf(g_trace, sizeof g_trace, "/tmp/test_record.%d.evtrace", (int)getpid());
    unlink(g_trace);
    return 0;
}

static int teardown_trace(void **state)
{
    unlink(g_trace);
    return 0;
}

/* Callbacks of io watchers whose revents include ev. */
static size_t io_callbacks(const struct evt_model *m, int ev)
{
    size_t n = 0;
    for (size_t i = 0; i < m->n_callbacks; i++) {
        const struct evt_m_callback *c = &m->callbacks[i];
        n += c->watcher < m->n_watchers && m->watchers[c->watcher].kind == EVT_KIND_IO && (c->revents & ev);
    }
    return n;
}

static size_t complete_requests(const struct evt_model *m, const char *name)
{
    size_t n = 0;
    for (size_t i = 0; i < m->n_requests; i++)
        n += m->requests[i].complete && strcmp(m->requests[i].name, name) == 0;
    return n;
}

/* ---- plain_server -------------------------------------------------------------- */

static char *g_replies_plain, *g_replies_traced;

static size_t serve_untraced(int conns, int reqs, char *out)
{
    struct proc p;
    char *argv[] = {PLAIN_SERVER, NULL};
    proc_start(&p, argv);
    size_t len = client_session(read_port(p.out), conns, reqs, out);
    kill(p.pid, SIGTERM);
    assert_int_equal(exit_code(proc_wait(&p, NULL, 0)), 128 + SIGTERM);
    return len;
}

/* Replies are byte-identical with and without the preload; the trace has
 * one lane per connection (all ended by close) and one write callback per
 * request. The server returns from main (QUIT): atexit wrote the trace. */
static void test_server_traced_like_untraced(void **state)
{
    enum { CONNS = 4, REQS = 5 };
    size_t plain = serve_untraced(CONNS, REQS, g_replies_plain);
    struct proc p;
    char *argv[] = {EVTRACE_BIN, "record", "-o", g_trace, "--", PLAIN_SERVER, NULL};
    proc_start(&p, argv);
    int port = read_port(p.out);
    size_t traced = client_session(port, CONNS, REQS, g_replies_traced);
    client_quit(port);
    char err[4096];
    assert_int_equal(exit_code(proc_wait(&p, err, sizeof err)), 0);
    assert_non_null(strstr(err, "trace written to"));
    assert_int_equal(plain, traced);
    assert_memory_equal(g_replies_plain, g_replies_traced, plain);

    struct evt_model m;
    assert_int_equal(evt_model_load_file(&m, g_trace, NULL, NULL), 0);
    assert_int_equal(m.n_requests, CONNS + 1);              /* + the QUIT connection */
    assert_int_equal(complete_requests(&m, "conn"), CONNS + 1);
    assert_int_equal(io_callbacks(&m, EV_WRITE), CONNS * REQS);
    assert_true(io_callbacks(&m, EV_READ) >= CONNS * REQS + CONNS + 1);   /* + accepts */
    assert_true(m.n_iterations > 0 && m.n_polls > 0);
    assert_int_equal(m.lost, 0);
    evt_model_free(&m);
}

/* Waits (5 s at most) until the live trace file shows writes write
 * callbacks and lanes finished lanes: the flusher's periodic flushes alone,
 * no exit, put them there. */
static void wait_flushed(size_t writes, size_t lanes)
{
    for (int i = 0; i < 100; i++) {
        struct evt_model m;
        int rc = evt_model_load_file(&m, g_trace, NULL, NULL);
        int done = (rc == 0 || rc == EVT_ETRUNC) && io_callbacks(&m, EV_WRITE) == writes &&
                   complete_requests(&m, "conn") == lanes;
        if (rc == 0 || rc == EVT_ETRUNC || rc == EVT_EFORMAT)
            evt_model_free(&m);
        if (done)
            return;
        sleep_ms(50);
    }
}

/* Shutdown by signal, with and without the program's own handler, and by
 * SIGKILL after the work: the trace holds everything that was flushed, and
 * the file is intact (no damaged chunk) however the process ended. */
static void server_killed(const char *handler_arg, int sig, int expect_code)
{
    enum { CONNS = 3, REQS = 3 };
    struct proc p;
    char *argv[] = {EVTRACE_BIN, "record", "-o", g_trace, "--", PLAIN_SERVER, (char *)handler_arg, NULL};
    proc_start(&p, argv);
    client_session(read_port(p.out), CONNS, REQS, g_replies_traced);
    if (sig == SIGKILL)
        wait_flushed(CONNS * REQS, CONNS);
    else
        sleep_ms(300);   /* the server handles the closes */
    kill(sig == SIGKILL ? child_of(p.pid) : p.pid, sig);   /* record forwards SIGTERM */
    assert_int_equal(exit_code(proc_wait(&p, NULL, 0)), expect_code);

    struct evt_model m;
    assert_int_equal(evt_model_load_file(&m, g_trace, NULL, NULL), 0);
    assert_int_equal(m.n_requests, CONNS);
    assert_int_equal(complete_requests(&m, "conn"), CONNS);
    assert_int_equal(io_callbacks(&m, EV_WRITE), CONNS * REQS);
    evt_model_free(&m);
}

static void test_server_sigterm_default(void **state) { server_killed(NULL, SIGTERM, 128 + SIGTERM); }
static void test_server_sigterm_handler(void **state) { server_killed("--sigterm-handler", SIGTERM, 0); }
static void test_server_sigkill(void **state) { server_killed(NULL, SIGKILL, 128 + SIGKILL); }

/* SIGKILL 10 ms after the last reply, well inside a flush interval: the
 * tracer's consumer process (evt_consumer.c) writes what the program had
 * not flushed, and record waits for it, so nothing is lost -- every write
 * callback is there, complete. (With EVTRACE_FLUSH=thread the last ones
 * would be missing.) */
static void test_server_sigkill_nothing_lost(void **state)
{
    enum { CONNS = 3, REQS = 3 };
    struct proc p;
    char *argv[] = {EVTRACE_BIN, "record", "-o", g_trace, "--", PLAIN_SERVER, NULL};
    proc_start(&p, argv);
    client_session(read_port(p.out), CONNS, REQS, g_replies_traced);
    sleep_ms(10);
    kill(child_of(p.pid), SIGKILL);
    assert_int_equal(exit_code(proc_wait(&p, NULL, 0)), 128 + SIGKILL);
    struct evt_model m;
    assert_int_equal(evt_model_load_file(&m, g_trace, NULL, NULL), 0);
    assert_int_equal(io_callbacks(&m, EV_WRITE), CONNS * REQS);
    evt_model_free(&m);
}

/* A handler that sleeps 150 ms is reported as a stall. */
static void test_stall_summary(void **state)
{
    struct proc p;
    char *argv[] = {EVTRACE_BIN, "record", "--stall-ms", "120", "-o", g_trace, "--", PLAIN_SERVER, NULL};
    proc_start(&p, argv);
    int port = read_port(p.out);
    int fd = client_connect(port);
    size_t len = 0;
    client_request(fd, "/fast", g_replies_traced, &len);
    client_request(fd, "/slow", g_replies_traced, &len);
    close(fd);
    client_quit(port);
    char err[4096];
    assert_int_equal(exit_code(proc_wait(&p, err, sizeof err)), 0);
    assert_non_null(strstr(err, "1 stall >= 120 ms: 1"));   /* 150.x ms */
}

/* ---- trap_probe ------------------------------------------------------------------ */

struct start_check {
    uint8_t active[4096];   /* by watcher id */
    int bad;
};

/* A WSTART on an active watcher or a WSTOP on an inactive one would be a
 * double recording (ev_timer_again starting through ev_timer_start...). A
 * WATCHER record redefines the id (address reused): state starts over. */
static int check_starts(void *ctx, const struct evt_event *ev)
{
    struct start_check *c = ctx;
    if (ev->id >= sizeof c->active)
        return 0;
    if (ev->type == EVT_REC_WATCHER)
        c->active[ev->id] = 0;
    else if (ev->type == EVT_REC_WSTART)
        c->bad += c->active[ev->id]++ != 0;
    else if (ev->type == EVT_REC_WSTOP)
        c->bad += c->active[ev->id]-- != 1;
    if (c->bad && (ev->type == EVT_REC_WSTART || ev->type == EVT_REC_WSTOP))
        c->active[ev->id] = ev->type == EVT_REC_WSTART;
    return 0;
}

static void check_kinds(const struct evt_model *m)
{
    int defined[EVT_KIND_COUNT] = {0}, called[EVT_KIND_COUNT] = {0};
    for (size_t i = 1; i < m->n_watchers; i++)
        defined[m->watchers[i].kind]++;
    for (size_t i = 0; i < m->n_callbacks; i++)
        called[m->watchers[m->callbacks[i].watcher].kind]++;
    for (int k = EVT_KIND_IO; k < EVT_KIND_COUNT; k++) {
        assert_true(defined[k] > 0);
        if (k != EVT_KIND_FORK)
            assert_true(called[k] > 0);
    }
    /* The fork watcher's callback runs only in the forked child, which must
     * not trace: seeing it here means the child wrote into our file. */
    assert_int_equal(called[EVT_KIND_FORK], 0);
}

/* The probe's two ev_once calls (io on a pipe, then a timeout): each
 * recorded as a callback of a once named after the program's callback,
 * with the kind and revents libev gave it. */
static void check_once(const struct evt_model *m)
{
    int io = 0, timer = 0;
    for (size_t i = 0; i < m->n_callbacks; i++) {
        const struct evt_m_callback *cb = &m->callbacks[i];
        const struct evt_m_watcher *w = &m->watchers[cb->watcher];
        if (strcmp(w->name, "probe_once_cb") != 0)
            continue;
        assert_true(cb->complete);
        io += w->kind == EVT_KIND_IO && w->fd >= 0 && cb->revents == EV_READ;
        timer += w->kind == EVT_KIND_TIMER && w->fd == -1 && cb->revents == EV_TIMER;
    }
    assert_int_equal(io, 1);
    assert_int_equal(timer, 1);
}

static void test_trap_probe_identical(void **state)
{
    static char plain[16384], traced[16384], err[4096];
    char *argv_plain[] = {TRAP_PROBE, NULL};
    char *argv_traced[] = {EVTRACE_BIN, "record", "-o", g_trace, "--", TRAP_PROBE, NULL};
    assert_int_equal(run(argv_plain, plain, sizeof plain, NULL, 0), 0);
    assert_int_equal(run(argv_traced, traced, sizeof traced, err, sizeof err), 0);
    assert_true(count_lines(plain) > 20);
    assert_string_equal(plain, traced);
    /* its forked child runs the loop (the fork watcher): untraced, and said */
    assert_non_null(strstr(err, "1 child process forked by " TRAP_PROBE " after its trace opened ran libev untraced"));

    struct evt_model m;
    assert_int_equal(evt_model_load_file(&m, g_trace, NULL, NULL), 0);
    check_kinds(&m);
    check_once(&m);
    assert_true(m.n_threads >= 5);   /* main + four loop threads */
    evt_model_free(&m);
    evt_reader *r;
    struct start_check c = {{0}, 0};
    assert_int_equal(evt_reader_open(&r, g_trace), 0);
    assert_int_equal(evt_reader_each(r, check_starts, &c), 0);
    evt_reader_close(r);
    assert_int_equal(c.bad, 0);
}

/* Callbacks of watchers of kind with revents ev. */
static size_t kind_callbacks(const struct evt_model *m, int kind, int ev)
{
    size_t n = 0;
    for (size_t i = 0; i < m->n_callbacks; i++) {
        const struct evt_m_callback *c = &m->callbacks[i];
        n += m->watchers[c->watcher].kind == kind && (c->revents & ev) && c->complete;
    }
    return n;
}

/* Complete callbacks of watchers named name. */
static size_t named_callbacks(const struct evt_model *m, const char *name)
{
    size_t n = 0;
    for (size_t i = 0; i < m->n_callbacks; i++) {
        const struct evt_m_watcher *w = &m->watchers[m->callbacks[i].watcher];
        n += w->name && strcmp(w->name, name) == 0 && m->callbacks[i].complete;
    }
    return n;
}

/* libev loaded after start-up by dlopen(RTLD_LOCAL), as Python loads
 * gevent's extension: the program runs as untraced (it crashed, calling
 * NULL, when the shim only looked for libev at start-up) and its loop is
 * traced: every timer and io callback. */
static void test_libev_dlopened_later(void **state)
{
    enum { N = 20 };
    static char plain[256], traced[256], err[4096];
    char n[16];
    snprintf(n, sizeof n, "%d", N);
    char *argv_plain[] = {DL_HOST, DL_LOOP, n, NULL};
    char *argv_traced[] = {EVTRACE_BIN, "record", "-o", g_trace, "--", DL_HOST, DL_LOOP, n, NULL};
    assert_int_equal(run(argv_plain, plain, sizeof plain, NULL, 0), 0);
    assert_string_equal(plain, "read 20\n");
    assert_int_equal(run(argv_traced, traced, sizeof traced, err, sizeof err), 0);
    assert_string_equal(plain, traced);
    assert_non_null(strstr(err, "trace written to"));

    struct evt_model m;
    assert_int_equal(evt_model_load_file(&m, g_trace, NULL, NULL), 0);
    assert_int_equal(kind_callbacks(&m, EVT_KIND_TIMER, EV_TIMER), N);
    assert_int_equal(kind_callbacks(&m, EVT_KIND_IO, EV_READ), N);
    assert_true(m.n_iterations > 0);
    evt_model_free(&m);
}

/* ---- Python's gevent ------------------------------------------------------------ */

#define PYTHON3 "/usr/bin/python3"

/* Debian's python3-gevent, whose loop is the system's libev.so.4. */
static int have_gevent(void)
{
    static char out[256];
    char *argv[] = {PYTHON3, "-c", "import gevent.libev.corecext", NULL};
    return access(PYTHON3, X_OK) == 0 && run(argv, out, sizeof out, NULL, 0) == 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* n connections send path at once, then all replies are read: returns
 * the seconds that took. */
static double client_burst(int port, int n, const char *path)
{
    int fds[16];
    size_t len = 0;
    double t0 = now_s();
    for (int c = 0; c < n; c++)
        client_send(fds[c] = client_connect(port), path);
    for (int c = 0; c < n; c++) {
        client_receive(fds[c], g_replies_traced, &len);
        close(fds[c]);
    }
    return now_s() - t0;
}

/* The time spent in callbacks of at least min_ns each: the loop blocked. */
static uint64_t blocked_ns(const struct evt_model *m, uint64_t min_ns)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < m->n_callbacks; i++) {
        uint64_t d = m->callbacks[i].t1 - m->callbacks[i].t0;
        sum += m->callbacks[i].complete && d >= min_ns ? d : 0;
    }
    return sum;
}

/* samples/gevent_server.py, an unmodified gevent program, under record:
 * replies byte-identical to an untraced run; four gevent.sleep(0.15)
 * requests still overlap (well under 4 x 150 ms); two time.sleep(0.15)
 * requests block the loop: callbacks of 150 ms or more, 300 ms in all;
 * one lane per connection. Skipped without python3-gevent. */
static void test_gevent_server(void **state)
{
    if (!have_gevent())
        skip();
    char *argv_plain[] = {PYTHON3, GEVENT_SERVER, NULL};
    char *argv_traced[] = {EVTRACE_BIN, "record", "-o", g_trace, "--", PYTHON3, GEVENT_SERVER, NULL};
    struct proc p;
    proc_start(&p, argv_plain);
    int port = read_port(p.out);
    size_t plain = client_session(port, 3, 3, g_replies_plain);
    client_quit(port);
    assert_int_equal(exit_code(proc_wait(&p, NULL, 0)), 0);

    proc_start(&p, argv_traced);
    port = read_port(p.out);
    size_t traced = client_session(port, 3, 3, g_replies_traced);
    assert_int_equal(plain, traced);
    assert_memory_equal(g_replies_plain, g_replies_traced, plain);
    assert_true(client_burst(port, 4, "/nap") < 0.45);
    assert_true(client_burst(port, 2, "/slow") >= 0.3);
    client_quit(port);
    char err[4096];
    assert_int_equal(exit_code(proc_wait(&p, err, sizeof err)), 0);
    assert_non_null(strstr(err, "trace written to"));

    struct evt_model m;
    assert_int_equal(evt_model_load_file(&m, g_trace, NULL, NULL), 0);
    assert_int_equal(complete_requests(&m, "conn"), 3 + 4 + 2 + 1);
    uint64_t blocked = blocked_ns(&m, 140000000);   /* the two time.sleeps, not the naps */
    assert_true(blocked >= 290000000 && blocked < 450000000);
    assert_true(m.n_iterations > 0);
    assert_int_equal(m.lost, 0);
    evt_model_free(&m);
}

/* A daemon: the program forks and exits, and its child makes its first loop
 * only after record has exited (record says it left a process running and
 * where that one will trace). The child then opens a trace of its own
 * (NAME.PID.evtrace, in record's directory) and reports it on record's
 * status channel, which nobody reads any more: the child must live on. */
static void test_daemon_outlives_record(void **state)
{
    char go[64], marker[64], cmd[512];
    snprintf(go, sizeof go, "/tmp/evt_daemon_go_%d", (int)getpid());
    snprintf(marker, sizeof marker, "/tmp/evt_daemon_alive_%d", (int)getpid());
    unlink(go);
    unlink(marker);
    snprintf(cmd, sizeof cmd, "cd /tmp && exec %s record -o %s -- %s %s %s", EVTRACE_BIN, g_trace, DAEMON_PROBE,
             go, marker);
    static char out[4096], err[4096];
    signal(SIGPIPE, SIG_DFL);   /* as a shell would start it (ignored dispositions are inherited) */
    int rc = run((char *[]){"/bin/sh", "-c", cmd, NULL}, out, sizeof out, err, sizeof err);
    signal(SIGPIPE, SIG_IGN);
    assert_int_equal(rc, 0);
    const char *left = strstr(err, DAEMON_PROBE " left 1 process running (pid ");   /* and says where */
    assert_non_null(left);
    assert_non_null(strstr(err, "writes /tmp/daemon_probe.PID.evtrace"));
    int child = 0;
    assert_int_equal(sscanf(strstr(left, "(pid "), "(pid %d", &child), 1);
    FILE *f = fopen(go, "w");   /* record is gone: now the child makes its loop */
    assert_non_null(f);
    fclose(f);
    for (int i = 0; i < 500 && access(marker, F_OK) != 0; i++)
        sleep_ms(10);
    assert_int_equal(access(marker, F_OK), 0);
    unlink(go);
    unlink(marker);
    /* and its own trace holds its timer's callback (its consumer writes
     * the end a moment after the child exits) */
    char path[64];
    snprintf(path, sizeof path, "/tmp/daemon_probe.%d.evtrace", child);
    size_t timers = 0;
    for (int i = 0; i < 200 && timers == 0; i++, sleep_ms(10)) {
        struct evt_model m;
        if (evt_model_load_file(&m, path, NULL, NULL) == 0) {
            timers = kind_callbacks(&m, EVT_KIND_TIMER, EV_TIMER);
            evt_model_free(&m);
        }
    }
    unlink(path);
    assert_int_equal(timers, 1);
}

/* A pre-fork master that makes no loop itself (gunicorn's arbiter): its
 * child traces itself into NAME.PID.evtrace, record says so and sums that
 * trace up, and no -o file is made. */
static void test_prefork_master(void **state)
{
    char marker[64], cmd[512];
    snprintf(marker, sizeof marker, "/tmp/evt_prefork_alive_%d", (int)getpid());
    snprintf(cmd, sizeof cmd, "cd /tmp && exec %s record -o %s -- %s --prefork %s", EVTRACE_BIN, g_trace,
             DAEMON_PROBE, marker);
    static char out[4096], err[4096];
    assert_int_equal(run((char *[]){"/bin/sh", "-c", cmd, NULL}, out, sizeof out, err, sizeof err), 0);
    assert_int_equal(access(marker, F_OK), 0);
    unlink(marker);
    const char *line = strstr(err, DAEMON_PROBE " made no loop itself; 1 process it forked traced itself: ");
    assert_non_null(line);
    char path[256];
    assert_int_equal(sscanf(strstr(line, "itself: ") + 8, "%255s", path), 1);
    assert_non_null(strstr(err, " loop iteration"));   /* and sums it up */
    assert_int_equal(access(g_trace, F_OK), -1);
    struct evt_model m;
    assert_int_equal(evt_model_load_file(&m, path, NULL, NULL), 0);
    assert_int_equal(kind_callbacks(&m, EVT_KIND_TIMER, EV_TIMER), 1);
    evt_model_free(&m);
    unlink(path);
}

/* A traced worker that ends a moment (300 ms) after its master: record
 * waits for it and its consumer, so the trace it names is whole when it
 * returns, and does not call the worker left running. */
static void test_worker_outlives_master(void **state)
{
    char marker[64], cmd[512];
    snprintf(marker, sizeof marker, "/tmp/evt_linger_alive_%d", (int)getpid());
    snprintf(cmd, sizeof cmd, "cd /tmp && exec %s record --follow-fork -o %s -- %s --linger %s", EVTRACE_BIN,
             g_trace, DAEMON_PROBE, marker);
    static char out[4096], err[4096];
    assert_int_equal(run((char *[]){"/bin/sh", "-c", cmd, NULL}, out, sizeof out, err, sizeof err), 0);
    assert_int_equal(access(marker, F_OK), 0);   /* the worker had finished */
    unlink(marker);
    assert_null(strstr(err, "running"));
    const char *line = strstr(err, "1 forked child process traced too: ");
    assert_non_null(line);
    char path[256];
    assert_int_equal(sscanf(strstr(line, "too: ") + 5, "%255s", path), 1);
    struct evt_model m;
    assert_int_equal(evt_model_load_file(&m, path, NULL, NULL), 0);   /* whole, at once */
    assert_int_equal(kind_callbacks(&m, EVT_KIND_TIMER, EV_TIMER), 1);
    evt_model_free(&m);
    unlink(path);
}

/* A pre-fork master with more workers than the socket to record holds
 * status lines for at once (each worker's "trace" and "consumer" lines;
 * record read them only at the end, and kept 16 consumers): every worker
 * is named, its trace whole when record returns, none called left
 * running. */
#define MANY_WORKERS 40

static void test_many_workers(void **state)
{
    char dir[] = "/tmp/evt_workers_XXXXXX", cmd[768], marker[64], pattern[64];
    assert_non_null(mkdtemp(dir));
    snprintf(marker, sizeof marker, "%s/marker", dir);
    snprintf(cmd, sizeof cmd, "cd %s && exec %s record --follow-fork -o %s/main.evtrace -- %s --workers %d %s", dir,
             EVTRACE_BIN, dir, DAEMON_PROBE, MANY_WORKERS, marker);
    static char out[4096], err[8192];
    assert_int_equal(run((char *[]){"/bin/sh", "-c", cmd, NULL}, out, sizeof out, err, sizeof err), 0);
    assert_null(strstr(err, "running"));
    char want[64];
    snprintf(want, sizeof want, "%d forked child processes traced too: ", MANY_WORKERS);
    assert_non_null(strstr(err, want));
    snprintf(pattern, sizeof pattern, "%s/daemon_probe.*.evtrace", dir);
    glob_t g;
    assert_int_equal(glob(pattern, 0, NULL, &g), 0);
    assert_int_equal(g.gl_pathc, MANY_WORKERS);
    for (size_t i = 0; i < g.gl_pathc; i++) {
        struct evt_model m;
        assert_int_equal(evt_model_load_file(&m, g.gl_pathv[i], NULL, NULL), 0);   /* whole, at once */
        assert_int_equal(kind_callbacks(&m, EVT_KIND_TIMER, EV_TIMER), 1);
        assert_int_equal(m.orphans, 0);
        evt_model_free(&m);
        unlink(g.gl_pathv[i]);
    }
    globfree(&g);
    unlink(marker);
    snprintf(pattern, sizeof pattern, "%s/main.evtrace", dir);
    unlink(pattern);
    assert_int_equal(rmdir(dir), 0);
}

/* --follow-fork: trap_probe's forked child, which runs its loop, writes a
 * trace of its own (NAME.PID.evtrace in record's directory; record names
 * it), holding the child's idle callback; the program's output and the
 * parent's trace are as without it (no fork callback in the parent's). */
static void follow_fork(const char *flush)
{
    static char plain[16384], traced[16384], err[4096];
    char cmd[512];
    snprintf(cmd, sizeof cmd, "cd /tmp && EVTRACE_FLUSH=%s exec %s record --follow-fork -o %s -- %s", flush,
             EVTRACE_BIN, g_trace, TRAP_PROBE);
    assert_int_equal(run((char *[]){TRAP_PROBE, NULL}, plain, sizeof plain, NULL, 0), 0);
    assert_int_equal(run((char *[]){"/bin/sh", "-c", cmd, NULL}, traced, sizeof traced, err, sizeof err), 0);
    assert_string_equal(plain, traced);
    const char *line = strstr(err, "1 forked child process traced too: /tmp/trap_probe.");
    assert_non_null(line);
    char path[256];
    assert_int_equal(sscanf(strstr(line, ": ") + 2, "%255s", path), 1);

    struct evt_model m;
    assert_int_equal(evt_model_load_file(&m, g_trace, NULL, NULL), 0);
    check_kinds(&m);   /* the fork callback is not in the parent's */
    evt_model_free(&m);
    size_t idle = 0, named = 0, check = 0, forkw = 0;   /* the child's consumer writes its end a moment after it exits */
    for (int i = 0; i < 200 && idle == 0; i++, sleep_ms(10)) {
        if (evt_model_load_file(&m, path, NULL, NULL) == 0) {
            idle = kind_callbacks(&m, EVT_KIND_IDLE, EV_IDLE);
            named = named_callbacks(&m, "probe_named_idle");
            check = kind_callbacks(&m, EVT_KIND_CHECK, EV_CHECK);
            forkw = kind_callbacks(&m, EVT_KIND_FORK, EV_FORK);
            assert_int_equal(named_callbacks(&m, "probe_named_check"), check);
            assert_int_equal(m.orphans, 0);   /* no LOOP_END of an iteration begun in the parent */
            assert_true(m.n_iterations >= 1);
            evt_model_free(&m);
        }
    }
    unlink(path);
    assert_true(idle >= 1);
    /* named in the child's own string table, though the parent named the
     * same callback first */
    assert_int_equal(named, idle);
    /* the check watcher the parent wrapped: defined in the child's trace
     * with its kind and name, and every run of it there -- the child's
     * trace starts at its first event (the fork watcher's callback, in
     * ev_run's first iteration), not at its first watcher start */
    int child_checks = -1;
    assert_non_null(strstr(plain, "fork: child check calls="));
    assert_int_equal(sscanf(strstr(plain, "fork: child check calls="), "fork: child check calls=%d", &child_checks), 1);
    assert_true(child_checks >= 2);
    assert_int_equal(check, (size_t)child_checks);
    assert_int_equal(forkw, 1);
}

static void test_follow_fork(void **state)
{
    follow_fork("process");   /* the default for a program this small: a consumer process */
}

/* The same with a flusher thread: the tracer a child inherits is its own
 * memory then, not shared with a consumer, and is shut another way. */
static void test_follow_fork_thread(void **state)
{
    follow_fork("thread");
}

/* The program sees the environment it would see untraced: no LD_PRELOAD,
 * no EVTRACE_* variables. */
static void test_environment_untouched(void **state)
{
    static char plain[65536], traced[65536];
    char *argv_plain[] = {"/usr/bin/env", NULL};
    char *argv_traced[] = {EVTRACE_BIN, "record", "-o", g_trace, "--", "/usr/bin/env", NULL};
    assert_int_equal(run(argv_plain, plain, sizeof plain, NULL, 0), 0);
    assert_int_equal(run(argv_traced, traced, sizeof traced, NULL, 0), 0);
    assert_string_equal(plain, traced);
}

/* exec'd children are traced only with --follow-exec. */
static void test_follow_exec(void **state)
{
    static char out[16384], err[4096];
    char *no[] = {EVTRACE_BIN, "record", "-o", g_trace, "--", "/bin/sh", "-c", "exec " TRAP_PROBE, NULL};
    char *yes[] = {EVTRACE_BIN, "record", "--follow-exec", "-o", g_trace, "--",
                   "/bin/sh", "-c", "exec " TRAP_PROBE, NULL};
    assert_int_equal(run(no, out, sizeof out, err, sizeof err), 0);
    assert_non_null(strstr(err, "never loaded libev"));
    assert_int_equal(access(g_trace, F_OK), -1);
    assert_int_equal(run(yes, out, sizeof out, err, sizeof err), 0);
    assert_non_null(strstr(err, "trace written to"));
    assert_int_equal(access(g_trace, F_OK), 0);
    /* trap_probe's forked child runs libev untraced: its parent is named as
     * what it runs now, not as the shell it was started as */
    assert_non_null(strstr(err, "1 child process forked by trap_probe after its trace opened ran libev untraced"));
}

/* ---- error paths ------------------------------------------------------------------- */

static void expect(char *const argv[], int code, const char *needle, int lines)
{
    static char out[8192], err[8192];
    assert_int_equal(run(argv, out, sizeof out, err, sizeof err), code);
    if (needle)
        assert_non_null(strstr(err, needle));
    if (lines >= 0)
        assert_int_equal(count_lines(err), lines);
}

static void test_errors(void **state)
{
    expect((char *[]){EVTRACE_BIN, "record", "--", "/nonexistent/prog", NULL}, 127, "command not found", 1);
    expect((char *[]){EVTRACE_BIN, "record", "--bogus", "--", "/bin/true", NULL}, 2, "unknown option", 1);
    expect((char *[]){EVTRACE_BIN, "record", NULL}, 2, "no program", 1);
    expect((char *[]){EVTRACE_BIN, "record", "--stall-ms", "soon", "/bin/true", NULL}, 2, "--stall-ms", 1);
    expect((char *[]){EVTRACE_BIN, "record", "-o", g_trace, "--", "/bin/true", NULL}, 0,
           "never loaded libev", 1);
    assert_int_equal(access(g_trace, F_OK), -1);
    expect((char *[]){EVTRACE_BIN, "record", "-o", g_trace, "--", "/bin/sh", "-c", "exit 3", NULL}, 3, NULL, -1);
    /* a signal death is named first (USR1 rather than SEGV: no core file) */
    expect((char *[]){EVTRACE_BIN, "record", "-o", g_trace, "--", "/bin/sh", "-c", "kill -USR1 $$", NULL},
           128 + SIGUSR1, "/bin/sh died of signal 10 (User defined signal 1)", 2);   /* + never loaded libev */
}

/* Without -o: NAME.PID.evtrace in the current directory, path printed. */
static void test_default_output(void **state)
{
    static char out[16384], err[4096];
    char *argv[] = {"/bin/sh", "-c", "cd /tmp && exec " EVTRACE_BIN " record -- " TRAP_PROBE, NULL};
    assert_int_equal(run(argv, out, sizeof out, err, sizeof err), 0);
    char *at = strstr(err, "trace written to /tmp/trap_probe.");
    assert_non_null(at);
    char path[256];
    assert_int_equal(sscanf(at, "trace written to %255s", path), 1);
    assert_non_null(strstr(path, ".evtrace"));
    assert_int_equal(access(path, R_OK), 0);
    unlink(path);
}

/* $EVTRACE_PRELOAD overrides where the library is looked for. */
static void test_preload_override(void **state)
{
    expect((char *[]){"/usr/bin/env", "EVTRACE_PRELOAD=/nonexistent/lib.so", EVTRACE_BIN, "record", "--",
                      "/bin/true", NULL},
           1, "cannot find", 1);
}

/* A static program never loads the library: record says so, no trace. */
static void test_static_program(void **state)
{
#ifdef TRAP_PROBE_STATIC
    expect((char *[]){EVTRACE_BIN, "record", "-o", g_trace, "--", TRAP_PROBE_STATIC, "--iterations", "3", NULL},
           0, "did not load", 1);
    assert_int_equal(access(g_trace, F_OK), -1);
#else
    skip();
#endif
}

/* libev compiled into the program (libev.a, libc shared): the preload
 * loads but can hook nothing; record names the object with libev inside,
 * and a program with no libev at all gets no such line. */
static void test_builtin_libev(void **state)
{
#ifdef TRAP_PROBE_EMBEDDED
    static char out[16384], err[4096];
    char *argv[] = {EVTRACE_BIN, "record", "-o", g_trace, "--", TRAP_PROBE_EMBEDDED, "--iterations", "3", NULL};
    char *plain[] = {EVTRACE_BIN, "record", "-o", g_trace, "--", "/bin/true", NULL};
    char *plain_out[] = {TRAP_PROBE_EMBEDDED, "--iterations", "3", NULL};
    static char expected[16384], unused[4096];
    assert_int_equal(run(plain_out, expected, sizeof expected, unused, sizeof unused), 0);
    assert_int_equal(run(argv, out, sizeof out, err, sizeof err), 0);
    assert_string_equal(out, expected);   /* and it ran as it does untraced */
    assert_non_null(strstr(err, "libev is compiled into " TRAP_PROBE_EMBEDDED ","));
    assert_int_equal(count_lines(err), 1);
    assert_int_equal(access(g_trace, F_OK), -1);
    assert_int_equal(run(plain, out, sizeof out, err, sizeof err), 0);
    assert_null(strstr(err, "compiled into"));
#else
    skip();
#endif
}

/* The same for a server killed by a signal, which runs no destructor:
 * the preload looks at start-up, and record at the files the program maps
 * while it runs (at 100 ms and at 1 s): a server killed after 1.3 s,
 * after 0.6 s, and as soon as it listens (before record's first look). */
static void builtin_libev_killed_after(int ms)
{
#ifdef PLAIN_SERVER_EMBEDDED
    struct proc p;
    static char err[4096];
    char *argv[] = {EVTRACE_BIN, "record", "-o", g_trace, "--", PLAIN_SERVER_EMBEDDED, NULL};
    proc_start(&p, argv);
    assert_true(read_port(p.out) > 0);
    sleep_ms(ms);
    kill(child_of(p.pid), SIGKILL);   /* the program, not record */
    assert_int_equal(exit_code(proc_wait(&p, err, sizeof err)), 128 + SIGKILL);
    assert_non_null(strstr(err, "libev is compiled into " PLAIN_SERVER_EMBEDDED ","));
    assert_int_equal(access(g_trace, F_OK), -1);
#else
    skip();
#endif
}

static void test_builtin_libev_killed(void **state)
{
    builtin_libev_killed_after(1300);
}

static void test_builtin_libev_killed_soon(void **state)
{
    builtin_libev_killed_after(600);   /* after the look at 100 ms, well before the one at 1 s */
}

static void test_builtin_libev_killed_at_once(void **state)
{
    builtin_libev_killed_after(0);   /* only the preload's look at start-up can name it */
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    g_replies_plain = calloc(1, REPLIES_MAX);
    g_replies_traced = calloc(1, REPLIES_MAX);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_server_traced_like_untraced, setup_trace, teardown_trace),
        cmocka_unit_test_setup_teardown(test_server_sigterm_default, setup_trace, teardown_trace),
        cmocka_unit_test_setup_teardown(test_server_sigterm_handler, setup_trace, teardown_trace),
        cmocka_unit_test_setup_teardown(test_server_sigkill_nothing_lost, setup_trace, teardown_trace),
        cmocka_unit_test_setup_teardown(test_server_sigkill, setup_trace, teardown_trace),
        cmocka_unit_test_setup_teardown(test_stall_summary, setup_trace, teardown_trace),
        cmocka_unit_test_setup_teardown(test_trap_probe_identical, setup_trace, teardown_trace),
        cmocka_unit_test_setup_teardown(test_libev_dlopened_later, setup_trace, teardown_trace),
        cmocka_unit_test_setup_teardown(test_gevent_server, setup_trace, teardown_trace),
        cmocka_unit_test_setup_teardown(test_daemon_outlives_record, setup_trace, teardown_trace),
        cmocka_unit_test_setup_teardown(test_follow_fork, setup_trace, teardown_trace),
        cmocka_unit_test(test_many_workers),
        cmocka_unit_test_setup_teardown(test_follow_fork_thread, setup_trace, teardown_trace),
        cmocka_unit_test_setup_teardown(test_prefork_master, setup_trace, teardown_trace),
        cmocka_unit_test_setup_teardown(test_worker_outlives_master, setup_trace, teardown_trace),
        cmocka_unit_test_setup_teardown(test_environment_untouched, setup_trace, teardown_trace),
        cmocka_unit_test_setup_teardown(test_follow_exec, setup_trace, teardown_trace),
        cmocka_unit_test_setup_teardown(test_errors, setup_trace, teardown_trace),
        cmocka_unit_test_setup_teardown(test_default_output, setup_trace, teardown_trace),
        cmocka_unit_test_setup_teardown(test_preload_override, setup_trace, teardown_trace),
        cmocka_unit_test_setup_teardown(test_static_program, setup_trace, teardown_trace),
        cmocka_unit_test_setup_teardown(test_builtin_libev, setup_trace, teardown_trace),
        cmocka_unit_test_setup_teardown(test_builtin_libev_killed, setup_trace, teardown_trace),
        cmocka_unit_test_setup_teardown(test_builtin_libev_killed_soon, setup_trace, teardown_trace),
        cmocka_unit_test_setup_teardown(test_builtin_libev_killed_at_once, setup_trace, teardown_trace),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    free(g_replies_plain);
    free(g_replies_traced);
    return rc;
}

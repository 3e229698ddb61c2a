/* bench_record.c -- what recording costs (never a test).
 *
 * Prints, one figure per line:
 *   record_ns_per_event: hot path, one thread, evt_mark in batches of 1000
 *                        (median over batches), writer running, ring large
 *                        enough that nothing is dropped
 *   clock_ns:            one clock_gettime(CLOCK_MONOTONIC), same method
 *   record_vs_clock:     the ratio of the two (the goal is < 0.5)
 *   syscall_ns:          one getppid(2), the cheapest system call
 *   record_ns_after_syscall: one evt_mark right after a getppid, over the
 *                        getppid alone (median over reps of the difference):
 *                        what a server's first event after a read, send or
 *                        epoll_wait costs. Where system calls empty the TLB
 *                        (kernel page table isolation without PCID) it pays
 *                        a page walk for each page it touches, several
 *                        times record_ns_per_event (docs/OVERHEAD.md)
 *   record_after_syscall_ratio: the two per-event costs, after a system call
 *                        over back to back
 *   server_bytes_per_event: a synthetic server (below) traced for ~1 s: file
 *                        bytes (header, strings, chunk headers, all) divided
 *                        by the records in thread chunks
 *   server_events_per_s: records per second of that server
 *   encode_ns_per_event: the writer's encoder alone (evt__enc_*), fed a
 *                        synthetic server's raw events (iterations, polls,
 *                        callbacks on 32 watchers, request phases) in ring-
 *                        sized runs, TSC clock, committed to a sink that
 *                        only counts; best of 5 passes
 *   encode_bytes_per_event: what that encoding produced per raw event
 *
 * `bench_record --encode-only [N]` runs just the encoder pass over N events
 * (default 1000000), for `valgrind --tool=callgrind --toggle-collect=
 * 'evt__enc_*' build/bench/bench_record --encode-only`: the collected
 * instructions divided by N are the encoder's instructions per event.
 *
 * The synthetic server is one libev loop with 32 socketpair connections,
 * each an evt_watch'ed io watcher; a 200 us timer plays the clients and
 * writes a byte on four connections, beginning a request for each; the
 * server's callback reads it and records read/process phases and the end.
 * So the trace has what a real one has: iterations, polls, callbacks on
 * many watchers, requests, at realistic spacing.
 *
 * usage: bench_record [--batches N] | --encode-only [N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "evt_encode.h"
#include "evt_format.h"
#include "evtrace.h"
#include "trace_check.h"

#define BATCH 1000
#define CONNS 32

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static uint64_t median(uint64_t *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_u64);
    return v[n / 2];
}

/* A tracer writing to path with a ring big enough that nothing is dropped,
 * and the id of the name its events carry; exits if it cannot open. */
static evt_tracer *open_bench(const char *path, uint32_t *name)
{
    struct evt_options o = {.path = path, .buffer_bytes = 64u << 20};
    evt_tracer *t;
    if (evt_open(&t, &o) < 0) {
        fprintf(stderr, "bench_record: cannot open the trace\n");
        exit(1);
    }
    *name = evt_intern(t, "bench");
    return t;
}

/* Median ns per event of batches of BATCH evt_mark calls, and of as many
 * clock_gettime calls, interleaved so both see the same machine. */
static void measure_hot(int batches, double *rec_ns, double *clk_ns, uint64_t *lost)
{
    const char *path = "/tmp/bench_record_hot.evtrace";
    uint32_t name;
    evt_tracer *t = open_bench(path, &name);
    uint64_t *rec = malloc(batches * sizeof *rec), *clk = malloc(batches * sizeof *clk);
    struct timespec sink;
    evt_mark(t, name, 0);   /* the thread's first event allocates its buffer */
    for (int b = 0; b < batches; b++) {
        uint64_t t0 = now_ns();
        for (int i = 0; i < BATCH; i++)
            evt_mark(t, name, i);
        uint64_t t1 = now_ns();
        for (int i = 0; i < BATCH; i++)
            clock_gettime(CLOCK_MONOTONIC, &sink);
        uint64_t t2 = now_ns();
        rec[b] = t1 - t0;
        clk[b] = t2 - t1;
    }
    *lost = evt_lost(t);
    evt_close(t);
    unlink(path);
    *rec_ns = (double)median(rec, batches) / BATCH;
    *clk_ns = (double)median(clk, batches) / BATCH;
    free(rec);
    free(clk);
}

/* ns for n getppid calls, each followed by an evt_mark when t is not
 * NULL. */
static uint64_t syscall_loop(evt_tracer *t, uint32_t name, int n)
{
    uint64_t t0 = now_ns();
    for (int i = 0; i < n; i++) {
        syscall(SYS_getppid);
        if (t)
            evt_mark(t, name, i);
    }
    return now_ns() - t0;
}

/* The first event after a system call, against the system call alone:
 * reps of 200 of each, interleaved; medians of the syscall alone and of
 * the per-rep differences (a difference, not a ratio of two noisy
 * times, so that the system call's own noise mostly cancels). */
static void measure_after_syscall(int reps, double *sys_ns, double *ev_ns)
{
    const char *path = "/tmp/bench_record_sys.evtrace";
    uint32_t name;
    evt_tracer *t = open_bench(path, &name);
    uint64_t *base = malloc(reps * sizeof *base), *diff = malloc(reps * sizeof *diff);
    evt_mark(t, name, 0);
    for (int r = 0; r < reps; r++) {
        uint64_t b = syscall_loop(NULL, 0, 200), e = syscall_loop(t, name, 200);
        base[r] = b;
        diff[r] = e > b ? e - b : 0;
    }
    evt_close(t);
    unlink(path);
    *sys_ns = (double)median(base, reps) / 200;
    *ev_ns = (double)median(diff, reps) / 200;
    free(base);
    free(diff);
}

struct server {
    evt_tracer *t;
    int client_fd[CONNS];
    ev_io conn[CONNS];
    ev_timer clients, stop;
    uint64_t next_id[CONNS];
    uint32_t n_req, n_read, n_process;
    unsigned seed;
};

static void on_conn(struct ev_loop *loop, ev_io *w, int revents)
{
    struct server *s = w->data;
    int i = (int)(w - s->conn);
    char c;
    if (read(w->fd, &c, 1) != 1)
        return;
    uint64_t id = (uint64_t)i << 32 | s->next_id[i]++;
    evt_request_phase(s->t, id, s->n_read);
    evt_request_phase(s->t, id, s->n_process);
    evt_request_end(s->t, id, 200);
}

static void on_clients(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct server *s = w->data;
    for (int k = 0; k < 4; k++) {
        int i = (int)(rand_r(&s->seed) % CONNS);
        evt_request_begin(s->t, (uint64_t)i << 32 | s->next_id[i], s->n_req);
        if (write(s->client_fd[i], "x", 1) != 1)
            return;
    }
}

static void on_stop(struct ev_loop *loop, ev_timer *w, int revents)
{
    ev_break(loop, EVBREAK_ALL);
}

static void server_setup(struct server *s, struct ev_loop *loop)
{
    s->n_req = evt_intern(s->t, "GET /");
    s->n_read = evt_intern(s->t, "read");
    s->n_process = evt_intern(s->t, "process");
    for (int i = 0; i < CONNS; i++) {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
            exit(1);
        s->client_fd[i] = sv[0];
        ev_io_init(&s->conn[i], on_conn, sv[1], EV_READ);
        s->conn[i].data = s;
        evt_watch_io(s->t, loop, &s->conn[i], "conn");
        ev_io_start(loop, &s->conn[i]);
    }
    ev_timer_init(&s->clients, on_clients, 0.0002, 0.0002);
    ev_timer_init(&s->stop, on_stop, 1.0, 0.);
    s->clients.data = s;
    evt_watch_timer(s->t, loop, &s->clients, "clients");
    ev_timer_start(loop, &s->clients);
    ev_timer_start(loop, &s->stop);
}

static void measure_size(double *bytes_per_event, double *events_per_s)
{
    const char *path = "/tmp/bench_record_server.evtrace";
    struct server s = {.seed = 1};
    if (evt_open_file(&s.t, path) < 0)
        exit(1);
    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    evt_attach_loop(s.t, loop);
    server_setup(&s, loop);
    uint64_t t0 = now_ns();
    ev_run(loop, 0);
    uint64_t t1 = now_ns();
    evt_detach_loop(s.t, loop);
    evt_close(s.t);
    for (int i = 0; i < CONNS; i++) {
        close(s.client_fd[i]);
        close(s.conn[i].fd);
    }
    ev_loop_destroy(loop);
    struct tc_trace tr;
    struct stat st;
    if (tc_decode_file(&tr, path) < 0 || stat(path, &st) < 0) {
        fprintf(stderr, "bench_record: bad trace: %s\n", tr.error);
        exit(1);
    }
    size_t events = 0;
    for (size_t i = 0; i < tr.n; i++)
        events += tr.recs[i].thread != 0xFFFFFFFFu;
    *bytes_per_event = (double)st.st_size / (double)events;
    *events_per_s = (double)events * 1e9 / (double)(t1 - t0);
    tc_free(&tr);
    unlink(path);
}


/* ---- the encoder alone -------------------------------------------------- */

#define ENC_RUN 4096   /* raw events per evt__enc_events call, like a ring run */

static int count_sink(void *ctx, const void *data, size_t len)
{
    (void)data;
    *(uint64_t *)ctx += len;
    return 0;
}

/* Raw events of a server iteration by iteration: LOOP_BEGIN, POLL_BEGIN,
 * POLL_END, then two callbacks on rotating watchers of 32, one of which
 * advances a request (phase or end or begin), LOOP_END. Ticks advance a few
 * hundred per event from ts, as on a busy loop. */
static struct evt__raw *enc_workload(size_t n, uint64_t ts)
{
    struct evt__raw *ev = calloc(n, sizeof *ev);
    uint64_t loop = 0x55d0c0de1000ull, w0 = 0x55d0c0de2000ull;
    for (size_t i = 0; i < n; i++, ts += 150 + i % 97) {
        size_t it = i / 10, k = i % 10;
        uint64_t w = w0 + ((it * 2 + (k >= 6)) % CONNS) * 160;
        static const uint8_t seq[10] = {EVT_REC_LOOP_BEGIN, EVT_REC_POLL_BEGIN, EVT_REC_POLL_END,
                                        EVT_REC_CB_BEGIN, EVT_REC_REQ_PHASE, EVT_REC_CB_END,
                                        EVT_REC_CB_BEGIN, EVT_REC_REQ_END, EVT_REC_CB_END, EVT_REC_LOOP_END};
        struct evt__raw *r = &ev[i];
        r->ts = ts;
        r->type = seq[k];
        if (k <= 2 || k == 9)
            r->obj = loop;
        else if (seq[k] == EVT_REC_CB_BEGIN || seq[k] == EVT_REC_CB_END)
            r->obj = w, r->arg = seq[k] == EVT_REC_CB_BEGIN ? 1 : 0;
        else
            r->obj = (uint64_t)(it % 64) << 32 | it, r->arg = k == 4 ? 3 : 200;
    }
    return ev;
}

/* One pass: every event through the encoder, a commit per ENC_RUN events
 * (a flush). Returns the bytes the sink received. */
static uint64_t enc_pass(const struct evt__clock *clock, const struct evt__raw *ev, size_t n)
{
    uint64_t bytes = 0;
    evt__enc *e = evt__enc_new(count_sink, &bytes, clock);
    struct evt__enc_thread th = {.index = 0, .tid = 1};
    evt__enc_file_header(e, 1, 0, 0);
    for (size_t i = 0; i < n; i += ENC_RUN) {
        evt__enc_events(e, &th, ev + i, n - i < ENC_RUN ? n - i : ENC_RUN);
        evt__enc_thread_end(e, &th);
        evt__enc_commit(e);
    }
    evt__enc_free(e);
    return bytes;
}

static void measure_encode(size_t n, int passes, double *ns_per_event, double *bytes_per_event)
{
    struct evt__clock clock;
    evt__clock_init_source(&clock, EVT__CLOCK_TSC);
    struct evt__raw *ev = enc_workload(n, clock.tsc_base + 1000);
    uint64_t best = UINT64_MAX, bytes = 0;
    for (int p = 0; p < passes; p++) {
        uint64_t t0 = now_ns();
        bytes = enc_pass(&clock, ev, n);
        uint64_t t1 = now_ns();
        if (t1 - t0 < best)
            best = t1 - t0;
    }
    free(ev);
    *ns_per_event = (double)best / (double)n;
    *bytes_per_event = (double)bytes / (double)n;
}

int main(int argc, char **argv)
{
    int batches = 2000;
    double enc_ns, enc_bpe;
    if (argc >= 2 && strcmp(argv[1], "--encode-only") == 0) {
        long n = argc == 3 ? atol(argv[2]) : 1000000;
        if (n <= 0 || argc > 3) {
            fprintf(stderr, "usage: %s --encode-only [N>0]\n", argv[0]);
            return 2;
        }
        measure_encode((size_t)n, 1, &enc_ns, &enc_bpe);
        printf("encode_ns_per_event: %.2f ns\n", enc_ns);
        printf("encode_bytes_per_event: %.2f bytes\n", enc_bpe);
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "--batches") == 0 && atoi(argv[2]) > 0) {
        batches = atoi(argv[2]);
    } else if (argc != 1) {
        fprintf(stderr, "usage: %s [--batches N] | --encode-only [N]\n", argv[0]);
        return 2;
    }
    double rec, clk, bpe, eps, sys_ns, after_ns;
    uint64_t lost;
    measure_hot(batches, &rec, &clk, &lost);
    measure_after_syscall(batches, &sys_ns, &after_ns);
    measure_size(&bpe, &eps);
    measure_encode(1000000, 5, &enc_ns, &enc_bpe);
    printf("record_ns_per_event: %.2f ns\n", rec);
    printf("clock_ns: %.2f ns\n", clk);
    printf("record_vs_clock: %.2f ratio\n", rec / clk);
    printf("record_lost: %llu events\n", (unsigned long long)lost);
    printf("syscall_ns: %.2f ns\n", sys_ns);
    printf("record_ns_after_syscall: %.2f ns\n", after_ns);
    printf("record_after_syscall_ratio: %.2f ratio\n", after_ns / rec);
    printf("server_bytes_per_event: %.2f bytes\n", bpe);
    printf("server_events_per_s: %.0f events/s\n", eps);
    printf("encode_ns_per_event: %.2f ns\n", enc_ns);
    printf("encode_bytes_per_event: %.2f bytes\n", enc_bpe);
    return 0;
}

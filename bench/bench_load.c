/* bench_load.c -- how fast the reader and the model load a big trace.
 *
 * `bench_load [N]` generates a synthetic trace (default 10M events) that
 * looks like a busy single-loop server on two threads -- iterations, poll
 * waits, callbacks, requests with phases, a counter -- writes it to /tmp,
 * then times (thread CPU time, best of 3) a bare reader walk and a full
 * model load of the file; `bench_load FILE` does the same with an existing
 * trace. Prints one `name: value unit` line per figure.
 * A benchmark, never a test.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "evt_model.h"
#include "evtrace.h"
#include "trace_gen.h"

/* CPU time of this thread: the machine is shared, and wall time would
 * measure the neighbours too. Kernel time (page faults) is included. */
static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* One loop iteration of thread th: 8 to 10 events. */
static size_t iteration(struct tg *g, uint64_t *ts, uint64_t *req, unsigned i)
{
    size_t n = 0;
    tg_simple(g, EVT_REC_LOOP_BEGIN, *ts += 150, 1), n++;
    tg_simple(g, EVT_REC_POLL_BEGIN, *ts += 200, 1), n++;
    tg_simple(g, EVT_REC_POLL_END, *ts += 3000 + i % 5000, 1), n++;
    tg_cb_begin(g, *ts += 100, 1 + i % 4, 1), n++;
    unsigned step = i % 4;
    if (step == 0)
        tg_req(g, EVT_REC_REQ_BEGIN, *ts += 300, ++*req, 10), n++;
    else if (step < 3)
        tg_req(g, EVT_REC_REQ_PHASE, *ts += 300, *req, 11 + step), n++;
    else
        tg_req(g, EVT_REC_REQ_END, *ts += 300, *req, 200), n++;
    tg_simple(g, EVT_REC_CB_END, *ts += 800 + i % 900, 1 + i % 4), n++;
    if (i % 8 == 0)
        tg_sample(g, EVT_REC_COUNTER, *ts += 50, 20, (int64_t)(i % 100)), n++;
    tg_simple(g, EVT_REC_LOOP_END, *ts += 100, 1), n++;
    return n;
}

static void generate(struct tg *g, size_t target)
{
    tg_init(g, 4242, 1000);
    g->no_expect = 1;
    tg_chunk(g, EVT_THREAD_META, 1000);
    const char *names[] = { "", "", "", "", "", "", "", "", "", "", "GET /", "", "read", "process", "", "", "",
                            "", "", "", "queue" };
    for (uint32_t id = 1; id < 21; id++)
        if (*names[id])
            tg_string(g, 1000, id, names[id]);
    for (uint32_t w = 1; w <= 4; w++)
        tg_watcher(g, 1000, w, EVT_KIND_IO, (int32_t)w + 6, 0, 1);
    uint64_t ts[2] = { 2000, 2000 }, req[2] = { 0, 1u << 30 };
    size_t events = 0;
    for (unsigned i = 0; events < target; i++) {
        unsigned th = (i / 1000) % 2; /* ~8000 events (~40 KiB) per chunk */
        if (i % 1000 == 0)
            tg_chunk(g, th, ts[th]);
        events += iteration(g, &ts[th], &req[th], i);
    }
    tg_finish(g);
}

static int count(void *ctx, const struct evt_event *ev)
{
    ++*(uint64_t *)ctx;
    return 0;
}

/* Writes a synthetic trace of about target events to path. */
static int write_synthetic(const char *path, size_t target)
{
    struct tg g;
    generate(&g, target);
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(g.buf, 1, g.len, f) == g.len;
    if (f && fclose(f) != 0)
        ok = 0;
    tg_free(&g);
    if (!ok)
        perror(path);
    return ok ? 0 : -1;
}

static int fail(const char *path, int own)
{
    fprintf(stderr, "bench_load: cannot load %s\n", path);
    if (own)
        unlink(path);
    return 1;
}

int main(int argc, char **argv)
{
    char path[4096];
    int own = argc < 2 || strspn(argv[1], "0123456789") == strlen(argv[1]);
    if (own) { /* bench_load [N]: a synthetic trace of N events */
        snprintf(path, sizeof path, "/tmp/evtrace_bench_%d.evtrace", (int)getpid());
        if (write_synthetic(path, argc > 1 ? strtoull(argv[1], NULL, 10) : 10000000) < 0)
            return 1;
    } else { /* bench_load FILE: an existing trace */
        snprintf(path, sizeof path, "%s", argv[1]);
    }
    size_t bytes = 0;

    double best_walk = 1e9, best_model = 1e9;
    uint64_t events = 0;
    for (int rep = 0; rep < 3; rep++) {
        evt_reader *r;
        if (evt_reader_open(&r, path) < 0)
            return fail(path, own);
        bytes = evt_reader_size(r);
        uint64_t n = 0;
        double t0 = now_s();
        int rc = evt_reader_each(r, count, &n);
        double t1 = now_s();
        events = evt_reader_events(r);
        struct evt_model m;
        rc |= evt_model_load(&m, r, NULL, NULL);
        double t2 = now_s();
        evt_model_free(&m);
        evt_reader_close(r);
        if (rc && rc != EVT_ETRUNC && rc != EVT_EFORMAT)
            return fail(path, own);
        best_walk = t1 - t0 < best_walk ? t1 - t0 : best_walk;
        best_model = t2 - t1 < best_model ? t2 - t1 : best_model;
    }
    if (own)
        unlink(path);
    printf("load_trace_events: %llu events\n", (unsigned long long)events);
    printf("load_trace_size: %.1f MB\n", (double)bytes / 1e6);
    printf("load_trace_bytes_per_event: %.2f bytes\n", (double)bytes / (double)events);
    printf("reader_walk: %.1f Mevents/s\n", (double)events / best_walk / 1e6);
    printf("model_load: %.1f Mevents/s\n", (double)events / best_model / 1e6);
    printf("model_load_time: %.3f s\n", best_model);
    printf("model_vs_walk: %.2f x\n", best_model / best_walk);
    return 0;
}

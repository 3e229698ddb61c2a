/* bench_viewer.c -- can evview keep up with a big trace?
 *
 * Generates a 10-million-event trace (argv[1] to change) shaped like a
 * busy async server: one loop, ~100 µs iterations with a poll wait and a
 * callback each, requests that overlap (about 8 in flight) going through
 * read/process/respond. It is encoded with the reader area's test
 * generator (tests/trace_gen.c, evt_format.h helpers) into a file in /tmp,
 * then:
 *   viewer_load_events_per_s  events / (evt_model_load_file + evv_scene_build), best of 2
 *   frame_ms_p50, frame_ms_p99  evv_draw on a 1600x900 software renderer,
 *                               200 frames zooming in from the whole trace to
 *                               ~0.4 ms while panning, then back out (after
 *                               one untimed warm-up frame that fills the
 *                               glyph cache)
 *   png_export_ms               evv_export_png at 1920x1080, whole trace
 * EVV_BENCH_VERBOSE=1 prints each frame's time and scale to stderr;
 * EVV_BENCH_KEEP=PATH writes the trace to PATH and leaves it there.
 * A benchmark, never a test: it prints, it does not judge.
 */
#include <SDL.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "evt_model.h"
#include "evv_export.h"
#include "evv_render.h"
#include "evv_scene.h"
#include "trace_gen.h"

#define FRAMES 200

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* One iteration: loop, poll, one callback carrying one request event. */
static size_t iteration(struct tg *g, uint64_t *ts, unsigned i)
{
    uint64_t req = i / 4 + 1;            /* request r lives over iterations 4r-4 .. 4r+28 */
    unsigned step = i % 4;
    tg_simple(g, EVT_REC_LOOP_BEGIN, *ts += 2000, 1);
    tg_simple(g, EVT_REC_POLL_BEGIN, *ts += 1000, 1);
    tg_simple(g, EVT_REC_POLL_END, *ts += 40000 + (i * 7919u) % 60000, 1);
    tg_cb_begin(g, *ts += 500, 1 + step, 1);
    if (step == 0)
        tg_req(g, EVT_REC_REQ_BEGIN, *ts += 1000, req, 10);
    else if (step == 1 && req > 2)
        tg_req(g, EVT_REC_REQ_PHASE, *ts += 1000, req - 2, 12);
    else if (step == 2 && req > 4)
        tg_req(g, EVT_REC_REQ_PHASE, *ts += 1000, req - 4, 13);
    else if (req > 8)
        tg_req(g, EVT_REC_REQ_END, *ts += 1000, req - 8, 200);
    tg_simple(g, EVT_REC_CB_END, *ts += 5000 + (i * 104729u) % 20000, 1 + step);
    tg_simple(g, EVT_REC_LOOP_END, *ts += 500, 1);
    return 7;
}

static void generate(struct tg *g, size_t target)
{
    static const char *const names[] = { "GET /items", "", "read", "process" };
    static const char *const watchers[] = { "on_accept", "on_read", "on_db_done", "on_write" };
    tg_init(g, 4242, 1000);
    g->no_expect = 1;
    tg_chunk(g, EVT_THREAD_META, 1000);
    for (uint32_t k = 0; k < 4; k++) {
        if (*names[k])
            tg_string(g, 1000, 10 + k, names[k]);
        tg_string(g, 1000, 20 + k, watchers[k]);
    }
    uint64_t ts = 2000;
    size_t events = 0;
    for (unsigned i = 0; events < target; i++) {
        if (i % 1000 == 0) {
            tg_chunk(g, 0, ts);
            if (i == 0)
                for (uint32_t w = 1; w <= 4; w++)
                    tg_watcher(g, ts, w, EVT_KIND_IO, (int32_t)w + 6, 19 + w, 1);
        }
        events += iteration(g, &ts, i);
    }
    tg_finish(g);
}

static int write_trace(char *path, size_t len, size_t target)
{
    struct tg g;
    generate(&g, target);
    const char *keep = getenv("EVV_BENCH_KEEP");   /* keep the trace there (to open it in evview) */
    if (keep)
        snprintf(path, len, "%s", keep);
    else
        snprintf(path, len, "/tmp/evv_bench_%d.evtrace", (int)getpid());
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(g.buf, 1, g.len, f) == g.len;
    if (f && fclose(f) != 0)
        ok = 0;
    tg_free(&g);
    return ok ? 0 : -1;
}

/* Load + LOD build, best of 2; leaves the last model and scene loaded.
 * *lod gets the LOD (scene) part of the best run. */
static double bench_load(const char *path, struct evt_model *m, struct evv_scene *s, double *lod)
{
    double best = 1e9;
    for (int rep = 0; rep < 2; rep++) {
        double t0 = now_s();
        if (evt_model_load_file(m, path, NULL, NULL) < 0)
            return -1;
        double t1 = now_s();
        if (evv_scene_build(s, m, path, 100000000ull) < 0)
            return -1;
        double t = now_s() - t0;
        if (t < best)
            best = t, *lod = now_s() - t1;
        if (rep == 0) {
            evv_scene_free(s);
            evt_model_free(m);
        }
    }
    return best;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* 200 frames: zoom in around a moving point while panning, then out. */
static int bench_frames(const struct evv_scene *s, double *p50, double *p99)
{
    char err[256];
    double ms[FRAMES];
    struct evv_target tgt;
    struct evv_viewport vp;
    SDL_Surface *surf = SDL_CreateRGBSurfaceWithFormat(0, 1600, 900, 32, SDL_PIXELFORMAT_ARGB8888);
    SDL_Renderer *r = surf ? SDL_CreateSoftwareRenderer(surf) : NULL;
    if (!r || evv_target_init(&tgt, r, err, sizeof err) < 0)
        return fprintf(stderr, "bench_viewer: %s\n", r ? err : SDL_GetError()), -1;
    evv_export_viewport(&vp, s, 1600, 900, 0, s->duration);
    evv_draw(&tgt, s, &vp, NULL);   /* warm-up: fills the glyph cache, as a window's first frame does */
    for (int i = 0; i < FRAMES; i++) {
        double x = vp.width * (0.3 + 0.4 * (i % 50) / 50.0);
        evv_viewport_zoom(&vp, i < FRAMES / 2 ? 0.88 : 1 / 0.88, x);
        evv_viewport_pan(&vp, i % 2 ? 37 : -23);
        double t0 = now_s();
        evv_draw(&tgt, s, &vp, NULL);
        ms[i] = (now_s() - t0) * 1e3;
        if (getenv("EVV_BENCH_VERBOSE"))   /* which zoom levels cost what */
            fprintf(stderr, "frame %d: %.2f ms at %.0f ns/px\n", i, ms[i], vp.ns_per_px);
    }
    evv_target_free(&tgt);
    SDL_DestroyRenderer(r);
    SDL_FreeSurface(surf);
    qsort(ms, FRAMES, sizeof *ms, cmp_double);
    *p50 = ms[FRAMES / 2];
    *p99 = ms[FRAMES * 99 / 100];
    return 0;
}

static double bench_png(const struct evv_scene *s)
{
    char path[64], err[256];
    struct evv_viewport vp;
    snprintf(path, sizeof path, "/tmp/evv_bench_%d.png", (int)getpid());
    evv_export_viewport(&vp, s, 1920, 1080, 0, s->duration);
    double t0 = now_s();
    int rc = evv_export_png(s, &vp, 1920, 1080, path, err, sizeof err);
    double t = now_s() - t0;
    unlink(path);
    return rc < 0 ? -1 : t * 1e3;
}

int main(int argc, char **argv)
{
    size_t target = argc > 1 ? strtoull(argv[1], NULL, 10) : 10000000;
    char path[64];
    struct evt_model m;
    struct evv_scene s;
    double p50, p99, lod = 0;
    if (write_trace(path, sizeof path, target) < 0)
        return perror("bench_viewer: write trace"), 1;
    double load = bench_load(path, &m, &s, &lod);
    if (!getenv("EVV_BENCH_KEEP"))
        unlink(path);
    if (load < 0)
        return fprintf(stderr, "bench_viewer: load failed\n"), 1;
    printf("viewer_events: %llu events\n", (unsigned long long)m.events);
    printf("viewer_load_events_per_s: %.0f events/s\n", (double)m.events / load);
    printf("viewer_load_s: %.3f s\n", load);
    printf("viewer_lod_build_s: %.3f s\n", lod);
    if (bench_frames(&s, &p50, &p99) == 0) {
        printf("frame_ms_p50: %.2f ms\n", p50);
        printf("frame_ms_p99: %.2f ms\n", p99);
    }
    printf("png_export_ms: %.1f ms\n", bench_png(&s));
    evv_scene_free(&s);
    evt_model_free(&m);
    return 0;
}

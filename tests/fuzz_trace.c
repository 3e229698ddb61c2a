/* fuzz_trace.c -- one fuzz input through everything that reads a trace:
 * the reader, the model, stats (text and JSON), stall listing and the
 * Chrome export. Built two ways (tests/reader_tests.cmake):
 *
 *   - fuzz_trace, a libFuzzer target (cmake -DEVT_FUZZ=ON with clang; see
 *     docs/READER.md "Fuzzing"): LLVMFuzzerTestOneInput is this file's
 *     entry point and the sanitizers do the judging;
 *   - test_fuzz_replay, a ctest that feeds every file under tests/fuzz/
 *     (the seed traces and every input the fuzzer ever found a bug with)
 *     through the same function, in every build.
 *
 * The first input byte says how to read the rest, so that mutations reach
 * past the CRCs: with bit 0 set, the file header's and every chunk's CRC
 * are recomputed before reading (tg_fix_header, tg_fix_crcs), so a changed
 * byte inside a chunk reaches the record decoder instead of stopping at the
 * checksum; with bit 0 clear the bytes are read as they are (the framing
 * and the CRC checks themselves). The second byte picks a cut point; with
 * bit 1 of the first byte set, the whole trace and the cut one also go
 * together into one export (and the viewer stacks them, fuzz_view.c).
 * EVT_FUZZ_DUMP=FILE writes the trace the tools would read (CRCs fixed),
 * to look at a failing input with `evtrace stats` or `export`.
 *
 * Besides "no crash, no leak, no undefined behaviour", it checks what the
 * reader promises for any input (evt_reader.h), and fails loudly (abort)
 * when one does not hold:
 *   - a walk that returns 0 leaves no error message; one that returns an
 *     error leaves a message;
 *   - the same bytes cut short deliver a prefix of the full walk's events
 *     (a truncated trace opens up to its last good record);
 *   - read from a file (a memfd), the same bytes give what they give from
 *     memory: the open's result, the walk's result, its message and every
 *     event (the reader's two ways in, evt_reader.c's bytes_at);
 *   - the model loads whenever the reader opens, and its spans end no
 *     earlier than they begin;
 *   - the stats JSON and the Chrome export are valid JSON (jansson parses
 *     them), damaged input included.
 */
#define _GNU_SOURCE
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "evt_encode.h"
#include "evt_export.h"
#include "evt_model.h"
#include "evt_reader.h"
#include "evt_stats.h"
#include "fuzz_trace.h"
#include "trace_gen.h"

#define FUZZ_MAX_EVENTS 200000

struct collect {
    struct evt_event *ev;
    size_t n, cap;
};

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_trace: %s\n", what);
    abort();
}

static int collect_one(void *ctx, const struct evt_event *ev)
{
    struct collect *c = ctx;
    if (c->n == FUZZ_MAX_EVENTS)
        return 1;   /* enough: the prefix check covers the first ones */
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 256;
        struct evt_event *p = realloc(c->ev, cap * sizeof *p);
        if (!p)
            fail("out of memory");
        c->ev = p;
        c->cap = cap;
    }
    c->ev[c->n++] = *ev;
    return 0;
}

/* Walks r into c and closes it; returns the walk's result. The error
 * message goes to err (256 bytes) when err is not NULL. */
static int walk_reader(evt_reader *r, struct collect *c, char *err)
{
    int rc = evt_reader_each(r, collect_one, c);
    const char *msg = evt_reader_error(r);
    if (rc == 0 && msg[0])
        fail("a clean walk left an error message");
    if ((rc == EVT_ETRUNC || rc == EVT_EFORMAT) && !msg[0])
        fail("a damaged walk left no error message");
    if (err)
        snprintf(err, 256, "%s", msg);
    evt_reader_close(r);
    return rc;
}

/* Walks the file; returns the walk's result, or 1 when it could not open
 * (then c is empty). */
static int walk(const uint8_t *data, size_t len, struct collect *c)
{
    evt_reader *r;
    if (evt_reader_open_mem(&r, data, len) != 0)
        return 1;
    return walk_reader(r, c, NULL);
}

/* The bytes as a file (a memfd, by its /proc path) must read as they do
 * from memory: same open result, walk result, message and events. */
static void check_file_agrees(const uint8_t *data, size_t len)
{
    int fd = memfd_create("fuzz_trace", MFD_CLOEXEC);
    if (fd < 0 || (len && write(fd, data, len) != (ssize_t)len))
        fail("cannot make a memfd");
    char path[64], merr[256] = "", ferr[256] = "";
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    struct collect m = {0}, f = {0};
    evt_reader *rm, *rf;
    int om = evt_reader_open_mem(&rm, data, len), of = evt_reader_open(&rf, path);
    if (om != of)
        fail("a file and the same bytes in memory open differently");
    if (om == 0) {
        int wm = walk_reader(rm, &m, merr), wf = walk_reader(rf, &f, ferr);
        if (wm != wf || strcmp(merr, ferr) != 0 || m.n != f.n)
            fail("a file and the same bytes in memory walk differently");
        for (size_t i = 0; i < m.n; i++)
            if (!tg_event_eq(&m.ev[i], &f.ev[i]))
                fail("a file and the same bytes in memory deliver different events");
    }
    close(fd);
    free(m.ev);
    free(f.ev);
}

/* The cut copy must deliver a prefix of what the whole file delivers. */
static void check_prefix(const uint8_t *data, size_t len, size_t cut)
{
    struct collect whole = {0}, part = {0};
    int rc_whole = walk(data, len, &whole);
    walk(data, cut, &part);
    if (rc_whole != 1 && whole.n < FUZZ_MAX_EVENTS) {
        if (part.n > whole.n)
            fail("a cut file delivered more events than the whole one");
        for (size_t i = 0; i < part.n; i++)
            if (!tg_event_eq(&part.ev[i], &whole.ev[i]))
                fail("a cut file's events are not a prefix of the whole file's");
    }
    free(whole.ev);
    free(part.ev);
}

static void check_json(const char *text, size_t len, const char *what)
{
    json_error_t err;
    json_t *doc = json_loadb(text, len, 0, &err);
    if (!doc) {
        fprintf(stderr, "fuzz_trace: %s is not JSON: %s at %d\n", what, err.text, err.position);
        abort();
    }
    json_decref(doc);
}

static void check_model(const struct evt_model *m)
{
    for (size_t i = 0; i < m->n_callbacks; i++)
        if (m->callbacks[i].t1 < m->callbacks[i].t0)
            fail("a callback ends before it begins");
    for (size_t i = 0; i < m->n_requests; i++)
        if (m->requests[i].t1 < m->requests[i].t0)
            fail("a request ends before it begins");
    for (size_t i = 0; i < m->n_iterations; i++)
        if (m->iterations[i].t1 < m->iterations[i].t0)
            fail("an iteration ends before it begins");
}

static void run_stats(const struct evt_model *m)
{
    struct evt_stats s;
    if (evt_stats_compute(&s, m, 10 * 1000000ull) != 0)
        return;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (f) {
        evt_stats_print_text(&s, f);
        fclose(f);
    }
    free(text);
    text = NULL;
    f = open_memstream(&text, &len);
    if (f) {
        int rc = evt_stats_print_json(&s, f);
        fclose(f);
        if (rc == 0)
            check_json(text, len, "the stats JSON");
    }
    free(text);
    evt_stats_free(&s);
}

static void run_model(const uint8_t *data, size_t len)
{
    evt_reader *r;
    if (evt_reader_open_mem(&r, data, len) != 0)
        return;
    struct evt_model m;
    int rc = evt_model_load(&m, r, NULL, NULL);
    evt_reader_close(r);
    if (rc == EVT_ENOMEM)
        return;
    check_model(&m);
    const struct evt_m_callback **stalls = NULL;
    evt_model_stalls(&m, 1000000ull, &stalls);
    free(stalls);
    run_stats(&m);
    evt_model_free(&m);
}

/* The export of the whole file, or (cut > 0) of the whole file and its
 * first cut bytes as one document, as `export` does with several files. */
static void run_export(const uint8_t *data, size_t len, size_t cut)
{
    evt_reader *r[2];
    size_t n = cut ? 2 : 1;
    if (evt_reader_open_mem(&r[0], data, len) != 0)
        return;
    if (n == 2 && evt_reader_open_mem(&r[1], data, cut) != 0)
        n = 1;
    struct evt__memsink out = {0};
    int rc = evt_export_chrome_many(r, n, evt__memsink_write, &out);
    while (n > 0)
        evt_reader_close(r[--n]);
    if (rc == 0 || rc == EVT_ETRUNC || rc == EVT_EFORMAT)
        check_json((const char *)out.data, out.len, "the Chrome export");
    free(out.data);
}

void evt_fuzz_keep(const char *env, const uint8_t *data, size_t len)
{
    const char *path = getenv(env);
    FILE *f = path ? fopen(path, "wb") : NULL;
    if (f) {
        fwrite(data, 1, len, f);
        fclose(f);
    }
}

uint8_t *evt_fuzz_file(const uint8_t *data, size_t size, size_t *len)
{
    if (size < 2)
        return NULL;
    *len = size - 2;
    uint8_t *file = malloc(*len ? *len : 1);
    if (!file)
        return NULL;
    memcpy(file, data + 2, *len);
    if ((data[0] & 1) && *len >= EVT_FILE_HEADER_SIZE) {
        uint32_t header_size;
        memcpy(&header_size, file + 12, 4);
        if (header_size >= EVT_FILE_HEADER_SIZE && header_size <= *len)
            tg_fix_header(file, header_size);
        tg_fix_crcs(file, *len);
    }
    evt_fuzz_keep("EVT_FUZZ_DUMP", file, *len);   /* the trace as the tools will read it */
    return file;
}

int evt_fuzz_trace(const uint8_t *data, size_t size)
{
    size_t len;
    uint8_t *file = evt_fuzz_file(data, size, &len);
    if (!file)
        return 0;
    check_prefix(file, len, len * data[1] / 256);
    check_file_agrees(file, len);
    run_model(file, len);
    run_export(file, len, 0);
    if (data[0] & 2)   /* as two traces in one document: whole and cut */
        run_export(file, len, len * data[1] / 256);
    free(file);
    return 0;
}

/* libFuzzer's entry point: EVT_FUZZ_MAIN names the target (evt_fuzz_trace
 * for fuzz_trace, evt_fuzz_view for fuzz_view: tests/reader_tests.cmake,
 * tests/viewer_tests.cmake). */
#ifdef EVT_FUZZ_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return EVT_FUZZ_MAIN(data, size);
}
#endif

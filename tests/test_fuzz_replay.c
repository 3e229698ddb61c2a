/* test_fuzz_replay.c -- every saved fuzz input, and a fixed sweep of
 * mutations of each seed, through a fuzz target: the trace's (fuzz_trace.c,
 * as test_fuzz_replay) or the viewer's (fuzz_view.c, as test_fuzz_view).
 *
 * tests/fuzz/seeds/ holds small real traces (a sample server, loadgen,
 * plain_server under record, a trace cut short); tests/fuzz/found/ every
 * input libFuzzer found a bug with, kept after the fix so the bug stays
 * fixed; tests/fuzz/corpus/ libFuzzer's corpus, merged down to the
 * smallest inputs that keep its coverage (docs/READER.md, "Fuzzing"). Each
 * file is one fuzz input: two control bytes (fuzz_trace.c says what they
 * mean), then the trace. The corpus is replayed as it is, each file once:
 * it already is what the fuzzer's mutations reached, and sweeping its 177
 * files took 88 s where the seeds' sweep takes 2 (normal build).
 *
 * The sweep is a small deterministic fuzzer for builds without libFuzzer:
 * for each seed, the byte at each of evenly spread offsets gets its low
 * bit flipped, its high bit flipped, and zeroed (0xFF if it was zero), with
 * the CRCs then fixed (so the change reaches the record decoder)
 * and without (so it reaches the checks), each read whole and cut, and
 * every other pair also as two traces at once (export, viewer chain). The
 * target aborts when a reader promise fails; the ASan+UBSan build (
 * scripts/test.sh) adds memory errors and leaks to what fails. When an
 * input fails (a sweep's or a saved one), run again with
 * EVT_FUZZ_SAVE=FILE: each input is written there before it runs, so after
 * the abort FILE holds the one that failed (copy it to tests/fuzz/found/
 * with the fix).
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fuzz_trace.h"

/* Which target (the viewer's test builds this file with
 * FUZZ_ONE=evt_fuzz_view and fewer positions: a frame costs more). */
#ifndef FUZZ_ONE
#define FUZZ_ONE evt_fuzz_trace
#endif
#ifndef SWEEP_POSITIONS
#define SWEEP_POSITIONS 400
#endif
/* tests/fuzz/corpus/ holds 177 files; far fewer means it went missing or
 * a refresh went wrong, and a replay of nothing must not pass. */
#define CORPUS_MIN 100

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = malloc(n > 0 ? (size_t)n : 1);
    assert_non_null(p);
    assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return p;
}

/* Calls fn(path, ctx) for every regular file in DIR under tests/fuzz/;
 * returns how many. */
static size_t each_file(const char *dir, void (*fn)(const char *, void *), void *ctx)
{
    const char *src = getenv("EVT_SOURCE_DIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/fuzz/%s", src ? src : ".", dir);
    DIR *d = opendir(path);
    if (!d)
        return 0;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char file[8192];
        snprintf(file, sizeof file, "%s/%s", path, e->d_name);
        fn(file, ctx);
        n++;
    }
    closedir(d);
    return n;
}

static void replay(const char *path, void *ctx)
{
    size_t len;
    uint8_t *p = slurp(path, &len);
    evt_fuzz_keep("EVT_FUZZ_SAVE", p, len);   /* as in the sweep: see the top */
    FUZZ_ONE(p, len);
    free(p);
}

/* Mutations of one seed: at each of SWEEP_POSITIONS offsets, three
 * changes, each read with fixed CRCs and without, cut at a varying point. */
static void sweep(const char *path, void *ctx)
{
    size_t len;
    uint8_t *p = slurp(path, &len);
    size_t *runs = ctx;
    if (len > 2) {
        static const uint8_t flip[2] = {0x01, 0x80};
        for (size_t k = 0; k < SWEEP_POSITIONS; k++) {
            size_t at = 2 + (len - 2) * k / SWEEP_POSITIONS;
            uint8_t keep = p[at];
            for (int c = 0; c < 3; c++) {
                p[at] = c < 2 ? keep ^ flip[c] : keep ? 0 : 0xFF;
                p[0] = (uint8_t)(k & 3);          /* CRCs fixed on odd k; two traces when k & 2 */
                p[1] = (uint8_t)(k * 37 + c);     /* the cut */
                evt_fuzz_keep("EVT_FUZZ_SAVE", p, len);   /* see the top */
                FUZZ_ONE(p, len);
                (*runs)++;
            }
            p[at] = keep;
        }
    }
    free(p);
}

static void saved_inputs_hold(void **state)
{
    size_t seeds = each_file("seeds", replay, NULL);
    each_file("found", replay, NULL);
    assert_true(seeds >= 3);   /* the seeds are there: the sweep has material */
}

/* Each corpus file once, no sweep (see the top); the count is checked
 * because each_file finds nothing in a missing directory. */
static void corpus_holds(void **state)
{
    size_t n = each_file("corpus", replay, NULL);
    assert_true(n >= CORPUS_MIN);
}

static void mutated_seeds_hold(void **state)
{
    size_t runs = 0;
    each_file("seeds", sweep, &runs);
    assert_true(runs >= 3 * 3 * SWEEP_POSITIONS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(saved_inputs_hold),
        cmocka_unit_test(corpus_holds),
        cmocka_unit_test(mutated_seeds_hold),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_viewport.c -- zoom keeps the time under the cursor, pan and fit are
 * exact, resize keeps the scale; evview's argument parsing. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "evv_cli.h"
#include "evv_viewport.h"

static double rnd(unsigned *s, double lo, double hi)
{
    return lo + (hi - lo) * (rand_r(s) / (double)RAND_MAX);
}

static void test_zoom_keeps_cursor_time(void **state)
{
    unsigned seed = 12345;
    for (int i = 0; i < 10000; i++) {
        struct evv_viewport vp;
        int w = 100 + rand_r(&seed) % 3000;
        double t0 = rnd(&seed, -1e9, 1e12), span = rnd(&seed, 10, 1e11);
        evv_viewport_set(&vp, t0, t0 + span, w);
        double x = rnd(&seed, 0, w), f = rnd(&seed, 0.05, 20);
        double before = evv_viewport_t(&vp, x), npp = vp.ns_per_px;
        evv_viewport_zoom(&vp, f, x);
        double after = evv_viewport_t(&vp, x);
        assert_true(fabs(after - before) <= 1e-9 * fmax(1, fabs(before)) + 1e-6);
        double want = fmin(fmax(npp * f, EVV_NS_PER_PX_MIN), EVV_NS_PER_PX_MAX);
        assert_true(fabs(vp.ns_per_px - want) <= 1e-12 * want);
        assert_true(fabs(vp.t1 - (vp.t0 + vp.ns_per_px * w)) <= 1e-9 * fmax(1, fabs(vp.t1)));
    }
}

static void test_zoom_clamps_and_still_anchors(void **state)
{
    struct evv_viewport vp;
    evv_viewport_set(&vp, 0, 1000, 1000);   /* 1 ns/px */
    double t = evv_viewport_t(&vp, 250);
    for (int i = 0; i < 100; i++)
        evv_viewport_zoom(&vp, 0.1, 250);
    assert_true(vp.ns_per_px == EVV_NS_PER_PX_MIN);
    assert_true(fabs(evv_viewport_t(&vp, 250) - t) < 1e-6);
    for (int i = 0; i < 100; i++)
        evv_viewport_zoom(&vp, 10, 250);
    assert_true(vp.ns_per_px == EVV_NS_PER_PX_MAX);
    evv_viewport_zoom(&vp, 0, 10);     /* ignored */
    evv_viewport_zoom(&vp, -1, 10);
    assert_true(vp.ns_per_px == EVV_NS_PER_PX_MAX);
}

static void test_pan_exact(void **state)
{
    struct evv_viewport vp;
    evv_viewport_set(&vp, 1000, 9000, 800);   /* 10 ns/px */
    evv_viewport_pan(&vp, 25);                /* content moves right: earlier times */
    assert_true(vp.t0 == 750 && vp.t1 == 8750);
    evv_viewport_pan(&vp, -125);
    assert_true(vp.t0 == 2000 && vp.t1 == 10000);
    assert_true(vp.ns_per_px == 10);
    assert_true(evv_viewport_x(&vp, 2500) == 50);
    assert_true(evv_viewport_t(&vp, 50) == 2500);
}

static void test_fit_and_set(void **state)
{
    struct evv_viewport vp;
    evv_viewport_fit(&vp, 5e9, 1000);
    assert_true(fabs(vp.t0 + 1e8) < 1e-3);           /* 2 % margin each side */
    assert_true(fabs(vp.t1 - 5.1e9) < 1e-3);
    assert_true(evv_viewport_x(&vp, 0) > 0 && evv_viewport_x(&vp, 5e9) < 1000);
    evv_viewport_fit(&vp, 0, 500);                    /* empty trace: still a sane view */
    assert_true(vp.t1 > vp.t0 && vp.ns_per_px > 0);
    evv_viewport_set(&vp, 100, 50, 0);               /* inverted range, zero width */
    assert_int_equal(vp.width, 1);
    assert_true(vp.t1 > vp.t0);
}

static void test_resize_keeps_scale(void **state)
{
    struct evv_viewport vp;
    evv_viewport_set(&vp, 300, 1300, 100);
    evv_viewport_resize(&vp, 400);
    assert_true(vp.t0 == 300 && vp.ns_per_px == 10 && vp.t1 == 4300);
}

static void test_parse_time_and_range(void **state)
{
    double ns, a, b;
    assert_int_equal(evv_parse_time("1.5s", &ns), 0), assert_true(ns == 1.5e9);
    assert_int_equal(evv_parse_time("200", &ns), 0), assert_true(ns == 200e6);
    assert_int_equal(evv_parse_time("10us", &ns), 0), assert_true(ns == 1e4);
    assert_int_equal(evv_parse_time("10\xc2\xb5s", &ns), 0), assert_true(ns == 1e4);
    assert_int_equal(evv_parse_time("7ns", &ns), 0), assert_true(ns == 7);
    assert_int_equal(evv_parse_time("3 ms", &ns), 0), assert_true(ns == 3e6);
    assert_int_equal(evv_parse_time("abc", &ns), -1);
    assert_int_equal(evv_parse_time("-1", &ns), -1);
    assert_int_equal(evv_parse_time("5 parsecs", &ns), -1);
    assert_int_equal(evv_parse_time("", &ns), -1);
    assert_int_equal(evv_parse_range("1.5s:3s", &a, &b), 0), assert_true(a == 1.5e9 && b == 3e9);
    assert_int_equal(evv_parse_range(":2s", &a, &b), 0), assert_true(a == 0 && b == 2e9);
    assert_int_equal(evv_parse_range("1s:", &a, &b), 0), assert_true(a == 1e9 && b < 0);
    assert_int_equal(evv_parse_range("3s:1s", &a, &b), -1);
    assert_int_equal(evv_parse_range("3s", &a, &b), -1);
    assert_int_equal(evv_parse_range("x:1", &a, &b), -1);
}

static char g_err[256];   /* the last parse's message */

static int parse(struct evv_opts *o, char **argv)
{
    char *err = g_err;
    int argc = 0;
    while (argv[argc])
        argc++;
    err[0] = 0;
    int rc = evv_cli_parse(o, argc, argv, err, sizeof g_err);
    assert_true(rc == 0 || (err[0] && !strchr(err, '\n')));   /* one line */
    return rc;
}

static void test_cli(void **state)
{
    struct evv_opts o;
    char *ok[] = { "evview", "--png", "o.png", "--size", "800x600", "--range", "1:2", "--stall-ms", "50", "f.evtrace", NULL };
    assert_int_equal(parse(&o, ok), 0);
    assert_string_equal(o.png, "o.png");
    assert_string_equal(o.files[0], "f.evtrace");
    assert_true(o.n_files == 1 && o.labels[0][0] == 0);
    assert_true(o.width == 800 && o.height == 600 && o.stall_ms == 50 && o.has_range);
    assert_true(o.range_t0 == 1e6 && o.range_t1 == 2e6);
    char *after[] = { "evview", "f.evtrace", "--png", "o.png", "g.evtrace", NULL };   /* options after files */
    assert_int_equal(parse(&o, after), 0);
    assert_string_equal(o.png, "o.png");
    assert_true(o.n_files == 2);
    assert_string_equal(o.files[0], "f.evtrace"), assert_string_equal(o.files[1], "g.evtrace");
    char *dashes[] = { "evview", "--", "--png", NULL };   /* "--": the rest are files */
    assert_int_equal(parse(&o, dashes), 0);
    assert_true(o.png == NULL && o.n_files == 1);
    assert_string_equal(o.files[0], "--png");
    char *dflt[] = { "evview", "f.evtrace", NULL };
    assert_int_equal(parse(&o, dflt), 0);
    assert_true(o.png == NULL && o.width == 1600 && o.height == 900 && o.stall_ms == 100 && !o.has_range);
    char *bad1[] = { "evview", "--size", "big", "f", NULL };
    char *bad2[] = { "evview", NULL };
    char *bad3[] = { "evview", "--stall-ms", "-5", "f", NULL };
    char *bad4[] = { "evview", "--bogus", "f", NULL };
    char *two[] = { "evview", "client=out/a.evtrace", "b.evtrace", "=c", NULL };   /* several files, labels */
    assert_int_equal(parse(&o, two), 0);
    assert_int_equal(o.n_files, 3);
    assert_string_equal(o.files[0], "out/a.evtrace"), assert_string_equal(o.labels[0], "client");
    assert_string_equal(o.files[1], "b.evtrace"), assert_string_equal(o.labels[1], "");
    assert_string_equal(o.files[2], "=c"), assert_string_equal(o.labels[2], "");
    char *bad5[] = { "evview", "1", "2", "3", "4", "5", "6", "7", "8", "9", NULL };   /* > EVV_MAX_FILES */
    char *bad6[] = { "evview", "--range", "9:1", "f", NULL };
    assert_int_equal(parse(&o, bad1), -1);
    assert_int_equal(parse(&o, bad2), -1);
    assert_int_equal(parse(&o, bad3), -1);
    assert_int_equal(parse(&o, bad4), -1);
    assert_non_null(strstr(g_err, "unknown option '--bogus'"));
    assert_int_equal(parse(&o, bad5), -1);
    assert_int_equal(parse(&o, bad6), -1);
    char *no_value[] = { "evview", "f", "--png", NULL };
    char *bad_short[] = { "evview", "-x", "f", NULL };
    assert_int_equal(parse(&o, no_value), -1);
    assert_non_null(strstr(g_err, "--png needs a value"));
    assert_int_equal(parse(&o, bad_short), -1);
    assert_non_null(strstr(g_err, "unknown option '-x'"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zoom_keeps_cursor_time), cmocka_unit_test(test_zoom_clamps_and_still_anchors),
        cmocka_unit_test(test_pan_exact),              cmocka_unit_test(test_fit_and_set),
        cmocka_unit_test(test_resize_keeps_scale),     cmocka_unit_test(test_parse_time_and_range),
        cmocka_unit_test(test_cli),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

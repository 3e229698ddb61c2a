/* test_loop.c -- a real libev loop, attached and watched. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "evt_encode.h"
#include "evt_format.h"
#include "evt_internal.h"
#include "evtrace.h"
#include "trace_check.h"

struct fx {
    struct evt__memsink sink;
    struct tc_trace tr;
    evt_tracer *t;
    struct ev_loop *loop;
    int pipe[2];
    int ticks, slow_calls, io_calls, freed_calls, fed_revents;
    int my_invoke, my_release, my_acquire;
    ev_timer slow, tick, writer;
    ev_io io;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    struct evt_options o = {.sink = evt__memsink_write, .sink_ctx = &f->sink, .no_flush_thread = 1};
    assert_int_equal(evt_open(&f->t, &o), 0);
    f->loop = ev_loop_new(EVFLAG_AUTO);
    assert_int_equal(pipe(f->pipe), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    if (f->t)
        evt_close(f->t);
    ev_loop_destroy(f->loop);
    close(f->pipe[0]);
    close(f->pipe[1]);
    free(f->sink.data);
    tc_free(&f->tr);
    free(f);
    return 0;
}

static void decode_now(struct fx *f)
{
    tc_free(&f->tr);
    if (tc_decode(&f->tr, f->sink.data, f->sink.len))
        fail_msg("decode: %s", f->tr.error);
}

/* Watcher id of the WATCHER record named name (0 if none). */
static uint64_t watcher_id(const struct tc_trace *tr, const char *name, uint64_t *kind, int64_t *fd)
{
    for (size_t i = 0; i < tr->n; i++) {
        const struct tc_rec *r = &tr->recs[i];
        const char *s = r->type == EVT_REC_WATCHER ? tc_string(tr, r->f[3]) : NULL;
        if (s && strcmp(s, name) == 0) {
            *kind = r->f[1];
            *fd = evt__unzigzag(r->f[2]);
            return r->f[0];
        }
    }
    return 0;
}

static void busy_ms(int ms)
{
    uint64_t end = evt__mono_ns() + (uint64_t)ms * 1000000;
    while (evt__mono_ns() < end)
        ;
}

static struct fx *fx_of(struct ev_loop *loop) { return ev_userdata(loop); }

static void on_slow(struct ev_loop *loop, ev_timer *w, int revents)
{
    fx_of(loop)->slow_calls++;
    busy_ms(5);
}

static void on_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
    if (++fx_of(loop)->ticks == 3)
        ev_timer_stop(loop, w);
}

static void on_writer(struct ev_loop *loop, ev_timer *w, int revents)
{
    if (write(fx_of(loop)->pipe[1], "x", 1) != 1)
        fail();
}

static void on_io(struct ev_loop *loop, ev_io *w, int revents)
{
    char c;
    struct fx *f = fx_of(loop);
    f->io_calls++;
    if (read(w->fd, &c, 1) == 1)
        ev_io_stop(loop, w);
}

/* Callbacks run inside iterations, one at a time, with the right revents;
 * only "slow" takes 5 ms or more. Counts CB_BEGIN per watcher id. */
static void check_nesting(const struct tc_trace *tr, uint64_t slow, uint64_t io, size_t *begins)
{
    uint64_t t0 = 0;
    int open = 0, depth = 0;
    for (size_t i = 0; i < tr->n; i++) {
        const struct tc_rec *r = &tr->recs[i];
        if (r->type == EVT_REC_LOOP_BEGIN)
            assert_int_equal(depth++, 0);
        if (r->type == EVT_REC_LOOP_END)
            assert_int_equal(--depth, 0);
        if (r->type == EVT_REC_CB_BEGIN) {
            assert_int_equal(depth, 1);        /* inside an iteration */
            assert_int_equal(open++, 0);
            begins[r->f[0]]++;
            t0 = r->ts;
            assert_int_equal(r->f[1], r->f[0] == io ? EV_READ : EV_TIMER);
        }
        if (r->type == EVT_REC_CB_END) {
            assert_int_equal(--open, 0);
            if (r->f[0] == slow)
                assert_in_range(r->ts - t0, 5000000, 50000000);
            else
                assert_true(r->ts - t0 < 5000000);
        }
    }
}

/* Callback durations, names, kinds, fds; iterations and polls balanced;
 * ev_run still returns when the program's watchers are done. */
static void test_callbacks(void **state)
{
    struct fx *f = *state;
    ev_set_userdata(f->loop, f);
    assert_null(evt__loop_tracer(f->loop));
    assert_int_equal(evt_attach_loop(f->t, f->loop), 0);
    assert_ptr_equal(evt__loop_tracer(f->loop), f->t);
    ev_timer_init(&f->slow, on_slow, 0.010, 0.);
    ev_timer_init(&f->tick, on_tick, 0.005, 0.005);
    ev_timer_init(&f->writer, on_writer, 0.020, 0.);
    ev_io_init(&f->io, on_io, f->pipe[0], EV_READ);
    assert_int_equal(evt_watch_timer(f->t, f->loop, &f->slow, "slow"), 0);
    assert_int_equal(evt_watch_timer(f->t, f->loop, &f->tick, "tick"), 0);
    assert_int_equal(evt_watch_io(f->t, f->loop, &f->io, "pipe"), 0);
    assert_int_equal(evt_watch(f->t, f->loop, (ev_watcher *)&f->writer, EVT_KIND_COUNT, -1, "x"), EVT_EINVAL);
    ev_timer_start(f->loop, &f->slow);
    ev_timer_start(f->loop, &f->tick);
    ev_timer_start(f->loop, &f->writer);   /* not watched: not recorded */
    ev_io_start(f->loop, &f->io);
    ev_run(f->loop, 0);
    assert_int_equal(f->slow_calls, 1);
    assert_int_equal(f->ticks, 3);
    assert_int_equal(f->io_calls, 1);
    assert_int_equal(evt_flush(f->t), 0);
    decode_now(f);
    uint64_t kind;
    int64_t fd;
    uint64_t slow = watcher_id(&f->tr, "slow", &kind, &fd);
    assert_int_equal(kind, EVT_KIND_TIMER);
    uint64_t tick = watcher_id(&f->tr, "tick", &kind, &fd);
    uint64_t io = watcher_id(&f->tr, "pipe", &kind, &fd);
    assert_int_equal(kind, EVT_KIND_IO);
    assert_int_equal(fd, f->pipe[0]);
    assert_true(slow && tick && io);
    size_t begins[8] = {0};
    check_nesting(&f->tr, slow, io, begins);
    assert_int_equal(begins[slow], 1);
    assert_int_equal(begins[tick], 3);
    assert_int_equal(begins[io], 1);
    assert_int_equal(tc_count(&f->tr, EVT_REC_CB_BEGIN), 5);
    assert_true(tc_count(&f->tr, EVT_REC_LOOP_BEGIN) >= 3);
    assert_int_equal(tc_count(&f->tr, EVT_REC_LOOP_BEGIN), tc_count(&f->tr, EVT_REC_LOOP_END));
    assert_int_equal(tc_count(&f->tr, EVT_REC_POLL_BEGIN), tc_count(&f->tr, EVT_REC_POLL_END));
    assert_int_equal(tc_count(&f->tr, EVT_REC_POLL_BEGIN), tc_count(&f->tr, EVT_REC_LOOP_END));
}

static void on_free_me(struct ev_loop *loop, ev_timer *w, int revents)
{
    fx_of(loop)->freed_calls++;
    free(w);   /* the trampoline must not touch w after this */
}

static void on_fed(struct ev_loop *loop, ev_timer *w, int revents)
{
    fx_of(loop)->fed_revents = revents;
}

/* A callback that frees its watcher; ev_feed_event; unwatch restores. */
static void test_free_feed_unwatch(void **state)
{
    struct fx *f = *state;
    ev_set_userdata(f->loop, f);
    evt_attach_loop(f->t, f->loop);
    ev_timer *w = malloc(sizeof *w);
    ev_timer_init(w, on_free_me, 0.001, 0.);
    evt_watch_timer(f->t, f->loop, w, "free-me");
    ev_timer_start(f->loop, w);
    ev_timer fed;
    ev_timer_init(&fed, on_fed, 10., 0.);
    evt_watch_timer(f->t, f->loop, &fed, "fed");
    ev_feed_event(f->loop, &fed, EV_CUSTOM);
    ev_run(f->loop, 0);
    assert_int_equal(f->freed_calls, 1);
    assert_int_equal(f->fed_revents, EV_CUSTOM);
    evt_unwatch(f->t, f->loop, (ev_watcher *)&fed);
    assert_ptr_equal(fed.cb, on_fed);
    ev_feed_event(f->loop, &fed, EV_TIMER);   /* no longer recorded */
    ev_run(f->loop, EVRUN_NOWAIT);
    assert_int_equal(f->fed_revents, EV_TIMER);
    evt_flush(f->t);
    decode_now(f);
    assert_int_equal(tc_count(&f->tr, EVT_REC_CB_BEGIN), 2);
    for (size_t i = 0; i < f->tr.n; i++)
        if (f->tr.recs[i].type == EVT_REC_CB_BEGIN && f->tr.recs[i].f[1] == EV_CUSTOM)
            return;
    fail_msg("no CB_BEGIN with EV_CUSTOM");
}

static void my_invoke(struct ev_loop *loop)
{
    fx_of(loop)->my_invoke++;
    ev_invoke_pending(loop);
}

static void my_release(struct ev_loop *loop) { fx_of(loop)->my_release++; }
static void my_acquire(struct ev_loop *loop) { fx_of(loop)->my_acquire++; }

static void run_ticks(struct fx *f)
{
    f->ticks = 0;
    ev_timer_set(&f->tick, 0.002, 0.002);   /* keeps the (wrapped) callback */
    ev_timer_start(f->loop, &f->tick);
    ev_run(f->loop, 0);
    assert_int_equal(f->ticks, 3);
}

/* The program's hooks, set before and after the attach, keep running; a
 * detach gives them back to libev and stops recording. */
static void test_program_hooks(void **state)
{
    struct fx *f = *state;
    ev_set_userdata(f->loop, f);
    ev_set_invoke_pending_cb(f->loop, my_invoke);
    evt_attach_loop(f->t, f->loop);
    ev_set_loop_release_cb(f->loop, my_release, my_acquire);
    ev_timer_init(&f->tick, on_tick, 0.002, 0.002);
    run_ticks(f);
    assert_true(f->my_invoke >= 3);
    assert_true(f->my_release >= 3);
    assert_int_equal(f->my_release, f->my_acquire);
    evt_flush(f->t);
    decode_now(f);
    size_t polls = tc_count(&f->tr, EVT_REC_POLL_BEGIN);
    assert_int_equal(polls, (size_t)f->my_release);
    assert_int_equal(evt_detach_loop(f->t, f->loop), 0);
    int before = f->my_release;
    run_ticks(f);
    assert_true(f->my_release > before);
    evt_flush(f->t);
    decode_now(f);
    assert_int_equal(tc_count(&f->tr, EVT_REC_POLL_BEGIN), polls);
    /* attach again: recording resumes */
    evt_attach_loop(f->t, f->loop);
    run_ticks(f);
    evt_flush(f->t);
    decode_now(f);
    assert_true(tc_count(&f->tr, EVT_REC_POLL_BEGIN) > polls);
}

/* After evt_close the loop keeps working (hooks chain, trampolines call
 * through), and a new tracer can attach the same loop. */
static void test_close_then_reattach(void **state)
{
    struct fx *f = *state;
    ev_set_userdata(f->loop, f);
    evt_attach_loop(f->t, f->loop);
    ev_timer_init(&f->tick, on_tick, 0.002, 0.002);
    evt_watch_timer(f->t, f->loop, &f->tick, "tick");
    assert_int_equal(evt_close(f->t), 0);
    f->t = NULL;
    run_ticks(f);
    struct evt_options o = {.sink = evt__memsink_write, .sink_ctx = &f->sink, .no_flush_thread = 1};
    f->sink.len = 0;
    assert_int_equal(evt_open(&f->t, &o), 0);
    evt_attach_loop(f->t, f->loop);
    evt_watch_timer(f->t, f->loop, &f->tick, "tick2");
    run_ticks(f);
    evt_flush(f->t);
    decode_now(f);
    assert_int_equal(tc_count(&f->tr, EVT_REC_CB_BEGIN), 3);
    assert_true(tc_count(&f->tr, EVT_REC_LOOP_BEGIN) >= 3);
}

static void on_inner(struct ev_loop *loop, ev_timer *w, int revents)
{
    fx_of(loop)->ticks++;
}

/* A callback that runs the loop again (EVRUN_ONCE until the inner timer
 * fires): the inner iteration and callback nest inside the outer ones. */
static void on_outer(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct fx *f = fx_of(loop);
    ev_timer_init(&f->writer, on_inner, 0.002, 0.);
    evt_watch_timer(f->t, loop, &f->writer, "inner");
    ev_timer_start(loop, &f->writer);
    ev_run(loop, EVRUN_ONCE);
}

static void test_nested_run(void **state)
{
    struct fx *f = *state;
    ev_set_userdata(f->loop, f);
    evt_attach_loop(f->t, f->loop);
    ev_timer_init(&f->tick, on_outer, 0.001, 0.);
    evt_watch_timer(f->t, f->loop, &f->tick, "outer");
    ev_timer_start(f->loop, &f->tick);
    ev_run(f->loop, 0);
    assert_int_equal(f->ticks, 1);
    evt_flush(f->t);
    decode_now(f);
    /* begins and ends form one well-nested sequence */
    uint8_t stack[64];
    int sp = 0, max_loops = 0, loops = 0;
    for (size_t i = 0; i < f->tr.n; i++) {
        uint8_t ty = f->tr.recs[i].type;
        if (ty == EVT_REC_LOOP_BEGIN || ty == EVT_REC_CB_BEGIN) {
            assert_true(sp < 64);
            stack[sp++] = ty;
            loops += ty == EVT_REC_LOOP_BEGIN;
            max_loops = loops > max_loops ? loops : max_loops;
        } else if (ty == EVT_REC_LOOP_END || ty == EVT_REC_CB_END) {
            assert_true(sp > 0);
            assert_int_equal(stack[--sp], ty == EVT_REC_LOOP_END ? EVT_REC_LOOP_BEGIN : EVT_REC_CB_BEGIN);
            loops -= ty == EVT_REC_LOOP_END;
        }
    }
    assert_int_equal(sp, 0);
    assert_int_equal(max_loops, 2);
    assert_int_equal(tc_count(&f->tr, EVT_REC_CB_BEGIN), 2);
}

/* evt_watch_id: a name interned once serves every watcher set up later
 * (per connection); the callbacks are recorded under it; name 0 = none. */
static void test_watch_by_id(void **state)
{
    struct fx *f = *state;
    ev_set_userdata(f->loop, f);
    assert_int_equal(evt_attach_loop(f->t, f->loop), 0);
    uint32_t conn = evt_intern(f->t, "conn");
    assert_true(conn > 0);
    ev_io_init(&f->io, on_io, f->pipe[0], EV_READ);
    ev_timer_init(&f->slow, on_slow, 0.001, 0.);
    assert_int_equal(evt_watch_id(f->t, f->loop, (ev_watcher *)&f->io, EVT_KIND_IO, f->pipe[0], conn), 0);
    assert_int_equal(evt_watch_id(f->t, f->loop, (ev_watcher *)&f->slow, EVT_KIND_TIMER, -1, 0), 0);
    assert_int_equal(evt_watch_id(f->t, f->loop, (ev_watcher *)&f->slow, EVT_KIND_COUNT, -1, 0), EVT_EINVAL);
    assert_int_equal(write(f->pipe[1], "x", 1), 1);
    ev_io_start(f->loop, &f->io);
    ev_timer_start(f->loop, &f->slow);
    ev_run(f->loop, 0);
    assert_int_equal(f->io_calls, 1);
    assert_int_equal(evt_flush(f->t), 0);
    decode_now(f);
    uint64_t kind;
    int64_t fd;
    uint64_t id = watcher_id(&f->tr, "conn", &kind, &fd);
    assert_true(id > 0);
    assert_int_equal(kind, EVT_KIND_IO);
    assert_int_equal(fd, f->pipe[0]);
    size_t begins[8] = {0};
    for (size_t i = 0; i < f->tr.n; i++)
        if (f->tr.recs[i].type == EVT_REC_CB_BEGIN && f->tr.recs[i].f[0] < 8)
            begins[f->tr.recs[i].f[0]]++;
    assert_int_equal(begins[id], 1);
    assert_int_equal(tc_count(&f->tr, EVT_REC_CB_BEGIN), 2);   /* the unnamed timer too */
}

/* Watchers with the same callback share one pooled trampoline, another
 * callback gets another; a struct copy of a watcher wrapped this way still
 * calls its callback, recorded; evt_unwatch gives the callback back. */
static void test_pooled_trampolines(void **state)
{
    struct fx *f = *state;
    ev_set_userdata(f->loop, f);
    ev_timer a, b, c;
    ev_timer_init(&a, on_tick, 1., 0.);
    ev_timer_init(&b, on_tick, 1., 0.);
    ev_timer_init(&c, on_slow, 1., 0.);
    assert_int_equal(evt_watch_timer(f->t, f->loop, &a, "a"), 0);
    assert_int_equal(evt_watch_timer(f->t, f->loop, &b, "b"), 0);
    assert_int_equal(evt_watch_timer(f->t, f->loop, &c, "c"), 0);
    assert_true(evt__is_wrapped((ev_watcher *)&a) && evt__is_wrapped((ev_watcher *)&c));
    assert_ptr_equal(a.cb, b.cb);
    assert_ptr_not_equal(a.cb, c.cb);
    assert_ptr_not_equal(a.cb, on_tick);
    ev_timer copy = a;   /* what the table could not serve: no entry for &copy */
    copy.cb(f->loop, &copy, EV_TIMER);
    assert_int_equal(f->ticks, 1);
    assert_int_equal(evt_flush(f->t), 0);
    decode_now(f);
    assert_int_equal(tc_count(&f->tr, EVT_REC_CB_BEGIN), 1);
    assert_int_equal(tc_count(&f->tr, EVT_REC_CB_END), 1);
    evt_unwatch(f->t, f->loop, (ev_watcher *)&a);
    assert_ptr_equal(a.cb, on_tick);
    assert_true(evt__is_wrapped((ev_watcher *)&b));
    evt_unwatch(f->t, f->loop, (ev_watcher *)&b);
    evt_unwatch(f->t, f->loop, (ev_watcher *)&c);
}

static int late_calls;
static void on_late(struct ev_loop *loop, ev_timer *w, int revents) { late_calls++; }

/* Past EVT__TRAMPS distinct callbacks the generic trampoline takes over:
 * the callback is still called, through the table, so a copy (no entry of
 * its own) is not. The pool is filled with addresses that are never
 * called (it keys on the address only). Runs last: the pool stays full. */
static void test_pool_full(void **state)
{
    struct fx *f = *state;
    static char fake[EVT__TRAMPS];
    ev_timer w[EVT__TRAMPS], late;
    for (int i = 0; i < EVT__TRAMPS; i++) {
        ev_timer_init(&w[i], on_tick, 1., 0.);
        ev_set_cb(&w[i], (void (*)(struct ev_loop *, ev_timer *, int))(uintptr_t)&fake[i]);
        assert_int_equal(evt_watch_timer(f->t, f->loop, &w[i], NULL), 0);
    }
    ev_timer_init(&late, on_late, 1., 0.);
    assert_int_equal(evt_watch_timer(f->t, f->loop, &late, "late"), 0);
    assert_true(evt__is_wrapped((ev_watcher *)&late));
    size_t same = 0;   /* watchers sharing late's trampoline: the generic one */
    for (int i = 0; i < EVT__TRAMPS; i++)
        same += w[i].cb == late.cb;
    assert_true(same >= 1 && same < EVT__TRAMPS);
    late.cb(f->loop, &late, EV_TIMER);
    assert_int_equal(late_calls, 1);
    ev_timer copy = late;
    copy.cb(f->loop, &copy, EV_TIMER);
    assert_int_equal(late_calls, 1);
    for (int i = 0; i < EVT__TRAMPS; i++) {
        evt_unwatch(f->t, f->loop, (ev_watcher *)&w[i]);
        assert_ptr_equal((void *)(uintptr_t)w[i].cb, &fake[i]);
    }
    evt_unwatch(f->t, f->loop, (ev_watcher *)&late);
    assert_ptr_equal(late.cb, on_late);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_callbacks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_free_feed_unwatch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_program_hooks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_then_reattach, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nested_run, setup, teardown),
        cmocka_unit_test_setup_teardown(test_watch_by_id, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pooled_trampolines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pool_full, setup, teardown),   /* last: fills the pool */
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

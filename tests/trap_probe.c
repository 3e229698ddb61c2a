/* trap_probe.c -- exercises every libev behaviour that an LD_PRELOAD tracer
 * can get wrong, and prints what the program observed. The output must be
 * the same with and without `evtrace record` (test_record compares them):
 * the preload may watch, never change, what the program sees.
 *
 *   trap_probe [--iterations N]      N rounds of the hot loop (benchmarks)
 *
 * Each section names the trap it probes:
 *   again      ev_timer_again starts and stops timers through libev's own
 *              exported functions (double recording);
 *   oneshot    libev stops a one-shot timer before its callback runs, and
 *              the callback restarts it;
 *   set_cb     ev_set_cb changes the callback of a running watcher, and of a
 *              stopped one before it is started again;
 *   feed       ev_feed_event and ev_invoke on a watcher never started;
 *   reuse      heap watchers freed and their memory reused for other kinds;
 *   hooks      the program's own invoke-pending and release hooks;
 *   loops      loops destroyed and created again (same address, usually);
 *   threads    four loops in four threads at once, woken by ev_async;
 *   kinds      one watcher of every kind the tracer knows;
 *   fork       a child forks, runs its own loop and exits;
 *   default    the default loop destroyed and created again.
 * Only counts and flags are printed, never times or addresses.
 */
#include <ev.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void count_cb(struct ev_loop *loop, ev_watcher *w, int revents)
{
    (*(int *)w->data)++;
}

/* ---- again ------------------------------------------------------------ */

static void again_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    int *n = w->data;
    if (++*n == 3) {
        w->repeat = 0.;
        ev_timer_again(loop, w);      /* repeat 0: stops the timer */
    }
}

static void probe_again(struct ev_loop *loop)
{
    int n = 0;
    ev_timer t;
    ev_init(&t, again_cb);
    t.repeat = 0.001;
    t.data = &n;
    ev_timer_again(loop, &t);
    ev_timer_again(loop, &t);         /* restart while active */
    ev_run(loop, 0);
    printf("again: calls=%d active=%d\n", n, ev_is_active(&t));
}

/* ---- oneshot ---------------------------------------------------------- */

static void oneshot_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    int *n = w->data;
    printf("oneshot: call %d active_in_cb=%d revents=%#x\n", *n, ev_is_active(w), revents);
    if (++*n < 3) {
        ev_timer_set(w, 0.001, 0.);
        ev_timer_start(loop, w);
    }
}

static void probe_oneshot(struct ev_loop *loop)
{
    int n = 0;
    ev_timer t;
    ev_timer_init(&t, oneshot_cb, 0.001, 0.);
    t.data = &n;
    ev_timer_start(loop, &t);
    ev_run(loop, 0);
    printf("oneshot: calls=%d\n", n);
}

/* ---- set_cb ----------------------------------------------------------- */

static void set_cb_second(struct ev_loop *loop, ev_idle *w, int revents)
{
    int *n = w->data;
    printf("set_cb: second %d\n", ++*n);
    if (*n >= 4)
        ev_idle_stop(loop, w);
}

static void set_cb_first(struct ev_loop *loop, ev_idle *w, int revents)
{
    int *n = w->data;
    printf("set_cb: first %d\n", ++*n);
    if (*n == 2)
        ev_set_cb(w, set_cb_second);  /* while running, from its own callback */
}

static void probe_set_cb(struct ev_loop *loop)
{
    int n = 0;
    ev_idle w;
    ev_idle_init(&w, set_cb_first);
    w.data = &n;
    ev_idle_start(loop, &w);
    ev_run(loop, 0);
    n = 0;
    ev_set_cb(&w, set_cb_first);      /* while stopped, then started */
    ev_idle_start(loop, &w);
    ev_run(loop, 0);
    printf("set_cb: cb_is_second=%d\n", ev_cb(&w) == (void *)set_cb_second);
}

/* ---- feed ------------------------------------------------------------- */

static void feed_cb(struct ev_loop *loop, ev_check *w, int revents)
{
    int *n = w->data;
    ++*n;
    printf("feed: cb revents=%#x active=%d\n", revents, ev_is_active(w));
}

static void probe_feed(struct ev_loop *loop)
{
    int n = 0;
    ev_check never;                   /* initialised, never started */
    ev_check_init(&never, feed_cb);
    never.data = &n;
    ev_feed_event(loop, &never, EV_CUSTOM);
    ev_run(loop, EVRUN_NOWAIT);
    ev_invoke(loop, &never, EV_CHECK);
    ev_timer dummy;                   /* started and fed a custom event */
    int m = 0;
    ev_timer_init(&dummy, (void (*)(struct ev_loop *, ev_timer *, int))count_cb, 3600., 0.);
    dummy.data = &m;
    ev_timer_start(loop, &dummy);
    ev_feed_event(loop, &dummy, EV_CUSTOM);
    ev_run(loop, EVRUN_NOWAIT);
    ev_invoke(loop, &dummy, EV_TIMER);
    ev_timer_stop(loop, &dummy);
    printf("feed: never=%d started=%d\n", n, m);
}

/* ---- reuse ------------------------------------------------------------ */

static void reuse_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    printf("reuse: timer cb %d\n", *(int *)w->data);
    ev_timer_stop(loop, w);
}

static void reuse_idle_cb(struct ev_loop *loop, ev_idle *w, int revents)
{
    printf("reuse: idle cb %d\n", *(int *)w->data);
    ev_idle_stop(loop, w);
}

/* malloc/free in a loop: glibc hands the same block back, so the tracer
 * sees the same address as a timer, then an idle, then a timer again. */
static void probe_reuse(struct ev_loop *loop)
{
    for (int i = 0; i < 4; i++) {
        void *mem = malloc(sizeof(ev_timer) > sizeof(ev_idle) ? sizeof(ev_timer) : sizeof(ev_idle));
        if (i % 2 == 0) {
            ev_timer *t = mem;
            ev_timer_init(t, reuse_timer_cb, 0.0001, 0.);
            t->data = &i;
            ev_timer_start(loop, t);
        } else {
            ev_idle *w = mem;
            ev_idle_init(w, reuse_idle_cb);
            w->data = &i;
            ev_idle_start(loop, w);
        }
        ev_run(loop, 0);
        free(mem);
    }
}

/* ---- hooks ------------------------------------------------------------ */

struct hook_counts {
    int invoke, release, acquire;
};

static void my_invoke(struct ev_loop *loop)
{
    ((struct hook_counts *)ev_userdata(loop))->invoke++;
    ev_invoke_pending(loop);
}

static void my_release(struct ev_loop *loop) { ((struct hook_counts *)ev_userdata(loop))->release++; }
static void my_acquire(struct ev_loop *loop) { ((struct hook_counts *)ev_userdata(loop))->acquire++; }

static void probe_hooks(void)
{
    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    struct hook_counts hc = {0};
    ev_set_userdata(loop, &hc);
    ev_set_invoke_pending_cb(loop, my_invoke);
    ev_set_loop_release_cb(loop, my_release, my_acquire);
    int n = 0;
    ev_timer t;
    ev_timer_init(&t, (void (*)(struct ev_loop *, ev_timer *, int))count_cb, 0.001, 0.);
    t.data = &n;
    ev_timer_start(loop, &t);
    ev_run(loop, 0);
    printf("hooks: calls=%d invoke_ran=%d release_ran=%d balanced=%d\n", n, hc.invoke > 0,
           hc.release > 0, hc.release == hc.acquire);
    ev_loop_destroy(loop);
}

/* ---- loops ------------------------------------------------------------ */

static void probe_loops(void)
{
    int total = 0;
    for (int i = 0; i < 5; i++) {
        struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
        ev_idle w[3];
        int n = 0;
        for (int k = 0; k < 3; k++) {
            ev_idle_init(&w[k], (void (*)(struct ev_loop *, ev_idle *, int))count_cb);
            w[k].data = &n;
            ev_idle_start(loop, &w[k]);
        }
        ev_run(loop, EVRUN_ONCE);
        for (int k = 0; k < 3; k++)
            ev_idle_stop(loop, &w[k]);
        total += n;
        ev_loop_destroy(loop);
    }
    printf("loops: calls=%d\n", total);
}

/* ---- threads ---------------------------------------------------------- */

struct worker {
    pthread_t th;
    struct ev_loop *loop;
    ev_async wake;
    ev_timer tick;
    _Atomic int ticks;
    int wakes;
};

static void worker_wake(struct ev_loop *loop, ev_async *w, int revents)
{
    struct worker *wk = w->data;
    if (++wk->wakes == 1)
        ev_break(loop, EVBREAK_ALL);
}

static void worker_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct worker *wk = w->data;
    if (++wk->ticks == 5)
        ev_timer_stop(loop, w);
}

static void *worker_main(void *arg)
{
    struct worker *wk = arg;
    ev_run(wk->loop, 0);
    return NULL;
}

static void probe_threads(void)
{
    struct worker wk[4];
    memset(wk, 0, sizeof wk);
    for (int i = 0; i < 4; i++) {
        wk[i].loop = ev_loop_new(EVFLAG_AUTO);
        ev_async_init(&wk[i].wake, worker_wake);
        ev_timer_init(&wk[i].tick, worker_tick, 0.001, 0.001);
        wk[i].wake.data = wk[i].tick.data = &wk[i];
        ev_async_start(wk[i].loop, &wk[i].wake);
        ev_timer_start(wk[i].loop, &wk[i].tick);
        pthread_create(&wk[i].th, NULL, worker_main, &wk[i]);
    }
    int ticks = 0, wakes = 0;
    for (int i = 0; i < 4; i++) {
        /* the timer stops itself after 5 ticks; wait for that (10 s at most)
         * rather than for a fixed time, so a loaded machine prints the same */
        for (int ms = 0; ms < 10000 && atomic_load(&wk[i].ticks) < 5; ms++)
            usleep(1000);
        ev_async_send(wk[i].loop, &wk[i].wake);
        pthread_join(wk[i].th, NULL);
        ticks += wk[i].ticks;
        wakes += wk[i].wakes;
        ev_loop_destroy(wk[i].loop);
    }
    printf("threads: ticks=%d wakes=%d\n", ticks, wakes);
}

/* ---- kinds ------------------------------------------------------------ */

struct kinds {
    int io, timer, periodic, signal, child, stat, idle, prepare, check, embed, fork, cleanup, async;
    int child_status, waits;
    int pipe_fd[2];
    char stat_path[64];
};

#define KINDS(w) ((struct kinds *)(w)->data)

static void k_io(struct ev_loop *l, ev_io *w, int re)
{
    char c;
    if (read(w->fd, &c, 1) == 1)
        KINDS(w)->io++;
    ev_io_stop(l, w);
}
static void k_timer(struct ev_loop *l, ev_timer *w, int re) { KINDS(w)->timer++; }
static void k_periodic(struct ev_loop *l, ev_periodic *w, int re)
{
    KINDS(w)->periodic++;
    ev_periodic_stop(l, w);
}
static void k_signal(struct ev_loop *l, ev_signal *w, int re)
{
    KINDS(w)->signal++;
    ev_signal_stop(l, w);
}
static void k_child(struct ev_loop *l, ev_child *w, int re)
{
    KINDS(w)->child++;
    KINDS(w)->child_status = WEXITSTATUS(w->rstatus);
    ev_child_stop(l, w);
}
static void k_stat(struct ev_loop *l, ev_stat *w, int re)
{
    KINDS(w)->stat++;
    ev_stat_stop(l, w);
}
static void k_idle(struct ev_loop *l, ev_idle *w, int re)
{
    KINDS(w)->idle++;
    ev_idle_stop(l, w);
}
static void k_prepare(struct ev_loop *l, ev_prepare *w, int re)
{
    KINDS(w)->prepare++;
    ev_prepare_stop(l, w);
}
static void k_check(struct ev_loop *l, ev_check *w, int re)
{
    KINDS(w)->check++;
    ev_check_stop(l, w);
}
static void k_embed(struct ev_loop *l, ev_embed *w, int re)
{
    KINDS(w)->embed++;
    ev_embed_sweep(l, w);
}
static void k_cleanup(struct ev_loop *l, ev_cleanup *w, int re) { KINDS(w)->cleanup++; }
static void k_async(struct ev_loop *l, ev_async *w, int re)
{
    KINDS(w)->async++;
    ev_async_stop(l, w);
}

/* Writes the stat file and fires the async once everything is armed. */
static void k_poke(struct ev_loop *l, ev_timer *w, int re)
{
    struct kinds *k = w->data;
    FILE *f = fopen(k->stat_path, "a");
    if (f) {
        fputs("changed\n", f);
        fclose(f);
    }
    if (write(k->pipe_fd[1], "x", 1) != 1)     /* wakes the embedded loop */
        perror("write");
    ev_timer_stop(l, w);
}

/* Every 50 ms: stop once every kind has fired (at most 10 s), so that a
 * loaded machine prints the same as an idle one. */
static void k_done(struct ev_loop *l, ev_timer *w, int re)
{
    struct kinds *k = w->data;
    int all = k->io && k->timer && k->periodic && k->signal && k->child && k->stat && k->idle &&
              k->prepare && k->check && k->embed && k->async;
    if (all || ++k->waits > 200) {
        ev_timer_stop(l, w);
        ev_break(l, EVBREAK_ALL);
    }
}

/* The io watcher sits in an embedded loop: the outer loop sees the inner
 * loop's backend fd become readable and the embed callback sweeps it. */
static struct ev_loop *kinds_embed(struct ev_loop *loop, struct kinds *k, ev_embed *e, ev_io *io)
{
    unsigned backends = ev_embeddable_backends() & ev_recommended_backends();
    struct ev_loop *inner = ev_loop_new(backends ? backends : EVBACKEND_EPOLL);
    ev_io_init(io, k_io, k->pipe_fd[0], EV_READ);
    io->data = k;
    ev_io_start(inner, io);
    ev_embed_init(e, k_embed, inner);
    e->data = k;
    ev_embed_start(loop, e);
    return inner;
}

static void kinds_print(const struct kinds *k)
{
    printf("kinds: io=%d timer=%d periodic=%d signal=%d child=%d/%d stat=%d idle=%d\n", k->io,
           k->timer > 0, k->periodic, k->signal, k->child, k->child_status, k->stat > 0, k->idle);
    printf("kinds: prepare=%d check=%d embed=%d async=%d cleanup=%d\n", k->prepare, k->check,
           k->embed > 0, k->async, k->cleanup);
}

static void probe_kinds(struct ev_loop *loop)
{
    struct kinds k = {0};
    ev_io io; ev_timer tm, poke, done; ev_periodic pe; ev_signal sg; ev_child ch; ev_stat st;
    ev_idle id; ev_prepare pr; ev_check ck; ev_embed em; ev_async as; ev_cleanup cl;
    if (pipe(k.pipe_fd) < 0)
        return;
    snprintf(k.stat_path, sizeof k.stat_path, "/tmp/trap_probe.%d", (int)getpid());
    fclose(fopen(k.stat_path, "w"));
    struct ev_loop *inner = kinds_embed(loop, &k, &em, &io);
    ev_timer_init(&tm, k_timer, 0.001, 0.001);
    ev_periodic_init(&pe, k_periodic, 0., 0.002, 0);
    ev_signal_init(&sg, k_signal, SIGUSR1);
    ev_stat_init(&st, k_stat, k.stat_path, 0.01);
    ev_idle_init(&id, k_idle);
    ev_prepare_init(&pr, k_prepare);
    ev_check_init(&ck, k_check);
    ev_async_init(&as, k_async);
    ev_timer_init(&poke, k_poke, 0.05, 0.);
    ev_timer_init(&done, k_done, 0.1, 0.05);
    tm.data = pe.data = sg.data = st.data = id.data = pr.data = ck.data = as.data = poke.data = done.data = &k;
    ev_timer_start(loop, &tm); ev_periodic_start(loop, &pe); ev_signal_start(loop, &sg);
    ev_stat_start(loop, &st); ev_idle_start(loop, &id); ev_prepare_start(loop, &pr);
    ev_check_start(loop, &ck); ev_async_start(loop, &as); ev_timer_start(loop, &poke);
    ev_timer_start(loop, &done);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0)
        _exit(7);
    ev_child_init(&ch, k_child, pid, 0);
    ch.data = &k;
    ev_child_start(loop, &ch);
    kill(getpid(), SIGUSR1);
    ev_async_send(loop, &as);
    ev_run(loop, 0);
    ev_timer_stop(loop, &tm);
    ev_embed_stop(loop, &em);
    ev_loop_destroy(inner);
    struct ev_loop *other = ev_loop_new(EVFLAG_AUTO);
    ev_cleanup_init(&cl, k_cleanup);
    cl.data = &k;
    ev_cleanup_start(other, &cl);
    ev_loop_destroy(other);
    close(k.pipe_fd[0]);
    close(k.pipe_fd[1]);
    unlink(k.stat_path);
    kinds_print(&k);
}

/* ---- ev_once ------------------------------------------------------------ */

/* Exported (trap_probe is linked with -rdynamic), so the shim names the
 * once after it; the test looks for that name in the trace. */
void probe_once_cb(int revents, void *arg);
void probe_once_cb(int revents, void *arg)
{
    int *n = arg;
    printf("once: call %d revents=%#x\n", ++*n, revents);
}

/* One ev_once on a readable pipe (fires first), one on a 1 ms timeout. */
static void probe_once(struct ev_loop *loop)
{
    int n = 0, fds[2];
    if (pipe(fds) < 0)
        return;
    if (write(fds[1], "x", 1) != 1)
        printf("once: pipe write failed\n");
    ev_once(loop, fds[0], EV_READ, 5.0, probe_once_cb, &n);
    ev_run(loop, 0);
    ev_once(loop, -1, 0, 0.001, probe_once_cb, &n);
    ev_run(loop, 0);
    close(fds[0]);
    close(fds[1]);
    printf("once: calls=%d\n", n);
}

/* ---- fork ------------------------------------------------------------- */

static void fork_cb(struct ev_loop *loop, ev_fork *w, int revents)
{
    printf("fork: child fork watcher ran\n");
}

/* Exported: the shim names its watchers after it, in the parent before the
 * fork and in the child after (with --follow-fork, in the child's own
 * trace, where the parent's string ids mean nothing). */
void probe_named_idle(struct ev_loop *loop, ev_idle *w, int revents);
void probe_named_idle(struct ev_loop *loop, ev_idle *w, int revents)
{
    (*(int *)w->data)++;
}

/* Exported too: a check watcher the parent starts before the fork and the
 * child runs, wrapped (and named) in the parent's trace only. */
void probe_named_check(struct ev_loop *loop, ev_check *w, int revents);
void probe_named_check(struct ev_loop *loop, ev_check *w, int revents)
{
    (*(int *)w->data)++;
}

/* Runs one iteration with an idle watcher on probe_named_idle; returns its
 * call count. */
static int named_idle_once(struct ev_loop *loop)
{
    int n = 0;
    ev_idle w;
    ev_idle_init(&w, probe_named_idle);
    w.data = &n;
    ev_idle_start(loop, &w);
    ev_run(loop, EVRUN_ONCE);
    ev_idle_stop(loop, &w);
    return n;
}

/* Forks from inside a callback, as a pre-fork server's master does when it
 * replaces a worker: the child's trace starts after that callback, whose
 * beginning is in the parent's (the child's holds no orphan end of it). */
struct fork_at {
    pid_t pid;
    const int *checks;
    int checks_then;   /* the check watcher's calls before the fork */
};

static void fork_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct fork_at *f = w->data;
    fflush(stdout);
    f->checks_then = *f->checks;
    f->pid = fork();
}

static void probe_fork(struct ev_loop *loop)
{
    ev_fork fw;
    ev_fork_init(&fw, fork_cb);
    ev_fork_start(loop, &fw);
    printf("fork: parent idle calls=%d\n", named_idle_once(loop));
    int checks = 0;
    ev_check ck;
    ev_check_init(&ck, probe_named_check);
    ck.data = &checks;
    ev_check_start(loop, &ck);
    struct fork_at at = {.pid = -1, .checks = &checks};
    ev_timer ft;
    ev_timer_init(&ft, fork_timer_cb, 0., 0.);
    ft.data = &at;
    ev_timer_start(loop, &ft);
    ev_run(loop, EVRUN_ONCE);   /* the timer forks; both processes come back here */
    if (at.pid == 0) {
        ev_loop_fork(loop);
        ev_run(loop, EVRUN_NOWAIT);
        printf("fork: child idle calls=%d\n", named_idle_once(loop));
        printf("fork: child check calls=%d\n", checks - at.checks_then);   /* its own, since the fork */
        exit(0);
    }
    int status = 0;
    waitpid(at.pid, &status, 0);
    ev_check_stop(loop, &ck);
    ev_fork_stop(loop, &fw);
    printf("fork: child exit=%d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

/* ---- default ---------------------------------------------------------- */

/* The default loop destroyed and created again (same address, usually). */
static void probe_default_again(void)
{
    ev_loop_destroy(EV_DEFAULT);
    struct ev_loop *loop = ev_default_loop(0);
    int n = 0;
    ev_timer t;
    ev_timer_init(&t, (void (*)(struct ev_loop *, ev_timer *, int))count_cb, 0.001, 0.);
    t.data = &n;
    ev_timer_start(loop, &t);
    ev_run(loop, 0);
    printf("default: calls=%d\n", n);
}

/* ---- hot loop (benchmarks) -------------------------------------------- */

static void hot_cb(struct ev_loop *loop, ev_idle *w, int revents)
{
    int *n = w->data;
    if (--*n <= 0)
        ev_idle_stop(loop, w);
}

/* n idle callbacks, each iteration also starting and stopping a timer:
 * the per-callback cost the preload adds is all that differs. */
static void probe_hot(struct ev_loop *loop, int n)
{
    ev_idle w;
    ev_idle_init(&w, hot_cb);
    w.data = &n;
    ev_idle_start(loop, &w);
    ev_run(loop, 0);
    printf("hot: left=%d\n", n);
}

int main(int argc, char **argv)
{
    int iterations = 0;
    if (argc == 3 && strcmp(argv[1], "--iterations") == 0)
        iterations = atoi(argv[2]);
    else if (argc != 1) {
        fprintf(stderr, "usage: trap_probe [--iterations N]\n");
        return 2;
    }
    struct ev_loop *loop = ev_default_loop(0);
    if (iterations > 0) {
        probe_hot(loop, iterations);
        return 0;
    }
    probe_again(loop);
    probe_oneshot(loop);
    probe_set_cb(loop);
    probe_feed(loop);
    probe_reuse(loop);
    probe_hooks();
    probe_loops();
    probe_threads();
    probe_kinds(loop);
    probe_once(loop);
    probe_fork(loop);
    probe_default_again();
    return 0;
}

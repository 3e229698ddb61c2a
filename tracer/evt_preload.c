/* evt_preload.c -- libevtrace_preload.so: start-up, environment, the status
 * pipe, the trace itself, fork. See evt_preload.h for how the hooks work.
 *
 * Start-up. The constructor reads the environment `evtrace record` set up
 * (evt_record.h), takes the shim out of LD_PRELOAD and the EVTRACE_*
 * variables out of the environment (so the program sees the environment it
 * would see untraced, and what it execs is not traced, unless
 * EVTRACE_FOLLOW_EXEC=1), says "loaded" on the status socket and, when libev
 * is in the process, "libev". The trace file is not created yet: a program
 * that never creates a libev loop gets no file at all, and `record` says so.
 * The first ev_default_loop/ev_loop_new opens it ("trace PATH").
 *
 * Fork. A child forked while the trace is open never writes into it. The
 * writer's own pthread_atfork child handler (evt_tracer.c) makes the
 * inherited tracer dead in the child (told by its generation: the hot path
 * then drops everything, the trampolines just call the callbacks) and
 * closes the child's copies of the file descriptor and of the socket to the
 * consumer process, so the child can never write into the parent's file,
 * never delays the consumer's end, and its exit() does not try to reach a
 * writer that is not its own; test_record checks that the fork watcher's
 * callback, which only runs in trap_probe's child, is not in the trace.
 *   - By default the child does not trace, and its first watcher start or
 *     stop says so on the status socket ("untraced-fork PID PARENT NAME",
 *     NAME the parent's program), for record
 *     to print: a pre-fork server such as nghttpx does its work in such
 *     children, and its trace shows only the parent.
 *   - With --follow-fork (EVTRACE_FOLLOW_FORK=1) the child's first event
 *     opens a trace of its own, DIR/NAME.PID.evtrace: its first callback
 *     (a trampoline), its loop's first iteration (evt_loop.c's hooks) or
 *     its first watcher start or stop, whichever comes first. The writer
 *     keeps the inherited tracer current in such a child and calls
 *     open_forked_child at its first event (evt__fork_follow). The child's
 *     tracer takes the loops it inherited (evt__loops_adopt) and the
 *     definitions (kind, fd, name) of every watcher wrapped in the parent,
 *     whose callbacks it may run (evt__preload_define_wrapped); the
 *     callback-name cache is emptied first, its ids being the parent's. A
 *     child forked inside a callback starts after it: the end of that
 *     callback (and of its iteration) is left out, its beginning being in
 *     the parent's trace.
 *     record names the child's file and waits up to 2 s for the child to
 *     end and its file to be finished (evt_record.c). Tested with
 *     trap_probe; nghttpx's worker process, with its three loop threads,
 *     traced this way by hand.
 * A child forked before the first loop (a daemon: fork, the parent exits,
 * the child runs the loop) opens a trace of its own at its first loop,
 * DIR/NAME.PID.evtrace in record's directory, never the parent's -o file;
 * by then record may have gone (test_record's daemon_probe). An exec'd
 * child with --follow-exec gets its own trace (NAME.PID.evtrace) too.
 *
 * Signals and ends. The trace is written by a consumer process, a copy of
 * the program made when the trace opens (evt_consumer.c), which sees the
 * program end however it ends and then writes the rest: exit, SIGTERM,
 * SIGKILL, a crash, a handler that calls _exit() all leave a complete
 * trace, and record waits for the consumer before it reports. The tracer
 * also flushes on SIGINT/SIGTERM when their disposition is still the
 * default at the first loop (the trace is then complete before the program
 * is gone). All of these are tested with plain_server. With
 * EVTRACE_FLUSH=thread, or when the program already runs other threads or
 * has more than 16 MiB of anonymous memory at its first loop (evt_consumer.c
 * says why), a flusher thread writes instead, and SIGKILL, a crash or
 * _exit() lose what was recorded since the last flush (at most 50 ms).
 *
 * What the program can notice (known differences, all small):
 *   - ev_cb(w) of a started watcher returns the trampoline, not the
 *     program's callback (calling it still calls the program's callback);
 *   - ev_set_cb on a running watcher: the new callback runs unrecorded
 *     until the watcher's next start, which wraps it;
 *   - ev_once hands libev a callback of the shim's (evt_preload_hooks.c),
 *     which calls the program's;
 *   - the first loop opens the trace file and the socket to the consumer:
 *     fds the program opens after that are numbered 2 higher (3 with a
 *     flusher thread: its wake pipe; record moves its status socket to a high
 *     fd, so before that nothing shifts);
 *   - ev_walk also sees the tracer's prepare watcher on every loop and a
 *     cleanup watcher on the default loop;
 *   - one more process, the consumer: a child that sends no SIGCHLD and
 *     that waitpid(-1) does not report (or, with a flusher thread, one more
 *     thread), and 4 MiB per traced thread.
 *
 * Limits: a static or setuid program ignores LD_PRELOAD (record reports that
 * the library did not load); a program with libev compiled in (Perl's EV,
 * a link with libev.a) calls its own internal copy, which no preload
 * reaches: nothing is traced, and record names the object that has it
 * (builtin_libev, below); a program that links libevtrace itself is left
 * alone (record says so): two tracers would fight over the loop hooks.
 * libev loaded later with dlopen, even RTLD_LOCAL (Python's gevent), is
 * traced: the first libev hook finds it (late_libev).
 */
#define _GNU_SOURCE
#include "evt_preload.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "evt_internal.h"
#include "evt_record.h"

__thread int evt__preload_depth __attribute__((tls_model("initial-exec"), visibility("hidden")));

struct evt__preload evt__preload_g = {.status_fd = -1};
_Atomic int evt__preload_ready;
static pthread_once_t g_init_once = PTHREAD_ONCE_INIT;
static pthread_once_t g_open_once = PTHREAD_ONCE_INIT;
static pthread_once_t g_libev_once = PTHREAD_ONCE_INIT;   /* libev came later */

/* ---- real functions ------------------------------------------------------ */

static const char *const g_kind_names[EVT_KIND_COUNT] = {
    [EVT_KIND_IO] = "io", [EVT_KIND_TIMER] = "timer", [EVT_KIND_PERIODIC] = "periodic",
    [EVT_KIND_SIGNAL] = "signal", [EVT_KIND_CHILD] = "child", [EVT_KIND_STAT] = "stat",
    [EVT_KIND_IDLE] = "idle", [EVT_KIND_PREPARE] = "prepare", [EVT_KIND_CHECK] = "check",
    [EVT_KIND_EMBED] = "embed", [EVT_KIND_FORK] = "fork", [EVT_KIND_CLEANUP] = "cleanup",
    [EVT_KIND_ASYNC] = "async",
};

/* The next definition of name after the shim's: libev's or libc's (libev's
 * also when libev came in a library dlopen'ed with RTLD_LOCAL). */
static void *next_sym(const char *name)
{
    return evt__libev_sym(name);
}

static void resolve_real(struct evt__preload_real *r)
{
    char name[32];
    for (int k = 1; k < EVT_KIND_COUNT; k++) {
        snprintf(name, sizeof name, "ev_%s_start", g_kind_names[k]);
        r->start[k] = (evt__start_fn)next_sym(name);
        snprintf(name, sizeof name, "ev_%s_stop", g_kind_names[k]);
        r->stop[k] = (evt__start_fn)next_sym(name);
    }
    r->timer_again = (evt__start_fn)next_sym("ev_timer_again");
    r->periodic_again = (evt__start_fn)next_sym("ev_periodic_again");
    r->default_loop = (struct ev_loop * (*)(unsigned)) next_sym("ev_default_loop");
    r->loop_new = (struct ev_loop * (*)(unsigned)) next_sym("ev_loop_new");
    r->invoke_pending = (void (*)(struct ev_loop *))next_sym("ev_invoke_pending");
    r->depth = (unsigned (*)(struct ev_loop *))next_sym("ev_depth");
    r->ref = (void (*)(struct ev_loop *))next_sym("ev_ref");
    r->unref = (void (*)(struct ev_loop *))next_sym("ev_unref");
    r->accept = (int (*)(int, struct sockaddr *, socklen_t *))next_sym("accept");
    r->accept4 = (int (*)(int, struct sockaddr *, socklen_t *, int))next_sym("accept4");
    r->close = (int (*)(int))next_sym("close");
    *(void **)&r->once = next_sym("ev_once");
}

/* ---- address ranges ------------------------------------------------------ */

struct range_find {
    uintptr_t addr;
    struct evt__range *out;
};

static int range_cb(struct dl_phdr_info *info, size_t size, void *ctx)
{
    struct range_find *f = ctx;
    uintptr_t lo = UINTPTR_MAX, hi = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uintptr_t a = info->dlpi_addr + ph->p_vaddr;
        lo = a < lo ? a : lo;
        hi = a + ph->p_memsz > hi ? a + ph->p_memsz : hi;
    }
    if (f->addr < lo || f->addr >= hi)
        return 0;
    f->out->lo = lo;
    f->out->hi = hi;
    return 1;
}

/* The segments of the object that holds addr ([0, 0) if none). */
static void range_of(const void *addr, struct evt__range *out)
{
    struct range_find f = {(uintptr_t)addr, out};
    *out = (struct evt__range){0, 0};
    if (addr)
        dl_iterate_phdr(range_cb, &f);
}

/* ---- environment --------------------------------------------------------- */

/* Removes every LD_PRELOAD entry naming this library (by path, or by file
 * name when the entry is a bare name), keeping the others in order. */
static void drop_self_by_name(const char *cur, const char *self_path)
{
    const char *self_base = strrchr(self_path, '/') ? strrchr(self_path, '/') + 1 : self_path;
    char *copy = strdup(cur), *out = calloc(1, strlen(cur) + 1);
    if (copy && out) {
        for (char *save, *e = strtok_r(copy, ": ", &save); e; e = strtok_r(NULL, ": ", &save)) {
            const char *base = strrchr(e, '/') ? strrchr(e, '/') + 1 : e;
            char real[4096];
            int same = strcmp(base, self_base) == 0 &&
                       (!strchr(e, '/') || (realpath(e, real) && strcmp(real, self_path) == 0));
            if (!same)
                strcat(strcat(out, *out ? ":" : ""), e);
        }
        if (*out)
            setenv("LD_PRELOAD", out, 1);
        else
            unsetenv("LD_PRELOAD");
    }
    free(copy);
    free(out);
}

/* Gives the program back the LD_PRELOAD it had. `record` sets "SELF" when
 * there was none and "SELF:ORIGINAL" otherwise (ORIGINAL may be empty:
 * valgrind, for one, leaves LD_PRELOAD= set), so taking that prefix off
 * restores the exact value; anything else is cleaned entry by entry. */
static void drop_self_from_ld_preload(const char *self_path)
{
    const char *cur = getenv("LD_PRELOAD");
    size_t n = strlen(self_path);
    if (!cur)
        return;
    if (strncmp(cur, self_path, n) == 0 && cur[n] == '\0')
        unsetenv("LD_PRELOAD");
    else if (strncmp(cur, self_path, n) == 0 && cur[n] == ':')
        setenv("LD_PRELOAD", cur + n + 1, 1);
    else
        drop_self_by_name(cur, self_path);
}

/* Remembers where traces go (the variables are gone after start-up):
 * EVTRACE_OUTPUT for the pid EVTRACE_PID names, DIR for the others. */
static void choose_output(struct evt__preload *p)
{
    const char *out = getenv(EVT_ENV_OUTPUT), *pid = getenv(EVT_ENV_PID), *dir = getenv(EVT_ENV_DIR);
    if (out && pid && atoi(pid) == (int)getpid()) {
        snprintf(p->output, sizeof p->output, "%s", out);
        p->output_pid = (int)getpid();
    }
    snprintf(p->dir, sizeof p->dir, "%s", dir ? dir : "");
}

/* This process's trace: EVTRACE_OUTPUT if it is the process record
 * started, else DIR/NAME.PID.evtrace -- an exec'd child (--follow-exec),
 * or a forked child that makes its first loop (a daemon; its parent had
 * none at the fork, or the child would not trace) and must not write over
 * its parent's file. Decided when the trace opens, by the pid then. */
static const char *output_path(const struct evt__preload *p, char *buf, size_t n)
{
    if (p->output_pid == (int)getpid())
        return p->output;
    snprintf(buf, n, "%s%s%s.%d.evtrace", p->dir, p->dir[0] ? "/" : "", program_invocation_short_name,
             (int)getpid());
    return buf;
}

static void read_environment(struct evt__preload *p)
{
    const char *fd = getenv(EVT_ENV_STATUS_FD);
    int follow = getenv(EVT_ENV_FOLLOW_EXEC) && strcmp(getenv(EVT_ENV_FOLLOW_EXEC), "1") == 0;
    p->follow_fork = getenv(EVT_ENV_FOLLOW_FORK) && strcmp(getenv(EVT_ENV_FOLLOW_FORK), "1") == 0;
    p->status_fd = fd ? atoi(fd) : -1;
    if (p->status_fd >= 0 && fcntl(p->status_fd, F_GETFD) < 0)
        p->status_fd = -1;
    choose_output(p);
    Dl_info self;
    if (follow)
        return;
    if (p->status_fd >= 0)
        fcntl(p->status_fd, F_SETFD, FD_CLOEXEC);
    if (dladdr((void *)read_environment, &self) && self.dli_fname)
        drop_self_from_ld_preload(self.dli_fname);
    const char *vars[] = {EVT_ENV_OUTPUT, EVT_ENV_PID, EVT_ENV_DIR, EVT_ENV_STATUS_FD, EVT_ENV_FOLLOW_EXEC,
                          EVT_ENV_FOLLOW_FORK};
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++)
        unsetenv(vars[i]);
}

void evt__preload_status(const struct evt__preload *p, const char *fmt, ...)
{
    if (p->status_fd < 0)
        return;
    char line[4200];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    n = n < (int)sizeof line - 2 ? n : (int)sizeof line - 2;
    line[n++] = '\n';
    /* A socket (record makes one), sent to with MSG_NOSIGNAL: a daemon's
     * child can still get here after record has gone -- its first loop
     * opens its own trace -- and a write to a pipe with no reader would
     * kill it with SIGPIPE. MSG_DONTWAIT: record reads only once the
     * program has ended, so a full buffer (thousands of forked children
     * reporting) drops the line rather than hang the process. If it is
     * not a socket, nothing is sent. */
    int saved = errno;
    if (send(p->status_fd, line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
        /* record went away: nothing to tell */
    }
    errno = saved;
}

/* ---- start-up ------------------------------------------------------------ */

/* libev's functions and the address range of its segments (its own
 * watchers' callbacks lie there); libev_present says whether it was found. */
static void resolve_libev(struct evt__preload *p)
{
    resolve_real(&p->real);
    void *ev_run_fn = next_sym("ev_run");
    range_of(ev_run_fn, &p->libev);
    p->libev_present = ev_run_fn != NULL;
}

/* pthread_atfork child handler. A child forked while the trace is open
 * does not trace into it: the writer shut its copy of the tracer
 * (evt_tracer.c), and the hooks stop looking at it. Without --follow-fork
 * nothing opens another, and the child's first watcher start or stop
 * reports it, so that record can say why a pre-fork server's trace shows
 * only its parent. With it, the child's first event or hook opens the
 * child's own trace (open_forked_child; the open once is reset here:
 * nothing else runs in the child yet). Only plain stores here; the work
 * waits for that first event. */
static void preload_fork_child(void)
{
    static const pthread_once_t once_init = PTHREAD_ONCE_INIT;
    struct evt__preload *p = &evt__preload_g;
    if (!atomic_load_explicit(&p->tracer, memory_order_relaxed))
        return;   /* no trace yet: the child opens its own at its first loop */
    atomic_store_explicit(&p->tracer, NULL, memory_order_relaxed);
    p->forked_from = (int)getppid();
    if (p->follow_fork) {
        memcpy(&g_open_once, &once_init, sizeof g_open_once);
        atomic_store_explicit(&p->open_failed, 0, memory_order_relaxed);
        p->forked = EVT__FORKED_FOLLOW;
    } else {
        atomic_store_explicit(&p->open_failed, 1, memory_order_relaxed);
        p->forked = EVT__FORKED_REPORT;
    }
}

evt_tracer *evt__preload_forked(struct evt__preload *p)
{
    int what = p->forked, saved = errno;
    p->forked = EVT__FORKED_NO;
    if (what == EVT__FORKED_REPORT) {
        /* the parent's name: a child has it until it execs */
        evt__preload_status(p, "untraced-fork %d %d %s", (int)getpid(), p->forked_from,
                            program_invocation_short_name);
        errno = saved;
        return NULL;
    }
    evt_tracer *t = evt__preload_tracer(p);   /* DIR/NAME.PID.evtrace */
    if (t) {
        evt__loops_adopt(t);
        evt__preload_define_wrapped(t);
    }
    errno = saved;   /* the first event may come from libev's acquire hook, before it reads errno */
    return t;
}

/* With --follow-fork, the writer calls this at a fork child's first event
 * (evt__fork_follow), whether that is a callback's, the loop's or a hook's:
 * the child's trace then starts there, not at its first watcher start or
 * stop. A pre-fork worker that only runs its parent's watchers (ev_run on
 * the inherited loop) is traced from its first iteration. */
static evt_tracer *open_forked_child(void)
{
    struct evt__preload *p = &evt__preload_g;
    if (p->forked == EVT__FORKED_FOLLOW)
        return evt__preload_forked(p);
    return atomic_load_explicit(&p->tracer, memory_order_acquire);
}

static void builtin_look(struct evt__preload *p);   /* libev built in, below */

static void preload_init(void)
{
    struct evt__preload *p = &evt__preload_g;
    pthread_atfork(NULL, NULL, preload_fork_child);
    resolve_libev(p);
    read_environment(p);
    if (p->follow_fork)
        evt__fork_follow(open_forked_child);
    range_of((void *)preload_init, &p->self);
    evt__conn_init(p);
    evt__preload_status(p, "loaded");
    if (p->libev_present)
        evt__preload_status(p, "libev");
    else
        builtin_look(p);
    atomic_store_explicit(&evt__preload_ready, p->libev_present ? EVT__PRELOAD_LIBEV : EVT__PRELOAD_READY,
                          memory_order_release);
}

struct evt__preload *evt__preload_init(void)
{
    pthread_once(&g_init_once, preload_init);
    return &evt__preload_g;
}

/* libev was not loaded at start-up and a libev hook runs: it has been
 * since (dlopen). Runs once, before that hook forwards: the pointers it
 * fills were NULL and are only read after this, or by another thread's
 * hook that then waits here. A libev hook called with no libev anywhere
 * cannot forward: say so and stop rather than jump to NULL. */
static void late_libev(void)
{
    struct evt__preload *p = &evt__preload_g;
    resolve_libev(p);
    if (!p->libev_present) {
        evt__preload_status(p, "error a libev function was called, but libev.so.4 is not loaded");
        fprintf(stderr, "evtrace: a libev function was called, but libev.so.4 is not loaded\n");
        abort();
    }
    evt__preload_status(p, "libev");
    atomic_store_explicit(&evt__preload_ready, EVT__PRELOAD_LIBEV, memory_order_release);
}

struct evt__preload *evt__preload_libev(void)
{
    evt__preload_init();
    pthread_once(&g_libev_once, late_libev);
    return &evt__preload_g;
}

__attribute__((constructor)) static void preload_constructor(void)
{
    evt__preload_init();
}

/* ---- libev built in --------------------------------------------------------
 * libev is made to be compiled into a program (EV_STANDALONE): Perl's EV
 * does it, and so does any link with libev.a. Its functions are then
 * internal to that object, its own calls never reach the dynamic linker,
 * and no preload can hook them. "Never loaded libev.so.4" is true there,
 * and no help; so when libev.so.4 did not come with the program, the shim
 * looks through the loaded objects' read-only segments for the prefix
 * every copy of libev puts on its fatal messages, and tells record which
 * object has it ("builtin PATH"). It looks at start-up (a program linked
 * with libev.a has it mapped from the start, and may die of a signal at
 * any moment, which runs no destructor) and again at a normal exit (an
 * object loaded later with dlopen, like Perl's EV); record also looks at
 * the program's mapped files while it runs, for a late load in a server
 * that dies by a signal (evt_record.c). Only in the process record
 * started. Cost: one memmem over those bytes, at most twice, and only in a
 * program that did not load libev.so.4 at start: at most ~6 ms for
 * python3 (gevent loads libev later; memmem over python3 and its libraries,
 * 10 MB whole, took 6.2-7.2 ms here, and only their read-only segments are
 * read). The shim's own segments are skipped: this very string is in them. */
struct builtin_find {
    struct evt__range self;
    char path[4096];
};

static int has_mark(const struct dl_phdr_info *info, const struct evt__range *self)
{
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t a = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type != PT_LOAD || (ph->p_flags & PF_W) || !(ph->p_flags & PF_R) ||
            (a >= self->lo && a < self->hi))
            continue;
        if (memmem((const void *)a, ph->p_filesz, EVT_LIBEV_MARK, sizeof EVT_LIBEV_MARK - 1))
            return 1;
    }
    return 0;
}

static int builtin_cb(struct dl_phdr_info *info, size_t size, void *ctx)
{
    struct builtin_find *f = ctx;
    const char *base = info->dlpi_name ? strrchr(info->dlpi_name, '/') : NULL;
    if ((base && strncmp(base + 1, "libev.so", 8) == 0) || !has_mark(info, &f->self))
        return 0;   /* libev.so.4 itself (loaded, never called) is not "built in" */
    if (info->dlpi_name && info->dlpi_name[0])
        snprintf(f->path, sizeof f->path, "%s", info->dlpi_name);
    else {   /* the program itself */
        ssize_t n = readlink("/proc/self/exe", f->path, sizeof f->path - 1);
        f->path[n > 0 ? n : 0] = '\0';
    }
    return f->path[0] != '\0';
}

static void builtin_look(struct evt__preload *p)
{
    if (p->status_fd < 0 || p->output_pid != (int)getpid() || p->builtin_said ||
        atomic_load(&evt__preload_ready) == EVT__PRELOAD_LIBEV)
        return;
    struct builtin_find f = {.self = p->self};
    int saved = errno;
    if (dl_iterate_phdr(builtin_cb, &f)) {
        evt__preload_status(p, "builtin %s", f.path);
        p->builtin_said = 1;
    }
    errno = saved;
}

__attribute__((destructor)) static void builtin_libev(void)
{
    builtin_look(&evt__preload_g);
}

/* ---- the trace ------------------------------------------------------------ */

static void open_trace(void)
{
    struct evt__preload *p = &evt__preload_g;
    char buf[sizeof p->output + 64];
    const char *path = output_path(p, buf, sizeof buf);
    struct evt_options opt = {.path = path};   /* evt_open reads EVTRACE_FLUSH */
    evt_tracer *t = NULL;
    if (dlsym(RTLD_DEFAULT, "evt_open")) {
        /* libevtrace.so is in the process (our own evt_* are not exported):
         * the program traces itself; two tracers would fight over the loop
         * hooks, so the shim stays out of the way. */
        atomic_store(&p->open_failed, 1);
        evt__preload_status(p, "error the program uses libevtrace itself; the preload does not trace it");
        return;
    }
    evt__preload_names_forget();   /* a --follow-fork child's parent cached its own ids */
    int rc = evt_open(&t, &opt);
    if (rc < 0) {
        atomic_store(&p->open_failed, 1);
        evt__preload_status(p, "error cannot open %s: %s", path, evt_strerror(rc));
        return;
    }
    p->names = (struct evt__preload_names){
        .conn = evt_intern(t, "conn"), .open = evt_intern(t, "open"), .active = evt_intern(t, "active")};
    atomic_store(&p->tracer, t);
    evt__preload_status(p, "trace %d %s", (int)getpid(), path);
    if (t->consumer_pid)   /* record waits for it: it may finish after the program */
        evt__preload_status(p, "consumer %d %d", t->consumer_pid, (int)getpid());
}

evt_tracer *evt__preload_tracer(struct evt__preload *p)
{
    evt_tracer *t = atomic_load_explicit(&p->tracer, memory_order_acquire);
    if (t || atomic_load(&p->open_failed))
        return t;
    pthread_once(&g_open_once, open_trace);
    return atomic_load_explicit(&p->tracer, memory_order_acquire);
}

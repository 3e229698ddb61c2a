/* evt_record.c -- `evtrace record`: run a program under the preload library.
 *
 * The parent blocks the signals it cares about before forking and then
 * waits for them with sigwaitinfo: SIGCHLD means the program ended; SIGTERM,
 * SIGHUP and a SIGINT/SIGQUIT sent with kill() are forwarded to the program
 * (a terminal's ^C already reached it, being in the same process group, so
 * kernel-sent ones are not sent twice). No signal handler, no global state.
 *
 * execvp errors come back through a close-on-exec pipe: when exec succeeds
 * the pipe closes and the parent reads nothing; when it fails the child
 * writes errno and exits 127, and the parent prints one line.
 */
#define _GNU_SOURCE
#include "evt_record.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "evt_model.h"
#include "evtrace.h"

#ifndef EVT_PRELOAD_INSTALL_PATH
#define EVT_PRELOAD_INSTALL_PATH "/usr/local/lib/evtrace/" EVT_PRELOAD_NAME
#endif

#define REC_DEFAULT_STALL_MS 100
#define REC_STALLS_SHOWN 3
/* How long record waits, once the program has ended, for traced processes
 * it forked that still run: a pre-fork server's workers stop a moment after
 * their master (the same Ctrl-C reaches them all), and their traces are
 * named in the report, so they should be whole by then. A process still
 * running after it (a daemon, say) is left alone, and named as left
 * running. */
#define REC_GRACE_MS 2000

struct rec_opts {
    const char *out;          /* -o, or NULL for NAME.PID.evtrace */
    long stall_ms;
    int follow_exec;
    int follow_fork;
    char **argv;              /* PROGRAM ARGS, NULL-terminated */
};

struct rec_status {           /* what the preload said on the status socket */
    int pid;                  /* the program's */
    int loaded, libev;
    int exec_failed;          /* execvp failed: record printed why */
    int signal;               /* the signal the program died of, 0: none */
    int untraced_forks;       /* children forked with the trace open that ran libev */
    int untraced_pid[4];      /* the first of them */
    int untraced_parent;      /* the first one's parent (the program, or a
                                 process it forked or exec'd), */
    char untraced_parent_name[64];   /* its name, */
    int untraced_other_parent;   /* and 1 if another has a different parent */
    int child_traces;         /* forked children traced too (--follow-fork) */
    char child_trace[PATH_MAX];   /* the first one's file */
    int left;                 /* processes the program left running (ours now) */
    int left_pid[4];          /* the first of them */
    struct rec_consumer {     /* the tracers' consumer processes (evt_consumer.c), one */
        int pid, of;          /* per traced process (a pre-fork server's workers, each): */
    } *consumers;             /* its pid, and the pid it writes for */
    int n_consumers, cap_consumers;
    char trace[PATH_MAX];
    char builtin[PATH_MAX];   /* an object with libev compiled in (the preload's
                                 report at exit, or record's own look) */
    char error[256];
};

const char evt__record_usage[] =
    "usage: evtrace record [-o FILE] [--stall-ms N] [--follow-exec] [--follow-fork] -- PROGRAM [ARGS...]\n"
    "\n"
    "Runs PROGRAM with evtrace's preload library, which traces every libev loop,\n"
    "watcher and callback in it, each connection as a lane, with no change to\n"
    "PROGRAM (it must load libev.so.4). Then says where the trace is, what is in\n"
    "it, and the stalls. The exit status is PROGRAM's. Manual: docs/RECORD.md.\n"
    "\n"
    "  -o, --output FILE   the trace (default: NAME.PID.evtrace in the current\n"
    "                      directory, NAME being PROGRAM's)\n"
    "  --stall-ms N        report callbacks of N ms or more (default 100)\n"
    "  --follow-exec       trace the programs PROGRAM execs too, each into\n"
    "                      NAME.PID.evtrace in the current directory\n"
    "  --follow-fork       trace the children PROGRAM forks once its trace is\n"
    "                      open (a pre-fork server's workers), the same way\n"
    "  -h, --help          this text\n";

static int usage_error(const char *msg, const char *arg)
{
    fprintf(stderr, "evtrace record: %s%s%s (usage: evtrace record [-o FILE] [--stall-ms N] "
                    "[--follow-exec] [--follow-fork] -- PROGRAM [ARGS])\n",
            msg, arg ? ": " : "", arg ? arg : "");
    return -1;
}

static int parse_stall(const char *s, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 0 || v > 86400000)
        return -1;
    *out = v;
    return 0;
}

static int parse_args(int argc, char **argv, struct rec_opts *o)
{
    *o = (struct rec_opts){.stall_ms = REC_DEFAULT_STALL_MS};
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        } else if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) {
            if (++i >= argc || !argv[i][0])
                return usage_error("missing file after", a);
            o->out = argv[i];
        } else if (strcmp(a, "--stall-ms") == 0) {
            if (++i >= argc || parse_stall(argv[i], &o->stall_ms) < 0)
                return usage_error("--stall-ms needs a number of milliseconds", i < argc ? argv[i] : NULL);
        } else if (strcmp(a, "--follow-exec") == 0) {
            o->follow_exec = 1;
        } else if (strcmp(a, "--follow-fork") == 0) {
            o->follow_fork = 1;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(evt__record_usage, stdout);
            return 1;
        } else {
            return usage_error("unknown option", a);
        }
    }
    if (i >= argc)
        return usage_error("no program to run", NULL);
    o->argv = argv + i;
    return 0;
}

/* The library: $EVTRACE_PRELOAD, else next to this binary, else installed. */
static int find_preload(char *buf, size_t n)
{
    const char *env = getenv(EVT_ENV_PRELOAD);
    if (env && *env)
        return realpath(env, buf) && access(buf, R_OK) == 0 ? 0 : -1;
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len > 0) {
        exe[len] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash && (size_t)snprintf(buf, n, "%.*s/%s", (int)(slash - exe), exe, EVT_PRELOAD_NAME) < n &&
            access(buf, R_OK) == 0)
            return 0;
    }
    snprintf(buf, n, "%s", EVT_PRELOAD_INSTALL_PATH);
    return access(buf, R_OK) == 0 ? 0 : -1;
}

/* NAME.PID.evtrace in the current directory, or -o FILE; always absolute,
 * because the program may chdir before it creates its first loop. */
static int output_path(const struct rec_opts *o, pid_t pid, char *buf, size_t n)
{
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd))
        return -1;
    int len;
    if (o->out) {
        len = o->out[0] == '/' ? snprintf(buf, n, "%s", o->out) : snprintf(buf, n, "%s/%s", cwd, o->out);
    } else {
        const char *base = strrchr(o->argv[0], '/');
        len = snprintf(buf, n, "%s/%s.%d.evtrace", cwd, base ? base + 1 : o->argv[0], (int)pid);
    }
    return len > 0 && (size_t)len < n ? 0 : -1;
}

/* LD_PRELOAD=ours[:theirs]; everything else the preload needs to know. */
static int child_environment(const struct rec_opts *o, const char *preload, int status_fd)
{
    char path[PATH_MAX], num[32], cwd[PATH_MAX];
    const char *theirs = getenv("LD_PRELOAD");
    char *both = NULL;
    if (output_path(o, getpid(), path, sizeof path) < 0 || !getcwd(cwd, sizeof cwd))
        return -1;
    if (theirs && asprintf(&both, "%s:%s", preload, theirs) < 0)   /* even "": kept as it was */
        return -1;
    snprintf(num, sizeof num, "%d", status_fd);
    int rc = setenv("LD_PRELOAD", both ? both : preload, 1) | setenv(EVT_ENV_OUTPUT, path, 1) |
             setenv(EVT_ENV_STATUS_FD, num, 1) | setenv(EVT_ENV_DIR, cwd, 1);
    snprintf(num, sizeof num, "%d", (int)getpid());
    rc |= setenv(EVT_ENV_PID, num, 1);
    rc |= o->follow_exec ? setenv(EVT_ENV_FOLLOW_EXEC, "1", 1) : unsetenv(EVT_ENV_FOLLOW_EXEC);
    rc |= o->follow_fork ? setenv(EVT_ENV_FOLLOW_FORK, "1", 1) : unsetenv(EVT_ENV_FOLLOW_FORK);
    free(both);
    return rc ? -1 : 0;
}

/* The status socket moves to a high fd, so the program's own fds get the
 * numbers they would get untraced (the lowest free ones). */
static int status_fd_high(int fd)
{
    struct rlimit rl;
    int want = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur > 64 && rl.rlim_cur != RLIM_INFINITY
                   ? (int)(rl.rlim_cur > 1024 ? 1000 : rl.rlim_cur - 24)
                   : fd;
    int hi = want > fd ? fcntl(fd, F_DUPFD, want) : -1;
    if (hi < 0)
        return fcntl(fd, F_SETFD, 0) == 0 ? fd : -1;
    close(fd);
    return hi;
}

/* In the child: environment, original signal mask, exec. Never returns. */
static void child_exec(const struct rec_opts *o, const char *preload, int status_fd, int err_fd,
                       const sigset_t *oldmask)
{
    int err = EINVAL;
    if ((status_fd = status_fd_high(status_fd)) >= 0 && child_environment(o, preload, status_fd) == 0) {
        sigprocmask(SIG_SETMASK, oldmask, NULL);
        execvp(o->argv[0], o->argv);
        err = errno;
    }
    if (write(err_fd, &err, sizeof err) < 0) {
        /* nothing left to tell anyone */
    }
    _exit(err == ENOENT ? 127 : 126);
}

static long ms_since(const struct timespec *t0)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long)(now.tv_sec - t0->tv_sec) * 1000 + (now.tv_nsec - t0->tv_nsec) / 1000000;
}

/* ---- libev compiled in, seen from outside ------------------------------
 * The preload names an object that has libev compiled in at start-up and
 * when the program exits (evt_preload.c): the first look covers a program
 * linked with libev.a, however soon it dies; the second an object loaded
 * later (a Perl script loading EV), but a server usually ends by a signal,
 * which runs no destructor. So record looks too, while the program runs:
 * at each of rec_scan_ms, and when a signal for it arrives, if the preload
 * has not reported libev and no look found it yet, record reads the files
 * the program has mapped (/proc/PID/maps) for the prefix every libev puts
 * on its messages. A process killed is gone before record hears of it,
 * maps and all: an object loaded late, in a program killed by a signal
 * before the next look, is not named. */
static const long rec_scan_ms[] = {100, 1000};
#define REC_SCANS (sizeof rec_scan_ms / sizeof *rec_scan_ms)
#define REC_SCAN_MAX_BYTES ((off_t)256 << 20)   /* a bigger mapped file is data, not code */

/* 1 if the file at path has the mark in it. Read in blocks, not mapped: a
 * library replaced by truncating it while record looks (a build writing
 * into place) would end record with SIGBUS. Each block keeps the last
 * bytes of the one before, so a mark across a block boundary is found. */
static int file_has_mark(const char *path)
{
    enum { MARK = sizeof EVT_LIBEV_MARK - 1, BLOCK = 16 << 10 };
    char buf[BLOCK + MARK];
    int fd = open(path, O_RDONLY | O_CLOEXEC), found = 0;
    struct stat sb;
    if (fd < 0)
        return 0;
    if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size <= REC_SCAN_MAX_BYTES) {
        size_t kept = 0;
        ssize_t n;
        while (!found && (n = read(fd, buf + kept, BLOCK)) > 0) {
            size_t have = kept + (size_t)n;
            found = memmem(buf, have, EVT_LIBEV_MARK, MARK) != NULL;
            kept = have < MARK - 1 ? have : MARK - 1;
            memmove(buf, buf + have - kept, kept);
        }
    }
    close(fd);
    return found;
}

/* Into out: the first file pid maps, other than libev.so.* and the preload
 * (which has the prefix too, to look for it), with the prefix in it. */
static void scan_builtin(pid_t pid, char *out, size_t n)
{
    char path[64], line[PATH_MAX + 128], last[PATH_MAX] = "";
    snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
    FILE *f = fopen(path, "r");
    while (f && !out[0] && fgets(line, sizeof line, f)) {
        char *file = strchr(line, '/');
        if (!file)
            continue;
        file[strcspn(file, "\n")] = '\0';
        const char *base = strrchr(file, '/') + 1;
        if (strcmp(file, last) == 0 || strncmp(base, "libev.so", 8) == 0 || strcmp(base, EVT_PRELOAD_NAME) == 0)
            continue;
        snprintf(last, sizeof last, "%s", file);
        if (file_has_mark(file))
            snprintf(out, n, "%s", file);
    }
    if (f)
        fclose(f);
}

/* "PID PATH": the program's own trace, or one of a child it forked. */
static void read_trace_line(const char *s, struct rec_status *st)
{
    int pid = 0, at = 0;
    if (sscanf(s, "%d %n", &pid, &at) != 1 || !at)
        return;
    if (pid == st->pid && !st->trace[0])
        snprintf(st->trace, sizeof st->trace, "%s", s + at);
    else if (pid != st->pid && st->child_traces++ == 0)
        snprintf(st->child_trace, sizeof st->child_trace, "%s", s + at);
}

/* Remembers a consumer process and the pid it writes for; none if out of
 * memory (then record does not wait for it: its file may be unfinished
 * when named). */
static void add_consumer(struct rec_status *st, int pid, int of)
{
    if (st->n_consumers == st->cap_consumers) {
        int cap = st->cap_consumers ? st->cap_consumers * 2 : 16;
        struct rec_consumer *c = realloc(st->consumers, (size_t)cap * sizeof *c);
        if (!c)
            return;
        st->consumers = c;
        st->cap_consumers = cap;
    }
    st->consumers[st->n_consumers++] = (struct rec_consumer){pid, of};
}

/* "PID PARENT NAME": a child that PARENT (running NAME) forked after its
 * trace opened ran libev untraced. */
static void untraced_fork_line(const char *line, struct rec_status *st)
{
    int pid = 0, parent = 0, used = 0;
    sscanf(line, "%d %d %n", &pid, &parent, &used);
    if (st->untraced_forks < 4)
        st->untraced_pid[st->untraced_forks] = pid;
    if (st->untraced_forks++ == 0) {
        st->untraced_parent = parent;
        snprintf(st->untraced_parent_name, sizeof st->untraced_parent_name, "%s", used ? line + used : "");
    } else if (parent != st->untraced_parent)
        st->untraced_other_parent = 1;
}

static void status_line(const char *line, struct rec_status *st)
{
    int pid, of;
    if (strcmp(line, "loaded") == 0)
        st->loaded = 1;
    else if (strcmp(line, "libev") == 0)
        st->libev = 1;
    else if (strncmp(line, "trace ", 6) == 0)
        read_trace_line(line + 6, st);
    else if (strncmp(line, "consumer ", 9) == 0 && sscanf(line + 9, "%d %d", &pid, &of) == 2)
        add_consumer(st, pid, of);
    else if (strncmp(line, "untraced-fork ", 14) == 0)
        untraced_fork_line(line + 14, st);
    else if (strncmp(line, "builtin ", 8) == 0)
        snprintf(st->builtin, sizeof st->builtin, "%s", line + 8);
    else if (strncmp(line, "error ", 6) == 0 && !st->error[0])
        snprintf(st->error, sizeof st->error, "%s", line + 6);
}

/* What the preloads said so far: read as it comes (SIGIO wakes record;
 * every traced process says a few lines, a pre-fork server's workers
 * hundreds, more than the socket holds, and a full socket drops lines),
 * line by line; a line cut by the socket waits in buf for its end. final:
 * the program and its processes are gone, a cut line is all there is. */
struct status_buf {
    char buf[8192];
    size_t len;
};

static void read_status(int fd, struct status_buf *sb, struct rec_status *st, int final)
{
    for (;;) {
        ssize_t n = read(fd, sb->buf + sb->len, sizeof sb->buf - 1 - sb->len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        sb->len += (size_t)n;
        sb->buf[sb->len] = '\0';
        char *line = sb->buf, *nl;
        while ((nl = strchr(line, '\n'))) {
            *nl = '\0';
            status_line(line, st);
            line = nl + 1;
        }
        sb->len -= (size_t)(line - sb->buf);
        memmove(sb->buf, line, sb->len);
        if (sb->len == sizeof sb->buf - 1)
            sb->len = 0;   /* a line longer than any the preload writes: dropped */
    }
    sb->buf[sb->len] = '\0';
    if (final && sb->len)
        status_line(sb->buf, st);
}

struct rec_wait {
    pid_t pid;
    int status_fd;
    struct status_buf sb;
    struct rec_status *st;
    struct timespec start;
    size_t scans;     /* of rec_scan_ms, done */
    int signal_scan;  /* the look at a forwarded signal, done (once: a
                         program may get SIGHUP after SIGHUP) */
};

/* If the preload has not said "libev" by now and no look found it yet,
 * look for a copy of libev compiled into the program. */
static void scan(struct rec_wait *w)
{
    read_status(w->status_fd, &w->sb, w->st, 0);
    if (!w->st->libev && !w->st->builtin[0])
        scan_builtin(w->pid, w->st->builtin, PATH_MAX);
}

/* The next signal of set; while looks are due, at most until the next one
 * (then 0, having looked). */
static int next_signal(struct rec_wait *w, const sigset_t *set, siginfo_t *si)
{
    if (w->scans == REC_SCANS || w->st->libev || w->st->builtin[0])
        return sigwaitinfo(set, si);
    long left = rec_scan_ms[w->scans] - ms_since(&w->start);
    if (left > 0) {
        struct timespec to = {left / 1000, (left % 1000) * 1000000};
        int sig = sigtimedwait(set, si, &to);
        if (sig > 0 || errno != EAGAIN)
            return sig;
    }
    w->scans++;
    scan(w);
    return 0;
}

/* Waits for the program, forwarding termination requests, and looks for a
 * compiled-in libev on the way. Returns its wait status, or -1. */
static int wait_program(struct rec_wait *w, const sigset_t *set)
{
    for (;;) {
        int status;
        pid_t r = waitpid(w->pid, &status, WNOHANG);
        if (r == w->pid)
            return status;
        if (r < 0 && errno != EINTR)
            return -1;
        siginfo_t si;
        int sig = next_signal(w, set, &si);
        read_status(w->status_fd, &w->sb, w->st, 0);
        int forward = sig == SIGTERM || sig == SIGHUP || ((sig == SIGINT || sig == SIGQUIT) && si.si_code <= 0);
        if (forward) {
            if (!w->signal_scan++)
                scan(w);   /* while the program is still there */
            kill(w->pid, sig);
        }
    }
}

/* Waits until the consumer process has written the end of the trace: it
 * is ours once the program is gone (subreaper), or already reaped by the
 * program's evt_close (ECHILD). */
static void wait_consumer(int pid)
{
    while (pid > 0 && waitpid(pid, NULL, __WALL) < 0 && errno == EINTR)
        ;
}

/* 1 once pid has ended; reaps it if it is record's (a subreaper inherits
 * the program's orphans). */
static int ended(pid_t pid)
{
    return waitpid(pid, NULL, WNOHANG) == pid || (kill(pid, 0) < 0 && errno == ESRCH);
}

/* The consumers (evt_consumer.c) of the program and of the traced
 * processes it forked, once each of those has ended: a consumer finishes
 * its file after its process is gone. Processes still running get
 * REC_GRACE_MS in all to end. */
static void wait_consumers(struct rec_status *st, pid_t program, int fd, struct status_buf *sb)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < st->n_consumers; i++) {   /* the list may grow meanwhile */
        pid_t of = st->consumers[i].of;
        int done = of == program || ended(of);
        while (!done && ms_since(&t0) < REC_GRACE_MS) {
            usleep(10000);
            read_status(fd, sb, st, 0);
            done = ended(of);
        }
        if (done)
            wait_consumer(st->consumers[i].pid);
        read_status(fd, sb, st, 0);
    }
}

static int by_duration_desc(const void *a, const void *b)
{
    const struct evt_m_callback *x = *(const struct evt_m_callback *const *)a;
    const struct evt_m_callback *y = *(const struct evt_m_callback *const *)b;
    uint64_t dx = x->t1 - x->t0, dy = y->t1 - y->t0;
    return dx < dy ? 1 : dx > dy ? -1 : 0;
}

static const char *plural(uint64_t n) { return n == 1 ? "" : "s"; }

static void print_stalls(const struct evt_model *m, long stall_ms)
{
    const struct evt_m_callback **list = NULL;
    size_t n = evt_model_stalls(m, (uint64_t)stall_ms * 1000000u, &list);
    fprintf(stderr, "evtrace record: %zu stall%s >= %ld ms", n, plural(n), stall_ms);
    if (n)
        qsort(list, n, sizeof *list, by_duration_desc);
    for (size_t i = 0; i < n && i < REC_STALLS_SHOWN; i++) {
        const struct evt_m_callback *c = list[i];
        const char *name = c->watcher < m->n_watchers ? m->watchers[c->watcher].name : "?";
        fprintf(stderr, "%s %.1f ms in %s at +%.3f s%s", i ? "," : ":", (double)(c->t1 - c->t0) / 1e6, name,
                (double)(c->t0 - m->t_min) / 1e9, c->complete ? "" : " (unfinished)");
    }
    fprintf(stderr, "%s\n", n > REC_STALLS_SHOWN ? ", ..." : "");
    free(list);
}

/* Where the trace is and what is in it, in three lines. */
static void print_summary(const char *path, long stall_ms)
{
    struct evt_model m;
    int rc = evt_model_load_file(&m, path, NULL, NULL);
    fprintf(stderr, "evtrace record: trace written to %s\n", path);
    if (rc < 0 && rc != EVT_ETRUNC && rc != EVT_EFORMAT) {
        fprintf(stderr, "evtrace record: cannot read it back: %s\n", evt_strerror(rc));
        return;
    }
    fprintf(stderr, "evtrace record: %llu event%s, %zu loop iteration%s, %zu callback%s, %zu connection%s, "
                    "%llu lost%s%s\n",
            (unsigned long long)m.events, plural(m.events), m.n_iterations, plural(m.n_iterations),
            m.n_callbacks, plural(m.n_callbacks), m.n_requests, plural(m.n_requests), (unsigned long long)m.lost,
            m.damaged ? "; damaged: " : "", m.damaged ? m.error : "");
    print_stalls(&m, stall_ms);
    evt_model_free(&m);
}

/* The pids in /proc/self/task/TID/children, up to max in pids; returns
 * how many there are. Once the program is gone, its orphans are record's
 * (a subreaper): a daemon's process, for one. */
static int children_of_record(int *pids, int max)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%d/children", (int)gettid());
    FILE *f = fopen(path, "r");
    int n = 0, pid;
    while (f && fscanf(f, "%d", &pid) == 1)
        if (n++ < max)
            pids[n - 1] = pid;
    if (f)
        fclose(f);
    return n;
}

/* "12, 13, 14, 15, ...": the first (at most 4) of count pids. */
static const char *pid_list(char *buf, size_t n, int count, const int *pids)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < count && i < 4 && len < n; i++)
        len += (size_t)snprintf(buf + len, n - len, "%s%d", i ? ", " : "", pids[i]);
    if (count > 4 && len < n)
        snprintf(buf + len, n - len, ", ...");
    return buf;
}

/* A process left running (a daemon) traces itself once it makes a loop,
 * after record has gone: say where its trace will be. */
static void print_left_running(const char *prog, const struct rec_status *st)
{
    if (!st->left)
        return;
    char pids[64], cwd[PATH_MAX];
    const char *base = strrchr(prog, '/');
    fprintf(stderr, "evtrace record: %s left %d process%s running (pid %s); one that makes its first "
                    "loop now writes %s/%s.PID.evtrace\n",
            prog, st->left, st->left == 1 ? "" : "es", pid_list(pids, sizeof pids, st->left, st->left_pid),
            getcwd(cwd, sizeof cwd) ? cwd : ".", base ? base + 1 : prog);
}

/* Children forked after the trace opened run libev untraced (a pre-fork
 * server's workers): say so, or their work is simply missing; with
 * --follow-fork they trace themselves: say where. */
static void print_untraced_forks(const char *prog, const struct rec_status *st)
{
    if (st->child_traces && st->trace[0])
        fprintf(stderr, "evtrace record: %d forked child process%s traced too: %s%s\n", st->child_traces,
                st->child_traces == 1 ? "" : "es", st->child_trace, st->child_traces > 1 ? " and others" : "");
    if (!st->untraced_forks)
        return;
    char pids[64], by[128];
    const char *name = st->untraced_parent_name, *base = strrchr(prog, '/');
    if (!name[0] || (st->untraced_parent == st->pid && strcmp(name, base ? base + 1 : prog) == 0))
        snprintf(by, sizeof by, "%s", prog);   /* the program, as it was named */
    else if (st->untraced_parent == st->pid)   /* the program, after an exec (--follow-exec) */
        snprintf(by, sizeof by, "%s", name);
    else   /* a process it forked, which exec'd (--follow-exec) */
        snprintf(by, sizeof by, "%s (pid %d)", name, st->untraced_parent);
    fprintf(stderr, "evtrace record: %d child process%s forked by %s%s after %s trace opened ran libev untraced "
                    "(pid %s): --follow-fork traces them\n",
            st->untraced_forks, st->untraced_forks == 1 ? "" : "es", by,
            st->untraced_other_parent ? " and others" : "", st->untraced_other_parent ? "their" : "its",
            pid_list(pids, sizeof pids, st->untraced_forks, st->untraced_pid));
}

/* Says plainly why there is no trace, or summarises the one there is. */
static void report(const struct rec_opts *o, const struct rec_status *st)
{
    const char *prog = o->argv[0];
    if (st->signal)   /* first: a crash explains what follows ("never loaded libev"...) */
        fprintf(stderr, "evtrace record: %s died of signal %d (%s)\n", prog, st->signal, strsignal(st->signal));
    if (st->error[0])
        fprintf(stderr, "evtrace record: the tracer failed in %s: %s\n", prog, st->error);
    if (!st->loaded)
        fprintf(stderr, "evtrace record: the preload library did not load into %s (static or setuid "
                        "program?): nothing traced\n", prog);
    else if (!st->libev && st->builtin[0])
        fprintf(stderr, "evtrace record: %s never loaded libev.so.4: libev is compiled into %s, where no preload "
                        "can reach it; no trace written (link it with -lev, or use evtrace.h)\n", prog, st->builtin);
    else if (!st->libev)
        fprintf(stderr, "evtrace record: %s never loaded libev (libev.so.4): no trace written\n", prog);
    else if (!st->trace[0] && st->child_traces) {   /* a pre-fork server's master, say */
        fprintf(stderr, "evtrace record: %s made no loop itself; %d process%s it forked traced %s: %s%s\n", prog,
                st->child_traces, st->child_traces == 1 ? "" : "es", st->child_traces == 1 ? "itself" : "themselves",
                st->child_trace, st->child_traces > 1 ? " and others" : "");
        print_summary(st->child_trace, o->stall_ms);
    } else if (!st->trace[0] && !st->error[0])
        fprintf(stderr, "evtrace record: %s loaded libev but never created a loop: no trace written\n", prog);
    else if (!st->trace[0])
        return;
    else if (access(st->trace, R_OK) != 0)
        fprintf(stderr, "evtrace record: %s: trace missing: %s\n", st->trace, strerror(errno));
    else
        print_summary(st->trace, o->stall_ms);
    print_untraced_forks(prog, st);
    print_left_running(prog, st);
}

static int exit_code(int status)
{
    if (status < 0)
        return 1;
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

/* Forks and execs the program; returns its exit code (126/127 when exec
 * failed, and then st->exec_failed is set). */
static int run_program(const struct rec_opts *o, const char *preload, struct rec_status *st)
{
    int sp[2], ep[2];
    sigset_t set, old;
    /* The status channel is a socket so that the preload can send with
     * MSG_NOSIGNAL: a daemon's child may write to it after record is gone,
     * and a pipe would kill it with SIGPIPE (evt_preload.c). */
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0 || pipe2(ep, O_CLOEXEC) < 0) {
        fprintf(stderr, "evtrace record: cannot make the status channel: %s\n", strerror(errno));
        return 1;
    }
    sigemptyset(&set);
    for (int s = 0, sigs[] = {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGIO}; s < 6; s++)
        sigaddset(&set, sigs[s]);
    signal(SIGCHLD, SIG_DFL);
    /* The tracer's consumer process (evt_consumer.c) is the program's child
     * and may outlive it by a final flush: as a subreaper, record inherits
     * it then and can wait for the trace to be complete. */
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    sigprocmask(SIG_BLOCK, &set, &old);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(sp[0]);
        close(ep[0]);
        child_exec(o, preload, sp[1], ep[1], &old);
    }
    close(sp[1]);
    close(ep[1]);
    st->pid = (int)pid;
    fcntl(sp[0], F_SETOWN, getpid());   /* SIGIO (blocked, waited for) when the preload says something */
    fcntl(sp[0], F_SETFL, O_NONBLOCK | O_ASYNC);
    struct rec_wait w = {.pid = pid, .status_fd = sp[0], .st = st};
    clock_gettime(CLOCK_MONOTONIC, &w.start);
    int status = pid < 0 ? -1 : wait_program(&w, &set);
    st->signal = status >= 0 && WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    int err = 0;
    ssize_t n = pid < 0 ? 0 : read(ep[0], &err, sizeof err);
    read_status(sp[0], &w.sb, st, 0);
    if (pid > 0)
        wait_consumers(st, pid, sp[0], &w.sb);
    read_status(sp[0], &w.sb, st, 1);
    fcntl(sp[0], F_SETFL, O_NONBLOCK);
    signal(SIGIO, SIG_IGN);   /* drops a SIGIO still pending: unblocked, it would end record */
    sigprocmask(SIG_SETMASK, &old, NULL);
    signal(SIGIO, SIG_DFL);
    st->left = children_of_record(st->left_pid, 4);
    close(sp[0]);
    close(ep[0]);
    if (pid < 0)
        fprintf(stderr, "evtrace record: fork: %s\n", strerror(errno));
    if (n != (ssize_t)sizeof err)
        return exit_code(status);
    fprintf(stderr, "evtrace record: %s: %s\n", o->argv[0], err == ENOENT ? "command not found" : strerror(err));
    st->exec_failed = 1;
    return err == ENOENT ? 127 : 126;
}

int evt__record_main(int argc, char **argv)
{
    struct rec_opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc != 0)
        return rc < 0 ? 2 : 0;
    char preload[PATH_MAX];
    if (find_preload(preload, sizeof preload) < 0) {
        fprintf(stderr, "evtrace record: cannot find %s (looked at $%s, next to evtrace, %s)\n",
                EVT_PRELOAD_NAME, EVT_ENV_PRELOAD, EVT_PRELOAD_INSTALL_PATH);
        return 1;
    }
    struct rec_status st = {0};
    int code = run_program(&o, preload, &st);
    if (!st.exec_failed)
        report(&o, &st);
    free(st.consumers);
    return code;
}

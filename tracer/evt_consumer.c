/* evt_consumer.c -- the consumer process: encodes and writes the trace
 * outside the traced program.
 *
 * Why a process and not a thread. A thread makes the program
 * multi-threaded, and a multi-threaded process pays on every system call
 * that touches a file descriptor: glibc brackets each cancellable call
 * (read, write, recv, send, close, epoll_wait...) with two atomic updates,
 * and the kernel takes a reference on the file for each call instead of
 * borrowing it (fdget's single-owner fast path). For a server doing a few
 * of those per request, that was the largest single part of what tracing
 * cost (docs/OVERHEAD.md). A copy of the process made at evt_open has none
 * of it: the program stays single-threaded, and so does the copy.
 *
 * It is also what makes a trace complete however the program ends: the
 * consumer learns of the end by EOF on a pipe only the program holds, so
 * after SIGKILL or a crash too it drains the rings one last time and
 * writes everything the program recorded -- a moment after the program is
 * gone (`evtrace record` waits for it). Where the program ends on purpose
 * the file is complete before it is gone: evt_close and exit() ask for the
 * final flush and wait for the answer, and so does libevtrace's SIGINT/
 * SIGTERM handler (installed, as with the thread, only where the program
 * left the default), with a write and a read, both async-signal-safe.
 *
 * How. evt_open creates the tracer in a shared region (evt_shm.h), writes
 * the file's preamble, and then clones itself with clone(2) flags 0: a
 * fork whose end sends no SIGCHLD, so the program's own child handling
 * (libev's ev_child, a SIGCHLD handler, waitpid(-1)) never sees it. The
 * copy closes every descriptor but the trace file and its two pipe ends
 * (it must not keep the program's sockets open), blocks every signal, and
 * loops: every flush interval, or when asked, it drains and writes, as the
 * flusher thread does (evt_flush.c). The program talks to it with single
 * bytes: 'f' = flush now and answer, 'c' = final flush, answer and exit.
 *
 * Limits. The program must be single-threaded at evt_open (glibc's locks
 * must not be held by a thread that the copy would not have); otherwise,
 * and when the region or the process cannot be had, evt_open falls back to
 * the flusher thread. Linux only. The copy is a fork: memory the program
 * had at evt_open and writes afterwards gets copied, so open the tracer
 * before loading big data (or set flush_thread). A program that closes
 * every descriptor after evt_open (some daemons do) closes the pipe too:
 * the consumer then writes what it has and ends, as it would at exit. The
 * consumer shares the program's cgroup and CPU quota (killing the whole
 * group kills it too, and the last interval is lost) and shows in ps as
 * "evtrace-flush". Under valgrind it is traced as well (valgrind follows
 * forks) and exits quickly because it unmaps the region first.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "evt_internal.h"

/* Closes every descriptor but the three the consumer needs. */
static void close_others(int a, int b, int c)
{
    int keep[3] = {a, b, c};
    for (int i = 0; i < 3; i++)          /* sort the three */
        for (int j = i + 1; j < 3; j++)
            if (keep[j] < keep[i]) {
                int x = keep[i];
                keep[i] = keep[j];
                keep[j] = x;
            }
    unsigned lo = 0;
    for (int i = 0; i < 3; i++) {
        if (keep[i] > (int)lo)
            close_range(lo, (unsigned)keep[i] - 1, 0);
        lo = (unsigned)keep[i] + 1;
    }
    close_range(lo, ~0u, 0);
}

static void answer(int fd, char c)
{
    while (write(fd, &c, 1) < 0 && errno == EINTR)
        ;
}

/* The consumer's life; never returns. */
static void consumer_main(evt_tracer *t, int ctl, int ack)
{
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    prctl(PR_SET_NAME, "evtrace-flush", 0, 0, 0);
    close_others(t->fd, ctl, ack);
    for (;;) {
        struct pollfd p = {.fd = ctl, .events = POLLIN};
        char cmd = 0;
        if (poll(&p, 1, (int)t->flush_ms) > 0 && read(ctl, &cmd, 1) <= 0)
            cmd = 'x';   /* EOF: the program is gone, however it ended */
        if (cmd == 'c' || cmd == 'x') {
            int rc = evt__flush_locked(t, EVT__FLUSH_FINAL | (cmd == 'x' ? EVT__FLUSH_ORPHAN : 0));
            /* Unmapped first: the program waits for our end, and a tool
             * that scans memory at exit (valgrind's leak check) would read
             * the whole reserved region: seconds, and every page of it. */
            evt__enc_free(t->enc);   /* ours; valgrind checks this process too */
            free(t->snap);
            evt__shm_destroy(t->shm);
            if (cmd == 'c')
                answer(ack, rc < 0 ? 'e' : 'c');
            _exit(rc < 0);
        }
        int rc = evt__flush_locked(t, 0);
        if (cmd == 'f')
            answer(ack, rc < 0 ? 'e' : 'f');
        evt__spare_refill(t);
    }
}

int evt__consumer_start(evt_tracer *t)
{
    int ctl[2], ack[2];
    if (pipe2(ctl, O_CLOEXEC) < 0)
        return -errno;
    if (pipe2(ack, O_CLOEXEC) < 0) {
        int e = -errno;
        close(ctl[0]);
        close(ctl[1]);
        return e;
    }
    /* flags 0: a copy of the process (no CLONE_VM) whose exit signal is
     * none. Only the calling thread is copied; evt_open checked it is the
     * only one, so no lock in the copy is held by a missing thread. */
    long pid = syscall(SYS_clone, 0L, NULL, NULL, NULL, NULL);
    if (pid == 0)
        consumer_main(t, ctl[0], ack[1]);   /* closes the program's ends */
    close(ctl[0]);
    close(ack[1]);
    if (pid < 0) {
        int e = -errno;
        close(ctl[1]);
        close(ack[0]);
        return e;
    }
    t->consumer_pid = (int)pid;
    t->had_consumer = 1;
    t->ctl_fd = ctl[1];
    t->ack_fd = ack[0];
    return 0;
}

/* Sends cmd and waits for the answer (and, for 'c', the process's end). */
int evt__consumer_request(evt_tracer *t, char cmd)
{
    if (!t->consumer_pid)
        return 0;
    ssize_t n;
    while ((n = write(t->ctl_fd, &cmd, 1)) < 0 && errno == EINTR)
        ;
    char r = 0;
    while (n == 1 && (n = read(t->ack_fd, &r, 1)) < 0 && errno == EINTR)
        ;
    if (cmd == 'c') {
        while (waitpid(t->consumer_pid, NULL, __WALL) < 0 && errno == EINTR)
            ;
        t->consumer_pid = 0;
    }
    return r == cmd ? 0 : EVT_EIO;
}

/* evt_consumer.c -- the consumer process: encodes and writes the trace
 * outside the traced program.
 *
 * Why a process and not a thread. A thread makes the program
 * multi-threaded, and a multi-threaded process pays on every system call
 * that touches a file descriptor: glibc brackets each cancellable call
 * (read, write, recv, send, close, epoll_wait...) with two atomic updates,
 * and the kernel takes a reference on the file for each call instead of
 * borrowing it (fdget's single-owner fast path). For a server doing a few
 * of those per request, that was a third of the instructions tracing added
 * to the program's own thread (docs/OVERHEAD.md; in time it is below what
 * this project's noisy machine can resolve). A copy of the process made at
 * evt_open has none of it: the program stays single-threaded, and so does
 * the copy.
 *
 * It is also what makes a trace complete however the program ends: the
 * consumer learns of the end by EOF on a socket only the program holds, so
 * after SIGKILL or a crash too it drains the rings one last time and
 * writes everything the program recorded -- a moment after the program is
 * gone (`evtrace record` waits for it). Where the program ends on purpose
 * the file is complete before it is gone: evt_close and exit() ask for the
 * final flush and wait for the answer, and so does libevtrace's SIGINT/
 * SIGTERM handler (installed, as with the thread, only where the program
 * left the default), with a send and a recv, both async-signal-safe.
 *
 * How. evt_open creates the tracer in a shared region (evt_shm.h), writes
 * the file's preamble, and then clones itself with clone(2) flags 0: a
 * fork whose end sends no SIGCHLD, so the program's own child handling
 * (libev's ev_child, a SIGCHLD handler, waitpid(-1)) never sees it. The
 * copy closes every descriptor but the trace file and its end of the socket
 * (it must not keep the program's sockets open), blocks every signal, and
 * loops: every flush interval, or when asked, it drains and writes, as the
 * flusher thread does (evt_flush.c). The program talks to it with single
 * bytes on a socket pair: 'f' = flush now and answer, 'c' = final flush,
 * answer and exit. A socket rather than pipes so that the program's sends
 * use MSG_NOSIGNAL: if the consumer is gone (killed by hand, the OOM
 * killer), a flush request fails with EVT_EIO instead of a SIGPIPE killing
 * the program; its events then fill the rings and are counted as lost.
 *
 * When not. The program must be single-threaded at evt_open (glibc's locks
 * must not be held by a thread that the copy would not have), and small:
 * the copy is a fork, so every page the program had at evt_open and writes
 * afterwards is copied at that write -- a page fault each, and the copy
 * keeps the old page. A test program that filled 200 MiB, opened a trace
 * and filled it again took 934 ms for the second fill instead of 10 ms
 * (about 18 us per 4 KiB page on this project's VM), and used twice the
 * memory until the end. So a program with more than EVT__CONSUMER_MAX_ANON
 * (16 MiB) of anonymous memory at evt_open (RssAnon in /proc/self/status;
 * a small C server has well under 1 MiB then, a bare python3 about 7 MiB)
 * gets the flusher thread, whose cost is bounded and known; under that,
 * the copying costs at most ~4,000 faults, spread over the program's first
 * writes. If the status cannot be read, the size counts as small.
 * EVTRACE_FLUSH=process in the environment skips the size check (the
 * benchmarks do, under valgrind, whose own memory counts as the program's).
 * In all those cases, and when the region or the process cannot be had,
 * evt_open falls back to the flusher thread.
 *
 * Limits. Linux only. A program that closes every descriptor after
 * evt_open (some daemons do) closes the socket too: the consumer then
 * writes what it has and ends, as it would at exit. The consumer shares
 * the program's cgroup and CPU quota (killing the whole group kills it
 * too, and the last interval is lost) and shows in ps as "evtrace-flush".
 * Under valgrind it is traced as well (valgrind follows forks) and exits
 * quickly because it unmaps the region first.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/single_threaded.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "evt_internal.h"

/* Anonymous memory the process has now, in bytes; 0 if unknown. */
static size_t anon_bytes(void)
{
    FILE *f = fopen("/proc/self/status", "re");
    char line[256];
    unsigned long kb = 0;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "RssAnon: %lu kB", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return (size_t)kb << 10;
}

int evt__consumer_suits(int any_size)
{
    return __libc_single_threaded && (any_size || anon_bytes() <= EVT__CONSUMER_MAX_ANON);
}

/* Closes every descriptor but the two the consumer needs. */
static void close_others(int a, int b)
{
    int lo = a < b ? a : b, hi = a < b ? b : a;
    if (lo > 0)
        close_range(0, (unsigned)lo - 1, 0);
    if (hi > lo + 1)
        close_range((unsigned)lo + 1, (unsigned)hi - 1, 0);
    close_range((unsigned)hi + 1, ~0u, 0);
}

static void answer(int fd, char c)
{
    while (send(fd, &c, 1, MSG_NOSIGNAL) < 0 && errno == EINTR)
        ;
}

/* The consumer's life; never returns. */
static void consumer_main(evt_tracer *t, int ctl)
{
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    prctl(PR_SET_NAME, "evtrace-flush", 0, 0, 0);
    close_others(t->fd, ctl);
    for (;;) {
        struct pollfd p = {.fd = ctl, .events = POLLIN};
        char cmd = 0;
        if (poll(&p, 1, (int)t->flush_ms) > 0 && recv(ctl, &cmd, 1, 0) <= 0)
            cmd = 'x';   /* EOF: the program is gone, however it ended */
        if (cmd == 'c' || cmd == 'x') {
            int rc = evt__flush_locked(t, EVT__FLUSH_FINAL | (cmd == 'x' ? EVT__FLUSH_ORPHAN : 0));
            evt__enc_free(t->enc);   /* ours; valgrind checks this process too */
            free(t->snap);
            /* Unmapped before the end: the program waits for it, and a
             * tool that scans memory at exit (valgrind's leak check) would
             * read the whole reserved region: seconds, and every page. */
            evt__shm_destroy(t->shm);
            if (cmd == 'c')
                answer(ctl, rc < 0 ? 'e' : 'c');
            _exit(rc < 0);
        }
        int rc = evt__flush_locked(t, 0);
        if (cmd == 'f')
            answer(ctl, rc < 0 ? 'e' : 'f');
        evt__spare_refill(t);
    }
}

int evt__consumer_start(evt_tracer *t)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return -errno;
    /* flags 0: a copy of the process (no CLONE_VM) whose exit signal is
     * none. Only the calling thread is copied; evt_open checked it is the
     * only one, so no lock in the copy is held by a missing thread. */
    long pid = syscall(SYS_clone, 0L, NULL, NULL, NULL, NULL);
    if (pid == 0)
        consumer_main(t, sv[1]);   /* closes the program's end */
    close(sv[1]);
    if (pid < 0) {
        int e = -errno;
        close(sv[0]);
        return e;
    }
    t->consumer_pid = (int)pid;
    t->had_consumer = 1;
    t->ctl_fd = sv[0];
    /* Our copy of the encoder is the consumer's now (t->enc names its copy
     * at the same address): free ours, or a leak checker at our exit would
     * find it referenced only from the shared region, which it does not
     * scan. */
    evt__enc_free(t->enc);
    return 0;
}

/* Sends cmd and waits for the answer (and, for 'c', the process's end). */
int evt__consumer_request(evt_tracer *t, char cmd)
{
    if (!t->consumer_pid)
        return 0;
    ssize_t n;
    while ((n = send(t->ctl_fd, &cmd, 1, MSG_NOSIGNAL)) < 0 && errno == EINTR)
        ;
    char r = 0;
    while (n == 1 && (n = recv(t->ctl_fd, &r, 1, 0)) < 0 && errno == EINTR)
        ;
    if (cmd == 'c') {
        while (waitpid(t->consumer_pid, NULL, __WALL) < 0 && errno == EINTR)
            ;
        t->consumer_pid = 0;
    }
    return r == cmd ? 0 : EVT_EIO;
}

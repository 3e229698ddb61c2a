/* daemon_probe.c -- a libev program that forks before its first loop, for
 * test_record.
 *
 *   daemon_probe GO MARKER       a daemon: the parent exits at once; the
 *                                child waits until the file GO exists (the
 *                                test makes it once `evtrace record` has
 *                                exited), then runs its loop
 *   daemon_probe --prefork MARKER  a pre-fork master (gunicorn's arbiter):
 *                                the parent makes no loop and waits for
 *                                the child, which runs its loop at once
 *   daemon_probe --linger MARKER  the parent makes its loop (its trace
 *                                opens), forks, and exits once the child
 *                                has started its timer (a byte on a pipe);
 *                                the child runs the loop with a 300 ms
 *                                timer instead of 10 ms: a worker that
 *                                ends a moment after its master
 *   daemon_probe --workers N MARKER  a pre-fork server's master: makes its
 *                                loop, forks N workers that each run the
 *                                inherited loop (a 10 ms timer), waits for
 *                                them, and writes "workers N" (those that
 *                                ended well) into MARKER
 *
 * The child's loop: one 10 ms timer, then "alive" into MARKER. Under
 * record, the child's first loop opens a trace of its own and the preload
 * reports it on record's status channel. A daemon's reader is gone by then:
 * that must not kill it (it did, with SIGPIPE, when the channel was a
 * pipe). A master's record is still there, and names the child's trace.
 */
#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *g_marker;

static void on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    FILE *f = fopen(g_marker, "w");
    if (f) {
        fputs("alive\n", f);
        fclose(f);
    }
    ev_break(loop, EVBREAK_ALL);
}

static void on_worker_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    ev_break(loop, EVBREAK_ALL);
}

/* --workers N: the master's loop opens the trace; each worker's first
 * event (the timer's callback, the loop's first iteration) opens its own. */
static int workers(int n, const char *marker)
{
    struct ev_loop *loop = ev_default_loop(0);
    ev_timer t;
    ev_timer_init(&t, on_worker_timer, 0.01, 0.);
    ev_timer_start(loop, &t);
    for (int i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            ev_loop_fork(loop);
            ev_run(loop, 0);
            _exit(0);
        }
    }
    int status, ok = 0;
    while (wait(&status) > 0)
        ok += WIFEXITED(status) && WEXITSTATUS(status) == 0;
    FILE *f = fopen(marker, "w");
    if (f) {
        fprintf(f, "workers %d\n", ok);
        fclose(f);
    }
    return ok == n ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "--workers") == 0)
        return workers(atoi(argv[2]), argv[3]);
    if (argc != 3) {
        fprintf(stderr, "usage: daemon_probe GO|--prefork|--linger MARKER | --workers N MARKER\n");
        return 2;
    }
    g_marker = argv[2];
    int prefork = strcmp(argv[1], "--prefork") == 0, linger = strcmp(argv[1], "--linger") == 0;
    struct ev_loop *loop = linger ? ev_default_loop(0) : NULL;
    int started[2];
    if (linger && pipe(started) < 0)
        return 1;
    pid_t pid = fork();
    if (pid != 0 && prefork)
        return waitpid(pid, NULL, 0) == pid ? 0 : 1;
    char byte = 0;
    if (pid != 0 && linger)
        return read(started[0], &byte, 1) == 1 ? 0 : 1;
    if (pid != 0)
        return 0;                       /* the daemon's parent: done at once */
    if (linger)
        ev_loop_fork(loop);
    if (!prefork && !linger) {
        setsid();
        for (int i = 0; i < 1000 && access(argv[1], F_OK) != 0; i++)
            usleep(10000);              /* at most 10 s */
    }
    loop = ev_default_loop(0);
    ev_timer t;
    ev_timer_init(&t, on_timer, linger ? 0.3 : 0.01, 0.);
    ev_timer_start(loop, &t);
    if (linger && write(started[1], &byte, 1) != 1)
        return 1;
    ev_run(loop, 0);
    return 0;
}

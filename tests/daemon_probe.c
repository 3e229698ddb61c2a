/* daemon_probe.c -- a libev program that daemonizes before its first loop,
 * for test_record: the parent exits at once; the child waits until the
 * file GO exists (the test makes it once `evtrace record` has exited),
 * then runs a loop with one 10 ms timer and writes "alive" into MARKER.
 * Under record, the child's first loop opens a trace of its own and the
 * preload reports it on record's status channel, whose reader is gone by
 * then: that must not kill the child (it did, with SIGPIPE, when the
 * channel was a pipe).
 *
 *   daemon_probe GO MARKER
 */
#include <ev.h>
#include <stdio.h>
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

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: daemon_probe GO MARKER\n");
        return 2;
    }
    g_marker = argv[2];
    if (fork() != 0)
        return 0;                       /* the parent: done at once */
    setsid();
    for (int i = 0; i < 1000 && access(argv[1], F_OK) != 0; i++)
        usleep(10000);                  /* at most 10 s */
    struct ev_loop *loop = ev_default_loop(0);
    ev_timer t;
    ev_timer_init(&t, on_timer, 0.01, 0.);
    ev_timer_start(loop, &t);
    ev_run(loop, 0);
    return 0;
}

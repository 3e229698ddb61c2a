/* dl_loop.c -- a plugin that runs a libev loop, for dl_host.c. It links
 * libev; the host does not, and loads it with dlopen(RTLD_LOCAL), as
 * Python loads gevent's extension: libev arrives after start-up and stays
 * out of the global symbol scope. test_record runs the host under
 * `evtrace record` to check that the preload still finds libev then.
 *
 * dl_loop_run(n): a repeating 1 ms timer writes one byte into a pipe n
 * times; an io watcher reads them. Returns the bytes read (n). */
#include <ev.h>
#include <unistd.h>

struct dl_state {
    ev_timer tick;
    ev_io reader;
    int fds[2];
    int written, read, want;
};

static void on_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct dl_state *s = w->data;
    if (write(s->fds[1], "x", 1) == 1 && ++s->written == s->want)
        ev_timer_stop(loop, w);
}

static void on_read(struct ev_loop *loop, ev_io *w, int revents)
{
    struct dl_state *s = w->data;
    char c;
    if (read(s->fds[0], &c, 1) == 1 && ++s->read == s->want)
        ev_io_stop(loop, w);
}

int dl_loop_run(int n)
{
    struct dl_state s = {.want = n};
    if (pipe(s.fds) < 0)
        return -1;
    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    ev_timer_init(&s.tick, on_tick, 0.001, 0.001);
    ev_io_init(&s.reader, on_read, s.fds[0], EV_READ);
    s.tick.data = s.reader.data = &s;
    ev_timer_start(loop, &s.tick);
    ev_io_start(loop, &s.reader);
    ev_run(loop, 0);
    ev_loop_destroy(loop);
    close(s.fds[0]);
    close(s.fds[1]);
    return s.read;
}

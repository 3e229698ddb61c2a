/* hello_loop.c -- the smallest traced libev program.
 *
 *   hello_loop [--trace FILE]
 *
 * Runs about one second: a repeating "tick" timer, a "writer" timer that
 * sends a message down a pipe every 100 ms, an io watcher "reader" on the
 * other end, a one-shot "slow" timer whose callback blocks for 20 ms (a
 * wall across the timeline), and a "stop" timer that ends the loop 50 ms
 * after the tenth message (at the same moment, it could stop the loop
 * before the reader saw it, and leave that request unfinished). Each
 * message is a request: begin when written, "read" and "process" phases in
 * the reader, end with status 200. A counter tracks bytes read; a mark
 * notes the start. Without --trace it runs the same, untraced (every evt_*
 * call accepts a NULL tracer).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "evtrace.h"

struct hello {
    evt_tracer *t;
    int pipe[2];
    uint64_t next_request;
    int64_t bytes;
    uint32_t n_get, n_read, n_process, n_bytes, n_started;
    ev_timer tick, writer, slow, stop;
    ev_io reader;
};

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

/* Blocks the loop on purpose, like a synchronous library call would. */
static void busy_ms(int ms)
{
    long long end = now_ns() + ms * 1000000ll;
    while (now_ns() < end)
        ;
}

static void on_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
    /* nothing: the trace shows it firing */
}

static void on_writer(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct hello *h = w->data;
    uint64_t id = ++h->next_request;
    evt_request_begin(h->t, id, h->n_get);
    if (write(h->pipe[1], &id, sizeof id) != sizeof id)
        evt_request_end(h->t, id, 500);
}

static void on_reader(struct ev_loop *loop, ev_io *w, int revents)
{
    struct hello *h = w->data;
    uint64_t id;
    if (read(w->fd, &id, sizeof id) != sizeof id)
        return;
    evt_request_phase(h->t, id, h->n_read);
    h->bytes += sizeof id;
    evt_counter(h->t, h->n_bytes, h->bytes);
    evt_request_phase(h->t, id, h->n_process);
    busy_ms(1);
    evt_request_end(h->t, id, 200);
}

static void on_slow(struct ev_loop *loop, ev_timer *w, int revents)
{
    busy_ms(20);
}

static void on_stop(struct ev_loop *loop, ev_timer *w, int revents)
{
    ev_break(loop, EVBREAK_ALL);
}

static void setup_watchers(struct hello *h, struct ev_loop *loop)
{
    ev_timer_init(&h->tick, on_tick, 0.05, 0.05);
    ev_timer_init(&h->writer, on_writer, 0.1, 0.1);
    ev_timer_init(&h->slow, on_slow, 0.3, 0.);
    ev_timer_init(&h->stop, on_stop, 1.05, 0.);   /* after the last message is read */
    ev_io_init(&h->reader, on_reader, h->pipe[0], EV_READ);
    h->writer.data = h->reader.data = h;
    evt_watch_timer(h->t, loop, &h->tick, "tick");
    evt_watch_timer(h->t, loop, &h->writer, "writer");
    evt_watch_timer(h->t, loop, &h->slow, "slow");
    evt_watch_timer(h->t, loop, &h->stop, "stop");
    evt_watch_io(h->t, loop, &h->reader, "reader");
    ev_timer_start(loop, &h->tick);
    ev_timer_start(loop, &h->writer);
    ev_timer_start(loop, &h->slow);
    ev_timer_start(loop, &h->stop);
    ev_io_start(loop, &h->reader);
}

static void intern_names(struct hello *h)
{
    h->n_get = evt_intern(h->t, "message");
    h->n_read = evt_intern(h->t, "read");
    h->n_process = evt_intern(h->t, "process");
    h->n_bytes = evt_intern(h->t, "bytes read");
    h->n_started = evt_intern(h->t, "started");
}

int main(int argc, char **argv)
{
    struct hello h = {0};
    const char *trace = NULL;
    if (argc == 3 && strcmp(argv[1], "--trace") == 0) {
        trace = argv[2];
    } else if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("usage: %s [--trace FILE]\n", argv[0]);
        return 0;
    } else if (argc != 1) {
        fprintf(stderr, "usage: %s [--trace FILE]\n", argv[0]);
        return 2;
    }
    if (trace) {
        int rc = evt_open_file(&h.t, trace);
        if (rc < 0) {
            fprintf(stderr, "hello_loop: %s: %s\n", trace, evt_strerror(rc));
            return 1;
        }
    }
    if (pipe(h.pipe) < 0) {
        perror("hello_loop: pipe");
        return 1;
    }
    struct ev_loop *loop = EV_DEFAULT;
    evt_attach_loop(h.t, loop);
    evt_thread_name(h.t, "main");
    intern_names(&h);
    evt_mark(h.t, h.n_started, 1);
    setup_watchers(&h, loop);
    ev_run(loop, 0);
    evt_detach_loop(h.t, loop);
    int rc = evt_close(h.t);
    close(h.pipe[0]);
    close(h.pipe[1]);
    if (rc < 0) {
        fprintf(stderr, "hello_loop: writing the trace: %s\n", evt_strerror(rc));
        return 1;
    }
    printf("hello_loop: %llu messages%s%s\n", (unsigned long long)h.next_request, trace ? ", trace in " : "",
           trace ? trace : "");
    return 0;
}

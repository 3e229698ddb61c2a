/* async_server -- many clients at once on one thread.
 *
 * Non-blocking sockets and io watchers (http.c's async mode). A request's
 * --delay-ms wait is an ev_timer: the handler starts it and returns, and the
 * loop serves the other connections meanwhile -- what
 * `await asyncio.sleep(2)` does. In the trace: the request lanes stack up,
 * each one --delay-ms long, all overlapping, and the loop mostly waits in
 * poll.
 */
#include <stdlib.h>

#include "page_server.h"

struct delayed {
    ev_timer timer;
    struct evs_conn *conn;
    const struct evs_page_options *opt;
};

static void delay_done(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct delayed *d = w->data;
    evt_tracer *t = evs_conn_server(d->conn)->tracer;
    evt_unwatch(t, loop, (ev_watcher *)&d->timer);
    evs_page_respond(d->conn, d->opt);
    free(d);
}

static void page_async(struct evs_conn *c, const struct evs_request *req, void *ctx)
{
    struct evs_server *s = evs_conn_server(c);
    struct delayed *d = malloc(sizeof *d);
    if (!d) {
        evs_respond_error(c, 503, "out of memory");
        return;
    }
    d->conn = c;
    d->opt = ctx;
    ev_timer_init(&d->timer, delay_done, ((const struct evs_page_options *)ctx)->delay_ms / 1000.0, 0.);
    d->timer.data = d;
    evt_watch_id(s->tracer, s->loop, (ev_watcher *)&d->timer, EVT_KIND_TIMER, -1, s->names.delay);
    ev_timer_start(s->loop, &d->timer);
}

int main(int argc, char **argv)
{
    return evs_page_server_main(argc, argv, 0, page_async);
}

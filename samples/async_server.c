/* async_server -- many clients at once on one thread.
 *
 * Non-blocking sockets and io watchers (http.c's async mode). A request's
 * --delay-ms wait is an ev_timer: the handler starts it and returns, and the
 * loop serves the other connections meanwhile -- what
 * `await asyncio.sleep(2)` does. In the trace: the request lanes stack up,
 * each one --delay-ms long, all overlapping, and the loop mostly waits in
 * poll. The timer is the connection's own (evs_conn_after): set up and
 * watched once per connection, not per request, so that what tracing costs
 * a busy server is the events themselves, not a malloc and two passes
 * through the tracer's watcher table per request.
 */
#include "page_server.h"

static void delay_done(struct evs_conn *c, void *ctx)
{
    evs_page_respond(c, ctx);
}

static void page_async(struct evs_conn *c, const struct evs_request *req, void *ctx)
{
    const struct evs_page_options *opt = ctx;
    if (evs_conn_after(c, (double)opt->delay_ms / 1000.0, delay_done, ctx) < 0)
        evs_respond_error(c, 500, "cannot wait");   /* not reached: async mode */
}

int main(int argc, char **argv)
{
    return evs_page_server_main(argc, argv, 0, page_async);
}

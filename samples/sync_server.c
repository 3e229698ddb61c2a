/* sync_server -- one client at a time, like a plain blocking server.
 *
 * The whole connection is served inside the accept callback with blocking
 * calls: recv the request, sleep --delay-ms with nanosleep (the lesson's
 * time.sleep(2)), read index.html, send, close. Meanwhile the loop can do
 * nothing else; the next clients wait in the listen backlog. In the trace
 * this is the staircase: one request lane at a time, each one --delay-ms
 * long, and the accept callback as long as the request.
 */
#include "page_server.h"

static void page_blocking(struct evs_conn *c, const struct evs_request *req, void *ctx)
{
    const struct evs_page_options *opt = ctx;
    evs_sleep_ms(opt->delay_ms);
    evs_page_respond(c, opt);
}

int main(int argc, char **argv)
{
    return evs_page_server_main(argc, argv, 1, page_blocking);
}

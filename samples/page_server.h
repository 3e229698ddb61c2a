/* page_server.h -- what sync_server and async_server have in common.
 *
 * Both serve index.html on GET / and GET /index.html after --delay-ms
 * (default 2000). They differ in one thing only, the lesson's point: how
 * they wait. sync_server sleeps (nanosleep) inside the callback, so the loop
 * stands still; async_server starts an ev_timer and returns, the way
 * `await asyncio.sleep(2)` yields. Each passes its handler and its mode to
 * evs_page_server_main and the rest is shared.
 */
#ifndef EVS_PAGE_SERVER_H
#define EVS_PAGE_SERVER_H

#include "http.h"

struct evs_page_options {
    long delay_ms;          /* --delay-ms */
    const char *index;      /* --index PATH, default index.html next to the binary */
};

/* The handler for "/" and "/index.html"; ctx is the struct evs_page_options. */
int evs_page_server_main(int argc, char **argv, int blocking, evs_handler_fn handler);

/* Reads opt->index and answers 200 text/html (or 500 if it cannot). */
void evs_page_respond(struct evs_conn *c, const struct evs_page_options *opt);

#endif /* EVS_PAGE_SERVER_H */

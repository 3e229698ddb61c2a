/* loadgen.h -- the load generator's engine, shared by its two modes.
 *
 * The engine runs a batch of requests over at most `concurrency` keep-alive
 * connections, all in flight at once on one libev loop: the lesson's
 * asyncio.gather. A batch is an array of requests; each connection takes
 * the next unsent one when it is free, so there are never more than
 * `concurrency` requests in flight. Responses are parsed with http_parser.
 * A connection the server closes ("Connection: close", or a keep-alive
 * timeout) is reopened for the next request; a request that failed on a
 * reused connection before any byte of its response arrived is retried
 * once on a fresh one (the server may have closed it just then).
 *
 * Traced (--trace), every request is a request span with the phases
 * "connect" (only when it opens a connection), "send", "wait" (sent, no
 * response byte yet) and "receive", ended with the HTTP status (0 when the
 * request failed).
 */
#ifndef EVS_LOADGEN_H
#define EVS_LOADGEN_H

#include <ev.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "evtrace.h"

struct lg_req {
    const char *method;         /* "GET", "POST", "DELETE" */
    char path[128];
    char *body;                 /* owned; NULL = no body */
    uint32_t name;              /* interned span name */
    int expect;                 /* the expected status; 0 = any below 400 */
    int status;                 /* the response's status; 0 = failed */
    char *resp;                 /* the response body (when keep_body), NUL-terminated */
    size_t resp_len;
    uint64_t t0, t1;            /* CLOCK_MONOTONIC ns: first attempt, response complete */
    int retried;
};

struct lg_stats {
    uint64_t requests;          /* completed, successfully or not */
    uint64_t errors;            /* transport failures + unexpected statuses */
    double *lat_ms;             /* latencies of the requests that got a response */
    size_t n_lat, cap_lat;
};

struct lg_conn;

struct lg {
    struct ev_loop *loop;
    evt_tracer *tracer;
    struct sockaddr_in addr;
    char host[64];              /* the Host header */
    int concurrency;
    int keep_body;              /* keep response bodies (the crud scenario checks them) */
    int timeout_ms;             /* per request, from its first byte sent */
    struct lg_conn *conns;      /* concurrency of them */
    struct lg_req *reqs;        /* the running batch */
    size_t n_reqs, next, done;
    uint64_t next_span;
    uint32_t ph_connect, ph_send, ph_wait, ph_receive;
    struct lg_stats stats;
};

/* Sets up the connections (none is opened yet). Returns 0 or -errno. */
int lg_init(struct lg *lg, struct ev_loop *loop, evt_tracer *t, const struct sockaddr_in *addr,
            const char *host, int concurrency, int keep_body, int timeout_ms);
void lg_free(struct lg *lg);

/* Runs every request of reqs[0..n) to completion (or failure). */
void lg_run_batch(struct lg *lg, struct lg_req *reqs, size_t n);

/* Frees the bodies and responses of a batch (not the array). */
void lg_free_batch(struct lg_req *reqs, size_t n);

/* The crud scenario (loadgen_crud.c): adds n books and movies, reads them
 * back one by one and as lists, deletes them, checks they are gone. Every
 * answer must match exactly; returns 0, or 1 after printing the first
 * mismatch to stderr. */
int lg_crud_scenario(struct lg *lg, size_t n);

#endif /* EVS_LOADGEN_H */

/* common.h -- what every sample program shares: options, the listening
 * socket, the file descriptor limit, the tracer, signals, small time helpers.
 *
 * The samples retell the asyncio lesson on libev: a sync server, an async
 * server, a CRUD API over SQLite and a load generator. They use evtrace the
 * way any user program would, through the public evtrace.h only; every
 * evt_* call accepts a NULL tracer, so without --trace they run untraced and
 * nothing else changes.
 *
 * Prefix: evs_ ("evtrace samples"). Nothing here keeps global state: the
 * options live in a struct the program owns.
 */
#ifndef EVS_COMMON_H
#define EVS_COMMON_H

#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <stdint.h>

#include "evtrace.h"

/* Options every server accepts. */
struct evs_common {
    const char *bind;        /* --bind, default 127.0.0.1 */
    int port;                /* --port, default 3000; 0 = any free port */
    const char *trace;       /* --trace FILE, NULL = untraced */
    int idle_timeout_ms;     /* --idle-timeout-ms, default 10000 */
};

/* getopt_long ids of the common options (above the ASCII range). */
enum {
    EVS_OPT_PORT = 1000,
    EVS_OPT_BIND,
    EVS_OPT_TRACE,
    EVS_OPT_IDLE,
    EVS_OPT_APP = 1100       /* programs number their own options from here */
};

/* The common entries of a getopt_long table: a program puts this at the
 * top of its own table and handles the ids with evs_common_option. */
#define EVS_COMMON_OPTIONS                                         \
    {"port", required_argument, NULL, EVS_OPT_PORT},               \
    {"bind", required_argument, NULL, EVS_OPT_BIND},               \
    {"trace", required_argument, NULL, EVS_OPT_TRACE},             \
    {"idle-timeout-ms", required_argument, NULL, EVS_OPT_IDLE}

void evs_common_defaults(struct evs_common *c);

/* Handles one common option; returns 1 if opt was one, 0 if not. Exits with
 * status 2 and a one-line message on a bad value. */
int evs_common_option(struct evs_common *c, int opt, const char *arg);

/* Parses a decimal integer in [min, max] or exits 2 with
 * "PROG: OPTION: expected an integer in [min, max], got 'ARG'" (option is
 * spelled as the user types it: "--port", "-n"). */
long evs_parse_long(const char *name, const char *arg, long min, long max);

/* One-line usage error and exit status 2. */
void evs_usage_error(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* Raises RLIMIT_NOFILE's soft limit to the hard limit (a few thousand
 * concurrent connections need it). Best effort: returns the new soft limit. */
long evs_raise_nofile(void);

/* Creates, binds and listens (backlog = SOMAXCONN or more) on bind:port.
 * nonblock: 1 for the async servers. Returns the fd or -errno. *bound_port
 * receives the actual port (useful with --port 0). */
int evs_listen(const char *bind, int port, int nonblock, int *bound_port);

/* Prints "listening on ADDR:PORT" on stdout and flushes it: tests wait for
 * this line to learn the port when they pass --port 0. */
void evs_announce(const char *bind, int port);

/* Opens the tracer when path is non-NULL; on failure prints the reason and
 * exits 1. Returns NULL when path is NULL (untraced). The samples install
 * their own SIGINT/SIGTERM watchers, so libevtrace's are not needed. */
evt_tracer *evs_tracer_open(const char *path, const char *process_name);

/* CLOCK_MONOTONIC now, in ns and in ms. */
uint64_t evs_now_ns(void);

/* Sleeps ms milliseconds, resuming after signals: the blocking sleep the
 * lesson is about (sync_server's delay, crud_db's synthetic latency). */
void evs_sleep_ms(long ms);

/* Reads a whole file into a malloc'd buffer; returns 0 or -errno. */
int evs_read_file(const char *path, char **data, size_t *len);

/* Path of a file next to the running executable (/proc/self/exe's
 * directory + name) into buf; returns buf. */
const char *evs_exe_relative(const char *name, char *buf, size_t size);

#endif /* EVS_COMMON_H */

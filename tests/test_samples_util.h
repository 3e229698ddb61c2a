/* test_samples_util.h -- helpers for the sample programs' integration tests.
 *
 * The tests run the real binaries ($EVT_BUILD_DIR/samples/NAME) as child
 * processes on free ports (--port 0; the server's first stdout line says
 * which), talk to them over blocking sockets, and read their traces with
 * the model (evt_model.h). Every child is killed and reaped on teardown.
 *
 * EVT_CHILD_WRAPPER="valgrind -q --error-exitcode=99 --leak-check=full
 * --errors-for-leak-kinds=definite" runs every child under valgrind; the
 * tests that expect a clean exit (status 0) then fail on its errors. Timing
 * bounds assume no wrapper, so under valgrind expect the timing asserts,
 * not the memory checks, to be the ones that may trip.
 */
#ifndef TEST_SAMPLES_UTIL_H
#define TEST_SAMPLES_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "evt_model.h"

struct ts_child {
    pid_t pid;
    int port;        /* servers: the announced port */
    int out_fd;      /* the child's stdout (a pipe), or -1 */
};

/* A fresh directory under /tmp for this test's files; ts_tmp_cleanup
 * removes it with everything in it. */
void ts_tmp_dir(char *dir, size_t size);
void ts_tmp_cleanup(const char *dir);

/* Starts samples/NAME with "--port 0" (servers) plus args (NULL-terminated),
 * waits for "listening on ADDR:PORT". Returns 0 or -1. */
int ts_server_start(struct ts_child *c, const char *name, const char *const *args);

/* Sends sig, waits up to timeout_ms for the exit, then SIGKILLs. Returns
 * the exit status (0..255), 128+signal if killed by one, -1 if it had to be
 * SIGKILLed after the timeout. Safe to call twice (then returns -2). */
int ts_child_stop(struct ts_child *c, int sig, int timeout_ms);

/* Runs samples/loadgen with args (NULL-terminated), waits; fills out (its
 * stdout, NUL-terminated, at most size-1 bytes). Returns its exit status. */
int ts_loadgen(const char *const *args, char *out, size_t size);

/* Runs samples/NAME with args to its end, like ts_loadgen. */
int ts_run(const char *name, const char *const *args, char *out, size_t size);

/* A value from loadgen --json output ("wall_time_s", "errors", ...), or -1. */
double ts_json_number(const char *json, const char *key);

/* One HTTP/1.1 exchange on a new connection ("Connection: close"). body may
 * be NULL. Returns the status, or -1 on a transport failure; the response
 * body (malloc'd, NUL-terminated) in *resp if resp is non-NULL. */
int ts_http(int port, const char *method, const char *path, const char *body, char **resp);

/* Sends raw bytes on a new connection, reads until the server closes or
 * timeout_ms passes; returns the response's status, 0 if the server closed
 * without answering, -1 on timeout (connection still open) or error. */
int ts_raw(int port, const char *bytes, size_t len, int timeout_ms);

/* Lower level: a connected blocking socket (SO_RCVTIMEO = timeout_ms) or
 * -1; send a string (0 or -1); read one response's status (0 if closed
 * first, -1 on timeout). */
int ts_connect(int port, int timeout_ms);
int ts_send(int fd, const char *s);
int ts_read_status(int fd);

/* Every bad-input case (garbage 400, big header 431, long URL 414, big body
 * 413, unknown path 404, wrong method 405, half-sent request 408, silent
 * connection closed), each followed by `good_path` on a new connection that
 * must answer 200. The server must run with a short --idle-timeout-ms
 * (idle_ms) and a body limit below 2 MB. Returns NULL, or the name of the
 * first case that failed. */
const char *ts_bad_inputs(int port, const char *good_path, int idle_ms);

/* The per-test fixture every sample test uses: a fresh directory with a
 * trace path and a database path in it, and the server child. */
struct ts_fixture {
    char dir[64];
    char db[128];
    char trace[128];
    struct ts_child server;
};

/* cmocka setup/teardown for struct ts_fixture: setup makes the directory,
 * teardown kills the server (if still running) and removes the directory. */
int ts_fixture_setup(void **state);
int ts_fixture_teardown(void **state);

/* Runs loadgen -n n -c c against path on the fixture's server. Returns its
 * wall time in seconds, or -1 unless it exited 0 with n requests and no
 * error. */
double ts_fire(const struct ts_fixture *f, const char *path, int n, int c);

/* The page servers' bad-input test: starts NAME (no delay, a 300 ms idle
 * timeout), runs ts_bad_inputs against "/", stops it with SIGTERM. Returns
 * NULL, the first case that failed, or "start" / "clean exit". */
const char *ts_page_server_bad_inputs(struct ts_fixture *f, const char *name);

/* Trace checks. */
uint32_t ts_max_concurrency(const struct evt_model *m);
/* The largest number of requests in the named phase at the same time. */
uint32_t ts_max_phase_overlap(const struct evt_model *m, const char *phase);
/* Callbacks that took at least threshold_ns. */
size_t ts_stalls(const struct evt_model *m, uint64_t threshold_ns);

/* The mutation fuzzers' randomness (test_samples_fuzz, test_args_fuzz): a
 * xorshift generator, the same sequence for the same seed. EVT_FUZZ_SEED=S
 * in the environment is xored into every seed (another sequence), and
 * EVT_FUZZ_RUNS=N replaces a test's number of inputs (ts_fuzz_runs): a
 * longer hunt by hand. */
struct ts_rng {
    uint64_t s;
};
void ts_rng_init(struct ts_rng *r, uint64_t seed);
uint32_t ts_rng_next(struct ts_rng *r);
uint32_t ts_rng_below(struct ts_rng *r, uint32_t n);   /* 0..n-1; 0 when n is 0 */
int ts_fuzz_runs(int dflt);

#endif /* TEST_SAMPLES_UTIL_H */

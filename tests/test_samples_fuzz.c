/* test_samples_fuzz.c -- the sample servers against mutated requests.
 *
 * A small deterministic fuzzer over the network: valid requests (the crud
 * API's every route with JSON bodies, chunked bodies, pipelined pairs, the
 * page servers' GET /) are mutated -- bytes flipped, inserted, deleted,
 * repeated, numbers swapped for huge or negative ones, bodies cut -- and
 * each result is sent on a connection of its own, which the client then
 * half-closes (so a request cut short ends at the EOF instead of waiting
 * for the idle timeout) and reads to the end. Every server must:
 *   - answer only with well-formed HTTP/1.1 responses whose status is one
 *     it documents for good or bad input (samples/http.h): never a 5xx,
 *     never bytes that are not a response; closing without a word is
 *     allowed (a request cut short by the EOF);
 *   - close the connection within 3 s (no hang on any input);
 *   - keep serving: every 20 inputs a good request on a new connection
 *     gets its 200;
 *   - exit with status 0 on SIGTERM afterwards.
 * The ASan+UBSan build (scripts/test.sh) runs the servers instrumented, so
 * a memory error on any input fails the test too. A failing input is
 * printed (as C-escaped bytes) with its number.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <http_parser.h>

#include "test_samples_util.h"

#define FUZZ_INPUTS 600
#define FUZZ_MAX 4096

struct input {
    char b[FUZZ_MAX];
    size_t n;
};

static const char *const crud_bases[] = {
    "GET /books HTTP/1.1\r\nHost: x\r\n\r\n",
    "GET /movies/1 HTTP/1.1\r\nHost: x\r\n\r\n",
    "DELETE /books/2 HTTP/1.1\r\nHost: x\r\n\r\n",
    "POST /books HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 47\r\n\r\n"
    "{\"title\":\"Dune\",\"author\":\"Herbert\",\"year\":1965}",
    "POST /movies HTTP/1.1\r\nHost: x\r\nContent-Length: 48\r\n\r\n"
    "{\"title\":\"Alien\",\"director\":\"Scott\",\"year\":1979}",
    "POST /books HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    "10\r\n{\"title\":\"A\",\"au\r\n1d\r\nthor\":\"B\",\"year\":[1,{\"x\":2}]}\r\n0\r\n\r\n",
    "GET /books HTTP/1.1\r\nHost: x\r\n\r\nGET /movies HTTP/1.1\r\nHost: x\r\n\r\n",
};

static const char *const page_bases[] = {
    "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    "GET /index.html?x=1 HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\nGET / HTTP/1.1\r\n\r\n",
    "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
};

static const char *const tokens[] = {
    "99999999999999999999", "-1", "0", "\r\n", "\r\n\r\n", " ", "{", "}", "\"", "\\u0000", "null",
    "Content-Length: 7\r\n", "Transfer-Encoding: chunked\r\n", "HTTP/1.0", "/books/", "%00", "\xff\xfe",
};

static void put(struct input *in, size_t at, const char *s, size_t n)
{
    if (in->n + n > FUZZ_MAX)
        return;
    memmove(in->b + at + n, in->b + at, in->n - at);
    memcpy(in->b + at, s, n);
    in->n += n;
}

/* One mutation of in, chosen by r. */
static void mutate_once(struct input *in, struct ts_rng *r)
{
    size_t at = ts_rng_below(r, (uint32_t)in->n + 1), len = 1 + ts_rng_below(r, 16);
    switch (ts_rng_below(r, 6)) {
    case 0:   /* flip a byte */
        if (at < in->n)
            in->b[at] ^= (char)(1u << ts_rng_below(r, 8));
        break;
    case 1: { /* insert a random byte */
        char c = (char)ts_rng_next(r);
        put(in, at, &c, 1);
        break;
    }
    case 2:   /* delete a range */
        len = at + len > in->n ? in->n - at : len;
        memmove(in->b + at, in->b + at + len, in->n - at - len);
        in->n -= len;
        break;
    case 3: { /* repeat a range */
        char tmp[16];
        len = at + len > in->n ? in->n - at : len;
        memcpy(tmp, in->b + at, len);
        for (uint32_t k = ts_rng_below(r, 200); k > 0; k--)
            put(in, at, tmp, len);
        break;
    }
    case 4: { /* a token that parsers find interesting */
        const char *t = tokens[ts_rng_below(r, sizeof tokens / sizeof tokens[0])];
        put(in, at, t, strlen(t));
        break;
    }
    default:  /* cut */
        in->n = at;
    }
}

static void make_input(struct input *in, const char *const *bases, size_t n_bases, struct ts_rng *r)
{
    const char *base = bases[ts_rng_below(r, (uint32_t)n_bases)];
    in->n = strlen(base);
    memcpy(in->b, base, in->n);
    for (uint32_t k = 1 + ts_rng_below(r, 4); k > 0; k--)
        mutate_once(in, r);
}

static int status_documented(int status)
{
    static const int ok[] = {200, 201, 204, 400, 404, 405, 408, 413, 414, 431};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (status == ok[i])
            return 1;
    return 0;
}

struct replies {
    int bad_status;   /* the first undocumented status, 0 none */
    int messages;
};

static int on_reply_headers(http_parser *p)
{
    struct replies *r = p->data;
    if (!r->bad_status && !status_documented((int)p->status_code))
        r->bad_status = (int)p->status_code;
    return 0;
}

static int on_reply_complete(http_parser *p)
{
    ((struct replies *)p->data)->messages++;
    return 0;
}

/* Checks a whole reply stream with http_parser (as a client would read
 * it): a sequence of complete HTTP/1.1 responses, each with a documented
 * status. Returns 0, or -1 with why in err. */
static int replies_ok(const char *buf, size_t n, char *err, size_t errlen)
{
    http_parser p;
    http_parser_settings cb = {.on_headers_complete = on_reply_headers, .on_message_complete = on_reply_complete};
    struct replies r = {0};
    http_parser_init(&p, HTTP_RESPONSE);
    p.data = &r;
    size_t used = http_parser_execute(&p, &cb, buf, n);
    if (n && used == n)
        http_parser_execute(&p, &cb, buf, 0);   /* EOF: ends a body read to the close */
    if (used != n || HTTP_PARSER_ERRNO(&p) != HPE_OK) {
        snprintf(err, errlen, "not HTTP/1.1 responses (%s at byte %zu)", http_errno_name(HTTP_PARSER_ERRNO(&p)), used);
        return -1;
    }
    if (r.bad_status) {
        snprintf(err, errlen, "status %d", r.bad_status);
        return -1;
    }
    if (n && p.http_major == 1 && p.http_minor != 1) {
        snprintf(err, errlen, "HTTP/1.%u, not 1.1", p.http_minor);
        return -1;
    }
    return 0;
}

/* Sends in on a new connection, half-closes, reads to the end. Returns 0,
 * or -1 with why in err. */
static int exchange(int port, const struct input *in, char *err, size_t errlen)
{
    int fd = ts_connect(port, 3000);
    if (fd < 0) {
        snprintf(err, errlen, "cannot connect");
        return -1;
    }
    for (size_t off = 0; off < in->n;) {
        ssize_t k = send(fd, in->b + off, in->n - off, MSG_NOSIGNAL);
        if (k <= 0)
            break;   /* the server may close early (a 4xx): read what it said */
        off += (size_t)k;
    }
    shutdown(fd, SHUT_WR);
    static char buf[1 << 20];
    size_t n = 0;
    ssize_t k;
    while (n < sizeof buf && (k = recv(fd, buf + n, sizeof buf - n, 0)) > 0)
        n += (size_t)k;
    int timed_out = k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    close(fd);
    if (timed_out) {
        snprintf(err, errlen, "no close within 3 s");
        return -1;
    }
    return replies_ok(buf, n, err, errlen);
}

static void print_input(const struct input *in, int i, const char *why)
{
    fprintf(stderr, "input %d: %s; bytes: \"", i, why);
    for (size_t k = 0; k < in->n; k++) {
        unsigned char c = (unsigned char)in->b[k];
        if (c >= 32 && c < 127 && c != '"' && c != '\\')
            fputc(c, stderr);
        else
            fprintf(stderr, "\\x%02x", c);
    }
    fprintf(stderr, "\"\n");
}

static void fuzz_server(struct ts_fixture *f, const char *const *bases, size_t n_bases, const char *good,
                        uint64_t seed)
{
    struct ts_rng r;
    ts_rng_init(&r, seed);
    static struct input in;
    int bad = 0, inputs = ts_fuzz_runs(FUZZ_INPUTS);
    for (int i = 0; i < inputs && !bad; i++) {
        char err[128];
        make_input(&in, bases, n_bases, &r);
        if (exchange(f->server.port, &in, err, sizeof err) < 0) {
            print_input(&in, i, err);
            bad = 1;
        }
        if (i % 20 == 19 && ts_http(f->server.port, "GET", good, NULL, NULL) != 200) {
            print_input(&in, i, "the next good request failed");
            bad = 1;
        }
    }
    assert_false(bad);
    assert_int_equal(ts_child_stop(&f->server, SIGTERM, 10000), 0);
}

static void crud_api_survives(void **state)
{
    struct ts_fixture *f = *state;
    const char *args[] = {"--db", f->db, "--db-mode", "inline", "--idle-timeout-ms", "2000", NULL};
    assert_int_equal(ts_server_start(&f->server, "crud_api", args), 0);
    fuzz_server(f, crud_bases, sizeof crud_bases / sizeof crud_bases[0], "/books", 0x9E3779B97F4A7C15ull);
}

static void crud_api_offload_survives(void **state)
{
    struct ts_fixture *f = *state;
    const char *args[] = {"--db", f->db, "--db-mode", "offload", "--idle-timeout-ms", "2000", NULL};
    assert_int_equal(ts_server_start(&f->server, "crud_api", args), 0);
    fuzz_server(f, crud_bases, sizeof crud_bases / sizeof crud_bases[0], "/movies", 0xD1B54A32D192ED03ull);
}

static void async_server_survives(void **state)
{
    struct ts_fixture *f = *state;
    const char *args[] = {"--delay-ms", "0", "--idle-timeout-ms", "2000", NULL};
    assert_int_equal(ts_server_start(&f->server, "async_server", args), 0);
    fuzz_server(f, page_bases, sizeof page_bases / sizeof page_bases[0], "/", 0x2545F4914F6CDD1Dull);
}

static void sync_server_survives(void **state)
{
    struct ts_fixture *f = *state;
    const char *args[] = {"--delay-ms", "0", "--idle-timeout-ms", "2000", NULL};
    assert_int_equal(ts_server_start(&f->server, "sync_server", args), 0);
    fuzz_server(f, page_bases, sizeof page_bases / sizeof page_bases[0], "/", 0x853C49E6748FEA9Bull);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(crud_api_survives, ts_fixture_setup, ts_fixture_teardown),
        cmocka_unit_test_setup_teardown(crud_api_offload_survives, ts_fixture_setup, ts_fixture_teardown),
        cmocka_unit_test_setup_teardown(async_server_survives, ts_fixture_setup, ts_fixture_teardown),
        cmocka_unit_test_setup_teardown(sync_server_survives, ts_fixture_setup, ts_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

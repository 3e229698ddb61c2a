/* plain_server.c -- a plain libev HTTP-ish server that knows nothing of
 * evtrace. It is what `evtrace record` is for: a program linked with
 * libev.so.4 and nothing else, traced only through LD_PRELOAD.
 *
 *   plain_server [--max-requests N] [--sigterm-handler] [--timeout-ms N]
 *
 * Listens on 127.0.0.1 on an ephemeral port and prints "port N" on stdout
 * (flushed) so a test or benchmark can connect. Each connection is a heap
 * struct with a read watcher, a write watcher and an idle timer (restarted
 * with ev_timer_again on every request, as real servers do). A request is
 * everything up to an empty line; the reply is
 *
 *   HTTP/1.1 200 OK\r\nContent-Length: L\r\n\r\nhello PATH #K\n
 *
 * where K counts requests on that connection, so replies are deterministic
 * for a given client. The path "/slow" sleeps 150 ms inside the callback: a
 * blocking handler, the stall `evtrace record --stall-ms` reports.
 * The request line "QUIT" stops the loop (ev_break) and main returns.
 *
 * Shutdown modes, because `record` must produce a complete trace for each:
 *   default             no SIGTERM handler: the process dies by SIGTERM
 *                       (the tracer's own flush-on-SIGTERM handler runs);
 *   --sigterm-handler   an ev_signal watcher for SIGTERM breaks the loop and
 *                       main returns 0 (atexit flushes the trace);
 *   --max-requests N    the loop breaks after N replies (benchmarks).
 */
#define _GNU_SOURCE 1   /* accept4, memmem */
#include <arpa/inet.h>
#include <errno.h>
#include <ev.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CONN_BUF 4096

struct server {
    struct ev_loop *loop;
    ev_io accept_w;
    ev_signal term_w;
    long served;
    long max_requests;        /* 0 = no limit */
    double timeout_s;
};

struct conn {
    ev_io read_w;
    ev_io write_w;
    ev_timer idle_w;
    struct server *srv;
    int fd;
    int count;                /* requests served on this connection */
    size_t in_len;
    char in[CONN_BUF];
    size_t out_len, out_off;
    char out[256];
};

static void conn_close(struct server *s, struct conn *c)
{
    ev_io_stop(s->loop, &c->read_w);
    ev_io_stop(s->loop, &c->write_w);
    ev_timer_stop(s->loop, &c->idle_w);
    close(c->fd);
    free(c);
}

/* Builds the reply for the request line at c->in (up to the first space
 * after the method). Returns 0, or -1 for "QUIT". */
static int conn_reply(struct conn *c)
{
    char path[128] = "/";
    if (strncmp(c->in, "QUIT", 4) == 0)
        return -1;
    sscanf(c->in, "%*s %127s", path);
    if (strcmp(path, "/slow") == 0)
        usleep(150 * 1000);
    c->count++;
    char body[192];
    int blen = snprintf(body, sizeof body, "hello %s #%d\n", path, c->count);
    c->out_len = (size_t)snprintf(c->out, sizeof c->out,
                                  "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", blen, body);
    c->out_off = 0;
    return 0;
}

/* Drops the request just answered from the input buffer (pipelining). */
static void conn_consume(struct conn *c, char *end)
{
    size_t used = (size_t)(end + 4 - c->in);
    memmove(c->in, c->in + used, c->in_len - used);
    c->in_len -= used;
}

static void conn_handle(struct ev_loop *loop, struct conn *c, char *end);

static void on_write(struct ev_loop *loop, ev_io *w, int revents)
{
    struct conn *c = w->data;
    ssize_t n = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        conn_close(c->srv, c);
        return;
    }
    c->out_off += (size_t)n;
    if (c->out_off < c->out_len)
        return;
    ev_io_stop(loop, &c->write_w);
    ev_io_start(loop, &c->read_w);
    if (c->srv->max_requests && ++c->srv->served >= c->srv->max_requests) {
        ev_break(loop, EVBREAK_ALL);
        return;
    }
    char *end = memmem(c->in, c->in_len, "\r\n\r\n", 4);   /* pipelined */
    if (end)
        conn_handle(loop, c, end);
}

/* One complete request is in the buffer: answer it. Reading pauses while
 * the reply is written, the way a simple server keeps one reply at a time. */
static void conn_handle(struct ev_loop *loop, struct conn *c, char *end)
{
    *end = '\0';
    int quit = conn_reply(c);
    conn_consume(c, end);
    if (quit) {
        conn_close(c->srv, c);
        ev_break(loop, EVBREAK_ALL);
        return;
    }
    ev_timer_again(loop, &c->idle_w);
    ev_io_stop(loop, &c->read_w);
    ev_io_start(loop, &c->write_w);
}

static void on_read(struct ev_loop *loop, ev_io *w, int revents)
{
    struct conn *c = w->data;
    char *end = memmem(c->in, c->in_len, "\r\n\r\n", 4);
    if (!end) {
        ssize_t n = read(c->fd, c->in + c->in_len, sizeof c->in - 1 - c->in_len);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        if (n <= 0) {
            conn_close(c->srv, c);
            return;
        }
        c->in_len += (size_t)n;
        end = memmem(c->in, c->in_len, "\r\n\r\n", 4);
    }
    if (end)
        conn_handle(loop, c, end);
}

static void on_idle(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct conn *c = w->data;
    conn_close(c->srv, c);
}

static void on_accept(struct ev_loop *loop, ev_io *w, int revents)
{
    struct server *s = w->data;
    int fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
        return;
    struct conn *c = calloc(1, sizeof *c);
    if (!c) {
        close(fd);
        return;
    }
    c->srv = s;
    c->fd = fd;
    ev_io_init(&c->read_w, on_read, fd, EV_READ);
    ev_io_init(&c->write_w, on_write, fd, EV_WRITE);
    ev_init(&c->idle_w, on_idle);
    c->idle_w.repeat = s->timeout_s;
    c->read_w.data = c->write_w.data = c->idle_w.data = c;
    ev_timer_again(loop, &c->idle_w);
    ev_io_start(loop, &c->read_w);
}

static void on_term(struct ev_loop *loop, ev_signal *w, int revents)
{
    ev_break(loop, EVBREAK_ALL);
}

static int listen_any(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 128) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &alen) < 0) {
        perror("plain_server: listen");
        exit(1);
    }
    printf("port %d\n", ntohs(a.sin_port));
    fflush(stdout);
    return fd;
}

static int parse_args(struct server *s, int argc, char **argv, int *handler)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--max-requests") == 0 && i + 1 < argc)
            s->max_requests = atol(argv[++i]);
        else if (strcmp(argv[i], "--timeout-ms") == 0 && i + 1 < argc)
            s->timeout_s = atof(argv[++i]) / 1000.0;
        else if (strcmp(argv[i], "--sigterm-handler") == 0)
            *handler = 1;
        else {
            fprintf(stderr, "plain_server: bad argument '%s'\n", argv[i]);
            return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct server s = {.timeout_s = 30.0};
    int handler = 0;
    if (parse_args(&s, argc, argv, &handler) < 0)
        return 2;
    signal(SIGPIPE, SIG_IGN);
    s.loop = ev_default_loop(0);
    ev_io_init(&s.accept_w, on_accept, listen_any(), EV_READ);
    s.accept_w.data = &s;
    ev_io_start(s.loop, &s.accept_w);
    if (handler) {
        ev_signal_init(&s.term_w, on_term, SIGTERM);
        ev_signal_start(s.loop, &s.term_w);
        ev_unref(s.loop);     /* the signal watcher alone keeps nothing alive */
    }
    ev_run(s.loop, 0);
    close(s.accept_w.fd);
    return 0;
}

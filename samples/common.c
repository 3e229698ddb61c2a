/* common.c -- options, listening socket, limits, tracer, time helpers. */
#include "common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void evs_common_defaults(struct evs_common *c)
{
    c->bind = "127.0.0.1";
    c->port = 3000;
    c->trace = NULL;
    c->idle_timeout_ms = 10000;
}

void evs_usage_error(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", program_invocation_short_name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(2);
}

long evs_parse_long(const char *name, const char *arg, long min, long max)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(arg, &end, 10);
    if (errno || end == arg || *end != '\0' || v < min || v > max)
        evs_usage_error("%s: expected an integer in [%ld, %ld], got '%s'", name, min, max, arg);
    return v;
}

int evs_common_option(struct evs_common *c, int opt, const char *arg)
{
    switch (opt) {
    case EVS_OPT_PORT: c->port = (int)evs_parse_long("--port", arg, 0, 65535); return 1;
    case EVS_OPT_BIND: {
        struct in_addr a;
        if (inet_pton(AF_INET, arg, &a) != 1)
            evs_usage_error("--bind: expected an IPv4 address such as 127.0.0.1, got '%s'", arg);
        c->bind = arg;
        return 1;
    }
    case EVS_OPT_TRACE: c->trace = arg; return 1;
    case EVS_OPT_IDLE:
        c->idle_timeout_ms = (int)evs_parse_long("--idle-timeout-ms", arg, 1, 3600 * 1000);
        return 1;
    default: return 0;
    }
}

long evs_raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return -1;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            getrlimit(RLIMIT_NOFILE, &rl);
    }
    return rl.rlim_cur == RLIM_INFINITY ? LONG_MAX : (long)rl.rlim_cur;
}

/* The backlog is where sync_server's clients wait, so it is as large as the
 * kernel allows (it silently caps it at net.core.somaxconn). */
int evs_listen(const char *bind_addr, int port, int nonblock, int *bound_port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, bind_addr, &sa.sin_addr) != 1)
        return -EINVAL;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);
    if (fd < 0)
        return -errno;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 65535) != 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    socklen_t len = sizeof sa;
    getsockname(fd, (struct sockaddr *)&sa, &len);
    *bound_port = ntohs(sa.sin_port);
    return fd;
}

void evs_announce(const char *bind_addr, int port)
{
    printf("listening on %s:%d\n", bind_addr, port);
    fflush(stdout);
}

evt_tracer *evs_tracer_open(const char *path, const char *process_name)
{
    if (!path)
        return NULL;
    struct evt_options o = {.path = path, .no_signal_handlers = 1, .process_name = process_name};
    evt_tracer *t = NULL;
    int rc = evt_open(&t, &o);
    if (rc < 0) {
        fprintf(stderr, "%s: --trace %s: %s\n", program_invocation_short_name, path, evt_strerror(rc));
        exit(1);
    }
    return t;
}

uint64_t evs_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void evs_sleep_ms(long ms)
{
    struct timespec req = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L}, rem;
    while (nanosleep(&req, &rem) != 0 && errno == EINTR)
        req = rem;
}

/* Reads up to size bytes; returns the count (short at EOF) or -errno. */
static ssize_t read_all(int fd, char *buf, size_t size)
{
    size_t got = 0;
    while (got < size) {
        ssize_t n = read(fd, buf + got, size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

int evs_read_file(const char *path, char **data, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct stat st;
    char *buf = NULL;
    ssize_t got = fstat(fd, &st) != 0 ? -errno : (buf = malloc((size_t)st.st_size + 1)) ? 0 : -ENOMEM;
    if (got == 0)
        got = read_all(fd, buf, (size_t)st.st_size);
    close(fd);
    if (got < 0) {
        free(buf);
        return (int)got;
    }
    buf[got] = '\0';
    *data = buf;
    *len = (size_t)got;
    return 0;
}

const char *evs_exe_relative(const char *name, char *buf, size_t size)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) {
        snprintf(buf, size, "%s", name);
        return buf;
    }
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash)
        *slash = '\0';
    snprintf(buf, size, "%s/%s", exe, name);
    return buf;
}

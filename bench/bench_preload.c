/* bench_preload.c -- what `evtrace record` costs an unmodified libev server.
 *
 *   bench_preload [--rounds R] [--requests N] [--conns C] [--instr-requests M]
 *
 * Throughput: plain_server untraced and under `evtrace record`, alternating
 * (plain, traced, plain again, in a rotating order) R rounds each in one
 * run, because the machine is noisy; the second plain run gives the null
 * ratio, what "no difference" reads as in that run. Each round starts a fresh server, then a blocking client
 * keeps C connections busy (one request in flight on each, sent to all
 * before reading the replies) for N requests, timed from the first send to
 * the last reply. Rates are summed over rounds: ratio = traced / plain.
 *
 * Instructions: the same server under valgrind --tool=callgrind, answering
 * M requests and exiting (--max-requests), once without and once with the
 * preload (LD_PRELOAD and the variables `record` would set, so callgrind
 * measures the server itself, its consumer process and start-up included). Every
 * callback is traced. Skipped (a line on stderr) without valgrind. The
 * trace file is checked to exist, so a preload that silently failed to
 * load cannot pass for a zero overhead.
 *
 * Prints `name: value unit` lines:
 *   preload_plain_rps, preload_traced_rps (req/s, mean of rounds),
 *   preload_overhead_ratio (median of the rounds' traced/plain ratios),
 *   preload_null_ratio (the same for plain again/plain: read the overhead
 *   ratio against it),
 *   preload_plain_cpu_per_request, preload_traced_cpu_per_request (us of
 *   CPU the server process used per request, all its threads, kernel time
 *   included, from the scheduler's ns counts) and preload_cpu_ratio (median
 *   of the rounds' traced/plain): what tracing costs the server, less
 *   sensitive than throughput to other load on the machine,
 *   preload_user_share (the untraced server's user-space time over its
 *   CPU time, from /proc/PID/stat's ticks: callgrind sees only the user
 *   part, so an added-instruction ratio r predicts a time ratio of about
 *   1 / (1 + (r - 1) * share); docs/OVERHEAD.md),
 *   preload_plain_instr, preload_traced_instr (all threads),
 *   preload_traced_loop_thread_instr (the server's own thread: hooks and
 *   trampolines, without the encoding), preload_traced_consumer_instr (the
 *   consumer process: encoding and writing), the added instructions per
 *   request, preload_instr_ratio (all threads and the consumer: the figure
 *   asked for), preload_loop_thread_instr_ratio (what the event loop itself
 *   pays) and preload_program_instr_ratio (the program without the
 *   consumer).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <glob.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 64

struct opts {
    int rounds, requests, conns, instr_requests;
};

struct server {
    pid_t pid;
    int out;      /* its stdout: the "port N" line */
    int port;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int read_port(int fd)
{
    char line[64];
    size_t len = 0;
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    while (len < sizeof line - 1 && poll(&pfd, 1, 60000) == 1 && read(fd, line + len, 1) == 1)
        if (line[len++] == '\n')
            break;
    line[len] = '\0';
    int port = -1;
    return sscanf(line, "port %d", &port) == 1 ? port : -1;
}

/* Starts argv with stdout on a pipe and stderr to err_path (NULL: /dev/null);
 * env entries ("K=V") are added in the child. */
static int server_start(struct server *s, char *const argv[], char *const env[], const char *err_path)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return -1;
    s->pid = fork();
    if (s->pid == 0) {
        char pid[32];
        snprintf(pid, sizeof pid, "%d", (int)getpid());
        setenv("EVTRACE_PID", pid, 1);
        for (int i = 0; env && env[i]; i++)
            putenv(env[i]);
        int e = open(err_path ? err_path : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(p[1], 1);
        dup2(e, 2);
        execv(argv[0], argv);
        _exit(127);
    }
    close(p[1]);
    s->out = p[0];
    s->port = s->pid > 0 ? read_port(s->out) : -1;
    return s->port > 0 ? 0 : -1;
}

static int server_wait(struct server *s)
{
    int status = 0;
    while (waitpid(s->pid, &status, 0) < 0 && errno == EINTR)
        continue;
    close(s->out);
    return status;
}

static int conn_open(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Reads one reply (headers + Content-Length body). Replies are small and
 * never pipelined here, so one buffer per read is enough. */
static int read_reply(int fd)
{
    char buf[1024];
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fd, buf + len, sizeof buf - 1 - len);
        if (n <= 0)
            return -1;
        len += (size_t)n;
        buf[len] = '\0';
        char *end = strstr(buf, "\r\n\r\n"), *cl = strstr(buf, "Content-Length:");
        long clen;
        if (end && cl && sscanf(cl, "Content-Length: %ld", &clen) == 1 &&
            len >= (size_t)(end + 4 - buf) + (size_t)clen)
            return 0;
        if (len >= sizeof buf - 1)
            return -1;
    }
}

/* requests over conns connections; returns the seconds it took, or -1. */
static double load(int port, int conns, int requests)
{
    static const char req[] = "GET /bench HTTP/1.1\r\nHost: bench\r\n\r\n";
    int fds[MAX_CONNS];
    for (int c = 0; c < conns; c++)
        if ((fds[c] = conn_open(port)) < 0)
            return -1;
    double t0 = now_s();
    int done = 0, ok = 1;
    while (ok && done < requests) {
        int batch = requests - done < conns ? requests - done : conns;
        for (int c = 0; c < batch; c++)
            ok &= write(fds[c], req, sizeof req - 1) == (ssize_t)(sizeof req - 1);
        for (int c = 0; c < batch && ok; c++)
            ok &= read_reply(fds[c]) == 0;
        done += batch;
    }
    double t = now_s() - t0;
    for (int c = 0; c < conns; c++)
        close(fds[c]);
    return ok ? t : -1;
}

static void quit(int port)
{
    int fd = conn_open(port);
    char c;
    if (fd >= 0 && write(fd, "QUIT\r\n\r\n", 8) == 8 && read(fd, &c, 1) >= 0)
        close(fd);
}

/* CPU time in ns that every live thread of pid has run so far (the first
 * field of /proc/PID/task/TID/schedstat: the scheduler's own count, in ns,
 * where /proc/PID/stat has 10 ms ticks). -1 if pid is gone. */
static long long task_cpu_ns(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    DIR *d = opendir(path);
    long long sum = d ? 0 : -1;
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char f[128];
        long long ns = 0;
        snprintf(f, sizeof f, "/proc/%d/task/%.20s/schedstat", (int)pid, de->d_name);
        FILE *fp = fopen(f, "r");
        if (fp && fscanf(fp, "%lld", &ns) == 1)
            sum += ns;
        if (fp)
            fclose(fp);
    }
    if (d)
        closedir(d);
    return sum;
}

/* task_cpu_ns of pid and of its children: the tracer's consumer process
 * (tracer/evt_consumer.c) does the encoding and writing, and its CPU is
 * part of what tracing costs. */
static long long proc_cpu_ns(pid_t pid)
{
    long long sum = task_cpu_ns(pid);
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)pid, (int)pid);
    FILE *f = sum >= 0 ? fopen(path, "r") : NULL;
    int child;
    while (f && fscanf(f, "%d", &child) == 1) {
        long long ns = task_cpu_ns((pid_t)child);
        sum += ns > 0 ? ns : 0;
    }
    if (f)
        fclose(f);
    return sum;
}

/* The server process itself: under `record` it is record's only child
 * (record forks and execs it); else pid. */
static pid_t server_pid(pid_t pid, int traced)
{
    char path[64];
    int child = -1;
    snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)pid, (int)pid);
    FILE *f = traced ? fopen(path, "r") : NULL;
    if (f && fscanf(f, "%d", &child) != 1)
        child = -1;
    if (f)
        fclose(f);
    return traced ? (pid_t)child : pid;
}

/* CPU time pid has used so far in user space (*user) and in all (return),
 * in clock ticks: fields 14 and 15 of /proc/PID/stat. -1 if pid is gone. */
static long long proc_ticks(pid_t pid, long long *user)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')');   /* the name may hold spaces */
    unsigned long long u, s;
    if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &u, &s) != 2)
        return -1;
    *user = (long long)u;
    return (long long)(u + s);
}

struct round {
    double rps;      /* requests per second */
    double cpu_ns;   /* the server's CPU time per request (all its threads) */
    long long user_ticks, all_ticks;   /* the server process's own, during the load */
};

/* One throughput round; rps < 0 if it failed. */
static struct round round_run(const struct opts *o, int traced, const char *trace)
{
    char *plain_argv[] = {PLAIN_SERVER, NULL};
    char *traced_argv[] = {EVTRACE_BIN, "record", "-o", (char *)trace, "--", PLAIN_SERVER, NULL};
    struct server s;
    struct round r = {-1, -1, 0, 0};
    if (server_start(&s, traced ? traced_argv : plain_argv, NULL, NULL) < 0)
        return r;
    pid_t pid = server_pid(s.pid, traced);
    long long user0 = 0, user1 = 0, all0 = proc_ticks(pid, &user0);
    long long cpu0 = proc_cpu_ns(pid);
    double t = load(s.port, o->conns, o->requests);
    long long cpu1 = proc_cpu_ns(pid);
    long long all1 = proc_ticks(pid, &user1);
    quit(s.port);
    int status = server_wait(&s);
    unlink(trace);
    if (t > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 && cpu0 >= 0 && cpu1 >= cpu0)
        r = (struct round){o->requests / t, (double)(cpu1 - cpu0) / o->requests, user1 - user0, all1 - all0};
    return r;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Each round runs three servers in a rotating order: plain, traced and
 * plain again; the second plain one gives preload_null_ratio, what "no
 * difference" reads as in this run. */
static int bench_throughput(const struct opts *o, const char *trace)
{
    double rps[2] = {0, 0}, cpu[2] = {0, 0}, ratio[64], cpu_ratio[64], null_ratio[64];
    long long user = 0, all = 0;   /* the plain servers' */
    for (int r = 0; r < o->rounds; r++) {
        struct round got[3];
        for (int i = 0; i < 3; i++) {
            int slot = (r + i) % 3;   /* rotate who goes first */
            got[slot] = round_run(o, slot == 1, trace);
            if (got[slot].rps < 0) {
                fprintf(stderr, "bench_preload: round %d failed\n", r);
                return -1;
            }
            if (slot < 2) {
                rps[slot] += got[slot].rps;
                cpu[slot] += got[slot].cpu_ns;
            }
            if (slot != 1 && got[slot].all_ticks > 0) {
                user += got[slot].user_ticks;
                all += got[slot].all_ticks;
            }
        }
        ratio[r] = got[1].rps / got[0].rps;
        cpu_ratio[r] = got[1].cpu_ns / got[0].cpu_ns;
        null_ratio[r] = got[2].rps / got[0].rps;
    }
    printf("preload_plain_rps: %.0f req/s\n", rps[0] / o->rounds);
    printf("preload_traced_rps: %.0f req/s\n", rps[1] / o->rounds);
    printf("preload_overhead_ratio: %.3f ratio\n", median(ratio, o->rounds));
    printf("preload_null_ratio: %.3f ratio\n", median(null_ratio, o->rounds));
    printf("preload_plain_cpu_per_request: %.2f us\n", cpu[0] / o->rounds / 1e3);
    printf("preload_traced_cpu_per_request: %.2f us\n", cpu[1] / o->rounds / 1e3);
    printf("preload_cpu_ratio: %.3f ratio\n", median(cpu_ratio, o->rounds));
    if (all > 0)
        printf("preload_user_share: %.3f ratio\n", (double)user / (double)all);
    return 0;
}

/* The "totals: N" line of a callgrind output file; 0 if absent. */
static unsigned long long totals(const char *path)
{
    FILE *f = fopen(path, "r");
    char line[512];
    unsigned long long n = 0;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "totals:", 7) == 0)
            n = strtoull(line + 7, NULL, 10);
    if (f)
        fclose(f);
    return n;
}

struct instr {
    unsigned long long all, main_thread, consumer;
};

/* Sums the callgrind files tmp.PID.cg-NN (one per process and thread; the
 * program's pid is pid, its thread 01 the main one; any other pid is the
 * tracer's consumer process, evt_consumer.c) and removes them. */
static struct instr instr_collect(const char *tmp, pid_t pid)
{
    struct instr n = {0, 0, 0};
    char pattern[300];
    glob_t g;
    snprintf(pattern, sizeof pattern, "%s.*.cg*", tmp);
    if (glob(pattern, 0, NULL, &g) != 0)
        return n;
    for (size_t i = 0; i < g.gl_pathc; i++) {
        const char *name = g.gl_pathv[i] + strlen(tmp) + 1;
        int file_pid = atoi(name);
        const char *dash = strstr(name, ".cg-");
        unsigned long long v = dash ? totals(g.gl_pathv[i]) : 0;   /* NAME.cg: no thread's */
        n.all += v;
        if (file_pid != (int)pid)
            n.consumer += v;
        else if (dash && atoi(dash + 4) == 1)
            n.main_thread = v;
        unlink(g.gl_pathv[i]);
    }
    globfree(&g);
    return n;
}

/* Instructions of plain_server answering o->instr_requests, under callgrind. */
static struct instr instr_run(const struct opts *o, int traced, const char *trace, const char *tmp)
{
    char max[32], outfile[300], env_pre[4200], env_out[4200];
    snprintf(max, sizeof max, "%d", o->instr_requests);
    snprintf(outfile, sizeof outfile, "--callgrind-out-file=%s.%%p.cg", tmp);
    snprintf(env_pre, sizeof env_pre, "LD_PRELOAD=%s", PRELOAD_LIB);
    snprintf(env_out, sizeof env_out, "EVTRACE_OUTPUT=%s", trace);
    char *argv[] = {"/usr/bin/valgrind", "--tool=callgrind", "--separate-threads=yes", outfile,
                    PLAIN_SERVER, "--max-requests", max, NULL};
    /* FOLLOW_EXEC: valgrind's launcher is a dynamic program that execs the
     * tool; without it the shim would drop itself from LD_PRELOAD there.
     * FLUSH=process: valgrind's own memory makes any program look too big
     * for a consumer process (evt_consumer.c), and it is the consumer's
     * cost that is measured. */
    char *env[] = {env_pre, env_out, "EVTRACE_FOLLOW_EXEC=1", "EVTRACE_FLUSH=process", NULL};
    struct server s = {.pid = -1};
    int ok = 0;
    if (server_start(&s, argv, traced ? env : NULL, NULL) == 0 && load(s.port, o->conns, o->instr_requests) > 0) {
        int status = server_wait(&s);
        ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
        if (traced && access(trace, R_OK) != 0) {
            fprintf(stderr, "bench_preload: the traced server wrote no trace\n");
            ok = 0;
        }
    }
    struct instr n = instr_collect(tmp, s.pid);
    unlink(trace);
    return ok ? n : (struct instr){0, 0, 0};
}

static int bench_instructions(const struct opts *o, const char *trace)
{
    if (access("/usr/bin/valgrind", X_OK) != 0) {
        fprintf(stderr, "bench_preload: no valgrind, instruction counts skipped\n");
        return 0;
    }
    char tmp[64];
    snprintf(tmp, sizeof tmp, "/tmp/bench_preload.%d", (int)getpid());
    struct instr plain = instr_run(o, 0, trace, tmp);
    struct instr traced = instr_run(o, 1, trace, tmp);
    if (!plain.all || !traced.all) {
        fprintf(stderr, "bench_preload: callgrind run failed\n");
        return -1;
    }
    printf("preload_plain_instr: %llu instructions\n", plain.all);
    printf("preload_traced_instr: %llu instructions\n", traced.all);
    printf("preload_traced_loop_thread_instr: %llu instructions\n", traced.main_thread);
    printf("preload_traced_consumer_instr: %llu instructions\n", traced.consumer);
    printf("preload_instr_per_request_added: %.0f instructions\n",
           ((double)traced.all - (double)plain.all) / o->instr_requests);
    printf("preload_instr_ratio: %.4f ratio\n", (double)traced.all / (double)plain.all);
    printf("preload_loop_thread_instr_ratio: %.4f ratio\n", (double)traced.main_thread / (double)plain.main_thread);
    printf("preload_program_instr_ratio: %.4f ratio\n",
           (double)(traced.all - traced.consumer) / (double)plain.all);
    return 0;
}

static int parse(int argc, char **argv, struct opts *o)
{
    *o = (struct opts){.rounds = 7, .requests = 20000, .conns = 8, .instr_requests = 10000};
    for (int i = 1; i + 1 < argc; i += 2) {
        int v = atoi(argv[i + 1]);
        if (v <= 0)
            return -1;
        if (!strcmp(argv[i], "--rounds") && v <= 64)
            o->rounds = v;
        else if (!strcmp(argv[i], "--requests"))
            o->requests = v;
        else if (!strcmp(argv[i], "--conns") && v <= MAX_CONNS)
            o->conns = v;
        else if (!strcmp(argv[i], "--instr-requests"))
            o->instr_requests = v;
        else
            return -1;
    }
    return argc % 2 == 1 ? 0 : -1;
}

int main(int argc, char **argv)
{
    struct opts o;
    if (parse(argc, argv, &o) < 0) {
        fprintf(stderr, "usage: bench_preload [--rounds R<=64] [--requests N] [--conns C<=%d] "
                        "[--instr-requests M]\n", MAX_CONNS);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    char trace[64];
    snprintf(trace, sizeof trace, "/tmp/bench_preload.%d.evtrace", (int)getpid());
    int rc = bench_throughput(&o, trace);
    if (rc == 0)
        rc = bench_instructions(&o, trace);
    return rc ? 1 : 0;
}

/* demo_table -- the demo's one comparison table.
 *
 *   demo_table NAME LOADGEN_JSON STATS_JSON [NAME LOADGEN_JSON STATS_JSON ...]
 *
 * For each run, LOADGEN_JSON is `loadgen --json` output (requests, wall
 * time, req/s, latencies) and STATS_JSON is `evtrace stats --json` of the
 * server's trace (requests.max_concurrency, loop.busy_ratio,
 * stalls[].duration_ns). A missing or unreadable file prints "-" in its
 * columns rather than failing: the table is still worth seeing.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

static double num(json_t *root, const char *a, const char *b)
{
    json_t *v = json_object_get(root, a);
    if (b)
        v = json_object_get(v, b);
    return json_is_number(v) ? json_number_value(v) : -1;
}

/* The longest stall: stalls[] holds callbacks above the threshold. */
static double longest_stall_ms(json_t *stats)
{
    json_t *stalls = json_object_get(stats, "stalls"), *s;
    size_t i;
    double max = json_is_array(stalls) ? 0 : -1;
    json_array_foreach(stalls, i, s) {
        double d = num(s, "duration_ns", NULL) / 1e6;
        if (d > max)
            max = d;
    }
    return max;
}

static void cell(double v, const char *fmt, int width)
{
    if (v < 0)
        printf(" %*s", width, "-");
    else
        printf(fmt, width, v);
}

static void row(const char *name, const char *lg_path, const char *stats_path)
{
    json_t *lg = json_load_file(lg_path, 0, NULL);
    json_t *st = json_load_file(stats_path, 0, NULL);
    printf("%-14s", name);
    cell(num(lg, "requests", NULL), " %*.0f", 8);
    cell(num(lg, "wall_time_s", NULL), " %*.2f", 8);
    cell(num(lg, "req_per_s", NULL), " %*.1f", 8);
    cell(num(lg, "latency_ms", "p50"), " %*.1f", 9);
    cell(num(lg, "latency_ms", "p99"), " %*.1f", 9);
    cell(num(st, "requests", "max_concurrency"), " %*.0f", 8);
    double busy = num(st, "loop", "busy_ratio");
    cell(busy < 0 ? -1 : busy * 100, " %*.1f", 7);
    cell(st ? longest_stall_ms(st) : -1, " %*.1f", 10);
    putchar('\n');
    json_decref(lg);
    json_decref(st);
}

int main(int argc, char **argv)
{
    if (argc < 4 || (argc - 1) % 3 != 0) {
        fprintf(stderr, "usage: demo_table NAME LOADGEN_JSON STATS_JSON [...]\n");
        return 2;
    }
    printf("%-14s %8s %8s %8s %9s %9s %8s %7s %10s\n", "server", "requests", "wall s", "req/s", "p50 ms",
           "p99 ms", "overlap", "busy %", "stall ms");
    for (int i = 1; i + 2 < argc; i += 3)
        row(argv[i], argv[i + 1], argv[i + 2]);
    return 0;
}

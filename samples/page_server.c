/* page_server.c -- options, routes and main loop of sync_server and async_server. */
#include "page_server.h"

#include <http_parser.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(const char *prog)
{
    printf("usage: %s [--port N] [--bind ADDR] [--trace FILE] [--idle-timeout-ms N]\n"
           "          [--delay-ms N] [--index PATH]\n"
           "Serves index.html on GET / and GET /index.html after --delay-ms (default 2000).\n"
           "--port 0 picks a free port; the first line on stdout says which.\n",
           prog);
}

static void parse_options(int argc, char **argv, struct evs_common *common, struct evs_page_options *page)
{
    enum { OPT_DELAY = EVS_OPT_APP, OPT_INDEX, OPT_HELP };
    static const struct option table[] = {
        EVS_COMMON_OPTIONS,
        {"delay-ms", required_argument, NULL, OPT_DELAY},
        {"index", required_argument, NULL, OPT_INDEX},
        {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0},
    };
    int opt;
    while ((opt = getopt_long(argc, argv, "", table, NULL)) != -1) {
        if (evs_common_option(common, opt, optarg))
            continue;
        switch (opt) {
        case OPT_DELAY: page->delay_ms = evs_parse_long("--delay-ms", optarg, 0, 600000); break;
        case OPT_INDEX: page->index = optarg; break;
        case OPT_HELP: usage(argv[0]); exit(0);
        default: exit(2);   /* getopt printed the one-line reason */
        }
    }
    if (optind < argc)
        evs_usage_error("unexpected argument '%s'", argv[optind]);
}

void evs_page_respond(struct evs_conn *c, const struct evs_page_options *opt)
{
    char *data = NULL;
    size_t len = 0;
    int rc = evs_read_file(opt->index, &data, &len);
    if (rc < 0) {
        evs_respond_error(c, 500, "cannot read index.html");
        return;
    }
    evs_respond(c, 200, "text/html; charset=utf-8", data, len);
    free(data);
}

int evs_page_server_main(int argc, char **argv, int blocking, evs_handler_fn handler)
{
    char index_path[PATH_MAX];
    struct evs_page_options page = {.delay_ms = 2000, .index = evs_exe_relative("index.html", index_path, sizeof index_path)};
    struct evs_server_config cfg = {.process_name = program_invocation_short_name, .blocking = blocking};
    evs_common_defaults(&cfg.common);
    parse_options(argc, argv, &cfg.common, &page);
    const struct evs_route routes[] = {
        {HTTP_GET, "/", handler, &page},
        {HTTP_GET, "/index.html", handler, &page},
    };
    cfg.routes = routes;
    cfg.n_routes = sizeof routes / sizeof routes[0];
    struct evs_server server;
    if (evs_server_init(&server, EV_DEFAULT, &cfg) < 0)
        return 1;
    evs_server_run(&server);
    evs_server_finish(&server);
    return 0;
}

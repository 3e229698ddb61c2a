/* loadgen_crud.c -- loadgen --scenario crud: does the API keep what it acks?
 *
 * Four batches, each run with the engine's -c requests in flight:
 *   1. POST n items, alternately /books {"title","author","year"} and
 *      /movies {"title","director","year"}; titles carry quotes, a
 *      backslash and non-ASCII text so that escaping is exercised;
 *   2. GET each one by id, and GET both lists;
 *   3. DELETE each one;
 *   4. GET each one again: 404.
 * Every answer is compared with what was sent, as JSON values (json_equal),
 * so the data must round-trip exactly. Items other clients added to the
 * lists are ignored: only ours are checked.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loadgen.h"

struct item {
    const char *kind;       /* "books" or "movies" */
    json_t *expect;         /* the fields, plus "id" once created */
    json_int_t id;
};

static int mismatch(const char *what, const struct lg_req *r)
{
    fprintf(stderr, "loadgen: crud mismatch: %s: %s %s -> %d %.200s\n", what, r->method, r->path, r->status,
            r->resp ? r->resp : "");
    return 1;
}

static json_t *item_fields(size_t i)
{
    char title[128], person[64];
    snprintf(title, sizeof title, "Title %zu: \"quoted\" \\ Ünïcødé ✓", i);
    snprintf(person, sizeof person, "Person %zu", i);
    int year = 1900 + (int)(i % 125);
    if (i % 2 == 0)
        return json_pack("{s:s,s:s,s:i}", "title", title, "author", person, "year", year);
    return json_pack("{s:s,s:s,s:i}", "title", title, "director", person, "year", year);
}

static void set_req(struct lg_req *r, const char *method, uint32_t name, int expect, const char *fmt,
                    const char *kind, json_int_t id)
{
    memset(r, 0, sizeof *r);
    r->method = method;
    r->name = name;
    r->expect = expect;
    snprintf(r->path, sizeof r->path, fmt, kind, (int64_t)id);
}

static int create_items(struct lg *lg, struct item *items, size_t n, struct lg_req *reqs)
{
    uint32_t nb = evt_intern(lg->tracer, "POST /books"), nm = evt_intern(lg->tracer, "POST /movies");
    for (size_t i = 0; i < n; i++) {
        items[i].kind = i % 2 == 0 ? "books" : "movies";
        items[i].expect = item_fields(i);
        set_req(&reqs[i], "POST", i % 2 == 0 ? nb : nm, 201, "/%s", items[i].kind, 0);
        reqs[i].body = json_dumps(items[i].expect, JSON_COMPACT);
    }
    lg_run_batch(lg, reqs, n);
    int bad = 0;
    for (size_t i = 0; i < n && !bad; i++) {
        json_t *got = reqs[i].status == 201 ? json_loads(reqs[i].resp, 0, NULL) : NULL;
        json_t *id = json_object_get(got, "id");
        if (json_is_integer(id) && json_integer_value(id) > 0) {
            items[i].id = json_integer_value(id);
            json_object_set(items[i].expect, "id", id);
        }
        if (!json_is_integer(id) || !json_equal(got, items[i].expect))
            bad = mismatch("created item differs", &reqs[i]);
        json_decref(got);
    }
    return bad;
}

/* Our items of one kind must all be in its list, exactly. */
static int check_list(const struct lg_req *r, const struct item *items, size_t n, const char *kind)
{
    json_t *list = r->status == 200 ? json_loads(r->resp, 0, NULL) : NULL;
    int bad = json_is_array(list) ? 0 : mismatch("list is not a JSON array", r);
    for (size_t i = 0; i < n && !bad; i++) {
        if (strcmp(items[i].kind, kind) != 0)
            continue;
        size_t k;
        json_t *v, *found = NULL;
        json_array_foreach(list, k, v) {
            if (json_integer_value(json_object_get(v, "id")) == items[i].id)
                found = v;
        }
        if (!found || !json_equal(found, items[i].expect))
            bad = mismatch("an item is missing from the list or differs", r);
    }
    json_decref(list);
    return bad;
}

static int read_items(struct lg *lg, const struct item *items, size_t n, struct lg_req *reqs)
{
    uint32_t name = evt_intern(lg->tracer, "GET /{kind}/{id}"), lname = evt_intern(lg->tracer, "GET /{kind}");
    for (size_t i = 0; i < n; i++)
        set_req(&reqs[i], "GET", name, 200, "/%s/%" PRId64, items[i].kind, items[i].id);
    set_req(&reqs[n], "GET", lname, 200, "/%s", "books", 0);
    set_req(&reqs[n + 1], "GET", lname, 200, "/%s", "movies", 0);
    lg_run_batch(lg, reqs, n + 2);
    int bad = 0;
    for (size_t i = 0; i < n && !bad; i++) {
        json_t *got = reqs[i].status == 200 ? json_loads(reqs[i].resp, 0, NULL) : NULL;
        if (!json_equal(got, items[i].expect))
            bad = mismatch("item read back differs", &reqs[i]);
        json_decref(got);
    }
    if (!bad)
        bad = check_list(&reqs[n], items, n, "books") || check_list(&reqs[n + 1], items, n, "movies");
    return bad;
}

/* DELETE each (expect 200), or GET each after that (expect 404). */
static int each_item(struct lg *lg, const struct item *items, size_t n, struct lg_req *reqs,
                     const char *method, int expect, const char *span_name)
{
    uint32_t name = evt_intern(lg->tracer, span_name);
    for (size_t i = 0; i < n; i++)
        set_req(&reqs[i], method, name, expect, "/%s/%" PRId64, items[i].kind, items[i].id);
    lg_run_batch(lg, reqs, n);
    for (size_t i = 0; i < n; i++) {
        if (reqs[i].status != expect)
            return mismatch(expect == 404 ? "deleted item still there" : "delete failed", &reqs[i]);
    }
    return 0;
}

int lg_crud_scenario(struct lg *lg, size_t n)
{
    struct item *items = calloc(n, sizeof *items);
    struct lg_req *reqs = calloc(n + 2, sizeof *reqs);
    int bad = !items || !reqs;
    if (!bad)
        bad = create_items(lg, items, n, reqs);
    lg_free_batch(reqs, n + 2);
    if (!bad)
        bad = read_items(lg, items, n, reqs);
    lg_free_batch(reqs, n + 2);
    if (!bad)
        bad = each_item(lg, items, n, reqs, "DELETE", 200, "DELETE /{kind}/{id}");
    lg_free_batch(reqs, n + 2);
    if (!bad)
        bad = each_item(lg, items, n, reqs, "GET", 404, "GET /{kind}/{id} (deleted)");
    lg_free_batch(reqs, n + 2);
    for (size_t i = 0; items && i < n; i++)
        json_decref(items[i].expect);
    free(items);
    free(reqs);
    return bad;
}

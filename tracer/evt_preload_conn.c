/* evt_preload_conn.c -- one request lane per connection, without any
 * annotation in the program: accept(), accept4() and close() are hooked.
 *
 * A connection's lane is a request named "conn" that begins when accept
 * returns its fd (or, for a stream socket the program got some other way --
 * connect, inherited, socketpair -- at the first io watcher started on it)
 * and ends when the program closes the fd. Two phases: "open" from the
 * accept until the program first starts an io watcher on the fd, "active"
 * from then on. Finer phases (one per read/write watcher switch) were tried
 * and dropped: they cost two more events per request on the hot path and in
 * the encoder, and the callbacks on the lane's fd already show the reads
 * and writes.
 *
 * State per fd, one atomic word in an array indexed by fd:
 *   0                  unknown (never seen, or closed since)
 *   1                  not a connection (a listening socket, a pipe, a file)
 *   id << 1 | active   an open connection lane (id >= 1)
 * Threads may accept on one thread and close on another, so transitions are
 * exchanges and compare-and-swaps; each lane's records go to the buffer of
 * the thread that made the transition.
 *
 * Limits: fds at or above RLIMIT_NOFILE at start-up (at most 1 << 20) are not
 * tracked. An fd closed by a path close() does not see (fclose, dup2 over
 * it, close_range, exit) keeps its lane open until the fd number is accepted
 * again, which ends the old lane then.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "evt_preload.h"

#define CONN_UNKNOWN 0u
#define CONN_NOT 1u
#define CONN_ACTIVE 1u       /* low bit of a lane's word */
#define CONN_MAX_FDS (1 << 20)

int evt__conn_init(struct evt__preload *p)
{
    struct rlimit rl;
    rlim_t n = getrlimit(RLIMIT_NOFILE, &rl) == 0 ? rl.rlim_cur : 1024;
    p->n_fds = n == RLIM_INFINITY || n > CONN_MAX_FDS ? CONN_MAX_FDS : n < 1024 ? 1024 : (int)n;
    p->fds = calloc((size_t)p->n_fds, sizeof *p->fds);   /* untouched pages cost nothing */
    if (!p->fds)
        p->n_fds = 0;
    return p->fds ? 0 : EVT_ENOMEM;
}

static _Atomic uint64_t *conn_slot(struct evt__preload *p, int fd)
{
    return fd >= 0 && fd < p->n_fds ? &p->fds[fd] : NULL;
}

static void conn_begin(struct evt__preload *p, evt_tracer *t, _Atomic uint64_t *s, unsigned active)
{
    uint64_t id = atomic_fetch_add(&p->next_conn, 1) + 1;
    uint64_t old = atomic_exchange(s, id << 1 | active);
    if (old > CONN_NOT)
        evt_request_end(t, old >> 1, 0);
    evt_request_begin(t, id, p->names.conn);
    evt_request_phase(t, id, active ? p->names.active : p->names.open);
}

/* A stream socket that is not listening: a connection, or about to be one. */
static int is_conn_socket(int fd)
{
    int type = 0, listening = 0, saved = errno;
    socklen_t l1 = sizeof type, l2 = sizeof listening;
    int yes = getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &l1) == 0 && type == SOCK_STREAM &&
              getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &l2) == 0 && !listening;
    errno = saved;
    return yes;
}

void evt__conn_accepted(struct evt__preload *p, evt_tracer *t, int fd)
{
    _Atomic uint64_t *s = conn_slot(p, fd);
    if (s && t)
        conn_begin(p, t, s, 0);
}

void evt__conn_io_start(struct evt__preload *p, evt_tracer *t, int fd)
{
    _Atomic uint64_t *s = conn_slot(p, fd);
    if (!s)
        return;
    uint64_t v = atomic_load_explicit(s, memory_order_relaxed);
    if (v == CONN_NOT || (v > CONN_NOT && (v & CONN_ACTIVE)))
        return;
    if (v == CONN_UNKNOWN) {
        if (is_conn_socket(fd))
            conn_begin(p, t, s, CONN_ACTIVE);
        else
            atomic_compare_exchange_strong(s, &v, CONN_NOT);
        return;
    }
    if (atomic_compare_exchange_strong(s, &v, v | CONN_ACTIVE))
        evt_request_phase(t, v >> 1, p->names.active);
}

void evt__conn_closed(struct evt__preload *p, evt_tracer *t, int fd)
{
    _Atomic uint64_t *s = conn_slot(p, fd);
    if (!s || atomic_load_explicit(s, memory_order_relaxed) == CONN_UNKNOWN)
        return;
    uint64_t v = atomic_exchange(s, CONN_UNKNOWN);
    if (v > CONN_NOT)
        evt_request_end(t, v >> 1, 0);
}

/* ---- the libc hooks -------------------------------------------------------- */

int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
    struct evt__preload *p = evt__preload_get();
    int r = p->real.accept(fd, addr, len);
    if (r >= 0) {
        int saved = errno;
        evt__conn_accepted(p, atomic_load_explicit(&p->tracer, memory_order_acquire), r);
        errno = saved;
    }
    return r;
}

int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
    struct evt__preload *p = evt__preload_get();
    int r = p->real.accept4(fd, addr, len, flags);
    if (r >= 0) {
        int saved = errno;
        evt__conn_accepted(p, atomic_load_explicit(&p->tracer, memory_order_acquire), r);
        errno = saved;
    }
    return r;
}

int close(int fd)
{
    struct evt__preload *p = evt__preload_get();
    int r = p->real.close(fd);
    int saved = errno;
    evt__conn_closed(p, atomic_load_explicit(&p->tracer, memory_order_acquire), fd);
    errno = saved;
    return r;
}

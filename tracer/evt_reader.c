/* evt_reader.c -- read a .evtrace file and walk its chunks, validating.
 *
 * The walk is two-phase per chunk: decode the whole payload into a scratch
 * array of struct evt_event (checking every record against its length and
 * every length against the payload), then deliver the array. A chunk that
 * fails any check delivers nothing, so damage anywhere yields an exact
 * prefix of the events plus one message. The scratch array is reused from
 * chunk to chunk: after the first chunks the walk allocates nothing, and a
 * chunk of the usual size (tens of KiB) stays in cache between the two
 * phases.
 *
 * Strings (STRING records) are copied out of the map when delivered, with
 * invalid UTF-8 bytes and NULs replaced by '?': every consumer (jansson,
 * SDL_ttf) wants valid UTF-8, and a name is not worth failing a trace for.
 * The table is kept across walks, so a second walk knows every string of
 * the file from its first record on (the exporter relies on this).
 *
 * A file is read a chunk at a time with pread(2) into one buffer, not
 * mapped: a mapped file that something truncates while it is read (a shell's
 * `> t.evtrace`, a program writing a new trace the old way) ends the reader
 * with SIGBUS, and "nothing crashes" includes that. Read, the cut shows as a
 * short read and is reported like any cut file, at the chunk it hit. The
 * buffer grows to the largest chunk (tens of KiB as written; a damaged
 * header cannot make it larger than the file), so memory does not grow with
 * the trace and an export stays streaming. The file is read as long as it
 * was at open: a trace still being written is read up to there. A copy is
 * the cost, against page faults for a mapping: from the page cache, 64 KiB
 * reads ran at 6.5 GB/s here (dd), about 0.15 ns a byte.
 * String ids above EVT_MAX_STRING_ID (evt_format.h) are treated as damage,
 * to keep the table a plain array.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "evt_reader.h"
#include "evtrace.h"

struct evt_reader {
    const uint8_t *data;     /* the whole trace (open_mem), or NULL */
    int fd;                  /* the file (evt_reader_open), or -1 */
    size_t len;              /* bytes to read: the size at open */
    uint8_t *buf;            /* file: the chunk being decoded */
    size_t buf_cap;
    const uint8_t *chunk;    /* the chunk being decoded, header first */
    uint32_t pid, flags, header_size;
    uint64_t start_ns;

    char **strings;          /* by id; NULL = unknown */
    uint32_t strings_cap;

    struct evt_event *scratch; /* one chunk's decoded records */
    size_t scratch_cap;

    uint64_t events;         /* delivered by the current/last walk */
    size_t offset;           /* end of the chunk being delivered */
    uint64_t error_off;
    char error[256];
};

/* A bounded read position inside one record body or payload. */
struct cursor {
    const uint8_t *p, *end;
};

/* ---- field decoding ---------------------------------------------------- */

/* The common case (a value below 128) without a call or a loop. */
static inline int rd_var(struct cursor *c, uint64_t *v)
{
    if (c->p < c->end && *c->p < 0x80) {
        *v = *c->p++;
        return 1;
    }
    size_t n = evt__get_varint(c->p, (size_t)(c->end - c->p), v);
    c->p += n;
    return n != 0;
}

static inline int rd_u32(struct cursor *c, uint32_t *v)
{
    uint64_t x;
    if (!rd_var(c, &x) || x > UINT32_MAX)
        return 0;
    *v = (uint32_t)x;
    return 1;
}

static int rd_i32(struct cursor *c, uint32_t *v)
{
    uint64_t x;
    if (!rd_var(c, &x))
        return 0;
    int64_t s = evt__unzigzag(x);
    if (s < INT32_MIN || s > INT32_MAX)
        return 0;
    *v = (uint32_t)(int32_t)s;
    return 1;
}

static int rd_u8(struct cursor *c, uint8_t *v)
{
    uint64_t x;
    if (!rd_var(c, &x) || x > 255)
        return 0;
    *v = (uint8_t)x;
    return 1;
}

/* Reads the fields after dt. Returns 1 if every known field fit inside the
 * body, 0 if not (damage), 2 for a type this reader does not know (the
 * record is skipped; a newer writer may add types). Fields past the known
 * ones are ignored by the caller, which moves on by the record's length. */
static int decode_fields(struct cursor *c, uint8_t type, struct evt_event *ev)
{
    uint64_t x, ignored;
    switch (type) {
    case EVT_REC_LOOP_BEGIN: case EVT_REC_LOOP_END:
    case EVT_REC_POLL_BEGIN: case EVT_REC_POLL_END:
    case EVT_REC_WSTART: case EVT_REC_WSTOP: case EVT_REC_CB_END:
        return rd_u32(c, &ev->id);
    case EVT_REC_CB_BEGIN:
        return rd_u32(c, &ev->id) && rd_u32(c, &ev->arg);
    case EVT_REC_REQ_BEGIN: case EVT_REC_REQ_PHASE:
        return rd_var(c, &ev->val) && rd_u32(c, &ev->id);
    case EVT_REC_REQ_END:
        return rd_var(c, &ev->val) && rd_u32(c, &ev->arg);
    case EVT_REC_MARK: case EVT_REC_COUNTER:
        if (!rd_u32(c, &ev->id) || !rd_var(c, &x))
            return 0;
        ev->val = (uint64_t)evt__unzigzag(x);
        return 1;
    case EVT_REC_LOST:
        return rd_var(c, &ev->val) && rd_var(c, &ev->val2);
    case EVT_REC_WATCHER:
        return rd_u32(c, &ev->id) && rd_u8(c, &ev->kind) && rd_i32(c, &ev->arg) &&
               rd_var(c, &ev->val) && ev->val <= UINT32_MAX && rd_var(c, &ev->val2) &&
               ev->val2 <= UINT32_MAX;
    case EVT_REC_STRING:
        return rd_u32(c, &ev->id);
    case EVT_REC_PROCESS:
        return rd_var(c, &ev->val) && rd_u32(c, &ev->id);
    case EVT_REC_THREAD:
        return rd_u32(c, &ev->thread) && rd_u32(c, &ev->arg) && rd_u32(c, &ev->id);
    case EVT_REC_CLOCK:
        return rd_u8(c, &ev->kind) && rd_var(c, &ev->val) && rd_var(c, &ev->val2) &&
               rd_var(c, &ignored);
    default:
        return 2;
    }
}

/* ---- errors ------------------------------------------------------------ */

static int fail(evt_reader *r, int code, uint64_t off, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->error, sizeof r->error, fmt, ap);
    va_end(ap);
    r->error_off = off;
    return code;
}

/* ---- strings ----------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid. Follows
 * RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF. */
static size_t utf8_seq(const uint8_t *s, size_t n)
{
    uint8_t c = s[0];
    if (c >= 0x01 && c < 0x80)
        return 1;
    size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
    if (len == 0 || c > 0xF4 || n < len)
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    if ((c == 0xE0 && s[1] < 0xA0) || (c == 0xED && s[1] >= 0xA0) ||
        (c == 0xF0 && s[1] < 0x90) || (c == 0xF4 && s[1] >= 0x90))
        return 0;
    return len;
}

static int string_set(evt_reader *r, uint32_t id, const uint8_t *text, size_t n)
{
    if (id >= r->strings_cap) {
        uint32_t cap = r->strings_cap ? r->strings_cap : 64;
        while (cap <= id)
            cap *= 2;
        char **s = realloc(r->strings, cap * sizeof *s);
        if (!s)
            return EVT_ENOMEM;
        memset(s + r->strings_cap, 0, (cap - r->strings_cap) * sizeof *s);
        r->strings = s;
        r->strings_cap = cap;
    }
    char *copy = malloc(n + 1);
    if (!copy)
        return EVT_ENOMEM;
    for (size_t i = 0; i < n;) {
        size_t k = utf8_seq(text + i, n - i);
        if (k == 0) {
            copy[i++] = '?';
            continue;
        }
        memcpy(copy + i, text + i, k);
        i += k;
    }
    copy[n] = '\0';
    free(r->strings[id]);
    r->strings[id] = copy;
    return 0;
}

/* ---- chunks ------------------------------------------------------------ */

static struct evt_event *scratch_slot(evt_reader *r, size_t n)
{
    if (n == r->scratch_cap) {
        size_t cap = r->scratch_cap ? r->scratch_cap * 2 : 4096;
        struct evt_event *s = realloc(r->scratch, cap * sizeof *s);
        if (!s)
            return NULL;
        r->scratch = s;
        r->scratch_cap = cap;
    }
    return &r->scratch[n];
}

/* Decodes one record at c->p into ev. Returns 1 (delivered), 2 (skipped:
 * unknown type) or a negative error (message set). */
static int decode_record(evt_reader *r, struct cursor *c, uint64_t *ts, size_t base,
                         const uint8_t *payload, struct evt_event *ev)
{
    size_t off = base + (size_t)(c->p - payload);
    uint8_t type = *c->p++;
    uint64_t len, dt;
    if (!rd_var(c, &len) || len > (uint64_t)(c->end - c->p))
        return fail(r, EVT_EFORMAT, off, "offset %zu: record type 0x%02x overruns its chunk", off, type);
    struct cursor body = { c->p, c->p + len };
    c->p += len;
    if (!rd_var(&body, &dt))
        return fail(r, EVT_EFORMAT, off, "offset %zu: record type 0x%02x has no timestamp", off, type);
    *ts += dt;
    ev->ts = *ts;
    ev->val = ev->val2 = 0;
    ev->id = ev->arg = 0;
    ev->type = type;
    ev->kind = 0;
    ev->pad_ = 0;
    int rc = decode_fields(&body, type, ev);
    if (rc == 0)
        return fail(r, EVT_EFORMAT, off, "offset %zu: record type 0x%02x: fields overrun its length or are out of range",
                    off, type);
    if (type == EVT_REC_STRING) {
        if (ev->id > EVT_MAX_STRING_ID)
            return fail(r, EVT_EFORMAT, off, "offset %zu: string id %u too large", off, ev->id);
        ev->val = (uint64_t)(body.p - r->chunk); /* the text, until delivery */
        ev->val2 = (uint64_t)(body.end - body.p);
    }
    return rc;
}

/* Phase 1: decodes a whole payload into r->scratch; returns the record
 * count or a negative error. */
static long decode_payload(evt_reader *r, size_t base, const uint8_t *payload, uint32_t size,
                           uint32_t thread, uint64_t first_ts)
{
    struct cursor c = { payload, payload + size };
    uint64_t ts = first_ts;
    size_t n = 0;
    while (c.p < c.end) {
        struct evt_event *ev = scratch_slot(r, n);
        if (!ev)
            return EVT_ENOMEM;
        ev->thread = thread;
        int rc = decode_record(r, &c, &ts, base, payload, ev);
        if (rc < 0)
            return rc;
        n += rc == 1;
    }
    return (long)n;
}

/* Phase 2a: the chunk's strings go into the table before any of its
 * records is delivered; returns the chunk's event count or an error. */
static long intern_strings(evt_reader *r, size_t n)
{
    long events = 0;
    for (size_t i = 0; i < n; i++) {
        struct evt_event *ev = &r->scratch[i];
        if (ev->type == EVT_REC_STRING) {
            int rc = string_set(r, ev->id, r->chunk + ev->val, (size_t)ev->val2);
            if (rc < 0)
                return fail(r, rc, r->offset, "out of memory");
            ev->val = ev->val2 = 0;
        }
        events += evt_reader_is_event(ev->type);
    }
    return events;
}

/* Phase 2b: hands the decoded records to fn, one by one. */
static int deliver(evt_reader *r, size_t n, evt_event_fn fn, void *ctx)
{
    for (size_t i = 0; i < n; i++) {
        const struct evt_event *ev = &r->scratch[i];
        r->events += evt_reader_is_event(ev->type);
        int rc = fn(ctx, ev);
        if (rc)
            return rc;
    }
    return 0;
}

/* n bytes of the trace from off into *p: 0, or EVT_ETRUNC when fewer are
 * there (*got says how many: the trace ends, or the file was cut since it
 * was opened), EVT_ENOMEM, or a negative errno from the read. A file's
 * bytes are read into r->buf, replacing the last chunk's. */
static int bytes_at(evt_reader *r, size_t off, size_t n, const uint8_t **p, size_t *got)
{
    size_t want = r->len - off < n ? r->len - off : n, done = 0;
    if (r->data) {
        *p = r->data + off;
        *got = want;
        return want == n ? 0 : EVT_ETRUNC;
    }
    if (want > r->buf_cap) {
        size_t cap = want < 2 * r->buf_cap ? 2 * r->buf_cap : want;
        uint8_t *nb = realloc(r->buf, cap);
        if (!nb)
            return EVT_ENOMEM;
        r->buf = nb;
        r->buf_cap = cap;
    }
    while (done < want) {
        ssize_t k = pread(r->fd, r->buf + done, want - done, (off_t)(off + done));
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return errno ? -errno : EVT_EIO;
        if (k == 0)
            break;
        done += (size_t)k;
    }
    *p = r->buf;
    *got = done;
    return done == n ? 0 : EVT_ETRUNC;
}

/* bytes_at for the chunk at off, with the walk's messages. */
static int chunk_bytes(evt_reader *r, size_t off, size_t n, const uint8_t **p)
{
    size_t got = 0;
    int rc = bytes_at(r, off, n, p, &got);
    if (rc == EVT_ETRUNC && n == EVT_CHUNK_HEADER_SIZE)
        return fail(r, rc, off, "truncated: chunk header at offset %zu needs %d bytes, %zu remain", off,
                    EVT_CHUNK_HEADER_SIZE, got);
    if (rc == EVT_ETRUNC)
        return fail(r, rc, off, "truncated: chunk at offset %zu needs %zu bytes, %zu remain", off, n, got);
    if (rc < 0)
        return fail(r, rc, off, "offset %zu: %s", off, rc == EVT_ENOMEM ? "out of memory" : evt_strerror(rc));
    return 0;
}

/* Reads and checks the chunk at off (header and payload) into r->chunk.
 * Returns the payload size or a negative error (message set). */
static long check_chunk(evt_reader *r, size_t off)
{
    const uint8_t *h;
    int rc = chunk_bytes(r, off, EVT_CHUNK_HEADER_SIZE, &h);
    if (rc < 0)
        return rc;
    uint32_t magic = evt__get_u32(h), size = evt__get_u32(h + 4);
    if (magic != EVT_CHUNK_MAGIC)
        return fail(r, EVT_EFORMAT, off, "offset %zu: bad chunk magic 0x%08x", off, magic);
    if (size > EVT_CHUNK_MAX_PAYLOAD)
        return fail(r, EVT_EFORMAT, off, "offset %zu: chunk payload of %u bytes exceeds the limit of %u", off, size,
                    EVT_CHUNK_MAX_PAYLOAD);
    rc = chunk_bytes(r, off, EVT_CHUNK_HEADER_SIZE + (size_t)size, &h);
    if (rc < 0)
        return rc;
    uint32_t want = evt__get_u32(h + 12);
    uint32_t got = evt__chunk_crc(h, size);   /* covers size, thread, first_ts and the payload */
    if (want != got)
        return fail(r, EVT_EFORMAT, off, "offset %zu: chunk CRC mismatch (stored %08x, computed %08x)", off, want,
                    got);
    r->chunk = h;
    return (long)size;
}

/* The walk behind both evt_reader_each and evt_reader_each_batch. */
static int walk(evt_reader *r, evt_event_fn fn, evt_batch_fn batch, void *ctx)
{
    r->events = 0;
    r->error[0] = '\0';
    r->error_off = 0;
    size_t off = r->header_size;
    while (off < r->len) {
        long size = check_chunk(r, off);
        if (size < 0)
            return (int)size;
        const uint8_t *h = r->chunk;
        long n = decode_payload(r, off + EVT_CHUNK_HEADER_SIZE, h + EVT_CHUNK_HEADER_SIZE, (uint32_t)size,
                                evt__get_u32(h + 8), evt__get_u64(h + 16));
        if (n < 0)
            return (int)n;
        off += EVT_CHUNK_HEADER_SIZE + (size_t)size;
        r->offset = off;
        long events = intern_strings(r, (size_t)n);
        if (events < 0)
            return (int)events;
        int rc;
        if (batch) {
            r->events += (uint64_t)events;
            rc = n ? batch(ctx, r->scratch, (size_t)n) : 0;
        } else {
            rc = deliver(r, (size_t)n, fn, ctx);
        }
        if (rc)
            return rc;
    }
    return 0;
}

int evt_reader_each(evt_reader *r, evt_event_fn fn, void *ctx) { return walk(r, fn, NULL, ctx); }

int evt_reader_each_batch(evt_reader *r, evt_batch_fn fn, void *ctx) { return walk(r, NULL, fn, ctx); }

/* ---- open/close -------------------------------------------------------- */

/* Writes a one-line reason to msg (if the caller wants one); returns code. */
static int header_fail(char *msg, size_t cap, int code, const char *fmt, ...)
{
    if (msg && cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, cap, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* Checks the file header. A file cut inside it is EVT_ETRUNC; anything
 * else wrong, including a header CRC mismatch (a damaged pid, flags or
 * start_ns, which nothing else would notice), is EVT_EFORMAT: the file
 * cannot be opened, since a reader could not trust where chunks begin. */
static int check_header(const uint8_t *d, size_t len, char *msg, size_t cap)
{
    size_t k = len < EVT_FILE_MAGIC_LEN ? len : EVT_FILE_MAGIC_LEN;
    if (len == 0 || memcmp(d, EVT_FILE_MAGIC, k) != 0)
        return header_fail(msg, cap, EVT_EFORMAT, "not an evtrace file (bad magic)");
    if (len < EVT_FILE_HEADER_SIZE)
        return header_fail(msg, cap, EVT_ETRUNC, "truncated: the file header needs %d bytes, %zu present",
                           EVT_FILE_HEADER_SIZE, len);
    if (evt__get_u16(d + 8) != EVT_VERSION_MAJOR)
        return header_fail(msg, cap, EVT_EVERSION, "format version %u.%u, this reader reads %u.x",
                           evt__get_u16(d + 8), evt__get_u16(d + 10), EVT_VERSION_MAJOR);
    uint32_t hsize = evt__get_u32(d + 12);
    if (hsize < EVT_FILE_HEADER_SIZE || hsize > EVT_FILE_HEADER_MAX)
        return header_fail(msg, cap, EVT_EFORMAT, "damaged file header: header_size %u out of range", hsize);
    if (hsize > len)
        return header_fail(msg, cap, EVT_ETRUNC, "truncated: the file header needs %u bytes, %zu present", hsize,
                           len);
    uint32_t want = evt__get_u32(d + EVT_FILE_HEADER_CRC_OFF), got = evt__file_header_crc(d, hsize);
    if (want != got)
        return header_fail(msg, cap, EVT_EFORMAT, "damaged file header: CRC mismatch (stored %08x, computed %08x)",
                           want, got);
    return 0;
}

/* A reader of the trace whose first len bytes of header (at least its
 * header_size) are head, the header checked; data or fd says where the
 * rest is. */
static int reader_new(evt_reader **out, const uint8_t *head, const uint8_t *data, int fd, size_t len, char *msg,
                      size_t cap)
{
    evt_reader *r = calloc(1, sizeof *r);
    if (!r)
        return header_fail(msg, cap, EVT_ENOMEM, "out of memory");
    r->data = data;
    r->fd = fd;
    r->len = len;
    r->header_size = evt__get_u32(head + 12);
    r->pid = evt__get_u32(head + 16);
    r->flags = evt__get_u32(head + 20);
    r->start_ns = evt__get_u64(head + 24);
    r->offset = r->header_size;
    *out = r;
    return 0;
}

int evt_reader_open_mem_msg(evt_reader **out, const void *data, size_t len, char *msg, size_t cap)
{
    *out = NULL;
    if (msg && cap)
        msg[0] = '\0';
    int rc = check_header(data, len, msg, cap);
    return rc < 0 ? rc : reader_new(out, data, data, -1, len, msg, cap);
}

int evt_reader_open_mem(evt_reader **out, const void *data, size_t len)
{
    return evt_reader_open_mem_msg(out, data, len, NULL, 0);
}

/* Opens the file at path and checks that it is a regular one; returns the
 * fd (its size in *size) or a negative errno-style error. */
static int open_file(const char *path, size_t *size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct stat st;
    int rc = 0;
    if (fstat(fd, &st) < 0)
        rc = -errno;
    else if (S_ISDIR(st.st_mode))
        rc = -EISDIR;
    else if (!S_ISREG(st.st_mode))
        rc = EVT_EINVAL;
    if (rc < 0) {
        close(fd);
        return rc;
    }
    *size = (size_t)st.st_size;
    return fd;
}

int evt_reader_open_msg(evt_reader **out, const char *path, char *msg, size_t cap)
{
    *out = NULL;
    if (msg && cap)
        msg[0] = '\0';
    size_t len = 0;
    int fd = open_file(path, &len);
    if (fd < 0)
        return header_fail(msg, cap, fd, "%s", evt_strerror(fd));
    uint8_t head[EVT_FILE_HEADER_MAX];
    ssize_t n = pread(fd, head, len < sizeof head ? len : sizeof head, 0);
    int rc = n < 0 ? header_fail(msg, cap, -errno, "%s", strerror(errno)) : check_header(head, (size_t)n, msg, cap);
    if (rc == 0)
        rc = reader_new(out, head, NULL, fd, len, msg, cap);
    if (rc < 0)
        close(fd);
    else
        posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    return rc;
}

int evt_reader_open(evt_reader **out, const char *path) { return evt_reader_open_msg(out, path, NULL, 0); }

int evt_same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

void evt_reader_close(evt_reader *r)
{
    if (!r)
        return;
    if (r->fd >= 0)
        close(r->fd);
    free(r->buf);
    for (uint32_t i = 0; i < r->strings_cap; i++)
        free(r->strings[i]);
    free(r->strings);
    free(r->scratch);
    free(r);
}

/* ---- accessors --------------------------------------------------------- */

const char *evt_reader_error(const evt_reader *r) { return r->error; }
uint64_t evt_reader_error_offset(const evt_reader *r) { return r->error_off; }
uint32_t evt_reader_pid(const evt_reader *r) { return r->pid; }
uint64_t evt_reader_start_ns(const evt_reader *r) { return r->start_ns; }
uint32_t evt_reader_flags(const evt_reader *r) { return r->flags; }
size_t evt_reader_size(const evt_reader *r) { return r->len; }
uint64_t evt_reader_events(const evt_reader *r) { return r->events; }
size_t evt_reader_offset(const evt_reader *r) { return r->offset; }

const char *evt_reader_string(const evt_reader *r, uint32_t id)
{
    return id < r->strings_cap ? r->strings[id] : NULL;
}

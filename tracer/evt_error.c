/* evt_error.c -- names for the error codes of evtrace.h. */
#include <string.h>

#include "evtrace.h"

const char *evt_strerror(int err)
{
    switch (err) {
    case EVT_OK: return "success";
    case EVT_EFORMAT: return "not an evtrace file, or damaged data";
    case EVT_EVERSION: return "unsupported evtrace format version";
    case EVT_ETRUNC: return "trace ends inside a chunk (truncated)";
    case EVT_EBUSY: return "a tracer is already open in this process";
    default: break;
    }
    /* The others are negative errno values: let libc name them. */
    return err < 0 ? strerror(-err) : "unknown error";
}

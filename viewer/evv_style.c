/* evv_style.c -- palettes (see evv_style.h). */
#include <string.h>

#include "evv_style.h"

struct evv__named {
    const char *name;
    uint32_t rgb;
};

/* Fixed phase colours: ordered like a request's life, from cool to warm. */
static const struct evv__named evv__phases[] = {
    { "accept", 0x9467BDu },   /* purple */
    { "read", 0x1F77B4u },     /* blue */
    { "parse", 0x6BAED6u },    /* light blue */
    { "process", 0x2CA02Cu },  /* green */
    { "handle", 0x2CA02Cu },
    { "wait", 0xFFBB78u },     /* light orange: not running, waiting */
    { "queue", 0xFFBB78u },
    { "db", 0xBCBD22u },       /* olive */
    { "query", 0xBCBD22u },
    { "respond", 0x17BECFu },  /* cyan */
    { "write", 0x17BECFu },
    { "close", 0x7F7F7Fu },    /* grey */
};

/* Spare colours for other phase names: no red (stalls), none too light. */
static const uint32_t evv__spare[] = {
    0x4E79A7u, 0xF28E2Bu, 0x59A14Fu, 0xB07AA1u, 0x76B7B2u, 0xEDC948u,
    0x9C755Fu, 0xFF9DA7u, 0x8CD17Du, 0x499894u, 0xD37295u, 0x86BCB6u,
};

/* Watchers: browns, violets, slates and mustard that the phase colours
 * above do not use, so a callback block is not mistaken for a phase. */
static const uint32_t evv__watcher[] = {
    0x8C564Bu, 0xE377C2u, 0x6A3D9Au, 0xB59A00u, 0x4B6A88u, 0x2F8F6Fu,
    0xC0587Eu, 0x7A7A2Au, 0x5C4033u, 0x9E7BB5u, 0x3E5C76u, 0xA0522Du,
};

#define EVV__N(a) (sizeof a / sizeof *a)

static uint32_t evv__hash(const char *s)
{
    uint32_t h = 2166136261u;   /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

static uint32_t evv__spare_rgb(const char *name)
{
    return evv__spare[evv__hash(name ? name : "") % EVV__N(evv__spare)];
}

uint32_t evv_phase_rgb(const char *name)
{
    if (!name || !*name)
        return EVV_RGB_NOPHASE;
    for (size_t i = 0; i < sizeof evv__phases / sizeof *evv__phases; i++)
        if (strcmp(evv__phases[i].name, name) == 0)
            return evv__phases[i].rgb;
    return evv__spare_rgb(name);
}

size_t evv_watcher_slot(const char *name)
{
    return evv__hash(name ? name : "") % EVV__N(evv__watcher);
}

uint32_t evv_watcher_slot_rgb(size_t slot)
{
    return evv__watcher[slot % EVV__N(evv__watcher)];
}

size_t evv_watcher_slots(void)
{
    return EVV__N(evv__watcher);
}

uint32_t evv_text_on(uint32_t bg)
{
    unsigned r = bg >> 16 & 0xff, g = bg >> 8 & 0xff, b = bg & 0xff;
    return (299 * r + 587 * g + 114 * b) / 1000 > 150 ? 0x111111u : 0xFFFFFFu;
}

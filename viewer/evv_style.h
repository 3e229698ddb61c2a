/* evv_style.h -- colours and sizes: one place, so the legend, the lanes
 * and the tests agree on what "the read phase" looks like.
 *
 * Colours are 0xRRGGBB. Phase colours are fixed for the usual phase names
 * (accept, read, process, wait, respond/write, close) so two traces look
 * alike; any other name gets a colour from a spare palette by a hash of
 * its text, which is stable across runs and files. Watchers are coloured
 * the same way by name. Red is kept for stalls, so no palette uses it.
 */
#ifndef EVV_STYLE_H
#define EVV_STYLE_H

#include <stdint.h>

#define EVV_RGB_BG          0xFFFFFFu   /* plot background, nothing there */
#define EVV_RGB_LANE_ALT    0xF6F7F9u   /* every other lane */
#define EVV_RGB_GUTTER      0xECEFF3u   /* lane titles on the left */
#define EVV_RGB_TEXT        0x1E1E1Eu
#define EVV_RGB_TEXT_DIM    0x5A6270u
#define EVV_RGB_GRID        0xE2E5EAu
#define EVV_RGB_IDLE        0xDCE8F4u   /* blocked in poll */
#define EVV_RGB_IDLE_HATCH  0xA9C1DAu
#define EVV_RGB_MANY        0x7C8DA3u   /* merged blocks narrower than a pixel */
#define EVV_RGB_STALL       0xD62728u
#define EVV_RGB_LOST        0x4A1010u
#define EVV_RGB_CONC        0x5B8DB8u
#define EVV_RGB_SELECT      0x111111u
#define EVV_RGB_NOPHASE     0xBFC5CEu   /* a request before its first phase */
#define EVV_RGB_BANNER      0xFFE08Au
#define EVV_RGB_MARK        0x222222u   /* a mark: tick on its thread's loop lane */
#define EVV_RGB_COUNTER     0x2F7F5Fu   /* a counter's value line */
#define EVV_RGB_COUNTER_FILL 0xD3E9DEu  /* ... and the area under it */
#define EVV_RGB_SECTION     0xD5DCE5u   /* a file's title strip (several files) */

/* Colour of a request phase by name. */
uint32_t evv_phase_rgb(const char *name);

/* Watcher colours come from a palette of evv_watcher_slots() entries; a
 * name's preferred slot is a hash of it. The scene resolves collisions
 * between the watchers of one trace (evv_scene_watcher_rgb). */
size_t evv_watcher_slot(const char *name);
uint32_t evv_watcher_slot_rgb(size_t slot);
size_t evv_watcher_slots(void);

/* Black or white, whichever reads better on bg. */
uint32_t evv_text_on(uint32_t bg);

#endif /* EVV_STYLE_H */

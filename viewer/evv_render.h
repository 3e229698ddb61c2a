/* evv_render.h -- draw one frame: the same function for the window and
 * for PNG export.
 *
 * evv_draw() reads the scene, the viewport and the interaction state and
 * paints the whole frame onto whatever SDL_Renderer the target holds: a
 * window's (accelerated or not) or a software renderer on a surface for
 * headless export. It never changes the viewport or the selection. The
 * target owns what drawing caches (glyph textures, the hatch pattern),
 * which belong to that renderer.
 */
#ifndef EVV_RENDER_H
#define EVV_RENDER_H

#include <SDL.h>

#include "evv_input.h"
#include "evv_scene.h"
#include "evv_text.h"
#include "evv_viewport.h"

struct evv_target {
    SDL_Renderer *r;
    evv_text *text;
    SDL_Texture *hatch;      /* white diagonal lines on transparent, tinted per use */
};

/* Prepares fonts and textures for r. Returns 0, or a negative EVT_E* with
 * a one-line message in err. */
int evv_target_init(struct evv_target *t, SDL_Renderer *r, char *err, size_t errlen);
void evv_target_free(struct evv_target *t);

/* One frame of scene s as seen through vp (its width is taken from the
 * renderer's output size), with hover/selection from ui (NULL: none). */
void evv_draw(struct evv_target *t, const struct evv_scene *s, const struct evv_viewport *vp,
              const struct evv_ui *ui);

/* The loading screen: file name and a progress bar (fraction 0..1). */
void evv_draw_progress(struct evv_target *t, const char *file, double fraction);

#endif /* EVV_RENDER_H */

/* evv_export.h -- headless PNG export through the window's draw function.
 *
 * No display is needed: the frame is drawn by a software renderer onto an
 * RGBA surface (SDL_CreateSoftwareRenderer needs no video subsystem) and
 * saved with IMG_SavePNG. Tests use evv_export_surface() to read pixels of
 * exactly what the PNG would contain.
 */
#ifndef EVV_EXPORT_H
#define EVV_EXPORT_H

#include <SDL.h>

#include "evv_input.h"
#include "evv_scene.h"
#include "evv_viewport.h"

/* Draws scene s through vp (its t0/t1 are kept, width set to the plot)
 * onto a new w x h ARGB8888 surface; ui may be NULL. Returns the surface
 * (caller frees with SDL_FreeSurface) or NULL with a message in err. */
SDL_Surface *evv_export_surface(const struct evv_scene *s, const struct evv_viewport *vp,
                                const struct evv_ui *ui, int w, int h, char *err, size_t errlen);

/* Same, saved as a PNG file. Returns 0 or a negative EVT_E* with err set. */
int evv_export_png(const struct evv_scene *s, const struct evv_viewport *vp, int w, int h,
                   const char *path, char *err, size_t errlen);

/* The viewport a w-pixel-wide export of [t0, t1] uses (plot width from the
 * layout), so callers can map times to PNG pixels. */
void evv_export_viewport(struct evv_viewport *vp, const struct evv_scene *s, int w, int h,
                         double t0, double t1);

#endif /* EVV_EXPORT_H */

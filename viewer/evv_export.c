/* evv_export.c -- software-rendered frames and PNG files (see evv_export.h). */
#include <SDL_image.h>
#include <stdio.h>

#include "evtrace.h"
#include "evv_export.h"
#include "evv_geom.h"
#include "evv_render.h"

SDL_Surface *evv_export_surface(const struct evv_scene *s, const struct evv_viewport *vp,
                                const struct evv_ui *ui, int w, int h, char *err, size_t errlen)
{
    struct evv_target tgt;
    SDL_Surface *surf = SDL_CreateRGBSurfaceWithFormat(0, w, h, 32, SDL_PIXELFORMAT_ARGB8888);
    SDL_Renderer *r = surf ? SDL_CreateSoftwareRenderer(surf) : NULL;
    if (!r) {
        snprintf(err, errlen, "cannot create a %dx%d software renderer: %s", w, h, SDL_GetError());
        SDL_FreeSurface(surf);
        return NULL;
    }
    if (evv_target_init(&tgt, r, err, errlen) < 0) {
        SDL_DestroyRenderer(r);
        SDL_FreeSurface(surf);
        return NULL;
    }
    evv_draw(&tgt, s, vp, ui);
    SDL_RenderPresent(r);
    evv_target_free(&tgt);
    SDL_DestroyRenderer(r);
    return surf;
}

int evv_export_png(const struct evv_scene *s, const struct evv_viewport *vp, int w, int h,
                   const char *path, char *err, size_t errlen)
{
    SDL_Surface *surf = evv_export_surface(s, vp, NULL, w, h, err, errlen);
    if (!surf)
        return EVT_ENOMEM;
    int rc = IMG_SavePNG(surf, path);
    if (rc < 0)
        snprintf(err, errlen, "%s: %s", path, IMG_GetError());
    SDL_FreeSurface(surf);
    return rc < 0 ? EVT_EIO : 0;
}

void evv_export_viewport(struct evv_viewport *vp, const struct evv_scene *s, int w, int h,
                         double t0, double t1)
{
    struct evv_geom g;
    evv_geom_layout(&g, s, w, h, 0);
    evv_viewport_set(vp, t0, t1, g.plot.w);
}

/* png_diff.c -- see png_diff.h. */
#include "png_diff.h"

#include <SDL_image.h>

uint32_t pd_px(const SDL_Surface *s, int x, int y)
{
    const uint8_t *row = (const uint8_t *)s->pixels + y * s->pitch;
    return ((const uint32_t *)row)[x] & 0xFFFFFFu;
}

SDL_Surface *pd_load(const char *path)
{
    SDL_Surface *raw = IMG_Load(path);
    SDL_Surface *s = raw ? SDL_ConvertSurfaceFormat(raw, SDL_PIXELFORMAT_ARGB8888, 0) : NULL;
    SDL_FreeSurface(raw);
    return s;
}

size_t pd_diff(const SDL_Surface *a, const SDL_Surface *b)
{
    if (a->w != b->w || a->h != b->h)
        return SIZE_MAX;
    size_t n = 0;
    for (int y = 0; y < a->h; y++)
        for (int x = 0; x < a->w; x++)
            n += pd_px(a, x, y) != pd_px(b, x, y);
    return n;
}

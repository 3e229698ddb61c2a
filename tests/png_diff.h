/* png_diff.h -- comparing a PNG written by evview with a drawing made in
 * the test, pixel for pixel (the viewer tests' shared helper). */
#ifndef PNG_DIFF_H
#define PNG_DIFF_H

#include <SDL.h>
#include <stddef.h>
#include <stdint.h>

/* The pixel at (x, y) of an ARGB8888 surface, alpha dropped. */
uint32_t pd_px(const SDL_Surface *s, int x, int y);

/* The PNG at path as an ARGB8888 surface (the caller frees it), or NULL. */
SDL_Surface *pd_load(const char *path);

/* How many pixels of a and b differ; SIZE_MAX if their sizes differ. */
size_t pd_diff(const SDL_Surface *a, const SDL_Surface *b);

#endif

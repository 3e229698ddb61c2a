/* evv_text.h -- text on an SDL_Renderer: DejaVu Sans via fontconfig,
 * through SDL2_ttf, with a glyph cache.
 *
 * A frame draws hundreds of short labels (ticks, bar names, tooltips);
 * rasterising each string every frame would dominate the frame time, and
 * caching whole strings grows without bound while panning. So each glyph
 * is rendered once per font, white, into its own texture, and a string is
 * a row of SDL_RenderCopy calls tinted with SDL_SetTextureColorMod.
 * Limits: Latin-1 plus a few symbols (… ≥ – — arrows); other code points show as
 * '?'; no kerning (DejaVu Sans reads fine without it).
 *
 * Textures belong to the renderer they were made for: one evv_text per
 * renderer, closed before it.
 */
#ifndef EVV_TEXT_H
#define EVV_TEXT_H

#include <SDL.h>
#include <stdint.h>

enum evv_font { EVV_FONT_NORMAL, EVV_FONT_BOLD, EVV_FONT_SMALL, EVV_FONT_COUNT };

typedef struct evv_text evv_text;

/* Finds the fonts with fontconfig and opens them. Returns 0, or EVT_EIO
 * (message in err) when no DejaVu Sans is installed, or EVT_ENOMEM. */
int evv_text_open(evv_text **out, SDL_Renderer *r, char *err, size_t errlen);
void evv_text_close(evv_text *t);

int evv_text_height(const evv_text *t, enum evv_font f);

/* Width in pixels of the first len bytes of s (len < 0: all of s). */
int evv_text_width(evv_text *t, enum evv_font f, const char *s, int len);

/* Draws s with its top-left at (x, y) in colour rgb; returns the width.
 * With max_w > 0 the text is cut to fit and ends with "…"; if not even
 * one character fits nothing is drawn and 0 is returned. */
int evv_text_draw(evv_text *t, enum evv_font f, const char *s, int x, int y, uint32_t rgb,
                  int max_w);

#endif /* EVV_TEXT_H */

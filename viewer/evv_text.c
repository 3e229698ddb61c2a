/* evv_text.c -- fontconfig lookup, SDL2_ttf glyph cache (see evv_text.h). */
#include <SDL_ttf.h>
#include <fontconfig/fontconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evtrace.h"
#include "evv_text.h"

#define EVV_GLYPHS 264          /* Latin-1 (256) + the extra symbols below */

static const uint32_t evv__extra[] = { 0x2026, 0x2265, 0x2014, 0x2013, 0x2192, 0x2190, 0x2191,
                                       0x2193 };

struct evv__glyph {
    SDL_Texture *tex;   /* NULL until first use */
    int w, h, advance;
    int tried;          /* rendering failed: do not retry every frame */
};

struct evv_text {
    SDL_Renderer *r;
    TTF_Font *font[EVV_FONT_COUNT];
    struct evv__glyph glyph[EVV_FONT_COUNT][EVV_GLYPHS];
};

/* The file of the best match for a fontconfig pattern such as "DejaVu Sans:bold". */
static int evv__font_file(FcConfig *cfg, const char *pattern, char *out, size_t len)
{
    FcPattern *pat = FcNameParse((const FcChar8 *)pattern), *match = NULL;
    FcResult res = FcResultNoMatch;
    FcChar8 *file = NULL;
    int ok = 0;
    if (pat) {
        FcConfigSubstitute(cfg, pat, FcMatchPattern);
        FcDefaultSubstitute(pat);
        match = FcFontMatch(cfg, pat, &res);
    }
    if (match && FcPatternGetString(match, FC_FILE, 0, &file) == FcResultMatch) {
        snprintf(out, len, "%s", (const char *)file);
        ok = 1;
    }
    if (match)
        FcPatternDestroy(match);
    if (pat)
        FcPatternDestroy(pat);
    return ok;
}

/* One fontconfig configuration for all fonts: loading it scans the font
 * directories, the slow part of opening a window. */
static int evv__open_fonts(evv_text *t, char *err, size_t errlen)
{
    static const char *const pat[EVV_FONT_COUNT] = { "DejaVu Sans", "DejaVu Sans:bold",
                                                     "DejaVu Sans" };
    static const int size[EVV_FONT_COUNT] = { 12, 12, 10 };
    FcConfig *cfg = FcInitLoadConfigAndFonts();
    int rc = 0;
    for (int f = 0; f < EVV_FONT_COUNT && rc == 0; f++) {
        char path[1024];
        if (!cfg || !evv__font_file(cfg, pat[f], path, sizeof path)) {
            snprintf(err, errlen, "font \"%s\" not found by fontconfig (apt-get install fonts-dejavu-core)", pat[f]);
            rc = EVT_EIO;
        } else if (!(t->font[f] = TTF_OpenFont(path, size[f]))) {
            snprintf(err, errlen, "%s: %s", path, TTF_GetError());
            rc = EVT_EIO;
        } else {
            TTF_SetFontHinting(t->font[f], TTF_HINTING_LIGHT);
        }
    }
    if (cfg)
        FcConfigDestroy(cfg);
    return rc;
}

int evv_text_open(evv_text **out, SDL_Renderer *r, char *err, size_t errlen)
{
    evv_text *t = calloc(1, sizeof *t);
    *out = NULL;
    if (!t)
        return EVT_ENOMEM;
    if (TTF_Init() < 0) {   /* reference counted by SDL2_ttf */
        snprintf(err, errlen, "TTF_Init: %s", TTF_GetError());
        free(t);
        return EVT_EIO;
    }
    t->r = r;
    int rc = evv__open_fonts(t, err, errlen);
    if (rc < 0) {
        evv_text_close(t);
        return rc;
    }
    *out = t;
    return 0;
}

void evv_text_close(evv_text *t)
{
    if (!t)
        return;
    for (int f = 0; f < EVV_FONT_COUNT; f++) {
        for (int g = 0; g < EVV_GLYPHS; g++)
            if (t->glyph[f][g].tex)
                SDL_DestroyTexture(t->glyph[f][g].tex);
        if (t->font[f])
            TTF_CloseFont(t->font[f]);
    }
    TTF_Quit();
    free(t);
}

int evv_text_height(const evv_text *t, enum evv_font f)
{
    return TTF_FontHeight(t->font[f]);
}

/* Next code point of UTF-8 text (invalid bytes read as '?'); advances *s. */
static uint32_t evv__next_cp(const char **s, const char *end)
{
    const unsigned char *p = (const unsigned char *)*s;
    int n = p[0] < 0x80 ? 1 : (p[0] & 0xE0) == 0xC0 ? 2 : (p[0] & 0xF0) == 0xE0 ? 3 : (p[0] & 0xF8) == 0xF0 ? 4 : 0;
    if (n == 0 || (const char *)p + n > end) {
        *s += 1;
        return '?';
    }
    uint32_t cp = n == 1 ? p[0] : p[0] & (0x7F >> n);
    for (int i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80) {
            *s += 1;
            return '?';
        }
        cp = cp << 6 | (p[i] & 0x3F);
    }
    *s += n;
    return cp;
}

static int evv__slot(uint32_t cp)
{
    if (cp < 256)
        return cp < 32 ? '?' : (int)cp;
    for (size_t i = 0; i < sizeof evv__extra / sizeof *evv__extra; i++)
        if (evv__extra[i] == cp)
            return 256 + (int)i;
    return '?';
}

static uint32_t evv__slot_cp(int slot)
{
    return slot < 256 ? (uint32_t)slot : evv__extra[slot - 256];
}

static struct evv__glyph *evv__glyph(evv_text *t, enum evv_font f, int slot)
{
    struct evv__glyph *g = &t->glyph[f][slot];
    if (g->tex || g->tried)
        return g;
    g->tried = 1;
    int minx, maxx, miny, maxy;
    uint32_t cp = evv__slot_cp(slot);
    if (TTF_GlyphMetrics32(t->font[f], cp, &minx, &maxx, &miny, &maxy, &g->advance) < 0)
        return g;
    SDL_Color white = { 255, 255, 255, 255 };
    SDL_Surface *surf = TTF_RenderGlyph32_Blended(t->font[f], cp, white);
    if (!surf)
        return g;
    g->w = surf->w, g->h = surf->h;
    g->tex = SDL_CreateTextureFromSurface(t->r, surf);
    SDL_FreeSurface(surf);
    if (g->tex)
        SDL_SetTextureBlendMode(g->tex, SDL_BLENDMODE_BLEND);
    return g;
}

int evv_text_width(evv_text *t, enum evv_font f, const char *s, int len)
{
    const char *end = s + (len < 0 ? (int)strlen(s) : len);
    int w = 0;
    while (s < end)
        w += evv__glyph(t, f, evv__slot(evv__next_cp(&s, end)))->advance;
    return w;
}

/* Bytes of s that fit in max_w pixels together with the ellipsis. */
static int evv__fit(evv_text *t, enum evv_font f, const char *s, int max_w)
{
    int ell = evv_text_width(t, f, "\xe2\x80\xa6", -1), w = 0;
    const char *p = s, *end = s + strlen(s), *last = s;
    while (p < end) {
        const char *q = p;
        int adv = evv__glyph(t, f, evv__slot(evv__next_cp(&q, end)))->advance;
        if (w + adv + ell > max_w)
            break;
        w += adv;
        last = p = q;
    }
    return (int)(last - s);
}

static int evv__draw_run(evv_text *t, enum evv_font f, const char *s, const char *end, int x,
                         int y, uint32_t rgb)
{
    int x0 = x;
    while (s < end) {
        struct evv__glyph *g = evv__glyph(t, f, evv__slot(evv__next_cp(&s, end)));
        if (g->tex) {
            SDL_Rect dst = { x, y, g->w, g->h };
            SDL_SetTextureColorMod(g->tex, rgb >> 16 & 0xff, rgb >> 8 & 0xff, rgb & 0xff);
            SDL_RenderCopy(t->r, g->tex, NULL, &dst);
        }
        x += g->advance;
    }
    return x - x0;
}

int evv_text_draw(evv_text *t, enum evv_font f, const char *s, int x, int y, uint32_t rgb,
                  int max_w)
{
    int len = (int)strlen(s);
    if (max_w <= 0 || evv_text_width(t, f, s, len) <= max_w)
        return evv__draw_run(t, f, s, s + len, x, y, rgb);
    int fit = evv__fit(t, f, s, max_w);
    if (fit == 0)
        return 0;
    int w = evv__draw_run(t, f, s, s + fit, x, y, rgb);
    static const char ellipsis[] = "\xe2\x80\xa6";   /* U+2026 in UTF-8 */
    return w + evv__draw_run(t, f, ellipsis, ellipsis + 3, x + w, y, rgb);
}

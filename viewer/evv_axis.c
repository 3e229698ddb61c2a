/* evv_axis.c -- tick steps and labels (see evv_axis.h). */
#include <math.h>
#include <stdio.h>

#include "evv_axis.h"

double evv_axis_step(double ns_per_px, double min_px)
{
    static const double mant[] = { 1, 2, 5 };
    double want = ns_per_px * min_px;
    double decade = 1;
    if (!(want > 1))
        return 1;
    while (decade * 10 <= want)
        decade *= 10;
    for (;;) {
        for (int i = 0; i < 3; i++)
            if (mant[i] * decade >= want)
                return mant[i] * decade;
        decade *= 10;
    }
}

size_t evv_axis_ticks(const struct evv_viewport *vp, double step, double *out, size_t max)
{
    size_t n = 0;
    double k = ceil(vp->t0 / step);
    for (double t = k * step; t <= vp->t1 && n < max; t = (++k) * step)
        out[n++] = t;
    return n;
}

/* The unit a step is best read in: divisor and name. */
static void evv__unit(double step, double *div, const char **name)
{
    if (step < 1e3) {
        *div = 1, *name = "ns";
    } else if (step < 1e6) {
        *div = 1e3, *name = "\xc2\xb5s";
    } else if (step < 1e9) {
        *div = 1e6, *name = "ms";
    } else {
        *div = 1e9, *name = "s";
    }
}

void evv_axis_label(double t, double step, char *buf, size_t len)
{
    double div;
    const char *unit;
    evv__unit(step * 2, &div, &unit);   /* a 500 µs step reads "0.5 ms", "1.0 ms", "1.5 ms" */
    /* Enough decimals to tell neighbouring ticks apart: a step of 250 µs
     * read in ms needs 2 decimals ("0.25 ms"); 1-2-5 steps need at most
     * one more digit than the step's decade. */
    double s = step / div;
    int dec = 0;
    while (dec < 9 && s * pow(10, dec) + 1e-9 < 1)
        dec++;
    double v = t / div;
    if (fabs(v) < 0.5 * pow(10, -dec))
        v = 0;   /* no "-0" */
    snprintf(buf, len, "%.*f %s", dec, v, unit);
}

void evv_format_duration(double ns, char *buf, size_t len)
{
    double div;
    const char *unit;
    double a = fabs(ns);
    evv__unit(a, &div, &unit);
    if (a / div >= 999.5 && div < 1e9)
        evv__unit(a * 1.001, &div, &unit);   /* 999.7 µs reads "1.00 ms" */
    double v = ns / div;
    if (div == 1)
        snprintf(buf, len, "%.0f %s", v, unit);
    else
        snprintf(buf, len, "%.*f %s", fabs(v) >= 100 ? 0 : fabs(v) >= 10 ? 1 : 2, v, unit);
}


/*
 * aigw: untrusted text made safe to print (see aigw_text.h).
 */


#include <string.h>

#include "aigw_text.h"


static size_t aigw_text_utf8(const unsigned char *p, size_t len,
    unsigned *cp);
static int aigw_text_unsafe(unsigned cp);


size_t
aigw_text_clean(char *dst, size_t max, const char *src, size_t len)
{
    size_t                n, out;
    unsigned              cp;
    const char           *chr;
    const unsigned char  *p, *end;

    p = (const unsigned char *) src;
    end = p + len;
    out = 0;

    while (p < end) {
        n = aigw_text_utf8(p, (size_t) (end - p), &cp);

        if (n == 0 || aigw_text_unsafe(cp)) {
            chr = "?";
            p += n ? n : 1;
            n = 1;

        } else {
            chr = (const char *) p;
            p += n;
        }

        if (out + n > max) {
            memcpy(dst + out, "\xe2\x80\xa6", 3);
            out += 3;
            break;
        }

        memcpy(dst + out, chr, n);
        out += n;
    }

    dst[out] = '\0';

    return out;
}


size_t
aigw_text_width(const char *s)
{
    size_t  n;

    for (n = 0; *s; s++) {
        n += (((unsigned char) *s & 0xc0) != 0x80);
    }

    return n;
}


void
aigw_text_pad(FILE *f, const char *s, size_t width, int right)
{
    size_t  pad;

    pad = aigw_text_width(s);
    pad = (pad < width) ? width - pad : 0;

    if (!right) {
        fputs(s, f);
    }

    while (pad--) {
        fputc(' ', f);
    }

    if (right) {
        fputs(s, f);
    }
}


/*
 * The length of the UTF-8 character at "p" and its code point; 0 when the
 * bytes are not one (a stray continuation byte, an overlong form, a
 * surrogate, beyond U+10FFFF, cut short).
 */

static size_t
aigw_text_utf8(const unsigned char *p, size_t len, unsigned *cp)
{
    size_t    n, i;
    unsigned  c, lo, hi;

    c = p[0];
    lo = 0x80;
    hi = 0xbf;

    if (c < 0x80) {
        *cp = c;
        return 1;
    }

    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        c &= 0x1f;

    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        lo = (c == 0xe0) ? 0xa0 : 0x80;
        hi = (c == 0xed) ? 0x9f : 0xbf;
        c &= 0x0f;

    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        lo = (c == 0xf0) ? 0x90 : 0x80;
        hi = (c == 0xf4) ? 0x8f : 0xbf;
        c &= 0x07;

    } else {
        return 0;
    }

    if (len < n) {
        return 0;
    }

    /* the second byte's range excludes the overlong forms, the
     * surrogates and what is beyond U+10FFFF */

    for (i = 1; i < n; i++) {
        if (p[i] < lo || p[i] > hi) {
            return 0;
        }

        c = (c << 6) | (p[i] & 0x3f);
        lo = 0x80;
        hi = 0xbf;
    }

    *cp = c;

    return n;
}


static int
aigw_text_unsafe(unsigned cp)
{
    return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)
           || cp == 0x061c                      /* arabic letter mark */
           || cp == 0x200e || cp == 0x200f      /* LRM, RLM */
           || (cp >= 0x2028 && cp <= 0x202e)    /* LS, PS, embeddings */
           || (cp >= 0x2066 && cp <= 0x2069);   /* isolates */
}

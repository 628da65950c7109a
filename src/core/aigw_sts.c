
/*
 * aigw: STS's form encoding and the XML extractor of its answers.
 */


#include <string.h>

#include "aigw_sts.h"


static int aigw_xml_find(const char **p, const char **end, const char *name);
static const char *aigw_xml_tag_end(const char *p, const char *end);
static int aigw_xml_name_is(const char *p, const char *end,
    const char *name, size_t name_len, const char **after);
static int aigw_xml_is_space(char c);
static long aigw_xml_decode(const char *p, const char *end, char *buf,
    size_t size);
static size_t aigw_utf8(unsigned long cp, char out[4]);


long
aigw_xml_text(const char *xml, size_t len, const char *const *path,
    size_t npath, char *buf, size_t size)
{
    int          rc;
    size_t       i;
    const char  *p, *end;

    p = xml;
    end = xml + len;

    for (i = 0; i < npath; i++) {
        rc = aigw_xml_find(&p, &end, path[i]);
        if (rc != 0) {
            return rc;
        }
    }

    while (p < end && aigw_xml_is_space(*p)) {
        p++;
    }

    while (end > p && aigw_xml_is_space(end[-1])) {
        end--;
    }

    if (memchr(p, '<', end - p) != NULL) {
        return -1;
    }

    return aigw_xml_decode(p, end, buf, size);
}


/*
 * The first element "name" in [*p, *end), at any depth: its content in
 * [*p, *end).  0, -1 (none), -2 (malformed).
 */

static int
aigw_xml_find(const char **p, const char **end, const char *name)
{
    size_t       name_len;
    unsigned     depth;
    const char  *s, *e, *t, *after, *content;

    s = *p;
    e = *end;
    name_len = strlen(name);

    for ( ;; ) {
        s = memchr(s, '<', e - s);
        if (s == NULL) {
            return -1;
        }

        s++;

        if (s < e && (*s == '/' || *s == '?' || *s == '!')) {
            if (e - s >= 3 && memcmp(s, "!--", 3) == 0) {
                for (t = s + 3; e - t >= 3; t++) {
                    if (memcmp(t, "-->", 3) == 0) {
                        break;
                    }
                }

                if (e - t < 3) {
                    return -2;
                }

                s = t + 3;
                continue;
            }

            t = aigw_xml_tag_end(s, e);
            if (t == NULL) {
                return -2;
            }

            s = t + 1;
            continue;
        }

        t = aigw_xml_tag_end(s, e);
        if (t == NULL) {
            return -2;
        }

        if (!aigw_xml_name_is(s, t, name, name_len, &after)) {
            /* another element: look inside it */
            s = t + 1;
            continue;
        }

        if (t[-1] == '/') {
            /* <Name/> */
            *p = t;
            *end = t;
            return 0;
        }

        content = t + 1;

        /* its end tag, past elements of the same name inside it */
        depth = 1;
        s = content;

        for ( ;; ) {
            s = memchr(s, '<', e - s);
            if (s == NULL) {
                return -2;
            }

            s++;
            t = aigw_xml_tag_end(s, e);
            if (t == NULL) {
                return -2;
            }

            if (*s == '/') {
                if (aigw_xml_name_is(s + 1, t, name, name_len, &after)) {
                    if (--depth == 0) {
                        *p = content;
                        *end = s - 1;
                        return 0;
                    }
                }

            } else if (t[-1] != '/'
                       && aigw_xml_name_is(s, t, name, name_len, &after))
            {
                if (++depth > 64) {
                    return -2;
                }
            }

            s = t + 1;
        }
    }
}


/* the '>' ending the tag that starts at "p", outside quoted values */
static const char *
aigw_xml_tag_end(const char *p, const char *end)
{
    char  q;

    q = 0;

    for ( /* void */ ; p < end; p++) {
        if (q) {
            if (*p == q) {
                q = 0;
            }

        } else if (*p == '"' || *p == '\'') {
            q = *p;

        } else if (*p == '>') {
            return p;
        }
    }

    return NULL;
}


/* the tag in [p, end) is named "name", with or without a prefix "ns:" */
static int
aigw_xml_name_is(const char *p, const char *end, const char *name,
    size_t name_len, const char **after)
{
    const char  *n, *colon;

    colon = NULL;

    for (n = p; n < end; n++) {
        if (aigw_xml_is_space(*n) || *n == '/' || *n == '>') {
            break;
        }

        if (*n == ':') {
            colon = n;
        }
    }

    if (colon) {
        p = colon + 1;
    }

    *after = n;

    return (size_t) (n - p) == name_len && memcmp(p, name, name_len) == 0;
}


static int
aigw_xml_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}


static long
aigw_xml_decode(const char *p, const char *end, char *buf, size_t size)
{
    int            hex, d;
    char           utf8[4];
    size_t         n, elen;
    const char    *semi, *e;
    unsigned long  cp;

    static const struct {
        const char  *name;
        char         c;
    } entities[] = {
        { "amp", '&' }, { "lt", '<' }, { "gt", '>' }, { "quot", '"' },
        { "apos", '\'' }, { NULL, 0 }
    };

    n = 0;

    while (p < end) {
        if (*p != '&') {
            if (n + 1 >= size) {
                return -2;
            }

            buf[n++] = *p++;
            continue;
        }

        semi = memchr(p, ';', (size_t) (end - p) < 12 ? end - p : 12);
        if (semi == NULL) {
            return -2;
        }

        e = p + 1;
        elen = semi - e;

        if (elen >= 2 && *e == '#') {
            hex = (e[1] == 'x');
            cp = 0;

            for (e += 1 + hex; e < semi; e++) {
                if (*e >= '0' && *e <= '9') {
                    d = *e - '0';

                } else if (hex && (*e | 0x20) >= 'a' && (*e | 0x20) <= 'f') {
                    d = (*e | 0x20) - 'a' + 10;

                } else {
                    return -2;
                }

                cp = cp * (hex ? 16 : 10) + d;

                if (cp > 0x10ffff) {
                    return -2;
                }
            }

            if (cp == 0 || e == p + 2 + hex
                || (cp >= 0xd800 && cp <= 0xdfff))
            {
                return -2;
            }

            elen = aigw_utf8(cp, utf8);

            if (n + elen >= size) {
                return -2;
            }

            memcpy(buf + n, utf8, elen);
            n += elen;

        } else {
            for (d = 0; entities[d].name; d++) {
                if (strlen(entities[d].name) == elen
                    && memcmp(entities[d].name, e, elen) == 0)
                {
                    break;
                }
            }

            if (entities[d].name == NULL || n + 1 >= size) {
                return -2;
            }

            buf[n++] = entities[d].c;
        }

        p = semi + 1;
    }

    if (size == 0) {
        return -2;
    }

    buf[n] = '\0';

    return (long) n;
}


static size_t
aigw_utf8(unsigned long cp, char out[4])
{
    if (cp < 0x80) {
        out[0] = (char) cp;
        return 1;
    }

    if (cp < 0x800) {
        out[0] = (char) (0xc0 | (cp >> 6));
        out[1] = (char) (0x80 | (cp & 0x3f));
        return 2;
    }

    if (cp < 0x10000) {
        out[0] = (char) (0xe0 | (cp >> 12));
        out[1] = (char) (0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char) (0x80 | (cp & 0x3f));
        return 3;
    }

    out[0] = (char) (0xf0 | (cp >> 18));
    out[1] = (char) (0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char) (0x80 | ((cp >> 6) & 0x3f));
    out[3] = (char) (0x80 | (cp & 0x3f));
    return 4;
}


static int
aigw_form_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
           || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'
           || c == '~';
}


size_t
aigw_form_add_size(const char *name, size_t value_len)
{
    return 1 + strlen(name) + 1 + 3 * value_len;
}


int
aigw_form_add(char *dst, size_t size, size_t *pos, const char *name,
    const char *value, size_t value_len)
{
    size_t          i, n;
    unsigned char   c;
    static const char  hex[] = "0123456789ABCDEF";

    n = *pos;

    if (n + aigw_form_add_size(name, value_len) >= size) {
        return -1;
    }

    if (n) {
        dst[n++] = '&';
    }

    memcpy(dst + n, name, strlen(name));
    n += strlen(name);
    dst[n++] = '=';

    for (i = 0; i < value_len; i++) {
        c = (unsigned char) value[i];

        if (aigw_form_unreserved(c)) {
            dst[n++] = (char) c;

        } else if (c == ' ') {
            dst[n++] = '+';

        } else {
            dst[n++] = '%';
            dst[n++] = hex[c >> 4];
            dst[n++] = hex[c & 0xf];
        }
    }

    dst[n] = '\0';
    *pos = n;

    return 0;
}


/*
 * aigw: helpers of the usage, event-stream and JSON scanner unit tests:
 * the shared test data directory, whole files, an event-stream encoder,
 * base64, a seeded random generator.
 */

#ifndef AIGW_ES_TEST_UTIL_H
#define AIGW_ES_TEST_UTIL_H


#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "aigw_eventstream.h"


static inline int
tu_is_dir(const char *path)
{
    struct stat  st;

    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}


/*
 * $AIGW_TESTDATA/<sub>, else ../shared/testdata/<sub> (tests run from the
 * repository's root); 1 if it is a directory
 */
static inline int
tu_testdata(char *buf, size_t size, const char *sub)
{
    const char  *env;

    env = getenv("AIGW_TESTDATA");

    if (env == NULL || *env == '\0') {
        env = "../shared/testdata";
    }

    snprintf(buf, size, "%s/%s", env, sub);

    return tu_is_dir(buf);
}


/* the whole file, NUL-terminated, malloc()ed; NULL if unreadable */
static inline char *
tu_read_file(const char *path, size_t *len)
{
    FILE    *f;
    char    *p;
    long     n;

    f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }

    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0
        || fseek(f, 0, SEEK_SET) != 0)
    {
        fclose(f);
        return NULL;
    }

    p = malloc(n + 1);
    if (p == NULL) {
        fclose(f);
        return NULL;
    }

    if (n > 0 && fread(p, 1, n, f) != (size_t) n) {
        free(p);
        fclose(f);
        return NULL;
    }

    fclose(f);
    p[n] = '\0';
    *len = n;

    return p;
}


/* xorshift64*: the same sequence on every machine */
static inline uint64_t
tu_rand(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;

    return *s * 0x2545f4914f6cdd1dULL;
}


static inline void
tu_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char) (v >> 24);
    p[1] = (unsigned char) (v >> 16);
    p[2] = (unsigned char) (v >> 8);
    p[3] = (unsigned char) v;
}


/* a string header "name" = "value", appended at "p"; returns its size */
static inline size_t
tu_es_str_header(unsigned char *p, const char *name, const char *value)
{
    size_t  n, v;

    n = strlen(name);
    v = strlen(value);

    p[0] = (unsigned char) n;
    memcpy(p + 1, name, n);
    p[1 + n] = AIGW_ES_STRING;
    p[2 + n] = (unsigned char) (v >> 8);
    p[3 + n] = (unsigned char) v;
    memcpy(p + 4 + n, value, v);

    return 4 + n + v;
}


/*
 * An event-stream message of the raw headers block and payload into
 * "out" (hlen + plen + 16 bytes); returns its size
 */
static inline size_t
tu_es_message(unsigned char *out, const unsigned char *headers, size_t hlen,
    const void *payload, size_t plen)
{
    size_t  total;

    total = hlen + plen + 16;

    tu_be32(out, (uint32_t) total);
    tu_be32(out + 4, (uint32_t) hlen);
    tu_be32(out + 8, aigw_crc32(0, out, 8));
    memcpy(out + 12, headers, hlen);

    if (plen) {
        memcpy(out + 12 + hlen, payload, plen);
    }

    tu_be32(out + 12 + hlen + plen, aigw_crc32(0, out, 12 + hlen + plen));

    return total;
}


/* an event message with :message-type, :event-type, :content-type */
static inline size_t
tu_es_event(unsigned char *out, const char *message_type,
    const char *type_header, const char *type, const void *payload,
    size_t plen)
{
    size_t         n;
    unsigned char  h[512];

    n = tu_es_str_header(h, type_header, type);
    n += tu_es_str_header(h + n, ":content-type", "application/json");
    n += tu_es_str_header(h + n, ":message-type", message_type);

    return tu_es_message(out, h, n, payload, plen);
}


static inline size_t
tu_base64(char *out, const unsigned char *in, size_t len)
{
    size_t             i, n;
    uint32_t           v;
    static const char  tab[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    n = 0;

    for (i = 0; i + 2 < len; i += 3) {
        v = (uint32_t) in[i] << 16 | (uint32_t) in[i + 1] << 8 | in[i + 2];
        out[n++] = tab[v >> 18];
        out[n++] = tab[(v >> 12) & 63];
        out[n++] = tab[(v >> 6) & 63];
        out[n++] = tab[v & 63];
    }

    if (len - i == 1) {
        v = (uint32_t) in[i] << 16;
        out[n++] = tab[v >> 18];
        out[n++] = tab[(v >> 12) & 63];
        out[n++] = '=';
        out[n++] = '=';

    } else if (len - i == 2) {
        v = (uint32_t) in[i] << 16 | (uint32_t) in[i + 1] << 8;
        out[n++] = tab[v >> 18];
        out[n++] = tab[(v >> 12) & 63];
        out[n++] = tab[(v >> 6) & 63];
        out[n++] = '=';
    }

    out[n] = '\0';

    return n;
}


/* standard base64 with padding; returns the length, or -1 */
static inline long
tu_unbase64(unsigned char *out, const char *in)
{
    int       c, v;
    long      n;
    uint32_t  bits;
    unsigned  k;

    n = 0;
    bits = 0;
    k = 0;

    for ( ; (c = (unsigned char) *in) != '\0' && c != '='; in++) {
        if (c >= 'A' && c <= 'Z') {
            v = c - 'A';
        } else if (c >= 'a' && c <= 'z') {
            v = c - 'a' + 26;
        } else if (c >= '0' && c <= '9') {
            v = c - '0' + 52;
        } else if (c == '+') {
            v = 62;
        } else if (c == '/') {
            v = 63;
        } else {
            return -1;
        }

        bits = bits << 6 | (uint32_t) v;

        if (++k == 4) {
            out[n++] = (unsigned char) (bits >> 16);
            out[n++] = (unsigned char) (bits >> 8);
            out[n++] = (unsigned char) bits;
            bits = 0;
            k = 0;
        }
    }

    if (k == 2) {
        out[n++] = (unsigned char) (bits >> 4);

    } else if (k == 3) {
        out[n++] = (unsigned char) (bits >> 10);
        out[n++] = (unsigned char) (bits >> 2);

    } else if (k == 1) {
        return -1;
    }

    return n;
}


#endif /* AIGW_ES_TEST_UTIL_H */


/*
 * aigw: what the libFuzzer targets share.  A target takes its parameters
 * (an operation, a format, the seed of its splits) from the first bytes
 * of the input, so the fuzzer chooses them as it chooses the rest; a
 * failed check prints what differed and aborts, which libFuzzer reports
 * as a crash and saves the input.
 */

#ifndef AIGW_FUZZ_H
#define AIGW_FUZZ_H


#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#define FUZZ_CHECK(cond)                                                      \
    do {                                                                      \
        if (!(cond)) {                                                        \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__,  \
                    #cond);                                                   \
            abort();                                                          \
        }                                                                     \
    } while (0)


/* the oracle of the split feeders: the same text for every split */
#define FUZZ_SAME(what, a, b)                                                 \
    do {                                                                      \
        if (strcmp(a, b) != 0) {                                              \
            fprintf(stderr, "%s:%d: %s differs by split:\n  %s\n  %s\n",      \
                    __FILE__, __LINE__, what, a, b);                          \
            abort();                                                          \
        }                                                                     \
    } while (0)


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


typedef struct {
    const uint8_t  *p;
    size_t          len;
} fuzz_in_t;


/* the next byte of the input, 0 once it is used up */
static inline unsigned
fuzz_byte(fuzz_in_t *in)
{
    if (in->len == 0) {
        return 0;
    }

    in->len--;

    return *in->p++;
}


static inline uint64_t
fuzz_u64(fuzz_in_t *in, unsigned n)
{
    unsigned  i;
    uint64_t  v;

    v = 0;

    for (i = 0; i < n; i++) {
        v = v << 8 | fuzz_byte(in);
    }

    return v;
}


/* up to "n" bytes of the input */
static inline size_t
fuzz_take(fuzz_in_t *in, size_t n, const uint8_t **p)
{
    if (n > in->len) {
        n = in->len;
    }

    *p = in->p;
    in->p += n;
    in->len -= n;

    return n;
}


/*
 * The bytes up to the next "sep" (or the end), taken, the separator
 * dropped
 */
static inline size_t
fuzz_field(fuzz_in_t *in, int sep, const char **p)
{
    size_t          n;
    const uint8_t  *q;

    q = memchr(in->p, sep, in->len);
    n = q ? (size_t) (q - in->p) : in->len;

    *p = (const char *) in->p;
    in->p += n;
    in->len -= n;

    if (q) {
        in->p++;
        in->len--;
    }

    return n;
}


/* xorshift64*, never seeded with 0 */
static inline uint64_t
fuzz_rand(uint64_t *s)
{
    if (*s == 0) {
        *s = 0x9e3779b97f4a7c15ULL;
    }

    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;

    return *s * 0x2545f4914f6cdd1dULL;
}


typedef void (*fuzz_feed_pt)(void *ctx, const uint8_t *p, size_t len);


#define FUZZ_WHOLE      0
#define FUZZ_BYTES      1           /* one byte at a time */
#define FUZZ_PIECES     2           /* pieces of lengths the seed picks */


/*
 * Feeds "p" whole, byte by byte, or in pieces; each piece is a copy in a
 * buffer of its own size, so that AddressSanitizer sees a read past it.
 * Pieces are sometimes empty.
 */
static inline void
fuzz_feed(fuzz_feed_pt feed, void *ctx, const uint8_t *p, size_t len,
    int how, uint64_t seed)
{
    size_t    n;
    uint8_t  *copy;
    uint64_t  r;

    if (how == FUZZ_WHOLE) {
        copy = malloc(len ? len : 1);
        FUZZ_CHECK(copy != NULL);
        memcpy(copy, p, len);
        feed(ctx, copy, len);
        free(copy);
        return;
    }

    while (len) {

        if (how == FUZZ_BYTES) {
            n = 1;

        } else {
            r = fuzz_rand(&seed);

            switch (r & 7) {
            case 0:
                n = 0;
                break;
            case 1:
            case 2:
                n = 1 + (r >> 8) % len;
                break;
            default:
                n = 1 + (r >> 8) % 16;
                break;
            }

            if (n > len) {
                n = len;
            }
        }

        copy = malloc(n ? n : 1);
        FUZZ_CHECK(copy != NULL);
        memcpy(copy, p, n);
        feed(ctx, copy, n);
        free(copy);

        p += n;
        len -= n;
    }
}


/* FNV-1a, for traces of events */
static inline void
fuzz_hash(uint64_t *h, const void *p, size_t len)
{
    size_t          i;
    const uint8_t  *b;

    b = p;

    for (i = 0; i < len; i++) {
        *h ^= b[i];
        *h *= 0x100000001b3ULL;
    }
}


static inline void
fuzz_hash_u64(uint64_t *h, uint64_t v)
{
    fuzz_hash(h, &v, sizeof(v));
}


#define FUZZ_HASH_INIT  0xcbf29ce484222325ULL


#endif /* AIGW_FUZZ_H */

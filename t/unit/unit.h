
/*
 * aigw: a tiny header-only unit test framework.
 *
 *     CHECK(cond)                    any condition
 *     CHECK_EQ(a, b)                 integers (compared as long long)
 *     CHECK_EQ_SIZE(a, b)            size_t
 *     CHECK_STR(a, b)                NUL-terminated strings (NULL allowed)
 *     CHECK_MEM(a, alen, b, blen)    byte strings, shown escaped
 *
 * A failed check prints "file:line: ..." and the mismatch, and the test
 * goes on; unit_done() prints the summary and gives main()'s status.
 */

#ifndef AIGW_UNIT_H
#define AIGW_UNIT_H


#include <stdio.h>
#include <string.h>


static unsigned long  unit_checks;
static unsigned long  unit_failures;


static inline void
unit_fail_head(const char *file, int line, const char *what)
{
    unit_failures++;
    fprintf(stderr, "%s:%d: FAIL: %s\n", file, line, what);
}


static inline void
unit_print_escaped(const char *label, const char *p, size_t len)
{
    size_t         i;
    unsigned char  c;

    fprintf(stderr, "    %s (%zu bytes): \"", label, len);

    for (i = 0; i < len; i++) {
        c = (unsigned char) p[i];

        if (c == '\n') {
            fputs("\\n", stderr);

        } else if (c == '\\' || c == '"') {
            fprintf(stderr, "\\%c", c);

        } else if (c < 0x20 || c >= 0x7f) {
            fprintf(stderr, "\\x%02x", c);

        } else {
            fputc(c, stderr);
        }
    }

    fputs("\"\n", stderr);
}


static inline int
unit_check(int ok, const char *file, int line, const char *expr)
{
    unit_checks++;

    if (!ok) {
        unit_fail_head(file, line, expr);
    }

    return ok;
}


static inline int
unit_check_eq(long long a, long long b, const char *file, int line,
    const char *ea, const char *eb)
{
    unit_checks++;

    if (a == b) {
        return 1;
    }

    unit_fail_head(file, line, "CHECK_EQ");
    fprintf(stderr, "    %s == %lld\n    %s == %lld\n", ea, a, eb, b);

    return 0;
}


static inline int
unit_check_size(size_t a, size_t b, const char *file, int line,
    const char *ea, const char *eb)
{
    unit_checks++;

    if (a == b) {
        return 1;
    }

    unit_fail_head(file, line, "CHECK_EQ_SIZE");
    fprintf(stderr, "    %s == %zu\n    %s == %zu\n", ea, a, eb, b);

    return 0;
}


static inline int
unit_check_mem(const void *a, size_t alen, const void *b, size_t blen,
    const char *file, int line, const char *ea, const char *eb)
{
    size_t  i;

    unit_checks++;

    if (alen == blen && (alen == 0 || memcmp(a, b, alen) == 0)) {
        return 1;
    }

    unit_fail_head(file, line, "CHECK_MEM");

    for (i = 0; i < alen && i < blen; i++) {
        if (((const char *) a)[i] != ((const char *) b)[i]) {
            break;
        }
    }

    fprintf(stderr, "    first difference at byte %zu\n", i);
    unit_print_escaped(ea, a, alen);
    unit_print_escaped(eb, b, blen);

    return 0;
}


static inline int
unit_check_str(const char *a, const char *b, const char *file, int line,
    const char *ea, const char *eb)
{
    if (a == NULL || b == NULL) {
        unit_checks++;

        if (a == b) {
            return 1;
        }

        unit_fail_head(file, line, "CHECK_STR");
        fprintf(stderr, "    %s == %s%s%s\n    %s == %s%s%s\n",
                ea, a ? "\"" : "", a ? a : "NULL", a ? "\"" : "",
                eb, b ? "\"" : "", b ? b : "NULL", b ? "\"" : "");
        return 0;
    }

    return unit_check_mem(a, strlen(a), b, strlen(b), file, line, ea, eb);
}


static inline int
unit_done(const char *name)
{
    printf("%s: %lu checks, %lu failed\n", name, unit_checks,
           unit_failures);

    return unit_failures ? 1 : 0;
}


#define CHECK(cond)                                                           \
    unit_check((cond) ? 1 : 0, __FILE__, __LINE__, #cond)

#define CHECK_EQ(a, b)                                                        \
    unit_check_eq((long long) (a), (long long) (b), __FILE__, __LINE__,      \
                  #a, #b)

#define CHECK_EQ_SIZE(a, b)                                                   \
    unit_check_size((size_t) (a), (size_t) (b), __FILE__, __LINE__, #a, #b)

#define CHECK_STR(a, b)                                                       \
    unit_check_str((a), (b), __FILE__, __LINE__, #a, #b)

#define CHECK_MEM(a, alen, b, blen)                                           \
    unit_check_mem((a), (alen), (b), (blen), __FILE__, __LINE__, #a, #b)


#endif /* AIGW_UNIT_H */

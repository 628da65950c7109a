
/*
 * aigw: text from an untrusted source (a Redis value anyone with access to
 * Redis may have written) made safe to print on a terminal or in a pipe.
 *
 * Valid UTF-8 is kept, but for what would move the cursor, end a line,
 * start an escape sequence or reorder what follows: the C0 and C1
 * controls, DEL, the line and paragraph separators and the bidirectional
 * controls each become "?", as does each byte that is not UTF-8.  The
 * result is cut at a character's end at "max" bytes, and then ends with
 * an ellipsis, U+2026 (one column, three bytes).
 */

#ifndef AIGW_TEXT_H
#define AIGW_TEXT_H


#include <stddef.h>
#include <stdio.h>


/* what the ellipsis adds, and the NUL */
#define AIGW_TEXT_EXTRA     4


/*
 * "dst" holds max + AIGW_TEXT_EXTRA bytes; it receives the cleaned text,
 * NUL-terminated.  Returns its length.
 */
size_t aigw_text_clean(char *dst, size_t max, const char *src, size_t len);

/* the width of UTF-8 text in columns (one a code point) */
size_t aigw_text_width(const char *s);

/* "s" padded with spaces to "width" columns, on its left when "right" */
void aigw_text_pad(FILE *f, const char *s, size_t width, int right);


#endif /* AIGW_TEXT_H */


/*
 * aigw: what the credentials chain needs of AWS STS's query protocol:
 * form-encoding its parameters and reading its XML answers.  No I/O, no
 * allocation.  The XML reader is an extractor, not a parser: it finds
 * the text of one element by its path of names, bounded by the input
 * and the caller's buffer, and decodes the five predefined entities and
 * numeric character references.
 */

#ifndef AIGW_STS_H
#define AIGW_STS_H


#include <stddef.h>


/*
 * The text of the element at "path" ("Credentials", "AccessKeyId": each
 * a child, at any depth, of the one before), entities decoded, white
 * space at its ends trimmed, into "buf" NUL-terminated.  Returns its
 * length; -1 if there is no such element or it holds other elements;
 * -2 if it does not fit in "size" bytes or is malformed (an unknown
 * entity, an unterminated tag).
 */
long aigw_xml_text(const char *xml, size_t len, const char *const *path,
    size_t npath, char *buf, size_t size);

/*
 * "&name=value" appended to "dst" of "size" bytes ("name=value" when
 * *pos is 0), the value form-encoded as botocore does: unreserved
 * characters (A-Z a-z 0-9 - _ . ~) as they are, a space as "+", any
 * other byte percent-encoded; *pos advanced.  Returns -1
 * (and appends nothing) if it does not fit.
 */
int aigw_form_add(char *dst, size_t size, size_t *pos, const char *name,
    const char *value, size_t value_len);

/* the bytes "aigw_form_add" appends for a value of "value_len" bytes */
size_t aigw_form_add_size(const char *name, size_t value_len);


#endif /* AIGW_STS_H */

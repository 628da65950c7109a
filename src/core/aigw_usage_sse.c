
/*
 * aigw: SageMaker's stream payload, the bytes of its PayloadPart events:
 * server-sent events or JSON lines, split anywhere across parts.  No
 * nginx headers, no allocation.
 */


#include <string.h>

#include "aigw_usage_int.h"


static void aigw_usage_sse_line_end(aigw_usage_parser_t *up);
static void aigw_usage_sse_event_end(aigw_usage_parser_t *up);


/*
 * SageMaker's PayloadPart bytes: server-sent events ("data: {...}" lines,
 * an empty line ending an event; LF, CRLF or CR), or JSON values one
 * after another (JSON lines); split anywhere across parts.  The JSON of a
 * data line goes to the scanner as it comes; only the first bytes of a
 * line are kept, to tell "data:" and "data: [DONE]" from other fields.
 */

void
aigw_usage_sse(aigw_usage_parser_t *up, const char *p, size_t len)
{
    size_t       i, off;
    uint64_t     base;
    const char  *end, *q;

    end = p + len;

    while (p < end) {

        switch (up->sse_state) {

        case SSE_BEGIN:
            if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') {
                p++;
                break;
            }

            if (*p == '{' || *p == '[') {
                up->sse_state = SSE_RAW;
                up->raw_skip = 0;

            } else {
                up->sse_state = SSE_LINE;
                up->pfx_n = 0;
            }

            break;

        case SSE_RAW:
            if (up->raw_skip) {
                q = memchr(p, '\n', end - p);

                if (q == NULL) {
                    return;
                }

                p = q + 1;
                up->raw_skip = 0;
                aigw_usage_sse_reset(up);
                break;
            }

            base = up->outer.offset;
            aigw_usage_feed_json(up, &up->outer, p, end - p);

            if (up->outer.error == NULL) {
                return;
            }

            /* resynchronize at the next line */
            p += up->outer.offset - base;
            up->raw_skip = 1;
            break;

        case SSE_LINE:
            if (*p == '\n' && up->sse_cr) {
                up->sse_cr = 0;
                p++;
                break;
            }

            up->sse_cr = 0;

            if (*p == '\r' || *p == '\n') {
                up->sse_cr = (*p == '\r');
                p++;
                aigw_usage_sse_line_end(up);
                break;
            }

            up->pfx[up->pfx_n++] = *p++;

            /* "data:", an optional space, not "[DONE" */

            i = up->pfx_n < 5 ? up->pfx_n : 5;

            if (memcmp(up->pfx, "data:", i) != 0) {
                up->sse_state = SSE_IGNORE;
                break;
            }

            if (up->pfx_n <= 5) {
                break;
            }

            off = (up->pfx[5] == ' ') ? 6 : 5;

            if (up->pfx_n == off) {
                break;
            }

            i = up->pfx_n - off;
            if (i > 5) {
                i = 5;
            }

            if (memcmp(up->pfx + off, "[DONE", i) == 0) {
                if (i == 5) {
                    up->sse_state = SSE_IGNORE;
                }
                break;
            }

            /* the reset clears pfx_n: the length is taken before it */
            i = up->pfx_n - off;

            if (up->outer.error) {
                aigw_usage_sse_reset(up);
            }

            up->sse_state = SSE_DATA;
            aigw_usage_feed_json(up, &up->outer, up->pfx + off, i);
            break;

        case SSE_DATA:
        case SSE_IGNORE:
            for (q = p; q < end && *q != '\n' && *q != '\r'; q++) {
                /* void */
            }

            if (up->sse_state == SSE_DATA && q > p) {
                aigw_usage_feed_json(up, &up->outer, p, q - p);
            }

            if (q == end) {
                return;
            }

            if (up->sse_state == SSE_DATA) {
                /* data lines of one event are joined with "\n" */
                aigw_usage_feed_json(up, &up->outer, "\n", 1);
            }

            up->sse_cr = (*q == '\r');
            up->sse_state = SSE_LINE;
            up->pfx_n = 0;
            p = q + 1;
            break;
        }
    }
}


/* a line ended while its first bytes were being looked at */

static void
aigw_usage_sse_line_end(aigw_usage_parser_t *up)
{
    size_t  off, n;

    if (up->pfx_n == 0) {
        aigw_usage_sse_event_end(up);
        return;
    }

    if (up->pfx_n > 5 && memcmp(up->pfx, "data:", 5) == 0) {
        /* a short data line: "data: [DON", "data: 1" */
        off = (up->pfx[5] == ' ') ? 6 : 5;
        n = up->pfx_n - off;

        if (up->outer.error) {
            aigw_usage_sse_reset(up);
        }

        aigw_usage_feed_json(up, &up->outer, up->pfx + off, n);
        aigw_usage_feed_json(up, &up->outer, "\n", 1);
    }

    up->pfx_n = 0;
}


static void
aigw_usage_sse_event_end(aigw_usage_parser_t *up)
{
    if (up->outer.error == NULL && aigw_json_in_value(&up->outer)) {
        aigw_usage_json_error(up, "incomplete JSON in an event");
    }

    /* a top-level number ends here */
    if (up->outer.error == NULL) {
        (void) aigw_json_finish(&up->outer);
    }

    aigw_usage_sse_reset(up);
}


void
aigw_usage_sse_reset(aigw_usage_parser_t *up)
{
    aigw_json_reset(&up->outer);
    aigw_usage_clear(&up->doc);
    up->cap_js = NULL;
    up->pfx_n = 0;
}

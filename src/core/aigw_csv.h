
/*
 * aigw: the daily usage CSV ("aigw export"): its columns and RFC 4180
 * quoting.  No nginx headers, no I/O.
 *
 * Lines end with "\n" (not RFC 4180's "\r\n": what Athena, Hive and Unix
 * tools expect; readers of RFC 4180 accept it).  A field is quoted when
 * it holds a comma, a double quote, a CR or a LF; quotes inside are
 * doubled.  Other fields are written as they are.
 */

#ifndef AIGW_CSV_H
#define AIGW_CSV_H


#include <stddef.h>


/* the columns of ../shared/SPEC.md, in order */
#define AIGW_CSV_HEADER                                                       \
    "date,team_id,project,department,model_id,invocations,input_tokens,"      \
    "output_tokens,cache_read_input_tokens,cache_write_input_tokens,images,"  \
    "errors,throttled,input_cost,output_cost,cache_cost,total_cost"

#define AIGW_CSV_COLUMNS  17


/* 1 when the field must be quoted */
int aigw_csv_needs_quotes(const char *s, size_t len);

/*
 * The field as written to the CSV, quoted if needed.  "dst" NULL: only
 * the length is computed.  Returns the length (at most 2 * len + 2).
 */
size_t aigw_csv_field(char *dst, const char *s, size_t len);


#endif /* AIGW_CSV_H */

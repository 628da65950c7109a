
/*
 * aigw: the core's basic types, shared by every module of the core and by
 * its callers.  No nginx headers.
 */

#ifndef AIGW_TYPES_H
#define AIGW_TYPES_H


#include <stddef.h>


/* a byte string, not necessarily NUL-terminated */
typedef struct {
    const char  *data;
    size_t       len;
} aigw_str_t;


typedef struct {
    aigw_str_t   name;
    aigw_str_t   value;
} aigw_header_t;


/* AWS credentials */
typedef struct {
    aigw_str_t   access_key;
    aigw_str_t   secret_key;
    aigw_str_t   session_token;          /* len 0: long-term credentials */
} aigw_creds_t;


#endif /* AIGW_TYPES_H */

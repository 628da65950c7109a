
/*
 * aigw: AWS shared credentials and config files (~/.aws/credentials,
 * ~/.aws/config): the INI dialect the AWS SDKs read, parsed in place.
 * No nginx headers, no I/O: the caller reads the file.
 */

#ifndef AIGW_CREDS_H
#define AIGW_CREDS_H


#include <stddef.h>

#include "aigw_sigv4.h"


typedef struct {
    aigw_str_t   access_key;            /* aws_access_key_id */
    aigw_str_t   secret_key;            /* aws_secret_access_key */
    aigw_str_t   session_token;         /* aws_session_token */
    aigw_str_t   region;                /* region */

    /*
     * the first setting of the profile that needs a provider aigw does
     * not have (role_arn, credential_process, sso_session, ...); len 0
     * if none
     */
    aigw_str_t   unsupported;
} aigw_profile_t;


typedef enum {
    AIGW_INI_CREDENTIALS = 0,           /* sections are "[name]" */
    AIGW_INI_CONFIG                     /* "[profile name]" and "[default]" */
} aigw_ini_kind_e;


/*
 * Looks for the profile "name" in the text of a credentials or config
 * file; later settings of the same key win, as in the SDKs.  The strings
 * returned point into "text".  Returns 1 when the profile was found, 0
 * when it was not, -1 on a syntax error (its line in "*err_line").
 */
int aigw_ini_profile(const char *text, size_t len, aigw_ini_kind_e kind,
    const char *name, size_t name_len, aigw_profile_t *profile,
    unsigned *err_line);


#endif /* AIGW_CREDS_H */


/*
 * aigw: AWS shared credentials and config files (~/.aws/credentials,
 * ~/.aws/config): the INI dialect the AWS SDKs read, parsed in place.
 * No nginx headers, no I/O: the caller reads the file.
 */

#ifndef AIGW_CREDS_H
#define AIGW_CREDS_H


#include <stddef.h>

#include "aigw_types.h"


typedef struct {
    aigw_str_t   access_key;            /* aws_access_key_id */
    aigw_str_t   secret_key;            /* aws_secret_access_key */
    aigw_str_t   session_token;         /* aws_session_token */
    aigw_str_t   region;                /* region */

    /* the settings of the credentials chain (aigw_credchain.h) */
    aigw_str_t   role_arn;
    aigw_str_t   source_profile;
    aigw_str_t   credential_source;
    aigw_str_t   web_identity_token_file;
    aigw_str_t   role_session_name;
    aigw_str_t   external_id;
    aigw_str_t   duration_seconds;
    aigw_str_t   credential_process;

    /*
     * the first setting of the profile that needs a provider aigw does
     * not have (mfa_serial, sso_session, sso_start_url, ...): a static
     * string; len 0 if none
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

/*
 * The first setting of "profile" that only the credentials chain can use
 * (role_arn, web_identity_token_file, credential_process), else its
 * unsupported setting: for the readers of static keys alone.  A static
 * string; len 0 if none.
 */
aigw_str_t aigw_ini_needs_chain(const aigw_profile_t *profile);


#endif /* AIGW_CREDS_H */

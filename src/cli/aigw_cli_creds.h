
/*
 * aigw: AWS credentials for the command-line tool: the core's provider
 * chain (aigw_credchain.h), its actions done here, blocking.
 *
 *   read a file    at most AIGW_CC_FILE_MAX bytes (EFBIG beyond)
 *   HTTP           aigw_http.h (TLS verified with AWS_CA_BUNDLE or
 *                  SSL_CERT_FILE), the body at most AIGW_CC_BODY_MAX
 *   run a process  /bin/sh -c COMMAND, standard input /dev/null, standard
 *                  error the tool's, standard output read up to
 *                  AIGW_CC_BODY_MAX; killed (its process group) when it
 *                  outlives the action's timeout or writes more
 *
 * The environment is the tool's own (getenv).
 */

#ifndef AIGW_CLI_CREDS_H
#define AIGW_CLI_CREDS_H


#include <stddef.h>
#include <time.h>

#include "aigw_credchain.h"


typedef struct {
    aigw_cc_t         *cc;          /* the strings below live in it */
    aigw_creds_t       creds;
    time_t             expiration;  /* 0: they do not expire */
    aigw_cc_source_e   source;
    const char        *origin;
} aigw_cli_creds_t;


/*
 * Resolves credentials with the chain configured by "conf" (its getenv
 * left NULL: the process's environment).  "verbose": the fetches on
 * stderr, prefixed with "who" (never a secret, a token or a body).
 * Returns 0, or -1 with the chain's message in "err".
 */
int aigw_cli_credentials(aigw_cc_conf_t *conf, aigw_cli_creds_t *out,
    const char *who, int verbose, char *err, size_t err_size);

void aigw_cli_credentials_free(aigw_cli_creds_t *c);

#endif /* AIGW_CLI_CREDS_H */

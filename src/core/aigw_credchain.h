
/*
 * aigw: the AWS credentials provider chain, as the AWS SDKs run it, with
 * no I/O of its own.  No nginx headers.
 *
 * One resolution finds one set of credentials.  The caller drives it:
 * aigw_cc_next() says what to do next (read a file, make an HTTP
 * request, run a command), the caller does it its own way (the CLI
 * blocking; the module on nginx's event loop, never on a request's path)
 * and hands the result back with aigw_cc_file_done(), aigw_cc_http_done()
 * or aigw_cc_process_done(); until aigw_cc_next() says DONE or FAILED.
 * So the module and the CLI run one chain, and disagree on nothing.
 *
 * Sources (aigw_cc_source_e), each selectable alone, and "chain": the
 * first of env, web_identity, file, ecs, imds that is configured, in the
 * SDKs' order.  A source that is configured (its variables are set, its
 * profile exists) and fails ends the chain with its error, as in the
 * SDKs: a gateway never falls through to another identity.  Only imds,
 * the last, is tried unconfigured; in a chain, IMDS not answering means
 * "no credentials found".
 *
 *   env           AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 *                 AWS_SESSION_TOKEN (AWS_SECURITY_TOKEN, the older name)
 *   web_identity  AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ROLE_ARN,
 *                 AWS_ROLE_SESSION_NAME: STS AssumeRoleWithWebIdentity
 *                 (unsigned), the token file re-read each time
 *   file          AWS_SHARED_CREDENTIALS_FILE (~/.aws/credentials),
 *                 AWS_CONFIG_FILE (~/.aws/config), the profile given, else
 *                 AWS_PROFILE, else "default".  In a profile, in this
 *                 order: role_arn with source_profile (AssumeRole, signed
 *                 with the source profile's credentials, which may be a
 *                 role themselves; a cycle is an error), with
 *                 credential_source (Environment, EcsContainer,
 *                 Ec2InstanceMetadata) or with web_identity_token_file
 *                 (AssumeRoleWithWebIdentity), role_session_name,
 *                 external_id and duration_seconds honoured; else the
 *                 static keys (the credentials file's, then the config
 *                 file's); else credential_process.  mfa_serial, sso_* are
 *                 errors naming the setting.
 *   ecs           AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (against
 *                 http://169.254.170.2), else
 *                 AWS_CONTAINER_CREDENTIALS_FULL_URI: https to any host,
 *                 http only to a loopback address, 169.254.170.2,
 *                 169.254.170.23 (EKS Pod Identity) or fd00:ec2::23; the
 *                 Authorization header from the file
 *                 AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (re-read each
 *                 time), else AWS_CONTAINER_AUTHORIZATION_TOKEN
 *   imds          IMDSv2 only: PUT /latest/api/token (TTL header), GET
 *                 /latest/meta-data/iam/security-credentials/ (the role),
 *                 GET .../ROLE; AWS_EC2_METADATA_DISABLED=true turns it
 *                 off, AWS_EC2_METADATA_SERVICE_ENDPOINT moves it
 *                 (default http://169.254.169.254), or
 *                 AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv6
 *                 (http://[fd00:ec2::254])
 *   static        the keys given
 *
 * STS: https://sts.REGION.amazonaws.com (amazonaws.com.cn for cn-*), or
 * the endpoint given, else AWS_ENDPOINT_URL_STS.  Its answers are XML;
 * an error is reported with STS's code and message.
 *
 * Every credential taken from a peer (STS, the container endpoint, IMDS,
 * a process, a file) is checked before use: the key id [A-Z0-9] of 16 to
 * 128 bytes, the secret and the token printable ASCII without spaces, of
 * at most 128 and AIGW_CC_TOKEN_MAX bytes: nothing from a peer can reach
 * a header line it was not meant for.  Error messages never contain a
 * secret, a token or a web identity token.
 *
 * The operator's own keys (the environment's, a profile's static keys,
 * the static source's) are checked the same way but for the key id's
 * alphabet and length: printable ASCII without spaces, 1 to 128 bytes
 * (test keys such as "AKIDEXAMPLE" work).  Credentials that expire
 * within AIGW_CC_EXPIRY_MARGIN seconds of "now" when they arrive are an
 * error.  A container authorization token may hold spaces but no control
 * character; a line break in it is an error.
 *
 * Defaults: STS 10 s, the container endpoint 2 s, IMDS 1 s per request,
 * a credential_process 30 s.  The STS region is checked ([a-z0-9-], at
 * most 31 bytes) with any endpoint: it is part of the signature.  The
 * default session name is "aigw-" and the Unix time.  A profile with
 * role_arn but none of source_profile, credential_source and
 * web_identity_token_file, or more than one of them, is an error.  In a
 * chain, a profile that exists but holds no credential setting (a
 * config file's "[default]" with a region alone) is skipped, as the SDKs
 * do; a profile named (the conf's, AWS_PROFILE) that does not exist is
 * an error; the default profile not existing is not.
 */

#ifndef AIGW_CREDCHAIN_H
#define AIGW_CREDCHAIN_H


#include <stddef.h>
#include <time.h>

#include "aigw_types.h"


/* the most the caller reads of a file, or takes of a body or an output */
#define AIGW_CC_FILE_MAX        (1024 * 1024)
#define AIGW_CC_BODY_MAX        (64 * 1024)

#define AIGW_CC_TOKEN_MAX       8192
#define AIGW_CC_ERR_LEN         512

/*
 * Credentials are not used for signing in the last AIGW_CC_EXPIRY_MARGIN
 * seconds of their life: a request signed now must still be valid when
 * AWS reads it.
 */
#define AIGW_CC_EXPIRY_MARGIN   5


typedef enum {
    AIGW_CC_CHAIN = 0,
    AIGW_CC_ENV,
    AIGW_CC_WEB_IDENTITY,
    AIGW_CC_FILE,
    AIGW_CC_ECS,
    AIGW_CC_IMDS,
    AIGW_CC_STATIC
} aigw_cc_source_e;


/* the environment as the caller sees it: the value, or NULL when unset */
typedef const char *(*aigw_cc_getenv_pt)(void *data, const char *name);


typedef struct {
    aigw_cc_source_e     source;
    const char          *profile;       /* file: NULL for AWS_PROFILE */
    aigw_creds_t         keys;          /* static */

    /* the region of STS's endpoint; NULL: AWS_REGION, AWS_DEFAULT_REGION,
     * the profile's region (when the profiles were read: the file
     * source), else us-east-1 */
    const char          *region;

    /* STS's URL; NULL: AWS_ENDPOINT_URL_STS, else the regional one */
    const char          *sts_endpoint;

    aigw_cc_getenv_pt    getenv;        /* NULL: none is set */
    void                *env_data;

    /* "~" of ~/.aws; NULL: HOME from getenv */
    const char          *home;
} aigw_cc_conf_t;


typedef enum {
    AIGW_CC_DONE = 0,
    AIGW_CC_FAILED,
    AIGW_CC_READ_FILE,
    AIGW_CC_HTTP,
    AIGW_CC_PROCESS
} aigw_cc_step_e;


typedef struct {
    const char           *method;       /* "GET", "PUT", "POST" */
    const char           *url;          /* whole, for messages */
    int                   tls;
    const char           *host;         /* no brackets: connect, SNI, verify */
    unsigned              port;
    const char           *target;       /* "/path?query", as sent */
    /*
     * every header to send, Host among them, but Content-Length and
     * Connection, which are the transport's: when "body" is not NULL the
     * caller sends "Content-Length: body_len" (IMDS's PUT has body ""
     * and body_len 0); values printable, no CR or LF
     */
    const aigw_header_t  *headers;
    size_t                nheaders;
    const char           *body;         /* NULL: none */
    size_t                body_len;
    unsigned              timeout_ms;   /* the whole exchange */
} aigw_cc_http_t;


typedef struct {
    aigw_cc_step_e        step;
    const char           *path;         /* READ_FILE */
    aigw_cc_http_t        http;         /* HTTP */
    const char           *command;      /* PROCESS: run with /bin/sh -c */
    unsigned              timeout_ms;   /* PROCESS */
} aigw_cc_action_t;


typedef struct {
    aigw_creds_t          creds;        /* DONE; the strings are the chain's */
    time_t                expiration;   /* DONE; 0: they do not expire */
    aigw_cc_source_e      source;       /* DONE: which source gave them */

    /*
     * DONE: where they came from, for logs ("environment", "profile
     * \"x\"", "role arn:... via web identity", "container endpoint",
     * "instance profile \"role\"")
     */
    const char           *origin;

    /* FAILED: why, and whether nothing was configured at all */
    const char           *error;
    int                   not_found;
} aigw_cc_result_t;


typedef struct aigw_cc_s  aigw_cc_t;


/* a new resolution (the conf's strings are copied); NULL: no memory */
aigw_cc_t *aigw_cc_create(const aigw_cc_conf_t *conf);

/* frees it, the secrets zeroed */
void aigw_cc_destroy(aigw_cc_t *cc);

/*
 * What to do next; "now" dates signatures and session names.  The
 * action's strings stay valid until the next call on "cc".
 */
void aigw_cc_next(aigw_cc_t *cc, time_t now, aigw_cc_action_t *act);

/*
 * The file read: "err" 0 and its bytes, or an errno value (ENOENT,
 * ENOTDIR: there is none; EFBIG: over AIGW_CC_FILE_MAX; any other: could
 * not be read).
 */
void aigw_cc_file_done(aigw_cc_t *cc, int err, const char *data,
    size_t len);

/*
 * The HTTP response: its status and body (at most AIGW_CC_BODY_MAX
 * bytes), or status 0 and "error" (connect, TLS, timeout, malformed).
 */
void aigw_cc_http_done(aigw_cc_t *cc, int status, const char *body,
    size_t len, const char *error);

/*
 * The process: its exit status (-1: killed, timed out or could not run,
 * "error" says why) and its standard output (at most AIGW_CC_BODY_MAX).
 */
void aigw_cc_process_done(aigw_cc_t *cc, int status, const char *out,
    size_t len, const char *error);

/* after DONE or FAILED */
const aigw_cc_result_t *aigw_cc_result(const aigw_cc_t *cc);


/*
 * When to refresh credentials obtained at "obtained" that expire at
 * "expiration": when less than min(5 minutes, half their lifetime)
 * remains.  0 for credentials that do not expire.
 */
time_t aigw_cc_refresh_at(time_t obtained, time_t expiration);

/* "chain", "env", ...: the source of that name, or -1 */
int aigw_cc_source(const char *name, size_t len);
const char *aigw_cc_source_name(aigw_cc_source_e source);

/*
 * The environment variables a source reads (the chain: all of them),
 * NULL-terminated: the module names those the master has and its
 * workers are not given with "env".
 */
const char *const *aigw_cc_env_names(aigw_cc_source_e source);

/*
 * An ISO 8601 time as AWS writes expirations ("2026-12-04T19:12:39Z",
 * fractions of a second, "+00:00" or another offset); -1 if it is not.
 */
time_t aigw_cc_parse_time(const char *p, size_t len);


#endif /* AIGW_CREDCHAIN_H */

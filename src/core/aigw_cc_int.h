
/*
 * aigw: the credentials chain's insides, shared by its files: the
 * resolution's state (aigw_credchain.c), the profiles
 * (aigw_cc_file.c), STS (aigw_cc_sts.c) and the metadata services, the
 * process and URLs (aigw_cc_peers.c).  Not an interface: see
 * aigw_credchain.h.
 */

#ifndef AIGW_CC_INT_H
#define AIGW_CC_INT_H


#include <jansson.h>

#include "aigw_creds.h"
#include "aigw_credchain.h"


#define AIGW_CC_MEM_MAX         (8 * 1024 * 1024)
#define AIGW_CC_HOPS_MAX        8
#define AIGW_CC_SECRETS_MAX     64
#define AIGW_CC_KEY_MAX         128

#define AIGW_CC_STS_TIMEOUT     10000
#define AIGW_CC_ECS_TIMEOUT     2000
#define AIGW_CC_IMDS_TIMEOUT    1000
#define AIGW_CC_PROCESS_TIMEOUT 30000

#define AIGW_CC_ECS_HOST        "169.254.170.2"
#define AIGW_CC_IMDS_URL        "http://169.254.169.254"
#define AIGW_CC_IMDS_URL6       "http://[fd00:ec2::254]"
#define AIGW_CC_IMDS_CREDS      "/latest/meta-data/iam/security-credentials/"
#define AIGW_CC_STS_CT  "application/x-www-form-urlencoded; charset=utf-8"


/* the environment variables, in the order of aigw_cc_env_all */
enum {
    E_AKID = 0,
    E_SECRET,
    E_TOKEN,
    E_SECURITY_TOKEN,
    E_WI_FILE,
    E_ROLE_ARN,
    E_ROLE_SESSION,
    E_CREDS_FILE,
    E_CONFIG_FILE,
    E_PROFILE,
    E_HOME,
    E_ECS_RELATIVE,
    E_ECS_FULL,
    E_ECS_TOKEN_FILE,
    E_ECS_TOKEN,
    E_IMDS_DISABLED,
    E_IMDS_ENDPOINT,
    E_IMDS_MODE,
    E_REGION,
    E_DEFAULT_REGION,
    E_STS_URL,
    E_N
};


/* what the base of a profile's credentials is */
typedef enum {
    B_NONE = 0,
    B_STATIC,
    B_ENV,
    B_WEB_IDENTITY,
    B_ECS,
    B_IMDS,
    B_PROCESS
} aigw_cc_base_e;


typedef enum {
    S_START = 0,
    S_CHAIN_WI,
    S_CHAIN_FILE,
    S_CHAIN_ECS,
    S_CHAIN_IMDS,
    S_ENV,
    S_WI_ENV,
    S_WI_TOKEN,
    S_WI_RESP,
    S_FILE,
    S_FILE_CREDS,
    S_FILE_CONFIG,
    S_BASE,
    S_ECS,
    S_ECS_TOKEN,
    S_ECS_RESP,
    S_IMDS,
    S_IMDS_TOKEN,
    S_IMDS_ROLE,
    S_IMDS_CREDS,
    S_PROCESS_RESP,
    S_GOT,
    S_HOP_RESP,
    S_DONE,
    S_FAILED
} aigw_cc_state_e;


typedef struct aigw_cc_blk_s  aigw_cc_blk_t;

struct aigw_cc_blk_s {
    aigw_cc_blk_t  *next;
    size_t          size;
};


typedef struct {
    int          tls;
    char        *host;              /* no brackets */
    unsigned     port;
    char        *hostport;          /* the Host header's value */
    char        *target;            /* "/path?query" */
    char        *path;              /* without the query */
    char        *query;             /* without '?', may be "" */
} aigw_cc_url_t;


/* a role assumed with AssumeRole, signed with the credentials before */
typedef struct {
    char            *profile;
    aigw_profile_t   p;
} aigw_cc_hop_t;


struct aigw_cc_s {
    aigw_cc_source_e    source;
    char               *profile;
    char               *region;
    char               *sts_endpoint;
    char               *home;
    aigw_creds_t        keys;
    char               *env[E_N];

    aigw_cc_blk_t      *blocks;
    size_t              mem;

    aigw_cc_state_e     state;
    aigw_cc_step_e      pending;            /* the action not answered */
    int                 chain;
    int                 steps;
    time_t              now;

    /* the last answer */
    int                 r_status;
    char               *r_data;
    size_t              r_len;
    char               *r_error;

    /* file */
    char               *prof_name;
    int                 prof_explicit;
    char               *path[2];
    char               *text[2];
    size_t              text_len[2];
    aigw_profile_t      top;                /* the profile asked for */
    aigw_cc_hop_t       hops[AIGW_CC_HOPS_MAX];
    unsigned            nhops;              /* still to assume */
    aigw_cc_base_e      base;
    aigw_profile_t      base_p;
    char               *base_name;

    /* web identity */
    char               *wi_file;
    char               *wi_role;
    char               *wi_session;
    char               *wi_duration;
    char               *wi_origin;

    /* ecs and imds */
    aigw_cc_url_t       url;
    char               *url_text;
    char               *ecs_auth;
    char               *imds_token;
    char               *imds_role;

    /* what has been obtained */
    aigw_creds_t        cur;
    time_t              cur_exp;
    time_t              cur_obtained;

    aigw_header_t       headers[8];
    char                err[AIGW_CC_ERR_LEN];
    const char         *secrets[AIGW_CC_SECRETS_MAX];
    size_t              nsecrets;

    aigw_cc_result_t    result;
};


void *aigw_cc_alloc(aigw_cc_t *cc, size_t size);
void aigw_cc_free(aigw_cc_t *cc, void *p);
char *aigw_cc_strndup(aigw_cc_t *cc, const char *p, size_t len);
char *aigw_cc_sprintf(aigw_cc_t *cc, const char *fmt, ...);
void aigw_cc_secret(aigw_cc_t *cc, const char *s);
void aigw_cc_fail(aigw_cc_t *cc, int not_found, const char *fmt, ...);
void aigw_cc_nomem(aigw_cc_t *cc);
void aigw_cc_clean(char *dst, size_t size, const char *p, size_t len);
const char *aigw_cc_getenv(aigw_cc_t *cc, int e);
int aigw_cc_step(aigw_cc_t *cc, aigw_cc_action_t *act);
int aigw_cc_set_creds(aigw_cc_t *cc, const char *akid, size_t akid_len,
    const char *secret, size_t secret_len, const char *token,
    size_t token_len, time_t exp, int strict, const char *what);
int aigw_cc_valid_key_id(const char *p, size_t len, int strict);
int aigw_cc_valid_printable(const char *p, size_t len, size_t max);
int aigw_cc_env_creds(aigw_cc_t *cc, const char *what);
int aigw_cc_file_start(aigw_cc_t *cc, aigw_cc_action_t *act);
int aigw_cc_file_got(aigw_cc_t *cc, int i);
int aigw_cc_profile(aigw_cc_t *cc, const char *name, size_t len,
    aigw_profile_t *prof);
int aigw_cc_plan(aigw_cc_t *cc);
int aigw_cc_base(aigw_cc_t *cc, aigw_cc_action_t *act);
int aigw_cc_wi_start(aigw_cc_t *cc, aigw_cc_action_t *act);
int aigw_cc_wi_request(aigw_cc_t *cc, aigw_cc_action_t *act);
int aigw_cc_hop_request(aigw_cc_t *cc, aigw_cc_action_t *act);
int aigw_cc_sts_answer(aigw_cc_t *cc, const char *what);
int aigw_cc_sts_url(aigw_cc_t *cc, aigw_cc_url_t *u, char **url);
const char *aigw_cc_sts_region(aigw_cc_t *cc);
int aigw_cc_ecs_start(aigw_cc_t *cc, aigw_cc_action_t *act);
int aigw_cc_ecs_request(aigw_cc_t *cc, aigw_cc_action_t *act);
int aigw_cc_ecs_answer(aigw_cc_t *cc);
int aigw_cc_imds_start(aigw_cc_t *cc, aigw_cc_action_t *act);
int aigw_cc_imds_request(aigw_cc_t *cc, aigw_cc_action_t *act,
    const char *method, const char *target);
int aigw_cc_imds_failed(aigw_cc_t *cc, const char *fmt, ...);
int aigw_cc_imds_answer(aigw_cc_t *cc);
int aigw_cc_process_answer(aigw_cc_t *cc);
int aigw_cc_json_creds(aigw_cc_t *cc, json_t *obj, const char *token,
    int peer, const char *what);
int aigw_cc_parse_url(aigw_cc_t *cc, const char *url,
    aigw_cc_url_t *u);
int aigw_cc_host_allowed(const char *host);
void aigw_cc_http(aigw_cc_t *cc, aigw_cc_action_t *act,
    const char *method, const char *url, aigw_cc_url_t *u,
    unsigned timeout);
void aigw_cc_header(aigw_cc_t *cc, aigw_cc_action_t *act,
    const char *name, const char *value);
int aigw_cc_done(aigw_cc_t *cc);
void aigw_cc_answer_reset(aigw_cc_t *cc);
char *aigw_cc_value(aigw_cc_t *cc, const aigw_str_t *s);
char *aigw_cc_sts_form(aigw_cc_t *cc, const char *action, const char *role,
    const char *session, const char *external_id, const char *duration,
    const char *token, size_t *len);


#endif /* AIGW_CC_INT_H */

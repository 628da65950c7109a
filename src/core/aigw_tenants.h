
/*
 * aigw: the tenants file (tenants, API keys, allowed models, inference
 * profiles, limits), API key authentication and model access.  No nginx
 * headers, no I/O: the caller reads the file and prefixes its path to
 * the error messages.
 *
 * A loaded set of tenants lives in one memory block (rarely a few), holds
 * no reference to the JSON text or tree it came from, and is read-only:
 * it can be shared by all requests, and by processes forked after the
 * load; aigw_tenants_free() releases it all.  aigw_tenants_load.c reads
 * the file (limits included), aigw_tenants_keys.c holds the keys'
 * format and authentication, aigw_tenants_access.c what a tenant may
 * do, aigw_tenants_hash.c the id lookups.
 *
 * Keys look like "aigw_<key id>_<secret>": the key id, [A-Za-z0-9-]{1,64},
 * is public (logs, metrics); the secret is 32 random bytes in base64url
 * without padding (43 characters of [A-Za-z0-9_-]).  The file stores only
 * the SHA-256 of the whole key.  No error message ever contains a key, a
 * secret or a hash.
 */

#ifndef AIGW_TENANTS_H
#define AIGW_TENANTS_H


#include <stddef.h>
#include <stdint.h>

#include "aigw_types.h"


#define AIGW_TENANT_ID_MAX       64         /* [A-Za-z0-9_.-]{1,64} */
#define AIGW_KEY_ID_MAX          64         /* [A-Za-z0-9-]{1,64} */
#define AIGW_KEY_GEN_ID_LEN      8          /* generated ids: [a-z0-9]{8} */
#define AIGW_KEY_SECRET_LEN      43         /* base64url of 32 bytes */
#define AIGW_KEY_PREFIX          "aigw_"
#define AIGW_KEY_PREFIX_LEN      5
/* the longest well-formed key, without its NUL */
#define AIGW_KEY_MAX_LEN                                                      \
    (AIGW_KEY_PREFIX_LEN + AIGW_KEY_ID_MAX + 1 + AIGW_KEY_SECRET_LEN)
#define AIGW_TENANT_TEXT_MAX     256        /* project, department, note */
#define AIGW_ALERT_AT_MAX        16         /* entries of limits.alert_at */
#define AIGW_TENANTS_ERR_LEN     512        /* enough for any message */

#define AIGW_NANOUSD_PER_USD     1000000000LL
#define AIGW_PPM                 1000000    /* alert_at: 1.0 == AIGW_PPM */
#define AIGW_LIMIT_NONE          (-1)       /* a limit that is not set */


/* Bedrock's service tiers (X-Amzn-Bedrock-Service-Tier), as bits */
#define AIGW_TIER_DEFAULT        0x01
#define AIGW_TIER_PRIORITY       0x02
#define AIGW_TIER_FLEX           0x04
#define AIGW_TIER_RESERVED       0x08


typedef struct aigw_tenant_s   aigw_tenant_t;
typedef struct aigw_tenants_s  aigw_tenants_t;


/*
 * Parsed and validated only: enforcing them is the business of the
 * access and log phases.  Amounts are in nano-dollars (1 USD is
 * AIGW_NANOUSD_PER_USD), alert thresholds in parts per million of the
 * budgets (1.0 is AIGW_PPM).
 */

typedef struct {
    int64_t               rpm;              /* AIGW_LIMIT_NONE when unset */
    int64_t               tpm;
    int64_t               daily_nanousd;
    int64_t               monthly_nanousd;
    uint32_t              alert_at[AIGW_ALERT_AT_MAX];  /* ascending */
    size_t                nalert_at;
} aigw_limits_t;


typedef struct {
    aigw_str_t            id;               /* the public key id */
    unsigned char         sha256[32];       /* of the whole key */
    aigw_str_t            created;          /* len 0 when absent */
    aigw_str_t            note;             /* len 0 when absent */
    aigw_limits_t         limits;           /* its own, within the
                                               tenant's */
    const aigw_tenant_t  *tenant;
} aigw_key_t;


typedef struct {
    aigw_str_t            model;            /* the model the tenant asks */
    aigw_str_t            arn;              /* its inference profile ARN */
} aigw_inference_profile_t;




/*
 * All strings are NUL-terminated as well (len excludes the NUL); absent
 * optional strings are "" with len 0.
 */

struct aigw_tenant_s {
    aigw_str_t                 id;
    aigw_str_t                 project;
    aigw_str_t                 department;

    aigw_key_t                *keys;
    size_t                     nkeys;

    aigw_str_t                *models;      /* glob patterns, file order */
    size_t                     nmodels;

    aigw_inference_profile_t  *profiles;    /* sorted by model */
    size_t                     nprofiles;

    unsigned                   service_tiers;   /* AIGW_TIER_*, DEFAULT too */
    unsigned                   latency_optimized;

    aigw_limits_t              limits;
};


typedef enum {
    AIGW_AUTH_OK = 0,
    AIGW_AUTH_MALFORMED,        /* not "aigw_<key id>_<43 chars>" */
    AIGW_AUTH_UNKNOWN_KEY,      /* well-formed, no key with that id */
    AIGW_AUTH_BAD_SECRET        /* the key id exists, the hash differs */
} aigw_auth_rc_e;


/*
 * Parses and validates the text of a tenants file (JSON):
 *
 *     {"tenants": [{"id", "project", "department",
 *                   "keys": [{"id", "sha256", "created", "note",
 *                             "limits"}],
 *                   "models": ["glob", ...],
 *                   "inference_profiles": {"model": "ARN", ...},
 *                   "service_tiers": ["priority", "flex", "reserved",
 *                                     "default"],
 *                   "latency_optimized": true | false,
 *                   "limits": {"rpm", "tpm", "daily_usd", "monthly_usd",
 *                              "alert_at": [fraction, ...]}}]}
 *
 * Only "id" is required in a tenant, and in a key "id" and "sha256"
 * (64 hex digits, either case).  Unknown fields and duplicate object
 * members are errors at every level; tenant ids are unique, key ids are
 * unique across all tenants.
 *
 * "rpm" and "tpm" are non-negative integers.  "daily_usd" and
 * "monthly_usd" are non-negative amounts: a JSON integer, a JSON real
 * (taken as the shortest decimal that reads back as the same double:
 * 0.1 is exactly 0.1) or a string "12.5"; at most 9 decimal places
 * (digits of value: "0.1000000000" is fine).  "alert_at" lists at most
 * AIGW_ALERT_AT_MAX distinct fractions of the budgets, each in (0, 10]
 * with at most 6 decimal places, kept sorted.  Inference profile ARNs
 * are Bedrock "inference-profile/" or "application-inference-profile/"
 * ARNs with an account.
 *
 * Returns NULL on error, with a message in "err" (NUL-terminated,
 * truncated to "err_size"; AIGW_TENANTS_ERR_LEN is always enough) that
 * names the tenant (by id, else by position "#N" counting from 1) and the
 * field: 'tenant "team-a": limits.rpm: expected a non-negative integer'.
 * A JSON syntax error gives its line and column.
 */
aigw_tenants_t *aigw_tenants_parse(const char *text, size_t len, char *err,
    size_t err_size);

/* frees everything aigw_tenants_parse() allocated; NULL is fine */
void aigw_tenants_free(aigw_tenants_t *ts);

size_t aigw_tenants_count(const aigw_tenants_t *ts);
size_t aigw_tenants_key_count(const aigw_tenants_t *ts);
/* the tenants in file order: "i" < aigw_tenants_count() */
const aigw_tenant_t *aigw_tenants_get(const aigw_tenants_t *ts, size_t i);

/* O(1) lookups by id; NULL when there is none */
const aigw_tenant_t *aigw_tenants_find(const aigw_tenants_t *ts,
    const char *id, size_t len);
const aigw_key_t *aigw_tenants_find_key(const aigw_tenants_t *ts,
    const char *id, size_t len);

/* 1 when "id" is a valid tenant id, a valid key id */
int aigw_tenant_id_valid(const char *id, size_t len);
int aigw_key_id_valid(const char *id, size_t len);

/*
 * Splits a presented key "aigw_<key id>_<secret>" (the id ends at the
 * first "_" after the prefix: the secret may hold "_").  Returns 0 and
 * the key id (pointing into "key"), or -1 when the key is malformed.
 */
int aigw_key_parse(const char *key, size_t len, aigw_str_t *id);

/*
 * Authenticates a presented key: parses it, finds its id in O(1), then
 * compares the SHA-256 of the whole key with the stored one in constant
 * time (a hash is computed and compared for unknown ids as well).  On
 * AIGW_AUTH_OK "*found" is the stored key and "*tenant" its tenant;
 * otherwise both are NULL.  "ts" NULL: no key is known.  Every rc but
 * AIGW_AUTH_OK means 401; the key id (not the key) may be logged for
 * AIGW_AUTH_UNKNOWN_KEY and AIGW_AUTH_BAD_SECRET.
 */
aigw_auth_rc_e aigw_tenants_authenticate(const aigw_tenants_t *ts,
    const char *key, size_t len, const aigw_tenant_t **tenant,
    const aigw_key_t **found);

/*
 * 1 when one of the tenant's "models" globs matches the model ID, ARN or
 * alias as the tenant asked for it.  The match is exact glob semantics:
 * "anthropic.claude-3-haiku-*" does NOT allow the cross-region profile
 * "us.anthropic.claude-3-haiku-..." (list "*.anthropic.claude-3-haiku-*"
 * or the profile itself for that).  No models: nothing is allowed.
 */
int aigw_tenant_model_allowed(const aigw_tenant_t *t, const char *model,
    size_t len);

/*
 * A service tier's bit (AIGW_TIER_*) from its name ("priority", "flex",
 * "reserved", "default": Bedrock's ServiceTierType), or 0 for any other
 */
unsigned aigw_service_tier(const char *name, size_t len);

/* the name of one AIGW_TIER_* bit: "priority"; "" for any other value */
const char *aigw_service_tier_name(unsigned tier);

/*
 * 1 when the tenant may use the tier (a bit): "default" always; the
 * others when "service_tiers" lists them
 */
int aigw_tenant_tier_allowed(const aigw_tenant_t *t, unsigned tier);

/*
 * The inference profile ARN the tenant's "inference_profiles" maps the
 * requested model to (exact match), or NULL.
 */
const aigw_str_t *aigw_tenant_inference_profile(const aigw_tenant_t *t,
    const char *model, size_t len);

/*
 * Generates a key for the CLI: with "id" NULL a random key id of
 * AIGW_KEY_GEN_ID_LEN characters [a-z0-9], else "id" (validated); the
 * secret from RAND_bytes().  Writes the key, NUL-terminated, into "key"
 * (AIGW_KEY_MAX_LEN + 1 bytes), and the lowercase hex SHA-256 of it,
 * NUL-terminated, into "sha256_hex" (65 bytes).  Returns the key's
 * length, or 0 for an invalid id or when no random bytes are available.
 */
size_t aigw_key_generate(const char *id, size_t id_len, char *key,
    char *sha256_hex);


#endif /* AIGW_TENANTS_H */

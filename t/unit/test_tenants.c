
/*
 * aigw: unit tests of aigw_tenants.c: the tenants file parser (every
 * validation error), the key format, authentication, the glob matcher,
 * inference profiles, and a 10,000-tenant file.
 */


#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "unit.h"
#include "aigw_util.h"
#include "aigw_tenants.h"


#define S(s)  s, sizeof(s) - 1

#define H64   "0123456789abcdef0123456789abcdef"                             \
              "0123456789abcdef0123456789abcdef"

/* a key of tenant "t": {"id":"k1","sha256":H64} */
#define K1    "{\"id\":\"k1\",\"sha256\":\"" H64 "\"}"

#define PROFILE_ARN                                                           \
    "arn:aws:bedrock:us-east-1:123456789012:"                                 \
    "application-inference-profile/abcd1234"


static char  err[AIGW_TENANTS_ERR_LEN];


static aigw_tenants_t *
load(const char *json)
{
    return aigw_tenants_parse(json, strlen(json), err, sizeof(err));
}


/* one tenant: {"tenants": [ <tenant> ]} */

static aigw_tenants_t *
load_tenant(const char *tenant)
{
    size_t           n;
    char            *buf;
    aigw_tenants_t  *ts;

    n = strlen(tenant) + 32;
    buf = malloc(n);
    if (buf == NULL) {
        return NULL;
    }

    snprintf(buf, n, "{\"tenants\": [%s]}", tenant);
    ts = load(buf);
    free(buf);

    return ts;
}


static void
expect_error(const char *json, const char *msg, int line)
{
    aigw_tenants_t  *ts;

    ts = load(json);

    if (!unit_check(ts == NULL, __FILE__, line, "parse fails")) {
        aigw_tenants_free(ts);
        return;
    }

    unit_check_str(err, msg, __FILE__, line, "err", "expected");
}


static void
expect_tenant_error(const char *tenant, const char *msg, int line)
{
    aigw_tenants_t  *ts;

    ts = load_tenant(tenant);

    if (!unit_check(ts == NULL, __FILE__, line, "parse fails")) {
        aigw_tenants_free(ts);
        return;
    }

    unit_check_str(err, msg, __FILE__, line, "err", "expected");
}


#define ERR(json, msg)   expect_error(json, msg, __LINE__)
#define TERR(t, msg)     expect_tenant_error(t, msg, __LINE__)


static void
test_top_level(void)
{
    aigw_tenants_t  *ts;

    ts = load("{\"tenants\": []}");
    if (CHECK(ts != NULL)) {
        CHECK_EQ_SIZE(aigw_tenants_count(ts), 0);
        CHECK_EQ_SIZE(aigw_tenants_key_count(ts), 0);
        CHECK(aigw_tenants_get(ts, 0) == NULL);
        CHECK(aigw_tenants_find(ts, S("a")) == NULL);
        CHECK(aigw_tenants_find_key(ts, S("k1")) == NULL);
        aigw_tenants_free(ts);
    }

    ERR("[]", "expected a JSON object {\"tenants\": [...]} at the top level");
    ERR("{}", "missing \"tenants\"");
    ERR("{\"tenants\": {}}", "\"tenants\": expected an array");
    ERR("{\"tenants\": null}", "\"tenants\": expected an array");
    ERR("{\"tenants\": [], \"version\": 1}",
        "unknown field \"version\" at the top level"
        " (expected only \"tenants\")");
    ERR("{\"tenant\": []}",
        "unknown field \"tenant\" at the top level"
        " (expected only \"tenants\")");

    /* field names from the file are escaped in messages */

    ERR("{\"te\\u0001\\\"x\": []}",
        "unknown field \"te\\x01\\x22x\" at the top level"
        " (expected only \"tenants\")");

    aigw_tenants_free(NULL);
}


static void
test_syntax_errors(void)
{
    aigw_tenants_t  *ts;

    ts = aigw_tenants_parse("", 0, err, sizeof(err));
    CHECK(ts == NULL);
    CHECK(strncmp(err, "invalid JSON at line 1, column ", 31) == 0);

    ts = aigw_tenants_parse(NULL, 0, err, sizeof(err));
    CHECK(ts == NULL);
    CHECK(strncmp(err, "invalid JSON at line 1, column ", 31) == 0);

    ERR("{\"tenants\": [\n  {\"id\": \"a\",}\n]}",
        "invalid JSON at line 2, column 14: string or '}' expected");

    ERR("{\"tenants\": [\n\n   x]}",
        "invalid JSON at line 3, column 4: invalid token");

    ERR("{\"tenants\": [], \"tenants\": []}",
        "invalid JSON at line 1, column 25: duplicate object key");

    ERR("{\"tenants\": [{\"id\": \"a\", \"limits\":"
        " {\"rpm\": 1, \"rpm\": 2}}]}",
        "invalid JSON at line 1, column 51: duplicate object key");

    ERR("{\"tenants\": []} x",
        "invalid JSON at line 1, column 17: end of file expected");

    /* jansson's "near '<token>'" is dropped: it may be a hash */

    ts = load("{\"tenants\": [{\"id\": \"a\", \"keys\": [{\"id\": \"k1\","
              " \"sha256\": \"" H64);
    CHECK(ts == NULL);
    CHECK(strncmp(err, "invalid JSON at line 1, column ", 31) == 0);
    CHECK(strstr(err, "0123456789abcdef") == NULL);
    CHECK(strstr(err, "near") == NULL);

    ts = load("{\"tenants\": [{\"id\": \"a\", \"keys\": [{\"id\": \"k1\","
              " \"sha256\": " H64 "}]}]}");
    CHECK(ts == NULL);
    CHECK(strstr(err, "0123456789abcdef") == NULL);

    /* small and zero-sized error buffers */

    ts = aigw_tenants_parse(S("{}"), err, 8);
    CHECK(ts == NULL);
    CHECK_STR(err, "missing");

    ts = aigw_tenants_parse(S("{\"tenants\": [{}]}"), err, 6);
    CHECK(ts == NULL);
    CHECK_STR(err, "tenan");

    ts = aigw_tenants_parse(S("{}"), err, 0);
    CHECK(ts == NULL);
}


static void
test_tenant_errors(void)
{
    char             buf[512], id[80];
    aigw_tenants_t  *ts;

    TERR("1", "tenant #1: expected an object");
    TERR("[]", "tenant #1: expected an object");
    ERR("{\"tenants\": [{\"id\": \"a\"}, {\"id\": \"b\"}, {}]}",
        "tenant #3: missing \"id\"");
    TERR("{\"project\": \"x\"}", "tenant #1: missing \"id\"");
    TERR("{\"id\": 5}", "tenant #1: id: expected a string");
    TERR("{\"id\": null}", "tenant #1: id: expected a string");
    TERR("{\"id\": \"\"}",
         "tenant #1: id: expected 1 to 64 characters of [A-Za-z0-9_.-]");
    TERR("{\"id\": \"team a\"}",
         "tenant #1: id: expected 1 to 64 characters of [A-Za-z0-9_.-]");
    TERR("{\"id\": \"team/a\"}",
         "tenant #1: id: expected 1 to 64 characters of [A-Za-z0-9_.-]");
    TERR("{\"id\": \"t\\u00e9\"}",
         "tenant #1: id: expected 1 to 64 characters of [A-Za-z0-9_.-]");

    memset(id, 'x', 65);
    id[65] = '\0';
    snprintf(buf, sizeof(buf), "{\"id\": \"%s\"}", id);
    TERR(buf, "tenant #1: id: expected 1 to 64 characters of [A-Za-z0-9_.-]");

    id[64] = '\0';
    snprintf(buf, sizeof(buf), "{\"id\": \"%s\"}", id);
    ts = load_tenant(buf);
    CHECK(ts != NULL);
    aigw_tenants_free(ts);

    /* the id is looked for first, wherever it is */

    TERR("{\"rmp\": 1, \"id\": \"team-a\"}",
         "tenant \"team-a\": unknown field \"rmp\" (expected id, project,"
         " department, keys, models, inference_profiles, service_tiers,"
         " latency_optimized, limits)");
    TERR("{\"id\": \"team-a\", \"model\": []}",
         "tenant \"team-a\": unknown field \"model\" (expected id, project,"
         " department, keys, models, inference_profiles, service_tiers,"
         " latency_optimized, limits)");

    ERR("{\"tenants\": [{\"id\": \"team-a\"}, {\"id\": \"b\"},"
        " {\"id\": \"team-a\"}]}",
        "duplicate tenant id \"team-a\" (tenants #1 and #3)");

    /* ids are case-sensitive */

    ts = load("{\"tenants\": [{\"id\": \"a\"}, {\"id\": \"A\"}]}");
    if (CHECK(ts != NULL)) {
        CHECK(aigw_tenants_find(ts, S("a")) == aigw_tenants_get(ts, 0));
        CHECK(aigw_tenants_find(ts, S("A")) == aigw_tenants_get(ts, 1));
        aigw_tenants_free(ts);
    }
}


static void
test_text_errors(void)
{
    char  buf[600], text[300];

    TERR("{\"id\": \"a\", \"project\": 1}",
         "tenant \"a\": project: expected a string");
    TERR("{\"id\": \"a\", \"project\": null}",
         "tenant \"a\": project: expected a string");
    TERR("{\"id\": \"a\", \"department\": [\"x\"]}",
         "tenant \"a\": department: expected a string");
    TERR("{\"id\": \"a\", \"project\": \"a\\nb\"}",
         "tenant \"a\": project: control characters are not allowed");
    TERR("{\"id\": \"a\", \"department\": \"\\u007f\"}",
         "tenant \"a\": department: control characters are not allowed");

    memset(text, 'p', 257);
    text[257] = '\0';
    snprintf(buf, sizeof(buf), "{\"id\": \"a\", \"project\": \"%s\"}", text);
    TERR(buf, "tenant \"a\": project: longer than 256 bytes");

    text[256] = '\0';
    snprintf(buf, sizeof(buf), "{\"id\": \"a\", \"project\": \"%s\"}", text);
    aigw_tenants_free(load_tenant(buf));
    CHECK(err[0] == '\0');
}


static void
test_key_errors(void)
{
    char  buf[600], id[80];

    TERR("{\"id\": \"a\", \"keys\": {}}",
         "tenant \"a\": keys: expected an array");
    TERR("{\"id\": \"a\", \"keys\": \"k1\"}",
         "tenant \"a\": keys: expected an array");
    TERR("{\"id\": \"a\", \"keys\": [1]}",
         "tenant \"a\": keys #1: expected an object");
    TERR("{\"id\": \"a\", \"keys\": [" K1 ", {}]}",
         "tenant \"a\": keys #2: missing \"id\"");
    TERR("{\"id\": \"a\", \"keys\": [{\"id\": 7}]}",
         "tenant \"a\": keys #1: id: expected a string");
    TERR("{\"id\": \"a\", \"keys\": [{\"id\": \"k_1\"}]}",
         "tenant \"a\": keys #1: id: expected 1 to 64 characters"
         " of [A-Za-z0-9-]");
    TERR("{\"id\": \"a\", \"keys\": [{\"id\": \"k.1\"}]}",
         "tenant \"a\": keys #1: id: expected 1 to 64 characters"
         " of [A-Za-z0-9-]");
    TERR("{\"id\": \"a\", \"keys\": [{\"id\": \"\"}]}",
         "tenant \"a\": keys #1: id: expected 1 to 64 characters"
         " of [A-Za-z0-9-]");

    memset(id, 'k', 65);
    id[65] = '\0';
    snprintf(buf, sizeof(buf), "{\"id\": \"a\", \"keys\": [{\"id\": \"%s\","
             " \"sha256\": \"" H64 "\"}]}", id);
    TERR(buf, "tenant \"a\": keys #1: id: expected 1 to 64 characters"
              " of [A-Za-z0-9-]");

    id[64] = '\0';
    snprintf(buf, sizeof(buf), "{\"id\": \"a\", \"keys\": [{\"id\": \"%s\","
             " \"sha256\": \"" H64 "\"}]}", id);
    aigw_tenants_free(load_tenant(buf));
    CHECK(err[0] == '\0');

    TERR("{\"id\": \"a\", \"keys\": [{\"id\": \"k1\"}]}",
         "tenant \"a\": key \"k1\": missing \"sha256\"");
    TERR("{\"id\": \"a\", \"keys\": [{\"id\": \"k1\", \"sha256\": 1}]}",
         "tenant \"a\": key \"k1\": sha256: expected 64 hexadecimal digits"
         " (the SHA-256 of the whole key)");
    TERR("{\"id\": \"a\", \"keys\": [{\"id\": \"k1\", \"sha256\": \"abc\"}]}",
         "tenant \"a\": key \"k1\": sha256: expected 64 hexadecimal digits"
         " (the SHA-256 of the whole key)");
    TERR("{\"id\": \"a\", \"keys\": [{\"id\": \"k1\", \"sha256\": \""
         H64 "0\"}]}",
         "tenant \"a\": key \"k1\": sha256: expected 64 hexadecimal digits"
         " (the SHA-256 of the whole key)");
    TERR("{\"id\": \"a\", \"keys\": [{\"id\": \"k1\", \"sha256\": \""
         "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg"
         "\"}]}",
         "tenant \"a\": key \"k1\": sha256: expected 64 hexadecimal digits"
         " (the SHA-256 of the whole key)");
    TERR("{\"id\": \"a\", \"keys\": [{\"id\": \"k1\", \"sha256\": \"" H64
         "\", \"limits\": {\"rpm\": -1}}]}",
         "tenant \"a\": key \"k1\": limits.rpm: expected a non-negative"
         " integer");
    TERR("{\"id\": \"a\", \"keys\": [{\"id\": \"k1\", \"sha256\": \"" H64
         "\", \"notes\": \"x\"}]}",
         "tenant \"a\": key \"k1\": unknown field \"notes\" (expected id,"
         " sha256, created, note, limits)");
    TERR("{\"id\": \"a\", \"keys\": [{\"id\": \"k1\", \"sha256\": \"" H64
         "\", \"created\": 2024}]}",
         "tenant \"a\": key \"k1\": created: expected a string");
    TERR("{\"id\": \"a\", \"keys\": [{\"id\": \"k1\", \"sha256\": \"" H64
         "\", \"note\": \"\\t\"}]}",
         "tenant \"a\": key \"k1\": note: control characters are not"
         " allowed");

    /* errors after the keys name the tenant only */

    TERR("{\"id\": \"a\", \"keys\": [" K1 "], \"project\": 1}",
         "tenant \"a\": project: expected a string");

    TERR("{\"id\": \"a\", \"keys\": [" K1 ", " K1 "]}",
         "tenant \"a\": key id \"k1\" is used twice");

    ERR("{\"tenants\": [{\"id\": \"a\", \"keys\": [" K1 "]},"
        " {\"id\": \"b\", \"keys\": [" K1 "]}]}",
        "key id \"k1\" is used twice (tenants \"a\" and \"b\")");

    /* no message shows a hash */

    TERR("{\"id\": \"a\", \"keys\": [{\"id\": \"k1\", \"sha256\": \""
         "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde"
         "\"}]}",
         "tenant \"a\": key \"k1\": sha256: expected 64 hexadecimal digits"
         " (the SHA-256 of the whole key)");
}


static void
test_model_errors(void)
{
    char   *buf;
    size_t  n;

    TERR("{\"id\": \"a\", \"models\": \"*\"}",
         "tenant \"a\": models: expected an array of glob patterns");
    TERR("{\"id\": \"a\", \"models\": [\"a*\", 1]}",
         "tenant \"a\": models #2: expected a string");
    TERR("{\"id\": \"a\", \"models\": [\"\"]}",
         "tenant \"a\": models #1: empty pattern");
    TERR("{\"id\": \"a\", \"models\": [\"amazon.nova *\"]}",
         "tenant \"a\": models #1: spaces and control characters are not"
         " allowed");
    TERR("{\"id\": \"a\", \"models\": [\"x\\u00e9\"]}",
         "tenant \"a\": models #1: spaces and control characters are not"
         " allowed");

    n = 2049 + 64;
    buf = malloc(n);
    if (CHECK(buf != NULL)) {
        strcpy(buf, "{\"id\": \"a\", \"models\": [\"");
        n = strlen(buf);
        memset(buf + n, 'm', 2049);
        strcpy(buf + n + 2049, "\"]}");
        TERR(buf, "tenant \"a\": models #1: longer than 2048 bytes");
        free(buf);
    }
}


static void
test_profile_errors(void)
{
    TERR("{\"id\": \"a\", \"inference_profiles\": []}",
         "tenant \"a\": inference_profiles: expected an object"
         " {\"model ID\": \"inference profile ARN\"}");
    TERR("{\"id\": \"a\", \"inference_profiles\": {\"\": \"" PROFILE_ARN
         "\"}}",
         "tenant \"a\": inference_profiles: invalid model ID \"\"");
    TERR("{\"id\": \"a\", \"inference_profiles\": {\"a b\": \"" PROFILE_ARN
         "\"}}",
         "tenant \"a\": inference_profiles: invalid model ID \"a b\"");
    TERR("{\"id\": \"a\", \"inference_profiles\": {\"m\": 1}}",
         "tenant \"a\": inference_profiles \"m\": expected a string (an"
         " inference profile ARN)");
    TERR("{\"id\": \"a\", \"inference_profiles\": {\"m\": \"\"}}",
         "tenant \"a\": inference_profiles \"m\": empty model ID");
    TERR("{\"id\": \"a\", \"inference_profiles\": {\"m\": \"a b\"}}",
         "tenant \"a\": inference_profiles \"m\": invalid character in the"
         " model ID");
    TERR("{\"id\": \"a\", \"inference_profiles\": {\"m\": \"amazon.nova\"}}",
         "tenant \"a\": inference_profiles \"m\": expected an inference"
         " profile ARN (arn:aws:bedrock:REGION:ACCOUNT:"
         "application-inference-profile/ID)");
    TERR("{\"id\": \"a\", \"inference_profiles\": {\"m\":"
         " \"arn:aws:bedrock:us-east-1::foundation-model/amazon.nova\"}}",
         "tenant \"a\": inference_profiles \"m\": an inference profile ARN"
         " needs an account ID");
    TERR("{\"id\": \"a\", \"inference_profiles\": {\"m\":"
         " \"arn:aws:bedrock:us-east-1:123456789012:"
         "provisioned-model/abc\"}}",
         "tenant \"a\": inference_profiles \"m\": not an inference profile"
         " ARN (expected arn:aws:bedrock:REGION:ACCOUNT:"
         "application-inference-profile/ID or ...:inference-profile/ID)");
    TERR("{\"id\": \"a\", \"inference_profiles\": {\"m\":"
         " \"arn:aws:sagemaker:us-east-1:123456789012:endpoint/e1\"}}",
         "tenant \"a\": inference_profiles \"m\": not a Bedrock inference"
         " profile ARN");
    TERR("{\"id\": \"a\", \"inference_profiles\": {\"m\":"
         " \"arn:aws:s3:::bucket/x\"}}",
         "tenant \"a\": inference_profiles \"m\": invalid model ARN: not a"
         " Bedrock ARN");
    TERR("{\"id\": \"a\", \"inference_profiles\": {\"m\":"
         " \"arn:aws:bedrock:us-east-1:123456789012:inference-profile/\"}}",
         "tenant \"a\": inference_profiles \"m\": invalid model ARN: bad"
         " resource ID");
    TERR("{\"id\": \"a\", \"inference_profiles\": {\"m\":"
         " \"arn:aws:bedrock:us-east-1:12345:inference-profile/x\"}}",
         "tenant \"a\": inference_profiles \"m\": invalid model ARN: bad"
         " account ID");
}


static void
test_limit_errors(void)
{
    TERR("{\"id\": \"a\", \"limits\": []}",
         "tenant \"a\": limits: expected an object");
    TERR("{\"id\": \"a\", \"limits\": {\"rmp\": 600}}",
         "tenant \"a\": limits: unknown field \"rmp\" (expected rpm, tpm,"
         " daily_usd, monthly_usd, alert_at)");
    TERR("{\"id\": \"team-a\", \"limits\": {\"rpm\": \"600\"}}",
         "tenant \"team-a\": limits.rpm: expected a non-negative integer");
    TERR("{\"id\": \"team-a\", \"limits\": {\"rpm\": -1}}",
         "tenant \"team-a\": limits.rpm: expected a non-negative integer");
    TERR("{\"id\": \"team-a\", \"limits\": {\"rpm\": 1.5}}",
         "tenant \"team-a\": limits.rpm: expected a non-negative integer");
    TERR("{\"id\": \"team-a\", \"limits\": {\"rpm\": 600.0}}",
         "tenant \"team-a\": limits.rpm: expected a non-negative integer");
    TERR("{\"id\": \"team-a\", \"limits\": {\"tpm\": null}}",
         "tenant \"team-a\": limits.tpm: expected a non-negative integer");
    TERR("{\"id\": \"team-a\", \"limits\": {\"tpm\": true}}",
         "tenant \"team-a\": limits.tpm: expected a non-negative integer");

    TERR("{\"id\": \"a\", \"limits\": {\"daily_usd\": -1}}",
         "tenant \"a\": limits.daily_usd: expected a non-negative amount in"
         " USD (a number, or a string such as \"12.5\")");
    TERR("{\"id\": \"a\", \"limits\": {\"daily_usd\": -0.5}}",
         "tenant \"a\": limits.daily_usd: expected a non-negative amount in"
         " USD (a number, or a string such as \"12.5\")");
    TERR("{\"id\": \"a\", \"limits\": {\"monthly_usd\": \"abc\"}}",
         "tenant \"a\": limits.monthly_usd: expected a non-negative amount"
         " in USD (a number, or a string such as \"12.5\")");
    TERR("{\"id\": \"a\", \"limits\": {\"monthly_usd\": \"1e3\"}}",
         "tenant \"a\": limits.monthly_usd: expected a non-negative amount"
         " in USD (a number, or a string such as \"12.5\")");
    TERR("{\"id\": \"a\", \"limits\": {\"monthly_usd\": \"-5\"}}",
         "tenant \"a\": limits.monthly_usd: expected a non-negative amount"
         " in USD (a number, or a string such as \"12.5\")");
    TERR("{\"id\": \"a\", \"limits\": {\"monthly_usd\": false}}",
         "tenant \"a\": limits.monthly_usd: expected a non-negative amount"
         " in USD (a number, or a string such as \"12.5\")");
    TERR("{\"id\": \"a\", \"limits\": {\"daily_usd\": \"12.3456789012\"}}",
         "tenant \"a\": limits.daily_usd: more than 9 decimal places");
    TERR("{\"id\": \"a\", \"limits\": {\"daily_usd\": 12.3456789012}}",
         "tenant \"a\": limits.daily_usd: more than 9 decimal places");
    TERR("{\"id\": \"a\", \"limits\": {\"daily_usd\": 1e-10}}",
         "tenant \"a\": limits.daily_usd: more than 9 decimal places");
    TERR("{\"id\": \"a\", \"limits\": {\"daily_usd\":"
         " 12.3456789012345678}}",
         "tenant \"a\": limits.daily_usd: a number of more than 15"
         " significant digits (write it as a string such as \"12.5\")");
    TERR("{\"id\": \"a\", \"limits\": {\"alert_at\":"
         " [0.50000000000000011]}}",
         "tenant \"a\": limits.alert_at #1: a number of more than 15"
         " significant digits");
    /* more digits than 15, though its double prints back within 15 */
    TERR("{\"id\": \"a\", \"limits\": {\"daily_usd\":"
         " 12.5000000000000001}}",
         "line 1, column 50: the number 12.5000000000000001 has 18"
         " significant digits, more than the 15 a JSON number keeps"
         " exactly: write it as a decimal string");
    TERR("{\"id\": \"a\", \"limits\": {\"daily_usd\": 1e10}}",
         "tenant \"a\": limits.daily_usd: too large");
    TERR("{\"id\": \"a\", \"limits\": {\"daily_usd\": 9223372037}}",
         "tenant \"a\": limits.daily_usd: too large");
    TERR("{\"id\": \"a\", \"limits\": {\"daily_usd\": \"9223372036.9\"}}",
         "tenant \"a\": limits.daily_usd: too large");

    TERR("{\"id\": \"a\", \"limits\": {\"alert_at\": 0.5}}",
         "tenant \"a\": limits.alert_at: expected an array of fractions of"
         " the budgets");
    TERR("{\"id\": \"a\", \"limits\": {\"alert_at\": [0.5, 0]}}",
         "tenant \"a\": limits.alert_at #2: expected a fraction of the"
         " budgets, greater than 0 and at most 10");
    TERR("{\"id\": \"a\", \"limits\": {\"alert_at\": [-0.5]}}",
         "tenant \"a\": limits.alert_at #1: expected a fraction of the"
         " budgets, greater than 0 and at most 10");
    TERR("{\"id\": \"a\", \"limits\": {\"alert_at\": [10.000001]}}",
         "tenant \"a\": limits.alert_at #1: expected a fraction of the"
         " budgets, greater than 0 and at most 10");
    TERR("{\"id\": \"a\", \"limits\": {\"alert_at\": [\"half\"]}}",
         "tenant \"a\": limits.alert_at #1: expected a fraction of the"
         " budgets, greater than 0 and at most 10");
    TERR("{\"id\": \"a\", \"limits\": {\"alert_at\": [0.1234567]}}",
         "tenant \"a\": limits.alert_at #1: more than 6 decimal places");
    TERR("{\"id\": \"a\", \"limits\": {\"alert_at\": [0.8, 0.5, 0.8]}}",
         "tenant \"a\": limits.alert_at #3: a duplicate threshold");
    TERR("{\"id\": \"a\", \"limits\": {\"alert_at\": [0.1, 0.2, 0.3, 0.4,"
         " 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6,"
         " 1.7]}}",
         "tenant \"a\": limits.alert_at: more than 16 thresholds");
}


/* the limits of a one-tenant file, or NULL with a failed check */

static aigw_tenants_t *
load_limits(const char *limits, int line)
{
    char             buf[512];
    aigw_tenants_t  *ts;

    snprintf(buf, sizeof(buf), "{\"id\": \"a\", \"limits\": %s}", limits);
    ts = load_tenant(buf);

    if (!unit_check(ts != NULL, __FILE__, line, limits)) {
        fprintf(stderr, "    err: %s\n", err);
    }

    return ts;
}


static void
expect_usd(const char *value, long long nano, int line)
{
    char                  buf[256];
    aigw_tenants_t       *ts;
    const aigw_tenant_t  *t;

    snprintf(buf, sizeof(buf), "{\"daily_usd\": %s, \"monthly_usd\": %s}",
             value, value);

    ts = load_limits(buf, line);
    if (ts == NULL) {
        return;
    }

    t = aigw_tenants_get(ts, 0);
    unit_check_eq(t->limits.daily_nanousd, nano, __FILE__, line,
                  "daily_nanousd", value);
    unit_check_eq(t->limits.monthly_nanousd, nano, __FILE__, line,
                  "monthly_nanousd", value);

    aigw_tenants_free(ts);
}

#define USD(v, nano)  expect_usd(v, nano, __LINE__)


static void
test_limits(void)
{
    aigw_tenants_t       *ts;
    const aigw_tenant_t  *t;

    ts = load_tenant("{\"id\": \"a\"}");
    if (CHECK(ts != NULL)) {
        t = aigw_tenants_get(ts, 0);
        CHECK_EQ(t->limits.rpm, AIGW_LIMIT_NONE);
        CHECK_EQ(t->limits.tpm, AIGW_LIMIT_NONE);
        CHECK_EQ(t->limits.daily_nanousd, AIGW_LIMIT_NONE);
        CHECK_EQ(t->limits.monthly_nanousd, AIGW_LIMIT_NONE);
        CHECK_EQ_SIZE(t->limits.nalert_at, 0);
        aigw_tenants_free(ts);
    }

    ts = load_limits("{\"rpm\": 0, \"tpm\": 9007199254740993}", __LINE__);
    if (ts) {
        t = aigw_tenants_get(ts, 0);
        CHECK_EQ(t->limits.rpm, 0);
        CHECK_EQ(t->limits.tpm, 9007199254740993LL);
        CHECK_EQ(t->limits.daily_nanousd, AIGW_LIMIT_NONE);
        aigw_tenants_free(ts);
    }

    /* a key's own limits, beside the tenant's */

    ts = load_tenant("{\"id\": \"a\", \"limits\": {\"rpm\": 5},"
                     " \"keys\": [{\"id\": \"k1\", \"sha256\": \"" H64 "\","
                     " \"limits\": {\"daily_usd\": 2.5,"
                     " \"alert_at\": [0.5]}},"
                     " {\"id\": \"k2\", \"sha256\": \"" H64 "\"}]}");
    if (CHECK(ts != NULL)) {
        t = aigw_tenants_get(ts, 0);
        CHECK_EQ(t->limits.rpm, 5);
        CHECK_EQ(t->keys[0].limits.rpm, AIGW_LIMIT_NONE);
        CHECK_EQ(t->keys[0].limits.daily_nanousd, 2500000000LL);
        CHECK_EQ_SIZE(t->keys[0].limits.nalert_at, 1);
        CHECK_EQ(t->keys[0].limits.alert_at[0], 500000);
        CHECK_EQ(t->keys[1].limits.daily_nanousd, AIGW_LIMIT_NONE);
        CHECK_EQ(t->keys[1].limits.rpm, AIGW_LIMIT_NONE);
        aigw_tenants_free(ts);
    }

    USD("50", 50000000000LL);
    USD("0", 0);
    USD("0.0", 0);
    USD("-0.0", 0);
    USD("\"0\"", 0);
    USD("\"0.1\"", 100000000LL);
    USD("0.1", 100000000LL);
    USD("0.3", 300000000LL);
    USD("12.5", 12500000000LL);
    USD("\"12.5\"", 12500000000LL);
    USD("1000", 1000000000000LL);
    USD("12.345678901", 12345678901LL);
    USD("\"12.345678901\"", 12345678901LL);
    USD("\"0.1000000000\"", 100000000LL);
    USD("\"007.50\"", 7500000000LL);
    USD("0.000000001", 1);
    USD("1e-9", 1);
    USD("1.5e3", 1500000000000LL);
    USD("1E2", 100000000000LL);
    USD("123456.123456789", 123456123456789LL);
    USD("9223372036", 9223372036000000000LL);
    USD("\"9223372036.854775807\"", 9223372036854775807LL);

    /* strings: plain decimals only */

    TERR("{\"id\": \"a\", \"limits\": {\"daily_usd\": \".5\"}}",
         "tenant \"a\": limits.daily_usd: expected a non-negative amount in"
         " USD (a number, or a string such as \"12.5\")");
    TERR("{\"id\": \"a\", \"limits\": {\"daily_usd\": \"5.\"}}",
         "tenant \"a\": limits.daily_usd: expected a non-negative amount in"
         " USD (a number, or a string such as \"12.5\")");
    TERR("{\"id\": \"a\", \"limits\": {\"daily_usd\": \" 5\"}}",
         "tenant \"a\": limits.daily_usd: expected a non-negative amount in"
         " USD (a number, or a string such as \"12.5\")");
    TERR("{\"id\": \"a\", \"limits\": {\"daily_usd\": \"+5\"}}",
         "tenant \"a\": limits.daily_usd: expected a non-negative amount in"
         " USD (a number, or a string such as \"12.5\")");
    TERR("{\"id\": \"a\", \"limits\": {\"daily_usd\": \"\"}}",
         "tenant \"a\": limits.daily_usd: expected a non-negative amount in"
         " USD (a number, or a string such as \"12.5\")");
    TERR("{\"id\": \"a\", \"limits\": {\"daily_usd\": \"5 USD\"}}",
         "tenant \"a\": limits.daily_usd: expected a non-negative amount in"
         " USD (a number, or a string such as \"12.5\")");

    /* alert_at: parts per million, sorted */

    ts = load_limits("{\"alert_at\": [1.0, 0.5, 0.8]}", __LINE__);
    if (ts) {
        t = aigw_tenants_get(ts, 0);
        if (CHECK_EQ_SIZE(t->limits.nalert_at, 3)) {
            CHECK_EQ(t->limits.alert_at[0], 500000);
            CHECK_EQ(t->limits.alert_at[1], 800000);
            CHECK_EQ(t->limits.alert_at[2], 1000000);
        }
        aigw_tenants_free(ts);
    }

    ts = load_limits("{\"alert_at\": [1.2, 1, \"0.25\", 0.000001, 10, 0.9]}",
                     __LINE__);
    if (ts) {
        t = aigw_tenants_get(ts, 0);
        if (CHECK_EQ_SIZE(t->limits.nalert_at, 6)) {
            CHECK_EQ(t->limits.alert_at[0], 1);
            CHECK_EQ(t->limits.alert_at[1], 250000);
            CHECK_EQ(t->limits.alert_at[2], 900000);
            CHECK_EQ(t->limits.alert_at[3], 1000000);
            CHECK_EQ(t->limits.alert_at[4], 1200000);
            CHECK_EQ(t->limits.alert_at[5], 10000000);
        }
        aigw_tenants_free(ts);
    }

    ts = load_limits("{\"alert_at\": []}", __LINE__);
    if (ts) {
        CHECK_EQ_SIZE(aigw_tenants_get(ts, 0)->limits.nalert_at, 0);
        aigw_tenants_free(ts);
    }

    ts = load_limits("{\"alert_at\": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7,"
                     " 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6]}",
                     __LINE__);
    if (ts) {
        t = aigw_tenants_get(ts, 0);
        CHECK_EQ_SIZE(t->limits.nalert_at, 16);
        CHECK_EQ(t->limits.alert_at[15], 1600000);
        aigw_tenants_free(ts);
    }
}


/* the example of SPEC.md, with a real hash */

static void
test_full_example(void)
{
    char                             key[AIGW_KEY_MAX_LEN + 1];
    char                             hex[AIGW_SHA256_HEX_LEN + 1];
    char                             json[2048];
    size_t                           n;
    aigw_tenants_t                  *ts;
    const aigw_key_t                *k;
    const aigw_str_t                *arn;
    const aigw_tenant_t             *t, *tt;

    n = aigw_key_generate(S("k7f3q2"), key, hex);
    CHECK_EQ_SIZE(n, 5 + 6 + 1 + 43);

    snprintf(json, sizeof(json),
        "{\n"
        "  \"tenants\": [\n"
        "    {\n"
        "      \"id\": \"team-a\",\n"
        "      \"project\": \"support-bot\",\n"
        "      \"department\": \"sales\",\n"
        "      \"keys\": [{\"id\": \"k7f3q2\", \"sha256\": \"%s\"}],\n"
        "      \"models\": [\"anthropic.claude-3-haiku-*\", \"amazon.nova-*\","
        " \"my-llama\"],\n"
        "      \"inference_profiles\": {\n"
        "        \"anthropic.claude-3-haiku-20240307-v1:0\":\n"
        "          \"" PROFILE_ARN "\"\n"
        "      },\n"
        "      \"limits\": {\"rpm\": 600, \"tpm\": 200000, \"daily_usd\": 50,"
        " \"monthly_usd\": 1000,\n"
        "                 \"alert_at\": [0.5, 0.8, 1.0]}\n"
        "    }\n"
        "  ]\n"
        "}\n", hex);

    ts = load(json);
    if (!CHECK(ts != NULL)) {
        fprintf(stderr, "    err: %s\n", err);
        return;
    }

    /* nothing points into the text */

    memset(json, 'x', sizeof(json));

    CHECK_EQ_SIZE(aigw_tenants_count(ts), 1);
    CHECK_EQ_SIZE(aigw_tenants_key_count(ts), 1);

    t = aigw_tenants_get(ts, 0);
    CHECK_STR(t->id.data, "team-a");
    CHECK_EQ_SIZE(t->id.len, 6);
    CHECK_STR(t->project.data, "support-bot");
    CHECK_STR(t->department.data, "sales");

    tt = aigw_tenants_find(ts, S("team-a"));
    CHECK(tt == t);
    CHECK(aigw_tenants_find(ts, S("team-b")) == NULL);
    CHECK(aigw_tenants_find(ts, S("team-")) == NULL);
    CHECK(aigw_tenants_find(ts, S("Team-a")) == NULL);

    if (CHECK_EQ_SIZE(t->nkeys, 1)) {
        CHECK_STR(t->keys[0].id.data, "k7f3q2");
        CHECK(t->keys[0].tenant == t);
        CHECK_EQ_SIZE(t->keys[0].created.len, 0);
        CHECK_STR(t->keys[0].created.data, "");
        CHECK_STR(t->keys[0].note.data, "");
    }

    k = aigw_tenants_find_key(ts, S("k7f3q2"));
    CHECK(k == &t->keys[0]);

    if (CHECK_EQ_SIZE(t->nmodels, 3)) {
        CHECK_STR(t->models[0].data, "anthropic.claude-3-haiku-*");
        CHECK_STR(t->models[2].data, "my-llama");
    }

    CHECK(aigw_tenant_model_allowed(t,
                                S("anthropic.claude-3-haiku-20240307-v1:0")));
    CHECK(aigw_tenant_model_allowed(t, S("amazon.nova-lite-v1:0")));
    CHECK(aigw_tenant_model_allowed(t, S("my-llama")));
    CHECK(!aigw_tenant_model_allowed(t, S("my-llama2")));
    CHECK(!aigw_tenant_model_allowed(t, S("anthropic.claude-3-sonnet")));

    /* exact glob semantics: the cross-region profile is not implied */

    CHECK(!aigw_tenant_model_allowed(t,
                            S("us.anthropic.claude-3-haiku-20240307-v1:0")));

    if (CHECK_EQ_SIZE(t->nprofiles, 1)) {
        arn = aigw_tenant_inference_profile(t,
                                S("anthropic.claude-3-haiku-20240307-v1:0"));
        if (CHECK(arn != NULL)) {
            CHECK_STR(arn->data, PROFILE_ARN);
            CHECK_EQ_SIZE(arn->len, sizeof(PROFILE_ARN) - 1);
        }
    }

    CHECK(aigw_tenant_inference_profile(t, S("amazon.nova-lite-v1:0"))
          == NULL);

    CHECK_EQ(t->limits.rpm, 600);
    CHECK_EQ(t->limits.tpm, 200000);
    CHECK_EQ(t->limits.daily_nanousd, 50 * AIGW_NANOUSD_PER_USD);
    CHECK_EQ(t->limits.monthly_nanousd, 1000 * AIGW_NANOUSD_PER_USD);
    CHECK_EQ_SIZE(t->limits.nalert_at, 3);

    CHECK_EQ(aigw_tenants_authenticate(ts, key, n, &tt, &k), AIGW_AUTH_OK);
    CHECK(tt == t);
    CHECK(k == &t->keys[0]);

    aigw_tenants_free(ts);
}


static void
test_optional_fields(void)
{
    aigw_tenants_t       *ts;
    const aigw_tenant_t  *t;

    ts = load_tenant("{\"id\": \"a\", \"keys\": [{\"id\": \"k1\", \"sha256\":"
                     " \"" H64 "\", \"created\": \"2024-05-01T12:00:00Z\","
                     " \"note\": \"CI \u00e9\"}], \"models\": [],"
                     " \"inference_profiles\": {}, \"limits\": {},"
                     " \"project\": \"\", \"department\": \"R&D \\\"x\\\"\"}");
    if (!CHECK(ts != NULL)) {
        fprintf(stderr, "    err: %s\n", err);
        return;
    }

    t = aigw_tenants_get(ts, 0);
    CHECK_STR(t->keys[0].created.data, "2024-05-01T12:00:00Z");
    CHECK_STR(t->keys[0].note.data, "CI \xc3\xa9");
    CHECK_STR(t->project.data, "");
    CHECK_STR(t->department.data, "R&D \"x\"");
    CHECK_EQ_SIZE(t->nmodels, 0);
    CHECK_EQ_SIZE(t->nprofiles, 0);

    /* no models: nothing is allowed */

    CHECK(!aigw_tenant_model_allowed(t, S("amazon.nova-lite-v1:0")));
    CHECK(!aigw_tenant_model_allowed(t, S("")));
    CHECK(aigw_tenant_inference_profile(t, S("x")) == NULL);

    aigw_tenants_free(ts);

    /* absent "models" allows nothing either */

    ts = load_tenant("{\"id\": \"a\"}");
    if (CHECK(ts != NULL)) {
        t = aigw_tenants_get(ts, 0);
        CHECK(!aigw_tenant_model_allowed(t, S("amazon.nova-lite-v1:0")));
        CHECK_STR(t->project.data, "");
        CHECK_EQ_SIZE(t->project.len, 0);
        aigw_tenants_free(ts);
    }

    CHECK(!aigw_tenant_model_allowed(NULL, S("x")));
    CHECK(aigw_tenant_inference_profile(NULL, S("x")) == NULL);
}


static void
test_key_format(void)
{
    char        buf[256], *huge;
    char        key[AIGW_KEY_MAX_LEN + 1];
    char        hex[AIGW_SHA256_HEX_LEN + 1];
    const char *secret;
    size_t      n;
    aigw_str_t  id;

    secret = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456";   /* 43 */
    CHECK_EQ_SIZE(strlen(secret), 43);

    snprintf(buf, sizeof(buf), "aigw_k7f3q2_%s", secret);
    CHECK_EQ(aigw_key_parse(buf, strlen(buf), &id), 0);
    CHECK_MEM(id.data, id.len, "k7f3q2", 6);
    CHECK(id.data == buf + 5);

    /* the secret may hold "_" and "-": the id ends at the first "_" */

    CHECK_EQ(aigw_key_parse(S("aigw_k-1_"
                              "____________________________________-------"),
                            &id), 0);
    CHECK_MEM(id.data, id.len, "k-1", 3);

    CHECK_EQ(aigw_key_parse(S("aigw_k1__abcdefghijklmnopqrstuvwxyzABCDEFGHIJ"
                              "012345"), &id), 0);
    CHECK_MEM(id.data, id.len, "k1", 2);

    /* wrong prefix */

    snprintf(buf, sizeof(buf), "aigx_k7f3q2_%s", secret);
    CHECK_EQ(aigw_key_parse(buf, strlen(buf), &id), -1);
    snprintf(buf, sizeof(buf), "AIGW_k7f3q2_%s", secret);
    CHECK_EQ(aigw_key_parse(buf, strlen(buf), &id), -1);
    snprintf(buf, sizeof(buf), "Bearer aigw_k7f3q2_%s", secret);
    CHECK_EQ(aigw_key_parse(buf, strlen(buf), &id), -1);
    snprintf(buf, sizeof(buf), "aigwk7f3q2_%s", secret);
    CHECK_EQ(aigw_key_parse(buf, strlen(buf), &id), -1);

    /* no id, bad id */

    snprintf(buf, sizeof(buf), "aigw__%s", secret);
    CHECK_EQ(aigw_key_parse(buf, strlen(buf), &id), -1);
    snprintf(buf, sizeof(buf), "aigw_%s", secret);
    CHECK_EQ(aigw_key_parse(buf, strlen(buf), &id), -1);
    snprintf(buf, sizeof(buf), "aigw_k.1_%s", secret);
    CHECK_EQ(aigw_key_parse(buf, strlen(buf), &id), -1);
    snprintf(buf, sizeof(buf), "aigw_k 1_%s", secret);
    CHECK_EQ(aigw_key_parse(buf, strlen(buf), &id), -1);
    snprintf(buf, sizeof(buf), "aigw_k\xc3\xa9_%s", secret);
    CHECK_EQ(aigw_key_parse(buf, strlen(buf), &id), -1);

    memset(buf, 'i', sizeof(buf));
    memcpy(buf, "aigw_", 5);
    buf[5 + 64] = '_';
    memcpy(buf + 5 + 64 + 1, secret, 43);
    CHECK_EQ(aigw_key_parse(buf, 5 + 64 + 1 + 43, &id), 0);
    CHECK_EQ_SIZE(id.len, 64);
    CHECK_EQ_SIZE(5 + 64 + 1 + 43, AIGW_KEY_MAX_LEN);

    memset(buf, 'i', sizeof(buf));
    memcpy(buf, "aigw_", 5);
    buf[5 + 65] = '_';
    memcpy(buf + 5 + 65 + 1, secret, 43);
    CHECK_EQ(aigw_key_parse(buf, 5 + 65 + 1 + 43, &id), -1);

    /* the secret: length and alphabet */

    snprintf(buf, sizeof(buf), "aigw_k1_%.42s", secret);
    CHECK_EQ(aigw_key_parse(buf, strlen(buf), &id), -1);
    snprintf(buf, sizeof(buf), "aigw_k1_%sA", secret);
    CHECK_EQ(aigw_key_parse(buf, strlen(buf), &id), -1);
    snprintf(buf, sizeof(buf), "aigw_k1_%.42s=", secret);
    CHECK_EQ(aigw_key_parse(buf, strlen(buf), &id), -1);
    snprintf(buf, sizeof(buf), "aigw_k1_%.42s+", secret);
    CHECK_EQ(aigw_key_parse(buf, strlen(buf), &id), -1);
    snprintf(buf, sizeof(buf), "aigw_k1_%.42s/", secret);
    CHECK_EQ(aigw_key_parse(buf, strlen(buf), &id), -1);
    snprintf(buf, sizeof(buf), "aigw_k1_%.42s ", secret);
    CHECK_EQ(aigw_key_parse(buf, strlen(buf), &id), -1);
    snprintf(buf, sizeof(buf), "aigw_k1_%s\n", secret);
    CHECK_EQ(aigw_key_parse(buf, strlen(buf), &id), -1);
    snprintf(buf, sizeof(buf), "aigw_k1_%.20s%c%.22s", secret, '\0',
             secret);
    CHECK_EQ(aigw_key_parse(buf, 8 + 43, &id), -1);
    snprintf(buf, sizeof(buf), "aigw_k1_");
    CHECK_EQ(aigw_key_parse(buf, strlen(buf), &id), -1);

    /* empty, NULL, huge */

    CHECK_EQ(aigw_key_parse("", 0, &id), -1);
    CHECK_EQ(aigw_key_parse(NULL, 0, &id), -1);
    CHECK_EQ(aigw_key_parse(S("aigw_"), &id), -1);

    huge = malloc(1 << 20);
    if (CHECK(huge != NULL)) {
        memset(huge, 'a', 1 << 20);
        memcpy(huge, "aigw_k1_", 8);
        CHECK_EQ(aigw_key_parse(huge, 1 << 20, &id), -1);
        free(huge);
    }

    /* generated keys */

    n = aigw_key_generate(NULL, 0, key, hex);
    CHECK_EQ_SIZE(n, 5 + AIGW_KEY_GEN_ID_LEN + 1 + 43);
    CHECK_EQ_SIZE(strlen(key), n);
    CHECK_EQ_SIZE(strlen(hex), 64);
    CHECK_EQ(aigw_key_parse(key, n, &id), 0);
    CHECK_EQ_SIZE(id.len, AIGW_KEY_GEN_ID_LEN);
    CHECK(strspn(id.data, "abcdefghijklmnopqrstuvwxyz0123456789")
          >= AIGW_KEY_GEN_ID_LEN);

    aigw_sha256_hex(buf, key, n);
    CHECK_MEM(hex, 64, buf, 64);

    strcpy(buf, key);
    n = aigw_key_generate(NULL, 0, key, hex);
    CHECK(strcmp(buf, key) != 0);
    CHECK(memcmp(buf + 5, key + 5, 8) != 0);
    CHECK(memcmp(buf + 14, key + 14, 43) != 0);

    n = aigw_key_generate(S("ci-deploy"), key, hex);
    CHECK_EQ_SIZE(n, 5 + 9 + 1 + 43);
    CHECK(strncmp(key, "aigw_ci-deploy_", 15) == 0);
    CHECK_EQ(aigw_key_parse(key, n, &id), 0);

    memset(buf, 'k', 64);
    n = aigw_key_generate(buf, 64, key, hex);
    CHECK_EQ_SIZE(n, AIGW_KEY_MAX_LEN);
    CHECK_EQ(aigw_key_parse(key, n, &id), 0);

    CHECK_EQ_SIZE(aigw_key_generate(buf, 65, key, hex), 0);
    CHECK_EQ_SIZE(aigw_key_generate(S("ci_deploy"), key, hex), 0);
    CHECK_EQ_SIZE(aigw_key_generate("", 0, key, hex), 0);

    CHECK(aigw_key_id_valid(S("K-1")));
    CHECK(!aigw_key_id_valid(S("k_1")));
    CHECK(!aigw_key_id_valid(NULL, 0));
    CHECK(aigw_tenant_id_valid(S("team_a.b-c")));
    CHECK(!aigw_tenant_id_valid(S("team:a")));
    CHECK(!aigw_tenant_id_valid(S("")));
}


static void
test_authenticate(void)
{
    int                   i;
    char                  json[1024], secret[44];
    char                  key1[AIGW_KEY_MAX_LEN + 1];
    char                  key2[AIGW_KEY_MAX_LEN + 1];
    char                  hex1[AIGW_SHA256_HEX_LEN + 1];
    char                  hex2[AIGW_SHA256_HEX_LEN + 1];
    char                  other[AIGW_KEY_MAX_LEN + 1];
    size_t                n1, n2;
    aigw_tenants_t       *ts;
    const aigw_key_t     *k;
    const aigw_tenant_t  *t;

    n1 = aigw_key_generate(S("k1"), key1, hex1);
    n2 = aigw_key_generate(S("k2"), key2, hex2);

    /* either case of hex is accepted */

    for (i = 0; hex2[i]; i++) {
        if (hex2[i] >= 'a' && hex2[i] <= 'f') {
            hex2[i] -= 0x20;
        }
    }

    snprintf(json, sizeof(json),
             "{\"tenants\": ["
             "{\"id\": \"a\", \"keys\": [{\"id\": \"k1\","
             " \"sha256\": \"%s\"}]},"
             "{\"id\": \"b\", \"keys\": [{\"id\": \"k2\","
             " \"sha256\": \"%s\"}]}"
             "]}", hex1, hex2);

    ts = load(json);
    if (!CHECK(ts != NULL)) {
        fprintf(stderr, "    err: %s\n", err);
        return;
    }

    CHECK_EQ(aigw_tenants_authenticate(ts, key1, n1, &t, &k), AIGW_AUTH_OK);
    CHECK(t != NULL && strcmp(t->id.data, "a") == 0);
    CHECK(k != NULL && strcmp(k->id.data, "k1") == 0);

    CHECK_EQ(aigw_tenants_authenticate(ts, key2, n2, &t, &k), AIGW_AUTH_OK);
    CHECK(t != NULL && strcmp(t->id.data, "b") == 0);
    CHECK(k != NULL && k->tenant == t);

    /* same id, another secret */

    memcpy(other, key1, n1 + 1);
    other[n1 - 1] = (other[n1 - 1] == 'A') ? 'B' : 'A';
    CHECK_EQ(aigw_tenants_authenticate(ts, other, n1, &t, &k),
             AIGW_AUTH_BAD_SECRET);
    CHECK(t == NULL && k == NULL);

    /* k2's secret under k1's id */

    memcpy(secret, key2 + 8, 44);
    snprintf(other, sizeof(other), "aigw_k1_%s", secret);
    CHECK_EQ(aigw_tenants_authenticate(ts, other, n1, &t, &k),
             AIGW_AUTH_BAD_SECRET);

    /* unknown id */

    snprintf(other, sizeof(other), "aigw_k3_%s", secret);
    CHECK_EQ(aigw_tenants_authenticate(ts, other, n1, &t, &k),
             AIGW_AUTH_UNKNOWN_KEY);
    CHECK(t == NULL && k == NULL);

    snprintf(other, sizeof(other), "aigw_K1_%s", key1 + 8);
    CHECK_EQ(aigw_tenants_authenticate(ts, other, n1, &t, &k),
             AIGW_AUTH_UNKNOWN_KEY);

    /* malformed */

    CHECK_EQ(aigw_tenants_authenticate(ts, key1, n1 - 1, &t, &k),
             AIGW_AUTH_MALFORMED);
    CHECK_EQ(aigw_tenants_authenticate(ts, "", 0, &t, &k),
             AIGW_AUTH_MALFORMED);
    CHECK_EQ(aigw_tenants_authenticate(ts, key1 + 1, n1 - 1, &t, &k),
             AIGW_AUTH_MALFORMED);
    CHECK(t == NULL && k == NULL);

    /* the hash of the whole key: a key id is not a key */

    CHECK_EQ(aigw_tenants_authenticate(ts, S("k1"), &t, &k),
             AIGW_AUTH_MALFORMED);

    aigw_tenants_free(ts);

    /* revoked by removal: the next load does not know it */

    snprintf(json, sizeof(json),
             "{\"tenants\": ["
             "{\"id\": \"a\", \"keys\": []},"
             "{\"id\": \"b\", \"keys\": [{\"id\": \"k2\", \"sha256\": \"%s\"}]}"
             "]}", hex2);

    ts = load(json);
    if (CHECK(ts != NULL)) {
        CHECK_EQ(aigw_tenants_authenticate(ts, key1, n1, &t, &k),
                 AIGW_AUTH_UNKNOWN_KEY);
        CHECK_EQ(aigw_tenants_authenticate(ts, key2, n2, &t, &k),
                 AIGW_AUTH_OK);
        aigw_tenants_free(ts);
    }

    /* no tenants at all */

    CHECK_EQ(aigw_tenants_authenticate(NULL, key1, n1, &t, &k),
             AIGW_AUTH_UNKNOWN_KEY);
    CHECK(t == NULL && k == NULL);
    CHECK(aigw_tenants_find_key(NULL, S("k1")) == NULL);
    CHECK(aigw_tenants_find(NULL, S("a")) == NULL);
    CHECK_EQ_SIZE(aigw_tenants_count(NULL), 0);
}


#define GLOB(p, s)    aigw_glob_match(S(p), S(s))


static void
test_glob(void)
{
    char     *s, *p;
    size_t    i, n;
    clock_t   start;
    double    secs;

    /* the empty pattern matches only the empty string */

    CHECK(GLOB("", ""));
    CHECK(!GLOB("", "a"));

    /* "*" matches anything, ":" and "/" included */

    CHECK(GLOB("*", ""));
    CHECK(GLOB("*", "anthropic.claude-3-haiku-20240307-v1:0"));
    CHECK(GLOB("*", "arn:aws:bedrock:us-east-1:123456789012:"
                    "inference-profile/us.x"));
    CHECK(GLOB("**", "abc"));
    CHECK(GLOB("***", ""));

    /* "?" matches exactly one byte */

    CHECK(GLOB("?", "a"));
    CHECK(GLOB("?", ":"));
    CHECK(!GLOB("?", ""));
    CHECK(!GLOB("?", "ab"));
    CHECK(GLOB("??", "ab"));
    CHECK(GLOB("a?c", "abc"));
    CHECK(!GLOB("a?c", "ac"));
    CHECK(GLOB("*?", "a"));
    CHECK(!GLOB("*?", ""));
    CHECK(GLOB("?*?", "ab"));
    CHECK(!GLOB("?*?", "a"));
    CHECK(GLOB("\xc3\xa9?", "\xc3\xa9x"));
    CHECK(!GLOB("?", "\xc3\xa9"));          /* one byte, not a character */

    /* anchored at both ends */

    CHECK(GLOB("claude", "claude"));
    CHECK(!GLOB("claude", "anthropic.claude-3"));
    CHECK(!GLOB("claude*", "anthropic.claude-3"));
    CHECK(!GLOB("*claude", "anthropic.claude-3"));
    CHECK(GLOB("*claude*", "anthropic.claude-3"));
    CHECK(GLOB("anthropic.claude-3-haiku-*",
               "anthropic.claude-3-haiku-20240307-v1:0"));
    CHECK(!GLOB("anthropic.claude-3-haiku-*",
                "us.anthropic.claude-3-haiku-20240307-v1:0"));
    CHECK(GLOB("*.anthropic.claude-3-haiku-*",
               "us.anthropic.claude-3-haiku-20240307-v1:0"));
    CHECK(GLOB("amazon.nova-*-v1:0", "amazon.nova-lite-v1:0"));
    CHECK(!GLOB("amazon.nova-*-v1:0", "amazon.nova-lite-v1:1"));
    CHECK(GLOB("arn:aws:bedrock:*:123456789012:*",
               "arn:aws:bedrock:us-east-1:123456789012:"
               "application-inference-profile/abc"));
    CHECK(!GLOB("arn:aws:bedrock:*:123456789012:*",
                "arn:aws:bedrock:us-east-1:210987654321:"
                "application-inference-profile/abc"));
    CHECK(GLOB("a*b*c", "abc"));
    CHECK(GLOB("a*b*c", "aXbYc"));
    CHECK(GLOB("a*b*c", "abbbcc"));
    CHECK(!GLOB("a*b*c", "abcb"));
    CHECK(GLOB("*ab", "aab"));
    CHECK(GLOB("*aab", "aaaab"));
    CHECK(!GLOB("*aab", "aaaba"));
    CHECK(GLOB("a*", "a"));
    CHECK(!GLOB("a*", ""));
    CHECK(!GLOB("abc", "ab"));
    CHECK(!GLOB("ab", "abc"));
    CHECK(!GLOB("ABC", "abc"));

    /* everything else is literal: no classes, no escapes */

    CHECK(GLOB("[ab]", "[ab]"));
    CHECK(!GLOB("[ab]", "a"));
    CHECK(GLOB("a\\*", "a\\xyz"));
    CHECK(!GLOB("a\\*", "a*"));
    CHECK(GLOB("{a,b}", "{a,b}"));
    CHECK(GLOB("a.b", "a.b"));
    CHECK(!GLOB("a.b", "axb"));
    CHECK(GLOB("x+", "x+"));
    CHECK(!GLOB("x+", "xx"));
    CHECK(GLOB("^$", "^$"));
    CHECK(aigw_glob_match("a\0b", 3, "a\0b", 3));
    CHECK(!aigw_glob_match("a\0b", 3, "a\0c", 3));
    CHECK(aigw_glob_match("a*", 2, "a\0c", 3));

    /* pathological patterns stay fast: no exponential backtracking */

    n = 100000;
    s = malloc(n + 1);
    p = malloc(64);

    if (CHECK(s != NULL && p != NULL)) {
        memset(s, 'a', n);
        s[n] = '\0';

        start = clock();

        CHECK(!aigw_glob_match(S("*a*a*a*a*b"), s, n));
        CHECK(!aigw_glob_match(S("*a*a*a*a*a*a*a*a*a*a*a*a*a*b"), s, n));
        CHECK(aigw_glob_match(S("*a*a*a*a*a"), s, n));
        CHECK(!aigw_glob_match(S("a*a*a*a*a*a*a*a*a*a*a*a*a*a*?b"), s, n));
        CHECK(!aigw_glob_match(S("*aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab"), s, n));

        for (i = 0; i < 30; i++) {
            p[2 * i] = '*';
            p[2 * i + 1] = '?';
        }

        CHECK(aigw_glob_match(p, 60, s, n));
        p[59] = 'b';
        CHECK(!aigw_glob_match(p, 60, s, n));

        s[n - 1] = 'b';
        CHECK(aigw_glob_match(S("*a*a*a*a*b"), s, n));

        secs = (double) (clock() - start) / CLOCKS_PER_SEC;
        printf("glob: pathological patterns on %zu bytes: %.1f ms\n", n,
               secs * 1000);
        CHECK(secs < 5.0);
    }

    free(s);
    free(p);
}


static void
test_inference_profiles(void)
{
    int                   i;
    char                  json[8192], *p, model[64], arn[160];
    aigw_tenants_t       *ts;
    const aigw_str_t     *a;
    const aigw_tenant_t  *t;

    /* many entries, given out of order: binary search after sorting */

    p = json;
    p += sprintf(p, "{\"tenants\": [{\"id\": \"a\", \"models\": [\"*\"],"
                    " \"inference_profiles\": {");

    for (i = 39; i >= 0; i--) {
        p += sprintf(p, "%s\"m%d.model-v1:0\": \"arn:aws:bedrock:us-east-1:"
                        "123456789012:application-inference-profile/p%d\"",
                     (i == 39) ? "" : ", ", i, i);
    }

    p += sprintf(p, ", \"us.m1.model-v1:0\": \"arn:aws:bedrock:us-east-1:"
                    "123456789012:inference-profile/us.m1.model-v1:0\"}}]}");

    ts = load(json);
    if (!CHECK(ts != NULL)) {
        fprintf(stderr, "    err: %s\n", err);
        return;
    }

    t = aigw_tenants_get(ts, 0);
    CHECK_EQ_SIZE(t->nprofiles, 41);

    for (i = 0; i < 40; i++) {
        snprintf(model, sizeof(model), "m%d.model-v1:0", i);
        snprintf(arn, sizeof(arn), "arn:aws:bedrock:us-east-1:123456789012:"
                 "application-inference-profile/p%d", i);

        a = aigw_tenant_inference_profile(t, model, strlen(model));
        if (CHECK(a != NULL)) {
            CHECK_STR(a->data, arn);
        }
    }

    a = aigw_tenant_inference_profile(t, S("us.m1.model-v1:0"));
    if (CHECK(a != NULL)) {
        CHECK_STR(a->data, "arn:aws:bedrock:us-east-1:123456789012:"
                           "inference-profile/us.m1.model-v1:0");
    }

    /* exact only: no prefix, no glob, no cross-region stripping */

    CHECK(aigw_tenant_inference_profile(t, S("m1.model-v1:")) == NULL);
    CHECK(aigw_tenant_inference_profile(t, S("m1.model-v1:00")) == NULL);
    CHECK(aigw_tenant_inference_profile(t, S("m1")) == NULL);
    CHECK(aigw_tenant_inference_profile(t, S("")) == NULL);
    CHECK(aigw_tenant_inference_profile(t, S("us.m2.model-v1:0")) == NULL);
    CHECK(aigw_tenant_inference_profile(t, S("m*")) == NULL);
    CHECK(aigw_tenant_inference_profile(t, S("z")) == NULL);
    CHECK(aigw_tenant_inference_profile(t, S("0")) == NULL);

    aigw_tenants_free(ts);
}


/* 10,000 tenants, 20,000 keys */

#define SCALE_TENANTS  10000
#define SCALE_KEYS     2

static void
test_scale(void)
{
    int                   i, j;
    char                 *json, *p, *copy;
    char                  keys[4][AIGW_KEY_MAX_LEN + 1];
    char                  hex[AIGW_SHA256_HEX_LEN + 1];
    char                  id[32];
    size_t                cap, len, klen[4];
    double                ms;
    aigw_tenants_t       *ts;
    struct timespec       t0, t1;
    const aigw_key_t     *k;
    const aigw_tenant_t  *t;
    static const int      probe[4] = { 0, 1, 9998, 19999 };

    cap = (size_t) SCALE_TENANTS * 512;
    json = malloc(cap);
    CHECK(json != NULL);

    if (json == NULL) {
        return;
    }

    p = json;
    p += sprintf(p, "{\"tenants\": [\n");

    for (i = 0; i < SCALE_TENANTS; i++) {
        p += sprintf(p, "%s{\"id\": \"tenant-%05d\", \"project\": \"p%d\","
                        " \"department\": \"d%d\", \"keys\": [",
                     i ? ",\n" : "", i, i % 100, i % 10);

        for (j = 0; j < SCALE_KEYS; j++) {
            snprintf(id, sizeof(id), "key-%06d", i * SCALE_KEYS + j);
            len = aigw_key_generate(id, strlen(id), keys[0], hex);

            p += sprintf(p, "%s{\"id\": \"%s\", \"sha256\": \"%s\","
                            " \"created\": \"2024-05-01T00:00:00Z\"}",
                         j ? ", " : "", id, hex);
        }

        p += sprintf(p, "], \"models\": [\"amazon.nova-*\", \"anthropic.*\"],"
                        " \"limits\": {\"rpm\": 600, \"daily_usd\": 12.5}}");
    }

    p += sprintf(p, "\n]}\n");
    len = p - json;

    CHECK(len < cap);

    /* known keys: replace the hashes of four keys by those of new keys */

    for (i = 0; i < 4; i++) {
        snprintf(id, sizeof(id), "key-%06d", probe[i]);
        klen[i] = aigw_key_generate(id, strlen(id), keys[i], hex);

        p = strstr(json, id);
        if (CHECK(p != NULL)) {
            p = strstr(p, "\"sha256\": \"");
            memcpy(p + 11, hex, 64);
        }
    }

    copy = malloc(len);
    if (!CHECK(copy != NULL)) {
        free(json);
        return;
    }

    memcpy(copy, json, len);

    clock_gettime(CLOCK_MONOTONIC, &t0);
    ts = aigw_tenants_parse(copy, len, err, sizeof(err));
    clock_gettime(CLOCK_MONOTONIC, &t1);

    /* the loaded tenants do not need the text */

    memset(copy, 0, len);
    free(copy);

    ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;

    printf("scale: %d tenants, %d keys, %zu bytes of JSON: loaded in"
           " %.1f ms\n", SCALE_TENANTS, SCALE_TENANTS * SCALE_KEYS, len, ms);

    if (!CHECK(ts != NULL)) {
        fprintf(stderr, "    err: %s\n", err);
        free(json);
        return;
    }

    CHECK_EQ_SIZE(aigw_tenants_count(ts), SCALE_TENANTS);
    CHECK_EQ_SIZE(aigw_tenants_key_count(ts), SCALE_TENANTS * SCALE_KEYS);

    for (i = 0; i < 4; i++) {
        CHECK_EQ(aigw_tenants_authenticate(ts, keys[i], klen[i], &t, &k),
                 AIGW_AUTH_OK);

        if (CHECK(t != NULL && k != NULL)) {
            snprintf(id, sizeof(id), "tenant-%05d", probe[i] / SCALE_KEYS);
            CHECK_STR(t->id.data, id);
            snprintf(id, sizeof(id), "key-%06d", probe[i]);
            CHECK_STR(k->id.data, id);
            CHECK(aigw_tenant_model_allowed(t, S("amazon.nova-pro-v1:0")));
            CHECK_EQ(t->limits.daily_nanousd, 12500000000LL);
        }
    }

    /* a valid key id with another key's secret */

    memcpy(keys[0] + 5, "key-000002", 10);
    CHECK_EQ(aigw_tenants_authenticate(ts, keys[0], klen[0], &t, &k),
             AIGW_AUTH_BAD_SECRET);

    CHECK(aigw_tenants_find(ts, S("tenant-09999")) != NULL);
    CHECK(aigw_tenants_find(ts, S("tenant-10000")) == NULL);
    CHECK(aigw_tenants_find_key(ts, S("key-019999")) != NULL);
    CHECK(aigw_tenants_find_key(ts, S("key-020000")) == NULL);

    aigw_tenants_free(ts);
    free(json);
}


static void
test_service_tiers(void)
{
    aigw_tenants_t       *ts;
    const aigw_tenant_t  *t;

    CHECK(aigw_service_tier(S("priority")) == AIGW_TIER_PRIORITY);
    CHECK(aigw_service_tier(S("flex")) == AIGW_TIER_FLEX);
    CHECK(aigw_service_tier(S("reserved")) == AIGW_TIER_RESERVED);
    CHECK(aigw_service_tier(S("default")) == AIGW_TIER_DEFAULT);
    CHECK(aigw_service_tier(S("Priority")) == 0);
    CHECK(aigw_service_tier(S("priorit")) == 0);
    CHECK(aigw_service_tier(S("")) == 0);
    CHECK(strcmp(aigw_service_tier_name(AIGW_TIER_FLEX), "flex") == 0);
    CHECK(strcmp(aigw_service_tier_name(0), "") == 0);

    /* none listed: the default tier only, no latency-optimized */

    ts = load_tenant("{\"id\": \"a\"}");
    if (CHECK(ts != NULL)) {
        t = aigw_tenants_get(ts, 0);
        CHECK(aigw_tenant_tier_allowed(t, AIGW_TIER_DEFAULT));
        CHECK(!aigw_tenant_tier_allowed(t, AIGW_TIER_PRIORITY));
        CHECK(!aigw_tenant_tier_allowed(t, AIGW_TIER_FLEX));
        CHECK(!aigw_tenant_tier_allowed(t, 0));
        CHECK(t->latency_optimized == 0);
        aigw_tenants_free(ts);
    }

    ts = load_tenant("{\"id\": \"a\", \"service_tiers\": [\"flex\"],"
                     " \"latency_optimized\": true}");
    if (CHECK(ts != NULL)) {
        t = aigw_tenants_get(ts, 0);
        CHECK(aigw_tenant_tier_allowed(t, AIGW_TIER_DEFAULT));
        CHECK(aigw_tenant_tier_allowed(t, AIGW_TIER_FLEX));
        CHECK(!aigw_tenant_tier_allowed(t, AIGW_TIER_PRIORITY));
        CHECK(!aigw_tenant_tier_allowed(t, AIGW_TIER_RESERVED));
        CHECK(t->latency_optimized == 1);
        aigw_tenants_free(ts);
    }

    TERR("{\"id\": \"a\", \"service_tiers\": \"flex\"}",
         "tenant \"a\": service_tiers: expected an array of \"priority\","
         " \"flex\", \"reserved\", \"default\"");
    TERR("{\"id\": \"a\", \"service_tiers\": [\"flex\", \"gold\"]}",
         "tenant \"a\": service_tiers #2: \"gold\" is not \"priority\","
         " \"flex\", \"reserved\" or \"default\"");
    TERR("{\"id\": \"a\", \"service_tiers\": [1]}",
         "tenant \"a\": service_tiers #1: expected a string");
    TERR("{\"id\": \"a\", \"latency_optimized\": 1}",
         "tenant \"a\": latency_optimized: expected true or false");
}


int
main(void)
{
    test_top_level();
    test_syntax_errors();
    test_tenant_errors();
    test_text_errors();
    test_key_errors();
    test_model_errors();
    test_profile_errors();
    test_limit_errors();
    test_limits();
    test_full_example();
    test_optional_fields();
    test_key_format();
    test_authenticate();
    test_glob();
    test_inference_profiles();
    test_service_tiers();
    test_scale();

    aigw_util_cleanup();

    return unit_done("test_tenants");
}

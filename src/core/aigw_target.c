
/*
 * aigw: what a tenant request targets: the operation (from the path), the
 * model ID or SageMaker endpoint name (validated), the upstream path and
 * the default AWS endpoint.  No nginx headers.
 */


#include <string.h>

#include "aigw_util.h"
#include "aigw_target.h"


#define aigw_target_starts(p, len, s)                                         \
    ((len) >= sizeof(s) - 1 && memcmp(p, s, sizeof(s) - 1) == 0)


const char  *aigw_service_names[] = { "", "bedrock", "sagemaker" };
const char  *aigw_service_signing_names[] = { "", "bedrock", "sagemaker" };


static const char *aigw_target_check_endpoint(const char *id, size_t len);


static const aigw_op_t  aigw_ops[] = {

    { AIGW_OP_NONE, AIGW_SERVICE_NONE, "", "", 0, 0 },

    { AIGW_OP_INVOKE, AIGW_SERVICE_BEDROCK,
      "invoke", "InvokeModel", 0, 1 },

    { AIGW_OP_INVOKE_STREAM, AIGW_SERVICE_BEDROCK,
      "invoke-with-response-stream", "InvokeModelWithResponseStream", 1, 1 },

    { AIGW_OP_CONVERSE, AIGW_SERVICE_BEDROCK,
      "converse", "Converse", 0, 1 },

    { AIGW_OP_CONVERSE_STREAM, AIGW_SERVICE_BEDROCK,
      "converse-stream", "ConverseStream", 1, 1 },

    { AIGW_OP_COUNT_TOKENS, AIGW_SERVICE_BEDROCK,
      "count-tokens", "CountTokens", 0, 0 },

    { AIGW_OP_SM_INVOKE, AIGW_SERVICE_SAGEMAKER,
      "invocations", "InvokeEndpoint", 0, 1 },

    { AIGW_OP_SM_INVOKE_STREAM, AIGW_SERVICE_SAGEMAKER,
      "invocations-response-stream", "InvokeEndpointWithResponseStream",
      1, 1 }
};


/* the ARN resource types of Bedrock Runtime's modelId */

static const char  *aigw_arn_types[] = {
    "foundation-model",
    "inference-profile",
    "application-inference-profile",
    "provisioned-model",
    "imported-model",
    "custom-model",
    "custom-model-deployment",
    "prompt",
    "prompt-router",
    "default-prompt-router",
    "endpoint",
    NULL
};


const aigw_op_t *
aigw_op_get(aigw_op_e id)
{
    if (id <= AIGW_OP_NONE || id > AIGW_OP_SM_INVOKE_STREAM) {
        return NULL;
    }

    return &aigw_ops[id];
}


const aigw_op_t *
aigw_op_by_suffix(aigw_service_e service, const char *s, size_t len)
{
    size_t  i;

    for (i = 1; i < sizeof(aigw_ops) / sizeof(aigw_ops[0]); i++) {
        if (aigw_ops[i].service == service
            && strlen(aigw_ops[i].suffix) == len
            && memcmp(aigw_ops[i].suffix, s, len) == 0)
        {
            return &aigw_ops[i];
        }
    }

    return NULL;
}


aigw_target_rc_e
aigw_target_parse_path(const char *path, size_t len, const aigw_op_t **op,
    aigw_str_t *raw_id, const char **reason)
{
    int              bedrock;
    const char      *p, *end, *slash;
    aigw_service_e   service;

    if (aigw_target_starts(path, len, "/model/")) {
        service = AIGW_SERVICE_BEDROCK;
        p = path + sizeof("/model/") - 1;

    } else if (aigw_target_starts(path, len, "/endpoints/")) {
        service = AIGW_SERVICE_SAGEMAKER;
        p = path + sizeof("/endpoints/") - 1;

    } else {
        return AIGW_TARGET_NOT_FOUND;
    }

    bedrock = (service == AIGW_SERVICE_BEDROCK);
    end = path + len;

    slash = memchr(p, '/', end - p);

    if (slash == p || p == end) {
        *reason = bedrock ? "empty model ID" : "empty endpoint name";
        return AIGW_TARGET_BAD_ID;
    }

    if (slash == NULL) {
        *reason = "missing operation: the path is /model/{modelId}/{operation}"
                  " or /endpoints/{name}/{operation}";
        return AIGW_TARGET_BAD_OPERATION;
    }

    if (memchr(slash + 1, '/', end - slash - 1) != NULL) {
        *reason = bedrock
                  ? "unexpected '/' in the path: the model ID must be"
                    " percent-encoded ('/' as %2F, ':' as %3A)"
                  : "unexpected '/' in the path: the endpoint name must be"
                    " a single path segment";
        return AIGW_TARGET_BAD_ID;
    }

    *op = aigw_op_by_suffix(service, slash + 1, end - slash - 1);

    if (*op == NULL) {
        *reason = bedrock
                  ? "unknown operation: expected invoke,"
                    " invoke-with-response-stream, converse, converse-stream"
                    " or count-tokens"
                  : "unknown operation: expected invocations or"
                    " invocations-response-stream";
        return AIGW_TARGET_BAD_OPERATION;
    }

    raw_id->data = p;
    raw_id->len = slash - p;

    return AIGW_TARGET_OK;
}


size_t
aigw_target_decode_id(aigw_service_e service, char *dst, const char *raw,
    size_t len, const char **reason)
{
    size_t  n;

    n = aigw_uri_decode(dst, raw, len);

    if (n == (size_t) -1) {
        *reason = (service == AIGW_SERVICE_SAGEMAKER)
                  ? "malformed percent-encoding in the endpoint name"
                  : "malformed percent-encoding in the model ID";
        return (size_t) -1;
    }

    *reason = aigw_target_check_id(service, dst, n);

    return *reason ? (size_t) -1 : n;
}


static int
aigw_target_alnum(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
           || (c >= '0' && c <= '9');
}


/* [A-Za-z0-9._:-] */

static int
aigw_target_id_char(unsigned char c)
{
    return aigw_target_alnum(c) || c == '.' || c == '_' || c == ':'
           || c == '-';
}


/* [A-Za-z0-9._:-]+ */

static int
aigw_target_id_chars(const char *p, size_t len)
{
    size_t  i;

    if (len == 0) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (!aigw_target_id_char((unsigned char) p[i])) {
            return 0;
        }
    }

    return 1;
}


/* "aws", or "aws-" and letters in groups joined by single '-' */

static int
aigw_target_arn_partition(const char *p, size_t len)
{
    size_t  i;

    if (!aigw_target_starts(p, len, "aws")) {
        return 0;
    }

    if (len == 3) {
        return 1;
    }

    if (p[3] != '-' || p[len - 1] == '-') {
        return 0;
    }

    for (i = 4; i < len; i++) {
        if (p[i] == '-') {
            if (p[i - 1] == '-') {
                return 0;
            }

            continue;
        }

        if (p[i] < 'a' || p[i] > 'z') {
            return 0;
        }
    }

    return 1;
}


/* [a-z0-9-]+ */

static int
aigw_target_region_ok(const char *p, size_t len)
{
    size_t  i;

    if (len == 0) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9')
              || p[i] == '-'))
        {
            return 0;
        }
    }

    return 1;
}


/* TYPE/ID, or custom-model/ID/ID */

static const char *
aigw_target_arn_resource(const char *p, size_t len)
{
    size_t        i, tlen;
    const char   *slash, *end, *second;
    const char  **t;

    end = p + len;

    slash = memchr(p, '/', len);
    if (slash == NULL) {
        return "invalid model ARN: no resource type";
    }

    tlen = slash - p;

    for (t = aigw_arn_types; *t; t++) {
        if (strlen(*t) == tlen && memcmp(*t, p, tlen) == 0) {
            break;
        }
    }

    if (*t == NULL) {
        return "invalid model ARN: unknown resource type";
    }

    p = slash + 1;

    second = memchr(p, '/', end - p);

    if (second) {
        if (strcmp(*t, "custom-model") != 0) {
            return "invalid model ARN: unexpected '/' in the resource";
        }

        i = second - p;

        if (!aigw_target_id_chars(p, i)) {
            return "invalid model ARN: bad resource ID";
        }

        p = second + 1;

        if (memchr(p, '/', end - p) != NULL) {
            return "invalid model ARN: unexpected '/' in the resource";
        }
    }

    if (!aigw_target_id_chars(p, end - p)) {
        return "invalid model ARN: bad resource ID";
    }

    return NULL;
}


/* arn:PARTITION:bedrock:REGION:ACCOUNT:RESOURCE */

static const char *
aigw_target_check_arn(const char *id, size_t len)
{
    int          sagemaker;
    size_t       i, n, flen[5];
    const char  *f[5], *end, *c;

    end = id + len;
    c = id;

    for (n = 0; n < 5; n++) {
        f[n] = c;
        c = memchr(c, ':', end - c);

        if (c == NULL) {
            return "invalid model ARN";
        }

        flen[n] = c - f[n];
        c++;
    }

    /* f[0] is "arn"; the resource, from "c", may hold more ':' */

    if (!aigw_target_arn_partition(f[1], flen[1])) {
        return "invalid model ARN: unknown partition";
    }

    if (flen[2] == sizeof("sagemaker") - 1
        && memcmp(f[2], "sagemaker", flen[2]) == 0)
    {
        sagemaker = 1;

    } else if (flen[2] == sizeof("bedrock") - 1
               && memcmp(f[2], "bedrock", flen[2]) == 0)
    {
        sagemaker = 0;

    } else {
        return "invalid model ARN: not a Bedrock ARN";
    }

    if (!aigw_target_region_ok(f[3], flen[3])) {
        return "invalid model ARN: bad region";
    }

    if (flen[4] != 0 && flen[4] != 12) {
        return "invalid model ARN: bad account ID";
    }

    for (i = 0; i < flen[4]; i++) {
        if (f[4][i] < '0' || f[4][i] > '9') {
            return "invalid model ARN: bad account ID";
        }
    }

    if (!sagemaker) {
        return aigw_target_arn_resource(c, end - c);
    }

    /*
     * a Bedrock Marketplace model deployed to a SageMaker endpoint:
     * arn:aws:sagemaker:REGION:ACCOUNT:endpoint/NAME
     */

    n = end - c;

    if (flen[4] != 12 || !aigw_target_starts(c, n, "endpoint/") || n == 9
        || aigw_target_check_endpoint(c + 9, n - 9) != NULL)
    {
        return "invalid model ARN: a SageMaker ARN must name an endpoint";
    }

    return NULL;
}


static const char *
aigw_target_check_model(const char *id, size_t len)
{
    size_t  i;

    if (aigw_target_starts(id, len, "arn:")) {
        return aigw_target_check_arn(id, len);
    }

    if (!aigw_target_alnum((unsigned char) id[0])) {
        return "invalid model ID: it must start with a letter or a digit";
    }

    for (i = 1; i < len; i++) {
        if (!aigw_target_id_char((unsigned char) id[i])) {
            return "invalid character in the model ID";
        }
    }

    return NULL;
}


/* ^[a-zA-Z0-9](-*[a-zA-Z0-9])*$, at most 63 */

static const char *
aigw_target_check_endpoint(const char *id, size_t len)
{
    size_t  i;

    if (len > AIGW_ENDPOINT_NAME_MAX) {
        return "endpoint name too long";
    }

    if (!aigw_target_alnum((unsigned char) id[0])
        || !aigw_target_alnum((unsigned char) id[len - 1]))
    {
        return "invalid endpoint name: it must start and end with a letter"
               " or a digit";
    }

    for (i = 1; i < len - 1; i++) {
        if (!aigw_target_alnum((unsigned char) id[i]) && id[i] != '-') {
            return "invalid character in the endpoint name";
        }
    }

    return NULL;
}


const char *
aigw_target_check_id(aigw_service_e service, const char *id, size_t len)
{
    int            bedrock;
    size_t         i;
    unsigned char  c;

    if (service != AIGW_SERVICE_BEDROCK && service != AIGW_SERVICE_SAGEMAKER)
    {
        return "unknown service";
    }

    bedrock = (service == AIGW_SERVICE_BEDROCK);

    if (len == 0) {
        return bedrock ? "empty model ID" : "empty endpoint name";
    }

    if (len > AIGW_MODEL_ID_MAX) {
        return bedrock ? "model ID too long" : "endpoint name too long";
    }

    for (i = 0; i < len; i++) {
        c = (unsigned char) id[i];

        if (c < 0x21 || c >= 0x7f) {
            return bedrock ? "invalid character in the model ID"
                           : "invalid character in the endpoint name";
        }

        if (c == '.' && i + 1 < len && id[i + 1] == '.') {
            return bedrock ? "invalid model ID: '..'"
                           : "invalid endpoint name: '..'";
        }
    }

    return bedrock ? aigw_target_check_model(id, len)
                   : aigw_target_check_endpoint(id, len);
}


size_t
aigw_target_upstream_path(char *dst, const aigw_op_t *op, const char *id,
    size_t len)
{
    size_t       n, plen, slen;
    const char  *prefix;

    if (op->service == AIGW_SERVICE_SAGEMAKER) {
        prefix = "/endpoints/";

    } else {
        prefix = "/model/";
    }

    plen = strlen(prefix);
    slen = strlen(op->suffix);

    if (dst == NULL) {
        return plen + aigw_uri_encode(NULL, id, len, 0) + 1 + slen;
    }

    memcpy(dst, prefix, plen);
    n = plen;
    n += aigw_uri_encode(dst + n, id, len, 0);
    dst[n++] = '/';
    memcpy(dst + n, op->suffix, slen);

    return n + slen;
}


size_t
aigw_target_default_host(char *dst, size_t cap, aigw_service_e service,
    const char *region, size_t region_len)
{
    size_t       n, plen, dlen;
    const char  *prefix, *domain;

    if (!aigw_target_region_ok(region, region_len)) {
        return 0;
    }

    switch (service) {

    case AIGW_SERVICE_BEDROCK:
        prefix = "bedrock-runtime.";
        break;

    case AIGW_SERVICE_SAGEMAKER:
        prefix = "runtime.sagemaker.";
        break;

    default:
        return 0;
    }

    domain = aigw_target_starts(region, region_len, "cn-")
             ? ".amazonaws.com.cn" : ".amazonaws.com";

    plen = strlen(prefix);
    dlen = strlen(domain);
    n = plen + region_len + dlen;

    if (dst == NULL || cap < n + 1) {
        return 0;
    }

    memcpy(dst, prefix, plen);
    memcpy(dst + plen, region, region_len);
    memcpy(dst + plen + region_len, domain, dlen + 1);

    return n;
}

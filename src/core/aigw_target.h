
/*
 * aigw: what a tenant request targets: the operation (from the path), the
 * model ID or SageMaker endpoint name (validated), the upstream path and
 * the default AWS endpoint.  No nginx headers.
 */

#ifndef AIGW_TARGET_H
#define AIGW_TARGET_H


#include <stddef.h>

#include "aigw_types.h"


#define AIGW_MODEL_ID_MAX        2048
#define AIGW_ENDPOINT_NAME_MAX   63


typedef enum {
    AIGW_SERVICE_NONE = 0,
    AIGW_SERVICE_BEDROCK,
    AIGW_SERVICE_SAGEMAKER
} aigw_service_e;


typedef enum {
    AIGW_OP_NONE = 0,
    AIGW_OP_INVOKE,                 /* POST /model/{id}/invoke */
    AIGW_OP_INVOKE_STREAM,          /* .../invoke-with-response-stream */
    AIGW_OP_CONVERSE,               /* .../converse */
    AIGW_OP_CONVERSE_STREAM,        /* .../converse-stream */
    AIGW_OP_COUNT_TOKENS,           /* .../count-tokens */
    AIGW_OP_SM_INVOKE,              /* POST /endpoints/{name}/invocations */
    AIGW_OP_SM_INVOKE_STREAM        /* .../invocations-response-stream */
} aigw_op_e;


typedef struct {
    aigw_op_e        id;
    aigw_service_e   service;
    const char      *suffix;        /* last path segment: "converse" */
    const char      *name;          /* API name: "Converse" */
    unsigned         streaming:1;
    unsigned         metered:1;
} aigw_op_t;


typedef enum {
    AIGW_TARGET_OK = 0,
    AIGW_TARGET_NOT_FOUND,          /* not a gateway path at all: 404 */
    AIGW_TARGET_BAD_OPERATION,      /* /model/{id}/unknown: 400 */
    AIGW_TARGET_BAD_ID              /* malformed model ID or name: 400 */
} aigw_target_rc_e;


extern const char  *aigw_service_names[];      /* "", "bedrock", "sagemaker" */
/* the SigV4 signing names: "", "bedrock", "sagemaker" */
extern const char  *aigw_service_signing_names[];


const aigw_op_t *aigw_op_get(aigw_op_e id);
/* the operation of a service whose path suffix is "s"; NULL if none */
const aigw_op_t *aigw_op_by_suffix(aigw_service_e service, const char *s,
    size_t len);

/*
 * Splits a raw (still percent-encoded) request path, without its query,
 * into the operation and the raw model ID or endpoint name:
 *
 *     /model/{modelId}/{operation}          Bedrock Runtime
 *     /endpoints/{name}/{operation}         SageMaker Runtime
 *
 * "raw_id" points into "path".  On AIGW_TARGET_BAD_* "*reason" is set to
 * a static message fit for the client.
 */
aigw_target_rc_e aigw_target_parse_path(const char *path, size_t len,
    const aigw_op_t **op, aigw_str_t *raw_id, const char **reason);

/*
 * Decodes a raw model ID or endpoint name (percent-encoded once) into
 * "dst" (at least "len" bytes) and validates it for the service.  Returns
 * the decoded length, or (size_t) -1 with "*reason" set (a static message
 * fit for the client).
 */
size_t aigw_target_decode_id(aigw_service_e service, char *dst,
    const char *raw, size_t len, const char **reason);

/*
 * Validates a decoded ID: Bedrock model IDs ("anthropic.claude-3-haiku-
 * 20240307-v1:0"), cross-region inference profile IDs ("us.amazon.nova-
 * lite-v1:0"), ARNs of foundation models, inference profiles, application
 * inference profiles, provisioned, custom and imported models; SageMaker
 * endpoint names.  Returns NULL when valid, else a static reason.
 */
const char *aigw_target_check_id(aigw_service_e service, const char *id,
    size_t len);

/*
 * The upstream path "/model/{id}/{suffix}" or "/endpoints/{id}/{suffix}",
 * the ID URI-encoded once (":" as "%3A", "/" as "%2F"), as the AWS SDKs
 * send it.  "dst" NULL: only the length is computed.
 */
size_t aigw_target_upstream_path(char *dst, const aigw_op_t *op,
    const char *id, size_t len);

/*
 * The default endpoint host of a service in a region:
 * "bedrock-runtime.us-east-1.amazonaws.com",
 * "runtime.sagemaker.eu-west-1.amazonaws.com" ("amazonaws.com.cn" in the
 * cn- regions).  Returns the length, or 0 when "cap" is too small or the
 * region is not [a-z0-9-]+.  The host is NUL-terminated.
 */
size_t aigw_target_default_host(char *dst, size_t cap,
    aigw_service_e service, const char *region, size_t region_len);


#endif /* AIGW_TARGET_H */

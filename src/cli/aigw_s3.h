
/*
 * aigw: S3 uploads for "aigw export": PutObject, signed with SigV4 for
 * the service "s3" (the path used as is in the canonical URI, the payload
 * hash in x-amz-content-sha256, signed), the bucket's region discovered
 * when not given, and the credentials of the module's chain.
 *
 * Credentials: the AWS SDKs' provider chain, the module's own
 * (aigw_credchain.h, run by aigw_cli_creds.h): the environment, web
 * identity, the shared files' profile (AWS_PROFILE, else "default";
 * static keys, a role, credential_process), the container endpoint,
 * IMDSv2.
 *
 * Addressing: without an endpoint, virtual-hosted style over HTTPS,
 * https://BUCKET.s3.REGION.amazonaws.com/KEY (amazonaws.com.cn for
 * cn-* regions); a bucket name with a "." (which the wildcard
 * certificate does not cover) goes path style to s3.REGION.amazonaws.com.
 * With an endpoint URL (http or https; S3-compatible stores, tests):
 * path style, ENDPOINT/BUCKET/KEY.
 *
 * The bucket's region, as the SDKs configure one: as given (--s3-region),
 * else AWS_REGION, else AWS_DEFAULT_REGION, else the profile's "region"
 * in the config file; only with none of them is S3 asked: a HEAD of the
 * bucket signed for us-east-1 (S3 answers with x-amz-bucket-region,
 * whatever the status), else GetBucketLocation.  A PUT that S3 redirects
 * to another region (301, or 400 AuthorizationHeaderMalformed naming the
 * region) is signed again for that region, once.
 */

#ifndef AIGW_S3_H
#define AIGW_S3_H


#include <stddef.h>

#include "aigw_sigv4.h"
#include "aigw_cli_creds.h"


#define AIGW_S3_ERR_LEN   1024


typedef struct {
    char              *bucket;
    char              *prefix;          /* "" or ending with "/" */

    char              *region;          /* NULL until known */
    char               region_source[320];  /* where it came from */

    /* the endpoint (path style), or NULL */
    int                ep_tls;
    char              *ep_host;         /* without brackets */
    char              *ep_hostport;     /* the Host header */
    unsigned           ep_port;
    char              *ep_path;         /* "" or "/base" */

    aigw_creds_t       creds;           /* pointing into chain */
    aigw_cli_creds_t   chain;

    int                verbose;
    unsigned           attempts;        /* per request, 5xx and network */
} aigw_s3_t;


/*
 * "s3://bucket/prefix/" (the prefix optional; a "/" is added when it has
 * none at its end); "region": the bucket's, NULL to find it.  Returns 0,
 * or -1 with a message.
 */
int aigw_s3_init(aigw_s3_t *s3, const char *url, const char *endpoint,
    const char *region, char *err, size_t err_size);
void aigw_s3_free(aigw_s3_t *s3);

/* resolves the credentials (see above); -1 with a message */
int aigw_s3_credentials(aigw_s3_t *s3, char *err, size_t err_size);

/*
 * The bucket's region from the configuration (AWS_REGION, ...: see
 * above) unless given; -1 with a message.  Then aigw_s3_region() asks S3
 * when none was found.
 */
int aigw_s3_region_config(aigw_s3_t *s3, char *err, size_t err_size);

/* finds the bucket's region unless known; -1 with a message */
int aigw_s3_region(aigw_s3_t *s3, char *err, size_t err_size);

/*
 * PUT of an object (key: the full key, without a leading "/").  -1 with
 * a message naming the bucket, the key, the status and S3's error code.
 */
int aigw_s3_put(aigw_s3_t *s3, const char *key, const char *body,
    size_t len, const char *content_type, char *err, size_t err_size);


#endif /* AIGW_S3_H */

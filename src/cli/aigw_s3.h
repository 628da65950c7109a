
/*
 * aigw: S3 uploads for "aigw export": PutObject, signed with SigV4 for
 * the service "s3" (the path used as is in the canonical URI, the payload
 * hash in x-amz-content-sha256, signed), the bucket's region discovered
 * when not given, and the credentials of the module's chain.
 *
 * Credentials: $AWS_ACCESS_KEY_ID and $AWS_SECRET_ACCESS_KEY (and
 * $AWS_SESSION_TOKEN), else the profile $AWS_PROFILE (else "default") of
 * the shared credentials file ($AWS_SHARED_CREDENTIALS_FILE, else
 * ~/.aws/credentials), then of the config file ($AWS_CONFIG_FILE, else
 * ~/.aws/config).
 *
 * Addressing: without an endpoint, virtual-hosted style over HTTPS,
 * https://BUCKET.s3.REGION.amazonaws.com/KEY (amazonaws.com.cn for
 * cn-* regions); a bucket name with a "." (which the wildcard
 * certificate does not cover) goes path style to s3.REGION.amazonaws.com.
 * With an endpoint URL (http or https; S3-compatible stores, tests):
 * path style, ENDPOINT/BUCKET/KEY.
 *
 * The region: as given, else a HEAD of the bucket signed for us-east-1
 * (S3 answers with x-amz-bucket-region, whatever the status), else
 * GetBucketLocation.  A PUT that S3 redirects to another region (301, or
 * 400 AuthorizationHeaderMalformed naming the region) is signed again for
 * that region, once.
 */

#ifndef AIGW_S3_H
#define AIGW_S3_H


#include <stddef.h>

#include "aigw_sigv4.h"


#define AIGW_S3_ERR_LEN   1024


typedef struct {
    char           *bucket;
    char           *prefix;         /* "" or ending with "/" */

    char           *region;         /* NULL until known */

    /* the endpoint (path style), or NULL */
    int             ep_tls;
    char           *ep_host;        /* without brackets */
    char           *ep_hostport;    /* the Host header */
    unsigned        ep_port;
    char           *ep_path;        /* "" or "/base" */

    aigw_creds_t    creds;
    char           *creds_text[2];  /* the files the strings point into */
    char            creds_source[300];

    int             verbose;
    unsigned        attempts;       /* per request, 5xx and network */
} aigw_s3_t;


/*
 * "s3://bucket/prefix/" (the prefix optional; a "/" is added when it has
 * none at its end).  Returns 0, or -1 with a message.
 */
int aigw_s3_init(aigw_s3_t *s3, const char *url, const char *endpoint,
    const char *region, char *err, size_t err_size);
void aigw_s3_free(aigw_s3_t *s3);

/* loads the credentials (see above); -1 with a message */
int aigw_s3_credentials(aigw_s3_t *s3, char *err, size_t err_size);

/* finds the bucket's region unless known; -1 with a message */
int aigw_s3_region(aigw_s3_t *s3, char *err, size_t err_size);

/*
 * PUT of an object (key: the full key, without a leading "/").  -1 with
 * a message naming the bucket, the key, the status and S3's error code.
 */
int aigw_s3_put(aigw_s3_t *s3, const char *key, const char *body,
    size_t len, const char *content_type, char *err, size_t err_size);


#endif /* AIGW_S3_H */

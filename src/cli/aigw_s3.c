
/*
 * aigw: S3 uploads for "aigw export" (see aigw_s3.h).
 */


#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "aigw_creds.h"
#include "aigw_credchain.h"
#include "aigw_sigv4.h"
#include "aigw_util.h"
#include "aigw_http.h"
#include "aigw_s3.h"
#include "aigw_cli_file.h"


#define AIGW_S3_USER_AGENT      "aigw-export/1"
#define AIGW_S3_DISCOVERY       "us-east-1"


static int aigw_s3_bucket_valid(const char *b, size_t len);
static int aigw_s3_endpoint(aigw_s3_t *s3, const char *url, char *err,
    size_t err_size);
static int aigw_s3_request(aigw_s3_t *s3, const char *method,
    const char *region, const char *key, const char *query,
    const char *body, size_t len, const char *content_type,
    aigw_http_response_t *resp, char *err, size_t err_size);
static int aigw_s3_xml(const char *body, size_t len, const char *tag,
    char *out, size_t size);
static void aigw_s3_describe(const aigw_http_response_t *resp, char *buf,
    size_t size);
static char *aigw_strndup(const char *s, size_t len);
static int aigw_s3_region_valid(const char *r, size_t len);


int
aigw_s3_init(aigw_s3_t *s3, const char *url, const char *endpoint,
    const char *region, char *err, size_t err_size)
{
    size_t       blen, plen;
    const char  *p, *slash;

    memset(s3, 0, sizeof(aigw_s3_t));
    s3->attempts = 3;

    if (strncmp(url, "s3://", 5) != 0) {
        snprintf(err, err_size, "\"%s\" is not an s3://bucket/prefix/ URL",
                 url);
        return -1;
    }

    p = url + 5;
    slash = strchr(p, '/');
    blen = slash ? (size_t) (slash - p) : strlen(p);

    if (!aigw_s3_bucket_valid(p, blen)) {
        snprintf(err, err_size, "\"%s\": \"%.*s\" is not a bucket name "
                 "(3 to 63 characters of [a-z0-9.-])", url,
                 (int) (blen > 80 ? 80 : blen), p);
        return -1;
    }

    s3->bucket = aigw_strndup(p, blen);

    p = slash ? slash : p + blen;

    while (*p == '/') {
        p++;
    }

    plen = strlen(p);

    if (plen > 900) {
        snprintf(err, err_size, "\"%s\": the prefix is over 900 bytes", url);
        return -1;
    }

    s3->prefix = malloc(plen + 2);

    if (s3->bucket == NULL || s3->prefix == NULL) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }

    memcpy(s3->prefix, p, plen + 1);

    if (plen && p[plen - 1] != '/') {
        s3->prefix[plen] = '/';
        s3->prefix[plen + 1] = '\0';
    }

    if (strstr(s3->prefix, "//") != NULL) {
        snprintf(err, err_size, "\"%s\": the prefix has an empty segment "
                 "(\"//\")", url);
        return -1;
    }

    if (region && *region) {
        if (!aigw_s3_region_valid(region, strlen(region))) {
            snprintf(err, err_size, "--s3-region \"%.64s\" is not a region "
                     "name ([a-z0-9-], at most 63)", region);
            return -1;
        }

        s3->region = strdup(region);
        if (s3->region == NULL) {
            snprintf(err, err_size, "out of memory");
            return -1;
        }

        snprintf(s3->region_source, sizeof(s3->region_source),
                 "--s3-region");
    }

    if (endpoint && *endpoint) {
        return aigw_s3_endpoint(s3, endpoint, err, err_size);
    }

    return 0;
}


void
aigw_s3_free(aigw_s3_t *s3)
{
    free(s3->bucket);
    free(s3->prefix);
    free(s3->region);
    free(s3->ep_host);
    free(s3->ep_hostport);
    free(s3->ep_path);
    aigw_cli_credentials_free(&s3->chain);

    memset(s3, 0, sizeof(aigw_s3_t));
}


static int
aigw_s3_bucket_valid(const char *b, size_t len)
{
    size_t  i;

    if (len < 3 || len > 63) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (!((b[i] >= 'a' && b[i] <= 'z') || (b[i] >= '0' && b[i] <= '9')
              || b[i] == '.' || b[i] == '-'
              || (b[i] >= 'A' && b[i] <= 'Z') || b[i] == '_'))
        {
            return 0;
        }
    }

    return 1;
}


/* http[s]://host[:port][/path] */

static int
aigw_s3_endpoint(aigw_s3_t *s3, const char *url, char *err,
    size_t err_size)
{
    size_t       hlen;
    unsigned     port;
    const char  *p, *h, *he, *end, *path;

    if (strncmp(url, "https://", 8) == 0) {
        s3->ep_tls = 1;
        p = url + 8;
        port = 443;

    } else if (strncmp(url, "http://", 7) == 0) {
        p = url + 7;
        port = 80;

    } else {
        goto invalid;
    }

    path = strchr(p, '/');
    end = path ? path : p + strlen(p);

    if (*p == '[') {
        h = p + 1;
        he = memchr(h, ']', (size_t) (end - h));
        if (he == NULL) {
            goto invalid;
        }

        p = he + 1;

    } else {
        h = p;
        he = memchr(p, ':', (size_t) (end - p));
        if (he == NULL) {
            he = end;
        }

        p = he;
    }

    hlen = (size_t) (he - h);

    if (hlen == 0) {
        goto invalid;
    }

    if (p < end) {
        if (*p != ':' || p + 1 == end) {
            goto invalid;
        }

        port = 0;

        for (p++; p < end; p++) {
            if (*p < '0' || *p > '9' || port > 65535) {
                goto invalid;
            }

            port = port * 10 + (unsigned) (*p - '0');
        }

        if (port == 0 || port > 65535) {
            goto invalid;
        }
    }

    s3->ep_port = port;
    s3->ep_host = aigw_strndup(h, hlen);

    /* the Host header: with the port unless it is the scheme's default */

    s3->ep_hostport = malloc(hlen + 16);

    if (s3->ep_host == NULL || s3->ep_hostport == NULL) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }

    if (memchr(h, ':', hlen) != NULL) {
        snprintf(s3->ep_hostport, hlen + 16, "[%s]", s3->ep_host);

    } else {
        snprintf(s3->ep_hostport, hlen + 16, "%s", s3->ep_host);
    }

    if (port != (s3->ep_tls ? 443u : 80u)) {
        snprintf(s3->ep_hostport + strlen(s3->ep_hostport), 8, ":%u", port);
    }

    /* a base path, without its trailing "/" */

    if (path) {
        hlen = strlen(path);

        while (hlen && path[hlen - 1] == '/') {
            hlen--;
        }

        s3->ep_path = aigw_strndup(path, hlen);

    } else {
        s3->ep_path = strdup("");
    }

    if (s3->ep_path == NULL) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }

    return 0;

invalid:

    snprintf(err, err_size, "--endpoint \"%s\": expected http://host[:port] "
             "or https://host[:port]", url);
    return -1;
}


/* --- credentials and the region ----------------------------------------- */


int
aigw_s3_credentials(aigw_s3_t *s3, char *err, size_t err_size)
{
    char            why[AIGW_S3_ERR_LEN];
    aigw_cc_conf_t  conf;

    memset(&conf, 0, sizeof(aigw_cc_conf_t));
    conf.source = AIGW_CC_CHAIN;

    /* STS's region: the bucket's when configured, else the chain's own */
    conf.region = s3->region;

    if (aigw_cli_credentials(&conf, &s3->chain, "aigw export", s3->verbose,
                             why, sizeof(why))
        != 0)
    {
        snprintf(err, err_size, "%s", why);
        return -1;
    }

    s3->creds = s3->chain.creds;

    return 0;
}


int
aigw_s3_region_config(aigw_s3_t *s3, char *err, size_t err_size)
{
    int              rc, found;
    char            *path, *text;
    size_t           len, i;
    unsigned         line;
    const char      *v, *home, *profile;
    struct passwd   *pw;
    aigw_profile_t   prof;
    static const char  *const envs[] = {
        "AWS_REGION", "AWS_DEFAULT_REGION", NULL
    };

    if (s3->region) {
        return 0;
    }

    for (i = 0; envs[i]; i++) {
        v = getenv(envs[i]);

        if (v == NULL || *v == '\0') {
            continue;
        }

        if (!aigw_s3_region_valid(v, strlen(v))) {
            snprintf(err, err_size, "%s \"%.64s\" is not a region name "
                     "([a-z0-9-], at most 63)", envs[i], v);
            return -1;
        }

        s3->region = strdup(v);
        snprintf(s3->region_source, sizeof(s3->region_source), "%s",
                 envs[i]);

        return s3->region ? 0 : -1;
    }

    /* the profile's "region" in the config file, as the SDKs read it */

    profile = getenv("AWS_PROFILE");
    if (profile == NULL || *profile == '\0') {
        profile = "default";
    }

    v = getenv("AWS_CONFIG_FILE");

    if (v && *v) {
        path = strdup(v);

    } else {
        home = getenv("HOME");

        if (home == NULL || *home == '\0') {
            pw = getpwuid(getuid());
            home = pw ? pw->pw_dir : "/";
        }

        len = strlen(home) + sizeof("/.aws/config");
        path = malloc(len);

        if (path) {
            snprintf(path, len, "%s/.aws/config", home);
        }
    }

    if (path == NULL) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }

    text = aigw_cli_file_read(path, 0, AIGW_CC_FILE_MAX, &len, &rc);
    if (text) {
        rc = 0;
    }

    if (rc == ENOENT || rc == ENOTDIR) {
        free(path);
        return 0;
    }

    if (rc != 0) {
        snprintf(err, err_size, "cannot read \"%s\": %s", path,
                 rc == EFBIG ? "over 1 MiB" : strerror(rc));
        free(path);
        return -1;
    }

    found = aigw_ini_profile(text, len, AIGW_INI_CONFIG, profile,
                             strlen(profile), &prof, &line);

    if (found < 0) {
        snprintf(err, err_size, "syntax error in \"%s\" line %u", path,
                 line);
        rc = -1;

    } else if (found == 0 || prof.region.len == 0) {
        rc = 0;

    } else if (!aigw_s3_region_valid(prof.region.data, prof.region.len)) {
        snprintf(err, err_size, "profile \"%s\" of \"%s\": region \"%.*s\" "
                 "is not a region name ([a-z0-9-], at most 63)", profile,
                 path, (int) (prof.region.len > 64 ? 64 : prof.region.len),
                 prof.region.data);
        rc = -1;

    } else {
        s3->region = aigw_strndup(prof.region.data, prof.region.len);
        snprintf(s3->region_source, sizeof(s3->region_source),
                 "profile \"%s\" of \"%s\"", profile, path);
        rc = s3->region ? 0 : -1;
    }

    free(text);
    free(path);

    return rc;
}


/* --- requests ------------------------------------------------------------- */


int
aigw_s3_region(aigw_s3_t *s3, char *err, size_t err_size)
{
    int                    rc;
    char                   loc[64], why[AIGW_S3_ERR_LEN];
    const aigw_str_t      *h;
    aigw_http_response_t   resp;

    if (s3->region) {
        return 0;
    }

    /* HEAD Bucket: x-amz-bucket-region comes with 200, 301, 403 */

    rc = aigw_s3_request(s3, "HEAD", AIGW_S3_DISCOVERY, NULL, NULL, NULL, 0,
                         NULL, &resp, err, err_size);
    if (rc != 0) {
        return -1;
    }

    h = aigw_http_header(&resp, "x-amz-bucket-region");

    if (h && aigw_s3_region_valid(h->data, h->len)) {
        s3->region = aigw_strndup(h->data, h->len);
        snprintf(s3->region_source, sizeof(s3->region_source),
                 "HEAD Bucket");
        aigw_http_response_free(&resp);
        return s3->region ? 0 : -1;
    }

    if (resp.status == 404) {
        snprintf(err, err_size, "bucket \"%s\": does not exist "
                 "(HEAD: 404 NoSuchBucket)", s3->bucket);
        aigw_http_response_free(&resp);
        return -1;
    }

    aigw_http_response_free(&resp);

    /* GetBucketLocation */

    rc = aigw_s3_request(s3, "GET", AIGW_S3_DISCOVERY, NULL, "location",
                         NULL, 0, NULL, &resp, err, err_size);
    if (rc != 0) {
        return -1;
    }

    if (resp.status != 200) {
        aigw_s3_describe(&resp, why, sizeof(why));
        snprintf(err, err_size, "bucket \"%s\": cannot find its region "
                 "(GetBucketLocation: %s); give it with --s3-region",
                 s3->bucket, why);
        aigw_http_response_free(&resp);
        return -1;
    }

    if (aigw_s3_xml(resp.body, resp.body_len, "LocationConstraint", loc,
                    sizeof(loc))
        != 0 || loc[0] == '\0')
    {
        /* <LocationConstraint/>: us-east-1 */
        strcpy(loc, "us-east-1");

    } else if (strcmp(loc, "EU") == 0) {
        strcpy(loc, "eu-west-1");

    } else if (!aigw_s3_region_valid(loc, strlen(loc))) {
        snprintf(err, err_size, "bucket \"%s\": GetBucketLocation named "
                 "no valid region; give it with --s3-region", s3->bucket);
        aigw_http_response_free(&resp);
        return -1;
    }

    aigw_http_response_free(&resp);

    s3->region = strdup(loc);
    snprintf(s3->region_source, sizeof(s3->region_source),
             "GetBucketLocation");

    return s3->region ? 0 : -1;
}


int
aigw_s3_put(aigw_s3_t *s3, const char *key, const char *body, size_t len,
    const char *content_type, char *err, size_t err_size)
{
    int                    rc, redirects;
    char                   region[64], other[64], why[AIGW_S3_ERR_LEN];
    const aigw_str_t      *h;
    aigw_http_response_t   resp;

    snprintf(region, sizeof(region), "%s",
             s3->region ? s3->region : AIGW_S3_DISCOVERY);

    for (redirects = 0; /* void */; redirects++) {
        rc = aigw_s3_request(s3, "PUT", region, key, NULL, body, len,
                             content_type, &resp, why, sizeof(why));
        if (rc != 0) {
            snprintf(err, err_size, "s3://%s/%s: PUT failed: %s",
                     s3->bucket, key, why);
            return -1;
        }

        if (resp.status >= 200 && resp.status < 300) {
            aigw_http_response_free(&resp);

            if (redirects) {
                /* the next objects go there at once */
                free(s3->region);
                s3->region = strdup(region);
                snprintf(s3->region_source, sizeof(s3->region_source),
                         "S3's redirect");
            }

            return 0;
        }

        /* the bucket is in another region: sign for it, once */

        other[0] = '\0';
        h = aigw_http_header(&resp, "x-amz-bucket-region");

        if (h && aigw_s3_region_valid(h->data, h->len)) {
            memcpy(other, h->data, h->len);
            other[h->len] = '\0';

        } else if (aigw_s3_xml(resp.body, resp.body_len, "Region", other,
                               sizeof(other))
                   != 0 || !aigw_s3_region_valid(other, strlen(other)))
        {
            other[0] = '\0';
        }

        if (redirects == 0 && other[0] && strcmp(other, region) != 0
            && (resp.status == 301 || resp.status == 307
                || resp.status == 400))
        {
            if (s3->verbose) {
                fprintf(stderr, "aigw export: bucket \"%s\" is in %s, not "
                        "%s: signing again\n", s3->bucket, other, region);
            }

            snprintf(region, sizeof(region), "%s", other);
            aigw_http_response_free(&resp);
            continue;
        }

        aigw_s3_describe(&resp, why, sizeof(why));
        snprintf(err, err_size, "s3://%s/%s: PUT failed (region %s): %s",
                 s3->bucket, key, region, why);
        aigw_http_response_free(&resp);

        return -1;
    }
}


static int
aigw_s3_request(aigw_s3_t *s3, const char *method, const char *region,
    const char *key, const char *query, const char *body, size_t len,
    const char *content_type, aigw_http_response_t *resp, char *err,
    size_t err_size)
{
    int                   rc, path_style, delay;
    char                  hash[AIGW_SHA256_HEX_LEN + 1], *auth, *host;
    char                  *target, *enc;
    size_t                klen, elen, tlen, hlen, auth_size, n;
    unsigned              attempt, port;
    const char           *domain;
    aigw_header_t         sign_hdr[1], hdrs[9];
    aigw_sigv4_input_t    in;
    aigw_sigv4_output_t   out;
    aigw_http_request_t   req;

    aigw_sha256_hex(hash, body ? body : "", body ? len : 0);
    hash[AIGW_SHA256_HEX_LEN] = '\0';

    /* the key, URI-encoded once, "/" kept (S3 signs the path as sent) */

    klen = key ? strlen(key) : 0;
    elen = aigw_uri_encode(NULL, key ? key : "", klen, 1);
    enc = malloc(elen + 1);

    domain = (strncmp(region, "cn-", 3) == 0) ? "amazonaws.com.cn"
                                              : "amazonaws.com";
    hlen = strlen(s3->bucket) + strlen(region) + strlen(domain) + 32;
    host = malloc(hlen);

    tlen = (s3->ep_path ? strlen(s3->ep_path) : 0) + strlen(s3->bucket)
           + elen + (query ? strlen(query) : 0) + 8;
    target = malloc(tlen);

    if (enc == NULL || host == NULL || target == NULL) {
        snprintf(err, err_size, "out of memory");
        rc = -1;
        goto done;
    }

    aigw_uri_encode(enc, key ? key : "", klen, 1);
    enc[elen] = '\0';

    path_style = (s3->ep_host != NULL || strchr(s3->bucket, '.') != NULL);

    if (s3->ep_host) {
        snprintf(host, hlen, "%s", s3->ep_hostport);
        port = s3->ep_port;

    } else if (path_style) {
        snprintf(host, hlen, "s3.%s.%s", region, domain);
        port = 443;

    } else {
        snprintf(host, hlen, "%s.s3.%s.%s", s3->bucket, region, domain);
        port = 443;
    }

    if (path_style) {
        n = snprintf(target, tlen, "%s/%s%s%s", s3->ep_path ? s3->ep_path
                     : "", s3->bucket, key ? "/" : "", enc);

    } else {
        n = snprintf(target, tlen, "/%s", enc);
    }

    /* the canonical URI is the path as sent, then the query */

    memset(&in, 0, sizeof(aigw_sigv4_input_t));
    in.method.data = method;
    in.method.len = strlen(method);
    in.path.data = target;
    in.path.len = n;
    in.query.data = query ? query : "";
    in.query.len = query ? strlen(query) : 0;

    sign_hdr[0].name.data = "host";
    sign_hdr[0].name.len = 4;
    sign_hdr[0].value.data = host;
    sign_hdr[0].value.len = strlen(host);

    in.headers = sign_hdr;
    in.nheaders = 1;
    in.payload_hash.data = hash;
    in.payload_hash.len = AIGW_SHA256_HEX_LEN;
    in.region.data = region;
    in.region.len = strlen(region);
    in.service.data = "s3";
    in.service.len = 2;
    in.creds = &s3->creds;
    in.flags = AIGW_SIGV4_NO_DOUBLE_ENCODE | AIGW_SIGV4_SIGN_CONTENT_SHA;

    if (query) {
        snprintf(target + n, tlen - n, "?%s", query);
    }

    auth = NULL;
    rc = -1;

    for (attempt = 1; /* void */; attempt++) {
        in.now = time(NULL);

        auth_size = aigw_sigv4_auth_size(&in);
        free(auth);
        auth = malloc(auth_size);

        if (auth == NULL) {
            snprintf(err, err_size, "out of memory");
            break;
        }

        if (aigw_sigv4_sign(&in, &out, auth, auth_size) != 0) {
            snprintf(err, err_size, "cannot sign the request");
            break;
        }

        n = 0;
        hdrs[n].name.data = "Host";
        hdrs[n].name.len = 4;
        hdrs[n].value = sign_hdr[0].value;
        n++;
        hdrs[n].name.data = "X-Amz-Date";
        hdrs[n].name.len = 10;
        hdrs[n].value.data = out.amz_date;
        hdrs[n].value.len = AIGW_AMZ_DATE_LEN;
        n++;
        hdrs[n].name.data = "X-Amz-Content-Sha256";
        hdrs[n].name.len = 20;
        hdrs[n].value.data = hash;
        hdrs[n].value.len = AIGW_SHA256_HEX_LEN;
        n++;

        if (s3->creds.session_token.len) {
            hdrs[n].name.data = "X-Amz-Security-Token";
            hdrs[n].name.len = 20;
            hdrs[n].value = s3->creds.session_token;
            n++;
        }

        hdrs[n].name.data = "Authorization";
        hdrs[n].name.len = 13;
        hdrs[n].value.data = out.authorization;
        hdrs[n].value.len = out.authorization_len;
        n++;

        if (content_type) {
            hdrs[n].name.data = "Content-Type";
            hdrs[n].name.len = 12;
            hdrs[n].value.data = content_type;
            hdrs[n].value.len = strlen(content_type);
            n++;
        }

        hdrs[n].name.data = "User-Agent";
        hdrs[n].name.len = 10;
        hdrs[n].value.data = AIGW_S3_USER_AGENT;
        hdrs[n].value.len = sizeof(AIGW_S3_USER_AGENT) - 1;
        n++;

        memset(&req, 0, sizeof(aigw_http_request_t));
        req.method = method;
        req.host = s3->ep_host ? s3->ep_host : host;
        req.port = port;
        req.tls = s3->ep_host ? s3->ep_tls : 1;
        req.target = target;
        req.headers = hdrs;
        req.nheaders = n;
        req.body = body;
        req.body_len = len;

        rc = aigw_http_do(&req, resp, err, err_size);

        if (s3->verbose) {
            fprintf(stderr, "aigw export: %s %s://%s%s: %d\n", method,
                    req.tls ? "https" : "http", host, target,
                    rc ? -1 : resp->status);
        }

        delay = aigw_http_retry_delay(rc, rc ? 0 : resp->status, attempt,
                                      s3->attempts);
        if (delay < 0) {
            break;
        }

        if (rc == 0) {
            aigw_http_response_free(resp);
        }

        /* signed again for the next attempt: the date moves on */
        usleep((useconds_t) delay * 1000);
    }

    free(auth);

done:

    free(enc);
    free(host);
    free(target);

    return rc;
}


/* the text of the first <tag>...</tag> of an XML body, entities decoded */

static int
aigw_s3_xml(const char *body, size_t len, const char *tag, char *out,
    size_t size)
{
    char         open[64], close[64];
    size_t       n, i;
    const char  *s, *e, *end;

    out[0] = '\0';

    if (body == NULL || len == 0) {
        return -1;
    }

    snprintf(open, sizeof(open), "<%s>", tag);
    snprintf(close, sizeof(close), "</%s>", tag);

    end = body + len;
    s = memmem(body, len, open, strlen(open));

    if (s == NULL) {
        /* <LocationConstraint xmlns="..."> */
        snprintf(open, sizeof(open), "<%s ", tag);
        s = memmem(body, len, open, strlen(open));

        if (s == NULL) {
            return -1;
        }

        s = memchr(s, '>', (size_t) (end - s));

        if (s == NULL || s[-1] == '/') {
            return -1;
        }

        s++;

    } else {
        s += strlen(open);
    }

    e = memmem(s, (size_t) (end - s), close, strlen(close));
    if (e == NULL) {
        return -1;
    }

    n = 0;

    for (i = 0; s + i < e && n + 1 < size; i++) {
        if (s[i] == '&') {
            static const struct {
                const char  *name;
                char         c;
            } ents[] = {
                { "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' },
                { "&quot;", '"' }, { "&apos;", '\'' }, { NULL, 0 }
            };
            int  k;

            for (k = 0; ents[k].name; k++) {
                size_t  l = strlen(ents[k].name);

                if ((size_t) (e - (s + i)) >= l
                    && memcmp(s + i, ents[k].name, l) == 0)
                {
                    out[n++] = ents[k].c;
                    i += l - 1;
                    break;
                }
            }

            if (ents[k].name) {
                continue;
            }
        }

        out[n++] = ((unsigned char) s[i] < 0x20) ? ' ' : s[i];
    }

    out[n] = '\0';

    return 0;
}


/* "403 SignatureDoesNotMatch: The request signature ..." */

static void
aigw_s3_describe(const aigw_http_response_t *resp, char *buf, size_t size)
{
    char  code[128], msg[512];

    if (aigw_s3_xml(resp->body, resp->body_len, "Code", code, sizeof(code))
        != 0)
    {
        snprintf(code, sizeof(code), "%s",
                 resp->status == 403 ? "AccessDenied (no error body)"
                 : resp->status == 404 ? "NotFound (no error body)"
                 : "(no error code)");
    }

    if (aigw_s3_xml(resp->body, resp->body_len, "Message", msg, sizeof(msg))
        != 0)
    {
        msg[0] = '\0';
    }

    snprintf(buf, size, "HTTP %d %s%s%s", resp->status, code,
             msg[0] ? ": " : "", msg);
}


static char *
aigw_strndup(const char *s, size_t len)
{
    char  *p;

    p = malloc(len + 1);

    if (p) {
        memcpy(p, s, len);
        p[len] = '\0';
    }

    return p;
}


/*
 * A region a peer names (x-amz-bucket-region, LocationConstraint, Region)
 * goes into a host name and the signature: [a-z0-9-]{1,63} only
 */

static int
aigw_s3_region_valid(const char *r, size_t len)
{
    size_t  i;

    if (len == 0 || len > 63) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (!((r[i] >= 'a' && r[i] <= 'z') || (r[i] >= '0' && r[i] <= '9')
              || r[i] == '-'))
        {
            return 0;
        }
    }

    return 1;
}

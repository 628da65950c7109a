
/*
 * aigw: the credentials chain: the container endpoint, the instance
 * metadata service, credential_process, and the URLs and requests of
 * them all.
 */


#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <arpa/inet.h>

#include "aigw_cc_int.h"


/* the container endpoint */

int
aigw_cc_ecs_start(aigw_cc_t *cc, aigw_cc_action_t *act)
{
    const char  *rel, *full, *tok;

    rel = aigw_cc_getenv(cc, E_ECS_RELATIVE);
    full = aigw_cc_getenv(cc, E_ECS_FULL);

    if (rel) {
        if (rel[0] != '/') {
            aigw_cc_fail(cc, 0, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI "
                         "does not start with \"/\"");
            return 0;
        }

        cc->url_text = aigw_cc_sprintf(cc, "http://" AIGW_CC_ECS_HOST "%s",
                                       rel);

    } else if (full) {
        cc->url_text = aigw_cc_strndup(cc, full, strlen(full));

    } else {
        aigw_cc_fail(cc, cc->base == B_ECS ? 0 : 1,
                     "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and "
                     "AWS_CONTAINER_CREDENTIALS_FULL_URI are not set");
        return 0;
    }

    if (cc->url_text == NULL) {
        aigw_cc_nomem(cc);
        return 0;
    }

    if (aigw_cc_parse_url(cc, cc->url_text, &cc->url) != 0) {
        aigw_cc_fail(cc, 0, "the container credentials URL \"%.200s\" is "
                     "not valid", cc->url_text);
        return 0;
    }

    if (!cc->url.tls && !aigw_cc_host_allowed(cc->url.host)) {
        aigw_cc_fail(cc, 0, "the container credentials URL \"%.200s\": "
                     "http only to a loopback address, 169.254.170.2, "
                     "169.254.170.23 or fd00:ec2::23 (else https)",
                     cc->url_text);
        return 0;
    }

    cc->ecs_auth = NULL;
    tok = aigw_cc_getenv(cc, E_ECS_TOKEN_FILE);

    if (tok) {
        act->step = AIGW_CC_READ_FILE;
        act->path = tok;
        cc->state = S_ECS_TOKEN;
        return 1;
    }

    cc->ecs_auth = cc->env[E_ECS_TOKEN];
    aigw_cc_answer_reset(cc);

    return aigw_cc_ecs_request(cc, act);
}


int
aigw_cc_ecs_request(aigw_cc_t *cc, aigw_cc_action_t *act)
{
    const char  *what, *p;

    if (cc->state == S_ECS_TOKEN) {
        if (cc->r_status != 0) {
            aigw_cc_fail(cc, 0, "could not read "
                         "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE \"%s\": %s",
                         cc->env[E_ECS_TOKEN_FILE],
                         cc->r_status == EFBIG ? "too large"
                                               : strerror(cc->r_status));
            return 0;
        }

        cc->ecs_auth = cc->r_data;
        cc->r_data = NULL;
        aigw_cc_secret(cc, cc->ecs_auth);
        what = "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE";

        if (strlen(cc->ecs_auth) != cc->r_len) {
            aigw_cc_fail(cc, 0, "the container authorization token of %s "
                         "is not text", what);
            return 0;
        }

    } else {
        what = "AWS_CONTAINER_AUTHORIZATION_TOKEN";
    }

    if (cc->ecs_auth) {
        if (strpbrk(cc->ecs_auth, "\r\n")) {
            aigw_cc_fail(cc, 0, "the container authorization token of %s "
                         "has a line break", what);
            return 0;
        }

        /* spaces allowed ("Bearer x"), control characters not */
        for (p = cc->ecs_auth; *p; p++) {
            if ((unsigned char) *p < 0x20 || (unsigned char) *p >= 0x7f) {
                aigw_cc_fail(cc, 0, "the container authorization token "
                             "of %s is not printable", what);
                return 0;
            }
        }

        if (p - cc->ecs_auth > AIGW_CC_TOKEN_MAX) {
            aigw_cc_fail(cc, 0, "the container authorization token of %s "
                         "is longer than %d bytes", what, AIGW_CC_TOKEN_MAX);
            return 0;
        }
    }

    aigw_cc_answer_reset(cc);

    aigw_cc_http(cc, act, "GET", cc->url_text, &cc->url,
                 AIGW_CC_ECS_TIMEOUT);
    aigw_cc_header(cc, act, "Accept", "application/json");

    if (cc->ecs_auth && *cc->ecs_auth) {
        aigw_cc_header(cc, act, "Authorization", cc->ecs_auth);
    }

    cc->result.origin = "container endpoint";

    cc->state = S_ECS_RESP;

    return 1;
}


int
aigw_cc_ecs_answer(aigw_cc_t *cc)
{
    int           rc;
    json_t       *root;
    json_error_t  jerr;

    if (cc->r_status != 200) {
        if (cc->r_status == 0) {
            aigw_cc_fail(cc, 0, "the container endpoint %s: %s",
                         cc->url_text, cc->r_error);
        } else {
            aigw_cc_fail(cc, 0, "the container endpoint %s: HTTP %d",
                         cc->url_text, cc->r_status);
        }

        return -1;
    }

    root = json_loadb(cc->r_data, cc->r_len, 0, &jerr);

    if (root == NULL || !json_is_object(root)) {
        json_decref(root);
        aigw_cc_fail(cc, 0, "the container endpoint %s: the answer is not "
                     "a JSON object", cc->url_text);
        return -1;
    }

    cc->url_text = aigw_cc_sprintf(cc, "the container endpoint %s",
                                   cc->url_text);
    rc = cc->url_text ? aigw_cc_json_creds(cc, root, "Token", 1,
                                           cc->url_text)
                      : -1;
    json_decref(root);

    if (cc->url_text == NULL) {
        aigw_cc_nomem(cc);
    }

    return rc;
}


/*
 * The credentials of a JSON object: AccessKeyId, SecretAccessKey, the
 * token under its name, Expiration.  A metadata service ("peer") gives
 * all four, as the SDKs require; a process the first two, the others
 * absent or null.
 */

int
aigw_cc_json_creds(aigw_cc_t *cc, json_t *obj, const char *token,
    int peer, const char *what)
{
    size_t        i;
    time_t        exp;
    json_t       *v[4];
    const char   *names[4];

    names[0] = "AccessKeyId";
    names[1] = "SecretAccessKey";
    names[2] = token;
    names[3] = "Expiration";

    for (i = 0; i < 4; i++) {
        v[i] = json_object_get(obj, names[i]);

        if (v[i] != NULL && json_is_null(v[i]) && i >= 2 && !peer) {
            v[i] = NULL;
        }

        if (v[i] != NULL && !json_is_string(v[i])) {
            aigw_cc_fail(cc, 0, "%s: %s is not a string", what, names[i]);
            return -1;
        }

        if (v[i] == NULL && (i < 2 || peer)) {
            aigw_cc_fail(cc, 0, "%s: %s is missing", what, names[i]);
            return -1;
        }
    }

    exp = 0;

    if (v[3]) {
        exp = aigw_cc_parse_time(json_string_value(v[3]),
                                 json_string_length(v[3]));
        if (exp == -1) {
            aigw_cc_fail(cc, 0, "%s: Expiration is not a time", what);
            return -1;
        }
    }

    return aigw_cc_set_creds(cc, json_string_value(v[0]),
                             json_string_length(v[0]),
                             json_string_value(v[1]),
                             json_string_length(v[1]),
                             v[2] ? json_string_value(v[2]) : NULL,
                             v[2] ? json_string_length(v[2]) : 0, exp, 1,
                             what);
}


/* the instance metadata service */

int
aigw_cc_imds_failed(aigw_cc_t *cc, const char *fmt, ...)
{
    char      why[AIGW_CC_ERR_LEN];
    va_list   args;

    va_start(args, fmt);
    vsnprintf(why, sizeof(why), fmt, args);
    va_end(args);

    if (cc->chain && cc->base != B_IMDS) {
        aigw_cc_fail(cc, 1, "no AWS credentials found: not in the "
                     "environment (AWS_ACCESS_KEY_ID), no web identity "
                     "(AWS_WEB_IDENTITY_TOKEN_FILE), no profile \"%s\" in "
                     "\"%s\" or \"%s\", no container endpoint "
                     "(AWS_CONTAINER_CREDENTIALS_RELATIVE_URI, "
                     "AWS_CONTAINER_CREDENTIALS_FULL_URI), and the instance "
                     "metadata service: %s",
                     cc->prof_name ? cc->prof_name : "default",
                     cc->path[0] ? cc->path[0] : "~/.aws/credentials",
                     cc->path[1] ? cc->path[1] : "~/.aws/config", why);
    } else {
        aigw_cc_fail(cc, 0, "the instance metadata service: %s", why);
    }

    return -1;
}


int
aigw_cc_imds_start(aigw_cc_t *cc, aigw_cc_action_t *act)
{
    size_t       n;
    const char  *v, *mode;

    v = aigw_cc_getenv(cc, E_IMDS_DISABLED);

    if (v && strcasecmp(v, "true") == 0) {
        if (cc->base == B_IMDS) {
            aigw_cc_fail(cc, 0, "credential_source Ec2InstanceMetadata but "
                         "AWS_EC2_METADATA_DISABLED is true");
            return 0;
        }

        if (cc->chain) {
            (void) aigw_cc_imds_failed(cc, "disabled "
                                       "(AWS_EC2_METADATA_DISABLED)");
        } else {
            aigw_cc_fail(cc, 1, "the instance metadata service is disabled "
                         "(AWS_EC2_METADATA_DISABLED)");
        }

        return 0;
    }

    v = aigw_cc_getenv(cc, E_IMDS_ENDPOINT);
    mode = aigw_cc_getenv(cc, E_IMDS_MODE);

    if (v == NULL) {
        if (mode == NULL || strcasecmp(mode, "IPv4") == 0) {
            v = AIGW_CC_IMDS_URL;

        } else if (strcasecmp(mode, "IPv6") == 0) {
            v = AIGW_CC_IMDS_URL6;

        } else {
            aigw_cc_fail(cc, 0, "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE "
                         "must be IPv4 or IPv6");
            return 0;
        }
    }

    cc->url_text = aigw_cc_strndup(cc, v, strlen(v));

    if (cc->url_text == NULL) {
        aigw_cc_nomem(cc);
        return 0;
    }

    if (aigw_cc_parse_url(cc, cc->url_text, &cc->url) != 0
        || strcmp(cc->url.target, "/") != 0)
    {
        aigw_cc_fail(cc, 0, "AWS_EC2_METADATA_SERVICE_ENDPOINT \"%.200s\" "
                     "is not a URL of a host", cc->url_text);
        return 0;
    }

    /* the URL without its "/" */
    n = strlen(cc->url_text);

    if (cc->url_text[n - 1] == '/') {
        cc->url_text[n - 1] = '\0';
    }

    cc->state = S_IMDS_TOKEN;

    if (aigw_cc_imds_request(cc, act, "PUT", "/latest/api/token") == 0) {
        return 0;
    }

    aigw_cc_header(cc, act, "x-aws-ec2-metadata-token-ttl-seconds",
                   "21600");
    act->http.body = "";
    act->http.body_len = 0;

    return 1;
}


int
aigw_cc_imds_request(aigw_cc_t *cc, aigw_cc_action_t *act,
    const char *method, const char *target)
{
    char           *url;
    aigw_cc_url_t   u;

    aigw_cc_answer_reset(cc);

    url = aigw_cc_sprintf(cc, "%s%s", cc->url_text, target);
    if (url == NULL) {
        aigw_cc_nomem(cc);
        return 0;
    }

    u = cc->url;
    u.target = (char *) target;

    aigw_cc_http(cc, act, method, url, &u, AIGW_CC_IMDS_TIMEOUT);

    if (cc->imds_token) {
        aigw_cc_header(cc, act, "x-aws-ec2-metadata-token", cc->imds_token);
    }

    if (cc->state == S_FAILED) {
        return 0;
    }

    return 1;
}


int
aigw_cc_imds_answer(aigw_cc_t *cc)
{
    int           rc;
    char         *p, *nl;
    size_t        i, len;
    json_t       *root, *code;
    json_error_t  jerr;
    const char   *what;

    what = cc->state == S_IMDS_TOKEN ? "the token (PUT /latest/api/token)"
           : cc->state == S_IMDS_ROLE ? "the role (GET " AIGW_CC_IMDS_CREDS ")"
           : "the role's credentials";

    if (cc->r_status == 0) {
        return aigw_cc_imds_failed(cc, "%s at %s: %s", what, cc->url_text,
                                   cc->r_error);
    }

    if (cc->r_status != 200) {
        return aigw_cc_imds_failed(cc, "%s at %s: HTTP %d", what,
                                   cc->url_text, cc->r_status);
    }

    p = cc->r_data;
    len = cc->r_len;

    switch (cc->state) {

    case S_IMDS_TOKEN:
        while (len && (p[len - 1] == '\n' || p[len - 1] == '\r')) {
            len--;
        }

        if (!aigw_cc_valid_printable(p, len, 1024)) {
            return aigw_cc_imds_failed(cc, "the token at %s is not valid",
                                       cc->url_text);
        }

        cc->imds_token = aigw_cc_strndup(cc, p, len);
        if (cc->imds_token == NULL) {
            aigw_cc_nomem(cc);
            return -1;
        }

        aigw_cc_secret(cc, cc->imds_token);
        cc->state = S_IMDS_ROLE;
        return 0;

    case S_IMDS_ROLE:
        nl = memchr(p, '\n', len);
        if (nl) {
            len = nl - p;
        }

        while (len && (p[len - 1] == '\r' || p[len - 1] == ' ')) {
            len--;
        }

        /* an IAM role's name */
        for (i = 0; i < len; i++) {
            if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z')
                  || (p[i] >= '0' && p[i] <= '9') || strchr("+=,.@_-", p[i])))
            {
                break;
            }
        }

        if (len == 0 || i != len || len > 64 || p[0] == '\0') {
            return aigw_cc_imds_failed(cc, "no instance profile role at %s",
                                       cc->url_text);
        }

        cc->imds_role = aigw_cc_sprintf(cc, AIGW_CC_IMDS_CREDS "%.*s",
                                        (int) len, p);
        if (cc->imds_role == NULL) {
            aigw_cc_nomem(cc);
            return -1;
        }

        cc->result.origin = aigw_cc_sprintf(cc, "instance profile \"%.*s\"",
                                            (int) len, p);
        cc->state = S_IMDS_CREDS;
        return 0;

    default:
        break;
    }

    root = json_loadb(p, len, 0, &jerr);

    if (root == NULL || !json_is_object(root)) {
        json_decref(root);
        return aigw_cc_imds_failed(cc, "%s at %s: not a JSON object", what,
                                   cc->url_text);
    }

    code = json_object_get(root, "Code");

    if (!json_is_string(code) || strcmp(json_string_value(code), "Success"))
    {
        json_decref(root);
        return aigw_cc_imds_failed(cc, "%s at %s: Code is not \"Success\"",
                                   what, cc->url_text);
    }

    rc = aigw_cc_json_creds(cc, root, "Token", 1, "the instance metadata "
                            "service");
    json_decref(root);

    if (rc != 0) {
        return aigw_cc_imds_failed(cc, "%s", cc->err);
    }

    cc->state = S_GOT;
    return 0;
}


/* credential_process */

int
aigw_cc_process_answer(aigw_cc_t *cc)
{
    int           rc;
    json_t       *root, *v;
    json_error_t  jerr;
    const char   *what;

    what = cc->result.origin ? cc->result.origin : "credential_process";

    if (cc->r_status != 0) {
        if (cc->r_status == -1) {
            aigw_cc_fail(cc, 0, "%s: %s", what, cc->r_error);
        } else {
            aigw_cc_fail(cc, 0, "%s exited with status %d", what,
                         cc->r_status);
        }

        return -1;
    }

    root = json_loadb(cc->r_data, cc->r_len, 0, &jerr);

    if (root == NULL || !json_is_object(root)) {
        json_decref(root);
        aigw_cc_fail(cc, 0, "%s: its output is not a JSON object", what);
        return -1;
    }

    v = json_object_get(root, "Version");

    if (!json_is_integer(v) || json_integer_value(v) != 1) {
        json_decref(root);
        aigw_cc_fail(cc, 0, "%s: its output's Version is not 1", what);
        return -1;
    }

    rc = aigw_cc_json_creds(cc, root, "SessionToken", 0, what);
    json_decref(root);

    return rc;
}


/* URLs and requests */

int
aigw_cc_parse_url(aigw_cc_t *cc, const char *url, aigw_cc_url_t *u)
{
    long         port;
    size_t       hlen;
    const char  *p, *h, *hend, *t, *q;
    char        *end;

    memset(u, 0, sizeof(aigw_cc_url_t));

    for (p = url; *p; p++) {
        if ((unsigned char) *p <= 0x20 || (unsigned char) *p >= 0x7f) {
            return -1;
        }
    }

    if (strncasecmp(url, "https://", 8) == 0) {
        u->tls = 1;
        u->port = 443;
        h = url + 8;

    } else if (strncasecmp(url, "http://", 7) == 0) {
        u->port = 80;
        h = url + 7;

    } else {
        return -1;
    }

    t = h + strcspn(h, "/?#");

    if (*t == '#' || memchr(h, '@', t - h) || strchr(t, '#')) {
        return -1;
    }

    if (*h == '[') {
        hend = memchr(h, ']', t - h);
        if (hend == NULL || hend == h + 1) {
            return -1;
        }

        u->host = aigw_cc_strndup(cc, h + 1, hend - h - 1);
        p = hend + 1;

        if (u->host == NULL || strspn(u->host, "0123456789abcdefABCDEF:.")
                               != strlen(u->host))
        {
            return -1;
        }

    } else {
        hend = h + strcspn(h, ":/?");
        if (hend > t) {
            hend = t;
        }

        if (hend == h) {
            return -1;
        }

        u->host = aigw_cc_strndup(cc, h, hend - h);
        p = hend;

        if (u->host == NULL
            || strspn(u->host, "abcdefghijklmnopqrstuvwxyz"
                      "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-")
               != strlen(u->host))
        {
            return -1;
        }
    }

    if (p < t && *p == ':') {
        errno = 0;
        port = strtol(p + 1, &end, 10);

        if (end != t || end == p + 1 || errno || port < 1 || port > 65535) {
            return -1;
        }

        u->port = (unsigned) port;
        p = t;
    }

    if (p != t) {
        return -1;
    }

    hlen = t - h;
    u->hostport = aigw_cc_strndup(cc, h, hlen);

    if (u->port == (u->tls ? 443u : 80u) && memchr(h, ':', hlen)
        && h[hlen - 1] != ']')
    {
        /* the default port written out: the Host header without it */
        u->hostport[strrchr(u->hostport, ':') - u->hostport] = '\0';
    }

    u->target = aigw_cc_sprintf(cc, "%s%s", *t == '?' ? "/" : "",
                                *t ? t : "/");
    if (u->hostport == NULL || u->target == NULL) {
        return -1;
    }

    q = strchr(u->target, '?');
    u->path = aigw_cc_strndup(cc, u->target,
                              q ? (size_t) (q - u->target)
                                : strlen(u->target));
    u->query = aigw_cc_strndup(cc, q ? q + 1 : "", q ? strlen(q + 1) : 0);

    if (u->path == NULL || u->query == NULL) {
        return -1;
    }

    return 0;
}


/* plain http: loopback, the ECS and EKS Pod Identity addresses */
int
aigw_cc_host_allowed(const char *host)
{
    unsigned char  a[16], b[16];

    if (strcasecmp(host, "localhost") == 0) {
        return 1;
    }

    if (inet_pton(AF_INET, host, a) == 1) {
        return a[0] == 127 || strcmp(host, "169.254.170.2") == 0
               || strcmp(host, "169.254.170.23") == 0;
    }

    if (inet_pton(AF_INET6, host, a) == 1) {
        if (inet_pton(AF_INET6, "::1", b) == 1 && memcmp(a, b, 16) == 0) {
            return 1;
        }

        if (inet_pton(AF_INET6, "fd00:ec2::23", b) == 1
            && memcmp(a, b, 16) == 0)
        {
            return 1;
        }
    }

    return 0;
}


void
aigw_cc_http(aigw_cc_t *cc, aigw_cc_action_t *act, const char *method,
    const char *url, aigw_cc_url_t *u, unsigned timeout)
{
    act->step = AIGW_CC_HTTP;
    act->http.method = method;
    act->http.url = url;
    act->http.tls = u->tls;
    act->http.host = u->host;
    act->http.port = u->port;
    act->http.target = u->target;
    act->http.headers = cc->headers;
    act->http.nheaders = 0;
    act->http.body = NULL;
    act->http.body_len = 0;
    act->http.timeout_ms = timeout;

    if (cc->url_text != url && cc->state != S_IMDS_TOKEN
        && cc->state != S_IMDS_ROLE && cc->state != S_IMDS_CREDS)
    {
        cc->url_text = (char *) url;
    }

    aigw_cc_header(cc, act, "Host", u->hostport);
}


void
aigw_cc_header(aigw_cc_t *cc, aigw_cc_action_t *act, const char *name,
    const char *value)
{
    aigw_header_t  *h;

    if (value == NULL) {
        aigw_cc_nomem(cc);
        return;
    }

    if (act->http.nheaders == sizeof(cc->headers) / sizeof(aigw_header_t)) {
        aigw_cc_fail(cc, 0, "too many headers");
        return;
    }

    h = &cc->headers[act->http.nheaders++];
    h->name.data = name;
    h->name.len = strlen(name);
    h->value.data = value;
    h->value.len = strlen(value);
}


/*
 * aigw: the credentials chain: STS's AssumeRole (signed with the
 * credentials before) and AssumeRoleWithWebIdentity, and their answers.
 */


#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aigw_cc_int.h"
#include "aigw_sigv4.h"
#include "aigw_sts.h"
#include "aigw_util.h"


/* STS */

const char *
aigw_cc_sts_region(aigw_cc_t *cc)
{
    char  *r;

    if (cc->region) {
        return cc->region;
    }

    if (aigw_cc_getenv(cc, E_REGION)) {
        return cc->env[E_REGION];
    }

    if (aigw_cc_getenv(cc, E_DEFAULT_REGION)) {
        return cc->env[E_DEFAULT_REGION];
    }

    if (cc->top.region.len) {
        r = aigw_cc_value(cc, &cc->top.region);
        if (r) {
            return r;
        }
    }

    return "us-east-1";
}


int
aigw_cc_sts_url(aigw_cc_t *cc, aigw_cc_url_t *u, char **url)
{
    char         bad[41];
    size_t       i;
    const char  *region;

    /* the region is in the credential scope, whatever the endpoint */
    region = aigw_cc_sts_region(cc);

    for (i = 0; region[i]; i++) {
        if (!((region[i] >= 'a' && region[i] <= 'z')
              || (region[i] >= '0' && region[i] <= '9')
              || region[i] == '-'))
        {
            break;
        }
    }

    if (region[i] != '\0' || i == 0 || i > 31) {
        aigw_cc_clean(bad, sizeof(bad), region, strlen(region));
        aigw_cc_fail(cc, 0, "the region \"%s\" is not valid", bad);
        return -1;
    }

    if (cc->sts_endpoint) {
        *url = cc->sts_endpoint;

    } else if (aigw_cc_getenv(cc, E_STS_URL)) {
        *url = cc->env[E_STS_URL];

    } else {
        *url = aigw_cc_sprintf(cc, "https://sts.%s.amazonaws.com%s", region,
                               strncmp(region, "cn-", 3) == 0 ? ".cn" : "");
        if (*url == NULL) {
            aigw_cc_nomem(cc);
            return -1;
        }
    }

    if (aigw_cc_parse_url(cc, *url, u) != 0) {
        aigw_cc_fail(cc, 0, "STS's endpoint \"%.200s\" is not a valid URL",
                     *url);
        return -1;
    }

    return 0;
}


/* the form of an STS call; "session" NULL: aigw-<time> */
char *
aigw_cc_sts_form(aigw_cc_t *cc, const char *action, const char *role,
    const char *session, const char *external_id, const char *duration,
    const char *token, size_t *len)
{
    char    *body, sess[32];
    size_t   size, pos;
    long     d;
    char    *end;

    if (session == NULL) {
        snprintf(sess, sizeof(sess), "aigw-%lld", (long long) cc->now);
        session = sess;
    }

    if (duration) {
        errno = 0;
        d = strtol(duration, &end, 10);

        if (*end != '\0' || errno || d < 900 || d > 43200) {
            aigw_cc_fail(cc, 0, "duration_seconds \"%.20s\" is not a "
                         "number of seconds from 900 to 43200", duration);
            return NULL;
        }
    }

    size = aigw_form_add_size("Action", strlen(action))
           + aigw_form_add_size("Version", 10)
           + aigw_form_add_size("RoleArn", strlen(role))
           + aigw_form_add_size("RoleSessionName", strlen(session))
           + (token ? aigw_form_add_size("WebIdentityToken", strlen(token))
                    : 0)
           + (duration ? aigw_form_add_size("DurationSeconds",
                                            strlen(duration)) : 0)
           + (external_id ? aigw_form_add_size("ExternalId",
                                               strlen(external_id)) : 0)
           + 1;

    body = aigw_cc_alloc(cc, size);
    if (body == NULL) {
        aigw_cc_nomem(cc);
        return NULL;
    }

    pos = 0;

    (void) aigw_form_add(body, size, &pos, "Action", action, strlen(action));
    (void) aigw_form_add(body, size, &pos, "Version", "2011-06-15", 10);
    (void) aigw_form_add(body, size, &pos, "RoleArn", role, strlen(role));
    (void) aigw_form_add(body, size, &pos, "RoleSessionName", session,
                         strlen(session));

    if (token) {
        (void) aigw_form_add(body, size, &pos, "WebIdentityToken", token,
                             strlen(token));
    }

    if (duration) {
        (void) aigw_form_add(body, size, &pos, "DurationSeconds", duration,
                             strlen(duration));
    }

    if (external_id) {
        (void) aigw_form_add(body, size, &pos, "ExternalId", external_id,
                             strlen(external_id));
    }

    if (token) {
        aigw_cc_secret(cc, body);
    }

    *len = pos;

    return body;
}


int
aigw_cc_wi_start(aigw_cc_t *cc, aigw_cc_action_t *act)
{
    cc->wi_origin = aigw_cc_sprintf(cc, "role %s via web identity",
                                    cc->wi_role);
    if (cc->wi_origin == NULL) {
        aigw_cc_nomem(cc);
        return 0;
    }

    act->step = AIGW_CC_READ_FILE;
    act->path = cc->wi_file;
    cc->state = S_WI_TOKEN;

    return 1;
}


int
aigw_cc_wi_request(aigw_cc_t *cc, aigw_cc_action_t *act)
{
    char           *token, *body, *url;
    size_t          len;
    aigw_cc_url_t   u;

    if (cc->r_status != 0) {
        aigw_cc_fail(cc, 0, "could not read the web identity token file "
                     "\"%s\": %s", cc->wi_file,
                     cc->r_status == EFBIG ? "too large"
                                           : strerror(cc->r_status));
        return 0;
    }

    /* kept: an error message is checked against it */
    token = cc->r_data;
    len = cc->r_len;
    cc->r_data = NULL;

    while (len && (token[len - 1] == '\n' || token[len - 1] == '\r'
                   || token[len - 1] == ' ' || token[len - 1] == '\t'))
    {
        len--;
    }

    token[len] = '\0';
    aigw_cc_secret(cc, token);

    if (len == 0 || strlen(token) != len || len > 64 * 1024) {
        aigw_cc_fail(cc, 0, "the web identity token file \"%s\" holds no "
                     "token", cc->wi_file);
        return 0;
    }

    if (aigw_cc_sts_url(cc, &u, &url) != 0) {
        return 0;
    }

    body = aigw_cc_sts_form(cc, "AssumeRoleWithWebIdentity", cc->wi_role,
                            cc->wi_session, NULL, cc->wi_duration, token,
                            &len);
    if (body == NULL) {
        return 0;
    }

    aigw_cc_http(cc, act, "POST", url, &u, AIGW_CC_STS_TIMEOUT);
    aigw_cc_header(cc, act, "Content-Type", AIGW_CC_STS_CT);
    act->http.body = body;
    act->http.body_len = len;

    cc->result.origin = cc->wi_origin;
    cc->state = S_WI_RESP;

    return 1;
}


int
aigw_cc_hop_request(aigw_cc_t *cc, aigw_cc_action_t *act)
{
    char                 *body, *url, *auth, *sess, *ext, *dur;
    char                  hash[AIGW_SHA256_HEX_LEN + 1];
    size_t                len, size;
    aigw_cc_hop_t        *hop;
    aigw_cc_url_t         u;
    aigw_header_t         h[2];
    aigw_sigv4_input_t    in;
    aigw_sigv4_output_t   out;

    hop = &cc->hops[cc->nhops - 1];

    if (aigw_cc_sts_url(cc, &u, &url) != 0) {
        return 0;
    }

    sess = aigw_cc_value(cc, &hop->p.role_session_name);
    ext = aigw_cc_value(cc, &hop->p.external_id);
    dur = aigw_cc_value(cc, &hop->p.duration_seconds);
    cc->wi_role = aigw_cc_value(cc, &hop->p.role_arn);

    if (cc->state == S_FAILED) {
        return 0;
    }

    body = aigw_cc_sts_form(cc, "AssumeRole", cc->wi_role, sess, ext, dur,
                            NULL, &len);
    if (body == NULL) {
        return 0;
    }

    aigw_sha256_hex(hash, body, len);
    hash[AIGW_SHA256_HEX_LEN] = '\0';

    h[0].name.data = "host";
    h[0].name.len = 4;
    h[0].value.data = u.hostport;
    h[0].value.len = strlen(u.hostport);
    h[1].name.data = "content-type";
    h[1].name.len = 12;
    h[1].value.data = AIGW_CC_STS_CT;
    h[1].value.len = sizeof(AIGW_CC_STS_CT) - 1;

    memset(&in, 0, sizeof(aigw_sigv4_input_t));
    in.method.data = "POST";
    in.method.len = 4;
    in.path.data = u.path;
    in.path.len = strlen(u.path);
    in.query.data = u.query;
    in.query.len = strlen(u.query);
    in.headers = h;
    in.nheaders = 2;
    in.payload_hash.data = hash;
    in.payload_hash.len = AIGW_SHA256_HEX_LEN;
    in.region.data = aigw_cc_sts_region(cc);
    in.region.len = strlen(in.region.data);
    in.service.data = "sts";
    in.service.len = 3;
    in.now = cc->now;
    in.creds = &cc->cur;
    in.flags = AIGW_SIGV4_NORMALIZE_PATH;

    size = aigw_sigv4_auth_size(&in);
    auth = aigw_cc_alloc(cc, size);

    if (auth == NULL) {
        aigw_cc_nomem(cc);
        return 0;
    }

    if (aigw_sigv4_sign(&in, &out, auth, size) != 0) {
        aigw_cc_fail(cc, 0, "profile \"%s\": AssumeRole could not be "
                     "signed (region \"%.40s\")", hop->profile,
                     in.region.data);
        return 0;
    }

    aigw_cc_http(cc, act, "POST", url, &u, AIGW_CC_STS_TIMEOUT);
    aigw_cc_header(cc, act, "Content-Type", AIGW_CC_STS_CT);
    aigw_cc_header(cc, act, "X-Amz-Date",
                   aigw_cc_strndup(cc, out.amz_date, AIGW_AMZ_DATE_LEN));

    if (cc->cur.session_token.len) {
        aigw_cc_header(cc, act, "X-Amz-Security-Token",
                       cc->cur.session_token.data);
    }

    aigw_cc_header(cc, act, "Authorization", out.authorization);

    if (cc->state == S_FAILED) {
        return 0;
    }

    act->http.body = body;
    act->http.body_len = len;

    cc->result.origin = aigw_cc_sprintf(cc, "role %s of profile \"%s\"",
                                        cc->wi_role, hop->profile);
    cc->state = S_HOP_RESP;

    return 1;
}


/* STS's answer to the action "what" */
int
aigw_cc_sts_answer(aigw_cc_t *cc, const char *what)
{
    int          i, rc;
    long         n[5];
    time_t       exp;
    char        *buf, code[128], msg[256];
    const char  *path[3];

    static const char  *fields[] = {
        "AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"
    };

    if (cc->r_status == 0) {
        aigw_cc_fail(cc, 0, "%s of role %s at %s: %s", what, cc->wi_role,
                     cc->url_text, cc->r_error);
        return -1;
    }

    if (cc->r_status != 200) {
        path[0] = "Error";
        path[1] = "Code";
        n[0] = aigw_xml_text(cc->r_data, cc->r_len, path, 2, code,
                             sizeof(code));
        path[1] = "Message";
        n[1] = aigw_xml_text(cc->r_data, cc->r_len, path, 2, msg,
                             sizeof(msg));

        if (n[0] >= 0) {
            aigw_cc_clean(code, sizeof(code), code, n[0]);
        }

        if (n[1] >= 0) {
            aigw_cc_clean(msg, sizeof(msg), msg, n[1]);
        }

        aigw_cc_fail(cc, 0, "%s of role %s at %s: HTTP %d%s%s%s%s", what,
                     cc->wi_role, cc->url_text, cc->r_status,
                     n[0] >= 0 ? " " : "", n[0] >= 0 ? code : "",
                     n[1] >= 0 ? ": " : "", n[1] >= 0 ? msg : "");
        return -1;
    }

    buf = aigw_cc_alloc(cc, 4 * (AIGW_CC_TOKEN_MAX + 1));
    if (buf == NULL) {
        aigw_cc_nomem(cc);
        return -1;
    }

    path[0] = "Credentials";

    for (i = 0; i < 4; i++) {
        path[1] = fields[i];
        n[i] = aigw_xml_text(cc->r_data, cc->r_len, path, 2,
                             buf + i * (AIGW_CC_TOKEN_MAX + 1),
                             AIGW_CC_TOKEN_MAX + 1);

        if (n[i] < 0) {
            aigw_cc_free(cc, buf);
            aigw_cc_fail(cc, 0, "%s of role %s at %s: HTTP 200 but %s is "
                         "%s", what, cc->wi_role, cc->url_text, fields[i],
                         n[i] == -1 ? "missing" : "too long or malformed");
            return -1;
        }
    }

    exp = aigw_cc_parse_time(buf + 3 * (AIGW_CC_TOKEN_MAX + 1), n[3]);

    if (exp == -1) {
        aigw_cc_free(cc, buf);
        aigw_cc_fail(cc, 0, "%s of role %s at %s: the expiration is not "
                     "a time", what, cc->wi_role, cc->url_text);
        return -1;
    }

    cc->url_text = aigw_cc_sprintf(cc, "%s of role %s at %s", what,
                                   cc->wi_role, cc->url_text);
    if (cc->url_text == NULL) {
        aigw_cc_free(cc, buf);
        aigw_cc_nomem(cc);
        return -1;
    }

    rc = aigw_cc_set_creds(cc, buf, n[0], buf + (AIGW_CC_TOKEN_MAX + 1),
                           n[1], buf + 2 * (AIGW_CC_TOKEN_MAX + 1), n[2],
                           exp, 1, cc->url_text);
    aigw_cc_free(cc, buf);

    return rc;
}

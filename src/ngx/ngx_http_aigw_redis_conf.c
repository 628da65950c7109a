
/*
 * ngx_http_aigw_module: "aigw_redis", where and how usage is counted.
 *
 * The directive's Redis address (a host name, resolved by nginx's
 * resolver when the client connects, an IP or a unix socket), its
 * credentials (an ACL user, a password or a file holding it), TLS, its
 * other options, the queue's shared memory zone, and, once http{} is
 * read, the resolver, the SSL context, the journal directory and the tag
 * of the Redis target its files belong to.  Nothing here waits on the
 * network.  The client that uses them is ngx_http_aigw_redis.c.
 */


#include "ngx_http_aigw_counter.h"
#include "ngx_http_aigw_peer.h"
#include "aigw_file.h"


/* a password file holds one line */
#define NGX_HTTP_AIGW_REDIS_PASSWORD_MAX  4096


static char *ngx_http_aigw_redis_address(ngx_conf_t *cf,
    ngx_http_aigw_redis_conf_t *rc, ngx_str_t *addr);
static char *ngx_http_aigw_redis_password_file(ngx_conf_t *cf,
    ngx_http_aigw_redis_conf_t *rc, ngx_str_t *file);
static ngx_int_t ngx_http_aigw_redis_is_name(ngx_str_t *host);


/*
 * aigw_redis ADDRESS [username=U] [password=P | password_file=FILE]
 *            [db=N] [tls=on] [tls_ca=FILE] [tls_verify=on|off]
 *            [prefix=aigw] [queue=SIZE] [journal=DIR] [timeout=TIME]
 *            [max_models=N] [replicas=N]
 */

char *
ngx_http_aigw_redis(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_aigw_main_conf_t *amcf = conf;

    ssize_t                      size;
    ngx_str_t                   *value, s, journal, password_file;
    ngx_int_t                    n;
    ngx_msec_t                   ms;
    ngx_uint_t                   i;
    ngx_http_aigw_redis_conf_t  *rc;

    if (amcf->redis) {
        return "is duplicate";
    }

    rc = ngx_pcalloc(cf->pool, sizeof(ngx_http_aigw_redis_conf_t));
    if (rc == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    if (ngx_http_aigw_redis_address(cf, rc, &value[1]) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    ngx_str_set(&rc->prefix, "aigw");
    rc->queue_size = 16 * 1024 * 1024;
    rc->timeout = 2000;
    rc->seq_ttl = 30 * 86400;
    rc->max_models = 100;
    rc->tls_verify = 1;

    ngx_str_null(&journal);
    ngx_str_null(&password_file);

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "password=", 9) == 0) {
            rc->password.len = value[i].len - 9;
            rc->password.data = value[i].data + 9;

            if (rc->password.len == 0) {
                goto invalid;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "password_file=", 14) == 0) {
            password_file.len = value[i].len - 14;
            password_file.data = value[i].data + 14;

            if (password_file.len == 0) {
                goto invalid;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "username=", 9) == 0) {
            rc->username.len = value[i].len - 9;
            rc->username.data = value[i].data + 9;

            if (rc->username.len == 0) {
                goto invalid;
            }

            continue;
        }

        if (ngx_strcmp(value[i].data, "tls=on") == 0) {
            rc->tls = 1;
            continue;
        }

        if (ngx_strcmp(value[i].data, "tls=off") == 0) {
            rc->tls = 0;
            continue;
        }

        if (ngx_strncmp(value[i].data, "tls_ca=", 7) == 0) {
            rc->tls_ca.len = value[i].len - 7;
            rc->tls_ca.data = value[i].data + 7;

            if (rc->tls_ca.len == 0) {
                goto invalid;
            }

            continue;
        }

        if (ngx_strcmp(value[i].data, "tls_verify=on") == 0) {
            rc->tls_verify = 1;
            continue;
        }

        if (ngx_strcmp(value[i].data, "tls_verify=off") == 0) {
            rc->tls_verify = 0;
            continue;
        }

        if (ngx_strncmp(value[i].data, "db=", 3) == 0) {
            n = ngx_atoi(value[i].data + 3, value[i].len - 3);
            if (n == NGX_ERROR) {
                goto invalid;
            }

            rc->db = n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "prefix=", 7) == 0) {
            rc->prefix.data = value[i].data + 7;
            rc->prefix.len = value[i].len - 7;

            if (rc->prefix.len == 0
                || ngx_strlchr(rc->prefix.data,
                               rc->prefix.data + rc->prefix.len, ':'))
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"aigw_redis\" prefix must be non-empty "
                                   "and without \":\" (the model ID is "
                                   "everything after the fourth colon of a "
                                   "key)");
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "queue=", 6) == 0) {
            s.data = value[i].data + 6;
            s.len = value[i].len - 6;

            size = ngx_parse_size(&s);
            if (size == NGX_ERROR || size < (ssize_t) (256 * 1024)) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid \"%V\" in \"aigw_redis\": the "
                                   "queue takes at least 256k", &value[i]);
                return NGX_CONF_ERROR;
            }

            rc->queue_size = size;
            continue;
        }

        if (ngx_strncmp(value[i].data, "journal=", 8) == 0) {
            journal.data = value[i].data + 8;
            journal.len = value[i].len - 8;

            if (journal.len == 0) {
                goto invalid;
            }

            rc->journal_set = 1;
            continue;
        }

        if (ngx_strncmp(value[i].data, "max_models=", 11) == 0) {
            n = ngx_atoi(value[i].data + 11, value[i].len - 11);
            if (n == NGX_ERROR || n < 1 || n > 1000000) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid \"%V\" in \"aigw_redis\": "
                                   "max_models takes 1 to 1000000",
                                   &value[i]);
                return NGX_CONF_ERROR;
            }

            rc->max_models = n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "replicas=", 9) == 0) {
            n = ngx_atoi(value[i].data + 9, value[i].len - 9);
            if (n == NGX_ERROR || n > 16) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid \"%V\" in \"aigw_redis\": "
                                   "replicas takes 0 to 16", &value[i]);
                return NGX_CONF_ERROR;
            }

            rc->replicas = n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "timeout=", 8) == 0) {
            s.data = value[i].data + 8;
            s.len = value[i].len - 8;

            ms = ngx_parse_time(&s, 0);
            if (ms == (ngx_msec_t) NGX_ERROR || ms == 0) {
                goto invalid;
            }

            rc->timeout = ms;
            continue;
        }

        goto invalid;
    }

    if (password_file.len) {
        if (rc->password.len) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"aigw_redis\" takes password= or "
                               "password_file=, not both");
            return NGX_CONF_ERROR;
        }

        if (ngx_http_aigw_redis_password_file(cf, rc, &password_file)
            != NGX_CONF_OK)
        {
            return NGX_CONF_ERROR;
        }
    }

    if (rc->username.len && rc->password.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"aigw_redis\" username= needs password= or "
                           "password_file=");
        return NGX_CONF_ERROR;
    }

    if (rc->tls && rc->unix_addr) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"aigw_redis\" tls=on is for a host and a port, "
                           "not a unix socket");
        return NGX_CONF_ERROR;
    }

    if (!rc->tls && (rc->tls_ca.len || !rc->tls_verify)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"aigw_redis\" tls_ca= and tls_verify= need "
                           "tls=on");
        return NGX_CONF_ERROR;
    }

    if (rc->tls && !rc->tls_verify) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "\"aigw_redis\" tls_verify=off: the certificate "
                           "of \"%V\" is not verified, anyone on the path "
                           "can pose as that Redis", &rc->address);
    }

    rc->journal = ngx_pcalloc(cf->pool, sizeof(ngx_path_t));
    if (rc->journal == NULL) {
        return NGX_CONF_ERROR;
    }

    /* the default is known once http{} is read: redis_init_conf() */

    rc->journal->name = journal;
    rc->journal->conf_file = cf->conf_file->file.name.data;
    rc->journal->line = cf->conf_file->line;

    if (ngx_http_aigw_queue_add(cf, rc) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    amcf->redis = rc;

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\" in \"aigw_redis\"",
                       &value[i]);
    return NGX_CONF_ERROR;
}


/*
 * Once http{} is read: the journal directory (by default "aigw" next to
 * the http{} client_body_temp_path, so that each nginx instance has its
 * own), and the tag of the Redis target its files belong to.
 */

ngx_int_t
ngx_http_aigw_redis_init_conf(ngx_conf_t *cf, ngx_http_aigw_redis_conf_t *rc)
{
    u_char                    *p, *last;
    size_t                     len;
    ngx_str_t                  temp;
    u_char                     md[32];
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    /* a name is resolved when the client connects, by http{}'s resolver */

    if (ngx_http_aigw_redis_is_name(&rc->host)) {
        if (clcf->resolver == NULL || clcf->resolver->connections.nelts == 0)
        {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "\"aigw_redis\" address \"%V\" is a host name: "
                          "add a \"resolver\" to http{}, nginx resolves it "
                          "when it connects", &rc->address);
            return NGX_ERROR;
        }

        rc->resolver = clcf->resolver;
        rc->resolver_timeout = clcf->resolver_timeout;
    }

    if (rc->tls
        && ngx_http_aigw_peer_ssl(cf, &rc->ssl, &rc->tls_ca) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (!rc->journal_set) {

        if (clcf->client_body_temp_path) {
            temp = clcf->client_body_temp_path->name;

        } else {
            ngx_str_set(&temp, NGX_HTTP_CLIENT_TEMP_PATH);
        }

        last = temp.data + temp.len;

        while (last > temp.data && last[-1] == '/') {
            last--;
        }

        while (last > temp.data && last[-1] != '/') {
            last--;
        }

        len = last - temp.data;

        /* NUL-terminated, as nginx creates paths by their C string */

        rc->journal->name.len = len + sizeof("aigw") - 1;
        rc->journal->name.data = ngx_pnalloc(cf->pool,
                                             rc->journal->name.len + 1);
        if (rc->journal->name.data == NULL) {
            return NGX_ERROR;
        }

        p = ngx_cpymem(rc->journal->name.data, temp.data, len);
        ngx_memcpy(p, "aigw", sizeof("aigw"));
    }

    if (ngx_conf_full_name(cf->cycle, &rc->journal->name, 0) != NGX_OK) {
        return NGX_ERROR;
    }

    /* nginx creates it at start, owned by the workers' user */

    if (ngx_add_path(cf, &rc->journal) != NGX_OK) {
        return NGX_ERROR;
    }

    /*
     * Journal files are named after the target they are counted into:
     * another nginx sharing the directory, counting into another Redis
     * (or the same one under another prefix or db), leaves them alone
     */

    p = ngx_pnalloc(cf->pool, rc->address.len + rc->prefix.len
                              + NGX_INT_T_LEN + 3);
    if (p == NULL) {
        return NGX_ERROR;
    }

    last = ngx_sprintf(p, "%V\n%i\n%V", &rc->address, rc->db, &rc->prefix);

    aigw_sha256(md, p, last - p);
    aigw_hex((char *) rc->journal_tag, md, sizeof(rc->journal_tag) / 2);

    return NGX_OK;
}


static char *
ngx_http_aigw_redis_address(ngx_conf_t *cf, ngx_http_aigw_redis_conf_t *rc,
    ngx_str_t *addr)
{
    u_char     *p, *host, *last;
    ngx_int_t   port;
    ngx_url_t   u;
#if (NGX_HAVE_INET6)
    u_char      inaddr6[16];
#endif

    rc->address = *addr;

    if (addr->len > 5 && ngx_strncmp(addr->data, "unix:", 5) == 0) {
        ngx_memzero(&u, sizeof(ngx_url_t));
        u.url = *addr;

        if (ngx_parse_url(cf->pool, &u) != NGX_OK || u.naddrs != 1) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid \"aigw_redis\" address \"%V\": %s",
                               addr, u.err ? u.err : "not a unix socket");
            return NGX_CONF_ERROR;
        }

        rc->unix_addr = u.addrs;
        return NGX_CONF_OK;
    }

    last = addr->data + addr->len;
    host = addr->data;

    if (addr->len && *host == '[') {
        p = ngx_strlchr(host, last, ']');
        if (p == NULL || p + 1 >= last || p[1] != ':') {
            goto invalid;
        }

        host++;
        rc->host.len = p - host;
        p += 2;

#if (NGX_HAVE_INET6)
        if (ngx_inet6_addr(host, rc->host.len, inaddr6) != NGX_OK) {
            goto invalid;
        }
#else
        goto invalid;
#endif

    } else {
        p = ngx_strlchr(host, last, ':');
        if (p == NULL) {
            goto invalid;
        }

        rc->host.len = p - host;
        p++;
    }

    port = ngx_atoi(p, last - p);
    if (port < 1 || port > 65535 || rc->host.len == 0) {
        goto invalid;
    }

    rc->port = port;

    rc->host.data = ngx_pnalloc(cf->pool, rc->host.len + 1);
    if (rc->host.data == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_cpystrn(rc->host.data, host, rc->host.len + 1);

    if (ngx_http_aigw_redis_is_name(&rc->host)) {
        /* a name of letters, digits, "-", "_" and dots */

        if (rc->host.len > 253) {
            goto invalid;
        }

        for (p = rc->host.data; *p; p++) {
            if (*p != '.' && *p != '-' && *p != '_' && !isalnum(*p)) {
                goto invalid;
            }
        }
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid \"aigw_redis\" address \"%V\", expected "
                       "HOST:PORT, [IPv6]:PORT or unix:/path", addr);
    return NGX_CONF_ERROR;
}


/* neither an IP address nor a unix socket: resolved at connect */

static ngx_int_t
ngx_http_aigw_redis_is_name(ngx_str_t *host)
{
    u_char  inaddr6[16];

    if (host->len == 0) {
        return 0;
    }

    if (ngx_inet_addr(host->data, host->len) != INADDR_NONE) {
        return 0;
    }

#if (NGX_HAVE_INET6)
    if (ngx_inet6_addr(host->data, host->len, inaddr6) == NGX_OK) {
        return 0;
    }
#endif

    return 1;
}


/*
 * password_file=FILE: its first line, read now, so that the secret stays
 * out of nginx.conf; the file is named in errors, never its content
 */

static char *
ngx_http_aigw_redis_password_file(ngx_conf_t *cf,
    ngx_http_aigw_redis_conf_t *rc, ngx_str_t *file)
{
    char       *text;
    u_char     *p, *last;
    size_t      len;
    ngx_str_t   name;
    char        err[AIGW_FILE_ERR_LEN];

    name.len = file->len;
    name.data = ngx_pnalloc(cf->pool, name.len + 1);
    if (name.data == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_cpystrn(name.data, file->data, name.len + 1);

    if (ngx_conf_full_name(cf->cycle, &name, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    text = aigw_file_read((char *) name.data,
                          NGX_HTTP_AIGW_REDIS_PASSWORD_MAX, &len, err,
                          sizeof(err));
    if (text == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"aigw_redis\" password_file \"%V\": %s",
                           &name, err);
        return NGX_CONF_ERROR;
    }

    p = (u_char *) text;
    last = p + len;

    /* the first line, without its end */

    for (len = 0; p + len < last && p[len] != LF && p[len] != CR; len++) {
        /* void */
    }

    rc->password.len = len;
    rc->password.data = ngx_pnalloc(cf->pool, len + 1);

    if (rc->password.data) {
        ngx_cpystrn(rc->password.data, p, len + 1);
    }

    ngx_explicit_memzero(text, last - p);
    free(text);

    if (rc->password.data == NULL) {
        return NGX_CONF_ERROR;
    }

    if (len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"aigw_redis\" password_file \"%V\" is empty",
                           &name);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}

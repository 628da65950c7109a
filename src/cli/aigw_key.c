
/*
 * aigw: "aigw key create | revoke | list": the API keys of the tenants
 * file.
 *
 * A change is a read-modify-write under an exclusive flock() of the file:
 * the file is validated with the module's own parser, changed as a
 * jansson tree (member order kept), validated again, then written to a
 * temporary file in the same directory with the same mode and owner,
 * fsync()ed and renamed over the original, and the directory fsync()ed.
 * A run that waited for the lock while another replaced the file locks
 * the new file instead.
 */


#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "aigw_tenants.h"
#include "aigw_util.h"
#include "aigw_cli.h"
#include "aigw_opts.h"
#include "aigw_cli_file.h"


#define AIGW_KEY_FILE_MAX    (1024 * 1024 * 1024)


typedef struct {
    const char   *arg;              /* as given */
    char         *path;             /* symbolic links resolved */
    int           fd;               /* -1, or open (and locked) */
    struct stat   st;
    char         *text;
    size_t        len;
} aigw_tfile_t;


static int aigw_key_create(int argc, char **argv);
static int aigw_key_revoke(int argc, char **argv);
static int aigw_key_list(int argc, char **argv);
static void aigw_key_usage(FILE *f);
static aigw_tenants_t *aigw_tfile_load(aigw_tfile_t *f, const char *arg,
    int lock);
static int aigw_tfile_open(aigw_tfile_t *f, const char *arg, int lock);
static int aigw_tfile_read(aigw_tfile_t *f);
static json_t *aigw_tfile_json(aigw_tfile_t *f);
static int aigw_tfile_save(aigw_tfile_t *f, json_t *root);
static int aigw_tfile_write(aigw_tfile_t *f, const char *data, size_t len);
static void aigw_tfile_close(aigw_tfile_t *f);
static int aigw_json_real_precision(json_t *v);
static json_t *aigw_json_find_tenant(json_t *root, const char *id);
static size_t aigw_text_width(const char *s);


static const char  aigw_key_create_help[] =
    "usage: aigw key create --tenant TENANT --tenants FILE [--id KEY_ID]\n"
    "                       [--note TEXT]\n"
    "\n"
    "Creates an API key for a tenant of the tenants file and prints it,\n"
    "once, on stdout.  Only its SHA-256 is stored, with the key id and the\n"
    "creation time; the file is validated before and after the change and\n"
    "rewritten atomically, keeping its mode.  The key works after\n"
    "\"nginx -s reload\".\n"
    "\n"
    "options:\n"
    "  --tenant TENANT  the tenant id (it must be in the file)\n"
    "  --tenants FILE   the tenants file (the aigw_tenants directive's)\n"
    "  --id KEY_ID      the key id, 1 to 64 characters of [A-Za-z0-9-]\n"
    "                   (default: 8 random characters of [a-z0-9]); the\n"
    "                   key id is public, it appears in logs and metrics\n"
    "  --note TEXT      a note stored with the key\n"
    "  -h, --help       this help\n";

static const char  aigw_key_revoke_help[] =
    "usage: aigw key revoke --id KEY_ID --tenants FILE\n"
    "\n"
    "Removes the key KEY_ID from the tenants file, whichever tenant has it;\n"
    "the file is rewritten atomically, keeping its mode.  The key stops\n"
    "working after \"nginx -s reload\".\n"
    "\n"
    "options:\n"
    "  --id KEY_ID      the key id (the part after \"aigw_\" in the key)\n"
    "  --tenants FILE   the tenants file\n"
    "  -h, --help       this help\n";

static const char  aigw_key_list_help[] =
    "usage: aigw key list --tenants FILE [--tenant TENANT]\n"
    "\n"
    "Lists the tenants and their keys: tenant, project, key id, creation\n"
    "time (\"-\" when there is none).  Never a key or a hash.\n"
    "\n"
    "options:\n"
    "  --tenants FILE   the tenants file\n"
    "  --tenant TENANT  only this tenant\n"
    "  -h, --help       this help\n";


int
aigw_cmd_key(int argc, char **argv)
{
    if (argc < 2) {
        aigw_key_usage(stderr);
        return AIGW_EXIT_USAGE;
    }

    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0
        || strcmp(argv[1], "help") == 0)
    {
        aigw_key_usage(stdout);
        return AIGW_EXIT_OK;
    }

    if (strcmp(argv[1], "create") == 0) {
        return aigw_key_create(argc - 1, argv + 1);
    }

    if (strcmp(argv[1], "revoke") == 0) {
        return aigw_key_revoke(argc - 1, argv + 1);
    }

    if (strcmp(argv[1], "list") == 0) {
        return aigw_key_list(argc - 1, argv + 1);
    }

    fprintf(stderr, "aigw key: unknown command \"%s\"\n\n", argv[1]);
    aigw_key_usage(stderr);

    return AIGW_EXIT_USAGE;
}


static void
aigw_key_usage(FILE *f)
{
    fprintf(f,
        "usage: aigw key create --tenant TENANT --tenants FILE"
        " [--id KEY_ID] [--note T]\n"
        "       aigw key revoke --id KEY_ID --tenants FILE\n"
        "       aigw key list --tenants FILE [--tenant TENANT]\n"
        "\n"
        "Manages the API keys of the tenants file (the aigw_tenants\n"
        "directive's).  Keys look like aigw_<key id>_<secret>; the file\n"
        "keeps only their SHA-256.  The file is validated before and after\n"
        "each change and rewritten atomically; a change takes effect after\n"
        "\"nginx -s reload\".\n"
        "\n"
        "commands:\n"
        "  create       create a key for a tenant and print it, once\n"
        "  revoke       remove a key\n"
        "  list         list the tenants and their key ids\n"
        "\n"
        "Run \"aigw key COMMAND --help\" for a command's options.\n");
}


static int
aigw_key_create(int argc, char **argv)
{
    int                   rc, tries;
    char                  created[32];
    char                  key[AIGW_KEY_MAX_LEN + 1];
    char                  hex[AIGW_SHA256_HEX_LEN + 1];
    size_t                n;
    time_t                now;
    json_t               *root, *tenant, *keys, *k;
    struct tm             tm;
    const char           *tenant_id, *file, *id, *note;
    aigw_str_t            kid;
    aigw_tfile_t          f;
    aigw_tenants_t       *ts;
    const aigw_key_t     *other;
    aigw_opt_t            opts[] = {
        { "--tenant", 0, &tenant_id, NULL, 1 },
        { "--tenants", 0, &file, NULL, 1 },
        { "--id", 0, &id, NULL, 0 },
        { "--note", 0, &note, NULL, 0 },
        { NULL, 0, NULL, NULL, 0 }
    };

    n = 0;
    tenant_id = NULL;
    file = NULL;
    id = NULL;
    note = NULL;

    rc = aigw_opts_parse("key create", aigw_key_create_help, argc, argv,
                         opts, AIGW_OPTS_STRICT);
    if (rc != -1) {
        return rc;
    }

    if (id && !aigw_key_id_valid(id, strlen(id))) {
        return aigw_opts_error("key create", "--id: expected 1 to 64"
                               " characters of [A-Za-z0-9-]");
    }

    if (note && strlen(note) > AIGW_TENANT_TEXT_MAX) {
        return aigw_opts_error("key create", "--note: longer than 256 "
                               "bytes");
    }

    ts = aigw_tfile_load(&f, file, 1);
    if (ts == NULL) {
        return AIGW_EXIT_ERROR;
    }

    rc = AIGW_EXIT_ERROR;
    root = NULL;

    if (aigw_tenants_find(ts, tenant_id, strlen(tenant_id)) == NULL) {
        fprintf(stderr, "aigw: %s: no tenant \"%s\"\n", f.arg, tenant_id);
        goto done;
    }

    if (id) {
        other = aigw_tenants_find_key(ts, id, strlen(id));

        if (other) {
            fprintf(stderr, "aigw: %s: the key id \"%s\" is already used"
                    " (tenant \"%s\")\n", f.arg, id, other->tenant->id.data);
            goto done;
        }

        n = aigw_key_generate(id, strlen(id), key, hex);

    } else {
        for (tries = 0; tries < 16; tries++) {
            n = aigw_key_generate(NULL, 0, key, hex);

            if (n == 0 || aigw_key_parse(key, n, &kid) != 0
                || aigw_tenants_find_key(ts, kid.data, kid.len) == NULL)
            {
                break;
            }
        }
    }

    if (n == 0 || aigw_key_parse(key, n, &kid) != 0) {
        fprintf(stderr, "aigw: no random bytes available\n");
        goto done;
    }

    if (aigw_tenants_find_key(ts, kid.data, kid.len) != NULL) {
        fprintf(stderr, "aigw: %s: no unused key id found\n", f.arg);
        goto done;
    }

    now = time(NULL);
    gmtime_r(&now, &tm);
    strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", &tm);

    root = aigw_tfile_json(&f);
    if (root == NULL) {
        goto done;
    }

    tenant = aigw_json_find_tenant(root, tenant_id);
    if (tenant == NULL) {
        fprintf(stderr, "aigw: %s: no tenant \"%s\"\n", f.arg, tenant_id);
        goto done;
    }

    keys = json_object_get(tenant, "keys");

    if (keys == NULL) {
        keys = json_array();

        if (keys == NULL || json_object_set_new(tenant, "keys", keys) != 0) {
            fprintf(stderr, "aigw: out of memory\n");
            goto done;
        }
    }

    k = json_object();

    if (k == NULL
        || json_object_set_new(k, "id", json_stringn(kid.data, kid.len))
           != 0
        || json_object_set_new(k, "sha256", json_string(hex)) != 0
        || json_object_set_new(k, "created", json_string(created)) != 0
        || (note && json_object_set_new(k, "note", json_string(note)) != 0)
        || json_array_append_new(keys, k) != 0)
    {
        fprintf(stderr, "aigw: out of memory\n");
        goto done;
    }

    if (aigw_tfile_save(&f, root) != 0) {
        goto done;
    }

    /* stored: now the key may be shown, once */

    printf("%s\n", key);

    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "aigw: the key \"%.*s\" was stored but could not be"
                " printed: revoke it with \"aigw key revoke --id %.*s"
                " --tenants %s\"\n", (int) kid.len, kid.data,
                (int) kid.len, kid.data, f.arg);
        goto done;
    }

    fprintf(stderr, "aigw: created the key \"%.*s\" of tenant \"%s\" in %s.\n"
            "It is shown this once: the file keeps only its SHA-256.\n"
            "It takes effect after \"nginx -s reload\".\n",
            (int) kid.len, kid.data, tenant_id, f.arg);

    rc = AIGW_EXIT_OK;

done:

    OPENSSL_cleanse(key, sizeof(key));
    json_decref(root);
    aigw_tenants_free(ts);
    aigw_tfile_close(&f);

    return rc;
}


static int
aigw_key_revoke(int argc, char **argv)
{
    int                rc;
    size_t             i;
    json_t            *root, *t, *keys;
    const char        *id, *file, *s;
    aigw_tfile_t       f;
    aigw_tenants_t    *ts;
    const aigw_key_t  *k;
    aigw_opt_t         opts[] = {
        { "--id", 0, &id, NULL, 1 },
        { "--tenants", 0, &file, NULL, 1 },
        { NULL, 0, NULL, NULL, 0 }
    };

    id = NULL;
    file = NULL;

    rc = aigw_opts_parse("key revoke", aigw_key_revoke_help, argc, argv,
                         opts, AIGW_OPTS_STRICT);
    if (rc != -1) {
        return rc;
    }

    if (!aigw_key_id_valid(id, strlen(id))) {
        return aigw_opts_error("key revoke", "--id: expected 1 to 64"
                               " characters of [A-Za-z0-9-] (the key id,"
                               " not the key)");
    }

    ts = aigw_tfile_load(&f, file, 1);
    if (ts == NULL) {
        return AIGW_EXIT_ERROR;
    }

    rc = AIGW_EXIT_ERROR;
    root = NULL;

    k = aigw_tenants_find_key(ts, id, strlen(id));

    if (k == NULL) {
        fprintf(stderr, "aigw: %s: no key \"%s\"\n", f.arg, id);
        goto done;
    }

    root = aigw_tfile_json(&f);
    if (root == NULL) {
        goto done;
    }

    t = aigw_json_find_tenant(root, k->tenant->id.data);
    keys = json_object_get(t, "keys");

    for (i = 0; i < json_array_size(keys); i++) {
        s = json_string_value(json_object_get(json_array_get(keys, i), "id"));

        if (s && strcmp(s, id) == 0) {
            break;
        }
    }

    if (i == json_array_size(keys) || json_array_remove(keys, i) != 0) {
        fprintf(stderr, "aigw: %s: no key \"%s\"\n", f.arg, id);
        goto done;
    }

    if (aigw_tfile_save(&f, root) != 0) {
        goto done;
    }

    fprintf(stderr, "aigw: revoked the key \"%s\" of tenant \"%s\" in %s.\n"
            "It stops working after \"nginx -s reload\".\n",
            id, k->tenant->id.data, f.arg);

    rc = AIGW_EXIT_OK;

done:

    json_decref(root);
    aigw_tenants_free(ts);
    aigw_tfile_close(&f);

    return rc;
}


static int
aigw_key_list(int argc, char **argv)
{
    int                   rc;
    size_t                i, j, n, w[3], len;
    const char           *file, *only, *v[4];
    aigw_tfile_t          f;
    aigw_tenants_t       *ts;
    const aigw_key_t     *k;
    const aigw_tenant_t  *t;
    aigw_opt_t            opts[] = {
        { "--tenants", 0, &file, NULL, 1 },
        { "--tenant", 0, &only, NULL, 0 },
        { NULL, 0, NULL, NULL, 0 }
    };

    file = NULL;
    only = NULL;

    rc = aigw_opts_parse("key list", aigw_key_list_help, argc, argv, opts,
                         AIGW_OPTS_STRICT);
    if (rc != -1) {
        return rc;
    }

    ts = aigw_tfile_load(&f, file, 0);
    if (ts == NULL) {
        return AIGW_EXIT_ERROR;
    }

    if (only && aigw_tenants_find(ts, only, strlen(only)) == NULL) {
        fprintf(stderr, "aigw: %s: no tenant \"%s\"\n", f.arg, only);
        aigw_tenants_free(ts);
        aigw_tfile_close(&f);
        return AIGW_EXIT_ERROR;
    }

    /* two passes: the column widths, then the rows */

    w[0] = sizeof("TENANT") - 1;
    w[1] = sizeof("PROJECT") - 1;
    w[2] = sizeof("KEY ID") - 1;

    n = aigw_tenants_count(ts);

    for (i = 0; i < n; i++) {
        t = aigw_tenants_get(ts, i);

        if (only && strcmp(only, t->id.data) != 0) {
            continue;
        }

        len = aigw_text_width(t->id.data);
        w[0] = (len > w[0]) ? len : w[0];

        len = aigw_text_width(t->project.len ? t->project.data : "-");
        w[1] = (len > w[1]) ? len : w[1];

        for (j = 0; j < t->nkeys; j++) {
            len = t->keys[j].id.len;
            w[2] = (len > w[2]) ? len : w[2];
        }
    }

    printf("%-*s  %-*s  %-*s  %s\n", (int) w[0], "TENANT", (int) w[1],
           "PROJECT", (int) w[2], "KEY ID", "CREATED");

    for (i = 0; i < n; i++) {
        t = aigw_tenants_get(ts, i);

        if (only && strcmp(only, t->id.data) != 0) {
            continue;
        }

        v[0] = t->id.data;
        v[1] = t->project.len ? t->project.data : "-";

        for (j = 0; j < t->nkeys || j == 0; j++) {
            k = (j < t->nkeys) ? &t->keys[j] : NULL;

            v[2] = k ? k->id.data : "-";
            v[3] = (k && k->created.len) ? k->created.data : "-";

            /* printf pads by bytes: pad by characters */

            printf("%s%*s  %s%*s  %-*s  %s\n",
                   v[0], (int) (w[0] - aigw_text_width(v[0])), "",
                   v[1], (int) (w[1] - aigw_text_width(v[1])), "",
                   (int) w[2], v[2], v[3]);
        }
    }

    rc = AIGW_EXIT_OK;

    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "aigw: cannot write the list: %s\n",
                strerror(errno));
        rc = AIGW_EXIT_ERROR;
    }

    aigw_tenants_free(ts);
    aigw_tfile_close(&f);

    return rc;
}


/* the tenants file */


/* opened (and locked) and validated: its tenants, or NULL (reported) */

static aigw_tenants_t *
aigw_tfile_load(aigw_tfile_t *f, const char *arg, int lock)
{
    aigw_tenants_t  *ts;
    char             err[AIGW_TENANTS_ERR_LEN];

    if (aigw_tfile_open(f, arg, lock) != 0) {
        return NULL;
    }

    ts = aigw_tenants_parse(f->text, f->len, err, sizeof(err));

    if (ts == NULL) {
        fprintf(stderr, "aigw: %s: %s\n", f->arg, err);
        aigw_tfile_close(f);
    }

    return ts;
}


static int
aigw_tfile_open(aigw_tfile_t *f, const char *arg, int lock)
{
    struct stat  st;

    memset(f, 0, sizeof(aigw_tfile_t));
    f->arg = arg;
    f->fd = -1;

    for ( ;; ) {

        /* the file a symbolic link points to is the one rewritten */

        f->path = realpath(arg, NULL);

        if (f->path == NULL) {
            fprintf(stderr, "aigw: %s: %s\n", arg, strerror(errno));
            return -1;
        }

        f->fd = open(f->path, O_RDONLY | O_CLOEXEC);

        if (f->fd == -1) {
            fprintf(stderr, "aigw: %s: %s\n", arg, strerror(errno));
            goto failed;
        }

        if (lock && flock(f->fd, LOCK_EX) != 0) {
            fprintf(stderr, "aigw: %s: cannot lock: %s\n", arg,
                    strerror(errno));
            goto failed;
        }

        if (fstat(f->fd, &f->st) != 0) {
            fprintf(stderr, "aigw: %s: %s\n", arg, strerror(errno));
            goto failed;
        }

        if (!S_ISREG(f->st.st_mode)) {
            fprintf(stderr, "aigw: %s: not a regular file\n", arg);
            goto failed;
        }

        /* another run may have replaced the file while this one waited */

        if (!lock
            || (stat(f->path, &st) == 0 && st.st_dev == f->st.st_dev
                && st.st_ino == f->st.st_ino))
        {
            break;
        }

        close(f->fd);
        f->fd = -1;
        free(f->path);
        f->path = NULL;
    }

    if (aigw_tfile_read(f) != 0) {
        goto failed;
    }

    return 0;

failed:

    aigw_tfile_close(f);

    return -1;
}


static int
aigw_tfile_read(aigw_tfile_t *f)
{
    int  e;

    f->text = aigw_cli_fd_read(f->fd, AIGW_KEY_FILE_MAX, &f->len, &e);

    if (f->text != NULL) {
        return 0;
    }

    if (e == ENOMEM) {
        fprintf(stderr, "aigw: out of memory\n");

    } else if (e == EFBIG) {
        fprintf(stderr, "aigw: %s: too large\n", f->arg);

    } else {
        fprintf(stderr, "aigw: %s: %s\n", f->arg, strerror(e));
    }

    return -1;
}


static json_t *
aigw_tfile_json(aigw_tfile_t *f)
{
    json_t        *root;
    json_error_t   jerr;

    root = json_loadb(f->text, f->len, JSON_REJECT_DUPLICATES, &jerr);

    if (root == NULL) {
        fprintf(stderr, "aigw: %s: invalid JSON at line %d, column %d\n",
                f->arg, jerr.line, jerr.column);
    }

    return root;
}


/* the new text is validated as the module will read it, then written */

static int
aigw_tfile_save(aigw_tfile_t *f, json_t *root)
{
    int              rc, prec;
    char            *text, *p;
    size_t           len;
    aigw_tenants_t  *ts;
    char             err[AIGW_TENANTS_ERR_LEN];

    /*
     * jansson writes reals with 17 significant digits by default (0.1
     * would become 0.10000000000000001): use the fewest digits that give
     * back every real of the file
     */

    prec = aigw_json_real_precision(root);

    text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER
                            | JSON_REAL_PRECISION(prec));
    if (text == NULL) {
        fprintf(stderr, "aigw: out of memory\n");
        return -1;
    }

    len = strlen(text);

    p = realloc(text, len + 2);
    if (p == NULL) {
        free(text);
        fprintf(stderr, "aigw: out of memory\n");
        return -1;
    }

    text = p;
    text[len++] = '\n';
    text[len] = '\0';

    ts = aigw_tenants_parse(text, len, err, sizeof(err));

    if (ts == NULL) {
        fprintf(stderr, "aigw: %s: the change would make the file invalid,"
                " nothing written: %s\n", f->arg, err);
        free(text);
        return -1;
    }

    aigw_tenants_free(ts);

    rc = aigw_tfile_write(f, text, len);

    free(text);

    return rc;
}


static int
aigw_tfile_write(aigw_tfile_t *f, const char *data, size_t len)
{
    int          fd, dfd;
    char        *tmp, *slash;
    size_t       dlen, off;
    ssize_t      n;
    struct stat  st;

    slash = strrchr(f->path, '/');
    dlen = slash ? (size_t) (slash - f->path) : 0;

    /* "/dir/.tenants.json.XXXXXX" */

    tmp = malloc(strlen(f->path) + sizeof("/..XXXXXX"));
    if (tmp == NULL) {
        fprintf(stderr, "aigw: out of memory\n");
        return -1;
    }

    sprintf(tmp, "%.*s/.%s.XXXXXX", (int) dlen, f->path,
            slash ? slash + 1 : f->path);

    fd = mkstemp(tmp);

    if (fd == -1) {
        fprintf(stderr, "aigw: %s: cannot create a temporary file in its"
                " directory: %s\n", f->arg, strerror(errno));
        free(tmp);
        return -1;
    }

    if (fchmod(fd, f->st.st_mode & 07777) != 0) {
        fprintf(stderr, "aigw: %s: %s\n", tmp, strerror(errno));
        goto failed;
    }

    if (fchown(fd, f->st.st_uid, f->st.st_gid) != 0
        && fstat(fd, &st) == 0
        && (st.st_uid != f->st.st_uid || st.st_gid != f->st.st_gid))
    {
        /* a group the user is not in, or another owner: not fatal */

        if (fchown(fd, (uid_t) -1, f->st.st_gid) != 0) {
            fprintf(stderr, "aigw: warning: %s: the owner and group of the"
                    " file cannot be kept: %s\n", f->arg, strerror(errno));

        } else if (st.st_uid != f->st.st_uid) {
            fprintf(stderr, "aigw: warning: %s: the owner of the file cannot"
                    " be kept\n", f->arg);
        }
    }

    for (off = 0; off < len; off += n) {
        n = write(fd, data + off, len - off);

        if (n == -1) {
            if (errno == EINTR) {
                n = 0;
                continue;
            }

            fprintf(stderr, "aigw: %s: %s\n", tmp, strerror(errno));
            goto failed;
        }
    }

    if (fsync(fd) != 0) {
        fprintf(stderr, "aigw: %s: fsync: %s\n", tmp, strerror(errno));
        goto failed;
    }

    if (close(fd) != 0) {
        fd = -1;
        fprintf(stderr, "aigw: %s: %s\n", tmp, strerror(errno));
        goto failed;
    }

    fd = -1;

    if (rename(tmp, f->path) != 0) {
        fprintf(stderr, "aigw: %s: cannot replace the file: %s\n", f->arg,
                strerror(errno));
        goto failed;
    }

    free(tmp);

    /* the rename itself is durable once the directory is synced */

    if (dlen) {
        f->path[dlen] = '\0';
        dfd = open(f->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        f->path[dlen] = '/';

    } else {
        dfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    }

    if (dfd == -1 || fsync(dfd) != 0) {
        fprintf(stderr, "aigw: warning: %s: cannot sync its directory: %s\n",
                f->arg, strerror(errno));
    }

    if (dfd != -1) {
        close(dfd);
    }

    return 0;

failed:

    if (fd != -1) {
        close(fd);
    }

    unlink(tmp);
    free(tmp);

    return -1;
}


static void
aigw_tfile_close(aigw_tfile_t *f)
{
    /* closing the file releases the lock */

    if (f->fd != -1) {
        close(f->fd);
        f->fd = -1;
    }

    free(f->path);
    f->path = NULL;

    if (f->text) {
        OPENSSL_cleanse(f->text, f->len);
        free(f->text);
        f->text = NULL;
    }
}


/* the fewest significant digits (15 to 17) that write every real back */

static int
aigw_json_real_precision(json_t *v)
{
    int          prec, p;
    size_t       i;
    double       d;
    json_t      *e;
    const char  *name;
    char         buf[64];

    prec = 15;

    if (json_is_real(v)) {
        d = json_real_value(v);

        for (prec = 15; prec < 17; prec++) {
            snprintf(buf, sizeof(buf), "%.*g", prec, d);

            if (strtod(buf, NULL) == d) {
                break;
            }
        }

    } else if (json_is_array(v)) {
        json_array_foreach(v, i, e) {
            p = aigw_json_real_precision(e);
            prec = (p > prec) ? p : prec;
        }

    } else if (json_is_object(v)) {
        json_object_foreach(v, name, e) {
            p = aigw_json_real_precision(e);
            prec = (p > prec) ? p : prec;
        }
    }

    return prec;
}


static json_t *
aigw_json_find_tenant(json_t *root, const char *id)
{
    size_t       i;
    json_t      *t;
    const char  *s;

    json_array_foreach(json_object_get(root, "tenants"), i, t) {
        s = json_string_value(json_object_get(t, "id"));

        if (s && strcmp(s, id) == 0) {
            return t;
        }
    }

    return NULL;
}


/* the characters of a UTF-8 string, for alignment */

static size_t
aigw_text_width(const char *s)
{
    size_t  n;

    for (n = 0; *s; s++) {
        if (((unsigned char) *s & 0xc0) != 0x80) {
            n++;
        }
    }

    return n;
}

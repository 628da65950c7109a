
/*
 * aigw: the credentials provider chain run blocking, for the
 * command-line tool (see aigw_cli_creds.h).
 */


#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "aigw_credchain.h"
#include "aigw_http.h"
#include "aigw_cli_file.h"
#include "aigw_cli_creds.h"


/* a chain takes a few steps (IMDS: 3; a role on a role: more) */
#define AIGW_CLI_CC_STEPS   64


static const char *aigw_cli_getenv(void *data, const char *name);
static void aigw_cli_http(aigw_cc_t *cc, const aigw_cc_http_t *http,
    const char *who, int verbose);
static void aigw_cli_process(aigw_cc_t *cc, const char *command,
    unsigned timeout_ms, const char *who, int verbose);
static int aigw_cli_run(const char *command, unsigned timeout_ms,
    char *out, size_t *len, char *err, size_t err_size);
static long long aigw_cli_ms(void);
static void aigw_cli_reap(pid_t pid, int *status);


int
aigw_cli_credentials(aigw_cc_conf_t *conf, aigw_cli_creds_t *out,
    const char *who, int verbose, char *err, size_t err_size)
{
    int                      rc, steps;
    char                    *data, when[32];
    size_t                   len;
    struct tm                tm;
    aigw_cc_t               *cc;
    aigw_cc_action_t         act;
    const aigw_cc_result_t  *res;

    memset(out, 0, sizeof(aigw_cli_creds_t));

    if (conf->getenv == NULL) {
        conf->getenv = aigw_cli_getenv;
        conf->env_data = NULL;
    }

    cc = aigw_cc_create(conf);
    if (cc == NULL) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }

    for (steps = 0; steps < AIGW_CLI_CC_STEPS; steps++) {
        aigw_cc_next(cc, time(NULL), &act);

        switch (act.step) {

        case AIGW_CC_DONE:
            res = aigw_cc_result(cc);

            out->cc = cc;
            out->creds = res->creds;
            out->expiration = res->expiration;
            out->source = res->source;
            out->origin = res->origin ? res->origin : "";

            if (verbose) {
                when[0] = '\0';

                if (res->expiration && gmtime_r(&res->expiration, &tm)) {
                    strftime(when, sizeof(when), ", until %Y-%m-%dT%H:%M:%SZ",
                             &tm);
                }

                fprintf(stderr, "%s: credentials from %s (%s)%s\n", who,
                        out->origin, aigw_cc_source_name(res->source), when);
            }

            return 0;

        case AIGW_CC_FAILED:
            res = aigw_cc_result(cc);
            snprintf(err, err_size, "%s", res->error ? res->error
                     : "no AWS credentials");
            aigw_cc_destroy(cc);
            return -1;

        case AIGW_CC_READ_FILE:
            data = aigw_cli_file_read(act.path, 0, AIGW_CC_FILE_MAX, &len,
                                      &rc);
            if (data) {
                rc = 0;
            }

            aigw_cc_file_done(cc, rc, data, len);

            if (data) {
                explicit_bzero(data, len);
                free(data);
            }

            break;

        case AIGW_CC_HTTP:
            aigw_cli_http(cc, &act.http, who, verbose);
            break;

        case AIGW_CC_PROCESS:
            aigw_cli_process(cc, act.command, act.timeout_ms, who, verbose);
            break;

        default:
            snprintf(err, err_size, "the credentials chain asked for an "
                     "unknown step %d", (int) act.step);
            aigw_cc_destroy(cc);
            return -1;
        }
    }

    snprintf(err, err_size, "the credentials chain did not finish in %d "
             "steps", AIGW_CLI_CC_STEPS);
    aigw_cc_destroy(cc);

    return -1;
}


void
aigw_cli_credentials_free(aigw_cli_creds_t *c)
{
    if (c->cc) {
        aigw_cc_destroy(c->cc);
    }

    memset(c, 0, sizeof(aigw_cli_creds_t));
}


static const char *
aigw_cli_getenv(void *data, const char *name)
{
    return getenv(name);
}


static void
aigw_cli_http(aigw_cc_t *cc, const aigw_cc_http_t *http, const char *who,
    int verbose)
{
    int                    rc;
    char                   err[AIGW_HTTP_ERR_LEN];
    aigw_http_request_t    req;
    aigw_http_response_t   resp;

    memset(&req, 0, sizeof(aigw_http_request_t));
    req.method = http->method;
    req.host = http->host;
    req.port = http->port;
    req.tls = http->tls;
    req.target = http->target;
    req.headers = http->headers;
    req.nheaders = http->nheaders;
    req.body = http->body;
    req.body_len = http->body_len;
    req.timeout_ms = (int) http->timeout_ms;

    rc = aigw_http_do(&req, &resp, err, sizeof(err));

    if (rc != 0) {
        if (verbose) {
            fprintf(stderr, "%s: credentials: %s %s: %s\n", who,
                    http->method, http->url, err);
        }

        aigw_cc_http_done(cc, 0, NULL, 0, err);
        return;
    }

    if (verbose) {
        fprintf(stderr, "%s: credentials: %s %s: %d\n", who, http->method,
                http->url, resp.status);
    }

    if (resp.body_len > AIGW_CC_BODY_MAX) {
        snprintf(err, sizeof(err), "%s %s: the response body is over %d "
                 "bytes", http->method, http->url, AIGW_CC_BODY_MAX);
        aigw_cc_http_done(cc, 0, NULL, 0, err);

    } else {
        aigw_cc_http_done(cc, resp.status, resp.body, resp.body_len, NULL);
    }

    if (resp.body) {
        explicit_bzero(resp.body, resp.body_len);
    }

    aigw_http_response_free(&resp);
}


static void
aigw_cli_process(aigw_cc_t *cc, const char *command, unsigned timeout_ms,
    const char *who, int verbose)
{
    int      status;
    char    *out, err[AIGW_CC_ERR_LEN];
    size_t   len;

    out = malloc(AIGW_CC_BODY_MAX + 1);
    if (out == NULL) {
        aigw_cc_process_done(cc, -1, NULL, 0, "out of memory");
        return;
    }

    len = 0;
    err[0] = '\0';

    status = aigw_cli_run(command, timeout_ms, out, &len, err, sizeof(err));

    if (verbose) {
        /* the command may carry secrets in its arguments: not shown */
        if (status < 0) {
            fprintf(stderr, "%s: credentials: credential_process: %s\n",
                    who, err);

        } else {
            fprintf(stderr, "%s: credentials: credential_process: exit "
                    "status %d, %zu bytes of output\n", who, status, len);
        }
    }

    aigw_cc_process_done(cc, status, out, len, status < 0 ? err : NULL);

    explicit_bzero(out, len);
    free(out);
}


/*
 * Runs "sh -c command", its output into "out" (AIGW_CC_BODY_MAX + 1
 * bytes): the exit status, or -1 with "err".
 */

static int
aigw_cli_run(const char *command, unsigned timeout_ms, char *out,
    size_t *len, char *err, size_t err_size)
{
    int            fds[2], devnull, status, done;
    pid_t          pid;
    ssize_t        n;
    long long      deadline, left;
    struct pollfd  pfd;

    if (pipe2(fds, O_CLOEXEC) != 0) {
        snprintf(err, err_size, "pipe: %s", strerror(errno));
        return -1;
    }

    pid = fork();

    if (pid < 0) {
        snprintf(err, err_size, "fork: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return -1;
    }

    if (pid == 0) {
        /* its own process group: a timeout kills what it started too */
        (void) setpgid(0, 0);

        devnull = open("/dev/null", O_RDONLY);

        if (devnull < 0 || dup2(devnull, STDIN_FILENO) < 0
            || dup2(fds[1], STDOUT_FILENO) < 0)
        {
            _exit(126);
        }

        (void) signal(SIGPIPE, SIG_DFL);

        execl("/bin/sh", "sh", "-c", command, (char *) NULL);
        _exit(127);
    }

    (void) setpgid(pid, pid);
    close(fds[1]);

    deadline = aigw_cli_ms() + timeout_ms;
    *len = 0;
    status = -1;
    done = 0;

    /* its output, until it closes it */

    pfd.fd = fds[0];
    pfd.events = POLLIN;

    for ( ;; ) {
        left = deadline - aigw_cli_ms();

        if (left <= 0) {
            snprintf(err, err_size, "timed out after %u ms: killed",
                     timeout_ms);
            goto kill;
        }

        n = poll(&pfd, 1, (int) left);

        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }

            snprintf(err, err_size, "poll: %s", strerror(errno));
            goto kill;
        }

        if (n == 0) {
            continue;
        }

        n = read(fds[0], out + *len, AIGW_CC_BODY_MAX + 1 - *len);

        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                continue;
            }

            snprintf(err, err_size, "read: %s", strerror(errno));
            goto kill;
        }

        if (n == 0) {
            break;
        }

        *len += (size_t) n;

        if (*len > AIGW_CC_BODY_MAX) {
            snprintf(err, err_size, "its output is over %d bytes: killed",
                     AIGW_CC_BODY_MAX);
            goto kill;
        }
    }

    close(fds[0]);
    fds[0] = -1;

    /* then its end, within the same time */

    for ( ;; ) {
        n = waitpid(pid, &status, WNOHANG);

        if (n == pid) {
            done = 1;
            break;
        }

        if (n < 0 && errno != EINTR) {
            snprintf(err, err_size, "waitpid: %s", strerror(errno));
            return -1;
        }

        if (aigw_cli_ms() >= deadline) {
            snprintf(err, err_size, "timed out after %u ms: killed",
                     timeout_ms);
            goto kill;
        }

        usleep(5000);
    }

    if (done && WIFEXITED(status)) {
        return WEXITSTATUS(status);
    }

    snprintf(err, err_size, "killed by signal %d",
             WIFSIGNALED(status) ? WTERMSIG(status) : 0);

    return -1;

kill:

    if (fds[0] >= 0) {
        close(fds[0]);
    }

    (void) kill(-pid, SIGKILL);
    (void) kill(pid, SIGKILL);
    aigw_cli_reap(pid, &status);

    return -1;
}


static void
aigw_cli_reap(pid_t pid, int *status)
{
    while (waitpid(pid, status, 0) < 0 && errno == EINTR) {
        /* void */
    }
}


static long long
aigw_cli_ms(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

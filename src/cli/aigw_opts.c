
/*
 * aigw: the options of the commands, on getopt_long (see aigw_opts.h).
 */


#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aigw_cli.h"
#include "aigw_opts.h"


/* getopt_long's value of the option of index i: above any character */
#define AIGW_OPT_VAL(i)    (256 + (int) (i))
#define AIGW_OPTS_MAX      32


static int aigw_opts_find(const aigw_opt_t *opts, int val);
static int aigw_opts_whole(const char *arg, const char *name);


int
aigw_opts_parse(const char *cmd, const char *help, int argc, char **argv,
    const aigw_opt_t *opts, unsigned flags)
{
    int                 i, n, c, at, given[AIGW_OPTS_MAX];
    char                shorts[2 * AIGW_OPTS_MAX + 4], *s;
    const char         *arg;
    const aigw_opt_t   *o;
    struct option       longs[AIGW_OPTS_MAX + 1];

    /* --help wins over any mistake next to it */

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(help, stdout);
            return AIGW_EXIT_OK;
        }
    }

    /* "+": options first, stop at the first other argument; ":": a
     * missing value is told apart from an unknown option */

    s = shorts;
    *s++ = '+';
    *s++ = ':';

    for (n = 0; opts[n].name; n++) {
        if (n == AIGW_OPTS_MAX) {
            abort();
        }

        longs[n].name = opts[n].name + 2;
        longs[n].has_arg = opts[n].value ? required_argument : no_argument;
        longs[n].flag = NULL;
        longs[n].val = AIGW_OPT_VAL(n);
        given[n] = 0;

        if (opts[n].short_name) {
            *s++ = (char) opts[n].short_name;

            if (opts[n].value) {
                *s++ = ':';
            }
        }
    }

    *s = '\0';
    memset(&longs[n], 0, sizeof(struct option));

    opterr = 0;
    optind = 1;

    for ( ;; ) {
        at = optind;
        c = getopt_long(argc, argv, shorts, longs, NULL);

        if (c == -1) {
            /* no arguments are taken, so "--" ends nothing: refused */
            if (optind == at + 1 && strcmp(argv[at], "--") == 0) {
                return aigw_opts_error(cmd, "unknown option \"--\"");
            }

            break;
        }

        arg = (at < argc) ? argv[at] : "";

        if (c == '?') {
            i = aigw_opts_find(opts, optopt);

            if (i >= 0 && opts[i].flag && aigw_opts_whole(arg, opts[i].name))
            {
                return aigw_opts_error(cmd, "%s takes no value",
                                       opts[i].name);
            }

            if (optopt && optopt < 256 && arg[0] == '-' && arg[1] != '-') {
                return aigw_opts_error(cmd, "unknown option \"-%c\"",
                                       optopt);
            }

            return aigw_opts_error(cmd, "unknown option \"%s\"", arg);
        }

        i = aigw_opts_find(opts, (c == ':') ? optopt : c);

        if (i < 0) {
            return aigw_opts_error(cmd, "unknown option \"%s\"", arg);
        }

        o = &opts[i];

        /* a long option by its whole name only, never abbreviated */
        if (arg[1] == '-' && !aigw_opts_whole(arg, o->name)) {
            return aigw_opts_error(cmd, "unknown option \"%s\"", arg);
        }

        if (c == ':') {
            return aigw_opts_error(cmd, "%s needs a value", o->name);
        }

        if (o->flag) {
            *o->flag = 1;
            continue;
        }

        if (flags & AIGW_OPTS_STRICT) {
            if (given[i]) {
                return aigw_opts_error(cmd, "%s is given twice", o->name);
            }

            if (*optarg == '\0') {
                return aigw_opts_error(cmd, "%s: empty value", o->name);
            }
        }

        given[i] = 1;
        *o->value = optarg;
    }

    if (optind < argc) {
        return aigw_opts_error(cmd, "unexpected argument \"%s\"",
                               argv[optind]);
    }

    for (i = 0; i < n; i++) {
        if (opts[i].required && !given[i]) {
            return aigw_opts_error(cmd, "missing %s", opts[i].name);
        }
    }

    return -1;
}


int
aigw_opts_error(const char *cmd, const char *fmt, ...)
{
    va_list  args;

    fprintf(stderr, "aigw %s: ", cmd);

    va_start(args, fmt);
    vfprintf(stderr, fmt, args);
    va_end(args);

    fprintf(stderr, "\nRun \"aigw %s --help\" for its options.\n", cmd);

    return AIGW_EXIT_USAGE;
}


/* the option of getopt_long's value "val" (a long one, or a short one) */

static int
aigw_opts_find(const aigw_opt_t *opts, int val)
{
    int  i;

    for (i = 0; opts[i].name; i++) {
        if (val == AIGW_OPT_VAL(i)
            || (val < 256 && val != 0 && val == opts[i].short_name))
        {
            return i;
        }
    }

    return -1;
}


/* "--name" or "--name=..." */

static int
aigw_opts_whole(const char *arg, const char *name)
{
    size_t  len;

    len = strlen(name);

    return strncmp(arg, name, len) == 0
           && (arg[len] == '\0' || arg[len] == '=');
}

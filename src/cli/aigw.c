
/*
 * aigw: the command-line tool of the gateway.
 *
 * It shares the pure core with the nginx module; each command is a
 * function of the table below.
 */


#include <stdio.h>
#include <string.h>

#include "aigw_cli.h"
#include "aigw_http.h"
#include "aigw_opts.h"
#include "aigw_sigv4.h"
#include "aigw_util.h"


#define AIGW_VERSION  "0.1.0"


typedef struct {
    const char  *name;
    int        (*run)(int argc, char **argv);
    const char  *summary;
} aigw_command_t;


static int aigw_version(int argc, char **argv);
static void aigw_usage(FILE *f);


static const aigw_command_t  aigw_commands[] = {
    { "export", aigw_cmd_export,
      "export a day's usage as a cost CSV (stdout, a file, S3)" },
    { "usage", aigw_cmd_usage, "show the live usage counters of a day" },
    { "alerts", aigw_cmd_alerts,
      "print the budget alerts, or follow them as they come" },
    { "key", aigw_cmd_key, "create, revoke and list API keys" },
    { "version", aigw_version, "print the version" },
    { NULL, NULL, NULL }
};


int
main(int argc, char **argv)
{
    int                    rc;
    const aigw_command_t  *c;

    if (argc < 2) {
        aigw_usage(stderr);
        return 2;
    }

    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0
        || strcmp(argv[1], "help") == 0)
    {
        aigw_usage(stdout);
        return 0;
    }

    if (strcmp(argv[1], "--version") == 0) {
        return aigw_version(argc - 1, argv + 1);
    }

    for (c = aigw_commands; c->name; c++) {
        if (strcmp(argv[1], c->name) == 0) {
            rc = c->run(argc - 1, argv + 1);

            /* the connections, and what hashing and signing keep */
            aigw_http_cleanup();
            aigw_sigv4_cleanup();
            aigw_util_cleanup();

            return rc;
        }
    }

    fprintf(stderr, "aigw: unknown command \"%s\"\n\n", argv[1]);
    aigw_usage(stderr);

    return 2;
}


static int
aigw_version(int argc, char **argv)
{
    int                rc;
    static aigw_opt_t  none[] = { { NULL, 0, NULL, NULL, 0 } };

    rc = aigw_opts_parse("version", "usage: aigw version\n\n"
                         "Prints the version of aigw.\n", argc, argv, none,
                         0);
    if (rc >= 0) {
        return rc;
    }

    printf("aigw %s\n", AIGW_VERSION);
    return 0;
}


static void
aigw_usage(FILE *f)
{
    const aigw_command_t  *c;

    fprintf(f, "usage: aigw COMMAND [OPTIONS]\n\n"
               "The command-line tool of the aigw gateway "
               "(ngx_http_aigw_module).\n\ncommands:\n");

    for (c = aigw_commands; c->name; c++) {
        fprintf(f, "  %-12s %s\n", c->name, c->summary);
    }

    fprintf(f, "\nRun \"aigw COMMAND --help\" for a command's options.\n");
}

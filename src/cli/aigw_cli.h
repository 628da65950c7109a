
/*
 * aigw: the commands of the command-line tool.
 *
 * A command gets its own name in argv[0] and returns the exit status:
 * 0 done, 1 a runtime error, 2 bad usage (the message on stderr).
 */

#ifndef AIGW_CLI_H
#define AIGW_CLI_H


#define AIGW_EXIT_OK      0
#define AIGW_EXIT_ERROR   1
#define AIGW_EXIT_USAGE   2

/* a command's error messages */
#define AIGW_CLI_ERR_LEN  1024


/* aigw key create | revoke | list */
int aigw_cmd_key(int argc, char **argv);

/* aigw export: the usage in Redis as daily cost CSV files */
int aigw_cmd_export(int argc, char **argv);

/* aigw usage: the live counters of a day, as a table */
int aigw_cmd_usage(int argc, char **argv);

/* aigw alerts: the budget alerts of the Redis stream, or --follow them */
int aigw_cmd_alerts(int argc, char **argv);


#endif /* AIGW_CLI_H */

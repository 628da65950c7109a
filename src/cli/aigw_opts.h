
/*
 * aigw: the options of the commands, parsed with getopt_long(), the same
 * way for every command.
 *
 * "--name VALUE" and "--name=VALUE"; a flag is "--name" alone (or its
 * short form, "-v"); names are whole (getopt_long's abbreviations are
 * refused).  "-h" or "--help" anywhere prints the command's help on
 * stdout.  Options come first: the first other argument is an error.
 * A message names the command and points to its --help.
 */

#ifndef AIGW_OPTS_H
#define AIGW_OPTS_H


/* each option at most once, never with an empty value */
#define AIGW_OPTS_STRICT   0x1


typedef struct {
    const char   *name;         /* "--tenant" */
    int           short_name;   /* 'v', or 0 */
    const char  **value;        /* an option with a value, else NULL */
    int          *flag;         /* a flag, set to 1 */
    int           required;
} aigw_opt_t;


/*
 * "cmd" is the command as typed after "aigw" ("export", "key create").
 * The values of options not given are left as they are.  Returns -1
 * (parsed: go on), AIGW_EXIT_OK (the help printed) or AIGW_EXIT_USAGE
 * (a message on stderr).
 */
int aigw_opts_parse(const char *cmd, const char *help, int argc,
    char **argv, const aigw_opt_t *opts, unsigned flags);

/* "aigw CMD: MESSAGE", then where the options are told; AIGW_EXIT_USAGE */
int aigw_opts_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));


#endif /* AIGW_OPTS_H */

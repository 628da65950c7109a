
/*
 * aigw: the options of a Converse or ConverseStream request body that
 * pick a price: "serviceTier": {"type": "..."} and "performanceConfig":
 * {"latency": "..."}, read while the body streams by (any split), so
 * that they are authorized like the headers that say the same.  No nginx
 * headers.
 */

#ifndef AIGW_CONVERSE_OPTS_H
#define AIGW_CONVERSE_OPTS_H


#include <stddef.h>

#include "aigw_json_scan.h"


/* performanceConfig.latency, as bits */
#define AIGW_LATENCY_STANDARD    0x01
#define AIGW_LATENCY_OPTIMIZED   0x02

#define AIGW_CONVERSE_OPT_MAX    16     /* bytes of a value kept */


typedef struct {
    aigw_json_scan_t   js;

    /* what the body names: AIGW_TIER_* and AIGW_LATENCY_* bits */
    unsigned           tiers;
    unsigned           latencies;

    /* a value that is not a known one, or not a string */
    unsigned           bad_tier:1;
    unsigned           bad_latency:1;

    /* the body is not one JSON value the scanner could read */
    unsigned           unreadable:1;

    /* private */
    unsigned           capture:2;       /* 1: a tier, 2: a latency */
    unsigned           too_long:1;
    size_t             len;
    char               value[AIGW_CONVERSE_OPT_MAX];
} aigw_converse_opts_t;


void aigw_converse_opts_init(aigw_converse_opts_t *o);
void aigw_converse_opts_feed(aigw_converse_opts_t *o, const void *p,
    size_t len);
/* the end of the body: sets "unreadable" if it was not one whole value */
void aigw_converse_opts_finish(aigw_converse_opts_t *o);


#endif /* AIGW_CONVERSE_OPTS_H */

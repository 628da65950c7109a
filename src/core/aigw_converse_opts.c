
/*
 * aigw: the options of a Converse request body that pick a price.
 */


#include <string.h>

#include "aigw_converse_opts.h"
#include "aigw_tenants.h"


static int aigw_converse_opts_event(aigw_json_scan_t *js,
    aigw_json_event_e ev, const char *p, size_t len, void *data);
static void aigw_converse_opts_value(aigw_converse_opts_t *o);


void
aigw_converse_opts_init(aigw_converse_opts_t *o)
{
    memset(o, 0, sizeof(aigw_converse_opts_t));

    aigw_json_init(&o->js, 0, aigw_converse_opts_event, o);
}


void
aigw_converse_opts_feed(aigw_converse_opts_t *o, const void *p, size_t len)
{
    if (o->unreadable || len == 0) {
        return;
    }

    if (aigw_json_feed(&o->js, p, len) != AIGW_JSON_OK) {
        o->unreadable = 1;
    }
}


void
aigw_converse_opts_finish(aigw_converse_opts_t *o)
{
    if (o->unreadable) {
        return;
    }

    if (aigw_json_finish(&o->js) != AIGW_JSON_OK) {
        o->unreadable = 1;
    }
}


static int
aigw_converse_opts_event(aigw_json_scan_t *js, aigw_json_event_e ev,
    const char *p, size_t len, void *data)
{
    aigw_converse_opts_t *o = data;

    unsigned  which;

    if (ev == AIGW_JSON_STRING_DATA) {
        if (o->capture == 0) {
            return 0;
        }

        if (len > AIGW_CONVERSE_OPT_MAX - o->len) {
            o->too_long = 1;
            return 0;
        }

        memcpy(o->value + o->len, p, len);
        o->len += len;
        return 0;
    }

    if (ev == AIGW_JSON_STRING_END && o->capture) {
        aigw_converse_opts_value(o);
        o->capture = 0;
        return 0;
    }

    if (js->depth != 2) {
        return 0;
    }

    if (aigw_json_match(js, "serviceTier.type")) {
        which = 1;

    } else if (aigw_json_match(js, "performanceConfig.latency")) {
        which = 2;

    } else {
        return 0;
    }

    switch (ev) {

    case AIGW_JSON_STRING_START:
        o->capture = which;
        o->len = 0;
        o->too_long = 0;
        return 0;

    case AIGW_JSON_OBJECT_END:
    case AIGW_JSON_ARRAY_END:
        /* reported with the path of the container: seen at its start */
        return 0;

    default:
        /* a number, a literal, a container: not a tier or a latency */
        if (which == 1) {
            o->bad_tier = 1;

        } else {
            o->bad_latency = 1;
        }

        return 0;
    }
}


static void
aigw_converse_opts_value(aigw_converse_opts_t *o)
{
    unsigned  v;

    if (o->capture == 1) {
        v = o->too_long ? 0 : aigw_service_tier(o->value, o->len);

        if (v == 0) {
            o->bad_tier = 1;

        } else {
            o->tiers |= v;
        }

        return;
    }

    v = 0;

    if (!o->too_long) {
        if (o->len == 8 && memcmp(o->value, "standard", 8) == 0) {
            v = AIGW_LATENCY_STANDARD;

        } else if (o->len == 9 && memcmp(o->value, "optimized", 9) == 0) {
            v = AIGW_LATENCY_OPTIMIZED;
        }
    }

    if (v == 0) {
        o->bad_latency = 1;

    } else {
        o->latencies |= v;
    }
}

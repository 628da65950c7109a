
/*
 * aigw_converse_opts: the service tier and latency of a Converse body,
 * the same for every split of the body.
 */

#include "unit.h"

#include "aigw_converse_opts.h"
#include "aigw_tenants.h"


typedef struct {
    const char  *body;
    unsigned     tiers;
    unsigned     latencies;
    unsigned     bad_tier;
    unsigned     bad_latency;
    unsigned     unreadable;
} opts_case_t;


static const opts_case_t  cases[] = {
    { "{\"messages\":[]}", 0, 0, 0, 0, 0 },
    { "{\"serviceTier\":{\"type\":\"flex\"}}", AIGW_TIER_FLEX, 0, 0, 0, 0 },
    { "{\"messages\":[{\"role\":\"user\",\"content\":[{\"text\":"
      "\"serviceTier\"}]}],\"performanceConfig\":{\"latency\":"
      "\"optimized\"},\"serviceTier\" : { \"type\" : \"priority\" }}",
      AIGW_TIER_PRIORITY, AIGW_LATENCY_OPTIMIZED, 0, 0, 0 },
    /* escapes are decoded: "\u0066lex" is "flex" */
    { "{\"serviceTier\":{\"type\":\"\\u0066lex\"}}", AIGW_TIER_FLEX, 0,
      0, 0, 0 },
    /* every occurrence counts */
    { "{\"serviceTier\":{\"type\":\"flex\"},\"serviceTier\":{\"type\":"
      "\"priority\"}}", AIGW_TIER_FLEX | AIGW_TIER_PRIORITY, 0, 0, 0, 0 },
    { "{\"performanceConfig\":{\"latency\":\"standard\"}}", 0,
      AIGW_LATENCY_STANDARD, 0, 0, 0 },
    /* not a known value, not a string, too long */
    { "{\"serviceTier\":{\"type\":\"gold\"}}", 0, 0, 1, 0, 0 },
    { "{\"serviceTier\":{\"type\":1}}", 0, 0, 1, 0, 0 },
    { "{\"serviceTier\":{\"type\":{\"a\":\"flex\"}}}", 0, 0, 1, 0, 0 },
    { "{\"serviceTier\":{\"type\":\"priorityyyyyyyyyyyyyyyyyyy\"}}", 0, 0,
      1, 0, 0 },
    { "{\"performanceConfig\":{\"latency\":null}}", 0, 0, 0, 1, 0 },
    /* elsewhere than at the top: not an option */
    { "{\"x\":{\"serviceTier\":{\"type\":\"flex\"}}}", 0, 0, 0, 0, 0 },
    { "[{\"serviceTier\":{\"type\":\"flex\"}}]", 0, 0, 0, 0, 0 },
    /* not one JSON value */
    { "{\"serviceTier\":{\"type\":\"flex\"}", AIGW_TIER_FLEX, 0, 0, 0, 1 },
    { "{\"a\":1}{\"serviceTier\":{\"type\":\"flex\"}}", 0, 0, 0, 0, 1 },
    { "", 0, 0, 0, 0, 1 },
};


static void
check_case(const opts_case_t *c, size_t split)
{
    size_t                len;
    aigw_converse_opts_t  o;

    len = strlen(c->body);
    split = (split > len) ? len : split;

    aigw_converse_opts_init(&o);
    aigw_converse_opts_feed(&o, c->body, split);
    aigw_converse_opts_feed(&o, c->body + split, len - split);
    aigw_converse_opts_finish(&o);

    if (!CHECK(o.tiers == c->tiers && o.latencies == c->latencies
               && o.bad_tier == c->bad_tier
               && o.bad_latency == c->bad_latency
               && o.unreadable == c->unreadable))
    {
        fprintf(stderr, "    body %s, split at %zu: tiers %u latencies %u "
                "bad %u/%u unreadable %u\n", c->body, split, o.tiers,
                o.latencies, o.bad_tier, o.bad_latency, o.unreadable);
    }
}


static void
test_bytewise(void)
{
    size_t                i, k, len;
    aigw_converse_opts_t  o;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        len = strlen(cases[i].body);

        aigw_converse_opts_init(&o);

        for (k = 0; k < len; k++) {
            aigw_converse_opts_feed(&o, cases[i].body + k, 1);
        }

        aigw_converse_opts_finish(&o);

        CHECK(o.tiers == cases[i].tiers
              && o.latencies == cases[i].latencies
              && o.bad_tier == cases[i].bad_tier
              && o.unreadable == cases[i].unreadable);
    }
}


int
main(void)
{
    size_t  i, s;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        for (s = 0; s <= strlen(cases[i].body); s++) {
            check_case(&cases[i], s);
        }
    }

    test_bytewise();

    return unit_done("test_converse_opts");
}


/*
 * aigw: what a tenant may do: its models (globs), service tiers and
 * inference profiles.
 */


#include <string.h>

#include "aigw_tenants_int.h"
#include "aigw_util.h"


int
aigw_tenant_model_allowed(const aigw_tenant_t *t, const char *model,
    size_t len)
{
    size_t  i;

    /*
     * Exact glob semantics, nothing implicit: a cross-region profile
     * ("us.x"), an ARN or an alias is allowed only by a glob that matches
     * it as written.
     */

    if (t == NULL || model == NULL) {
        return 0;
    }

    for (i = 0; i < t->nmodels; i++) {
        if (aigw_glob_match(t->models[i].data, t->models[i].len, model, len))
        {
            return 1;
        }
    }

    return 0;
}


static const struct {
    const char  *name;
    size_t       len;
    unsigned     tier;
} aigw_service_tiers[] = {
    { "default", 7, AIGW_TIER_DEFAULT },
    { "priority", 8, AIGW_TIER_PRIORITY },
    { "flex", 4, AIGW_TIER_FLEX },
    { "reserved", 8, AIGW_TIER_RESERVED },
    { NULL, 0, 0 }
};


unsigned
aigw_service_tier(const char *name, size_t len)
{
    size_t  i;

    for (i = 0; aigw_service_tiers[i].name; i++) {
        if (len == aigw_service_tiers[i].len
            && memcmp(name, aigw_service_tiers[i].name, len) == 0)
        {
            return aigw_service_tiers[i].tier;
        }
    }

    return 0;
}


const char *
aigw_service_tier_name(unsigned tier)
{
    size_t  i;

    for (i = 0; aigw_service_tiers[i].name; i++) {
        if (tier == aigw_service_tiers[i].tier) {
            return aigw_service_tiers[i].name;
        }
    }

    return "";
}


int
aigw_tenant_tier_allowed(const aigw_tenant_t *t, unsigned tier)
{
    if (tier == AIGW_TIER_DEFAULT) {
        return 1;
    }

    return t != NULL && tier != 0 && (t->service_tiers & tier) == tier;
}


const aigw_str_t *
aigw_tenant_inference_profile(const aigw_tenant_t *t, const char *model,
    size_t len)
{
    int                              rc;
    size_t                           lo, hi, mid, n;
    const aigw_inference_profile_t  *p;

    if (t == NULL || model == NULL) {
        return NULL;
    }

    lo = 0;
    hi = t->nprofiles;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        p = &t->profiles[mid];

        n = (p->model.len < len) ? p->model.len : len;
        rc = memcmp(p->model.data, model, n);

        if (rc == 0) {
            rc = (p->model.len < len) ? -1 : (p->model.len > len);
        }

        if (rc == 0) {
            return &p->arn;
        }

        if (rc < 0) {
            lo = mid + 1;

        } else {
            hi = mid;
        }
    }

    return NULL;
}


/*
 * aigw: the reservation bound of a request, from its body: the paths of
 * the max-tokens fields per operation and model family, their values,
 * and the bound's cost.
 */


#include <string.h>

#include "aigw_reserve.h"
#include "aigw_util.h"


/* the roles of a path */
enum {
    RR_MAX = 1,                 /* the output tokens of one choice */
    RR_CHOICES                  /* the number of choices */
};


struct aigw_reserve_path_s {
    const char   *path;
    unsigned      role;
};


/* each family's paths, a NULL path at the end */

static const aigw_reserve_path_t  aigw_reserve_converse[] = {
    { "inferenceConfig.maxTokens", RR_MAX },
    { NULL, 0 }
};

static const aigw_reserve_path_t  aigw_reserve_anthropic[] = {
    { "max_tokens", RR_MAX },
    { "max_tokens_to_sample", RR_MAX },
    { NULL, 0 }
};

static const aigw_reserve_path_t  aigw_reserve_meta[] = {
    { "max_gen_len", RR_MAX },
    { NULL, 0 }
};

static const aigw_reserve_path_t  aigw_reserve_titan[] = {
    { "textGenerationConfig.maxTokenCount", RR_MAX },
    { NULL, 0 }
};

static const aigw_reserve_path_t  aigw_reserve_nova[] = {
    { "inferenceConfig.maxTokens", RR_MAX },
    { "inferenceConfig.max_new_tokens", RR_MAX },
    { NULL, 0 }
};

static const aigw_reserve_path_t  aigw_reserve_mistral[] = {
    { "max_tokens", RR_MAX },
    { NULL, 0 }
};

static const aigw_reserve_path_t  aigw_reserve_cohere[] = {
    { "max_tokens", RR_MAX },
    { "num_generations", RR_CHOICES },
    { NULL, 0 }
};

static const aigw_reserve_path_t  aigw_reserve_ai21[] = {
    { "maxTokens", RR_MAX },
    { "max_tokens", RR_MAX },
    { "numResults", RR_CHOICES },
    { "n", RR_CHOICES },
    { NULL, 0 }
};

static const aigw_reserve_path_t  aigw_reserve_openai[] = {
    { "max_tokens", RR_MAX },
    { "max_completion_tokens", RR_MAX },
    { "n", RR_CHOICES },
    { NULL, 0 }
};

static const aigw_reserve_path_t  aigw_reserve_tgi[] = {
    { "parameters.max_new_tokens", RR_MAX },
    { NULL, 0 }
};

static const aigw_reserve_path_t  aigw_reserve_sagemaker_auto[] = {
    { "parameters.max_new_tokens", RR_MAX },
    { "max_tokens", RR_MAX },
    { "max_completion_tokens", RR_MAX },
    { "n", RR_CHOICES },
    { NULL, 0 }
};

/* a Bedrock model of no known family: every path */

static const aigw_reserve_path_t  aigw_reserve_any[] = {
    { "max_tokens", RR_MAX },
    { "max_tokens_to_sample", RR_MAX },
    { "max_completion_tokens", RR_MAX },
    { "max_gen_len", RR_MAX },
    { "maxTokens", RR_MAX },
    { "textGenerationConfig.maxTokenCount", RR_MAX },
    { "inferenceConfig.maxTokens", RR_MAX },
    { "inferenceConfig.max_new_tokens", RR_MAX },
    { "num_generations", RR_CHOICES },
    { "numResults", RR_CHOICES },
    { "n", RR_CHOICES },
    { NULL, 0 }
};


/* InvokeModel: a model ID's family by its provider prefix */

typedef struct {
    const char                 *prefix;
    const aigw_reserve_path_t  *paths;
} aigw_reserve_family_t;


static const aigw_reserve_family_t  aigw_reserve_families[] = {
    { "anthropic.", aigw_reserve_anthropic },
    { "meta.", aigw_reserve_meta },
    { "amazon.titan-text", aigw_reserve_titan },
    { "amazon.titan-tg1", aigw_reserve_titan },
    { "amazon.nova", aigw_reserve_nova },
    { "mistral.", aigw_reserve_mistral },
    { "cohere.", aigw_reserve_cohere },
    { "ai21.", aigw_reserve_ai21 },
    { "deepseek.", aigw_reserve_openai },
    { "openai.", aigw_reserve_openai },
    { "qwen.", aigw_reserve_openai },
    { "writer.", aigw_reserve_openai },
    { NULL, NULL }
};


static const aigw_reserve_path_t *aigw_reserve_bedrock(aigw_reserve_t *r,
    const char *model, size_t len);
static int aigw_reserve_event(aigw_json_scan_t *js, aigw_json_event_e ev,
    const char *p, size_t len, void *data);
static void aigw_reserve_value(aigw_reserve_t *r, unsigned role,
    const char *p, size_t len, int too_long);
static int aigw_reserve_number(const char *p, size_t len, uint64_t *out);
static int aigw_reserve_number_char(char c);
static uint64_t aigw_reserve_min(uint64_t a, uint64_t b);


void
aigw_reserve_init(aigw_reserve_t *r, aigw_op_e op, const char *model,
    size_t model_len, aigw_usage_format_e format,
    uint64_t default_max_tokens)
{
    memset(r, 0, sizeof(aigw_reserve_t));

    aigw_json_init(&r->js, 0, aigw_reserve_event, r);

    r->default_max = aigw_reserve_min(default_max_tokens,
                                      AIGW_RESERVE_TOKENS_MAX);

    if (model == NULL) {
        model = "";
        model_len = 0;
    }

    switch (op) {

    case AIGW_OP_CONVERSE:
    case AIGW_OP_CONVERSE_STREAM:
        r->paths = aigw_reserve_converse;
        break;

    case AIGW_OP_INVOKE:
    case AIGW_OP_INVOKE_STREAM:
        r->paths = aigw_reserve_bedrock(r, model, model_len);
        break;

    case AIGW_OP_SM_INVOKE:
    case AIGW_OP_SM_INVOKE_STREAM:
        switch (format) {

        case AIGW_USAGE_FORMAT_TGI:
            r->paths = aigw_reserve_tgi;
            break;

        case AIGW_USAGE_FORMAT_OPENAI:
            r->paths = aigw_reserve_openai;
            break;

        case AIGW_USAGE_FORMAT_AUTO:
            r->paths = aigw_reserve_sagemaker_auto;
            break;

        default:
            r->none = 1;
            break;
        }

        break;

    default:
        /* CountTokens, or no operation: nothing is billed */
        r->none = 1;
        break;
    }
}


static const aigw_reserve_path_t *
aigw_reserve_bedrock(aigw_reserve_t *r, const char *model, size_t len)
{
    size_t                        n;
    aigw_str_t                    id;
    const aigw_reserve_family_t  *f;

    /*
     * embedding models (multimodal ones too), then the image models'
     * words as aigw_usage_init() reads them, anywhere in the ID or ARN
     */

    if (aigw_str_ihas(model, len, "embed")) {
        r->no_output = 1;
        return NULL;
    }

    if (aigw_str_ihas(model, len, "image")
        || aigw_str_ihas(model, len, "canvas")
        || aigw_str_ihas(model, len, "nova-reel")
        || aigw_str_ihas(model, len, "stability.")
        || aigw_str_ihas(model, len, "stable-diffusion"))
    {
        r->images = 1;
        r->no_output = 1;
        return NULL;
    }

    /* the ID: inside an ARN, without a cross-region prefix */

    id.data = (char *) model;
    id.len = len;

    (void) aigw_pricing_arn_model(id.data, id.len, &id);
    (void) aigw_pricing_strip_prefix(id.data, id.len, &id);

    for (f = aigw_reserve_families; f->prefix; f++) {
        n = strlen(f->prefix);

        if (id.len >= n && memcmp(id.data, f->prefix, n) == 0) {
            return f->paths;
        }
    }

    return aigw_reserve_any;
}


void
aigw_reserve_feed(aigw_reserve_t *r, const void *p, size_t len)
{
    r->body_bytes += len;

    if (r->paths == NULL || r->unreadable || len == 0) {
        return;
    }

    if (aigw_json_feed(&r->js, p, len) != AIGW_JSON_OK) {
        r->unreadable = 1;
    }
}


void
aigw_reserve_finish(aigw_reserve_t *r)
{
    uint64_t  max, choices;

    if (r->finished) {
        return;
    }

    r->finished = 1;

    if (r->none) {
        return;
    }

    r->input_tokens = aigw_reserve_min(r->body_bytes, AIGW_USAGE_COUNT_MAX);

    if (r->no_output) {
        return;
    }

    if (!r->unreadable && aigw_json_finish(&r->js) != AIGW_JSON_OK) {
        r->unreadable = 1;
    }

    max = r->max_tokens;

    if (max == 0 || r->bad || r->unreadable) {
        max = (max > r->default_max) ? max : r->default_max;
    }

    choices = r->choices ? r->choices : 1;

    /* at most 1e7 x 128: no overflow */
    r->output_tokens = aigw_reserve_min(max * choices, AIGW_USAGE_COUNT_MAX);
}


static int
aigw_reserve_event(aigw_json_scan_t *js, aigw_json_event_e ev,
    const char *p, size_t len, void *data)
{
    aigw_reserve_t *r = data;

    unsigned                    role;
    const aigw_reserve_path_t  *rp;

    if (ev == AIGW_JSON_STRING_DATA) {
        if (!r->capture) {
            return 0;
        }

        for ( /* void */ ; len; p++, len--) {
            if (!aigw_reserve_number_char(*p)) {
                r->cap_numeric = 0;
            }

            if (r->cap_len < AIGW_RESERVE_STRING_MAX) {
                r->cap[r->cap_len] = *p;
            }

            /* counts past the buffer: the length tells it was too long */
            if (r->cap_len <= AIGW_RESERVE_STRING_MAX) {
                r->cap_len++;
            }
        }

        return 0;
    }

    if (ev == AIGW_JSON_STRING_END && r->capture) {
        r->capture = 0;

        if (r->cap_len <= AIGW_RESERVE_STRING_MAX) {
            aigw_reserve_value(r, r->cap_role, r->cap, r->cap_len, 0);

        } else if (r->cap_numeric) {
            /* a long run of digits: a large number */
            aigw_reserve_value(r, r->cap_role, NULL, 0, 1);

        } else {
            /* a long text */
            r->bad = 1;
        }

        return 0;
    }

    /* every path is one or two keys deep */

    if (js->depth == 0 || js->depth > 2) {
        return 0;
    }

    role = 0;

    for (rp = r->paths; rp->path; rp++) {
        if (aigw_json_match(js, rp->path)) {
            role = rp->role;
            break;
        }
    }

    if (role == 0) {
        return 0;
    }

    switch (ev) {

    case AIGW_JSON_NUMBER:
        /* len 0: longer than the scanner keeps, so a large number */
        aigw_reserve_value(r, role, p, len, len == 0);
        return 0;

    case AIGW_JSON_STRING_START:
        r->capture = 1;
        r->cap_numeric = 1;
        r->cap_role = role;
        r->cap_len = 0;
        return 0;

    case AIGW_JSON_NULL:
        /* as if absent */
        return 0;

    case AIGW_JSON_OBJECT_END:
    case AIGW_JSON_ARRAY_END:
        /* reported with the path of the container: seen at its start */
        return 0;

    default:
        /* true, false, an object, an array */
        r->bad = 1;
        return 0;
    }
}


/*
 * A value of a path: "p", "len" its text, or "too_long" for a number
 * longer than was kept
 */

static void
aigw_reserve_value(aigw_reserve_t *r, unsigned role, const char *p,
    size_t len, int too_long)
{
    uint64_t   v, most, *dst;

    if (too_long) {
        v = UINT64_MAX;

    } else if (aigw_reserve_number(p, len, &v) != 0) {
        r->bad = 1;
        return;
    }

    if (role == RR_MAX) {
        most = AIGW_RESERVE_TOKENS_MAX;
        dst = &r->max_tokens;

    } else {
        most = AIGW_RESERVE_CHOICES_MAX;
        dst = &r->choices;
    }

    if (v > most) {
        v = most;
        r->clamped = 1;
    }

    if (v > *dst) {
        *dst = v;
    }
}


static int
aigw_reserve_number_char(char c)
{
    return (c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E'
           || c == '+' || c == '-' || c == ' ';
}


/*
 * A positive number, rounded up, saturating at UINT64_MAX: a JSON number,
 * or the text of a string (spaces around it, a "+" sign and leading zeros
 * allowed, as lenient parsers take them).  Returns -1 when it is not a
 * number or not positive.  Exact: no floating point.
 */

static int
aigw_reserve_number(const char *p, size_t len, uint64_t *out)
{
    int           neg, esign;
    char          digits[AIGW_RESERVE_STRING_MAX];
    size_t        i, nd, first;
    int64_t       point, exp, k;
    uint64_t      v;
    const char   *end;

    end = p + len;

    while (p < end && *p == ' ') {
        p++;
    }

    while (end > p && end[-1] == ' ') {
        end--;
    }

    neg = 0;

    if (p < end && (*p == '-' || *p == '+')) {
        neg = (*p == '-');
        p++;
    }

    /* the mantissa's digits, and where the point falls among them */

    nd = 0;
    point = -1;

    for ( /* void */ ; p < end; p++) {
        if (*p >= '0' && *p <= '9') {
            if (nd == sizeof(digits)) {
                return -1;
            }

            digits[nd++] = *p;

        } else if (*p == '.' && point < 0) {
            point = nd;

        } else {
            break;
        }
    }

    if (nd == 0) {
        return -1;
    }

    if (point < 0) {
        point = nd;
    }

    exp = 0;

    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        esign = 1;

        if (p < end && (*p == '-' || *p == '+')) {
            esign = (*p == '-') ? -1 : 1;
            p++;
        }

        if (p == end) {
            return -1;
        }

        for ( /* void */ ; p < end; p++) {
            if (*p < '0' || *p > '9') {
                return -1;
            }

            /* saturate: past a thousand, the value is 0 or huge anyway */
            if (exp < 1000) {
                exp = exp * 10 + (*p - '0');
            }
        }

        exp *= esign;
    }

    if (p != end) {
        return -1;
    }

    /* the value is 0.D x 10^k, D the digits without leading zeros */

    for (first = 0; first < nd && digits[first] == '0'; first++) {
        point--;
    }

    if (first == nd || neg) {
        /* zero, or negative */
        return -1;
    }

    k = point + exp;

    if (k <= 0) {
        /* between 0 and 1 */
        *out = 1;
        return 0;
    }

    if (k > 19) {
        *out = UINT64_MAX;
        return 0;
    }

    v = 0;

    for (i = first; i < first + (size_t) k; i++) {
        v = v * 10 + ((i < nd) ? (uint64_t) (digits[i] - '0') : 0);
    }

    for ( /* void */ ; i < nd; i++) {
        if (digits[i] != '0') {
            /* a fraction: rounded up; below 10^19, no overflow */
            v++;
            break;
        }
    }

    *out = v;
    return 0;
}


static uint64_t
aigw_reserve_min(uint64_t a, uint64_t b)
{
    return (a < b) ? a : b;
}


int
aigw_reserve_cost(const aigw_reserve_t *r, const aigw_price_t *price,
    aigw_cost_t *cost)
{
    uint64_t           pico;
    aigw_cost_usage_t  u;

    memset(&u, 0, sizeof(aigw_cost_usage_t));

    u.output_tokens = r->output_tokens;
    u.input_tokens = r->input_tokens;

    if (price != NULL) {
        pico = (price->has & AIGW_PRICE_INPUT) ? price->input_pico : 0;

        if ((price->has & AIGW_PRICE_CACHE_READ)
            && price->cache_read_pico > pico)
        {
            pico = price->cache_read_pico;
            u.input_tokens = 0;
            u.cache_read_tokens = r->input_tokens;
        }

        if ((price->has & AIGW_PRICE_CACHE_WRITE)
            && price->cache_write_pico > pico)
        {
            u.input_tokens = 0;
            u.cache_read_tokens = 0;
            u.cache_write_tokens = r->input_tokens;
        }
    }

    if (aigw_pricing_cost(price, &u, cost) != 0) {
        cost->total = UINT64_MAX;
        return -1;
    }

    return 0;
}

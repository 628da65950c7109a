/*
 * aigw: exact token usage of a Bedrock or SageMaker response, from its
 * headers, JSON body or event stream: the entry points, which reader the
 * response gets, and the choice among the counts it gave.  No nginx
 * headers, no allocation.
 */


#include <stdio.h>
#include <string.h>

#include "aigw_usage_int.h"
#include "aigw_util.h"


/* the bound promised in aigw_usage.h */
typedef char  aigw_usage_state_max_check
                  [sizeof(aigw_usage_parser_t) <= AIGW_USAGE_STATE_MAX
                   ? 1 : -1];


static void aigw_usage_decide(aigw_usage_parser_t *up);
static void aigw_usage_resolve(aigw_usage_parser_t *up, int cut);
static unsigned aigw_usage_group(const aigw_usage_acc_t *c, unsigned first,
    unsigned n, uint64_t v[4]);
static unsigned aigw_usage_openai(const aigw_usage_acc_t *c, uint64_t v[4]);
static void aigw_usage_resolve_images(aigw_usage_parser_t *up);
static void aigw_usage_resolve_error(aigw_usage_parser_t *up);


void
aigw_usage_init(aigw_usage_parser_t *up, aigw_op_e op, const char *model,
    size_t model_len, aigw_usage_format_e format)
{
    size_t              i;
    static const char  *families[] = {
        "anthropic.", "meta.", "mistral.", "cohere.", "ai21.", "amazon.",
        "deepseek.", "openai.", "qwen.", "writer.", "twelvelabs.", NULL
    };

    memset(up, 0, sizeof(aigw_usage_parser_t));

    up->op = op;
    up->format = format;

    if (model == NULL) {
        model_len = 0;
        model = "";
    }

    /*
     * image models; and ARNs naming no model (application inference
     * profiles, provisioned, custom, imported models) may be any
     */

    if (aigw_str_ihas(model, model_len, "image")
        || aigw_str_ihas(model, model_len, "canvas")
        || aigw_str_ihas(model, model_len, "stability.")
        || aigw_str_ihas(model, model_len, "stable-diffusion"))
    {
        up->image_model = 1;

    } else if (model_len > 4 && memcmp(model, "arn:", 4) == 0) {
        up->image_model = 1;

        for (i = 0; families[i]; i++) {
            if (aigw_str_ihas(model, model_len, families[i])) {
                up->image_model = 0;
                break;
            }
        }
    }

    if (op != AIGW_OP_INVOKE) {
        up->image_model = 0;
    }

    aigw_es_init(&up->es, &aigw_usage_es_handler, up);
    aigw_json_init(&up->outer, 0, aigw_usage_on_doc, up);
    aigw_json_init(&up->inner, 0, aigw_usage_on_doc, up);
    aigw_json_init(&up->request, 0, aigw_usage_on_request, up);
}


int
aigw_usage_wants_request_body(const aigw_usage_parser_t *up)
{
    return up->image_model;
}


void
aigw_usage_request_body(aigw_usage_parser_t *up, const void *p, size_t len)
{
    if (!up->image_model || up->request.error || len == 0) {
        return;
    }

    (void) aigw_json_feed(&up->request, p, len);
}


void
aigw_usage_status(aigw_usage_parser_t *up, unsigned status)
{
    up->usage.status = status;
}


void
aigw_usage_header(aigw_usage_parser_t *up, const char *name,
    size_t name_len, const char *value, size_t value_len)
{
    unsigned  slot;
    uint64_t  n;

    while (value_len && (value[0] == ' ' || value[0] == '\t')) {
        value++;
        value_len--;
    }

    while (value_len
           && (value[value_len - 1] == ' ' || value[value_len - 1] == '\t'))
    {
        value_len--;
    }

    if (aigw_str_ieq(name, name_len, "content-type")) {
        up->content_es = aigw_str_ihas(value, value_len,
                                     "application/vnd.amazon.eventstream");
        up->content_json = !up->content_es
                           && aigw_str_ihas(value, value_len, "json");
        return;
    }

    if (aigw_str_ieq(name, name_len, "x-amzn-errortype")) {
        aigw_usage_error_type(up->hdr_error, value, value_len);
        return;
    }

    if (name_len < sizeof("x-amzn-bedrock-") - 1
        || !aigw_str_ieq(name, sizeof("x-amzn-bedrock-") - 1,
                              "x-amzn-bedrock-"))
    {
        return;
    }

    name += sizeof("x-amzn-bedrock-") - 1;
    name_len -= sizeof("x-amzn-bedrock-") - 1;

    if (aigw_str_ieq(name, name_len, "input-token-count")) {
        slot = AIGW_USAGE_HDR_IN;

    } else if (aigw_str_ieq(name, name_len, "output-token-count")) {
        slot = AIGW_USAGE_HDR_OUT;

    } else if (aigw_str_ieq(name, name_len,
                                 "cache-read-input-token-count"))
    {
        slot = AIGW_USAGE_HDR_CR;

    } else if (aigw_str_ieq(name, name_len,
                                 "cache-write-input-token-count"))
    {
        slot = AIGW_USAGE_HDR_CW;

    } else {
        return;
    }

    if (aigw_json_number_u64(value, value_len, &n) != 0) {
        up->bad_numbers++;
        return;
    }

    up->committed.v[slot] = n;
    up->committed.has |= 1u << slot;
}


void
aigw_usage_body(aigw_usage_parser_t *up, const void *p, size_t len)
{
    if (up->finished || len == 0) {
        return;
    }

    if (up->mode == UM_UNDECIDED) {
        aigw_usage_decide(up);
    }

    up->body_seen = 1;

    switch (up->mode) {

    case UM_JSON:
        aigw_usage_feed_json(up, &up->outer, p, len);
        break;

    case UM_STREAM:
        (void) aigw_es_feed(&up->es, p, len);
        break;

    default:
        break;
    }
}


static void
aigw_usage_decide(aigw_usage_parser_t *up)
{
    const aigw_op_t  *op;

    op = aigw_op_get(up->op);

    up->mode = UM_NONE;

    if (op == NULL) {
        return;
    }

    if (up->usage.status >= 400) {
        up->mode = UM_JSON;
        up->rules = &aigw_usage_rules_error;
        up->doc_commit = 1;
        return;
    }

    if (!op->metered
        || (op->service == AIGW_SERVICE_SAGEMAKER
            && up->format == AIGW_USAGE_FORMAT_NONE))
    {
        return;
    }

    if (op->streaming && !up->content_json) {
        up->mode = UM_STREAM;
        return;
    }

    up->mode = UM_JSON;
    up->doc_commit = 1;

    switch (up->op) {

    case AIGW_OP_CONVERSE:
    case AIGW_OP_CONVERSE_STREAM:
        up->rules = &aigw_usage_rules_converse;
        break;

    case AIGW_OP_SM_INVOKE:
    case AIGW_OP_SM_INVOKE_STREAM:
        up->rules = &aigw_usage_rules_sagemaker;
        break;

    default:
        up->rules = &aigw_usage_rules_bedrock;
        break;
    }
}


void
aigw_usage_feed_json(aigw_usage_parser_t *up, aigw_json_scan_t *js,
    const char *p, size_t len)
{
    if (js->error) {
        return;
    }

    if (aigw_json_feed(js, p, len) != AIGW_JSON_OK) {
        aigw_usage_json_error(up, js->error);
    }
}


/*
 * Counted for the log: not error pages (HTML is fine there), nor what
 * SageMaker models with the "auto" format send (CSV, text, anything)
 */

void
aigw_usage_json_error(aigw_usage_parser_t *up, const char *reason)
{
    if (up->usage.status >= 400
        || ((up->op == AIGW_OP_SM_INVOKE || up->op == AIGW_OP_SM_INVOKE_STREAM)
            && up->format == AIGW_USAGE_FORMAT_AUTO))
    {
        return;
    }

    up->json_errors++;
    up->json_error = reason;
}


void
aigw_usage_finish(aigw_usage_parser_t *up, int complete)
{
    int  cut;

    if (up->finished) {
        return;
    }

    up->finished = 1;
    cut = !complete;

    if (up->image_model && up->request.error == NULL) {
        (void) aigw_json_finish(&up->request);
    }

    if (up->mode == UM_UNDECIDED) {
        aigw_usage_decide(up);
    }

    switch (up->mode) {

    case UM_JSON:
        if (up->outer.error == NULL) {
            switch (aigw_json_finish(&up->outer)) {

            case AIGW_JSON_OK:
                if (up->body_seen) {
                    /* the whole document came: its usage is final */
                    cut = 0;
                }
                break;

            case AIGW_JSON_INCOMPLETE:
                if (up->body_seen) {
                    cut = 1;
                }
                break;

            default:
                aigw_usage_json_error(up, up->outer.error);
                break;
            }
        }

        /* what is known of a body cut short */
        aigw_usage_merge(&up->committed, &up->doc);
        aigw_usage_clear(&up->doc);
        break;

    case UM_STREAM:
        if (aigw_es_finish(&up->es) != 0) {
            cut = 1;
        }

        if (up->sse_state == SSE_RAW || up->sse_state == SSE_DATA) {
            /* values of an unfinished event were not committed */
            aigw_usage_clear(&up->doc);
        }

        break;

    default:
        break;
    }

    aigw_usage_resolve(up, cut);
}


static void
aigw_usage_resolve(aigw_usage_parser_t *up, int cut)
{
    int                 final, fam, oai, tgi;
    unsigned            i, has, status;
    uint64_t            v[4];
    aigw_usage_t       *u;
    const aigw_op_t    *op;
    aigw_usage_acc_t   *c;

    u = &up->usage;
    c = &up->committed;
    op = aigw_op_get(up->op);
    status = u->status;

    v[0] = v[1] = v[2] = v[3] = 0;
    has = 0;
    final = 0;

    fam = (c->has & AIGW_USAGE_FAM_MASK) != 0;
    oai = (c->has & AIGW_USAGE_OAI_MASK) != 0;
    tgi = (c->has & AIGW_USAGE_TGI_MASK) != 0;

    if (op == NULL || !op->metered) {
        /* CountTokens */

    } else if (op->service == AIGW_SERVICE_BEDROCK
               && (c->has & AIGW_USAGE_HDR_MASK))
    {
        has = aigw_usage_group(c, AIGW_USAGE_HDR_IN, 4, v);
        u->source = AIGW_USAGE_SOURCE_HEADER;
        final = 1;

    } else if (op->service == AIGW_SERVICE_BEDROCK) {

        if (fam) {
            has = aigw_usage_group(c, AIGW_USAGE_FAM_IN, 4, v);

        } else if (oai) {
            has = aigw_usage_openai(c, v);
        }

        /* the invocation metrics win, count by count */

        has |= aigw_usage_group(c, AIGW_USAGE_MET_IN, 4, v);

        if (up->op == AIGW_OP_INVOKE_STREAM) {
            final = (c->has & AIGW_USAGE_MET_MASK) != 0;

        } else if (up->op == AIGW_OP_CONVERSE_STREAM) {
            final = fam;
        }

    } else if (up->format == AIGW_USAGE_FORMAT_OPENAI
               || (up->format == AIGW_USAGE_FORMAT_AUTO && oai))
    {
        has = aigw_usage_openai(c, v);
        final = oai;

    } else if (up->format == AIGW_USAGE_FORMAT_TGI
               || up->format == AIGW_USAGE_FORMAT_AUTO)
    {
        has = aigw_usage_group(c, AIGW_USAGE_TGI_IN, 2, v);

        /* TGI 2.x's input_length, rather than the prefill[] entries */

        if (aigw_usage_has(c, AIGW_USAGE_TGI_LEN)) {
            v[0] = c->v[AIGW_USAGE_TGI_LEN];
            has |= AIGW_USAGE_HAS_INPUT;
        }

        final = tgi;
    }

    /* a count over the bound is not believed (aigw_usage.h) */

    for (i = 0; i < 4; i++) {
        if (v[i] > AIGW_USAGE_COUNT_MAX) {
            v[i] = 0;
            has &= ~(1u << i);
            up->out_of_range++;
        }
    }

    u->input_tokens = v[0];
    u->output_tokens = v[1];
    u->cache_read_input_tokens = v[2];
    u->cache_write_input_tokens = v[3];

    if (up->image_model && aigw_usage_has(c, AIGW_USAGE_IMAGES)) {

        if (c->v[AIGW_USAGE_IMAGES] > AIGW_USAGE_COUNT_MAX) {
            up->out_of_range++;

        } else {
            u->images = c->v[AIGW_USAGE_IMAGES];
            has |= AIGW_USAGE_HAS_IMAGES;
        }
    }

    u->has = has;

    if (u->source == AIGW_USAGE_SOURCE_NONE && has) {
        u->source = (up->mode == UM_STREAM) ? AIGW_USAGE_SOURCE_STREAM
                                            : AIGW_USAGE_SOURCE_BODY;
    }

    if (up->mode == UM_JSON && !cut) {
        final = 1;
    }

    if (cut && !final && op != NULL && op->metered
        && status >= 200 && status < 400
        && !(op->service == AIGW_SERVICE_SAGEMAKER
             && up->format == AIGW_USAGE_FORMAT_NONE))
    {
        u->source = AIGW_USAGE_SOURCE_PARTIAL;
    }

    aigw_usage_resolve_images(up);
    aigw_usage_resolve_error(up);
}


/*
 * The counts of "n" slots from "first", in the order input, output, cache
 * read, cache write: into v[], with their AIGW_USAGE_HAS_* bits returned
 */

static unsigned
aigw_usage_group(const aigw_usage_acc_t *c, unsigned first, unsigned n,
    uint64_t v[4])
{
    unsigned  i, has;

    has = 0;

    for (i = 0; i < n; i++) {
        if (aigw_usage_has(c, first + i)) {
            v[i] = c->v[first + i];
            has |= 1u << i;
        }
    }

    return has;
}


/* OpenAI's prompt_tokens include the cached ones */

static unsigned
aigw_usage_openai(const aigw_usage_acc_t *c, uint64_t v[4])
{
    unsigned  has;

    has = aigw_usage_group(c, AIGW_USAGE_OAI_IN, 2, v);

    if (aigw_usage_has(c, AIGW_USAGE_OAI_CACHED)) {
        v[2] = c->v[AIGW_USAGE_OAI_CACHED];
        v[0] = (v[0] > v[2]) ? v[0] - v[2] : 0;
        has |= AIGW_USAGE_HAS_CACHE_READ;
    }

    return has;
}


static void
aigw_usage_resolve_images(aigw_usage_parser_t *up)
{
    aigw_usage_t      *u;
    aigw_usage_acc_t  *r;

    u = &up->usage;
    r = &up->req;

    if (aigw_usage_has(r, AIGW_USAGE_REQ_WIDTH)) {
        u->image_width = r->v[AIGW_USAGE_REQ_WIDTH];
    }

    if (aigw_usage_has(r, AIGW_USAGE_REQ_HEIGHT)) {
        u->image_height = r->v[AIGW_USAGE_REQ_HEIGHT];
    }

    if (aigw_usage_has(r, AIGW_USAGE_REQ_IMAGES)) {
        u->images_requested = r->v[AIGW_USAGE_REQ_IMAGES];
    }

    if (u->image_width && u->image_height) {
        snprintf(u->image_size, sizeof(u->image_size), "%llux%llu",
                 (unsigned long long) u->image_width,
                 (unsigned long long) u->image_height);
    }

    memcpy(u->image_quality, up->quality, sizeof(u->image_quality));
}


static void
aigw_usage_resolve_error(aigw_usage_parser_t *up)
{
    aigw_usage_t      *u;
    aigw_usage_acc_t  *c;

    u = &up->usage;
    c = &up->committed;

    if (c->error) {
        u->error = 1;
        memcpy(u->error_type, c->error_type, sizeof(u->error_type));
    }

    if (u->status >= 400) {
        u->error = 1;

        if (u->error_type[0] == '\0') {
            if (up->hdr_error[0]) {
                memcpy(u->error_type, up->hdr_error, sizeof(u->error_type));

            } else if (up->body_error[0]) {
                memcpy(u->error_type, up->body_error,
                       sizeof(u->error_type));

            } else if (u->status == 429) {
                memcpy(u->error_type, "ThrottlingException",
                       sizeof("ThrottlingException"));
            }
        }
    }

    if (u->status == 429
        || aigw_str_ihas(u->error_type, strlen(u->error_type),
                              "throttl"))
    {
        u->throttled = 1;
    }
}


/*
 * An error type as AWS sends it ("ThrottlingException",
 * "ModelError:http://internal...", "com.amazon.coral#Throttling",
 * "throttlingException") reduced to a safe name with a capital.
 */

void
aigw_usage_error_type(char *dst, const char *p, size_t len)
{
    size_t       i, n;
    const char  *colon;

    dst[0] = '\0';

    if (p == NULL || len == 0) {
        return;
    }

    colon = memchr(p, ':', len);
    if (colon) {
        len = colon - p;
    }

    for (i = len; i > 0; i--) {
        if (p[i - 1] == '#') {
            p += i;
            len -= i;
            break;
        }
    }

    n = 0;

    for (i = 0; i < len && n < AIGW_USAGE_ERROR_TYPE_MAX; i++) {
        if ((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z')
            || (p[i] >= '0' && p[i] <= '9')
            || p[i] == '_' || p[i] == '.' || p[i] == '-')
        {
            dst[n++] = p[i];
        }
    }

    dst[n] = '\0';

    if (dst[0] >= 'a' && dst[0] <= 'z') {
        dst[0] = (char) (dst[0] - 'a' + 'A');
    }
}


void
aigw_usage_anomalies(const aigw_usage_parser_t *up,
    aigw_usage_anomalies_t *a)
{
    const aigw_json_scan_t  *js[3];
    int                      i;

    memset(a, 0, sizeof(aigw_usage_anomalies_t));

    a->stream_error = up->es.error;
    a->stream_last = up->es.last_error;
    a->crc_errors = up->es.crc_errors;
    a->skipped = up->es.skipped;
    a->bad_headers = up->es.bad_headers;
    a->json_errors = up->json_errors;
    a->json_error = up->json_error;
    a->bad_numbers = up->bad_numbers;
    a->out_of_range = up->out_of_range;
    a->base64_errors = up->base64_errors;

    js[0] = &up->outer;
    js[1] = &up->inner;
    js[2] = &up->request;

    for (i = 0; i < 3; i++) {
        a->json_too_deep += js[i]->too_deep;
        a->json_long_keys += js[i]->long_keys;
        a->json_long_numbers += js[i]->long_numbers;
    }
}


const char *
aigw_usage_source_name(aigw_usage_source_e source)
{
    static const char  *names[] = {
        "none", "header", "body", "stream", "partial"
    };

    if ((unsigned) source >= sizeof(names) / sizeof(names[0])) {
        return "none";
    }

    return names[source];
}

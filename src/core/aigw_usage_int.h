/*
 * aigw: what the pieces of the usage parser share, private to them:
 * aigw_usage.c (the entry points, the choice of the source),
 * aigw_usage_rules.c (the rules per operation and model family),
 * aigw_usage_stream.c (event-stream messages and base64 chunks) and
 * aigw_usage_sse.c (SageMaker's server-sent events and JSON lines).
 */

#ifndef AIGW_USAGE_INT_H
#define AIGW_USAGE_INT_H


#include "aigw_usage.h"


/* parser modes */
enum {
    UM_UNDECIDED = 0,
    UM_NONE,                    /* the body is not looked at */
    UM_JSON,                    /* a JSON body */
    UM_STREAM                   /* an event stream */
};


/* event-stream message kinds */
enum {
    UK_OTHER = 0,
    UK_CHUNK,                   /* invoke stream: {"bytes": base64} */
    UK_JSON,                    /* converse stream metadata: JSON */
    UK_PART,                    /* SageMaker PayloadPart: raw bytes */
    UK_ERROR                    /* exception or error */
};


/* the SageMaker stream's payload bytes */
enum {
    SSE_BEGIN = 0,              /* leading white space */
    SSE_RAW,                    /* JSON values, one after another */
    SSE_LINE,                   /* the start of an SSE line */
    SSE_DATA,                   /* the value of a "data:" line */
    SSE_IGNORE                  /* up to the end of the line */
};


/* the bits of a group of slots, from a to b */

#define AIGW_USAGE_MASK(a, b)                                                 \
    (((1u << ((b) + 1)) - 1) & ~((1u << (a)) - 1))

#define AIGW_USAGE_MET_MASK                                                   \
    AIGW_USAGE_MASK(AIGW_USAGE_MET_IN, AIGW_USAGE_MET_CW)
#define AIGW_USAGE_FAM_MASK                                                   \
    AIGW_USAGE_MASK(AIGW_USAGE_FAM_IN, AIGW_USAGE_FAM_CW)
#define AIGW_USAGE_OAI_MASK                                                   \
    AIGW_USAGE_MASK(AIGW_USAGE_OAI_IN, AIGW_USAGE_OAI_CACHED)
#define AIGW_USAGE_TGI_MASK                                                   \
    AIGW_USAGE_MASK(AIGW_USAGE_TGI_IN, AIGW_USAGE_TGI_LEN)
#define AIGW_USAGE_HDR_MASK                                                   \
    AIGW_USAGE_MASK(AIGW_USAGE_HDR_IN, AIGW_USAGE_HDR_CW)

#define aigw_usage_has(acc, s)  ((acc)->has & (1u << (s)))


/* the rule sets, aigw_usage_rules.c */
extern const aigw_usage_rules_t  aigw_usage_rules_bedrock;
extern const aigw_usage_rules_t  aigw_usage_rules_converse;
extern const aigw_usage_rules_t  aigw_usage_rules_sagemaker;
extern const aigw_usage_rules_t  aigw_usage_rules_error;
extern const aigw_usage_rules_t  aigw_usage_rules_request;

/* the event-stream callbacks, aigw_usage_stream.c */
extern const aigw_es_handler_t   aigw_usage_es_handler;


/* aigw_usage.c */
void aigw_usage_feed_json(aigw_usage_parser_t *up, aigw_json_scan_t *js,
    const char *p, size_t len);
void aigw_usage_json_error(aigw_usage_parser_t *up, const char *reason);
void aigw_usage_error_type(char *dst, const char *p, size_t len);

/* aigw_usage_rules.c */
int aigw_usage_on_doc(aigw_json_scan_t *js, aigw_json_event_e ev,
    const char *p, size_t len, void *data);
int aigw_usage_on_request(aigw_json_scan_t *js, aigw_json_event_e ev,
    const char *p, size_t len, void *data);
void aigw_usage_merge(aigw_usage_acc_t *dst, const aigw_usage_acc_t *src);
void aigw_usage_clear(aigw_usage_acc_t *acc);

/* aigw_usage_sse.c */
void aigw_usage_sse(aigw_usage_parser_t *up, const char *p, size_t len);
void aigw_usage_sse_reset(aigw_usage_parser_t *up);


#endif /* AIGW_USAGE_INT_H */

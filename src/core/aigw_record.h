
/*
 * aigw: usage records, as the module queues them, journals them and
 * counts them in Redis.  No nginx headers.
 *
 * A record is one request's usage for a (day, tenant, model).  Every
 * record carries the id of the stream it belongs to (a queue in shared
 * memory, or a worker's overflow journal) and its sequence number in that
 * stream; Redis keeps, per stream, the highest sequence number applied,
 * and the counting script skips any record at or below it: a record sent
 * twice (a lost reply, a reconnect, a crashed worker, a journal replayed
 * again) counts once.  Records of a stream must therefore reach Redis in
 * increasing order: the queue is drained in order, and journal files are
 * replayed in the order of their first sequence number, before the queue.
 *
 * The binary form (little-endian), the same in the queue and in journal
 * files:
 *
 *     u32  length of the whole record
 *     u32  CRC32 of everything after this field
 *     16   stream id
 *     u64  sequence number
 *     10   day, "YYYY-MM-DD"
 *     u8   tenant length, tenant
 *     u16  model length, model
 *     u8   image class length, image class ("1024x1024:premium"; may be 0)
 *     u64  x AIGW_RECORD_FIELDS counters
 */

#ifndef AIGW_RECORD_H
#define AIGW_RECORD_H


#include <stddef.h>
#include <stdint.h>

#include "aigw_types.h"


#define AIGW_STREAM_ID_LEN      16
#define AIGW_DATE_LEN           10
#define AIGW_RECORD_TENANT_MAX  64
#define AIGW_RECORD_MODEL_MAX   2048
#define AIGW_RECORD_CLASS_MAX   64

#define AIGW_RECORD_FIELDS      10

/* the counters, in the order of aigw_record_fields[] */
#define AIGW_F_REQUESTS         0
#define AIGW_F_INPUT            1
#define AIGW_F_OUTPUT           2
#define AIGW_F_CACHE_READ       3
#define AIGW_F_CACHE_WRITE      4
#define AIGW_F_IMAGES           5
#define AIGW_F_ERRORS           6
#define AIGW_F_THROTTLED        7
#define AIGW_F_LATENCY          8
#define AIGW_F_COST             9

#define AIGW_RECORD_HEAD        (4 + 4 + AIGW_STREAM_ID_LEN + 8)
#define AIGW_RECORD_MAX                                                       \
    (AIGW_RECORD_HEAD + AIGW_DATE_LEN + 1 + AIGW_RECORD_TENANT_MAX + 2        \
     + AIGW_RECORD_MODEL_MAX + 1 + AIGW_RECORD_CLASS_MAX                      \
     + 8 * AIGW_RECORD_FIELDS)


typedef struct {
    unsigned char   stream[AIGW_STREAM_ID_LEN];
    uint64_t        seq;
    char            date[AIGW_DATE_LEN];
    aigw_str_t      tenant;
    aigw_str_t      model;
    aigw_str_t      image_class;    /* "SIZE:QUALITY" of images, or empty */
    uint64_t        v[AIGW_RECORD_FIELDS];
} aigw_record_t;


/* the Redis hash fields: "requests", "input_tokens", ... */
extern const char  *aigw_record_fields[AIGW_RECORD_FIELDS];


/*
 * the encoded size; 0 if a counter is over AIGW_RECORD_VALUE_MAX, the
 * tenant or the model is too long or empty, or
 * the image class too long or not "SIZE:QUALITY" of [A-Za-z0-9_.-]
 */
size_t aigw_record_size(const aigw_record_t *r);

int aigw_record_class_valid(const char *p, size_t len);

/* encodes into "dst" (aigw_record_size() bytes); returns that size */
size_t aigw_record_encode(unsigned char *dst, const aigw_record_t *r);

/*
 * Decodes the record at "p" ("avail" bytes there).  Returns its size; 0
 * when "avail" does not hold a whole record yet; (size_t) -1 when the
 * bytes are not a valid record (bad length, CRC, field).  The strings of
 * "r" point into "p".
 */
size_t aigw_record_decode(const unsigned char *p, size_t avail,
    aigw_record_t *r);

/* the sequence number is rewritten in place (the CRC with it) */
void aigw_record_set_seq(unsigned char *p, uint64_t seq);

/* the stream and the sequence number, rewritten in place */
void aigw_record_set_stream(unsigned char *p,
    const unsigned char stream[AIGW_STREAM_ID_LEN], uint64_t seq);


/*
 * The most a counter of one record may hold: 2^43 (8.8e12: a billion
 * tokens fit, and 8,796 USD in nano-dollars).  A batch of 512 such
 * records sums below 2^53, exact in the script's numbers.  The
 * module clamps a record's cost and latency to it; a record over it in
 * a journal (an older version's) is refused by the script.
 */
#define AIGW_RECORD_VALUE_MAX   8796093022208ULL

/*
 * The models a tenant counts under on its own, past the cap or rejected
 * by AWS as invalid (aigw_redis max_models=, and 400, 403, 404)
 */
#define AIGW_RECORD_MODEL_OTHER    "_other"
#define AIGW_RECORD_MODEL_INVALID  "_invalid"


/*
 * The counting script, for EVAL/EVALSHA with no keys and the arguments
 *
 *     prefix, seq-ttl-seconds, max-models, S, stream-id x S (hex),
 *     then per record: stream index (1..S), seq, day, tenant, model,
 *     image class, AIGW_RECORD_FIELDS counters
 *
 * It skips the records at or below their stream's high-water mark.  It
 * checks every other record before it writes anything: its day, tenant,
 * model and image class well-formed, each counter an integer of at most
 * AIGW_RECORD_VALUE_MAX, its hash a hash (or none) whose fields stay
 * below 4e18 once added to.  A record that fails is refused: not
 * counted, its stream's mark moved past it all the same, and returned
 * with the reason, for the caller's dead-letter journal.  A model new to
 * a tenant on a day past max-models distinct ones counts under
 * AIGW_RECORD_MODEL_OTHER.  Then it adds the counters (aggregated per
 * hash) to PREFIX:usage:DAY:TENANT:MODEL (with an image class, the
 * images also to the field "images:CLASS", for pricing), adds
 * TENANT:MODEL to the day's set PREFIX:usage:DAY:index (and a new one to
 * the tenant's count in the hash PREFIX:usage:DAY:models), and moves the
 * marks PREFIX:seq:STREAM (which expire after seq-ttl-seconds without
 * use).  It returns an array: the number of records applied, then for
 * each refused record its position in the batch (from 1) and the
 * reason.  A malformed batch is an error reply, and nothing is written.
 * One round trip per batch, atomic in Redis.
 */
extern const char  aigw_record_script[];

/* the lowercase hex SHA-1 of aigw_record_script, for EVALSHA */
void aigw_record_script_sha1(char out[41]);

/* the script's arguments per record: stream index, seq, day, ... */
#define AIGW_RECORD_ARGS        (2 + 4 + AIGW_RECORD_FIELDS)


#endif /* AIGW_RECORD_H */

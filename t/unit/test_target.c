
/*
 * aigw: unit tests of aigw_target.c.
 */


#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "aigw_target.h"


#define S(s)  s, sizeof(s) - 1


static void
test_ops(void)
{
    const aigw_op_t  *op;

    CHECK(aigw_op_get(AIGW_OP_NONE) == NULL);
    CHECK(aigw_op_get((aigw_op_e) 99) == NULL);

    op = aigw_op_get(AIGW_OP_INVOKE);
    if (CHECK(op != NULL)) {
        CHECK_EQ(op->id, AIGW_OP_INVOKE);
        CHECK_EQ(op->service, AIGW_SERVICE_BEDROCK);
        CHECK_STR(op->suffix, "invoke");
        CHECK_STR(op->name, "InvokeModel");
        CHECK_EQ(op->streaming, 0);
        CHECK_EQ(op->metered, 1);
    }

    op = aigw_op_get(AIGW_OP_INVOKE_STREAM);
    if (CHECK(op != NULL)) {
        CHECK_STR(op->suffix, "invoke-with-response-stream");
        CHECK_STR(op->name, "InvokeModelWithResponseStream");
        CHECK_EQ(op->streaming, 1);
        CHECK_EQ(op->metered, 1);
    }

    op = aigw_op_get(AIGW_OP_CONVERSE);
    if (CHECK(op != NULL)) {
        CHECK_STR(op->suffix, "converse");
        CHECK_STR(op->name, "Converse");
        CHECK_EQ(op->streaming, 0);
        CHECK_EQ(op->metered, 1);
    }

    op = aigw_op_get(AIGW_OP_CONVERSE_STREAM);
    if (CHECK(op != NULL)) {
        CHECK_STR(op->suffix, "converse-stream");
        CHECK_STR(op->name, "ConverseStream");
        CHECK_EQ(op->streaming, 1);
        CHECK_EQ(op->metered, 1);
    }

    op = aigw_op_get(AIGW_OP_COUNT_TOKENS);
    if (CHECK(op != NULL)) {
        CHECK_STR(op->suffix, "count-tokens");
        CHECK_STR(op->name, "CountTokens");
        CHECK_EQ(op->streaming, 0);
        CHECK_EQ(op->metered, 0);
    }

    op = aigw_op_get(AIGW_OP_SM_INVOKE);
    if (CHECK(op != NULL)) {
        CHECK_EQ(op->service, AIGW_SERVICE_SAGEMAKER);
        CHECK_STR(op->suffix, "invocations");
        CHECK_STR(op->name, "InvokeEndpoint");
        CHECK_EQ(op->streaming, 0);
        CHECK_EQ(op->metered, 1);
    }

    op = aigw_op_get(AIGW_OP_SM_INVOKE_STREAM);
    if (CHECK(op != NULL)) {
        CHECK_EQ(op->service, AIGW_SERVICE_SAGEMAKER);
        CHECK_STR(op->suffix, "invocations-response-stream");
        CHECK_STR(op->name, "InvokeEndpointWithResponseStream");
        CHECK_EQ(op->streaming, 1);
        CHECK_EQ(op->metered, 1);
    }

    CHECK(aigw_op_by_suffix(AIGW_SERVICE_BEDROCK, S("converse"))
          == aigw_op_get(AIGW_OP_CONVERSE));
    CHECK(aigw_op_by_suffix(AIGW_SERVICE_SAGEMAKER, S("invocations"))
          == aigw_op_get(AIGW_OP_SM_INVOKE));
    CHECK(aigw_op_by_suffix(AIGW_SERVICE_SAGEMAKER, S("converse")) == NULL);
    CHECK(aigw_op_by_suffix(AIGW_SERVICE_BEDROCK, S("invocations")) == NULL);
    CHECK(aigw_op_by_suffix(AIGW_SERVICE_BEDROCK, S("Converse")) == NULL);
    CHECK(aigw_op_by_suffix(AIGW_SERVICE_BEDROCK, S("conv")) == NULL);
    CHECK(aigw_op_by_suffix(AIGW_SERVICE_BEDROCK, S("")) == NULL);
    CHECK(aigw_op_by_suffix(AIGW_SERVICE_NONE, S("")) == NULL);

    CHECK_STR(aigw_service_names[AIGW_SERVICE_NONE], "");
    CHECK_STR(aigw_service_names[AIGW_SERVICE_BEDROCK], "bedrock");
    CHECK_STR(aigw_service_names[AIGW_SERVICE_SAGEMAKER], "sagemaker");
    CHECK_STR(aigw_service_signing_names[AIGW_SERVICE_NONE], "");
    CHECK_STR(aigw_service_signing_names[AIGW_SERVICE_BEDROCK], "bedrock");
    CHECK_STR(aigw_service_signing_names[AIGW_SERVICE_SAGEMAKER],
              "sagemaker");
}


/* a reason goes to clients as is: printable ASCII, nothing to escape */

static int
reason_ok(const char *r)
{
    if (r == NULL || *r == '\0') {
        return 0;
    }

    for ( /* void */ ; *r; r++) {
        if (*r < 0x20 || *r >= 0x7f || *r == '"' || *r == '\\') {
            return 0;
        }
    }

    return 1;
}


static void
check_path(const char *path, aigw_target_rc_e rc, aigw_op_e op_id,
    const char *id, const char *reason_part, int line)
{
    int                ok;
    const char        *reason;
    aigw_str_t         raw;
    aigw_target_rc_e   got;
    const aigw_op_t   *op;

    op = NULL;
    reason = NULL;
    raw.data = NULL;
    raw.len = 0;

    got = aigw_target_parse_path(path, strlen(path), &op, &raw, &reason);

    ok = CHECK_EQ(got, rc);

    if (rc == AIGW_TARGET_OK && got == AIGW_TARGET_OK) {
        ok &= CHECK(op != NULL && op->id == op_id);
        ok &= CHECK_MEM(raw.data, raw.len, id, strlen(id));
        ok &= CHECK(raw.data >= path && raw.data + raw.len <= path
                                                         + strlen(path));

    } else if (rc == AIGW_TARGET_BAD_ID || rc == AIGW_TARGET_BAD_OPERATION) {
        ok &= CHECK(reason_ok(reason));

        if (reason && reason_part) {
            ok &= CHECK(strstr(reason, reason_part) != NULL);
        }
    }

    if (!ok) {
        fprintf(stderr, "    (path \"%s\", line %d, reason \"%s\")\n", path,
                line, reason ? reason : "");
    }
}


static void
test_parse_path(void)
{
    check_path("/model/amazon.titan-text-express-v1/invoke",
               AIGW_TARGET_OK, AIGW_OP_INVOKE,
               "amazon.titan-text-express-v1", NULL, __LINE__);
    check_path("/model/anthropic.claude-3-haiku-20240307-v1%3A0/"
               "invoke-with-response-stream",
               AIGW_TARGET_OK, AIGW_OP_INVOKE_STREAM,
               "anthropic.claude-3-haiku-20240307-v1%3A0", NULL, __LINE__);
    check_path("/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse",
               AIGW_TARGET_OK, AIGW_OP_CONVERSE,
               "anthropic.claude-3-haiku-20240307-v1%3A0", NULL, __LINE__);
    check_path("/model/us.amazon.nova-lite-v1%3A0/converse-stream",
               AIGW_TARGET_OK, AIGW_OP_CONVERSE_STREAM,
               "us.amazon.nova-lite-v1%3A0", NULL, __LINE__);
    check_path("/model/x/count-tokens",
               AIGW_TARGET_OK, AIGW_OP_COUNT_TOKENS, "x", NULL, __LINE__);
    check_path("/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3A"
               "application-inference-profile%2Fabcd/converse",
               AIGW_TARGET_OK, AIGW_OP_CONVERSE,
               "arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3A"
               "application-inference-profile%2Fabcd", NULL, __LINE__);
    check_path("/endpoints/my-endpoint/invocations",
               AIGW_TARGET_OK, AIGW_OP_SM_INVOKE, "my-endpoint", NULL,
               __LINE__);
    check_path("/endpoints/my-endpoint/invocations-response-stream",
               AIGW_TARGET_OK, AIGW_OP_SM_INVOKE_STREAM, "my-endpoint", NULL,
               __LINE__);

    /* not a gateway path */

    check_path("", AIGW_TARGET_NOT_FOUND, 0, NULL, NULL, __LINE__);
    check_path("/", AIGW_TARGET_NOT_FOUND, 0, NULL, NULL, __LINE__);
    check_path("/invoke", AIGW_TARGET_NOT_FOUND, 0, NULL, NULL, __LINE__);
    check_path("/model", AIGW_TARGET_NOT_FOUND, 0, NULL, NULL, __LINE__);
    check_path("/models/x/invoke", AIGW_TARGET_NOT_FOUND, 0, NULL, NULL,
               __LINE__);
    check_path("/Model/x/invoke", AIGW_TARGET_NOT_FOUND, 0, NULL, NULL,
               __LINE__);
    check_path("model/x/invoke", AIGW_TARGET_NOT_FOUND, 0, NULL, NULL,
               __LINE__);
    check_path("//model/x/invoke", AIGW_TARGET_NOT_FOUND, 0, NULL, NULL,
               __LINE__);
    check_path("/endpoint/x/invocations", AIGW_TARGET_NOT_FOUND, 0, NULL,
               NULL, __LINE__);
    check_path("/metrics", AIGW_TARGET_NOT_FOUND, 0, NULL, NULL, __LINE__);

    /* a literal '/' too many: an ARN sent unencoded, a trailing slash */

    check_path("/model/arn:aws:bedrock:us-east-1:123456789012:"
               "inference-profile/us.x-v1:0/converse",
               AIGW_TARGET_BAD_ID, 0, NULL, "percent-encoded", __LINE__);
    check_path("/model/x/converse/", AIGW_TARGET_BAD_ID, 0, NULL, "'/'",
               __LINE__);
    check_path("/model/x/y/converse", AIGW_TARGET_BAD_ID, 0, NULL, NULL,
               __LINE__);
    check_path("/model/x//converse", AIGW_TARGET_BAD_ID, 0, NULL, NULL,
               __LINE__);
    check_path("/endpoints/a/b/invocations", AIGW_TARGET_BAD_ID, 0, NULL,
               "endpoint name", __LINE__);
    check_path("/endpoints/a/invocations/", AIGW_TARGET_BAD_ID, 0, NULL,
               NULL, __LINE__);

    /* empty ID */

    check_path("/model//converse", AIGW_TARGET_BAD_ID, 0, NULL,
               "empty model ID", __LINE__);
    check_path("/model/", AIGW_TARGET_BAD_ID, 0, NULL, "empty model ID",
               __LINE__);
    check_path("/model//", AIGW_TARGET_BAD_ID, 0, NULL, NULL, __LINE__);
    check_path("/endpoints//invocations", AIGW_TARGET_BAD_ID, 0, NULL,
               "empty endpoint name", __LINE__);
    check_path("/endpoints/", AIGW_TARGET_BAD_ID, 0, NULL, NULL, __LINE__);

    /* unknown operation */

    check_path("/model/x/chat", AIGW_TARGET_BAD_OPERATION, 0, NULL,
               "unknown operation", __LINE__);
    check_path("/model/x/Converse", AIGW_TARGET_BAD_OPERATION, 0, NULL,
               "unknown operation", __LINE__);
    check_path("/model/x/converse-stream2", AIGW_TARGET_BAD_OPERATION, 0,
               NULL, "unknown operation", __LINE__);
    check_path("/model/x/invoke%2D", AIGW_TARGET_BAD_OPERATION, 0, NULL,
               "unknown operation", __LINE__);
    check_path("/model/x/", AIGW_TARGET_BAD_OPERATION, 0, NULL, NULL,
               __LINE__);
    check_path("/model/x", AIGW_TARGET_BAD_OPERATION, 0, NULL,
               "missing operation", __LINE__);
    check_path("/model/x/invocations", AIGW_TARGET_BAD_OPERATION, 0, NULL,
               "unknown operation", __LINE__);
    check_path("/model/x/invocations-response-stream",
               AIGW_TARGET_BAD_OPERATION, 0, NULL, "unknown operation",
               __LINE__);
    check_path("/endpoints/x/converse", AIGW_TARGET_BAD_OPERATION, 0, NULL,
               "unknown operation", __LINE__);
    check_path("/endpoints/x/invoke", AIGW_TARGET_BAD_OPERATION, 0, NULL,
               "unknown operation", __LINE__);
    check_path("/endpoints/x", AIGW_TARGET_BAD_OPERATION, 0, NULL, NULL,
               __LINE__);
}


static void
check_id(aigw_service_e service, const char *raw, size_t raw_len,
    const char *expected, int line)
{
    char        *buf;
    size_t       n;
    const char  *reason;

    buf = malloc(raw_len + 1);
    if (!CHECK(buf != NULL)) {
        return;
    }

    reason = NULL;
    n = aigw_target_decode_id(service, buf, raw, raw_len, &reason);

    if (expected) {
        if (!CHECK(n != (size_t) -1)
            || !CHECK_MEM(buf, n, expected, strlen(expected)))
        {
            fprintf(stderr, "    (valid ID at line %d: %s)\n", line,
                    reason ? reason : "");
        }

    } else {
        if (!CHECK_EQ_SIZE(n, (size_t) -1) || !CHECK(reason_ok(reason))) {
            fprintf(stderr, "    (invalid ID at line %d accepted)\n", line);
        }
    }

    free(buf);
}


#define GOOD(raw, decoded)                                                    \
    check_id(AIGW_SERVICE_BEDROCK, raw, strlen(raw), decoded, __LINE__)
#define BAD(raw)                                                              \
    check_id(AIGW_SERVICE_BEDROCK, raw, strlen(raw), NULL, __LINE__)
#define SM_GOOD(raw, decoded)                                                 \
    check_id(AIGW_SERVICE_SAGEMAKER, raw, strlen(raw), decoded, __LINE__)
#define SM_BAD(raw)                                                           \
    check_id(AIGW_SERVICE_SAGEMAKER, raw, strlen(raw), NULL, __LINE__)


static void
test_bedrock_ids(void)
{
    char    *big;
    size_t   i;

    /* plain model IDs, encoded or not */

    GOOD("anthropic.claude-3-haiku-20240307-v1:0",
         "anthropic.claude-3-haiku-20240307-v1:0");
    GOOD("anthropic.claude-3-haiku-20240307-v1%3A0",
         "anthropic.claude-3-haiku-20240307-v1:0");
    GOOD("anthropic.claude-3-haiku-20240307-v1%3a0",
         "anthropic.claude-3-haiku-20240307-v1:0");
    GOOD("meta.llama3-8b-instruct-v1%3A0", "meta.llama3-8b-instruct-v1:0");
    GOOD("anthropic.claude-v2%3A1%3A18k", "anthropic.claude-v2:1:18k");
    GOOD("amazon.titan-text-express-v1", "amazon.titan-text-express-v1");
    GOOD("amazon.titan-embed-text-v2:0", "amazon.titan-embed-text-v2:0");
    GOOD("cohere.command-r-plus-v1:0", "cohere.command-r-plus-v1:0");
    GOOD("mistral.mistral-7b-instruct-v0:2",
         "mistral.mistral-7b-instruct-v0:2");
    GOOD("ai21.j2-ultra-v1", "ai21.j2-ultra-v1");
    GOOD("stability.sd3-large-v1:0", "stability.sd3-large-v1:0");
    GOOD("a", "a");
    GOOD("7", "7");
    GOOD("my_model", "my_model");

    /* cross-region inference profile IDs */

    GOOD("us.anthropic.claude-3-haiku-20240307-v1%3A0",
         "us.anthropic.claude-3-haiku-20240307-v1:0");
    GOOD("eu.anthropic.claude-3-5-sonnet-20240620-v1:0",
         "eu.anthropic.claude-3-5-sonnet-20240620-v1:0");
    GOOD("apac.amazon.nova-lite-v1:0", "apac.amazon.nova-lite-v1:0");
    GOOD("us-gov.anthropic.claude-3-haiku-20240307-v1:0",
         "us-gov.anthropic.claude-3-haiku-20240307-v1:0");
    GOOD("global.anthropic.claude-sonnet-4-20250514-v1:0",
         "global.anthropic.claude-sonnet-4-20250514-v1:0");
    GOOD("us.amazon.nova-lite-v1:0", "us.amazon.nova-lite-v1:0");

    /* provisioned model IDs */

    GOOD("a1b2c3d4e5f6", "a1b2c3d4e5f6");

    /* ARNs */

    GOOD("arn%3Aaws%3Abedrock%3Aus-east-1%3A%3Afoundation-model%2F"
         "anthropic.claude-3-haiku-20240307-v1%3A0",
         "arn:aws:bedrock:us-east-1::foundation-model/"
         "anthropic.claude-3-haiku-20240307-v1:0");
    GOOD("arn:aws:bedrock:us-east-1:123456789012:inference-profile/"
         "us.anthropic.claude-3-haiku-20240307-v1:0",
         "arn:aws:bedrock:us-east-1:123456789012:inference-profile/"
         "us.anthropic.claude-3-haiku-20240307-v1:0");
    GOOD("arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3A"
         "application-inference-profile%2Fabcd1234efgh",
         "arn:aws:bedrock:us-east-1:123456789012:"
         "application-inference-profile/abcd1234efgh");
    GOOD("arn:aws:bedrock:us-west-2:123456789012:provisioned-model/"
         "a1b2c3d4e5f6",
         "arn:aws:bedrock:us-west-2:123456789012:provisioned-model/"
         "a1b2c3d4e5f6");
    GOOD("arn:aws:bedrock:us-east-1:123456789012:imported-model/xyz789",
         "arn:aws:bedrock:us-east-1:123456789012:imported-model/xyz789");
    GOOD("arn:aws:bedrock:us-east-1:123456789012:custom-model/abc",
         "arn:aws:bedrock:us-east-1:123456789012:custom-model/abc");
    GOOD("arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Acustom-model%2F"
         "amazon.titan-text-express-v1%3A0%3A8k%2Fabc123def456",
         "arn:aws:bedrock:us-east-1:123456789012:custom-model/"
         "amazon.titan-text-express-v1:0:8k/abc123def456");
    GOOD("arn:aws:bedrock:us-east-1:123456789012:custom-model-deployment/"
         "d1e2f3",
         "arn:aws:bedrock:us-east-1:123456789012:custom-model-deployment/"
         "d1e2f3");
    GOOD("arn:aws:bedrock:us-east-1:123456789012:prompt/PROMPT12345:1",
         "arn:aws:bedrock:us-east-1:123456789012:prompt/PROMPT12345:1");
    GOOD("arn:aws:bedrock:us-east-1:123456789012:prompt-router/r1",
         "arn:aws:bedrock:us-east-1:123456789012:prompt-router/r1");
    GOOD("arn:aws:bedrock:us-east-1:123456789012:default-prompt-router/"
         "anthropic.claude:1",
         "arn:aws:bedrock:us-east-1:123456789012:default-prompt-router/"
         "anthropic.claude:1");
    GOOD("arn:aws:bedrock:us-east-1:123456789012:endpoint/my-ep",
         "arn:aws:bedrock:us-east-1:123456789012:endpoint/my-ep");
    GOOD("arn:aws-cn:bedrock:cn-north-1::foundation-model/x.y-v1:0",
         "arn:aws-cn:bedrock:cn-north-1::foundation-model/x.y-v1:0");
    GOOD("arn:aws-us-gov:bedrock:us-gov-west-1:123456789012:"
         "inference-profile/us-gov.x-v1:0",
         "arn:aws-us-gov:bedrock:us-gov-west-1:123456789012:"
         "inference-profile/us-gov.x-v1:0");
    GOOD("arn:aws-iso-b:bedrock:us-isob-east-1::foundation-model/x",
         "arn:aws-iso-b:bedrock:us-isob-east-1::foundation-model/x");

    /* rejected: path traversal and control bytes */

    BAD("");
    BAD("..");
    BAD("a..b");
    BAD("anthropic..claude");
    BAD("%2E%2E");
    BAD("%2F..%2F");
    BAD("..%2Fadmin");
    BAD("x%2F..%2F..%2Fadmin");
    BAD("model%0D%0AX-Injected:%201");
    BAD("model%0D");
    BAD("model%0A");
    BAD("model%00");
    BAD("model%09");
    BAD("model%7F");
    BAD("model%C3%A9");
    BAD("\xc3\xa9");
    BAD("a b");
    BAD("a%20b");
    BAD("a+b");

    /* malformed escapes */

    BAD("%G1");
    BAD("abc%4");
    BAD("%4");
    BAD("%");
    BAD("x%zz");

    /* outside the charset */

    BAD("a/b");
    BAD("a%2Fb");
    BAD("a%252F");
    BAD("-model");
    BAD(".model");
    BAD(":model");
    BAD("_model");
    BAD("model?x=1");
    BAD("model#x");
    BAD("model;x");
    BAD("model,x");
    BAD("model*");
    BAD("model@v1");
    BAD("model%25");
    BAD("model\"");
    BAD("model'");
    BAD("model<x>");
    BAD("%3A");

    /* ARNs */

    BAD("arn:aws:s3:::bucket/key");

    /* Bedrock Marketplace models on SageMaker endpoints */
    GOOD("arn%3Aaws%3Asagemaker%3Aus-east-1%3A767398002385%3Aendpoint"
         "%2Fendpoint-quick-start-idr7y",
         "arn:aws:sagemaker:us-east-1:767398002385:endpoint/"
         "endpoint-quick-start-idr7y");
    GOOD("arn:aws:sagemaker:us-east-1:123456789012:endpoint/x",
         "arn:aws:sagemaker:us-east-1:123456789012:endpoint/x");
    BAD("arn:aws:sagemaker:us-east-1:123456789012:endpoint/");
    BAD("arn:aws:sagemaker:us-east-1:123456789012:endpoint/-x");
    BAD("arn:aws:sagemaker:us-east-1:123456789012:endpoint/a/b");
    BAD("arn:aws:sagemaker:us-east-1::endpoint/x");
    BAD("arn:aws:sagemaker:us-east-1:123456789012:model/x");
    BAD("arn:aws:iam::123456789012:role/x");
    BAD("arn:aws:bedrock-agent:us-east-1:123456789012:agent/x");
    BAD("arn:aws:Bedrock:us-east-1:123456789012:inference-profile/x");
    BAD("arn:azure:bedrock:us-east-1:123456789012:inference-profile/x");
    BAD("arn:aws-:bedrock:us-east-1:123456789012:inference-profile/x");
    BAD("arn:aws-cn-:bedrock:us-east-1:123456789012:inference-profile/x");
    BAD("arn:aws--cn:bedrock:us-east-1:123456789012:inference-profile/x");
    BAD("arn:aws-CN:bedrock:us-east-1:123456789012:inference-profile/x");
    BAD("arn:aws-c1:bedrock:us-east-1:123456789012:inference-profile/x");
    BAD("arn::bedrock:us-east-1:123456789012:inference-profile/x");
    BAD("arn:aws:bedrock::123456789012:inference-profile/x");
    BAD("arn:aws:bedrock:US-EAST-1:123456789012:inference-profile/x");
    BAD("arn:aws:bedrock:us_east_1:123456789012:inference-profile/x");
    BAD("arn:aws:bedrock:us-east-1:12345678901:inference-profile/x");
    BAD("arn:aws:bedrock:us-east-1:1234567890123:inference-profile/x");
    BAD("arn:aws:bedrock:us-east-1:12345678901a:inference-profile/x");
    BAD("arn:aws:bedrock:us-east-1:123456789012:inference-profile/");
    BAD("arn:aws:bedrock:us-east-1:123456789012:inference-profile");
    BAD("arn:aws:bedrock:us-east-1:123456789012:/x");
    BAD("arn:aws:bedrock:us-east-1:123456789012:model/x");
    BAD("arn:aws:bedrock:us-east-1:123456789012:agent/x");
    BAD("arn:aws:bedrock:us-east-1:123456789012:Inference-Profile/x");
    BAD("arn:aws:bedrock:us-east-1:123456789012:inference-profile/a/b");
    BAD("arn:aws:bedrock:us-east-1:123456789012:provisioned-model/a/b");
    BAD("arn:aws:bedrock:us-east-1:123456789012:custom-model/a/b/c");
    BAD("arn:aws:bedrock:us-east-1:123456789012:custom-model/a//b");
    BAD("arn:aws:bedrock:us-east-1:123456789012:custom-model//b");
    BAD("arn:aws:bedrock:us-east-1:123456789012:custom-model/a/");
    BAD("arn:aws:bedrock:us-east-1:123456789012:inference-profile/x@y");
    BAD("arn:aws:bedrock:us-east-1:123456789012:inference-profile/x..y");
    BAD("arn:aws:bedrock:us-east-1:123456789012");
    BAD("arn:aws:bedrock:us-east-1");
    BAD("arn:aws:bedrock");
    BAD("arn:");
    BAD("arn%3A");

    /* length: 2048 decoded bytes are fine, 2049 are not */

    big = malloc(3 * 2049 + 1);
    if (!CHECK(big != NULL)) {
        return;
    }

    memset(big, 'a', 2049);
    big[2049] = '\0';

    big[2048] = '\0';
    check_id(AIGW_SERVICE_BEDROCK, big, 2048, big, __LINE__);
    big[2048] = 'a';
    CHECK(aigw_target_check_id(AIGW_SERVICE_BEDROCK, big, 2048) == NULL);
    check_id(AIGW_SERVICE_BEDROCK, big, 2049, NULL, __LINE__);
    CHECK(aigw_target_check_id(AIGW_SERVICE_BEDROCK, big, 2049) != NULL);

    for (i = 0; i < 2049; i++) {
        memcpy(big + 3 * i, "%61", 3);
    }

    check_id(AIGW_SERVICE_BEDROCK, big, 3 * 2049, NULL, __LINE__);

    free(big);

    /* the first of the other checks */

    CHECK(aigw_target_check_id(AIGW_SERVICE_NONE, "x", 1) != NULL);
    CHECK(aigw_target_check_id(AIGW_SERVICE_BEDROCK, "x", 0) != NULL);
}


static void
test_check_id_direct(void)
{
    /* decoded bytes, as aigw_model_id values come */

    CHECK(aigw_target_check_id(AIGW_SERVICE_BEDROCK, S("us.x-v1:0")) == NULL);
    CHECK(aigw_target_check_id(AIGW_SERVICE_BEDROCK, S("a\0b")) != NULL);
    CHECK(aigw_target_check_id(AIGW_SERVICE_BEDROCK, S("a\r\nb")) != NULL);
    CHECK(aigw_target_check_id(AIGW_SERVICE_BEDROCK, S("x%3A0")) != NULL);
    CHECK(aigw_target_check_id(AIGW_SERVICE_SAGEMAKER, S("ep")) == NULL);
    CHECK(aigw_target_check_id(AIGW_SERVICE_SAGEMAKER, S("e\np")) != NULL);
}


static void
test_sagemaker_names(void)
{
    char  name[80];

    SM_GOOD("my-endpoint", "my-endpoint");
    SM_GOOD("a", "a");
    SM_GOOD("A9", "A9");
    SM_GOOD("a--b", "a--b");
    SM_GOOD("tgi-llama-3-8b-2024-05-01", "tgi-llama-3-8b-2024-05-01");
    SM_GOOD("my%2Dendpoint", "my-endpoint");

    memset(name, 'e', 63);
    name[63] = '\0';
    SM_GOOD(name, name);

    name[63] = 'e';
    name[64] = '\0';
    SM_BAD(name);

    SM_BAD("");
    SM_BAD("-a");
    SM_BAD("a-");
    SM_BAD("-");
    SM_BAD("a_b");
    SM_BAD("a.b");
    SM_BAD("a:b");
    SM_BAD("a/b");
    SM_BAD("a%2Fb");
    SM_BAD("..");
    SM_BAD("a b");
    SM_BAD("a%0Ab");
    SM_BAD("a%00");
    SM_BAD("%G1");
    SM_BAD("arn:aws:sagemaker:us-east-1:123456789012:endpoint/x");
    SM_BAD("anthropic.claude-3-haiku-20240307-v1:0");
}


static void
check_upstream(aigw_op_e op_id, const char *id, const char *expected,
    int line)
{
    char              buf[512];
    size_t            n, m;
    const aigw_op_t  *op;

    op = aigw_op_get(op_id);
    n = aigw_target_upstream_path(NULL, op, id, strlen(id));

    memset(buf, 0, sizeof(buf));
    m = aigw_target_upstream_path(buf, op, id, strlen(id));

    if (!CHECK_EQ_SIZE(n, m) || !CHECK_STR(buf, expected)) {
        fprintf(stderr, "    (upstream path at line %d)\n", line);
    }
}


static void
test_upstream_path(void)
{
    check_upstream(AIGW_OP_CONVERSE, "anthropic.claude-3-haiku-20240307-v1:0",
                   "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse",
                   __LINE__);
    check_upstream(AIGW_OP_INVOKE, "amazon.titan-text-express-v1",
                   "/model/amazon.titan-text-express-v1/invoke", __LINE__);
    check_upstream(AIGW_OP_INVOKE_STREAM, "us.x-v1:0",
                   "/model/us.x-v1%3A0/invoke-with-response-stream",
                   __LINE__);
    check_upstream(AIGW_OP_CONVERSE_STREAM, "x", "/model/x/converse-stream",
                   __LINE__);
    check_upstream(AIGW_OP_COUNT_TOKENS, "x", "/model/x/count-tokens",
                   __LINE__);
    check_upstream(AIGW_OP_CONVERSE,
                   "arn:aws:bedrock:us-east-1:123456789012:"
                   "application-inference-profile/abcd1234",
                   "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3A"
                   "application-inference-profile%2Fabcd1234/converse",
                   __LINE__);
    check_upstream(AIGW_OP_INVOKE,
                   "arn:aws:bedrock:us-east-1:123456789012:custom-model/"
                   "a.b-v1:0/xyz",
                   "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3A"
                   "custom-model%2Fa.b-v1%3A0%2Fxyz/invoke", __LINE__);
    check_upstream(AIGW_OP_SM_INVOKE, "my-endpoint",
                   "/endpoints/my-endpoint/invocations", __LINE__);
    check_upstream(AIGW_OP_SM_INVOKE_STREAM, "my-endpoint",
                   "/endpoints/my-endpoint/invocations-response-stream",
                   __LINE__);
}


static void
check_host(aigw_service_e service, const char *region, const char *expected,
    int line)
{
    char    buf[128];
    size_t  n;

    memset(buf, 'x', sizeof(buf));
    n = aigw_target_default_host(buf, sizeof(buf), service, region,
                                 strlen(region));

    if (expected == NULL) {
        if (!CHECK_EQ_SIZE(n, 0)) {
            fprintf(stderr, "    (host at line %d)\n", line);
        }

        return;
    }

    if (!CHECK_EQ_SIZE(n, strlen(expected)) || !CHECK_STR(buf, expected)) {
        fprintf(stderr, "    (host at line %d)\n", line);
    }
}


static void
test_default_host(void)
{
    char    buf[64];
    size_t  n;

    check_host(AIGW_SERVICE_BEDROCK, "us-east-1",
               "bedrock-runtime.us-east-1.amazonaws.com", __LINE__);
    check_host(AIGW_SERVICE_BEDROCK, "eu-central-1",
               "bedrock-runtime.eu-central-1.amazonaws.com", __LINE__);
    check_host(AIGW_SERVICE_BEDROCK, "us-gov-west-1",
               "bedrock-runtime.us-gov-west-1.amazonaws.com", __LINE__);
    check_host(AIGW_SERVICE_BEDROCK, "cn-north-1",
               "bedrock-runtime.cn-north-1.amazonaws.com.cn", __LINE__);
    check_host(AIGW_SERVICE_SAGEMAKER, "eu-west-1",
               "runtime.sagemaker.eu-west-1.amazonaws.com", __LINE__);
    check_host(AIGW_SERVICE_SAGEMAKER, "cn-northwest-1",
               "runtime.sagemaker.cn-northwest-1.amazonaws.com.cn",
               __LINE__);

    check_host(AIGW_SERVICE_BEDROCK, "", NULL, __LINE__);
    check_host(AIGW_SERVICE_BEDROCK, "US-EAST-1", NULL, __LINE__);
    check_host(AIGW_SERVICE_BEDROCK, "us-east-1.evil.com", NULL, __LINE__);
    check_host(AIGW_SERVICE_BEDROCK, "us east", NULL, __LINE__);
    check_host(AIGW_SERVICE_BEDROCK, "us/east", NULL, __LINE__);
    check_host(AIGW_SERVICE_NONE, "us-east-1", NULL, __LINE__);

    /* capacity: the host and its NUL */

    n = aigw_target_default_host(buf, 40, AIGW_SERVICE_BEDROCK,
                                 S("us-east-1"));
    CHECK_EQ_SIZE(n, 39);
    CHECK_STR(buf, "bedrock-runtime.us-east-1.amazonaws.com");

    n = aigw_target_default_host(buf, 39, AIGW_SERVICE_BEDROCK,
                                 S("us-east-1"));
    CHECK_EQ_SIZE(n, 0);

    n = aigw_target_default_host(buf, 0, AIGW_SERVICE_BEDROCK,
                                 S("us-east-1"));
    CHECK_EQ_SIZE(n, 0);
}


int
main(void)
{
    test_ops();
    test_parse_path();
    test_bedrock_ids();
    test_check_id_direct();
    test_sagemaker_names();
    test_upstream_path();
    test_default_host();

    return unit_done("test_target");
}

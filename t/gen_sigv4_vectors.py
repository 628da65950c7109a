#!/usr/bin/python3
"""Generate SigV4 vectors for Bedrock and SageMaker Runtime with botocore.

botocore is an independent SigV4 implementation (the one the AWS CLI and
boto3 use): what it computes for the requests aigw sends upstream is the
reference that t/unit/test_sigv4.c checks aigw_sigv4_sign() against.

    /usr/bin/python3 t/gen_sigv4_vectors.py [OUT]

writes OUT (default: t/unit/sigv4_bedrock_vectors.json next to this
script).  The output is deterministic: t/test_sigv4_vectors.py re-runs the
generator and requires the committed file to be identical.
"""

import hashlib
import json
import os
import sys
from urllib.parse import quote

import botocore
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


AKID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TOKEN = ("IQoJb3JpZ2luX2VjEXAMPLE//////////wEaCXVzLWVhc3QtMSJHMEUCIQDEXAMPLE"
         "tokenvalue+with/slashes+and=padding==")

PREFIX = {"bedrock": "/model/", "sagemaker": "/endpoints/"}

# name, service, target (model ID or endpoint name, decoded), operation
# suffix, region, host (None: the default endpoint), token?, timestamp,
# body
CASES = [
    ("invoke-plain-model-id", "bedrock",
     "amazon.titan-text-express-v1", "invoke", "us-east-1", None, False,
     "20240307T101112Z",
     {"inputText": "Hello", "textGenerationConfig": {"maxTokenCount": 64}}),

    ("converse-model-id-with-colon", "bedrock",
     "anthropic.claude-3-haiku-20240307-v1:0", "converse", "us-east-1",
     None, False, "20240307T101112Z",
     {"messages": [{"role": "user", "content": [{"text": "Hi"}]}]}),

    ("converse-stream-session-token", "bedrock",
     "anthropic.claude-3-haiku-20240307-v1:0", "converse-stream",
     "us-west-2", None, True, "20250101T000000Z",
     {"messages": [{"role": "user",
                    "content": [{"text": "caf\u00e9 \u2603 \u4f60\u597d"}]}],
      "inferenceConfig": {"maxTokens": 256}}),

    ("invoke-stream-cross-region-us", "bedrock",
     "us.anthropic.claude-3-5-sonnet-20240620-v1:0",
     "invoke-with-response-stream", "us-east-1", None, False,
     "20241231T235959Z",
     {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 100,
      "messages": [{"role": "user", "content": "Tell me a joke"}]}),

    ("converse-cross-region-eu-token", "bedrock",
     "eu.anthropic.claude-3-haiku-20240307-v1:0", "converse",
     "eu-central-1", None, True, "20240615T120000Z",
     {"messages": [{"role": "user", "content": [{"text": "Guten Tag"}]}]}),

    ("count-tokens-apac-profile", "bedrock",
     "apac.anthropic.claude-3-5-sonnet-20241022-v2:0", "count-tokens",
     "ap-northeast-1", None, False, "20250220T081500Z",
     {"input": {"converse": {"messages": [
         {"role": "user", "content": [{"text": "count me"}]}]}}}),

    ("converse-inference-profile-arn", "bedrock",
     "arn:aws:bedrock:us-east-1:123456789012:inference-profile/"
     "us.anthropic.claude-3-haiku-20240307-v1:0", "converse", "us-east-1",
     None, True, "20240307T101112Z",
     {"messages": [{"role": "user", "content": [{"text": "profile"}]}]}),

    ("invoke-application-inference-profile-arn", "bedrock",
     "arn:aws:bedrock:us-east-1:123456789012:"
     "application-inference-profile/abcd1234efgh", "invoke", "us-east-1",
     None, False, "20240901T000001Z",
     {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 10,
      "messages": [{"role": "user", "content": "tagged"}]}),

    ("converse-stream-application-inference-profile-arn", "bedrock",
     "arn:aws:bedrock:eu-west-1:210987654321:"
     "application-inference-profile/x9y8z7w6v5u4", "converse-stream",
     "eu-west-1", None, True, "20241105T171819Z",
     {"messages": [{"role": "user", "content": [{"text": "stream"}]}]}),

    ("invoke-provisioned-model-arn", "bedrock",
     "arn:aws:bedrock:us-west-2:123456789012:provisioned-model/a1b2c3d4e5f6",
     "invoke", "us-west-2", None, False, "20230930T235959Z",
     {"prompt": "\n\nHuman: hi\n\nAssistant:", "max_tokens_to_sample": 50}),

    ("invoke-foundation-model-arn", "bedrock",
     "arn:aws:bedrock:us-east-1::foundation-model/"
     "meta.llama3-8b-instruct-v1:0", "invoke", "us-east-1", None, False,
     "20240420T040404Z",
     {"prompt": "<|begin_of_text|>hello", "max_gen_len": 32}),

    ("invoke-custom-model-arn-two-segments", "bedrock",
     "arn:aws:bedrock:us-east-1:123456789012:custom-model/"
     "amazon.titan-text-express-v1:0:8k/abc123def456", "invoke",
     "us-east-1", None, True, "20240708T090909Z",
     {"inputText": "custom"}),

    ("converse-localhost-port", "bedrock",
     "anthropic.claude-v2:1:18k", "converse", "us-east-1",
     "localhost:8443", False, "20240307T101112Z",
     {"messages": [{"role": "user", "content": [{"text": "port"}]}]}),

    ("converse-cn-region", "bedrock",
     "amazon.nova-lite-v1:0", "converse", "cn-north-1", None, True,
     "20250303T030303Z",
     {"messages": [{"role": "user", "content": [{"text": "ni hao"}]}]}),

    ("sagemaker-invocations", "sagemaker",
     "my-llm-endpoint-1", "invocations", "eu-west-1", None, False,
     "20240307T101112Z",
     {"inputs": "What is SigV4?", "parameters": {"max_new_tokens": 64}}),

    ("sagemaker-invocations-response-stream-token", "sagemaker",
     "tgi-endpoint", "invocations-response-stream", "us-east-1", None, True,
     "20241010T101010Z",
     {"inputs": "stream please", "parameters": {"max_new_tokens": 16},
      "stream": True}),
]


def default_host(service, region):
    suffix = "amazonaws.com.cn" if region.startswith("cn-") \
        else "amazonaws.com"
    if service == "bedrock":
        return f"bedrock-runtime.{region}.{suffix}"
    return f"runtime.sagemaker.{region}.{suffix}"


def vector(case):
    (name, service, target, op, region, host, with_token, timestamp,
     body) = case

    host = host or default_host(service, region)
    path = PREFIX[service] + quote(target, safe="") + "/" + op
    body = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
    raw = body.encode("utf-8")
    payload_hash = hashlib.sha256(raw).hexdigest()
    token = TOKEN if with_token else None

    headers = {"X-Amz-Date": timestamp,
               "X-Amz-Content-SHA256": payload_hash}
    if token:
        headers["X-Amz-Security-Token"] = token

    request = AWSRequest(method="POST", url=f"https://{host}{path}",
                         data=raw, headers=headers)
    request.context["timestamp"] = timestamp

    signer = SigV4Auth(Credentials(AKID, SECRET, token), service, region)

    # add_auth() would take the time from the clock: the lower-level
    # methods it calls, with the timestamp fixed
    canonical_request = signer.canonical_request(request)
    string_to_sign = signer.string_to_sign(request, canonical_request)
    signature = signer.signature(string_to_sign, request)
    signer._inject_signature_to_request(request, signature)

    signed_host = signer.headers_to_sign(request)["host"]
    assert signed_host == host, (signed_host, host)

    return {
        "name": name,
        "method": "POST",
        "service": service,
        "target": target,
        "operation": op,
        "path": path,
        "host": host,
        "region": region,
        "access_key": AKID,
        "secret_key": SECRET,
        "token": token,
        "timestamp": timestamp,
        "body": body,
        "payload_hash": payload_hash,
        "canonical_request": canonical_request,
        "string_to_sign": string_to_sign,
        "signature": signature,
        "authorization": request.headers["Authorization"],
    }


def generate():
    doc = {
        "generator": "t/gen_sigv4_vectors.py",
        "botocore": botocore.__version__,
        "vectors": [vector(c) for c in CASES],
    }
    return json.dumps(doc, indent=1, ensure_ascii=True, sort_keys=False) \
        + "\n"


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else \
        os.path.join(here, "unit", "sigv4_bedrock_vectors.json")

    text = generate()
    tmp = out + ".tmp"
    with open(tmp, "w", encoding="ascii") as f:
        f.write(text)
    os.replace(tmp, out)


if __name__ == "__main__":
    main()

"""
Requests the gateway must refuse itself, in Bedrock's error shape, without
the upstream ever seeing them.
"""

import pytest

import helpers as h

BODY = b'{"messages":[{"role":"user","content":[{"text":"hi"}]}]}'
ARN_RAW = ("arn:aws:bedrock:us-east-1:123456789012:inference-profile/"
           "us.anthropic.claude-3-haiku-20240307-v1:0")

BAD_REQUESTS = [
    ("dotdot-slash", "/model/..%2Fx/invoke"),
    ("dotdot-slash-2", "/model/x%2F..%2F..%2Fy/invoke"),
    ("dotdot", "/model/anthropic..claude-v2/invoke"),
    ("dotdot-only", "/model/..%2Fendpoints%2Fx/invocations"),
    ("unencoded-arn", "/model/%s/converse" % ARN_RAW),
    ("extra-segment", "/model/amazon.titan-text-express-v1/x/invoke"),
    ("crlf", "/model/amazon.titan-text-express-v1%0D%0AX-Evil:%201/invoke"),
    ("cr", "/model/amazon.titan-text-express-v1%0Dx/invoke"),
    ("lf", "/model/amazon.titan-text-express-v1%0Ax/invoke"),
    ("too-long", "/model/amazon.%s/invoke" % ("a" * 2048)),
    ("too-long-encoded", "/model/amazon.%s/invoke" % ("%61" * 2048)),
    ("double-encoded", "/model/anthropic.claude-3-haiku-20240307-v1%253A0"
                       "/invoke"),
    ("encoded-slash-not-arn", "/model/amazon%2Ftitan/invoke"),
    ("unknown-op", "/model/x/foo"),
    ("unknown-op-2", "/model/anthropic.claude-3-haiku-20240307-v1%3A0/"
                     "invoke-model"),
    ("bedrock-op-on-sagemaker", "/endpoints/my-endpoint/converse"),
    ("sagemaker-op-on-bedrock", "/model/amazon.titan-text-express-v1/"
                                "invocations"),
    ("sagemaker-unknown-op", "/endpoints/my-endpoint/foo"),
    ("sagemaker-dotdot", "/endpoints/..%2Fx/invocations"),
    ("sagemaker-name-too-long", "/endpoints/%s/invocations" % ("a" * 64)),
    ("sagemaker-bad-char", "/endpoints/my_endpoint/invocations"),
    ("sagemaker-crlf", "/endpoints/my-endpoint%0D%0Ax/invocations"),
]


def assert_aws_error(r, status, error_type=None):
    assert r.status == status, r
    assert r.header("Content-Type", "").startswith("application/json"), r
    body = r.json()
    assert isinstance(body.get("message"), str) and body["message"], body
    etype = r.header("x-amzn-ErrorType")
    assert etype, r.headers
    if error_type:
        assert etype.split(":")[0] == error_type


@pytest.mark.parametrize("path", [pytest.param(p, id=i)
                                  for i, p in BAD_REQUESTS])
def test_bad_target_400(gw, mock, path):
    r = h.post(gw.port, path, BODY, [("Content-Type", "application/json")])
    assert_aws_error(r, 400, "ValidationException")
    assert mock.requests() == []


@pytest.mark.parametrize("path", [
    "/model/amazon.titan-text-express-v1%00x/invoke",
    "/model/..%2F..%2Fx/invoke",
])
def test_refused_by_nginx_itself_400(gw, mock, path):
    """%00, or a path that decodes to above the root: nginx itself refuses
    them before it picks a location; a gateway server still answers in
    Bedrock's JSON shape, and nothing reaches the upstream."""
    r = h.post(gw.port, path, BODY)
    assert_aws_error(r, 400, "ValidationException")
    assert mock.requests() == []


@pytest.mark.parametrize("path", ["/foo", "/", "/models/x/invoke",
                                  "/endpoint/x/invocations", "/model-x/y/z",
                                  "/foo/bar/baz/invoke"])
def test_not_a_gateway_path_404(gw, mock, path):
    r = h.post(gw.port, path, BODY)
    assert_aws_error(r, 404)
    assert mock.requests() == []


def test_valid_ids_still_pass(gw, mock):
    """The neighbours of the refused IDs are accepted."""
    ok = [
        "/model/anthropic.claude-v2%3A1/invoke",
        "/model/amazon.%s/invoke" % ("a" * 2000),
        "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3A"
        "inference-profile%2Fus.anthropic.claude-3-haiku-20240307-v1%3A0/"
        "converse",
        "/endpoints/%s/invocations" % ("a" * 63),
        "/endpoints/my-endpoint-2/invocations",
    ]
    for path in ok:
        mock.reset()
        r = h.post(gw.port, path, BODY)
        assert r.status == 200, (path, r)
        [rec] = mock.requests()
        assert rec["sig_ok"], rec["sig_error"]
        assert rec["path"] == path

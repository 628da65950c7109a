"""
The gateway as a SigV4-signing proxy: real Bedrock captures (and their
synthetic stand-ins, which need no shared data) replayed with arbitrary
byte boundaries, request bodies in memory and in temp files, a
session token, header hygiene, streams event by event, SageMaker, HTTP/2.
"""

import base64
import json
import uuid

import pytest

import helpers as h
import mock_upstream as mu

HAIKU = "anthropic.claude-3-haiku-20240307-v1%3A0"
CONVERSE = "/model/%s/converse" % HAIKU
# raw bytes go to InvokeModel: the gateway reads a Converse body's JSON
INVOKE = "/model/%s/invoke" % HAIKU
CONVERSE_BODY = json.dumps({
    "messages": [{"role": "user", "content": [{"text": "Hello, Claude"}]}],
    "inferenceConfig": {"maxTokens": 64, "temperature": 0.5},
}).encode()
SIGNED = ["host", "x-amz-content-sha256", "x-amz-date"]
HOLD_WAIT = h.HOLD_WAIT


@pytest.fixture(scope="module")
def shared_gateway(launcher, mock_server, certs):
    """
    ports[0]: the standard gateway; ports[1]: the same with
    client_body_in_file_only (every body in a temp file); ports[2]: HTTP/2
    over TLS with the test certificate.
    """
    ports = [h.free_port() for _ in range(3)]
    conf = h.aigw_http(mock_server.url)
    conf += h.gateway_server(ports[0])
    conf += h.gateway_server(ports[1],
                             location_extra="client_body_in_file_only clean;")
    conf += h.gateway_server(
        ports[2], listen_extra=" ssl http2",
        server_extra="ssl_certificate %s; ssl_certificate_key %s;" % (
            certs["cert"], certs["key"]))
    from conftest import shared_nginx
    yield from shared_nginx(launcher, conf, ports)


def one_request(mock):
    recs = mock.requests()
    assert len(recs) == 1, "mock got %d requests: %r" % (
        len(recs), [(r["method"], r["path"]) for r in recs])
    return recs[0]


def assert_signed(rec, service="bedrock", akid=h.AKID, region=h.REGION,
                  signed=SIGNED):
    assert rec["sig_ok"], "signature rejected: %s\ncanonical request:\n%s" % (
        rec["sig_error"], rec["canonical_request"])
    assert rec["region"] == region
    assert rec["service"] == service
    assert rec["akid"] == akid
    assert rec["signed_headers"] == signed


def rec_headers(rec, name):
    return h.header_all(rec["headers"], name)


# --- captures ---------------------------------------------------------------

CHUNKINGS = ["random:1", "random:2", "random:3", "1", "none"]


def capture_params():
    names = h.capture_names()
    if not names:
        return [pytest.param(None, None, marks=pytest.mark.skip(
            reason=h.captures_missing()))]
    return [pytest.param(n, c, id="%s-%s" % (n, c))
            for n in names for c in CHUNKINGS]


def check_replayed(gw, mock, c, chunking):
    """Case c through the gateway: the status, the body byte for byte and
    AWS's headers come back; the mock got the request signed, its body
    and headers unchanged."""
    r = c.send(gw.port, chunking)

    assert r.status == c.status, r
    assert r.body == c.resp_body, "body differs: got %d bytes, want %d" % (
        len(r.body), len(c.resp_body))
    assert r.header("Content-Type") == c.resp_header("Content-Type")
    assert r.header("x-amzn-RequestId") == c.request_id
    for k, v in c.resp_headers:
        if k.lower().startswith(("x-amzn-bedrock-", "x-amzn-sagemaker-",
                                 "x-amzn-errortype")):
            assert r.header(k) == v, k

    rec = one_request(mock)
    assert_signed(rec, service=c.service)
    assert rec["method"] == c.method
    assert rec["path"] == c.path               # the wire form, query dropped
    assert rec["body_sha256"] == h.sha256_hex(c.body)
    assert rec["body_length"] == len(c.body)
    assert rec["host"] == "127.0.0.1:%d" % mock.port
    for k, v in c.headers:
        assert rec_headers(rec, k) == [v], k


@pytest.mark.parametrize("name,chunking", capture_params())
def test_capture_replayed_through_gateway(gw, mock, name, chunking):
    check_replayed(gw, mock, h.capture_case(name), chunking)


@pytest.mark.parametrize("chunking", CHUNKINGS)
@pytest.mark.parametrize("name", list(h.SYNTHETIC_REQUESTS))
def test_synthetic_replayed_through_gateway(gw, mock, name, chunking):
    """The captures' synthetic stand-ins (every operation, SageMaker,
    errors) at the same byte boundaries."""
    check_replayed(gw, mock, h.synthetic_case(name), chunking)


# --- the SDK-shaped request -------------------------------------------------

def test_sdk_shaped_converse(gw, mock):
    """What boto3's bedrock-runtime client sends for converse()."""
    client_sig = h.sign_headers(
        "POST", "127.0.0.1:%d" % gw.port, CONVERSE, CONVERSE_BODY,
        "AKIACLIENTSDK0000000", "client/secret", content_sha=False)
    headers = [("Content-Type", "application/json"),
               ("User-Agent", "Boto3/1.35.0 md/Botocore#1.35.0 ua/2.0 "
                "os/linux lang/python#3.11.2 cfg/retry-mode#legacy"),
               ("amz-sdk-invocation-id", str(uuid.uuid4())),
               ("amz-sdk-request", "attempt=1; max=3")] + [
        (k, v) for k, v in client_sig if k != "host"]
    r = h.post(gw.port, CONVERSE, CONVERSE_BODY, headers)
    assert r.status == 200, r
    assert r.json()["usage"]["inputTokens"] > 0
    assert r.header("x-mock-body-sha256") == h.sha256_hex(CONVERSE_BODY)

    rec = one_request(mock)
    assert_signed(rec)
    assert rec["path"] == CONVERSE
    assert rec["host"] == "127.0.0.1:%d" % mock.port
    assert rec["canonical_request"].split("\n")[1] == \
        "/model/anthropic.claude-3-haiku-20240307-v1%253A0/converse"
    assert rec_headers(rec, "content-type") == ["application/json"]
    assert base64.b64decode(rec["body_b64"]) == CONVERSE_BODY


@pytest.mark.parametrize("path", [
    "/model/us.anthropic.claude-3-5-haiku-20241022-v1%3A0/converse-stream",
    "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-"
    "profile%2Fus.anthropic.claude-3-haiku-20240307-v1%3A0/invoke",
    "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Aapplication-"
    "inference-profile%2Fabcd1234efgh/converse",
    "/model/amazon.titan-embed-text-v2%3A0/invoke",
    "/model/anthropic.claude-3-haiku-20240307-v1%3A0/count-tokens",
    "/model/meta.llama3-8b-instruct-v1%3A0/invoke-with-response-stream",
])
def test_paths_forwarded_in_wire_form(gw, mock, path):
    r = h.post(gw.port, path, CONVERSE_BODY,
               [("Content-Type", "application/json")])
    assert r.status == 200, r
    rec = one_request(mock)
    assert_signed(rec)
    assert rec["path"] == path


@pytest.mark.parametrize("sent,upstream", [
    ("/model/anthropic.claude-3-haiku-20240307-v1%3a0/converse", CONVERSE),
    ("/model/anthropic.claude-3-haiku-20240307-v1:0/converse", CONVERSE),
    ("/model/anthropic%2Eclaude-3-haiku-20240307-v1%3A0/converse", CONVERSE),
    ("/model/arn:aws:bedrock:us-east-1:123456789012:inference-profile%2F"
     "us.amazon.nova-lite-v1:0/invoke",
     "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-"
     "profile%2Fus.amazon.nova-lite-v1%3A0/invoke"),
])
def test_model_id_reencoded_canonically(gw, mock, sent, upstream):
    """The ID is decoded and encoded again the SDKs' way (":" as "%3A",
    "/" as "%2F", nothing else), whatever form the client used."""
    r = h.post(gw.port, sent, CONVERSE_BODY)
    assert r.status == 200, r
    rec = one_request(mock)
    assert_signed(rec)
    assert rec["path"] == upstream


def test_query_dropped(gw, mock):
    r = h.post(gw.port, CONVERSE + "?foo=bar&x-amz-date=1", CONVERSE_BODY)
    assert r.status == 200, r
    assert one_request(mock)["path"] == CONVERSE


# --- request bodies -----------------------------------------------------------

def body_of(size):
    seed = b"aigw-body-%d-" % size
    data = (seed * (size // len(seed) + 1))[:size]
    return data


TEMP_FILE_RE = r"a client request body is buffered to a temporary file"


@pytest.mark.parametrize("size,file_only", [
    (0, False), (1024, False), (1024 * 1024, False),
    (0, True), (1024, True), (1024 * 1024, True),
])
def test_request_body_hashed(gw, mock, size, file_only):
    port = gw.ports[1] if file_only else gw.ports[0]
    body = body_of(size)
    mark = gw.mark()
    r = h.post(port, INVOKE, body, [("Content-Type", "application/json")])
    assert r.status == 200, r
    assert r.header("x-mock-body-sha256") == h.sha256_hex(body)
    rec = one_request(mock)
    assert_signed(rec)
    assert rec["body_length"] == size
    assert rec["body_sha256"] == h.sha256_hex(body)
    if size and (file_only or size > 256 * 1024):
        # the body went through a temp file (client_body_buffer_size is
        # 256k in aigw_params; client_body_in_file_only forces it)
        level = "notice" if file_only else "warn"
        assert gw.wait_log(r"\[%s\].*%s" % (level, TEMP_FILE_RE), mark), \
            "no temp file message in error.log:\n" + gw.error_log_since(mark)


def test_request_body_20mb(gw, mock):
    body = bytes(range(251)) * (20 * 1024 * 1024 // 251)
    mark = gw.mark()
    r = h.post(gw.port, INVOKE, body, [("Content-Type", "application/json")],
               timeout=120)
    assert r.status == 200, r
    rec = one_request(mock)
    assert_signed(rec)
    assert rec["body_length"] == len(body)
    assert rec["body_sha256"] == h.sha256_hex(body)
    assert gw.wait_log(TEMP_FILE_RE, mark)


def test_request_body_over_25m_rejected(gw, mock):
    """client_max_body_size 25m from aigw_params: nginx answers 413 from
    the Content-Length alone."""
    gw.allow = [r"client intended to send too large body"]
    # no key needed: nginx refuses this before the access phase
    conn, r = h.open_request(gw.port, "POST", CONVERSE, [
        ("Content-Length", str(25 * 1024 * 1024 + 1))], b"", api_key=None)
    try:
        body = r.read()
        assert r.status == 413
    finally:
        conn.close()
    # the gateway's errors are JSON in Bedrock's shape (SPEC: 413)
    assert r.getheader("Content-Type", "").startswith("application/json")
    assert r.getheader("x-amzn-ErrorType")
    assert json.loads(body)["message"]
    assert mock.requests() == []


# --- credentials ----------------------------------------------------------------

def test_session_token(gateway, mock):
    n = gateway(credentials="static %s %s %s" % (
        h.TEMP_AKID, h.TEMP_SECRET, h.TEMP_TOKEN))
    r = h.post(n.port, CONVERSE, CONVERSE_BODY)
    assert r.status == 200, r
    rec = one_request(mock)
    assert_signed(rec, akid=h.TEMP_AKID, signed=[
        "host", "x-amz-content-sha256", "x-amz-date", "x-amz-security-token"])
    assert rec_headers(rec, "x-amz-security-token") == [h.TEMP_TOKEN]


def test_wrong_secret_is_what_the_mock_rejects(gateway, mock):
    """Proves the mock really verifies what nginx sends: a gateway with a
    secret the mock does not know gets AWS's 403 passed through."""
    n = gateway(credentials="static %s %s" % (h.AKID, h.SECRET + "X"))
    r = h.post(n.port, CONVERSE, CONVERSE_BODY)
    assert r.status == 403
    assert r.header("x-amzn-ErrorType") == "InvalidSignatureException"
    assert not one_request(mock)["sig_ok"]


# --- header hygiene -------------------------------------------------------------

CLIENT_AUTH = ("AWS4-HMAC-SHA256 Credential=AKIACLIENT00000000000/20200101/"
               "us-east-1/bedrock/aws4_request, SignedHeaders=host;x-amz-date,"
               " Signature=" + "0" * 64)
DROPPED = [
    ("Authorization", CLIENT_AUTH),
    ("X-Amz-Date", "20200101T000000Z"),
    ("X-Amz-Security-Token", "client-session-token"),
    ("X-Amz-User-Agent", "aws-sdk-js/3.0.0"),
    ("X-Amz-Target", "BedrockRuntime.Converse"),
    ("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD"),
    ("x-amz-client-context", "e30="),
    # the SageMaker-SDK case: the key in x-api-key wins, the SDK's SigV4
    # Authorization above is dropped
    h.KEY_HEADER,
]
KEPT = [
    ("Content-Type", "application/json"),
    ("Accept", "application/json"),
    ("X-Amzn-Bedrock-Trace", "ENABLED"),
    ("X-Amzn-Bedrock-GuardrailIdentifier", "5zwrmdlsra2e"),
    ("X-Amzn-SageMaker-Custom-Attributes", "trace=1;tenant=a b"),
    ("X-Custom", "hello, world"),
]


@pytest.mark.parametrize("path,service", [
    (CONVERSE, "bedrock"),
    ("/endpoints/my-endpoint/invocations", "sagemaker"),
])
def test_header_hygiene(gw, mock, path, service):
    r = h.post(gw.port, path, CONVERSE_BODY, DROPPED + KEPT)
    assert r.status == 200, r
    rec = one_request(mock)
    assert_signed(rec, service=service)
    names = [k.lower() for k, _ in rec["headers"]]
    # the module's own signed headers, once each, with its values
    for name in ("authorization", "x-amz-date", "x-amz-content-sha256"):
        assert names.count(name) == 1, (name, rec["headers"])
    assert h.AKID in rec_headers(rec, "authorization")[0]
    assert rec_headers(rec, "x-amz-date")[0] != "20200101T000000Z"
    assert rec_headers(rec, "x-amz-content-sha256") == [
        h.sha256_hex(CONVERSE_BODY)]
    for name in ("x-amz-security-token", "x-amz-user-agent", "x-amz-target",
                 "x-amz-client-context", "x-api-key"):
        assert name not in names, (name, rec["headers"])
    for k, v in KEPT:
        assert rec_headers(rec, k) == [v], (k, rec["headers"])
    assert h.key_secret(h.API_KEY) not in json.dumps(rec["headers"])
    assert "AKIACLIENT" not in json.dumps(rec["headers"])


def test_bearer_authorization_replaced(gw, mock):
    r = h.post(gw.port, CONVERSE, CONVERSE_BODY,
               [("Authorization", "Bearer " + h.API_KEY)])
    assert r.status == 200, r
    rec = one_request(mock)
    assert_signed(rec)
    assert "Bearer" not in rec_headers(rec, "authorization")[0]
    assert h.key_secret(h.API_KEY) not in json.dumps(rec["headers"])


def test_error_passed_through(gw, mock):
    r = h.post(gw.port, CONVERSE, CONVERSE_BODY, [("X-Mock-Status", "429")])
    assert r.status == 429
    assert r.header("x-amzn-ErrorType") == "ThrottlingException"
    assert "message" in r.json()
    assert_signed(one_request(mock))


# --- streams --------------------------------------------------------------------

@pytest.mark.parametrize("capture", h.pick(
    ["test_anthropic_3_completion_streaming", "test_nova_converse_stream"],
    ["anthropic-stream", "converse-stream-guardrail"]))
def test_stream_event_reaches_client_before_the_rest(gw, mock, capture):
    c = h.case(capture)
    first = mu.eventstream_split(c.resp_body)[0]
    token = uuid.uuid4().hex
    headers = c.request_headers("events", [("X-Mock-Hold", token)])
    conn, r = h.open_request(gw.port, "POST", c.path, headers, c.body,
                             timeout=HOLD_WAIT * 0.6)
    try:
        assert r.status == 200
        got = r.read(len(first))
        assert got == first
        # the mock is still holding the rest back: the event came through
        # nginx on its own
        assert one_request(mock)["hold"] is None
        mock.release(token)
        rest = r.read()
    finally:
        conn.close()
    assert first + rest == c.resp_body
    assert one_request(mock)["hold"] == {"token": token, "released": True}


def test_sagemaker_stream_event_by_event(gw, mock):
    path = "/endpoints/my-llm-endpoint/invocations-response-stream"
    token = uuid.uuid4().hex
    conn, r = h.open_request(gw.port, "POST", path, [
        ("Content-Type", "application/json"),
        ("X-Amzn-SageMaker-Accept", "application/json"),
        ("X-Mock-Hold", token)], b'{"inputs": "hi", "stream": true}',
        timeout=HOLD_WAIT * 0.6)
    try:
        assert r.status == 200
        assert r.getheader("Content-Type") == \
            "application/vnd.amazon.eventstream"
        _, _, expected = mu.default_response(
            "sagemaker", "invocations-response-stream", "my-llm-endpoint", 0)
        first = mu.eventstream_split(expected)[0]
        assert r.read(len(first)) == first
        assert one_request(mock)["hold"] is None
        mock.release(token)
        rest = r.read()
    finally:
        conn.close()
    assert first + rest == expected
    rec = one_request(mock)
    assert_signed(rec, service="sagemaker")
    assert rec["path"] == path


# --- SageMaker ------------------------------------------------------------------

def test_sagemaker_invocations(gw, mock):
    path = "/endpoints/my-endpoint/invocations"
    body = b'{"inputs": "Hello", "parameters": {"max_new_tokens": 16}}'
    r = h.post(gw.port, path, body, [
        ("Content-Type", "application/json"), ("Accept", "application/json"),
        ("X-Amzn-SageMaker-Custom-Attributes", "c000b4f9-df62")])
    assert r.status == 200, r
    assert r.json()["endpoint"] == "my-endpoint"
    rec = one_request(mock)
    assert_signed(rec, service="sagemaker")
    assert rec["path"] == path
    assert rec["host"] == "127.0.0.1:%d" % mock.port
    assert rec["body_sha256"] == h.sha256_hex(body)
    assert rec_headers(rec, "X-Amzn-SageMaker-Custom-Attributes") == [
        "c000b4f9-df62"]


def test_sagemaker_with_botocore_client(gw, mock):
    """botocore's own sagemaker-runtime client pointed at the gateway: its
    signature is replaced, the response parses."""
    import botocore.session
    s = botocore.session.get_session()
    client = s.create_client(
        "sagemaker-runtime", region_name="us-east-1",
        endpoint_url="http://127.0.0.1:%d" % gw.port,
        aws_access_key_id="AKIACLIENTSDK0000000",
        aws_secret_access_key="client/secret")

    def add_key(request, **kw):
        request.headers["x-api-key"] = h.API_KEY
    client.meta.events.register("before-sign.sagemaker-runtime.*", add_key)
    out = client.invoke_endpoint(EndpointName="my-endpoint",
                                 Body=b'{"inputs": "hi"}',
                                 ContentType="application/json",
                                 CustomAttributes="x=1")
    assert json.loads(out["Body"].read())["endpoint"] == "my-endpoint"
    rec = one_request(mock)
    assert_signed(rec, service="sagemaker")
    assert rec["path"] == "/endpoints/my-endpoint/invocations"
    assert "AKIACLIENTSDK" not in json.dumps(rec["headers"])
    assert h.key_secret(h.API_KEY) not in json.dumps(rec["headers"])


# --- HTTP/2 ---------------------------------------------------------------------

@pytest.mark.parametrize("size", [len(CONVERSE_BODY), 300 * 1024])
def test_http2_client(gw, mock, certs, tmp_path, size):
    body = CONVERSE_BODY if size == len(CONVERSE_BODY) else body_of(size)
    path = CONVERSE if body == CONVERSE_BODY else INVOKE
    r = h.curl("https://localhost:%d%s" % (gw.ports[2], path), tmp_path,
               headers=[("Content-Type", "application/json")], body=body,
               cacert=certs["ca"])
    assert r.http_version == "2"
    assert r.status == 200, r
    assert r.header("x-mock-body-sha256") == h.sha256_hex(body)
    rec = one_request(mock)
    assert_signed(rec)
    assert rec["path"] == path
    assert rec["body_sha256"] == h.sha256_hex(body)
    assert rec["body_length"] == len(body)


@pytest.mark.parametrize("auth", ["bearer", "none"])
def test_http2_bearer_key(gw, mock, certs, tmp_path, auth):
    """What a recent AWS SDK sends with AWS_BEARER_TOKEN_BEDROCK: HTTP/2
    over TLS, the key as "Authorization: Bearer"; without a key, 401."""
    headers = [("Content-Type", "application/json")]
    if auth == "bearer":
        headers.append(("Authorization", "Bearer " + h.API_KEY))
    r = h.curl("https://localhost:%d%s" % (gw.ports[2], CONVERSE), tmp_path,
               headers=headers, body=CONVERSE_BODY, cacert=certs["ca"],
               api_key=None)
    assert r.http_version == "2"
    if auth == "none":
        assert r.status == 401, r
        assert r.header("x-amzn-ErrorType") == "UnrecognizedClientException"
        assert r.json()["message"]
        assert mock.requests() == []
        return
    assert r.status == 200, r
    rec = one_request(mock)
    assert_signed(rec)
    assert h.key_secret(h.API_KEY) not in json.dumps(rec["headers"])


def test_http2_body_without_content_length(gw, mock, certs, tmp_path):
    """An HTTP/2 request body of unknown length (no content-length, DATA
    frames until END_STREAM): read whole, hashed, sent with its length."""
    body = body_of(200 * 1024 + 7)
    r = h.curl("https://localhost:%d%s" % (gw.ports[2], INVOKE), tmp_path,
               headers=[("Content-Type", "application/json")], body=body,
               cacert=certs["ca"], unknown_length=True)
    assert r.http_version == "2"
    assert r.status == 200, r
    rec = one_request(mock)
    assert_signed(rec)
    assert rec["body_sha256"] == h.sha256_hex(body)
    assert h.header_all(rec["headers"], "content-length") == [str(len(body))]


def test_http2_stream_response(gw, mock, certs, tmp_path):
    c = h.case_for("test_titan_converse_stream", "converse-stream")
    r = h.curl("https://localhost:%d%s" % (gw.ports[2], c.path),
               tmp_path, headers=c.request_headers("random:9"),
               body=c.body, cacert=certs["ca"])
    assert r.http_version == "2"
    assert r.status == 200
    assert r.body == c.resp_body
    assert_signed(one_request(mock))

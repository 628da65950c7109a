"""
Exact token usage, as the access log shows it ($aigw_input_tokens, ...,
$aigw_usage_source, $aigw_upstream_request_id, $aigw_error_type,
$aigw_ttft_ms, $aigw_images): every recorded Bedrock capture, and every
synthetic stand-in of them (helpers.synthetic_cases(), which need no
shared data), at arbitrary upstream byte boundaries, the shipped JSON log
format, synthetic SageMaker responses (OpenAI-style and TGI, JSON and
server-sent events split across PayloadParts), exceptions mid-stream,
AWS error shapes, streams cut by the client and by the upstream, image
models, and time to first token.

The 50 MB stream and its memory are in test_usage_memory.py.
"""

import http.client
import json
import socket
import time
import uuid

import pytest

import helpers as h
import mock_synthetic as ms
import mock_upstream as mu
from conftest import shared_nginx, skip_without_module, stop_and_check

HAIKU = "anthropic.claude-3-haiku-20240307-v1%3A0"
INVOKE_STREAM = "/model/%s/invoke-with-response-stream" % HAIKU
CONVERSE_STREAM = "/model/%s/converse-stream" % HAIKU
CONVERSE = "/model/%s/converse" % HAIKU
INVOKE = "/model/%s/invoke" % HAIKU
CONVERSE_BODY = json.dumps({"messages": [
    {"role": "user", "content": [{"text": "Hello"}]}]}).encode()
ANTHROPIC_BODY = json.dumps({
    "anthropic_version": "bedrock-2023-05-31", "max_tokens": 64,
    "messages": [{"role": "user", "content": "Hello"}]}).encode()

TOKENS = ("input_tokens", "output_tokens", "cache_read_input_tokens",
          "cache_write_input_tokens")
ZERO = dict.fromkeys(TOKENS, 0)

# $aigw_usage_source of a complete answer, by the path's operation
SOURCE = {"invoke": "header", "converse": "body",
          "invoke-with-response-stream": "stream",
          "converse-stream": "stream", "invocations": "body",
          "invocations-response-stream": "stream"}
STREAMING = ("invoke-with-response-stream", "converse-stream",
             "invocations-response-stream")

# SageMaker endpoints, one per usage format (the path names the target)
CATALOG = """
aigw_model sm-openai sagemaker ep-openai usage=openai;
aigw_model sm-tgi    sagemaker ep-tgi    usage=tgi;
aigw_model sm-auto   sagemaker ep-auto   usage=auto;
aigw_model sm-none   sagemaker ep-none   usage=none;
aigw_model sm-plain  sagemaker ep-plain;
"""


@pytest.fixture(scope="module")
def usage_gateway(launcher, mock_server):
    port = h.free_port()
    conf = h.aigw_http(mock_server.url, extra=CATALOG) + h.gateway_server(port)
    yield from shared_nginx(launcher, conf, [port])


@pytest.fixture
def ugw(usage_gateway, mock):
    """The module's gateway for one test; fails on bad error.log lines."""
    n = usage_gateway
    if not n.running():
        pytest.fail("the shared nginx is not running any more:\n" +
                    n.read_error_log()[-3000:], pytrace=False)
    mark = n.mark()
    n.allow = []
    yield n
    bad = n.bad_log_lines(mark)
    n.checked = n.mark()
    if bad:
        pytest.fail("error.log:\n  " + "\n  ".join(bad[:20]), pytrace=False)


# --- helpers -----------------------------------------------------------------

def tokens(entry, prefix="aigw_"):
    """The four token counts of an access log entry, as integers."""
    out = {}
    for k in TOKENS:
        v = entry[prefix + k]
        assert v.isdigit(), "%s is %r, not an integer: %r" % (k, v, entry)
        out[k] = int(v)
    return out


def expected_tokens(usage):
    return {k: usage[k] for k in TOKENS}


def op_of(path):
    return path.rsplit("/", 1)[1]


def request(n, path, body=b"{}", headers=(), **kw):
    """A request with a fresh X-Test-Id: (response, its access log entry)."""
    tid = uuid.uuid4().hex
    r = h.post(n.port, path, body, list(headers) + [("X-Test-Id", tid)], **kw)
    return r, n.wait_entry(tid)


def read_some(resp, count):
    """Reads up to count bytes of a response (fewer if it ends)."""
    data = b""
    while len(data) < count:
        piece = resp.read(count - len(data))
        if not piece:
            break
        data += piece
    return data


def ttft_check(entry, streaming):
    """$aigw_ttft_ms: an integer no later than the request's end for a
    streaming operation, empty otherwise."""
    if not streaming:
        assert entry["aigw_ttft_ms"] == "", entry
        return None
    ttft = entry["aigw_ttft_ms"]
    assert ttft.isdigit(), entry
    # $request_time has millisecond resolution: ttft <= it, +1 for rounding
    assert int(ttft) <= float(entry["request_time"]) * 1000 + 1, entry
    return int(ttft)


# --- every capture, exactly --------------------------------------------------

CAPTURE_CHUNKINGS = ["random:41", "random:42:7", "random:43:300", "1", "none"]


def capture_params(chunkings):
    names = h.capture_names()
    if not names:
        return [pytest.param(None, None, marks=pytest.mark.skip(
            reason=h.captures_missing()))]
    return [pytest.param(n, c, id="%s-%s" % (n, c))
            for n in names for c in chunkings]


def expected_usage(name):
    return h.case(name).usage


def send_case(n, c, chunking, extra=()):
    """Sends Case c with a fresh X-Test-Id: (response, test id)."""
    tid = uuid.uuid4().hex
    r = c.send(n.port, chunking, list(extra) + [("X-Test-Id", tid)])
    return r, tid


def send_capture(n, name, chunking, extra=()):
    req, resp, body = h.load_capture(name)
    headers = list(req["headers"].items()) + [
        ("X-Mock-Capture", name), ("X-Mock-Chunking", chunking)] + list(extra)
    tid = uuid.uuid4().hex
    r = h.http_request(n.port, req["method"], req["path"],
                       headers + [("X-Test-Id", tid)], req["body"].encode())
    return req, resp, body, r, tid


@pytest.mark.parametrize("name,chunking", capture_params(CAPTURE_CHUNKINGS))
def test_capture_metered_exactly(ugw, mock, name, chunking):
    req, resp, body, r, tid = send_capture(ugw, name, chunking)
    assert r.status == resp["status"], r
    assert r.body == body, "body differs: got %d bytes, want %d" % (
        len(r.body), len(body))
    e = ugw.wait_entry(tid)
    assert tokens(e) == expected_usage(name), e
    op = op_of(req["path"])
    assert e["aigw_usage_source"] == SOURCE[op], e
    assert e["aigw_upstream_request_id"] == resp["headers"]["x-amzn-RequestId"]
    assert e["aigw_error_type"] == ""
    assert e["aigw_images"] == "0"
    assert e["aigw_cost"] == ""
    ttft_check(e, op in STREAMING)


@pytest.mark.parametrize("chunking", CAPTURE_CHUNKINGS)
@pytest.mark.parametrize("name", list(h.SYNTHETIC_REQUESTS))
def test_synthetic_metered_exactly(ugw, mock, name, chunking):
    """
    The captures' synthetic stand-ins (every operation, cache reads and
    writes, SageMaker, an exception mid-stream, error statuses) at the
    same byte boundaries: the body passes byte for byte, the usage, its
    source, the request id and the error type are exact.
    """
    c = h.synthetic_case(name)
    r, tid = send_case(ugw, c, chunking)
    assert r.status == c.status, r
    assert r.body == c.resp_body, "body differs: got %d bytes, want %d" % (
        len(r.body), len(c.resp_body))
    e = ugw.wait_entry(tid)
    assert tokens(e) == c.usage, e
    assert e["aigw_usage_source"] == c.source, e
    assert e["aigw_upstream_request_id"] == c.request_id, e
    assert e["aigw_error_type"] == c.error_type, e
    assert e["aigw_images"] == "0"
    assert e["aigw_cost"] == ""
    ttft_check(e, c.streaming)


TOKEN_HEADERS = ",".join("X-Amzn-Bedrock-%s-Token-Count" % k for k in (
    "Input", "Output", "Cache-Read-Input", "Cache-Write-Input"))

# InvokeModel bodies without the token headers: the model family's own
# counts, where the body has them (None: the capture's expected usage)
BODY_FALLBACK = {
    "test_ai21_j2_completion_string_content": None,    # tokens[] counted
    "test_anthropic_3_completion_complex_content": None,
    "test_anthropic_3_completion_string_content": None,
    "test_guardrail_invoke": None,              # Titan, counts as floats
    "test_imported_model_completion": None,     # OpenAI-style usage
    "test_invoke_model_metrics": None,
    "test_meta_llama2_completion_string_content": None,
    "test_meta_llama3_completion": None,
    "test_nova_cross_region_invoke": None,
    "test_prompt_cache": None,                  # cache_creation_input_tokens
    "test_prompt_cache-1": None,
    "test_titan_completion": None,
    # the guardrail rewrote the output: the body has inputTokens only
    "test_nova_completion": {"input_tokens": 30, "output_tokens": 0,
                             "cache_read_input_tokens": 0,
                             "cache_write_input_tokens": 0},
    # no counts in these bodies at all
    "test_anthropic_2_completion": ZERO,
    "test_cohere_completion": ZERO,
}

# the same of the synthetic InvokeModel answers (None: their usage)
SYNTHETIC_BODY_FALLBACK = {
    "invoke-anthropic-cache-write": None,       # cache_creation_input_tokens
    "invoke-anthropic-cache-read": None,        # cache_read_input_tokens
    "invoke-titan": None,
    "invoke-llama": None,
    "invoke-nova": None,                        # cacheReadInputTokenCount
    "invoke-openai": None,                      # OpenAI-style usage
    "invoke-claude-v2": ZERO,                   # no counts in the body
}


def body_fallback_params(chunkings=("random:61:13", "1")):
    """The captures' (one skip without them), then the synthetic ones."""
    if h.have_captures():
        out = [pytest.param(n, c, id="%s-%s" % (c, n))
               for n in sorted(BODY_FALLBACK) for c in chunkings]
    else:
        out = [pytest.param(None, None, id="captures", marks=pytest.mark.skip(
            reason=h.captures_missing()))]
    return out + [pytest.param(n, c, id="%s-%s" % (c, n))
                  for n in sorted(SYNTHETIC_BODY_FALLBACK) for c in chunkings]


@pytest.mark.parametrize("name,chunking", body_fallback_params())
def test_invoke_without_token_headers(ugw, mock, name, chunking):
    """
    An InvokeModel answer without the X-Amzn-Bedrock-*-Token-Count headers
    is metered from the body: Anthropic, Nova, Titan, Llama, AI21, the
    OpenAI-style usage; "usage" objects inside a guardrail trace are not
    token counts.  A body without counts is "none".
    """
    c = h.case(name)
    r, tid = send_case(ugw, c, chunking,
                       [("X-Mock-Drop-Headers", TOKEN_HEADERS)])
    assert c.operation == "invoke"
    assert (r.status, r.body) == (200, c.resp_body)
    assert r.header("X-Amzn-Bedrock-Input-Token-Count") is None
    e = ugw.wait_entry(tid)
    want = (BODY_FALLBACK if c.kind == "capture" else
            SYNTHETIC_BODY_FALLBACK)[name] or c.usage
    assert tokens(e) == want, e
    assert e["aigw_usage_source"] == ("none" if want == ZERO else "body"), e


def test_invoke_captures_all_in_body_fallback():
    """Every InvokeModel capture (and synthetic answer) has its line in
    BODY_FALLBACK (SYNTHETIC_BODY_FALLBACK)."""
    invokes = [n for n in h.capture_names()
               if op_of(h.load_capture(n)[0]["path"]) == "invoke"]
    assert sorted(invokes) == sorted(BODY_FALLBACK) or not invokes
    assert sorted(n for n in h.SYNTHETIC_REQUESTS
                  if h.synthetic_case(n).operation == "invoke" and
                  h.synthetic_case(n).status == 200) == \
        sorted(SYNTHETIC_BODY_FALLBACK)


# --- the shipped log format --------------------------------------------------

SHIPPED_LOG_FORMAT = h.REPO / "conf-examples" / "aigw_log_format"


class ShippedLogNginx(h.Nginx):
    """nginx whose only access log is conf-examples/aigw_log_format's
    aigw_json, included as the README says."""

    def config_text(self, http_conf, main_extra=""):
        text = super().config_text(http_conf, main_extra)
        assert h.LOG_FORMAT in text
        return text.replace(h.LOG_FORMAT,
                            "include %s;" % SHIPPED_LOG_FORMAT)


@pytest.fixture
def shipped_log_gateway(launcher, mock):
    skip_without_module()
    port = h.free_port()
    launcher.count += 1
    prefix = launcher.tmp.mktemp("shippedlog%d" % launcher.count,
                                 numbered=False)
    n = ShippedLogNginx(prefix, h.aigw_http(mock.url, extra=CATALOG) +
                        h.gateway_server(port), [port], valgrind=h.VALGRIND)
    launcher.instances.append(n)
    n.start()
    yield n
    problems = stop_and_check(n)
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


SHIPPED_KEYS = {
    "time", "request_id", "remote_addr", "method", "uri", "status",
    "request_time", "bytes_sent", "request_length", "tenant", "project",
    "department", "key_id", "service", "operation", "model", "upstream",
    "upstream_status", "upstream_request_id", "input_tokens",
    "output_tokens", "cache_read_input_tokens", "cache_write_input_tokens",
    "images", "cost_usd", "usage_source", "error_type", "ttft_ms"}


def test_shipped_log_format(shipped_log_gateway, mock):
    """
    Every capture (without the shared data: every synthetic stand-in) at
    random boundaries, then a gateway error (no key), a stream exception
    and a SageMaker stream, through nginx logging with the shipped
    aigw_json: each line is one JSON object of strings with the documented
    keys, and carries the exact usage.
    """
    n = shipped_log_gateway
    want = []
    for i, c in enumerate(h.responses()):
        r, _ = send_case(n, c, "random:%d" % (100 + i))
        assert (r.status, r.body) == (c.status, c.resp_body), c.name
        want.append((c.name, c.usage, c.source, c.request_id, c.error_type,
                     c.status))
    r = h.post(n.port, CONVERSE, CONVERSE_BODY, api_key=None)
    assert r.status == 401
    want.append(("no key", None, None, "", "UnrecognizedClientException",
                 401))
    for syn, path in (("anthropic-stream-throttled", INVOKE_STREAM),
                      ("sm-openai-stream",
                       "/endpoints/ep-auto/invocations-response-stream")):
        s = ms.build(syn)
        r = h.post(n.port, path, b"{}", [("X-Mock-Synthetic", syn)])
        assert (r.status, r.body) == (200, s.body)
        want.append((syn, expected_tokens(s.usage), "stream",
                     h.header_get(s.headers, "x-amzn-RequestId"),
                     s.error_type, 200))

    entries = n.wait_access(len(want))
    lines = n.access_log.read_text().splitlines()
    assert len(lines) == len(want) == len(entries)
    for line, e, (name, usage, source, rid, etype, status) in zip(
            lines, entries, want):
        assert json.loads(line) == e
        assert set(e) == SHIPPED_KEYS, name
        assert all(isinstance(v, str) for v in e.values()), (name, e)
        assert e["tenant"] == h.DEFAULT_TENANT or usage is None, (name, e)
        assert e["upstream_request_id"] == rid, (name, e)
        assert e["error_type"] == etype, (name, e)
        assert e["cost_usd"] == "", (name, e)
        if usage is None:
            # refused before the upstream: nothing metered
            assert e["usage_source"] in ("", "none"), e
            assert e["input_tokens"] in ("", "0"), e
            continue
        assert tokens(e, "") == usage, (name, e)
        assert e["usage_source"] == source, (name, e)
        assert e["status"] == e["upstream_status"] == str(status), e


# --- SageMaker ---------------------------------------------------------------

SM_SYNTHETICS = {
    # name: (operation, formats whose reading finds the usage)
    "sm-openai-json": ("invocations", ("openai", "auto")),
    "sm-openai-stream": ("invocations-response-stream", ("openai", "auto")),
    "sm-openai-stream-crlf": ("invocations-response-stream",
                              ("openai", "auto")),
    "sm-tgi-json": ("invocations", ("tgi", "auto")),
    "sm-tgi-stream": ("invocations-response-stream", ("tgi", "auto")),
    "sm-tgi-stream-prefill": ("invocations-response-stream", ("tgi", "auto")),
    "sm-tgi2-stream": ("invocations-response-stream", ("tgi", "auto")),
    "sm-openai-stream-sse-fields": ("invocations-response-stream",
                                    ("openai", "auto")),
    "sm-openai-jsonlines": ("invocations-response-stream",
                            ("openai", "auto")),
    "sm-tgi-jsonlines": ("invocations-response-stream", ("tgi", "auto")),
}


def sm_params():
    out = []
    for name, (op, formats) in sorted(SM_SYNTHETICS.items()):
        for fmt in ("openai", "tgi", "auto", "none", "plain"):
            chunkings = ["events", "random:7:5", "1"] \
                if fmt in formats or fmt == "plain" else ["events"]
            for c in chunkings:
                out.append(pytest.param(name, fmt, c,
                                        id="%s-%s-%s" % (name, fmt, c)))
    return out


@pytest.mark.parametrize("name,fmt,chunking", sm_params())
def test_sagemaker_usage(ugw, mock, name, fmt, chunking):
    """
    usage=openai reads OpenAI-style usage, usage=tgi TGI details, auto
    (and an endpoint without usage=) either, none nothing; the server-sent
    events are split across PayloadParts mid "data:", mid JSON, between
    CR and LF, and the HTTP chunks cut those again.
    """
    op, formats = SM_SYNTHETICS[name]
    s = ms.build(name)
    path = "/endpoints/ep-%s/%s" % (fmt, op)
    r, e = request(ugw, path, b'{"inputs": "What is deep learning?"}', [
        ("Content-Type", "application/json"), ("X-Mock-Synthetic", name),
        ("X-Mock-Chunking", chunking)])
    assert (r.status, r.body) == (200, s.body)
    assert e["aigw_service"] == "sagemaker"
    if fmt in formats or fmt == "plain":
        assert tokens(e) == expected_tokens(s.usage), e
        assert e["aigw_usage_source"] == SOURCE[op], e
    elif fmt == "none":
        assert tokens(e) == ZERO, e
        assert e["aigw_usage_source"] == "none", e
    else:
        # the other format's fields are not read
        assert tokens(e) == ZERO, e
    assert e["aigw_upstream_request_id"] == h.header_get(s.headers,
                                                         "x-amzn-RequestId")
    assert e["aigw_error_type"] == ""
    [rec] = mock.requests()
    assert rec["sig_ok"] and rec["service"] == "sagemaker", rec["sig_error"]
    ttft_check(e, op in STREAMING)


# --- exceptions mid-stream ---------------------------------------------------

@pytest.mark.parametrize("name,path", [
    ("anthropic-stream-throttled", INVOKE_STREAM),
    ("anthropic-stream-model-error", INVOKE_STREAM),
    ("converse-stream-throttled", CONVERSE_STREAM),
    ("converse-stream-error-message", CONVERSE_STREAM),
])
@pytest.mark.parametrize("chunking", ["events", "random:3:9", "1"])
def test_exception_mid_stream(ugw, mock, name, path, chunking):
    """
    A few events, then an exception frame (":message-type exception",
    ":exception-type throttlingException" / modelStreamErrorException) or
    an error frame (":error-code"): the error type is AWS's, normalised,
    and the tokens reported before it are kept.
    """
    s = ms.build(name)
    r, e = request(ugw, path, ANTHROPIC_BODY, [
        ("X-Mock-Synthetic", name), ("X-Mock-Chunking", chunking)])
    assert (r.status, r.body) == (200, s.body)
    assert e["aigw_error_type"] == s.error_type, e
    assert tokens(e) == expected_tokens(s.usage), e
    # the stream ended as AWS ended it (not cut): "stream" when it
    # reported usage before the exception, "none" when it had not
    want = "stream" if any(s.usage[k] for k in TOKENS) else "none"
    assert e["aigw_usage_source"] == want, e
    assert e["aigw_upstream_request_id"] == h.header_get(s.headers,
                                                         "x-amzn-RequestId")
    ttft_check(e, True)


@pytest.mark.parametrize("model,name", [
    ("amazon.nova-lite-v1%3A0", "nova-stream"),
    ("us.amazon.nova-pro-v1%3A0", "nova-stream"),
    ("meta.llama3-8b-instruct-v1%3A0", "llama-stream"),
    (HAIKU, "anthropic-stream-model-error"),
])
@pytest.mark.parametrize("chunking", ["events", "1"])
def test_invoke_stream_family_counts(ugw, mock, model, name, chunking):
    """Streams without amazon-bedrock-invocationMetrics: the model
    family's own counts (Nova's metadata chunk, Llama's prompt and running
    generation counts with nulls after the first chunk, Anthropic's
    message_start and message_delta)."""
    s = ms.build(name)
    r, e = request(ugw, "/model/%s/invoke-with-response-stream" % model,
                   b"{}", [("X-Mock-Synthetic", name),
                           ("X-Mock-Chunking", chunking)])
    assert (r.status, r.body) == (200, s.body)
    assert tokens(e) == expected_tokens(s.usage), e
    assert e["aigw_usage_source"] == "stream", e


def test_headers_over_the_bound_skipped(ugw, mock):
    """A message whose headers (3 KB) exceed the decoder's 1 KiB header
    buffer is skipped with a warning, not buffered; the stream goes on and
    the rest is metered exactly."""
    name = "anthropic-stream-big-headers"
    s = ms.build(name)
    for chunking in ("events", "1", "random:2:100"):
        mark = ugw.mark()
        r, e = request(ugw, INVOKE_STREAM, ANTHROPIC_BODY, [
            ("X-Mock-Synthetic", name), ("X-Mock-Chunking", chunking)])
        assert (r.status, r.body) == (200, s.body)
        assert tokens(e) == expected_tokens(s.usage), e
        assert e["aigw_usage_source"] == "stream", e
        assert e["aigw_error_type"] == ""
        assert ugw.wait_log(r"\[warn\].*aigw: event stream from AWS: 0 "
                            r"messages with a bad CRC, 1 skipped \(headers "
                            r"over the bound\)", since=mark), chunking


# --- error statuses ----------------------------------------------------------

@pytest.mark.parametrize("how,path,status,etype", [
    (("X-Mock-Status", "400"), CONVERSE, 400, "ValidationException"),
    (("X-Mock-Status", "429"), CONVERSE, 429, "ThrottlingException"),
    (("X-Mock-Status", "429"), CONVERSE_STREAM, 429, "ThrottlingException"),
    (("X-Mock-Status", "424"), INVOKE, 424, "ModelErrorException"),
    (("X-Mock-Status", "503"), INVOKE_STREAM, 503,
     "ServiceUnavailableException"),
    (("X-Mock-Synthetic", "error-json-type"), INVOKE, 400,
     "ValidationException"),
    (("X-Mock-Synthetic", "error-header-colon"), CONVERSE, 429,
     "ThrottlingException"),
    (("X-Mock-Synthetic", "error-429-bare"), INVOKE_STREAM, 429,
     "ThrottlingException"),
    (("X-Mock-Synthetic", "error-json-type"),
     "/endpoints/ep-auto/invocations", 400, "ValidationException"),
], ids=lambda v: v[1] if isinstance(v, tuple) else None)
def test_error_status(ugw, mock, how, path, status, etype):
    """AWS's error with a JSON body: its type (x-amzn-ErrorType up to ':',
    else "__type" after '#', else ThrottlingException for a bare 429),
    nothing metered, the body passed on as sent."""
    r, e = request(ugw, path, CONVERSE_BODY, [how])
    assert r.status == status, r
    assert json.loads(r.body)["message"]
    assert e["status"] == str(status) and e["upstream_status"] == str(status)
    assert e["aigw_error_type"] == etype, e
    assert e["aigw_usage_source"] == "none", e
    assert tokens(e) == ZERO, e
    assert e["aigw_upstream_request_id"] == r.header("x-amzn-RequestId")


# --- streams cut short -------------------------------------------------------

def usage_of(inp=0, out=0, cr=0, cw=0):
    return {"input_tokens": inp, "output_tokens": out,
            "cache_read_input_tokens": cr, "cache_write_input_tokens": cw}


def message_ends(name):
    """The offsets where each event-stream message of a synthetic answer
    ends."""
    out = []
    for m in mu.eventstream_split(ms.build(name).body):
        out.append((out[-1] if out else 0) + len(m))
    return out


STREAMING_CAPTURE = "test_anthropic_3_completion_streaming"
TITAN_STREAM = "test_titan_invoke_stream"
NOVA_STREAM = "test_nova_converse_stream"
# Without the shared data, their synthetic stand-ins: anthropic-stream
# (message_start: input 25, output 1, cache read 1024, cache write 256;
# message_delta: output 21; message_stop: the invocation metrics),
# titan-stream (no metrics: inputTextTokenCount 14.0 in the first chunk,
# totalOutputTextTokenCount 61.0 in the last), converse-stream (the usage
# in the last event, metadata).
STREAMING_CASE = h.pick(STREAMING_CAPTURE, "anthropic-stream")
TITAN_CASE = h.pick(TITAN_STREAM, "titan-stream")
CONVERSE_STREAM_CASE = h.pick(NOVA_STREAM, "converse-stream")

# the capture's first event (message_start) is 435 bytes and says input
# 16, output 1; the invocation metrics come in the last event, at 4962
AFTER_START = h.pick(usage_of(16, 1), usage_of(25, 1, 1024, 256))


@pytest.mark.parametrize("name,first_usage", [
    (STREAMING_CASE, AFTER_START),
    (CONVERSE_STREAM_CASE, ZERO),
])
def test_stream_cut_by_client(ugw, mock, name, first_usage):
    """The client reads the first event and closes the connection while
    the upstream holds the rest: partial, with what that event said."""
    c = h.case(name)
    first = mu.eventstream_split(c.resp_body)[0]
    token = uuid.uuid4().hex
    tid = uuid.uuid4().hex
    conn, r = h.open_request(ugw.port, "POST", c.path, c.request_headers(
        "events", [("X-Mock-Hold", token), ("X-Test-Id", tid)]), c.body,
        timeout=h.HOLD_WAIT * 0.6)
    try:
        assert r.status == 200
        assert read_some(r, len(first)) == first
    finally:
        conn.sock.shutdown(socket.SHUT_RDWR)
        conn.close()
    time.sleep(0.2)
    mock.release(token)
    e = ugw.wait_entry(tid, timeout=h.HOLD_WAIT + 5)
    assert e["aigw_usage_source"] == "partial", e
    assert tokens(e) == first_usage, e
    assert e["aigw_upstream_request_id"] == c.request_id
    ttft_check(e, True)


def cut_request(n, path, headers, body):
    """A request whose response the upstream cuts: (status, body bytes the
    client got, entry)."""
    tid = uuid.uuid4().hex
    conn, r = h.open_request(n.port, "POST", path, list(headers) + [
        ("X-Test-Id", tid)], body)
    try:
        got = b""
        try:
            while True:
                piece = r.read1(65536)
                if not piece:
                    break
                got += piece
        except http.client.IncompleteRead as x:
            got += x.partial
        except (ConnectionError, http.client.HTTPException):
            pass
    finally:
        conn.close()
    return r.status, got, n.wait_entry(tid)


def synthetic_upstream_cuts():
    """UPSTREAM_CUTS of the synthetic stand-ins, at the same places."""
    a = message_ends("anthropic-stream")
    t = message_ends("titan-stream")
    c = message_ends("converse-stream")
    whole = usage_of(25, 21, 1024, 256)
    return [
        # message_start, content_block_start, 13 deltas, content_block_stop,
        # message_delta, message_stop with the invocation metrics
        ("anthropic-stream", str(a[0] - 100), ZERO, "partial"),
        ("anthropic-stream", str(a[0]), AFTER_START, "partial"),
        ("anthropic-stream", str(a[2] + 50), AFTER_START, "partial"),
        ("anthropic-stream", "%d:rst" % (a[2] + 50), AFTER_START,
         "partial"),
        ("anthropic-stream", str(a[-2]), whole, "partial"),
        ("anthropic-stream", str((a[-2] + a[-1]) // 2), whole, "partial"),
        ("anthropic-stream", str(a[-1]), None, "stream"),
        # three chunks, no metrics
        ("titan-stream", str(t[0]), usage_of(14), "partial"),
        ("titan-stream", "%d:rst" % t[1], usage_of(14), "partial"),
        ("titan-stream", str(t[2] - 100), usage_of(14), "partial"),
        # the usage in the last event, metadata
        ("converse-stream", str(c[0]), ZERO, "partial"),
        ("converse-stream", str(c[-2]), ZERO, "partial"),
        ("converse-stream", str(c[-1]), None, "stream"),
    ]


# (capture, cut after, usage (None: the capture's whole), source)
UPSTREAM_CUTS = h.pick([
    # Anthropic: 0 message_start (435 bytes), 435 ..., 4711 message_delta,
    # 4962 message_stop with the invocation metrics, 5265 the end
    (STREAMING_CAPTURE, "300", ZERO, "partial"),       # inside message_start
    (STREAMING_CAPTURE, "435", AFTER_START, "partial"),   # just after it
    (STREAMING_CAPTURE, "700", AFTER_START, "partial"),   # in the 3rd event
    (STREAMING_CAPTURE, "700:rst", AFTER_START, "partial"),
    (STREAMING_CAPTURE, "4962", usage_of(16, 21), "partial"),  # no metrics
    (STREAMING_CAPTURE, "5100", usage_of(16, 21), "partial"),  # half of them
    (STREAMING_CAPTURE, "5265", None, "stream"),      # all, no last chunk
    # Titan: 0 chunk with inputTextTokenCount 28.0, 551, 1227 the last
    # chunk (totalOutputTextTokenCount 188.0), 4558 the end
    (TITAN_STREAM, "551", usage_of(28), "partial"),
    (TITAN_STREAM, "1227:rst", usage_of(28), "partial"),
    (TITAN_STREAM, "4000", usage_of(28), "partial"),
    # ConverseStream: the usage is in the metadata event at 3970 (of 5369)
    (NOVA_STREAM, "145", ZERO, "partial"),
    (NOVA_STREAM, "3970", ZERO, "partial"),
    (NOVA_STREAM, "5369", None, "stream"),
], synthetic_upstream_cuts())


@pytest.mark.parametrize("capture,cut,usage,source", [
    pytest.param(*c, id="%s-%s" % c[:2]) for c in UPSTREAM_CUTS])
@pytest.mark.parametrize("chunking", ["events", "random:77:50"])
def test_stream_cut_by_upstream(ugw, mock, capture, cut, usage, source,
                                chunking):
    """
    The upstream closes (or resets) the connection after so many bytes:
    partial, with the usage of the messages that arrived whole (a message
    cut in two is not counted; the model family's counts when there are
    no metrics); once the final usage arrived (invocation metrics,
    metadata event), it stands whatever follows.
    """
    c = h.case(capture)
    status, got, e = cut_request(ugw, c.path, c.request_headers(
        chunking, [("X-Mock-Cut-After", cut)]), c.body)
    n = int(cut.split(":")[0])
    assert status == 200
    assert got == c.resp_body[:n]
    [rec] = mock.requests()
    assert rec["cut"] == {"after": n, "rst": cut.endswith(":rst")}
    assert e["aigw_usage_source"] == source, e
    assert tokens(e) == (usage or c.usage), e
    assert e["aigw_upstream_request_id"] == c.request_id
    ttft_check(e, True)


def sm_cut_points(body, marker):
    """Offsets of a PayloadPart stream: the end of the first message, and
    the end of the first message after which the raw bytes hold marker."""
    raw = b""
    off = 0
    first = None
    for m in mu.eventstream_split(body):
        off += len(m)
        first = first or off
        hl = int.from_bytes(m[4:8], "big")
        raw += m[12 + hl:-4]
        if marker in raw:
            return first, off
    raise AssertionError("marker not found")


@pytest.mark.parametrize("name,marker", [
    ("sm-openai-stream", b'"total_tokens":61}}\n\n'),
    ("sm-openai-stream-crlf", b'"total_tokens":61}}\r\n\r\n'),
    ("sm-tgi-stream", b'"seed":null}}\n\n'),
    ("sm-tgi2-stream", b'"input_length":19},"top_tokens":[]}\n\n'),
])
def test_sagemaker_stream_cut_by_upstream(ugw, mock, name, marker):
    """A SageMaker stream cut before its usage event: partial with
    nothing; cut once the usage event (OpenAI's last chunk, TGI's final
    details) arrived whole, before "[DONE]" or the end: that usage is
    final, "stream"."""
    s = ms.build(name)
    early, late = sm_cut_points(s.body, marker)
    for cut, want, source in ((early, ZERO, "partial"),
                              (late, expected_tokens(s.usage), "stream")):
        mock.reset()
        status, got, e = cut_request(
            ugw, "/endpoints/ep-auto/invocations-response-stream", [
                ("X-Mock-Synthetic", name), ("X-Mock-Chunking", "random:8:9"),
                ("X-Mock-Cut-After", str(cut))], b"{}")
        assert (status, got) == (200, s.body[:cut])
        assert e["aigw_usage_source"] == source, (cut, e)
        assert tokens(e) == want, (cut, e)


@pytest.mark.parametrize("capture,cut,source", h.pick([
    # the token headers are the final usage, whatever happens to the body
    ("test_anthropic_3_completion_string_content", "100", "header"),
    # a converse body cut before its "usage"
    ("test_nova_converse", "200", "partial"),
    ("test_nova_converse", "200:rst", "partial"),
], [
    ("invoke-anthropic-cache-write", "100", "header"),
    ("converse", "200", "partial"),
    ("converse", "200:rst", "partial"),
]))
def test_body_cut_by_upstream(ugw, mock, capture, cut, source):
    c = h.case(capture)
    status, got, e = cut_request(ugw, c.path, c.request_headers(
        "random:5:40", [("X-Mock-Cut-After", cut)]), c.body)
    assert status == 200
    assert got == c.resp_body[:int(cut.split(":")[0])]
    assert e["aigw_usage_source"] == source, e
    want = c.usage if source == "header" else ZERO
    assert tokens(e) == want, e


# --- time to first token -----------------------------------------------------

@pytest.mark.parametrize("capture", h.pick(
    [STREAMING_CAPTURE, "test_titan_converse_stream"],
    ["anthropic-stream", "converse-stream"]))
def test_ttft_before_a_held_stream_ends(ugw, mock, capture):
    """The upstream sends the first event, then holds the rest back for
    0.6 s: $aigw_ttft_ms is well under the request time."""
    hold_s = 0.6
    c = h.case(capture)
    first = mu.eventstream_split(c.resp_body)[0]
    token = uuid.uuid4().hex
    tid = uuid.uuid4().hex
    conn, r = h.open_request(ugw.port, "POST", c.path, c.request_headers(
        "events", [("X-Mock-Hold", token), ("X-Test-Id", tid)]), c.body,
        timeout=h.HOLD_WAIT * 0.6)
    try:
        assert read_some(r, len(first)) == first
        time.sleep(hold_s)
        mock.release(token)
        assert first + r.read() == c.resp_body
    finally:
        conn.close()
    e = ugw.wait_entry(tid)
    ttft = ttft_check(e, True)
    total_ms = float(e["request_time"]) * 1000
    assert total_ms >= hold_s * 1000, e
    assert ttft <= total_ms - hold_s * 1000 + 1, e
    assert tokens(e) == c.usage


def test_ttft_only_for_streaming_operations(ugw, mock):
    """The mock's default answers: a stream has $aigw_ttft_ms, Converse,
    InvokeModel, InvokeEndpoint and CountTokens do not."""
    for path, streaming in (
            (CONVERSE, False), (INVOKE, False), (CONVERSE_STREAM, True),
            (INVOKE_STREAM, True),
            ("/model/%s/count-tokens" % HAIKU, False),
            ("/endpoints/ep-plain/invocations", False),
            ("/endpoints/ep-plain/invocations-response-stream", True)):
        r, e = request(ugw, path, CONVERSE_BODY)
        assert r.status == 200, (path, r)
        ttft_check(e, streaming)


# --- image models ------------------------------------------------------------

def image_body(n_images, pad=0):
    body = {"taskType": "TEXT_IMAGE",
            "textToImageParams": {"text": "a lighthouse at dawn"},
            "imageGenerationConfig": {"numberOfImages": n_images,
                                      "quality": "premium", "width": 1024,
                                      "height": 1024, "cfgScale": 8.0,
                                      "seed": 42}}
    if pad:
        body["textToImageParams"]["conditionImage"] = "A" * pad
    return json.dumps(body).encode()


@pytest.mark.parametrize("model,syn,images", [
    ("amazon.titan-image-generator-v1", "titan-image", 2),
    ("amazon.titan-image-generator-v2%3A0", "titan-image", 2),
    ("amazon.nova-canvas-v1%3A0", "titan-image", 2),
    ("stability.stable-diffusion-xl-v1", "stability-image", 3),
])
@pytest.mark.parametrize("pad", [0, 300000])
def test_image_model_images_counted(ugw, mock, model, syn, images, pad):
    """The images of the response are counted; the request body, read by
    the meter too, is still signed and sent exactly."""
    body = image_body(images, pad)
    s = ms.build(syn)
    r, e = request(ugw, "/model/%s/invoke" % model, body, [
        ("Content-Type", "application/json"), ("Accept", "application/json"),
        ("X-Mock-Synthetic", syn), ("X-Mock-Chunking", "random:9:11")])
    assert (r.status, r.body) == (200, s.body)
    assert e["aigw_images"] == str(images), e
    assert tokens(e) == ZERO, e
    [rec] = mock.requests()
    assert rec["sig_ok"], rec["sig_error"]
    assert rec["body_sha256"] == h.sha256_hex(body)
    assert rec["body_length"] == len(body)


def test_images_not_counted_for_text_models(ugw, mock):
    """An "images" array in a text model's answer is not an image bill."""
    s = ms.build("titan-image")
    r, e = request(ugw, INVOKE, ANTHROPIC_BODY,
                   [("X-Mock-Synthetic", "titan-image")])
    assert (r.status, r.body) == (200, s.body)
    assert e["aigw_images"] == "0", e


# --- nginx around the meter --------------------------------------------------

def test_meter_reads_before_gzip(gateway, mock):
    """With gzip in the location, the client gets compressed bytes and the
    meter still reads AWS's own: the usage is exact."""
    import gzip
    n = gateway(location_extra="gzip on; gzip_min_length 1; gzip_proxied "
                "any; gzip_types application/json "
                "application/vnd.amazon.eventstream;")
    for name in h.pick(("test_nova_converse", STREAMING_CAPTURE,
                        "test_titan_converse_stream"),
                       ("converse", "anthropic-stream", "converse-stream")):
        mock.reset()
        c = h.case(name)
        r, tid = send_case(n, c, "random:21:30", [("Accept-Encoding", "gzip")])
        assert r.status == 200
        assert r.header("Content-Encoding") == "gzip", name
        assert gzip.decompress(r.body) == c.resp_body, name
        e = n.wait_entry(tid)
        assert tokens(e) == c.usage, (name, e)
        assert e["aigw_usage_source"] == SOURCE[c.operation], e
        # AWS is never asked to compress what the meter reads
        assert all(k.lower() != "accept-encoding"
                   for k, _ in mock.requests()[-1]["headers"]), name


def test_keepalive_upstream_each_response_metered(nginx_factory, mock):
    """Responses one after another on one kept-alive upstream connection
    (an upstream{} block named after the endpoint host): each one's usage
    is its own."""
    port = h.free_port()
    conf = h.aigw_http(None, extra="aigw_endpoint bedrock http://mockpool;"
                       "\nupstream mockpool { server 127.0.0.1:%d; "
                       "keepalive 4; }" % mock.port) + h.gateway_server(port)
    n = nginx_factory(conf, [port])
    names = h.pick([STREAMING_CAPTURE, "test_prompt_cache",
                    "test_nova_converse", "test_prompt_cache-1", NOVA_STREAM,
                    TITAN_STREAM, "test_titan_converse"],
                   ["anthropic-stream", "invoke-anthropic-cache-write",
                    "converse", "invoke-anthropic-cache-read",
                    "converse-stream-guardrail", "titan-stream",
                    "converse-stream"]) * 2
    for i, name in enumerate(names):
        c = h.case(name)
        r, tid = send_case(n, c, "random:%d:40" % i)
        assert (r.status, r.body) == (200, c.resp_body), name
        e = n.wait_entry(tid)
        assert tokens(e) == c.usage, (name, e)
        assert e["aigw_upstream_request_id"] == c.request_id
    recs = mock.requests()
    assert len(recs) == len(names)
    assert all(rec["sig_ok"] and rec["host"] == "mockpool" for rec in recs)
    assert len({tuple(rec["peer"]) for rec in recs}) == 1, \
        "the upstream connection was not reused"


def test_buffered_to_disk_is_partial(nginx_factory, mock, tmp_path):
    """
    With proxy_buffering on (not aigw_params' setting) and a slow client,
    nginx spills the response to a temporary file, and with sendfile on
    (Debian's nginx.conf) the file is sent without being read back into
    memory: the meter does not see those bytes, the request is "partial"
    and the error log says why.  (With sendfile off nginx's copy filter
    reads the file back before the meter and the usage stays exact.)
    """
    params = tmp_path / "aigw_params_buffering"
    text = h.AIGW_PARAMS.read_text()
    assert text.count("proxy_buffering off;") == 1
    params.write_text(text.replace("proxy_buffering off;",
                                   "proxy_buffering on;"))
    port = h.free_port()
    n = nginx_factory(h.aigw_http(mock.url) + h.gateway_server(
        port, params=params, location_extra=(
            "proxy_buffers 4 4k; proxy_busy_buffers_size 8k; "
            "proxy_temp_file_write_size 8k; proxy_max_temp_file_size 64m; "
            "sendfile on;")),
        [port])
    mark = n.mark()
    name = "anthropic-stream-big:%d" % (8 * 1024 * 1024)
    s = ms.build(name)
    tid = uuid.uuid4().hex
    # a small receive buffer (no autotuning): the client's kernel cannot
    # take the response in while the client sleeps, nginx has to spill it
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    sock.connect(("127.0.0.1", n.port))
    conn = http.client.HTTPConnection("127.0.0.1", n.port, timeout=30)
    conn.sock = sock
    conn.putrequest("POST", INVOKE_STREAM, skip_accept_encoding=True)
    for k, v in h.with_key([("X-Mock-Synthetic", name),
                            ("X-Mock-Chunking", "random:1:65536"),
                            ("X-Test-Id", tid), ("Content-Length", "2")]):
        conn.putheader(k, v)
    conn.endheaders(b"{}")
    try:
        r = conn.getresponse()
        got = r.read(1024)
        time.sleep(0.5)
        got += r.read()
    finally:
        conn.close()
    assert got == s.body
    e = n.wait_entry(tid)
    assert e["aigw_usage_source"] == "partial", e
    assert n.wait_log(r"\[warn\].*aigw: part of the response was buffered "
                      r"to a temporary file and not metered", since=mark)


@pytest.fixture
def h2_gateway(nginx_factory, mock, certs):
    port = h.free_port()
    conf = h.aigw_http(mock.url) + h.gateway_server(
        port, listen_extra=" ssl http2",
        server_extra="ssl_certificate %s; ssl_certificate_key %s;" % (
            certs["cert"], certs["key"]))
    return nginx_factory(conf, [port])


@pytest.mark.parametrize("name", h.pick(
    [STREAMING_CAPTURE, NOVA_STREAM, "test_prompt_cache"],
    ["anthropic-stream", "converse-stream-guardrail",
     "invoke-anthropic-cache-write"]))
def test_http2_client_metered(h2_gateway, mock, certs, tmp_path, name):
    """An HTTP/2 client (the AWS SDKs' default): the same exact usage."""
    c = h.case(name)
    tid = uuid.uuid4().hex
    r = h.curl("https://localhost:%d%s" % (h2_gateway.port, c.path),
               tmp_path, headers=c.request_headers(
                   "random:4", [("X-Test-Id", tid)]),
               body=c.body, cacert=certs["ca"])
    assert (r.http_version, r.status, r.body) == ("2", 200, c.resp_body)
    e = h2_gateway.wait_entry(tid)
    assert tokens(e) == c.usage, e
    assert e["aigw_usage_source"] == SOURCE[c.operation], e


def test_upstream_unreachable(nginx_factory):
    """nginx's own 502 (nothing listens at the endpoint): the gateway's
    error type, nothing metered, no upstream request id."""
    dead = h.free_port()
    port = h.free_port()
    n = nginx_factory(h.aigw_http("http://127.0.0.1:%d" % dead) +
                      h.gateway_server(port), [port])
    for path in (CONVERSE, CONVERSE_STREAM):
        r, e = request(n, path, CONVERSE_BODY)
        assert r.status == 502, r
        assert r.header("x-amzn-ErrorType") == "ServiceUnavailableException"
        assert e["aigw_error_type"] == "ServiceUnavailableException", e
        assert e["aigw_usage_source"] == "none", e
        assert tokens(e) == ZERO, e
        assert e["aigw_upstream_request_id"] == "", e


def test_stream_stalled_upstream_times_out(nginx_factory, mock, tmp_path):
    """AWS stops sending mid-stream and proxy_read_timeout fires: the
    stream is cut by nginx, partial with what arrived."""
    params = tmp_path / "aigw_params_timeout"
    text = h.AIGW_PARAMS.read_text()
    assert text.count("proxy_read_timeout 300s;") == 1
    params.write_text(text.replace("proxy_read_timeout 300s;",
                                   "proxy_read_timeout 1s;"))
    port = h.free_port()
    n = nginx_factory(h.aigw_http(mock.url) + h.gateway_server(
        port, params=params), [port])
    c = h.case(STREAMING_CASE)
    token = uuid.uuid4().hex
    status, got, e = cut_request(n, c.path, c.request_headers(
        "events", [("X-Mock-Hold", token)]), c.body)
    mock.release(token)
    assert status == 200
    assert got == mu.eventstream_split(c.resp_body)[0]
    assert e["aigw_usage_source"] == "partial", e
    assert tokens(e) == AFTER_START, e
    assert n.wait_log(r"upstream timed out", since=0)

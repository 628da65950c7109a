"""
The mock's synthetic responses on their own (no nginx): every event stream
decodes with botocore's own decoder (prelude and message CRCs, header
types), the raw model bytes reassembled from the PayloadParts say the
usage the tests expect, X-Mock-Cut-After cuts where it says, X-Mock-Fault
and X-Mock-Delay do what they say, the hostile answers hold what they
say; the captures' synthetic stand-ins state their usage and cover every
operation.
"""

import base64
import http.client
import json
import socket
import time

import pytest
from botocore.eventstream import EventStreamBuffer

import helpers as h
import mock_synthetic as ms

ES = "application/vnd.amazon.eventstream"


def decode(body):
    buf = EventStreamBuffer()
    buf.add_data(body)
    return list(buf)


def is_stream(s):
    return h.header_get(s.headers, "Content-Type") == ES


def documents(raw):
    """The JSON documents of SSE ("data:" lines) or JSON lines."""
    out = []
    for line in raw.replace(b"\r\n", b"\n").split(b"\n"):
        if line.startswith(b"data:"):
            line = line[5:].strip()
        elif line.startswith((b":", b"event:", b"id:", b"retry:")):
            continue
        if line and line != b"[DONE]":
            out.append(json.loads(line))
    return out


def sagemaker_usage(docs):
    """Independent reading of the usage the tests expect."""
    u = dict.fromkeys(("input_tokens", "output_tokens",
                       "cache_read_input_tokens", "cache_write_input_tokens",
                       "images"), 0)
    for d in docs:
        for d in (d if isinstance(d, list) else [d]):
            if d.get("usage"):
                cached = (d["usage"].get("prompt_tokens_details") or
                          {}).get("cached_tokens", 0)
                u["input_tokens"] = d["usage"]["prompt_tokens"] - cached
                u["output_tokens"] = d["usage"]["completion_tokens"]
                u["cache_read_input_tokens"] = cached
            if d.get("details"):
                u["output_tokens"] = d["details"]["generated_tokens"]
                # TGI 2.x: input_length, else the prefill entries
                u["input_tokens"] = d["details"].get(
                    "input_length", len(d["details"].get("prefill", [])))
    return u


@pytest.mark.parametrize("name", ms.NAMES + [
    "anthropic-stream-big:300000", "anthropic-stream-huge-event:200000"])
def test_event_streams_decode_with_botocore(name):
    s = ms.build(name)
    if not is_stream(s):
        json.loads(s.body)
        return
    msgs = decode(s.body)
    assert sum(m.prelude.total_length for m in msgs) == len(s.body)
    types = [m.headers.get(":message-type") for m in msgs]
    assert set(types) <= {"event", "exception", "error"}
    if s.error_type:
        assert types[-1] in ("exception", "error")
        last = msgs[-1].headers
        code = last.get(":exception-type") or last.get(":error-code")
        assert code[0].upper() + code[1:] == s.error_type
    else:
        assert set(types) == {"event"}


@pytest.mark.parametrize("name", [
    n for n in ms.NAMES
    if n.startswith("sm-") and ("stream" in n or "jsonlines" in n)])
def test_payload_parts_reassemble(name):
    s = ms.build(name)
    msgs = decode(s.body)
    assert len(msgs) >= 3, "the raw bytes are not split"
    assert all(m.headers[":event-type"] == "PayloadPart" for m in msgs)
    raw = b"".join(m.payload for m in msgs)
    assert sagemaker_usage(documents(raw)) == s.usage


@pytest.mark.parametrize("name", ["sm-openai-json", "sm-tgi-json"])
def test_sagemaker_json(name):
    s = ms.build(name)
    assert sagemaker_usage([json.loads(s.body)]) == s.usage


def test_anthropic_big_stream_usage():
    s = ms.build("anthropic-stream-big:200000")
    chunks = [json.loads(base64.b64decode(json.loads(m.payload)["bytes"]))
              for m in decode(s.body)]
    deltas = [c for c in chunks if c["type"] == "content_block_delta"]
    metrics = chunks[-1]["amazon-bedrock-invocationMetrics"]
    assert (metrics["inputTokenCount"], metrics["outputTokenCount"],
            metrics["cacheReadInputTokenCount"]) == (
        s.usage["input_tokens"], len(deltas),
        s.usage["cache_read_input_tokens"])


def signed_post(mock, path, headers):
    return h.sign_headers("POST", "127.0.0.1:%d" % mock.port, path, b"{}",
                          h.AKID, h.SECRET) + list(headers)


@pytest.mark.parametrize("cut", ["100", "100:rst"])
def test_cut_after(mock, cut):
    name = "anthropic-stream-throttled"
    path = "/model/x.y/invoke-with-response-stream"
    conn = http.client.HTTPConnection("127.0.0.1", mock.port, timeout=10)
    conn.request("POST", path, b"{}", dict(signed_post(mock, path, [
        ("X-Mock-Synthetic", name), ("X-Mock-Chunking", "random:1:30"),
        ("X-Mock-Cut-After", cut)])))
    r = conn.getresponse()
    got = b""
    with pytest.raises((http.client.IncompleteRead, ConnectionError)):
        while True:
            piece = r.read1(1000)
            if not piece:
                break
            got += piece
    conn.close()
    assert got == ms.build(name).body[:100]
    [rec] = mock.requests()
    assert rec["cut"] == {"after": 100, "rst": cut.endswith("rst")}
    assert not rec.get("completed")


def raw_mock_request(mock, headers):
    """Everything the mock sends for a request, until it closes."""
    path = "/model/x.y/converse"
    req = "POST %s HTTP/1.1\r\n" % path + "".join(
        "%s: %s\r\n" % kv for kv in signed_post(mock, path, headers)) + \
        "Content-Length: 2\r\n\r\n{}"
    s = socket.create_connection(("127.0.0.1", mock.port), 10)
    s.sendall(req.encode())
    out = b""
    while True:
        piece = s.recv(65536)
        if not piece:
            break
        out += piece
    s.close()
    return out


@pytest.mark.parametrize("fault,tail", [
    ("chunk-short", b"\r\n3e8\r\nzzzzzzzzzz"),
    ("chunk-garbage", b"\r\nzz-not-hex\r\nzzzzzzzzzz\r\n"),
    ("length-short", None),
])
def test_fault(mock, fault, tail):
    """X-Mock-Fault: the first piece, then the framing broken, then the
    connection closed; the request is not answered in full."""
    body = ms.build("converse").body
    out = raw_mock_request(mock, [("X-Mock-Synthetic", "converse"),
                                  ("X-Mock-Fault", fault)])
    head, _, rest = out.partition(b"\r\n\r\n")
    head += b"\r\n"
    if tail is None:
        assert b"\r\nContent-Length: %d\r\n" % (len(body) + 100) in head
        assert rest == body
    else:
        assert b"\r\nTransfer-Encoding: chunked\r\n" in head
        assert rest == b"%x\r\n" % len(body) + body + tail
    [rec] = mock.requests()
    assert rec["fault"] == fault
    assert not rec.get("completed")


def test_delay(mock):
    t0 = time.monotonic()
    out = raw_mock_request(mock, [("X-Mock-Synthetic", "converse"),
                                  ("X-Mock-Delay", "0.3"),
                                  ("Connection", "close")])
    assert time.monotonic() - t0 >= 0.3
    assert out.startswith(b"HTTP/1.1 200 ")
    assert out.endswith(ms.build("converse").body)


@pytest.mark.parametrize("name,usage", [
    ("hostile-invoke-counts:12:7", (12, 7)),
    ("hostile-converse-counts:100000000:0", (100000000, 0)),
    ("hostile-converse-counts:100000001:7", (0, 0)),
    ("hostile-invoke-counts:-5:7", (0, 0)),
    ("hostile-converse-counts:1e3:7", (0, 0)),
])
def test_hostile_counts(name, usage):
    s = ms.build(name)
    assert (s.usage["input_tokens"], s.usage["output_tokens"]) == usage
    inp, out = name.split(":")[1:]
    if name.startswith("hostile-invoke"):
        assert h.header_get(s.headers, "X-Amzn-Bedrock-Input-Token-Count") \
            == inp
    else:
        assert b'"inputTokens":%s,"outputTokens":%s' % (
            inp.encode(), out.encode()) in s.body
    assert ms.build("hostile-invoke-counts:1;x:2") is None


def test_hostile_names_are_apart():
    assert ms.HOSTILE and not set(ms.HOSTILE) & set(ms.NAMES)
    for name in ms.HOSTILE:
        assert ms.build(name) is not None


# --- the captures' stand-ins ------------------------------------------------

def bedrock_usage(s):
    """Independent reading of the usage a Bedrock answer states: the token
    headers, else the last word of the body or of the stream."""
    u = dict.fromkeys(("input_tokens", "output_tokens",
                       "cache_read_input_tokens", "cache_write_input_tokens",
                       "images"), 0)
    names = {"Input": "input_tokens", "Output": "output_tokens",
             "Cache-Read-Input": "cache_read_input_tokens",
             "Cache-Write-Input": "cache_write_input_tokens"}
    found = False
    for part, k in names.items():
        v = h.header_get(s.headers, "X-Amzn-Bedrock-%s-Token-Count" % part)
        if v is not None:
            u[k] = int(v)
            found = True
    if found:
        return u
    if not is_stream(s):
        usage = json.loads(s.body)["usage"]
        docs = [{"usage": usage}]
    else:
        docs = []
        for m in decode(s.body):
            doc = json.loads(m.payload)
            if m.headers[":event-type"] == "chunk":
                doc = json.loads(base64.b64decode(doc["bytes"]))
            docs.append(doc)
    for d in docs:
        m = d.get("amazon-bedrock-invocationMetrics")
        if m:
            return dict(u, input_tokens=m["inputTokenCount"],
                        output_tokens=m["outputTokenCount"],
                        cache_read_input_tokens=m.get(
                            "cacheReadInputTokenCount", 0),
                        cache_write_input_tokens=m.get(
                            "cacheWriteInputTokenCount", 0))
        if "inputTextTokenCount" in d:
            u["input_tokens"] = int(d["inputTextTokenCount"])
        if "totalOutputTextTokenCount" in d:
            u["output_tokens"] = int(d["totalOutputTextTokenCount"])
        if "usage" in d and "inputTokens" in d["usage"]:
            x = d["usage"]
            u.update(input_tokens=x["inputTokens"],
                     output_tokens=x["outputTokens"],
                     cache_read_input_tokens=x.get("cacheReadInputTokens", 0),
                     cache_write_input_tokens=x.get("cacheWriteInputTokens",
                                                    0))
    return u


@pytest.mark.parametrize("name", [n for n in h.SYNTHETIC_REQUESTS
                                  if not n.startswith(("sm-", "error-"))
                                  and "throttled" not in n])
def test_stand_in_states_its_usage(name):
    """Each Bedrock stand-in says the usage it is expected to be metered
    with, read here independently of the gateway; with the token headers,
    the body says the same where it has counts."""
    s = ms.build(name)
    assert bedrock_usage(s) == s.usage
    if h.header_get(s.headers, "X-Amzn-Bedrock-Input-Token-Count") and \
            name != "invoke-claude-v2":
        text = s.body.decode()
        for k in ("input_tokens", "output_tokens"):
            assert str(s.usage[k]) in text, (name, k)


def test_stand_ins_cover_every_operation():
    """The synthetic set stands in for the captures: every operation of
    both services, cache reads and writes (headers, body, stream), an
    ARN model, a stream ending in an exception, error statuses; each
    request body is JSON."""
    cases = h.synthetic_cases()
    assert {c.operation for c in cases} == set(h.SOURCE)
    ok = [c for c in cases if c.status == 200 and not c.error_type]
    for op in h.SOURCE:
        assert any(c.operation == op and any(c.usage.values())
                   for c in ok), op
    for op in ("invoke", "converse", "invoke-with-response-stream",
               "converse-stream"):
        for k in ("cache_read_input_tokens", "cache_write_input_tokens"):
            assert any(c.operation == op and c.usage[k] for c in ok), (op, k)
    assert any(c.model.startswith("arn:") for c in cases)
    assert any(c.status == 200 and c.error_type for c in cases)
    assert {c.status for c in cases} >= {200, 400, 429}
    for c in cases:
        json.loads(c.body)
        assert c.request_id

"""
The mock's synthetic responses on their own (no nginx): every event stream
decodes with botocore's own decoder (prelude and message CRCs, header
types), the raw model bytes reassembled from the PayloadParts say the
usage the tests expect, and X-Mock-Cut-After cuts where it says.
"""

import base64
import http.client
import json

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
                u["input_tokens"] = len(d["details"].get("prefill", []))
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

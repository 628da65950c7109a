"""
Synthetic responses of the mock upstream (request header
``X-Mock-Synthetic: <name>``): shapes no capture has, built here byte for
byte so that a test knows the exact usage a metering gateway must find.

Standard library only.  ``build(name)`` returns a ``Synthetic`` (status,
headers, body, expected usage and error type) or None for an unknown name;
``NAMES`` lists the fixed ones.  Parameterised names:

    anthropic-stream-big:<bytes>   an InvokeModelWithResponseStream body of
                                   about <bytes> bytes: message_start, many
                                   content_block_delta chunks, message_delta
                                   and the invocation metrics at the end
    anthropic-stream-huge-event:<bytes>
                                   the same with one content_block_delta of
                                   about <bytes> bytes
    hostile-converse-counts:<in>:<out>, hostile-invoke-counts:<in>:<out>
                                   token counts written as given ("-5",
                                   "10000000000000000000"); see
                                   hostile_counts()

HOSTILE lists the malformed answers of a hostile upstream (HTML errors,
broken JSON, corrupted and oversized event-stream frames): they are not
in NAMES, which holds the well-formed ones.

Every event-stream message is encoded here with its own prelude and
message CRC32 (zlib.crc32), headers :event-type / :content-type /
:message-type (or :exception-type, :error-code), so the gateway's decoder
is checked against an encoder written independently of it.
"""

import base64
import json
import re
import struct
import zlib
from collections import namedtuple


# usage: the token and image counts a metering gateway must find;
# error_type: the $aigw_error_type it must set ("" for none)
_Synthetic = namedtuple("Synthetic", "status headers body usage error_type")


def Synthetic(status, headers, body, usage, error_type=""):
    return _Synthetic(status, headers, body, usage, error_type)

ES_CONTENT_TYPE = "application/vnd.amazon.eventstream"

# header value types of application/vnd.amazon.eventstream
_BOOL_TRUE, _BOOL_FALSE, _BYTE, _INT16, _INT32, _INT64, _BYTES, _STRING, \
    _TIMESTAMP, _UUID = range(10)


def _header(name, value):
    """One encoded header: str -> string, bool, ("int32", n), ("int64", n),
    ("timestamp", ms), ("uuid", 16 bytes), bytes -> byte array."""
    n = name.encode()
    out = struct.pack("B", len(n)) + n
    if isinstance(value, bool):
        return out + struct.pack("B", _BOOL_TRUE if value else _BOOL_FALSE)
    if isinstance(value, str):
        v = value.encode()
        return out + struct.pack(">BH", _STRING, len(v)) + v
    if isinstance(value, bytes):
        return out + struct.pack(">BH", _BYTES, len(value)) + value
    kind, v = value
    if kind == "int32":
        return out + struct.pack(">Bi", _INT32, v)
    if kind == "int64":
        return out + struct.pack(">Bq", _INT64, v)
    if kind == "timestamp":
        return out + struct.pack(">Bq", _TIMESTAMP, v)
    if kind == "uuid":
        assert len(v) == 16
        return out + struct.pack("B", _UUID) + v
    raise ValueError("unknown header kind %r" % kind)


def es_message(headers, payload):
    """One event-stream message: prelude (total length, headers length,
    prelude CRC32), headers, payload, message CRC32."""
    hb = b"".join(_header(k, v) for k, v in headers)
    total = 12 + len(hb) + len(payload) + 4
    prelude = struct.pack(">II", total, len(hb))
    prelude += struct.pack(">I", zlib.crc32(prelude) & 0xffffffff)
    msg = prelude + hb + payload
    return msg + struct.pack(">I", zlib.crc32(msg) & 0xffffffff)


def _json(obj):
    return json.dumps(obj, separators=(",", ":")).encode()


def event(event_type, payload, content_type="application/json", extra=()):
    if not isinstance(payload, bytes):
        payload = _json(payload)
    return es_message([(":event-type", event_type),
                       (":content-type", content_type),
                       (":message-type", "event")] + list(extra), payload)


def exception(exception_type, message):
    """A mid-stream exception frame, as Bedrock sends it."""
    return es_message([(":exception-type", exception_type),
                       (":content-type", "application/json"),
                       (":message-type", "exception")],
                      _json({"message": message}))


def error_frame(code, message):
    """A ":message-type error" frame (the protocol's other error form)."""
    return es_message([(":error-code", code),
                       (":error-message", message),
                       (":message-type", "error")], b"")


def chunk(obj):
    """An InvokeModelWithResponseStream "chunk" event: the model's JSON
    in base64 "bytes"."""
    return event("chunk", {"bytes": base64.b64encode(_json(obj)).decode()})


def usage(inp=0, out=0, cr=0, cw=0, images=0):
    return {"input_tokens": inp, "output_tokens": out,
            "cache_read_input_tokens": cr, "cache_write_input_tokens": cw,
            "images": images}


def _request_id(n):
    return "5ynth371-c000-4000-8000-%012d" % n


def _stream_headers(n, extra=()):
    return [("Content-Type", ES_CONTENT_TYPE),
            ("x-amzn-RequestId", _request_id(n))] + list(extra)


def _json_headers(n, extra=()):
    return [("Content-Type", "application/json"),
            ("x-amzn-RequestId", _request_id(n))] + list(extra)


# --- Anthropic on InvokeModelWithResponseStream ------------------------------

ANTHROPIC_BEDROCK = [("X-Amzn-Bedrock-Content-Type", "application/json")]


def _anthropic_start(inp, cr=0, cw=0):
    u = {"input_tokens": inp, "output_tokens": 1}
    if cr or cw:
        u["cache_read_input_tokens"] = cr
        u["cache_creation_input_tokens"] = cw
    return chunk({"type": "message_start", "message": {
        "id": "msg_bdrk_synthetic", "type": "message", "role": "assistant",
        "model": "claude-3-haiku-20240307", "content": [],
        "stop_reason": None, "stop_sequence": None, "usage": u}})


def _anthropic_delta(text):
    return chunk({"type": "content_block_delta", "index": 0,
                  "delta": {"type": "text_delta", "text": text}})


def _anthropic_message_delta(out):
    return chunk({"type": "message_delta",
                  "delta": {"stop_reason": "end_turn",
                            "stop_sequence": None},
                  "usage": {"output_tokens": out}})


def _anthropic_stop(inp, out, cr=0, cw=0):
    return chunk({"type": "message_stop",
                  "amazon-bedrock-invocationMetrics": {
                      "inputTokenCount": inp, "outputTokenCount": out,
                      "cacheReadInputTokenCount": cr,
                      "cacheWriteInputTokenCount": cw,
                      "invocationLatency": 1234, "firstByteLatency": 56}})


def anthropic_stream_big(size):
    """
    About "size" bytes of an Anthropic stream: the deltas are one message
    repeated (so building 50 MB costs a bytes multiplication), the usage
    is exact: input 1234, output the number of deltas, cache read 77.
    """
    delta = _anthropic_delta("lorem ipsum dolor sit amet " * 8)
    start = _anthropic_start(1234)
    n = max(1, (size - len(start) - 600) // len(delta))
    body = start + delta * n + _anthropic_message_delta(n) + \
        _anthropic_stop(1234, n, cr=77)
    return Synthetic(200, _stream_headers(1, ANTHROPIC_BEDROCK), body,
                     usage(1234, n, 77, 0))


def anthropic_stream_huge_event(size):
    """
    One content_block_delta of about "size" bytes (its text, JSON-escaped
    in places, then base64 in "bytes"), between a normal start and end:
    a single event-stream message far bigger than any buffer.  Usage:
    input 321, output 3, cache write 11.
    """
    text = ("x" * 1000 + '"\u00e9\\\n') * max(1, size * 3 // 4 // 1004)
    body = _anthropic_start(321, cw=11) + _anthropic_delta(text) + \
        _anthropic_message_delta(3) + _anthropic_stop(321, 3, cw=11)
    return Synthetic(200, _stream_headers(12, ANTHROPIC_BEDROCK), body,
                     usage(321, 3, 0, 11))


def _anthropic_big_headers():
    """A delta whose headers (3 KB) are over the decoder's header buffer:
    it is skipped (with a warning), the rest is metered exactly."""
    big = es_message([(":event-type", "chunk"),
                      (":content-type", "application/json"),
                      (":message-type", "event"),
                      ("x-synthetic-padding", "p" * 3000)],
                     _json({"bytes": base64.b64encode(_json({
                         "type": "content_block_delta", "index": 0,
                         "delta": {"type": "text_delta",
                                   "text": "skipped"}})).decode()}))
    body = _anthropic_start(40) + _anthropic_delta("a") + big + \
        _anthropic_delta("b") + _anthropic_message_delta(4) + \
        _anthropic_stop(40, 4)
    return Synthetic(200, _stream_headers(13, ANTHROPIC_BEDROCK), body,
                     usage(40, 4))


def _anthropic_throttled():
    """message_start and two deltas, then a throttling exception: the input
    tokens (and message_start's output count, 1) were seen."""
    body = _anthropic_start(25) + _anthropic_delta("Hel") + \
        _anthropic_delta("lo") + exception(
            "throttlingException",
            "Too many requests, please wait before trying again.")
    return Synthetic(200, _stream_headers(2, ANTHROPIC_BEDROCK), body,
                     usage(25, 1), "ThrottlingException")


def _anthropic_model_stream_error():
    """The whole generation (message_delta with 9 output tokens), then a
    modelStreamErrorException instead of the message_stop metrics."""
    body = _anthropic_start(31, cr=5) + _anthropic_delta("Hi") + \
        _anthropic_message_delta(9) + exception(
            "modelStreamErrorException",
            "The model encountered an error processing the stream.")
    return Synthetic(200, _stream_headers(3, ANTHROPIC_BEDROCK), body,
                     usage(31, 9, 5), "ModelStreamErrorException")


# --- other families on InvokeModelWithResponseStream, without the metrics ---

def _nova_stream():
    """Nova's own stream: the usage in its "metadata" chunk."""
    body = b"".join(chunk(o) for o in (
        {"messageStart": {"role": "assistant"}},
        {"contentBlockDelta": {"delta": {"text": "Hi"},
                               "contentBlockIndex": 0}},
        {"contentBlockStop": {"contentBlockIndex": 0}},
        {"messageStop": {"stopReason": "end_turn"}},
        {"metadata": {"usage": {"inputTokens": 12, "outputTokens": 5,
                                "cacheReadInputTokenCount": 3,
                                "cacheWriteInputTokenCount": 0}}}))
    return Synthetic(200, _stream_headers(14, ANTHROPIC_BEDROCK), body,
                     usage(12, 5, 3))


def _llama_stream():
    """Llama: prompt_token_count in the first chunk (null after), the
    running generation_token_count in each."""
    objs = [{"generation": t, "prompt_token_count": 22 if i == 0 else None,
             "generation_token_count": i + 1, "stop_reason": None}
            for i, t in enumerate(["Hi", " there", ",", " friend", "!"])]
    objs.append({"generation": "", "prompt_token_count": None,
                 "generation_token_count": 6, "stop_reason": "stop"})
    body = b"".join(chunk(o) for o in objs)
    return Synthetic(200, _stream_headers(15, ANTHROPIC_BEDROCK), body,
                     usage(22, 6))


# --- ConverseStream ----------------------------------------------------------

def _converse_start():
    return [event("messageStart", {"role": "assistant", "p": "abcd"}),
            event("contentBlockDelta", {"contentBlockIndex": 0,
                                        "delta": {"text": "Hello"},
                                        "p": "abcdefgh"}),
            event("contentBlockDelta", {"contentBlockIndex": 0,
                                        "delta": {"text": " there"},
                                        "p": "ab"})]


def _converse_throttled():
    body = b"".join(_converse_start()) + exception(
        "throttlingException",
        "Too many requests, please wait before trying again.")
    return Synthetic(200, _stream_headers(4), body, usage(),
                     "ThrottlingException")


def _converse_error_message():
    body = b"".join(_converse_start()) + error_frame(
        "internalServerException", "internal error")
    return Synthetic(200, _stream_headers(5), body, usage(),
                     "InternalServerException")


# --- errors with a status ----------------------------------------------------

def _error_json_type():
    """400 with the type only in the JSON body's "__type" (AWS's JSON 1.1
    shape), no x-amzn-ErrorType."""
    body = _json({"__type": "com.amazon.coral.validate#ValidationException",
                  "message": "Malformed input request, please reformat."})
    return Synthetic(400, _json_headers(6), body, usage(),
                     "ValidationException")


def _error_header_colon():
    """429 with x-amzn-ErrorType "Type:namespace" as AWS sends it."""
    return Synthetic(429, _json_headers(7, [
        ("x-amzn-ErrorType",
         "ThrottlingException:http://internal.amazon.com/coral/"
         "com.amazon.bedrock/")]),
        _json({"message": "Too many requests, please wait before trying "
                          "again. You have sent too many requests."}),
        usage(), "ThrottlingException")


def _error_429_bare():
    """429 with neither x-amzn-ErrorType nor "__type"."""
    return Synthetic(429, _json_headers(8),
                     _json({"message": "Rate exceeded"}), usage(),
                     "ThrottlingException")


# --- image models ------------------------------------------------------------

_PNG_B64 = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 64).decode()


def _titan_image():
    return Synthetic(200, _json_headers(10), _json(
        {"images": [_PNG_B64, _PNG_B64], "error": None}), usage(images=2))


def _stability_image():
    return Synthetic(200, _json_headers(11), _json(
        {"result": "success", "artifacts": [
            {"seed": 1, "base64": _PNG_B64, "finishReason": "SUCCESS"},
            {"seed": 2, "base64": _PNG_B64, "finishReason": "SUCCESS"},
            {"seed": 3, "base64": _PNG_B64, "finishReason": "SUCCESS"}]}),
        usage(images=3))


# --- SageMaker ---------------------------------------------------------------

SM_JSON = [("X-Amzn-Invoked-Production-Variant", "AllTraffic")]


def _sm_stream_headers(n):
    return _stream_headers(n, [
        ("X-Amzn-SageMaker-Content-Type", "text/event-stream"),
        ("X-Amzn-Invoked-Production-Variant", "AllTraffic")])


def payload_parts(raw, cuts, extra_headers=()):
    """The raw model bytes as PayloadPart events, cut at these offsets."""
    edges = [0] + sorted(cuts) + [len(raw)]
    return b"".join(event("PayloadPart", raw[a:b], "application/octet-stream",
                          extra_headers)
                    for a, b in zip(edges, edges[1:]) if b > a)


def cuts_at(raw, *marks):
    """Offsets into raw: each mark is (substring, offset inside it), the
    first occurrence at or after the previous mark's."""
    out = []
    pos = 0
    for s, k in marks:
        i = raw.index(s.encode() if isinstance(s, str) else s, pos)
        out.append(i + k)
        pos = i
    return sorted(set(out))


def _sm_openai_json():
    """An OpenAI-style chat completion (vLLM, LMI): usage with cached
    prompt tokens; input excludes them."""
    body = _json({
        "id": "chatcmpl-synthetic", "object": "chat.completion",
        "created": 1735689600, "model": "meta-llama/Llama-3.1-8B-Instruct",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {
            "role": "assistant", "content": "Hello! How can I help?"}}],
        "usage": {"prompt_tokens": 57, "completion_tokens": 17,
                  "total_tokens": 74,
                  "prompt_tokens_details": {"cached_tokens": 32}}})
    return Synthetic(200, _json_headers(20, SM_JSON), body,
                     usage(25, 17, 32))


def _tgi_token(i, text):
    return {"id": 1000 + i, "text": text, "logprob": -0.25, "special": False}


def _sm_tgi_json():
    """TGI with details and decoder_input_details: prefill has one entry
    per input token (6), generated_tokens is the output (7); the tokens[]
    entries look like prefill's and must not count as input."""
    prefill = [{"id": 1, "text": "<s>", "logprob": None}] + [
        {"id": 100 + i, "text": t, "logprob": -1.5}
        for i, t in enumerate(["What", " is", " deep", " learning", "?"])]
    tokens = [_tgi_token(i, t) for i, t in enumerate(
        ["Deep", " learning", " is", " a", " subset", " of", " ML"])]
    body = _json([{"generated_text": "Deep learning is a subset of ML",
                   "details": {"finish_reason": "length",
                               "generated_tokens": 7, "seed": None,
                               "prefill": prefill, "tokens": tokens}}])
    return Synthetic(200, _json_headers(21, SM_JSON), body, usage(6, 7))


def _sse(objs, eol="\n"):
    return "".join("data: %s%s%s" % (
        o if isinstance(o, str) else json.dumps(o, separators=(",", ":")),
        eol, eol) for o in objs).encode()


def _openai_sse_raw(eol):
    deltas = [{"id": "chatcmpl-s", "object": "chat.completion.chunk",
               "choices": [{"index": 0, "delta": {"content": t},
                            "finish_reason": None}], "usage": None}
              for t in ("Hel", "lo", " world")]
    final = {"id": "chatcmpl-s", "object": "chat.completion.chunk",
             "choices": [],
             "usage": {"prompt_tokens": 42, "completion_tokens": 19,
                       "total_tokens": 61}}
    return _sse(deltas + [final, "[DONE]"], eol)


# int, timestamp, uuid and bool headers: the decoder must skip them
ODD_HEADERS = [("x-synthetic-int", ("int32", -7)),
               ("x-synthetic-time", ("timestamp", 1735689600000)),
               ("x-synthetic-uuid", ("uuid", bytes(range(16)))),
               ("x-synthetic-flag", True)]


def _sm_openai_stream():
    """OpenAI-style server-sent events (vLLM with include_usage) in
    PayloadParts cut mid "data:", between "\\n\\n", inside the usage JSON
    (mid key, mid number) and inside "[DONE]"."""
    raw = _openai_sse_raw("\n")
    cuts = cuts_at(raw, ("data:", 2), ("\n\n", 1), ("data: ", 5),
                   ('"usage":{"prompt_tok', 12), ('42', 1),
                   ('"completion_tokens":19', 21), ("[DONE]", 3))
    body = payload_parts(raw, cuts, ODD_HEADERS)
    return Synthetic(200, _sm_stream_headers(22), body, usage(42, 19))


def _sm_openai_stream_crlf():
    """The same with CRLF line ends, parts cut between CR and LF, and one
    byte per part through the usage event."""
    raw = _openai_sse_raw("\r\n")
    i = raw.index(b'data: {"id":"chatcmpl-s","object":"chat.completion.chunk"'
                  b',"choices":[],')
    cuts = cuts_at(raw, ("\r\n", 1), ("\r\n\r\n", 3), ("\r\n", 1)) + \
        list(range(i, len(raw)))
    body = payload_parts(raw, sorted(set(cuts)))
    return Synthetic(200, _sm_stream_headers(23), body, usage(42, 19))


def _tgi_sse_raw():
    objs = [{"index": i + 1, "token": _tgi_token(i, t),
             "generated_text": None, "details": None}
            for i, t in enumerate(["Deep", " learning", " is", " fun"])]
    objs.append({"index": 5, "token": _tgi_token(4, "!"),
                 "generated_text": "Deep learning is fun!",
                 "details": {"finish_reason": "eos_token",
                             "generated_tokens": 5, "seed": None}})
    return "".join("data:%s\n\n" % json.dumps(o, separators=(",", ":"))
                   for o in objs).encode()


def _sm_tgi_stream():
    """TGI 1.x server-sent events ("data:" without a space): the last
    event's details.generated_tokens is the output; a TGI stream gives no
    prefill (decoder_input_details cannot be streamed) and 1.x no
    input_length, so input is 0."""
    raw = _tgi_sse_raw()
    cuts = cuts_at(raw, ("data:", 3), ('"token":{"id"', 9), ("\n\n", 1),
                   ('"generated_tokens":5', 7), ('"generated_tokens":5', 19))
    body = payload_parts(raw, cuts)
    return Synthetic(200, _sm_stream_headers(24), body, usage(0, 5))


def _sm_tgi_stream_prefill():
    """TGI-shaped stream whose final details carry prefill (3 entries)."""
    raw = _tgi_sse_raw().replace(
        b'"generated_tokens":5,"seed":null}',
        b'"generated_tokens":5,"seed":null,"prefill":[{"id":1,"text":"<s>",'
        b'"logprob":null},{"id":2,"text":"Hi","logprob":-1.0},'
        b'{"id":3,"text":"!","logprob":-2.0}]}')
    cuts = cuts_at(raw, ('"prefill":[', 4), ('{"id":2', 3))
    body = payload_parts(raw, cuts)
    return Synthetic(200, _sm_stream_headers(25), body, usage(3, 5))


def _sm_tgi2_stream():
    """TGI 2.x server-sent events: each event has "top_tokens", and the
    last one's details carry "input_length", the input tokens (19); parts
    cut inside the key and inside its number."""
    objs = [{"index": i + 1, "token": _tgi_token(i, t),
             "generated_text": None, "details": None, "top_tokens": []}
            for i, t in enumerate(["Deep", " learning", " is", " fun"])]
    objs.append({"index": 5, "token": _tgi_token(4, "!"),
                 "generated_text": "Deep learning is fun!",
                 "details": {"finish_reason": "eos_token",
                             "generated_tokens": 5, "seed": None,
                             "input_length": 19},
                 "top_tokens": []})
    raw = "".join("data:%s\n\n" % json.dumps(o, separators=(",", ":"))
                  for o in objs).encode()
    cuts = cuts_at(raw, ("data:", 3), ("\n\n", 1),
                   ('"input_length":19', 7), ('"input_length":19', 16))
    body = payload_parts(raw, cuts)
    return Synthetic(200, _sm_stream_headers(29), body, usage(19, 5))


def _sm_openai_stream_sse_fields():
    """Server-sent events with the other fields of the format: a comment
    (": ping"), "event:" and "id:" lines, "data:" without a space, a
    "retry:" line; "prompt_tokens_details": null in the usage."""
    deltas = [{"choices": [{"index": 0, "delta": {"content": t}}],
               "usage": None} for t in ("A", "B")]
    final = {"choices": [], "usage": {
        "prompt_tokens": 13, "completion_tokens": 2, "total_tokens": 15,
        "prompt_tokens_details": None}}
    raw = b": ping\n\nretry: 1000\n\n"
    for i, o in enumerate(deltas + [final]):
        raw += b"event: completion\nid: %d\ndata:%s\n\n" % (
            i, _json(o))
        if i == 0:
            raw += b": keep-alive\n\n"
    raw += b"data: [DONE]\n\n"
    cuts = cuts_at(raw, (": ping", 3), ("event: compl", 6), ("id: 2", 2),
                   ('"prompt_tokens_details":null', 25))
    body = payload_parts(raw, cuts)
    return Synthetic(200, _sm_stream_headers(26), body, usage(13, 2))


def _sm_openai_jsonlines():
    """JSON lines (LMI's jsonlines output), the usage in the last line."""
    raw = b"".join(_json(o) + b"\n" for o in (
        {"choices": [{"index": 0, "delta": {"content": "Hi"}}]},
        {"choices": [{"index": 0, "delta": {"content": "!"}}]},
        {"choices": [], "usage": {"prompt_tokens": 8, "completion_tokens": 2,
                                  "total_tokens": 10}}))
    cuts = cuts_at(raw, ("\n", 0), ("\n", 1), ('"prompt_tokens":8', 16))
    body = payload_parts(raw, cuts)
    return Synthetic(200, _sm_stream_headers(27), body, usage(8, 2))


def _sm_tgi_jsonlines():
    """TGI-shaped JSON lines (LMI's default streaming): token lines, then
    generated_text and details in the last."""
    objs = [{"token": _tgi_token(i, t), "generated_text": None,
             "details": None} for i, t in enumerate(["Hel", "lo"])]
    objs.append({"token": _tgi_token(2, "!"), "generated_text": "Hello!",
                 "details": {"finish_reason": "eos_token",
                             "generated_tokens": 3, "inputs": "Hi",
                             "prefill": [{"id": 1, "text": "<s>"},
                                         {"id": 2, "text": "Hi"}]}})
    raw = b"".join(_json(o) + b"\n" for o in objs)
    cuts = cuts_at(raw, ('"details":{', 5), ('"prefill":[{"id":1', 14))
    body = payload_parts(raw, cuts)
    return Synthetic(200, _sm_stream_headers(28), body, usage(2, 3))



# --- every operation, whole: the stand-ins of the recorded captures ----------
#
# Complete answers of each Bedrock operation (and of SageMaker, above) with
# their exact usage, cache reads and writes among them, shaped as the
# recorded captures of ../shared/testdata are: the tests that replay the
# captures when that data is present use these (helpers.synthetic_cases())
# when it is not.

_LOREM = ("Prompt caching keeps a long, stable prefix of the prompt on the "
          "service side, so that the next request with the same prefix "
          "reads it back instead of paying for it again.")


def _bedrock_invoke_headers(n, inp, out, cr=None, cw=None, latency=1234):
    """InvokeModel's headers as Bedrock sends them (the token counts;
    the cache counts for the models that cache)."""
    hs = [("Content-Type", "application/json")]
    if cr is not None:
        hs.append(("X-Amzn-Bedrock-Cache-Read-Input-Token-Count", str(cr)))
    if cw is not None:
        hs.append(("X-Amzn-Bedrock-Cache-Write-Input-Token-Count", str(cw)))
    hs += [("X-Amzn-Bedrock-Input-Token-Count", str(inp)),
           ("X-Amzn-Bedrock-Invocation-Latency", str(latency)),
           ("X-Amzn-Bedrock-Output-Token-Count", str(out)),
           ("x-amzn-RequestId", _request_id(n))]
    return hs


def _invoke_anthropic(n, inp, out, cr, cw):
    """Anthropic Messages on InvokeModel with prompt caching: the counts
    in the headers and, the same, in the body's "usage"."""
    body = _json({
        "id": "msg_bdrk_01Synth%07d" % n, "type": "message",
        "role": "assistant", "model": "claude-3-5-haiku-20241022",
        "content": [{"type": "text", "text": _LOREM}],
        "stop_reason": "max_tokens", "stop_sequence": None,
        "usage": {"input_tokens": inp, "cache_creation_input_tokens": cw,
                  "cache_read_input_tokens": cr, "output_tokens": out}})
    return Synthetic(200, _bedrock_invoke_headers(n, inp, out, cr, cw),
                     body, usage(inp, out, cr, cw))


# the most tokens the gateway believes one count of a response (the
# module's AIGW_USAGE_COUNT_MAX): a count over it, or not a whole number,
# is not counted
COUNT_MAX = 1000000000


def _believed(text):
    try:
        v = json.loads(text)
    except ValueError:
        return 0
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0 \
            or v != int(v) or v > COUNT_MAX:
        return 0
    return int(v)


def anthropic_invoke_usage(inp, out):
    """Anthropic on InvokeModel, no token headers, the body's usage with
    the counts written as given (any JSON number): its usage is what the
    gateway must count of it."""
    body = ('{"id":"msg_bdrk_01","type":"message","role":"assistant",'
            '"model":"claude-3-haiku-20240307","content":[{"type":"text",'
            '"text":"Hi"}],"stop_reason":"end_turn","stop_sequence":null,'
            '"usage":{"input_tokens":%s,"output_tokens":%s}}'
            % (inp, out)).encode()
    return Synthetic(200, _json_headers(90), body,
                     usage(_believed(inp), _believed(out)))


def _invoke_titan():
    """Titan Text on InvokeModel: inputTextTokenCount and the results'
    tokenCount (and the headers)."""
    body = _json({"inputTextTokenCount": 12, "results": [
        {"tokenCount": 37, "outputText": "\n" + _LOREM,
         "completionReason": "FINISH"}]})
    return Synthetic(200, _bedrock_invoke_headers(32, 12, 37, latency=2433),
                     body, usage(12, 37))


def _invoke_llama():
    """Llama on InvokeModel: prompt_token_count, generation_token_count."""
    body = _json({"generation": "\n" + _LOREM, "prompt_token_count": 19,
                  "generation_token_count": 64, "stop_reason": "length"})
    return Synthetic(200, _bedrock_invoke_headers(33, 19, 64, latency=715),
                     body, usage(19, 64))


def _invoke_nova():
    """Nova on InvokeModel (a cross-region profile): "usage" with the
    cache counts under Nova's own names."""
    body = _json({"output": {"message": {"content": [{"text": _LOREM}],
                                         "role": "assistant"}},
                  "stopReason": "end_turn",
                  "usage": {"inputTokens": 7, "outputTokens": 53,
                            "totalTokens": 60 + 512,
                            "cacheReadInputTokenCount": 512,
                            "cacheWriteInputTokenCount": 0}})
    return Synthetic(200, _bedrock_invoke_headers(34, 7, 53, 512, 0),
                     body, usage(7, 53, 512, 0))


def _invoke_openai():
    """An imported model on InvokeModel: OpenAI-style "usage"."""
    body = _json({"id": "cmpl-synthetic", "object": "text_completion",
                  "created": 1735689600, "model": "imported",
                  "choices": [{"index": 0, "text": _LOREM, "logprobs": None,
                               "finish_reason": "length",
                               "stop_reason": None}],
                  "usage": {"prompt_tokens": 6, "total_tokens": 106,
                            "completion_tokens": 100}})
    return Synthetic(200, _bedrock_invoke_headers(35, 6, 100, latency=3907),
                     body, usage(6, 100))


def _invoke_claude_v2():
    """Claude 2's Text Completions on InvokeModel: the counts are in the
    headers only, the body has none."""
    body = _json({"type": "completion", "completion": " " + _LOREM,
                  "stop_reason": "stop_sequence", "stop": "\n\nHuman:"})
    return Synthetic(200, _bedrock_invoke_headers(41, 18, 87, latency=4012),
                     body, usage(18, 87))


def _anthropic_stream():
    """Anthropic on InvokeModelWithResponseStream with prompt caching:
    message_start (input 25, cache read 1024, write 256, output 1),
    content_block_start, deltas, content_block_stop, message_delta
    (output 21), message_stop with the invocation metrics."""
    words = ["Why", " did", " the", " cache", " cross", " the", " road",
             "?", " To", " be", " read", " back", "!"]
    body = _anthropic_start(25, cr=1024, cw=256) + chunk(
        {"type": "content_block_start", "index": 0,
         "content_block": {"type": "text", "text": ""}}) + b"".join(
        _anthropic_delta(w) for w in words) + chunk(
        {"type": "content_block_stop", "index": 0}) + \
        _anthropic_message_delta(21) + _anthropic_stop(25, 21, cr=1024,
                                                       cw=256)
    return Synthetic(200, _stream_headers(36, ANTHROPIC_BEDROCK), body,
                     usage(25, 21, 1024, 256))


def _titan_stream():
    """Titan on InvokeModelWithResponseStream, without the invocation
    metrics (as when a guardrail acts): the counts as JSON floats, input
    in the first chunk, output in the last."""
    text = "\n" + _LOREM
    body = chunk({"outputText": text[:60], "index": 0.0,
                  "inputTextTokenCount": 14.0}) + \
        chunk({"outputText": text[60:120], "index": 0.0}) + \
        chunk({"outputText": text[120:], "index": 0.0,
               "totalOutputTextTokenCount": 61.0,
               "completionReason": "FINISH"})
    return Synthetic(200, _stream_headers(37, ANTHROPIC_BEDROCK), body,
                     usage(14, 61))


_GUARDRAIL_TRACE = {"guardrail": {"inputAssessment": {"synth0guard1": {
    "invocationMetrics": {
        "guardrailCoverage": {"textCharacters": {"guarded": 52,
                                                 "total": 52}},
        "guardrailProcessingLatency": 296,
        "usage": {"contentPolicyUnits": 1,
                  "contextualGroundingPolicyUnits": 0,
                  "sensitiveInformationPolicyFreeUnits": 0,
                  "sensitiveInformationPolicyUnits": 1,
                  "topicPolicyUnits": 1, "wordPolicyUnits": 1}}}}}}


def _converse():
    """Converse (an inference profile ARN): a guardrail trace whose
    "usage" objects are policy units, then the top-level "usage" with
    cache reads and writes."""
    body = _json({"metrics": {"latencyMs": 2900}, "output": {"message": {
        "content": [{"text": _LOREM}], "role": "assistant"}},
        "stopReason": "end_turn", "trace": _GUARDRAIL_TRACE,
        "usage": {"cacheReadInputTokens": 1536, "cacheWriteInputTokens": 512,
                  "inputTokens": 20, "outputTokens": 72,
                  "totalTokens": 2140}})
    return Synthetic(200, _json_headers(38), body, usage(20, 72, 1536, 512))


def _converse_stream_events(words, usage_obj, trace=None):
    out = [event("messageStart", {"p": "abcdefghijklmnopqrst",
                                  "role": "assistant"})]
    for i, w in enumerate(words):
        out.append(event("contentBlockDelta", {
            "contentBlockIndex": 0, "delta": {"text": w},
            "p": "abcdefghijklmnopqrstuvwxyz"[:5 + 7 * i % 21]}))
    out += [event("contentBlockStop", {"contentBlockIndex": 0, "p": "abc"}),
            event("messageStop", {"p": "ab", "stopReason": "end_turn"})]
    meta = {"metrics": {"latencyMs": 821}, "p": "abcdefghijklmnop"}
    if trace:
        meta["trace"] = trace
    meta["usage"] = usage_obj
    out.append(event("metadata", meta))
    return b"".join(out)


def _converse_stream():
    """ConverseStream with prompt caching: the usage in the metadata
    event, the last."""
    body = _converse_stream_events(
        ["Tokyo", " is", " the", " capital", " of", " Japan", "."],
        {"cacheReadInputTokens": 300, "cacheWriteInputTokens": 1200,
         "inputTokens": 54, "outputTokens": 18, "totalTokens": 1572})
    return Synthetic(200, _stream_headers(39), body,
                     usage(54, 18, 300, 1200))


def _converse_stream_guardrail():
    """ConverseStream with a guardrail trace (policy "usage" objects) in
    the metadata event before the token usage."""
    body = _converse_stream_events(
        ["{ADDRESS}", " is", " the", " capital", "", " of", " Japan", ""],
        {"inputTokens": 28, "outputTokens": 22, "totalTokens": 50},
        trace=_GUARDRAIL_TRACE)
    return Synthetic(200, _stream_headers(40), body, usage(28, 22))


# --- hostile upstreams: what AWS should never send, sent anyway --------------
#
# The gateway must pass each one to the client as it came, count the
# request once (with the error and its type where there is one), and stay
# ready for the next request.  The usage is what it can rightly read.

def _html_500():
    """A 500 whose body is an HTML page: no x-amzn-ErrorType, no JSON."""
    return Synthetic(500, [("Content-Type", "text/html"),
                           ("x-amzn-RequestId", _request_id(50))],
                     b"<html><body><h1>500 Internal Server Error</h1>"
                     b"</body></html>\n", usage(), "InternalServerException")


def _text_503():
    """A 503 in plain text, as a load balancer in front may send it."""
    return Synthetic(503, [("Content-Type", "text/plain")],
                     b"Service Unavailable\r\n",
                     usage(), "ServiceUnavailableException")


def _json_type_garbage():
    """A 400 whose x-amzn-ErrorType is garbage and whose JSON is cut."""
    return Synthetic(400, [("Content-Type", "application/json"),
                           ("x-amzn-ErrorType", "\"};{<script>:x")],
                     b'{"message": "bad', usage(), "Script")


def _converse_malformed():
    """A 200 from Converse whose JSON breaks off inside "usage": the
    input count before the break is read (partial)."""
    return Synthetic(200, _json_headers(51),
                     b'{"output":{"message":{"role":"assistant","content":'
                     b'[{"text":"hi"}]}},"usage":{"inputTokens":12,"output',
                     usage(12))


def _converse_not_json():
    """A 200 from Converse whose body is not JSON at all."""
    return Synthetic(200, _json_headers(52),
                     b"<html>\x00\xff\xfe not json at all</html>", usage())


def _converse_counts(inp, out):
    """Converse with these "usage" values, written as given (raw JSON
    text: negative, fractional, absurd)."""
    body = (b'{"output":{"message":{"role":"assistant","content":'
            b'[{"text":"hi"}]}},"stopReason":"end_turn","usage":'
            b'{"inputTokens":%s,"outputTokens":%s,"totalTokens":3}}'
            % (inp.encode(), out.encode()))
    return body


def _invoke_counts(inp, out):
    """InvokeModel with these token-count headers, written as given."""
    hs = [("Content-Type", "application/json"),
          ("X-Amzn-Bedrock-Input-Token-Count", inp),
          ("X-Amzn-Bedrock-Output-Token-Count", out),
          ("X-Amzn-Bedrock-Invocation-Latency", "5"),
          ("x-amzn-RequestId", _request_id(53))]
    return hs, _json({"completion": "hi", "stop_reason": "end_turn"})


def _converse_stream_bad_crc():
    """ConverseStream whose metadata event (the usage) has a wrong
    message CRC: that event does not count, the others pass."""
    meta = bytearray(event("metadata", {"usage": {
        "inputTokens": 54, "outputTokens": 18, "totalTokens": 72}}))
    meta[-1] ^= 0xff
    body = b"".join(_converse_start()) + event(
        "messageStop", {"stopReason": "end_turn"}) + bytes(meta)
    return Synthetic(200, _stream_headers(54), body, usage())


def _converse_stream_bad_prelude():
    """A message whose prelude CRC is wrong after the first events: the
    framing is lost, nothing after it counts (the usage came after)."""
    bad = bytearray(event("metadata", {"usage": {
        "inputTokens": 54, "outputTokens": 18, "totalTokens": 72}}))
    bad[9] ^= 0x55
    body = b"".join(_converse_start()) + bytes(bad)
    return Synthetic(200, _stream_headers(55), body, usage())


def _converse_stream_oversized():
    """After the usage (metadata first), a prelude that announces a
    message of 2 GiB (past the 16 MiB bound, with a correct prelude CRC),
    then 64 KiB of its bytes: the usage that came before stands."""
    prelude = struct.pack(">II", 0x7ffffff0, 64)
    prelude += struct.pack(">I", zlib.crc32(prelude) & 0xffffffff)
    body = event("metadata", {"usage": {
        "inputTokens": 54, "outputTokens": 18, "totalTokens": 72}}) + \
        b"".join(_converse_start()) + prelude + b"\xa5" * 65536
    return Synthetic(200, _stream_headers(56), body, usage(54, 18))


def _anthropic_stream_huge_headers_len():
    """A message whose headers length is past the 128 KiB bound (prelude
    CRC correct) after message_start: message_start's counts stand."""
    prelude = struct.pack(">II", 300000, 200000)
    prelude += struct.pack(">I", zlib.crc32(prelude) & 0xffffffff)
    body = _anthropic_start(25) + prelude + b"\x00" * 4096
    return Synthetic(200, _stream_headers(57, ANTHROPIC_BEDROCK), body,
                     usage(25, 1))


def _huge_header():
    """A 200 with a 16 KB response header: past nginx's proxy_buffer_size,
    so nginx answers 502 itself."""
    return Synthetic(200, _json_headers(59, [("X-Padding", "p" * 16384)]),
                     _converse_counts("12", "7"), usage(),
                     "ServiceUnavailableException")


def _no_content():
    """A 204 to Converse: no body, no usage, and nothing cut."""
    return Synthetic(204, [("x-amzn-RequestId", _request_id(60))], b"",
                     usage())


HOSTILE = {
    "hostile-huge-header": _huge_header,
    "hostile-204": _no_content,
    "hostile-html-500": _html_500,
    "hostile-text-503": _text_503,
    "hostile-json-type-garbage": _json_type_garbage,
    "hostile-converse-malformed": _converse_malformed,
    "hostile-converse-not-json": _converse_not_json,
    "hostile-converse-stream-bad-crc": _converse_stream_bad_crc,
    "hostile-converse-stream-bad-prelude": _converse_stream_bad_prelude,
    "hostile-converse-stream-oversized": _converse_stream_oversized,
    "hostile-anthropic-stream-huge-headers-len":
        _anthropic_stream_huge_headers_len,
}


def hostile_counts(where, inp, out):
    """
    "hostile-converse-counts:<in>:<out>" or
    "hostile-invoke-counts:<in>:<out>": Converse (the counts in the body's
    "usage", as raw JSON text) or InvokeModel (in the token headers) with
    these token counts written as given: "-5", "1e3", "10000000000000000000".
    The usage given is what the counts say when both are plain integers
    the gateway may take (0 to 100,000,000), else none.
    """
    def plain(v):
        return v.isdigit() and int(v) <= 100000000
    u = usage(int(inp), int(out)) if plain(inp) and plain(out) else usage()
    if where == "converse":
        return Synthetic(200, _json_headers(58), _converse_counts(inp, out),
                         u)
    hs, body = _invoke_counts(inp, out)
    return Synthetic(200, hs, body, u)


FIXED = {
    "anthropic-stream-throttled": _anthropic_throttled,
    "anthropic-stream-model-error": _anthropic_model_stream_error,
    "anthropic-stream-big-headers": _anthropic_big_headers,
    "nova-stream": _nova_stream,
    "llama-stream": _llama_stream,
    "converse-stream-throttled": _converse_throttled,
    "converse-stream-error-message": _converse_error_message,
    "error-json-type": _error_json_type,
    "error-header-colon": _error_header_colon,
    "error-429-bare": _error_429_bare,
    "titan-image": _titan_image,
    "stability-image": _stability_image,
    "sm-openai-json": _sm_openai_json,
    "sm-tgi-json": _sm_tgi_json,
    "sm-openai-stream": _sm_openai_stream,
    "sm-openai-stream-crlf": _sm_openai_stream_crlf,
    "sm-tgi-stream": _sm_tgi_stream,
    "sm-tgi-stream-prefill": _sm_tgi_stream_prefill,
    "sm-tgi2-stream": _sm_tgi2_stream,
    "sm-openai-stream-sse-fields": _sm_openai_stream_sse_fields,
    "sm-openai-jsonlines": _sm_openai_jsonlines,
    "sm-tgi-jsonlines": _sm_tgi_jsonlines,
    "invoke-anthropic-cache-write":
        lambda: _invoke_anthropic(30, 6, 48, 0, 2048),
    "invoke-anthropic-cache-read":
        lambda: _invoke_anthropic(31, 6, 41, 2048, 0),
    "invoke-titan": _invoke_titan,
    "invoke-llama": _invoke_llama,
    "invoke-nova": _invoke_nova,
    "invoke-openai": _invoke_openai,
    "invoke-claude-v2": _invoke_claude_v2,
    "anthropic-stream": _anthropic_stream,
    "titan-stream": _titan_stream,
    "converse": _converse,
    "converse-stream": _converse_stream,
    "converse-stream-guardrail": _converse_stream_guardrail,
}

# the well-formed ones (the hostile ones are built on demand too)
NAMES = sorted(FIXED)
FIXED.update(HOSTILE)

_cache = {}


def build(name):
    """The Synthetic of a name, or None."""
    name = (name or "").strip()
    if name in _cache:
        return _cache[name]
    if name in FIXED:
        out = FIXED[name]()
    elif name.startswith(("anthropic-stream-big:",
                          "anthropic-stream-huge-event:")):
        kind, _, size = name.partition(":")
        try:
            size = int(size)
        except ValueError:
            return None
        if not 0 < size <= 256 * 1024 * 1024:
            return None
        make = anthropic_stream_big if kind == "anthropic-stream-big" \
            else anthropic_stream_huge_event
        return make(size)                       # not cached: it is big
    elif name.startswith("invoke-anthropic-usage:"):
        # "invoke-anthropic-usage:IN:OUT", the counts as they are written
        # (huge, negative, fractional): not cached, made on demand
        parts = name.split(":")
        if len(parts) != 3 or not all(
                re.match(r"^-?[0-9][0-9.eE+-]{0,40}$", p) for p in parts[1:]):
            return None
        return anthropic_invoke_usage(parts[1], parts[2])
    elif name.startswith(("hostile-converse-counts:",
                          "hostile-invoke-counts:")):
        kind, inp, out = name.split(":", 2)
        if not re.match(r"^[-+0-9.eE]{1,40}$", inp) or not re.match(
                r"^[-+0-9.eE]{1,40}$", out):
            return None
        out = hostile_counts(kind.split("-")[1], inp, out)
    else:
        return None
    _cache[name] = out
    return out

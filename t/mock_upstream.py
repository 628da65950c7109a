#!/usr/bin/python3
"""
A mock of Amazon Bedrock Runtime and SageMaker Runtime for aigw's tests.

Standard library plus botocore only.  Every request's SigV4 signature is
verified with botocore (an implementation independent of aigw's C signer),
every request is recorded, and responses are either replays of real
Bedrock captures (header ``X-Mock-Capture: <capture dir>``) or small
defaults, framed so that the proxy in front sees arbitrary byte boundaries.

Run as a script::

    /usr/bin/python3 t/mock_upstream.py --port 9000 \
        [--credentials creds.json] [--captures DIR] [--cert C --key K]

or import it and use ``MockUpstream(...).start()``.  Signatures are
checked against ``credentials`` and the Mappings given to ``trust()``
(mock_aws.KeyRegistry: the keys the AWS credential mocks issued); an
entry with "not_before"/"not_after" (epoch seconds) signs only within
that window at the request's arrival ("signed with an expired key"),
and a key in none is refused ("signed with an unknown key").

Control endpoints (never signed):

    GET  /__mock/requests          the recorded requests, JSON list
    POST /__mock/reset             forget them (and pending holds)
    POST /__mock/release/<token>   let a held response continue
    GET  /__mock/health            "ok"

Request headers understood by the mock (they are part of what the proxy
must pass through unchanged, so a proxy test can steer the mock):

    X-Mock-Capture: <name>     replay bedrock-captures/<name>
    X-Mock-Chunking: none | events | 1 | random:<seed>[:<max>]
                               how the response body is cut; every piece but
                               in "none" mode is its own HTTP chunk, sent
                               with TCP_NODELAY as a separate write
    X-Mock-Hold: <token>       send headers and the first piece, then wait
                               for POST /__mock/release/<token> (or the hold
                               timeout) before sending the rest
    X-Mock-Status: <code>      answer with that status and a Bedrock-shaped
                               JSON error (x-amzn-ErrorType)
    X-Mock-Synthetic: <name>   answer with a synthetic response of
                               mock_synthetic.py (SageMaker streams, stream
                               exceptions, AWS error shapes, images, a big
                               stream), its usage known exactly
    X-Mock-Cut-After: <n>[:rst]  send only the first n bytes of the body,
                               then close the connection (":rst": reset it)
    X-Mock-Drop-Headers: <name>,...  replay a capture (or send a
                               synthetic response) without these response
                               headers
    X-Mock-Delay: <seconds>    wait that long before the status line (a
                               very slow first byte)
    X-Mock-Fault: <kind>       break the framing of the body after its
                               first piece, then close the connection:
                               "chunk-short" (a chunk announces more bytes
                               than follow), "chunk-garbage" (a chunk-size
                               line that is not hex), "length-short"
                               (Content-Length says more than is sent)
"""

import argparse
import base64
import collections
import datetime
import hashlib
import hmac
import json
import os
import random
import re
import socket
import ssl
import struct
import sys
import threading
import time
import urllib.parse
import uuid
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

import mock_synthetic


# Test credentials known to the mock unless --credentials says otherwise.
# Secrets and tokens carry "/", "+" and "=" as real ones do.
LONG_TERM_AKID = "AKIAAIGWTEST00000001"
LONG_TERM_SECRET = "aigw/Test+Secret/Key0000000000000000000001"
TEMP_AKID = "ASIAAIGWTEST00000002"
TEMP_SECRET = "aigw/Temp+Secret/Key0000000000000000000002"
TEMP_TOKEN = (
    "IQoJb3JpZ2luX2VjEXAMPLE//////////wEaCXVzLWVhc3QtMSJHMEUCIQD+aigw+test="
    + "A" * 600
    + "/session+token=="
)

DEFAULT_CREDENTIALS = {
    LONG_TERM_AKID: {"secret": LONG_TERM_SECRET},
    TEMP_AKID: {"secret": TEMP_SECRET, "token": TEMP_TOKEN},
}

SIGV4_TIMESTAMP = "%Y%m%dT%H%M%SZ"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()

# bodies up to this size are kept in the record (base64); bigger ones are
# only hashed while they stream in
KEEP_BODY_MAX = 64 * 1024
READ_PIECE = 64 * 1024

BEDROCK_OPS = ("invoke", "invoke-with-response-stream", "converse",
               "converse-stream", "count-tokens")
SAGEMAKER_OPS = ("invocations", "invocations-response-stream")
STREAM_OPS = ("invoke-with-response-stream", "converse-stream",
              "invocations-response-stream")

BEDROCK_RE = re.compile(r"^/model/([^/]+)/([^/]+)$")
SAGEMAKER_RE = re.compile(r"^/endpoints/([^/]+)/([^/]+)$")
AUTH_RE = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),"
    r"\s*Signature=([0-9a-f]{64})$")

ERROR_TYPES = {
    400: "ValidationException",
    403: "AccessDeniedException",
    404: "ResourceNotFoundException",
    408: "ModelTimeoutException",
    413: "ValidationException",
    424: "ModelErrorException",
    429: "ThrottlingException",
    500: "InternalServerException",
    503: "ServiceUnavailableException",
}

# response headers never replayed from a capture: the mock frames the body
# itself
DROP_REPLAY_HEADERS = {"transfer-encoding", "content-length", "connection",
                       "date"}


class SigV4Verifier(SigV4Auth):
    """botocore's signer, fed the received body hash instead of a body."""

    def __init__(self, credentials, service, region, body_sha256):
        super().__init__(credentials, service, region)
        self._body_sha256 = body_sha256

    def payload(self, request):
        return self._body_sha256


def key_window_error(cred, now):
    """
    None if a credential entry may sign at "now" (epoch seconds): it has
    no window, or not_before <= now < not_after; else why not ("signed
    with an expired key", "signed with a key not valid yet").
    """
    nb = cred.get("not_before")
    na = cred.get("not_after")
    if na is not None and now >= na:
        return ("signed with an expired key: it expired at %s, the request"
                " came at %s" % (_utc(na), _utc(now)))
    if nb is not None and now < nb:
        return ("signed with a key not valid yet: it was issued at %s, the"
                " request came at %s" % (_utc(nb), _utc(now)))
    return None


def _utc(t):
    return datetime.datetime.fromtimestamp(
        t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def verify_sigv4(method, target, headers, body_sha256, credentials,
                 expected_service=None, now=None, max_skew=900,
                 require_content_sha256=True):
    """
    Checks a received request's SigV4 signature with botocore.

    method, target: the request line's method and raw request-target (path
    and query exactly as received); headers: list of (name, value) as
    received; body_sha256: hex SHA-256 of the received body; credentials:
    {akid: {"secret": ..., "token": ..., "not_before": ..., "not_after":
    ...}} (any Mapping; the window, epoch seconds, is optional: a key
    used outside it at "now", the request's arrival, fails).

    Returns a dict: ok, error, akid, region, service, date, signed_headers,
    signature, canonical_request, string_to_sign.
    """
    res = {"ok": False, "error": None, "error_type": None, "akid": None,
           "region": None, "service": None, "date": None,
           "signed_headers": [], "signature": None,
           "canonical_request": None, "string_to_sign": None}

    def fail(error_type, msg):
        res["error_type"] = error_type
        res["error"] = msg
        return res

    lower = {}
    for name, value in headers:
        lower.setdefault(name.lower(), []).append(value)

    auths = lower.get("authorization", [])
    if not auths:
        return fail("MissingAuthenticationTokenException",
                    "Missing Authentication Token")
    if len(auths) > 1:
        return fail("InvalidSignatureException",
                    "more than one Authorization header")
    m = AUTH_RE.match(auths[0])
    if not m:
        return fail("IncompleteSignatureException",
                    "malformed Authorization header: %r" % auths[0][:200])
    credential, signed, signature = m.groups()
    res["signature"] = signature

    scope = credential.split("/")
    if len(scope) != 5 or scope[4] != "aws4_request":
        return fail("IncompleteSignatureException",
                    "malformed credential scope %r" % credential)
    akid, date, region, service = scope[:4]
    res.update(akid=akid, date=date, region=region, service=service)

    signed_headers = signed.split(";")
    res["signed_headers"] = signed_headers
    if signed_headers != sorted(signed_headers) or any(
            h != h.lower() or not h for h in signed_headers):
        return fail("InvalidSignatureException",
                    "SignedHeaders not sorted lowercase: %r" % signed)
    if len(set(signed_headers)) != len(signed_headers):
        return fail("InvalidSignatureException",
                    "SignedHeaders has duplicates: %r" % signed)
    for h in ("host", "x-amz-date"):
        if h not in signed_headers:
            return fail("InvalidSignatureException", "%s not signed" % h)
    for h in signed_headers:
        if h not in lower:
            return fail("InvalidSignatureException",
                        "signed header %s absent from the request" % h)

    if akid not in credentials:
        return fail("UnrecognizedClientException",
                    "The security token included in the request is invalid"
                    " (signed with an unknown key %s)" % akid)
    cred = credentials[akid]
    token = cred.get("token")
    now = now if now is not None else time.time()
    window = key_window_error(cred, now)
    if window:
        return fail("ExpiredTokenException",
                    "The security token included in the request is expired"
                    " (%s %s)" % (window, akid))

    if expected_service is not None and service != expected_service:
        return fail("InvalidSignatureException",
                    "Credential should be scoped to correct service: '%s'"
                    " (got '%s')" % (expected_service, service))
    if not re.match(r"^[a-z]{2}(-[a-z]+)+-\d+$", region):
        return fail("InvalidSignatureException",
                    "malformed region %r in the credential scope" % region)

    amz_dates = lower.get("x-amz-date", [])
    if len(amz_dates) != 1:
        return fail("IncompleteSignatureException",
                    "need exactly one X-Amz-Date, got %d" % len(amz_dates))
    amz_date = amz_dates[0]
    try:
        ts = datetime.datetime.strptime(amz_date, SIGV4_TIMESTAMP).replace(
            tzinfo=datetime.timezone.utc)
    except ValueError:
        return fail("IncompleteSignatureException",
                    "malformed X-Amz-Date %r" % amz_date)
    if amz_date[:8] != date:
        return fail("InvalidSignatureException",
                    "credential scope date %s is not X-Amz-Date's day %s"
                    % (date, amz_date))
    if abs(ts.timestamp() - now) > max_skew:
        return fail("InvalidSignatureException",
                    "Signature expired: %s is now earlier than or later"
                    " than the allowed skew" % amz_date)

    shas = lower.get("x-amz-content-sha256", [])
    if require_content_sha256 and not shas:
        return fail("InvalidSignatureException",
                    "x-amz-content-sha256 missing")
    if shas:
        if len(shas) != 1 or shas[0] != body_sha256:
            return fail("InvalidSignatureException",
                        "x-amz-content-sha256 %r does not match the body's"
                        " %s" % (shas, body_sha256))
        if "x-amz-content-sha256" not in signed_headers:
            return fail("InvalidSignatureException",
                        "x-amz-content-sha256 not signed")

    tokens = lower.get("x-amz-security-token", [])
    if token:
        if tokens != [token]:
            return fail("UnrecognizedClientException",
                        "The security token included in the request is"
                        " invalid (x-amz-security-token %s)"
                        % ("missing" if not tokens else "wrong"))
        if "x-amz-security-token" not in signed_headers:
            return fail("InvalidSignatureException",
                        "x-amz-security-token not signed")
    elif tokens:
        return fail("UnrecognizedClientException",
                    "x-amz-security-token sent with long-term credentials")

    host = lower["host"][0]
    req = AWSRequest(method=method, url="http://%s%s" % (host, target),
                     data=b"")
    for name, value in headers:
        if name.lower() in signed_headers:
            req.headers[name.lower()] = value
    req.context["timestamp"] = amz_date

    signer = SigV4Verifier(Credentials(akid, cred["secret"], token),
                           service, region, body_sha256)
    try:
        canonical = signer.canonical_request(req)
        sts = signer.string_to_sign(req, canonical)
        expected = signer.signature(sts, req)
    except Exception as e:                      # noqa: BLE001
        return fail("InvalidSignatureException",
                    "botocore could not canonicalise the request: %r" % e)
    res["canonical_request"] = canonical
    res["string_to_sign"] = sts
    if signer.signed_headers(signer.headers_to_sign(req)) != signed:
        return fail("InvalidSignatureException",
                    "botocore would sign %r, the request says %r"
                    % (signer.signed_headers(signer.headers_to_sign(req)),
                       signed))
    if not hmac.compare_digest(expected, signature):
        return fail("InvalidSignatureException",
                    "The request signature we calculated does not match the"
                    " signature you provided. Check your AWS Secret Access"
                    " Key and signing method.")
    res["ok"] = True
    return res


# --- response bodies --------------------------------------------------------

def eventstream_message(headers, payload):
    """One application/vnd.amazon.eventstream message (string headers)."""
    hb = b""
    for name, value in headers:
        n = name.encode()
        v = value.encode()
        hb += struct.pack("B", len(n)) + n + b"\x07" + struct.pack(">H",
                                                                    len(v)) + v
    total = 12 + len(hb) + len(payload) + 4
    prelude = struct.pack(">II", total, len(hb))
    prelude += struct.pack(">I", zlib.crc32(prelude) & 0xffffffff)
    msg = prelude + hb + payload
    return msg + struct.pack(">I", zlib.crc32(msg) & 0xffffffff)


def eventstream_split(body):
    """Cuts an event stream at message boundaries (rest as the last piece)."""
    pieces = []
    off = 0
    while off + 4 <= len(body):
        (total,) = struct.unpack(">I", body[off:off + 4])
        if total < 16 or off + total > len(body):
            break
        pieces.append(body[off:off + total])
        off += total
    if off < len(body):
        pieces.append(body[off:])
    return pieces


def _event(event_type, obj, content_type="application/json"):
    payload = obj if isinstance(obj, bytes) else json.dumps(
        obj, separators=(",", ":")).encode()
    return eventstream_message([(":event-type", event_type),
                                (":content-type", content_type),
                                (":message-type", "event")], payload)


def default_response(service, op, model, body_len):
    """(status, headers, body) of a default answer to an operation."""
    in_tok = 10 + body_len // 4
    out_tok = 7
    if service == "bedrock" and op == "converse":
        body = {
            "output": {"message": {"role": "assistant", "content": [
                {"text": "Hello from the aigw mock."}]}},
            "stopReason": "end_turn",
            "usage": {"inputTokens": in_tok, "outputTokens": out_tok,
                      "totalTokens": in_tok + out_tok},
            "metrics": {"latencyMs": 12},
        }
        return 200, [("Content-Type", "application/json")], \
            json.dumps(body).encode()
    if service == "bedrock" and op == "invoke":
        body = {"mock": True, "model": model,
                "completion": "Hello from the aigw mock.",
                "stop_reason": "end_turn"}
        return 200, [
            ("Content-Type", "application/json"),
            ("X-Amzn-Bedrock-Input-Token-Count", str(in_tok)),
            ("X-Amzn-Bedrock-Output-Token-Count", str(out_tok)),
            ("X-Amzn-Bedrock-Invocation-Latency", "12"),
        ], json.dumps(body).encode()
    if service == "bedrock" and op == "count-tokens":
        return 200, [("Content-Type", "application/json")], \
            json.dumps({"inputTokens": in_tok}).encode()
    if service == "bedrock" and op == "converse-stream":
        events = [
            _event("messageStart", {"role": "assistant"}),
            _event("contentBlockDelta", {"contentBlockIndex": 0,
                                         "delta": {"text": "Hello"}}),
            _event("contentBlockDelta", {"contentBlockIndex": 0,
                                         "delta": {"text": " from the mock."}}),
            _event("contentBlockStop", {"contentBlockIndex": 0}),
            _event("messageStop", {"stopReason": "end_turn"}),
            _event("metadata", {"usage": {"inputTokens": in_tok,
                                          "outputTokens": out_tok,
                                          "totalTokens": in_tok + out_tok},
                                "metrics": {"latencyMs": 12}}),
        ]
        return 200, [("Content-Type", "application/vnd.amazon.eventstream")], \
            b"".join(events)
    if service == "bedrock" and op == "invoke-with-response-stream":
        chunks = [{"type": "content_block_delta", "delta": {"text": t}}
                  for t in ("Hello", " from", " the mock.")]
        chunks[-1]["amazon-bedrock-invocationMetrics"] = {
            "inputTokenCount": in_tok, "outputTokenCount": out_tok,
            "invocationLatency": 12, "firstByteLatency": 3}
        events = [_event("chunk", {"bytes": base64.b64encode(json.dumps(
            c).encode()).decode()}) for c in chunks]
        return 200, [("Content-Type", "application/vnd.amazon.eventstream"),
                     ("X-Amzn-Bedrock-Content-Type", "application/json")], \
            b"".join(events)
    if service == "sagemaker" and op == "invocations":
        body = {"mock": True, "endpoint": model,
                "generated_text": "Hello from the aigw mock."}
        return 200, [("Content-Type", "application/json"),
                     ("X-Amzn-Invoked-Production-Variant", "AllTraffic")], \
            json.dumps(body).encode()
    if service == "sagemaker" and op == "invocations-response-stream":
        parts = [b'{"token": {"text": "Hello"}}\n',
                 b'{"token": {"text": " from"}}\n',
                 b'{"token": {"text": " the mock."}}\n']
        events = [_event("PayloadPart", p, "application/octet-stream")
                  for p in parts]
        return 200, [("Content-Type", "application/vnd.amazon.eventstream"),
                     ("X-Amzn-SageMaker-Content-Type", "application/json"),
                     ("X-Amzn-Invoked-Production-Variant", "AllTraffic")], \
            b"".join(events)
    return None


def split_body(body, mode, is_stream):
    """The pieces a body is sent in, and whether to use chunked framing."""
    mode = (mode or "").strip().lower()
    if not mode:
        mode = "events" if is_stream else "none"
    if mode == "none":
        return [body], is_stream
    if mode == "events":
        return (eventstream_split(body) if body else []), True
    if mode == "1":
        return [body[i:i + 1] for i in range(len(body))], True
    if mode.startswith("random:"):
        parts = mode.split(":")
        seed = int(parts[1])
        most = int(parts[2]) if len(parts) > 2 else 64
        rng = random.Random(seed)
        pieces = []
        off = 0
        while off < len(body):
            n = rng.randint(1, max(1, most))
            pieces.append(body[off:off + n])
            off += n
        return pieces, True
    raise ValueError("unknown X-Mock-Chunking %r" % mode)


def _cut_pieces(pieces, n):
    """The pieces holding the first n bytes (the last one shortened)."""
    out = []
    for p in pieces:
        if n <= 0:
            break
        out.append(p[:n])
        n -= len(out[-1])
    return out


# --- the server -------------------------------------------------------------

class MockHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "aigw-mock/1"
    sys_version = ""

    def setup(self):
        conn = self.request
        try:
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        if isinstance(conn, ssl.SSLSocket):
            conn.settimeout(10)
            conn.do_handshake()
            conn.settimeout(None)
        super().setup()

    def handle(self):
        try:
            super().handle()
        except (ConnectionError, ssl.SSLError, socket.timeout):
            self.close_connection = True

    def log_message(self, fmt, *args):
        if self.server.mock.verbose:
            sys.stderr.write("mock: %s\n" % (fmt % args))

    def do_GET(self):
        self._dispatch()

    def do_POST(self):
        self.rec = None
        self._dispatch()
        if self.rec is not None:
            # answered in full: the ground truth of what it sent
            self.server.mock._completed(self.rec)

    def do_PUT(self):
        self._dispatch()

    def do_DELETE(self):
        self._dispatch()

    def do_HEAD(self):
        self._dispatch()

    # -- helpers --

    def _read_body(self):
        """Reads the body (Content-Length or chunked): (len, sha256, kept)."""
        h = hashlib.sha256()
        kept = bytearray()
        total = 0

        def take(data):
            nonlocal total
            h.update(data)
            if total + len(data) <= KEEP_BODY_MAX:
                kept.extend(data)
            total += len(data)

        te = self.headers.get("Transfer-Encoding", "")
        if "chunked" in te.lower():
            while True:
                line = self.rfile.readline(1024)
                size = int(line.split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n",
                                                            b""):
                        pass
                    break
                left = size
                while left:
                    data = self.rfile.read(min(left, READ_PIECE))
                    if not data:
                        raise ConnectionError("body truncated")
                    take(data)
                    left -= len(data)
                self.rfile.readline(1024)
        else:
            left = int(self.headers.get("Content-Length") or 0)
            while left:
                data = self.rfile.read(min(left, READ_PIECE))
                if not data:
                    raise ConnectionError("body truncated")
                take(data)
                left -= len(data)
        complete = total <= KEEP_BODY_MAX
        return total, h.hexdigest(), bytes(kept) if complete else None

    def _send(self, status, headers, body, chunking=None, stream=False,
              hold=None, record=None):
        pieces, chunked = split_body(body, chunking, stream)
        delay = self.headers.get("X-Mock-Delay") if record is not None \
            else None
        if delay:
            time.sleep(float(delay))
        fault = self.headers.get("X-Mock-Fault") if record is not None \
            else None
        if fault:
            return self._send_broken(status, headers, pieces, fault,
                                     record)
        if hold:
            chunked = True
        cut = self.headers.get("X-Mock-Cut-After")
        if cut and record is not None:
            n, _, how = cut.partition(":")
            pieces = _cut_pieces(pieces, int(n))
            chunked = True
            record["cut"] = {"after": int(n), "rst": how == "rst"}
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        if self.command == "HEAD":
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            return
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not chunked:
            self.wfile.write(body)
            return
        for i, piece in enumerate(pieces):
            if piece:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            if i == 0 and hold:
                released = self.server.mock._hold(hold)
                if record is not None:
                    record["hold"] = {"token": hold, "released": released}
        if hold and not pieces:
            released = self.server.mock._hold(hold)
            if record is not None:
                record["hold"] = {"token": hold, "released": released}
        if cut and record is not None:
            return self._cut_connection(record["cut"]["rst"])
        self.wfile.write(b"0\r\n\r\n")

    def _send_broken(self, status, headers, pieces, fault, record):
        """The headers and the first piece of the body, then the framing
        broken as X-Mock-Fault says, then the connection closed."""
        first = pieces[0] if pieces else b""
        record["fault"] = fault
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        if fault == "length-short":
            self.send_header("Content-Length", str(len(first) + 100))
            self.end_headers()
            self.wfile.write(first)
            self.wfile.flush()
            time.sleep(0.2)
        elif fault in ("chunk-short", "chunk-garbage"):
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            if first:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(first), first))
            # a moment for the proxy to pass the headers and the piece on
            # (a break in its first read would be a different case)
            self.wfile.flush()
            time.sleep(0.2)
            if fault == "chunk-short":
                self.wfile.write(b"%x\r\n%s" % (1000, b"z" * 10))
            else:
                self.wfile.write(b"zz-not-hex\r\n" + b"z" * 10 + b"\r\n")
        else:
            raise ValueError("unknown X-Mock-Fault %r" % fault)
        self.wfile.flush()
        return self._cut_connection(False)

    def _cut_connection(self, rst):
        """Ends the response short: close (FIN) or reset (RST); the
        request is not answered in full.  A reset makes the peer's kernel
        drop what it has not read yet: it comes a moment after the bytes,
        so that the proxy has them."""
        self.close_connection = True
        self.rec = None
        if rst:
            time.sleep(0.3)
            self.request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                    struct.pack("ii", 1, 0))
        self.request.close()

    def _json(self, status, obj, extra=()):
        body = json.dumps(obj).encode()
        self._send(status, [("Content-Type", "application/json")] +
                   list(extra), body)

    def _aws_error(self, status, error_type, message, extra=()):
        self._send(status, [("Content-Type", "application/json"),
                            ("x-amzn-ErrorType", error_type),
                            ("x-amzn-RequestId", str(uuid.uuid4()))] +
                   list(extra), json.dumps({"message": message}).encode())

    # -- dispatch --

    def _dispatch(self):
        mock = self.server.mock
        target = self.path
        path, _, query = target.partition("?")
        if path.startswith("/__mock/"):
            self._read_body()
            return self._control(path)

        headers = list(self.headers.items())
        arrival = time.time()
        body_len, body_sha, body = self._read_body()

        service = op = model = None
        m = BEDROCK_RE.match(path)
        if m:
            service = "bedrock"
        else:
            m = SAGEMAKER_RE.match(path)
            if m:
                service = "sagemaker"
        if m:
            model, op = m.group(1), m.group(2)

        sig = verify_sigv4(self.command, target, headers, body_sha,
                           mock.keys(), expected_service=service,
                           now=arrival, max_skew=mock.max_skew)
        rec = {
            "seq": None,
            "time": arrival,
            "method": self.command,
            "path": target,
            "path_only": path,
            "query": query,
            "http_version": self.request_version,
            "headers": [[k, v] for k, v in headers],
            "host": self.headers.get("Host"),
            "body_length": body_len,
            "body_sha256": body_sha,
            "body_b64": base64.b64encode(body).decode()
            if body is not None else None,
            "route_service": service,
            "operation": op,
            "model": model,
            "tls": isinstance(self.request, ssl.SSLSocket),
            "tls_sni": getattr(self.request, "_aigw_sni", None),
            "port": self.server.server_address[1],
            "peer": list(self.client_address[:2]),
            "sig_ok": sig["ok"],
            "sig_error": sig["error"],
            "akid": sig["akid"],
            "region": sig["region"],
            "service": sig["service"],
            "date": sig["date"],
            "signed_headers": sig["signed_headers"],
            "signature": sig["signature"],
            "canonical_request": sig["canonical_request"],
            "string_to_sign": sig["string_to_sign"],
            "response_status": None,
            "hold": None,
        }
        mock._record(rec)
        self.rec = rec
        extra = [("x-mock-body-sha256", body_sha),
                 ("x-mock-body-length", str(body_len))]

        if not sig["ok"]:
            rec["response_status"] = 403
            return self._aws_error(403, sig["error_type"], sig["error"],
                                   extra)

        chunking = self.headers.get("X-Mock-Chunking")
        hold = self.headers.get("X-Mock-Hold")
        capture = self.headers.get("X-Mock-Capture")
        forced = self.headers.get("X-Mock-Status")

        if forced:
            status = int(forced)
            rec["response_status"] = status
            etype = ERROR_TYPES.get(status, "InternalServerException")
            return self._aws_error(status, etype,
                                   "mock error %d (X-Mock-Status)" % status,
                                   extra + ([("Retry-After", "1")]
                                            if status == 429 else []))

        synthetic = self.headers.get("X-Mock-Synthetic")
        if synthetic:
            built = mock_synthetic.build(synthetic)
            if built is None:
                rec["response_status"] = 500
                return self._aws_error(500, "InternalServerException",
                                       "mock: no synthetic %r" % synthetic,
                                       extra)
            rec["response_status"] = built.status
            return self._send(built.status, self._drop(built.headers) +
                              extra, built.body, chunking, any(
                                  k.lower() == "content-type" and
                                  "eventstream" in v for k, v in
                                  built.headers), hold, rec)

        if capture:
            loaded = mock.load_capture(capture)
            if loaded is None:
                rec["response_status"] = 500
                return self._aws_error(500, "InternalServerException",
                                       "mock: no capture %r" % capture, extra)
            status, cheaders, cbody = loaded
            cheaders = self._drop(cheaders)
            is_stream = any(k.lower() == "content-type" and
                            "eventstream" in v.lower() for k, v in cheaders)
            rec["response_status"] = status
            return self._send(status, cheaders + extra, cbody, chunking,
                              is_stream, hold, rec)

        if service is None or op not in (BEDROCK_OPS if service == "bedrock"
                                         else SAGEMAKER_OPS):
            rec["response_status"] = 404
            return self._aws_error(404, "UnknownOperationException",
                                   "mock: unknown operation %s" % path, extra)

        status, rheaders, rbody = default_response(service, op, model,
                                                   body_len)
        rheaders = rheaders + [("x-amzn-RequestId", str(uuid.uuid4()))]
        rec["response_status"] = status
        return self._send(status, rheaders + extra, rbody, chunking,
                          op in STREAM_OPS, hold, rec)

    def _drop(self, headers):
        """The response headers but those X-Mock-Drop-Headers names."""
        drop = {x.strip().lower() for x in self.headers.get(
            "X-Mock-Drop-Headers", "").split(",")}
        return [(k, v) for k, v in headers if k.lower() not in drop]

    def _control(self, path):
        mock = self.server.mock
        if path == "/__mock/requests" and self.command == "GET":
            return self._json(200, mock.requests())
        if path == "/__mock/reset" and self.command == "POST":
            mock.reset()
            return self._json(200, {"ok": True})
        if path.startswith("/__mock/release/") and self.command == "POST":
            mock.release(path[len("/__mock/release/"):])
            return self._json(200, {"ok": True})
        if path == "/__mock/health":
            return self._json(200, {"ok": True})
        return self._json(404, {"message": "unknown mock control %s" % path})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        if self.mock.verbose:
            super().handle_error(request, client_address)


class MockUpstream:
    """The mock, importable: start(), stop(), requests(), reset(), release()."""

    def __init__(self, host="127.0.0.1", port=0, credentials=None,
                 captures_dir=None, certfile=None, keyfile=None,
                 hold_timeout=10.0, max_skew=900, verbose=False):
        self.credentials = dict(credentials or DEFAULT_CREDENTIALS)
        self.key_sources = []
        self.captures_dir = captures_dir
        self.hold_timeout = hold_timeout
        self.max_skew = max_skew
        self.verbose = verbose
        self._lock = threading.Lock()
        self._records = []
        self._seq = 0
        self._holds = {}
        self._captures = {}
        self.server = _Server((host, port), MockHandler)
        self.server.mock = self
        self.tls = bool(certfile)
        if certfile:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(certfile, keyfile)
            ctx.set_alpn_protocols(["http/1.1"])

            def sni(sock, name, _ctx):
                try:
                    sock._aigw_sni = name
                except AttributeError:
                    pass
            ctx.sni_callback = sni
            self.server.socket = ctx.wrap_socket(
                self.server.socket, server_side=True,
                do_handshake_on_connect=False)
        self.host = host
        self.port = self.server.server_address[1]
        self._thread = None

    @property
    def url(self):
        return "%s://%s:%d" % ("https" if self.tls else "http", self.host,
                               self.port)

    def start(self):
        self._thread = threading.Thread(target=self.server.serve_forever,
                                        kwargs={"poll_interval": 0.1},
                                        daemon=True, name="mock-upstream")
        self._thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        with self._lock:
            for ev in self._holds.values():
                ev.set()

    # -- state --

    def trust(self, keys):
        """Accept signatures made with the keys of "keys" too (a Mapping
        like credentials, e.g. mock_aws.KeyRegistry: its entries' windows
        are honoured); until untrust(keys)."""
        if not any(k is keys for k in self.key_sources):
            self.key_sources.append(keys)

    def untrust(self, keys):
        self.key_sources = [k for k in self.key_sources if k is not keys]

    def keys(self):
        """What signatures are verified against: credentials, then the
        trusted sources."""
        if not self.key_sources:
            return self.credentials
        return collections.ChainMap(self.credentials, *self.key_sources)

    def _record(self, rec):
        with self._lock:
            self._seq += 1
            rec["seq"] = self._seq
            self._records.append(rec)

    def requests(self):
        with self._lock:
            return [dict(r) for r in self._records]

    def reset(self):
        with self._lock:
            self._records = []
            for ev in self._holds.values():
                ev.set()
            self._holds = {}

    def _hold_event(self, token):
        with self._lock:
            ev = self._holds.get(token)
            if ev is None:
                ev = self._holds[token] = threading.Event()
            return ev

    def _hold(self, token):
        return self._hold_event(token).wait(self.hold_timeout)

    def release(self, token):
        self._hold_event(token).set()

    # -- ground truth of the usage sent, for the counting tests --

    def _completed(self, rec):
        rec["sent_usage"] = self.sent_usage(rec)
        rec["completed"] = True

    def sent_usage(self, rec):
        """
        The usage the mock sent in its answer to a recorded request, as a
        metering gateway must count it: a capture's expected-usage.json,
        the token counts of a default answer, errors (and throttled for
        429) for an error answer.
        """
        u = {"input_tokens": 0, "output_tokens": 0,
             "cache_read_input_tokens": 0, "cache_write_input_tokens": 0,
             "errors": 0, "throttled": 0}
        status = rec["response_status"] or 0
        capture = None
        for k, v in rec["headers"]:
            if k.lower() == "x-mock-capture":
                capture = v
        if status >= 400:
            u["errors"] = 1
            u["throttled"] = int(status == 429)
            return u
        if capture:
            u.update(self.capture_usage(capture))
            return u
        synthetic = [v for k, v in rec["headers"]
                     if k.lower() == "x-mock-synthetic"]
        if synthetic:
            built = mock_synthetic.build(synthetic[0])
            u.update(built.usage)
            if built.error_type:
                u["errors"] = 1
                u["throttled"] = int("throttl" in built.error_type.lower())
            return u
        if rec["route_service"] == "bedrock" and rec["operation"] in (
                "converse", "invoke", "converse-stream",
                "invoke-with-response-stream"):
            u["input_tokens"] = 10 + rec["body_length"] // 4
            u["output_tokens"] = 7
        return u

    def capture_usage(self, name):
        """A capture's expected-usage.json (its four token counts)."""
        key = "usage:" + name
        with self._lock:
            if key in self._captures:
                return dict(self._captures[key])
        with open(os.path.join(self.captures_dir, name,
                               "expected-usage.json")) as f:
            usage = {k: int(v) for k, v in json.load(f).items()}
        with self._lock:
            self._captures[key] = usage
        return dict(usage)

    def ground_truth(self, tenant_header="X-Test-Tenant"):
        """
        {(tenant, model): {field: total}} over the requests answered in
        full that carried tenant_header (the tenant the test meant; the
        gateway passes the header through): requests and what
        sent_usage() says.  model is the path's, percent-decoded, or
        "_invalid" for a request answered 400, 403 or 404 (the bucket
        the gateway counts AWS's refusals of invalid requests under).
        """
        out = {}
        name = tenant_header.lower()
        for rec in self.requests():
            if not rec.get("completed"):
                continue
            tenant = None
            for k, v in rec["headers"]:
                if k.lower() == name:
                    tenant = v
            if tenant is None or rec["model"] is None:
                continue
            model = urllib.parse.unquote(rec["model"])
            if rec.get("response_status") in (400, 403, 404):
                model = "_invalid"
            key = (tenant, model)
            t = out.setdefault(key, {"requests": 0})
            t["requests"] += 1
            for f, v in rec["sent_usage"].items():
                t[f] = t.get(f, 0) + v
        return out

    def load_capture(self, name):
        """(status, headers, body) of a capture, or None."""
        if not self.captures_dir or not re.match(r"^[A-Za-z0-9_.-]+$",
                                                 name) or ".." in name:
            return None
        with self._lock:
            if name in self._captures:
                return self._captures[name]
        d = os.path.join(self.captures_dir, name)
        try:
            with open(os.path.join(d, "response.json")) as f:
                meta = json.load(f)
            with open(os.path.join(d, "response.body"), "rb") as f:
                body = f.read()
        except OSError:
            return None
        headers = [(k, v) for k, v in meta.get("headers", {}).items()
                   if k.lower() not in DROP_REPLAY_HEADERS]
        loaded = (int(meta["status"]), headers, body)
        with self._lock:
            self._captures[name] = loaded
        return loaded


def _default_captures():
    env = os.environ.get("AIGW_TESTDATA")
    base = env or os.path.join(os.path.dirname(os.path.abspath(__file__)),
                               "..", "..", "shared", "testdata")
    d = os.path.join(base, "bedrock-captures")
    return d if os.path.isdir(d) else None


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--credentials",
                    help='JSON file {akid: {"secret": S, "token": T?}}')
    ap.add_argument("--captures", default=None,
                    help="bedrock-captures directory")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--hold-timeout", type=float, default=10.0)
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args(argv)
    creds = None
    if args.credentials:
        with open(args.credentials) as f:
            creds = json.load(f)
    mock = MockUpstream(args.host, args.port, creds,
                        args.captures or _default_captures(), args.cert,
                        args.key or args.cert, args.hold_timeout,
                        verbose=args.verbose)
    print("aigw mock listening on %s" % mock.url, flush=True)
    try:
        mock.server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())

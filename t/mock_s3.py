#!/usr/bin/python3
"""
A mock of Amazon S3 for the tests of "aigw export --out s3://...".

Standard library plus botocore only.  Path-style requests
(``/bucket/key``), over HTTP or HTTPS.  Every request's SigV4 signature is
verified with botocore's ``S3SigV4Auth`` for the service "s3" (S3's own
URI rules: the path as sent, never encoded again; the payload hash in
``x-amz-content-sha256``, which must be signed and match the body), in the
bucket's region; objects are kept in memory.

    PUT  /bucket/key            PutObject (overwrites)
    GET  /bucket/key            GetObject
    HEAD /bucket                HeadBucket: x-amz-bucket-region always; 301
                                when signed for another region
    GET  /bucket?location       GetBucketLocation (any signing region)

Errors are S3's XML: <Error><Code>SignatureDoesNotMatch</Code>...; a PUT
signed for the wrong region gets 400 AuthorizationHeaderMalformed naming
the bucket's <Region>, as S3 does.

Keys: ``credentials`` {akid: {"secret", "token"}}, and any Mapping given to
``trust()`` (mock_aws.KeyRegistry: the keys the AWS mocks issued, each
accepted only within its window [not_before, not_after]).

Switches: ``head_region_header`` (False: HEAD answers 403 without the
header, so that a client must fall back to GetBucketLocation),
``chunked`` (bodies with Transfer-Encoding: chunked), ``fail_next`` (a
list of statuses answered, with SlowDown/InternalError bodies, to the next
requests).
"""

import collections
import datetime
import hashlib
import hmac
import re
import ssl
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from mock_upstream import key_window_error


AKID = "AKIAAIGWS3TEST000001"
SECRET = "aigw/S3+Secret/Key00000000000000000000001"
TEMP_AKID = "ASIAAIGWS3TEST000002"
TEMP_SECRET = "aigw/S3+Temp/Secret0000000000000000000002"
TEMP_TOKEN = "IQoJb3JpZ2luX2VjEXAMPLE//s3+token=" + "B" * 300 + "=="

DEFAULT_CREDENTIALS = {
    AKID: {"secret": SECRET},
    TEMP_AKID: {"secret": TEMP_SECRET, "token": TEMP_TOKEN},
}

AUTH_RE = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),"
    r"\s*Signature=([0-9a-f]{64})$")


class _Verifier(S3SigV4Auth):
    """botocore's S3 signer, fed the received body's hash."""

    def __init__(self, credentials, region, body_sha256):
        super().__init__(credentials, "s3", region)
        self._body_sha256 = body_sha256

    def payload(self, request):
        return self._body_sha256


def verify_s3_sigv4(method, target, headers, body_sha256, credentials,
                    max_skew=900, now=None):
    """
    (ok, error_code, message, info): the SigV4 signature of a received S3
    request, checked with botocore.  info: akid, region, service,
    signed_headers, canonical_request.
    """
    info = {"akid": None, "region": None, "service": None,
            "signed_headers": [], "canonical_request": None}
    lower = {}
    for name, value in headers:
        lower.setdefault(name.lower(), []).append(value)

    auths = lower.get("authorization", [])
    if len(auths) != 1:
        return (False, "AccessDenied", "exactly one Authorization header "
                "is needed", info)
    m = AUTH_RE.match(auths[0])
    if not m:
        return (False, "AuthorizationHeaderMalformed",
                "malformed Authorization header", info)
    credential, signed, signature = m.groups()
    scope = credential.split("/")
    if len(scope) != 5 or scope[4] != "aws4_request":
        return (False, "AuthorizationHeaderMalformed",
                "malformed credential scope %r" % credential, info)
    akid, date, region, service = scope[:4]
    signed_headers = signed.split(";")
    info.update(akid=akid, region=region, service=service,
                signed_headers=signed_headers)

    if service != "s3":
        return (False, "AuthorizationHeaderMalformed",
                "the service in the credential scope is %r, not 's3'"
                % service, info)
    if signed_headers != sorted(signed_headers):
        return (False, "AuthorizationHeaderMalformed",
                "SignedHeaders not sorted", info)
    for h in ("host", "x-amz-date", "x-amz-content-sha256"):
        if h not in signed_headers:
            return (False, "AccessDenied", "%s is not signed" % h, info)
    for h in signed_headers:
        if h not in lower:
            return (False, "AccessDenied",
                    "signed header %s is not in the request" % h, info)
    if akid not in credentials:
        return (False, "InvalidAccessKeyId", "The AWS Access Key Id you "
                "provided does not exist in our records (signed with an "
                "unknown key %s)." % akid, info)
    cred = credentials[akid]
    window = key_window_error(cred, time.time() if now is None else now)
    if window:
        return (False, "ExpiredToken", "The provided token has expired "
                "(%s %s)." % (window, akid), info)
    token = cred.get("token")
    tokens = lower.get("x-amz-security-token", [])
    if token and (tokens != [token] or
                  "x-amz-security-token" not in signed_headers):
        return (False, "InvalidToken", "The provided token is malformed or "
                "otherwise invalid (missing, wrong or not signed).", info)
    if not token and tokens:
        return (False, "InvalidToken", "a security token with long-term "
                "credentials", info)

    amz_date = lower.get("x-amz-date", [""])[0]
    try:
        ts = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(
            tzinfo=datetime.timezone.utc)
    except ValueError:
        return (False, "AccessDenied", "malformed X-Amz-Date", info)
    if amz_date[:8] != date:
        return (False, "AuthorizationHeaderMalformed",
                "the credential scope's date is not X-Amz-Date's", info)
    if abs(ts.timestamp() - time.time()) > max_skew:
        return (False, "RequestTimeTooSkewed", "The difference between the "
                "request time and the current time is too large.", info)

    sha = lower.get("x-amz-content-sha256", [""])[0]
    if sha != body_sha256:
        return (False, "XAmzContentSHA256Mismatch", "The provided "
                "'x-amz-content-sha256' header does not match what was "
                "computed.", info)

    host = lower["host"][0]
    req = AWSRequest(method=method, url="http://%s%s" % (host, target),
                     data=b"")
    for name, value in headers:
        if name.lower() in signed_headers:
            req.headers[name.lower()] = value
    req.context["timestamp"] = amz_date
    signer = _Verifier(Credentials(akid, cred["secret"], token), region,
                       body_sha256)
    canonical = signer.canonical_request(req)
    info["canonical_request"] = canonical
    sts = signer.string_to_sign(req, canonical)
    expected = signer.signature(sts, req)
    if signer.signed_headers(signer.headers_to_sign(req)) != signed:
        return (False, "AccessDenied", "botocore would sign other headers",
                info)
    if not hmac.compare_digest(expected, signature):
        return (False, "SignatureDoesNotMatch", "The request signature we "
                "calculated does not match the signature you provided. "
                "Check your key and signing method.", info)
    return (True, None, None, info)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "AmazonS3"
    sys_version = ""

    def log_message(self, fmt, *args):
        pass

    def do_PUT(self):
        self._dispatch()

    def do_GET(self):
        self._dispatch()

    def do_HEAD(self):
        self._dispatch()

    def do_DELETE(self):
        self._dispatch()

    def do_POST(self):
        self._dispatch()

    # -- responses --

    def _send(self, status, body=b"", headers=()):
        mock = self.server.mock
        self.rec["status"] = status
        self.send_response(status)
        self.send_header("x-amz-request-id", uuid.uuid4().hex[:16].upper())
        for k, v in headers:
            self.send_header(k, v)
        head = self.command == "HEAD"
        if mock.chunked and body and not head:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(0, len(body), 7):
                piece = body[i:i + 7]
                self.wfile.write(b"%x;ext=1\r\n%s\r\n" % (len(piece), piece))
            self.wfile.write(b"0\r\nX-Trailer: t\r\n\r\n")
        else:
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not head:
                self.wfile.write(body)
        self.wfile.flush()

    def _error(self, status, code, message, extra=None, headers=()):
        self.rec["error"] = code
        body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s"
                "</Code><Message>%s</Message>%s<RequestId>%s</RequestId>"
                "</Error>" % (code, escape(message), extra or "",
                              uuid.uuid4().hex[:16].upper())).encode()
        self._send(status, body, [("Content-Type", "application/xml")] +
                   list(headers))

    # -- dispatch --

    def _dispatch(self):
        mock = self.server.mock
        target = self.path
        path, _, query = target.partition("?")
        arrival = time.time()
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        body_sha = hashlib.sha256(body).hexdigest()
        headers = list(self.headers.items())

        parts = path.lstrip("/").split("/", 1)
        bucket = urllib.parse.unquote(parts[0])
        raw_key = parts[1] if len(parts) > 1 else None
        key = urllib.parse.unquote(raw_key) if raw_key is not None else None

        ok, code, msg, info = verify_s3_sigv4(
            self.command, target, headers, body_sha, mock.keys(),
            mock.max_skew, arrival)
        self.rec = {"method": self.command, "target": target, "path": path,
                    "query": query, "bucket": bucket, "key": key,
                    "raw_key": raw_key, "headers": headers,
                    "body_length": len(body), "sig_ok": ok,
                    "sig_error": msg, "region": info["region"],
                    "akid": info["akid"],
                    "signed_headers": info["signed_headers"],
                    "canonical_request": info["canonical_request"],
                    "status": None, "error": None,
                    "peer": self.client_address[1]}
        with mock.lock:
            mock.requests.append(self.rec)
            fail = mock.fail_next.pop(0) if mock.fail_next else None

        if fail:
            return self._error(fail, "SlowDown" if fail == 503
                               else "InternalError",
                               "mock: failing on purpose")

        bucket_region = mock.buckets.get(bucket)
        if bucket_region is None:
            return self._error(404, "NoSuchBucket", "The specified bucket "
                               "does not exist",
                               "<BucketName>%s</BucketName>" % escape(bucket))

        if self.command == "GET" and key is None and query == "location":
            if not ok:
                return self._error(403, code, msg)
            loc = "" if bucket_region == "us-east-1" else bucket_region
            return self._send(200, (
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                "<LocationConstraint xmlns=\"http://s3.amazonaws.com/doc/"
                "2006-03-01/\">%s</LocationConstraint>" % loc).encode(),
                [("Content-Type", "application/xml")])

        if self.command == "HEAD" and key is None:
            if not mock.head_region_header:
                return self._send(403)
            hdr = [("x-amz-bucket-region", bucket_region)]
            if ok and info["region"] != bucket_region:
                return self._send(301, b"", hdr)
            return self._send(200 if ok else 403, b"", hdr)

        if not ok:
            return self._error(403, code, msg)

        if info["region"] != bucket_region:
            return self._error(
                400, "AuthorizationHeaderMalformed",
                "The authorization header is malformed; the region '%s' is "
                "wrong; expecting '%s'" % (info["region"], bucket_region),
                "<Region>%s</Region>" % bucket_region,
                [("x-amz-bucket-region", bucket_region)])

        if key is None or key == "":
            return self._error(400, "InvalidRequest", "mock: a key is "
                               "needed")

        if self.command == "PUT":
            with mock.lock:
                mock.objects[(bucket, key)] = {
                    "body": body,
                    "content_type": self.headers.get("Content-Type"),
                    "time": time.time()}
                mock.puts += 1
            etag = '"%s"' % hashlib.md5(body).hexdigest()
            return self._send(200, b"", [("ETag", etag)])

        if self.command == "GET":
            with mock.lock:
                obj = mock.objects.get((bucket, key))
            if obj is None:
                return self._error(404, "NoSuchKey", "The specified key "
                                   "does not exist.")
            return self._send(200, obj["body"],
                              [("Content-Type", obj["content_type"] or
                                "binary/octet-stream")])

        return self._error(405, "MethodNotAllowed", "mock: not supported")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        pass


class MockS3:
    """start(), stop(), url; objects {(bucket, key): {...}}; requests."""

    def __init__(self, buckets=None, credentials=None, certfile=None,
                 keyfile=None, host="127.0.0.1", port=0, max_skew=900):
        self.buckets = dict(buckets or {"aigw-usage": "eu-west-1"})
        self.credentials = dict(credentials or DEFAULT_CREDENTIALS)
        self.key_sources = []
        self.max_skew = max_skew
        self.lock = threading.Lock()
        self.objects = {}
        self.requests = []
        self.puts = 0
        self.head_region_header = True
        self.chunked = False
        self.fail_next = []
        self.server = _Server((host, port), _Handler)
        self.server.mock = self
        self.tls = bool(certfile)
        if certfile:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(certfile, keyfile)
            self.server.socket = ctx.wrap_socket(self.server.socket,
                                                 server_side=True)
        self.thread = None

    @property
    def port(self):
        return self.server.server_address[1]

    @property
    def url(self):
        return "%s://127.0.0.1:%d" % ("https" if self.tls else "http",
                                      self.port)

    def start(self):
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def trust(self, keys):
        """Accept signatures made with the keys of "keys" too (e.g.
        mock_aws.KeyRegistry, its windows honoured); until untrust()."""
        if not any(k is keys for k in self.key_sources):
            self.key_sources.append(keys)

    def untrust(self, keys):
        self.key_sources = [k for k in self.key_sources if k is not keys]

    def keys(self):
        if not self.key_sources:
            return self.credentials
        return collections.ChainMap(self.credentials, *self.key_sources)

    def reset(self):
        with self.lock:
            self.objects.clear()
            self.requests.clear()
            self.puts = 0
            self.fail_next = []
        self.head_region_header = True
        self.chunked = False

#!/usr/bin/python3
"""
Mocks of the AWS credential providers' endpoints for aigw's tests: the EC2
instance metadata service (IMDSv2 only), the ECS/EKS container
credentials endpoint, and STS (AssumeRoleWithWebIdentity, AssumeRole).

Standard library plus botocore only; in-process, like mock_upstream.py::

    keys = KeyRegistry()
    imds = MockIMDS(keys).start()          # imds.url: http://127.0.0.1:PORT
    ecs = MockContainer(keys, token="t").start()
    sts = MockSTS(keys, web_identity_token="jwt").start()
    upstream.trust(keys); s3.trust(keys)   # they verify the issued keys

Every credential they hand out is a NEW key pair (an ASIA... key id, a
random secret and session token), valid for ``lifetime`` seconds
(default 3600; a test sets e.g. 30), recorded in the shared KeyRegistry
with its validity window [not_before, not_after]: the issue time and the
Expiration told to the client.  MockUpstream and MockS3 that trust() the
registry accept a signature made with an issued key only while it is in
its window (at the request's arrival): "signed with an expired key",
"unknown key" otherwise.

Common to the three (class _MockAWS):

    lifetime            seconds the issued credentials live
    fail(n, how, delay, path)
                        the next n requests (whose path starts with
                        "path", when given) fail: how "500" (an error
                        answer in the service's shape), "close" (the
                        connection closed, no answer) or "slow" (answered
                        normally after "delay" seconds)
    requests()          the request log: dicts with time, method, path,
                        query, headers [[name, value]], body (text), form
                        (STS), status, failure (the injected one or None),
                        akid (the key issued by that answer or None),
                        error (the error code answered or None)
    issued()            the key pairs this mock issued (registry entries)
    reset()             forget the log, pending failures, the lifetime
                        (back to the default) and the mock's own state
                        (IMDS tokens); the registry is reset by its owner

MockIMDS: PUT /latest/api/token needs X-aws-ec2-metadata-token-ttl-seconds
(1..21600, else 400) and answers a token valid that long; every GET under
/latest/meta-data/ needs a valid, unexpired X-aws-ec2-metadata-token (else
401: IMDSv1 is refused); /latest/meta-data/iam/security-credentials/
lists the role (``role``), .../ROLE answers Code, LastUpdated, Type,
AccessKeyId, SecretAccessKey, Token, Expiration.

MockContainer: GET ``path`` (default /v2/credentials/aigw-task) with
Authorization equal to ``token`` (403 otherwise; no check when token is
None) answers AccessKeyId, SecretAccessKey, Token, Expiration, RoleArn.

MockSTS: POST / with a form body (Version=2011-06-15):
Action=AssumeRoleWithWebIdentity (unsigned; WebIdentityToken must equal
``web_identity_token``; RoleArn and RoleSessionName well formed) and
Action=AssumeRole (SigV4 for the service "sts", verified with botocore
against ``credentials`` and the registry, windows honoured); RoleArn in
``roles`` when that set is given (else AccessDenied); DurationSeconds
(900..43200), when sent, is the lifetime of that issue.  Answers are
STS's XML; errors are ErrorResponse/Error/{Type,Code,Message} with
RequestId, with STS's status codes.  HTTPS with certfile/keyfile.
"""

import base64
import collections
import collections.abc
import datetime
import hashlib
import json
import re
import secrets
import socket
import ssl
import string
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape

import mock_upstream


DEFAULT_LIFETIME = 3600
ACCOUNT = "123456789012"
DEFAULT_ROLE = "aigw-instance-role"
DEFAULT_CONTAINER_PATH = "/v2/credentials/aigw-task"
STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"

# what the conftest fixtures expect
CONTAINER_TOKEN = "aigw-container-token/0001+test=="
WEB_IDENTITY_TOKEN = ("eyJhbGciOiJSUzI1NiIsImtpZCI6ImFpZ3cifQ.eyJzdWIiOiJzeXN0"
                      "ZW06c2VydmljZWFjY291bnQ6YWlndzpnYXRld2F5In0.c2lnbmF0dX"
                      "Jl-aigw_test")
SOURCE_AKID = "AKIAAIGWSOURCE000001"
SOURCE_SECRET = "aigw/Source+Secret/Key000000000000000001"
SOURCE_CREDENTIALS = dict(mock_upstream.DEFAULT_CREDENTIALS, **{
    SOURCE_AKID: {"secret": SOURCE_SECRET}})

ROLE_ARN_RE = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")
SESSION_NAME_RE = re.compile(r"^[\w+=,.@-]{2,64}$")

_KEY_CHARS = string.ascii_uppercase + string.digits
_SECRET_CHARS = string.ascii_letters + string.digits + "+/"


def iso8601(t):
    """An epoch time as AWS writes expirations: 2026-12-04T19:12:39Z."""
    return datetime.datetime.fromtimestamp(
        int(t), datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_key_pair():
    """(akid, secret, token): random, shaped like STS's."""
    akid = "ASIA" + "".join(secrets.choice(_KEY_CHARS) for _ in range(16))
    secret = "".join(secrets.choice(_SECRET_CHARS) for _ in range(40))
    token = "IQoJb3JpZ2luX2Vj" + base64.b64encode(
        secrets.token_bytes(330)).decode()
    return akid, secret, token


class KeyRegistry(collections.abc.Mapping):
    """
    The key pairs known to the mocks: akid -> {"secret", "token",
    "not_before", "not_after", "issuer", "seq"}.  A Mapping, so that
    mock_upstream.verify_sigv4 and mock_s3.verify_s3_sigv4 take it as
    their credentials.  Thread-safe.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._keys = collections.OrderedDict()
        self._seq = 0

    def issue(self, lifetime, issuer, now=None):
        """A new key pair valid from now for "lifetime" seconds (its end
        is a whole second, as the Expiration written)."""
        now = time.time() if now is None else now
        akid, secret, token = new_key_pair()
        return self.add(akid, secret, token, not_before=now,
                        not_after=int(now) + int(lifetime), issuer=issuer)

    def add(self, akid, secret, token=None, not_before=None,
            not_after=None, issuer="static"):
        with self._lock:
            self._seq += 1
            entry = {"akid": akid, "secret": secret, "token": token,
                     "not_before": not_before, "not_after": not_after,
                     "issuer": issuer, "seq": self._seq}
            self._keys[akid] = entry
            return dict(entry)

    def __getitem__(self, akid):
        with self._lock:
            return dict(self._keys[akid])

    def __contains__(self, akid):
        with self._lock:
            return akid in self._keys

    def __iter__(self):
        with self._lock:
            return iter(list(self._keys))

    def __len__(self):
        with self._lock:
            return len(self._keys)

    def issued(self, issuer=None):
        """The entries in issue order (of one issuer when given)."""
        with self._lock:
            return [dict(e) for e in self._keys.values()
                    if issuer is None or e["issuer"] == issuer]

    def last(self, issuer=None):
        out = self.issued(issuer)
        return out[-1] if out else None

    def valid_at(self, akid, t):
        e = self.get(akid)
        return e is not None and mock_upstream.key_window_error(e, t) is None

    def reset(self):
        with self._lock:
            self._keys.clear()


# --- the server -------------------------------------------------------------

class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    sys_version = ""

    def setup(self):
        conn = self.request
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
            sys.stderr.write("mock-aws: %s\n" % (fmt % args))

    def do_GET(self):
        self._dispatch()

    def do_PUT(self):
        self._dispatch()

    def do_POST(self):
        self._dispatch()

    def do_HEAD(self):
        self._dispatch()

    def do_DELETE(self):
        self._dispatch()

    def _dispatch(self):
        mock = self.server.mock
        self.server_version = mock.server_name
        target = self.path
        path, _, query = target.partition("?")
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        rec = {"time": time.time(), "method": self.command, "path": path,
               "query": query, "headers": [[k, v] for k, v in
                                           self.headers.items()],
               "body": body.decode("utf-8", "replace"), "form": None,
               "status": None, "failure": None, "akid": None,
               "error": None,
               "tls": isinstance(self.request, ssl.SSLSocket)}
        failure = mock._take_failure(path)
        rec["failure"] = failure and failure["how"]
        mock._record(rec)
        if failure and failure["how"] == "close":
            self.close_connection = True
            self.request.close()
            return
        if failure and failure["how"] == "slow":
            time.sleep(failure["delay"])
        if failure and failure["how"] == "500":
            status, headers, out = mock.internal_error()
        else:
            status, headers, out = mock.answer(self, rec, path, query,
                                               body)
        rec["status"] = status
        self.send_response(status)
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(out)
        self.wfile.flush()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        if self.mock.verbose:
            super().handle_error(request, client_address)


class _MockAWS:
    """What the three mocks share (see the module's docstring)."""

    server_name = "aigw-mock-aws"
    issuer = "mock"

    def __init__(self, registry=None, host="127.0.0.1", port=0,
                 lifetime=DEFAULT_LIFETIME, certfile=None, keyfile=None,
                 verbose=False):
        self.registry = registry if registry is not None else KeyRegistry()
        self.default_lifetime = lifetime
        self.lifetime = lifetime
        self.verbose = verbose
        self.lock = threading.Lock()
        self._log = []
        self._failures = []
        self.server = _Server((host, port), _Handler)
        self.server.mock = self
        self.tls = bool(certfile)
        if certfile:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(certfile, keyfile)
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
                                        daemon=True, name=self.issuer)
        self._thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    # -- state --

    def fail(self, n=1, how="500", delay=3.0, path=None):
        if how not in ("500", "close", "slow"):
            raise ValueError("fail: how is 500, close or slow, not %r" % how)
        with self.lock:
            self._failures += [{"how": how, "delay": delay, "path": path}
                               for _ in range(n)]

    def pending_failures(self):
        with self.lock:
            return len(self._failures)

    def _take_failure(self, path):
        with self.lock:
            for i, f in enumerate(self._failures):
                if f["path"] is None or path.startswith(f["path"]):
                    return self._failures.pop(i)
        return None

    def _record(self, rec):
        with self.lock:
            self._log.append(rec)

    def requests(self):
        with self.lock:
            return [dict(r) for r in self._log]

    def issued(self):
        return self.registry.issued(self.issuer)

    def reset(self):
        with self.lock:
            self._log = []
            self._failures = []
        self.lifetime = self.default_lifetime
        self._reset_state()

    def _reset_state(self):
        pass

    def _issue(self, rec, lifetime=None):
        e = self.registry.issue(lifetime or self.lifetime, self.issuer)
        rec["akid"] = e["akid"]
        return e

    # -- answers, in the service's shape --

    def internal_error(self):
        return 500, [("Content-Type", "text/plain")], \
            b"mock: failing on purpose"

    def answer(self, handler, rec, path, query, body):
        raise NotImplementedError


# --- IMDS ---------------------------------------------------------------------

class MockIMDS(_MockAWS):
    """EC2's instance metadata service, IMDSv2 only."""

    server_name = "EC2ws"
    issuer = "imds"

    def __init__(self, registry=None, role=DEFAULT_ROLE, **kw):
        super().__init__(registry, **kw)
        self.role = role
        self._tokens = {}

    def _reset_state(self):
        with self.lock:
            self._tokens = {}

    def tokens(self):
        """{token: expiry epoch} of the session tokens handed out."""
        with self.lock:
            return dict(self._tokens)

    def _text(self, status, text, error=None, rec=None):
        if rec is not None and error:
            rec["error"] = error
        return status, [("Content-Type", "text/plain")], text.encode()

    def answer(self, handler, rec, path, query, body):
        hd = handler.headers
        if path == "/latest/api/token":
            if handler.command != "PUT":
                return self._text(405, "Method Not Allowed",
                                  "MethodNotAllowed", rec)
            if hd.get("X-Forwarded-For") is not None:
                return self._text(403, "Forbidden", "Forbidden", rec)
            ttl = hd.get("X-aws-ec2-metadata-token-ttl-seconds")
            if ttl is None or not re.match(r"^\d{1,6}$", ttl.strip()) or \
                    not 1 <= int(ttl) <= 21600:
                return self._text(400, "Bad Request", "BadTTL", rec)
            token = "AQAEA" + base64.urlsafe_b64encode(
                secrets.token_bytes(36)).decode().rstrip("=")
            with self.lock:
                self._tokens[token] = time.time() + int(ttl)
            return 200, [("Content-Type", "text/plain"),
                         ("X-aws-ec2-metadata-token-ttl-seconds",
                          str(int(ttl)))], token.encode()

        if not path.startswith("/latest/meta-data"):
            return self._text(404, "Not Found", "NotFound", rec)
        if handler.command != "GET":
            return self._text(405, "Method Not Allowed",
                              "MethodNotAllowed", rec)
        token = hd.get("X-aws-ec2-metadata-token")
        with self.lock:
            expiry = self._tokens.get(token) if token else None
        if expiry is None or time.time() >= expiry:
            return self._text(401, "Unauthorized", "Unauthorized", rec)

        base = "/latest/meta-data/iam/security-credentials"
        if path in (base, base + "/"):
            return self._text(200, self.role)
        if path.startswith(base + "/"):
            role = urllib.parse.unquote(path[len(base) + 1:])
            if role != self.role:
                return self._text(404, "Not Found", "NotFound", rec)
            e = self._issue(rec)
            doc = {"Code": "Success",
                   "LastUpdated": iso8601(e["not_before"]),
                   "Type": "AWS-HMAC",
                   "AccessKeyId": e["akid"],
                   "SecretAccessKey": e["secret"],
                   "Token": e["token"],
                   "Expiration": iso8601(e["not_after"])}
            return 200, [("Content-Type", "text/plain")], \
                json.dumps(doc, indent=2).encode()
        if path in ("/latest/meta-data", "/latest/meta-data/"):
            return self._text(200, "ami-id\niam/\ninstance-id")
        return self._text(404, "Not Found", "NotFound", rec)


# --- the container endpoint ---------------------------------------------------

class MockContainer(_MockAWS):
    """The ECS task role / EKS Pod Identity credentials endpoint."""

    server_name = "aigw-mock-container"
    issuer = "container"

    def __init__(self, registry=None, token=None,
                 path=DEFAULT_CONTAINER_PATH,
                 role_arn="arn:aws:iam::%s:role/aigw-task-role" % ACCOUNT,
                 **kw):
        super().__init__(registry, **kw)
        self.token = token
        self.default_token = token
        self.path = path
        self.role_arn = role_arn

    def _reset_state(self):
        self.token = self.default_token

    def _json(self, status, doc, error=None, rec=None):
        if rec is not None and error:
            rec["error"] = error
        return status, [("Content-Type", "application/json")], \
            json.dumps(doc).encode()

    def internal_error(self):
        return self._json(500, {"code": "InternalServerError",
                                "message": "mock: failing on purpose"})

    def answer(self, handler, rec, path, query, body):
        if path != self.path:
            return self._json(404, {"code": "NotFound",
                                    "message": "no such path"},
                              "NotFound", rec)
        if handler.command != "GET":
            return self._json(405, {"code": "MethodNotAllowed",
                                    "message": "GET only"},
                              "MethodNotAllowed", rec)
        if self.token is not None and \
                handler.headers.get_all("Authorization") != [self.token]:
            return self._json(403, {"code": "AccessDenied",
                                    "message": "invalid authorization "
                                               "token"},
                              "AccessDenied", rec)
        e = self._issue(rec)
        return self._json(200, {"AccessKeyId": e["akid"],
                                "SecretAccessKey": e["secret"],
                                "Token": e["token"],
                                "Expiration": iso8601(e["not_after"]),
                                "RoleArn": self.role_arn})


# --- STS ----------------------------------------------------------------------

# verify_sigv4's error types as STS names them: (status, code)
_STS_AUTH_ERRORS = {
    "MissingAuthenticationTokenException": (403,
                                            "MissingAuthenticationToken"),
    "IncompleteSignatureException": (400, "IncompleteSignature"),
    "InvalidSignatureException": (403, "SignatureDoesNotMatch"),
    "UnrecognizedClientException": (403, "InvalidClientTokenId"),
    "ExpiredTokenException": (400, "ExpiredToken"),
}


class MockSTS(_MockAWS):
    """AWS STS's query API: AssumeRoleWithWebIdentity and AssumeRole."""

    server_name = "aigw-mock-sts"
    issuer = "sts"

    def __init__(self, registry=None, web_identity_token=None,
                 credentials=None, roles=None, **kw):
        super().__init__(registry, **kw)
        self.web_identity_token = web_identity_token
        self.default_web_identity_token = web_identity_token
        # long-term keys that may sign AssumeRole, besides the registry's
        self.credentials = dict(credentials or {})
        self.roles = set(roles) if roles is not None else None
        self.default_roles = self.roles

    def _reset_state(self):
        self.web_identity_token = self.default_web_identity_token
        self.roles = self.default_roles

    def _keys(self):
        return collections.ChainMap(self.credentials, self.registry)

    def _error(self, rec, status, code, message, kind="Sender"):
        if rec is not None:
            rec["error"] = code
        doc = ('<ErrorResponse xmlns="%s">\n  <Error>\n    <Type>%s</Type>\n'
               '    <Code>%s</Code>\n    <Message>%s</Message>\n'
               '  </Error>\n  <RequestId>%s</RequestId>\n</ErrorResponse>\n'
               % (STS_NS, kind, code, escape(message), uuid.uuid4()))
        return status, [("Content-Type", "text/xml")], doc.encode()

    def internal_error(self):
        return self._error(None, 500, "InternalFailure",
                           "mock: failing on purpose", "Receiver")

    def answer(self, handler, rec, path, query, body):
        if handler.command != "POST" or path != "/":
            return self._error(rec, 404 if path != "/" else 405,
                               "InvalidAction", "mock STS: POST / only")
        ctype = handler.headers.get("Content-Type", "")
        if not ctype.lower().startswith(
                "application/x-www-form-urlencoded"):
            return self._error(rec, 400, "InvalidParameterValue",
                               "mock STS: the body must be "
                               "application/x-www-form-urlencoded, not %r"
                               % ctype)
        try:
            pairs = urllib.parse.parse_qsl(body.decode(),
                                           keep_blank_values=True,
                                           strict_parsing=bool(body))
        except (ValueError, UnicodeDecodeError):
            return self._error(rec, 400, "MalformedQueryString",
                               "mock STS: a malformed form body")
        form = {}
        for k, v in pairs:
            if k in form:
                return self._error(rec, 400, "MalformedQueryString",
                                   "parameter %s given twice" % k)
            form[k] = v
        rec["form"] = form
        action = form.get("Action")
        if action not in ("AssumeRoleWithWebIdentity", "AssumeRole"):
            return self._error(rec, 400, "InvalidAction",
                               "Could not find operation %s for version "
                               "2011-06-15" % action)
        if form.get("Version") != "2011-06-15":
            return self._error(rec, 400, "InvalidAction",
                               "Could not find operation %s for version %s"
                               % (action, form.get("Version")))

        if action == "AssumeRole":
            headers = list(handler.headers.items())
            sha = hashlib.sha256(body).hexdigest()
            sig = mock_upstream.verify_sigv4(
                "POST", handler.path, headers, sha, self._keys(),
                expected_service="sts", require_content_sha256=False)
            rec["sig_ok"] = sig["ok"]
            rec["sig_error"] = sig["error"]
            rec["signed_by"] = sig["akid"]
            rec["region"] = sig["region"]
            if not sig["ok"]:
                status, code = _STS_AUTH_ERRORS.get(
                    sig["error_type"], (403, "SignatureDoesNotMatch"))
                return self._error(rec, status, code, sig["error"])

        role = form.get("RoleArn")
        name = form.get("RoleSessionName")
        for param, value in (("roleArn", role), ("roleSessionName", name)):
            if value is None:
                return self._error(rec, 400, "ValidationError",
                                   "1 validation error detected: Value null "
                                   "at '%s' failed to satisfy constraint: "
                                   "Member must not be null" % param)
        if not ROLE_ARN_RE.match(role):
            return self._error(rec, 400, "ValidationError",
                               "1 validation error detected: Value '%s' at "
                               "'roleArn' failed to satisfy constraint"
                               % role)
        if not SESSION_NAME_RE.match(name):
            return self._error(rec, 400, "ValidationError",
                               "1 validation error detected: Value '%s' at "
                               "'roleSessionName' failed to satisfy "
                               "constraint: Member must satisfy regular "
                               "expression pattern: [\\w+=,.@-]*" % name)
        lifetime = None
        if "DurationSeconds" in form:
            d = form["DurationSeconds"]
            if not d.isdigit() or not 900 <= int(d) <= 43200:
                return self._error(rec, 400, "ValidationError",
                                   "1 validation error detected: Value '%s'"
                                   " at 'durationSeconds' failed to satisfy"
                                   " constraint" % d)
            lifetime = int(d)

        if action == "AssumeRoleWithWebIdentity":
            token = form.get("WebIdentityToken")
            if token is None:
                return self._error(rec, 400, "ValidationError",
                                   "1 validation error detected: Value null "
                                   "at 'webIdentityToken' failed to satisfy "
                                   "constraint: Member must not be null")
            if self.web_identity_token is None or \
                    token != self.web_identity_token:
                return self._error(rec, 400, "InvalidIdentityToken",
                                   "Couldn't verify the web identity token"
                                   " (mock: not the expected token)")
        if self.roles is not None and role not in self.roles:
            who = ("assumed-role/web-identity" if action ==
                   "AssumeRoleWithWebIdentity" else rec.get("signed_by"))
            return self._error(rec, 403, "AccessDenied",
                               "User: %s is not authorized to perform: "
                               "sts:%s on resource: %s" % (who, action,
                                                           role))

        e = self._issue(rec, lifetime)
        role_name = role.split(":role/", 1)[1].rsplit("/", 1)[-1]
        user = ("    <AssumedRoleUser>\n"
                "      <Arn>arn:aws:sts::%s:assumed-role/%s/%s</Arn>\n"
                "      <AssumedRoleId>AROAMOCKROLEID000001:%s</AssumedRoleId>"
                "\n    </AssumedRoleUser>\n" % (ACCOUNT, escape(role_name),
                                                escape(name), escape(name)))
        creds = ("    <Credentials>\n"
                 "      <AccessKeyId>%s</AccessKeyId>\n"
                 "      <SecretAccessKey>%s</SecretAccessKey>\n"
                 "      <SessionToken>%s</SessionToken>\n"
                 "      <Expiration>%s</Expiration>\n"
                 "    </Credentials>\n" % (e["akid"], escape(e["secret"]),
                                           escape(e["token"]),
                                           iso8601(e["not_after"])))
        if action == "AssumeRoleWithWebIdentity":
            extra = ("    <SubjectFromWebIdentityToken>system:serviceaccount:"
                     "aigw:gateway</SubjectFromWebIdentityToken>\n"
                     "    <Audience>sts.amazonaws.com</Audience>\n"
                     "    <Provider>arn:aws:iam::%s:oidc-provider/mock"
                     "</Provider>\n" % ACCOUNT)
        else:
            extra = "    <PackedPolicySize>6</PackedPolicySize>\n"
        doc = ('<%sResponse xmlns="%s">\n  <%sResult>\n%s%s%s  </%sResult>\n'
               '  <ResponseMetadata>\n    <RequestId>%s</RequestId>\n'
               '  </ResponseMetadata>\n</%sResponse>\n'
               % (action, STS_NS, action, extra, user, creds, action,
                  uuid.uuid4(), action))
        return 200, [("Content-Type", "text/xml")], doc.encode()


def main(argv=None):
    import argparse
    ap = argparse.ArgumentParser(description="aigw's mock IMDS, container "
                                 "endpoint and STS, on three ports")
    ap.add_argument("--lifetime", type=int, default=DEFAULT_LIFETIME)
    ap.add_argument("--container-token")
    ap.add_argument("--web-identity-token")
    args = ap.parse_args(argv)
    keys = KeyRegistry()
    mocks = [MockIMDS(keys, lifetime=args.lifetime),
             MockContainer(keys, token=args.container_token,
                           lifetime=args.lifetime),
             MockSTS(keys, web_identity_token=args.web_identity_token,
                     lifetime=args.lifetime)]
    for m in mocks:
        m.start()
        print("%s on %s" % (m.issuer, m.url), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""
Helpers of aigw's integration tests: paths, a raw HTTP client, curl for
HTTP/2, a SigV4 signer for talking to the mock directly, test certificates,
and the nginx process wrapper (plain, under valgrind, or built with
ASan and UBSan).
"""

import base64
import datetime
import hashlib
import http.client
import json
import os
import random
import re
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from pathlib import Path

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

import mock_upstream as mu


T_DIR = Path(__file__).resolve().parent
REPO = T_DIR.parent
AIGW_PARAMS = REPO / "conf-examples" / "aigw_params"
VALGRIND_SUPP = T_DIR / "valgrind.supp"

REGION = "us-east-1"
VPCE_HOST = ("vpce-0a1b2c3d4e5f-abcdefgh.bedrock-runtime.us-east-1"
             ".vpce.amazonaws.com")

AKID, SECRET = mu.LONG_TERM_AKID, mu.LONG_TERM_SECRET
TEMP_AKID, TEMP_SECRET, TEMP_TOKEN = mu.TEMP_AKID, mu.TEMP_SECRET, \
    mu.TEMP_TOKEN

VALGRIND = os.environ.get("AIGW_VALGRIND") == "1"

# nginx built with AddressSanitizer and UndefinedBehaviorSanitizer ("make
# test-asan"): each nginx writes their reports into its prefix, and any
# report fails the test
ASAN = os.environ.get("AIGW_ASAN") == "1"

# the module is compiled into NGINX_BIN: no load_module
STATIC_MODULE = os.environ.get("AIGW_STATIC_MODULE") == "1"

# the sanitizers' options: reports to <prefix>/sanitizer.<pid>, the first
# error ends the process.  Leaks are looked for when the master and the
# workers of a running nginx exit, not in the short commands (nginx -t, -s
# reload, -s quit): those exit holding the configuration they read, by
# nginx's design.  t/asan/lsan.supp: OpenSSL's allocations (the sessions
# nginx's proxy keeps).
ASAN_OPTIONS = ("detect_leaks=0:halt_on_error=1"
                ":detect_stack_use_after_return=1")
ASAN_SERVER_OPTIONS = "detect_leaks=1"
LSAN_OPTIONS = "suppressions=%s:print_suppressions=0" % (
    T_DIR / "asan" / "lsan.supp")
UBSAN_OPTIONS = "print_stacktrace=1:halt_on_error=1"

# how long the mock holds a response back for X-Mock-Hold (a test that
# waits for nginx to forward an event gives up well before that)
HOLD_WAIT = 30 if VALGRIND else 10

# error.log lines that fail a test whatever it does
BAD_LOG_RE = re.compile(r"\[(alert|emerg|crit)\]|exited on signal")


def sha256_hex(data):
    return hashlib.sha256(data).hexdigest()


# --- tenants and API keys ---------------------------------------------------

def make_key(key_id):
    """A new API key "aigw_<id>_<base64url of 32 random bytes>" and the
    hex SHA-256 of the whole key, as the tenants file stores it."""
    secret = base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode()
    key = "aigw_%s_%s" % (key_id, secret)
    return key, sha256_hex(key.encode())


def key_secret(key):
    """The secret part of a key (after the key id)."""
    return key.split("_", 2)[2]


# The harness's own tenant: every model, one key, new each session.
DEFAULT_TENANT = "harness"
DEFAULT_PROJECT = "aigw-tests"
DEFAULT_DEPARTMENT = "qa"
API_KEY_ID = "harness1"
API_KEY, API_KEY_SHA256 = make_key(API_KEY_ID)
KEY_HEADER = ("x-api-key", API_KEY)

# every key the tests send (valid or not): each nginx the tests start has
# its logs scanned for them when it stops (conftest.stop_and_check)
SENT_KEYS = [API_KEY]


def register_keys(*keys):
    SENT_KEYS.extend(k for k in keys if k not in SENT_KEYS)
    return keys[0] if len(keys) == 1 else keys


def tenants_doc(*tenants):
    return {"tenants": list(tenants)}


def default_tenant():
    return {"id": DEFAULT_TENANT, "project": DEFAULT_PROJECT,
            "department": DEFAULT_DEPARTMENT,
            "keys": [{"id": API_KEY_ID, "sha256": API_KEY_SHA256}],
            "models": ["*"]}


def write_tenants(path, doc, mode=0o600):
    path = Path(path)
    path.write_text(json.dumps(doc, indent=2) + "\n")
    path.chmod(mode)
    return path


_default_tenants_file = None


def set_default_tenants_file(path):
    global _default_tenants_file
    _default_tenants_file = Path(path)


def default_tenants_file():
    """The session's tenants file (conftest writes it in pytest's tmp
    dir; used outside pytest, one is written in a fresh temp dir)."""
    global _default_tenants_file
    if _default_tenants_file is None:
        d = Path(tempfile.mkdtemp(prefix="aigw-tenants-"))
        _default_tenants_file = write_tenants(
            d / "tenants.json", tenants_doc(default_tenant()))
    return _default_tenants_file


def key_material(keys):
    """
    {what: string} of all that must never be logged about these keys:
    each whole key, its secret and its SHA-256 (hex, both cases).  Key
    ids are public: they are not in it.
    """
    out = {}
    for i, key in enumerate(keys):
        sha = sha256_hex(key.encode())
        name = key.split("_", 2)[1] if key.count("_") >= 2 else "#%d" % i
        out["key %s (#%d)" % (name, i)] = key
        if key.count("_") >= 2 and len(key_secret(key)) >= 16:
            out["secret of %s (#%d)" % (name, i)] = key_secret(key)
        out["sha256 of %s (#%d)" % (name, i)] = sha
        out["SHA256 of %s (#%d)" % (name, i)] = sha.upper()
    return out


def find_key_material(text, material):
    """The lines of text holding any of key_material()'s strings."""
    found = []
    for line in text.splitlines():
        for what, s in material.items():
            if s in line:
                found.append("%s in: %s" % (what, line[:300]))
    return found


# nginx's HTTP core itself writes every request header to a debug-level
# log ('http header: "x-api-key: ..."', 'http2 header: ...') before any
# module runs: no module can keep a key out of those lines
CORE_HEADER_DUMP_RE = re.compile(
    r'\[debug\] \d+#\d+: \*\d+ (http|http2) header: "')


# nginx's HTTP core also quotes a whole header line it refuses or ignores,
# at info level ('client sent duplicate header line: "Authorization:
# Bearer ..."', 'client sent invalid header line: "x_api_key: ..."'):
# nginx's lines too (issue 9, defect 6: README says to keep a gateway's
# error log at notice or above)
CORE_HEADER_LINE_RE = re.compile(
    r'\[info\] \d+#\d+: \*\d+ client sent (duplicate|invalid|too long) '
    r'header line: ')


def scan_logs_for_keys(prefix, keys=None):
    """
    Key material (key_material() of keys, by default every key the
    tests sent so far) in the logs of an nginx prefix: error logs at any
    level, debug logs, access logs, stdio.  nginx's own lines quoting
    request headers (CORE_HEADER_DUMP_RE, CORE_HEADER_LINE_RE) are left
    out.  Returns "file: what in: line" strings.
    """
    material = key_material(SENT_KEYS if keys is None else keys)
    found = []
    for f in sorted(Path(prefix).glob("*.log")):
        text = f.read_text(errors="replace")
        if not any(s in text for s in material.values()):
            continue
        text = "\n".join(
            line for line in text.splitlines()
            if not CORE_HEADER_DUMP_RE.search(line)
            and not CORE_HEADER_LINE_RE.search(line))
        found += ["%s: %s" % (f.name, x)
                  for x in find_key_material(text, material)]
    return found


# the request helpers add the default key unless told otherwise
DEFAULT = object()


def with_key(headers, api_key=DEFAULT):
    """
    headers plus x-api-key: the session's key, unless the headers carry an
    x-api-key or an "Authorization: Bearer" already, or api_key is None
    (no key: for the 401 tests).  api_key="..." sends that one.
    """
    headers = list(headers.items() if isinstance(headers, dict)
                   else headers)
    if api_key is None:
        return headers
    if header_get(headers, "x-api-key") is not None:
        return headers
    auth = header_get(headers, "authorization")
    if auth is not None and auth[:7].lower() == "bearer ":
        return headers
    return headers + [("x-api-key",
                       API_KEY if api_key is DEFAULT else api_key)]


def build_dir():
    return Path(os.environ.get("AIGW_BUILD") or REPO / "build")


def module_path():
    return build_dir() / "ngx_http_aigw_module.so"


def module_needed():
    """Whether the tests need the module's .so (not when it is compiled
    into the nginx they run)."""
    return not STATIC_MODULE


def nginx_bin():
    return os.environ.get("NGINX_BIN") or "/usr/sbin/nginx"


def testdata_dir():
    return Path(os.environ.get("AIGW_TESTDATA") or
                REPO.parent / "shared" / "testdata")


def captures_dir():
    d = testdata_dir() / "bedrock-captures"
    return d if d.is_dir() else None


def capture_names():
    d = captures_dir()
    if d is None:
        return []
    return sorted(p.name for p in d.iterdir()
                  if (p / "request.json").is_file())


def load_capture(name):
    d = captures_dir() / name
    req = json.loads((d / "request.json").read_text())
    resp = json.loads((d / "response.json").read_text())
    body = (d / "response.body").read_bytes()
    return req, resp, body


# --- the responses the tests send through the gateway ------------------------
#
# A Case is one request to send (through the gateway, to the mock) and all
# that must come back: the mock's status, headers and body bytes, the
# exact usage, $aigw_usage_source and $aigw_error_type.  The recorded
# Bedrock captures of ../shared/testdata make one set; mock_synthetic's
# whole-operation answers the other, the same shape, always at hand.  A
# test about "every capture" uses capture_cases() (and skips without the
# data); a test that only needs realistic responses uses responses() or
# case_for(), the captures when present, else their synthetic stand-ins.

# $aigw_usage_source of a complete answer, by the path's operation
SOURCE = {"invoke": "header", "converse": "body",
          "invoke-with-response-stream": "stream",
          "converse-stream": "stream", "invocations": "body",
          "invocations-response-stream": "stream"}
STREAM_OPS = ("invoke-with-response-stream", "converse-stream",
              "invocations-response-stream")
TOKEN_FIELDS = ("input_tokens", "output_tokens", "cache_read_input_tokens",
                "cache_write_input_tokens")


class Case:
    def __init__(self, name, kind, method, path, headers, body, status,
                 resp_headers, resp_body, usage, source, error_type=""):
        self.name = name
        self.kind = kind                  # "capture" or "synthetic"
        self.method = method
        self.path = path                  # as sent on the wire
        self.headers = list(headers)      # request headers, X-Mock-* too
        self.body = body                  # request body bytes
        self.status = status
        self.resp_headers = list(resp_headers)
        self.resp_body = resp_body
        self.usage = dict(usage)          # the four token counts
        self.source = source              # $aigw_usage_source
        self.error_type = error_type      # $aigw_error_type

    def __repr__(self):
        return "<Case %s %s>" % (self.kind, self.name)

    @property
    def operation(self):
        return self.path.split("?")[0].rsplit("/", 1)[1]

    @property
    def service(self):
        return "sagemaker" if self.path.startswith("/endpoints/") \
            else "bedrock"

    @property
    def model(self):
        """The path's model (or endpoint), percent-decoded once."""
        import urllib.parse
        return urllib.parse.unquote(self.path.split("/")[2])

    @property
    def streaming(self):
        return self.operation in STREAM_OPS

    @property
    def request_id(self):
        return self.resp_header("x-amzn-RequestId")

    def resp_header(self, name, default=None):
        return header_get(self.resp_headers, name, default)

    def request_headers(self, chunking=None, extra=()):
        """The request's headers (with the mock's X-Mock-Capture or
        X-Mock-Synthetic), X-Mock-Chunking if given, then extra."""
        out = list(self.headers)
        if chunking is not None:
            out.append(("X-Mock-Chunking", chunking))
        return out + list(extra)

    def send(self, port, chunking=None, extra=(), **kw):
        """Sends it (http_request's keywords: api_key=, ...)."""
        return http_request(port, self.method, self.path,
                            self.request_headers(chunking, extra),
                            self.body, **kw)


def capture_case(name):
    req, resp, body = load_capture(name)
    d = captures_dir() / name
    usage = {k: int(v) for k, v in json.loads(
        (d / "expected-usage.json").read_text()).items()}
    path = req["path"]
    op = path.rsplit("/", 1)[1]
    return Case(name, "capture", req["method"], path,
                list(req["headers"].items()) + [("X-Mock-Capture", name)],
                req["body"].encode(), resp["status"],
                list(resp["headers"].items()), body, usage, SOURCE[op])


def capture_cases():
    """Every capture, or [] without the data."""
    return [capture_case(n) for n in capture_names()]


HAIKU_WIRE = "anthropic.claude-3-haiku-20240307-v1%3A0"
HAIKU35_WIRE = "anthropic.claude-3-5-haiku-20241022-v1%3A0"
SONNET37_ARN_WIRE = ("arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3A"
                     "inference-profile%2Fus.anthropic.claude-3-7-sonnet-"
                     "20250219-v1%3A0")
IMPORTED_ARN_WIRE = ("arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3A"
                     "imported-model%2Fsynth0imported1")

_JSON = [("Content-Type", "application/json")]
_INVOKE = [("Accept", "application/json"),
           ("Content-Type", "application/json")]
_GUARDRAIL = [("x-amzn-bedrock-guardrailidentifier", "synth0guard1"),
              ("x-amzn-bedrock-guardrailversion", "DRAFT"),
              ("x-amzn-bedrock-trace", "ENABLED")]


def _jb(obj):
    return json.dumps(obj).encode()


_ANTHROPIC_CACHED = _jb({
    "anthropic_version": "bedrock-2023-05-31",
    "system": [{"type": "text", "text": "a long, stable system prompt",
                "cache_control": {"type": "ephemeral"}}],
    "messages": [{"role": "user", "content": "How do I write js?"}],
    "max_tokens": 50, "temperature": 0.1})
_ANTHROPIC = _jb({"anthropic_version": "bedrock-2023-05-31",
                  "max_tokens": 100, "messages": [
                      {"role": "user", "content": "Tell me a joke"}]})
_CONVERSE = _jb({"messages": [{"role": "user", "content": [
    {"text": "What is the capital of Japan?"}]}],
    "inferenceConfig": {"temperature": 0.5}})
_CONVERSE_CACHED = _jb({
    "system": [{"text": "a long, stable system prompt"},
               {"cachePoint": {"type": "default"}}],
    "messages": [{"role": "user", "content": [{"text": "And Japan?"}]}]})

# the synthetic stand-ins: mock_synthetic name -> (path, request headers,
# request body); the response, its usage and error type are
# mock_synthetic's
SYNTHETIC_REQUESTS = {
    "invoke-anthropic-cache-write": (
        "/model/%s/invoke" % HAIKU35_WIRE, _INVOKE, _ANTHROPIC_CACHED),
    "invoke-anthropic-cache-read": (
        "/model/%s/invoke" % HAIKU35_WIRE, _INVOKE, _ANTHROPIC_CACHED),
    "invoke-titan": (
        "/model/amazon.titan-text-express-v1/invoke", _INVOKE,
        _jb({"inputText": "Translate to Spanish: prompt caching",
             "textGenerationConfig": {"maxTokenCount": 100}})),
    "invoke-llama": (
        "/model/meta.llama3-8b-instruct-v1%3A0/invoke", [],
        _jb({"prompt": "Tell me a joke", "max_gen_len": 64})),
    "invoke-nova": (
        "/model/us.amazon.nova-lite-v1%3A0/invoke", _GUARDRAIL,
        _jb({"messages": [{"role": "user", "content": [
            {"text": "Tell me a joke"}]}]})),
    "invoke-openai": (
        "/model/%s/invoke" % IMPORTED_ARN_WIRE, [],
        _jb({"prompt": "Tell me a joke", "max_tokens": 100})),
    "invoke-claude-v2": (
        "/model/anthropic.claude-v2%3A1/invoke", _INVOKE,
        _jb({"prompt": "\n\nHuman: Tell me a joke\n\nAssistant:",
             "max_tokens_to_sample": 100})),
    "anthropic-stream": (
        "/model/%s/invoke-with-response-stream" % HAIKU_WIRE,
        [("Content-Type", "application/json"),
         ("X-Amzn-Bedrock-Accept", "application/json")], _ANTHROPIC),
    "titan-stream": (
        "/model/amazon.titan-text-express-v1/invoke-with-response-stream",
        _GUARDRAIL, _jb({"inputText": "Tell me a two sentence story",
                         "textGenerationConfig": {"maxTokenCount": 800}})),
    "converse": ("/model/%s/converse" % SONNET37_ARN_WIRE, _JSON, _CONVERSE),
    "converse-stream": (
        "/model/%s/converse-stream" % HAIKU_WIRE, _JSON, _CONVERSE_CACHED),
    "converse-stream-guardrail": (
        "/model/amazon.nova-lite-v1%3A0/converse-stream", _JSON, _CONVERSE),
    "sm-openai-json": (
        "/endpoints/synthetic-vllm/invocations", _INVOKE,
        _jb({"messages": [{"role": "user", "content": "Hello"}],
             "max_tokens": 32})),
    "sm-openai-stream": (
        "/endpoints/synthetic-vllm/invocations-response-stream",
        [("Content-Type", "application/json"),
         ("X-Amzn-SageMaker-Accept", "text/event-stream")],
        _jb({"messages": [{"role": "user", "content": "Hello"}],
             "stream": True,
             "stream_options": {"include_usage": True}})),
    "sm-tgi-stream": (
        "/endpoints/synthetic-tgi/invocations-response-stream", _JSON,
        _jb({"inputs": "What is deep learning?", "stream": True})),
    "anthropic-stream-throttled": (
        "/model/%s/invoke-with-response-stream" % HAIKU_WIRE, _JSON,
        _ANTHROPIC),
    "error-header-colon": (
        "/model/amazon.nova-lite-v1%3A0/converse", _JSON, _CONVERSE),
    "error-json-type": (
        "/model/meta.llama3-8b-instruct-v1%3A0/invoke", [], b'{"prompt": 1}'),
}


def have_captures():
    return bool(capture_names())


def case(name):
    """The Case of a synthetic stand-in or of a capture, by name."""
    return synthetic_case(name) if name in SYNTHETIC_REQUESTS \
        else capture_case(name)


def captures_missing():
    """The one-line reason of a test about the captures themselves."""
    return "bedrock captures not found at %s (set AIGW_TESTDATA)" % (
        testdata_dir() / "bedrock-captures")


def case_counts(c, times=1):
    """What "times" requests of Case c add to their Redis hash: requests,
    the token counts, errors and throttled."""
    out = {"requests": times}
    for k in TOKEN_FIELDS:
        out[k] = c.usage[k] * times
    err = c.status >= 400 or bool(c.error_type)
    out["errors"] = times if err else 0
    out["throttled"] = times if err and (
        c.status == 429 or "throttl" in c.error_type.lower()) else 0
    return out


def synthetic_case(name):
    import mock_synthetic
    path, headers, body = SYNTHETIC_REQUESTS[name]
    s = mock_synthetic.build(name)
    op = path.rsplit("/", 1)[1]
    usage = {k: s.usage[k] for k in TOKEN_FIELDS}
    source = "none" if s.status >= 400 or not any(usage.values()) \
        else SOURCE[op]
    return Case(name, "synthetic", "POST", path,
                list(headers) + [("X-Mock-Synthetic", name)], body,
                s.status, s.headers, s.body, usage, source, s.error_type)


def synthetic_cases():
    """The synthetic stand-ins of the captures: every operation (and
    model family) with exact usage, cache reads and writes, SageMaker,
    a stream ending in an exception, error statuses."""
    return [synthetic_case(n) for n in SYNTHETIC_REQUESTS]


def responses():
    """The captures when the shared data is there, else the synthetic
    stand-ins."""
    return capture_cases() or synthetic_cases()


def pick(capture, synthetic):
    """capture when the shared data is there, else synthetic (names,
    tables, values: whatever goes with the one set or the other)."""
    return capture if have_captures() else synthetic


def case_for(capture, synthetic):
    """The capture of that name when the shared data is there, else that
    synthetic stand-in."""
    return case(pick(capture, synthetic))


_PORTS_GIVEN = set()
# its own generator: a test that seeds the module's must not make two runs
# on one host draw the same ports
_PORT_RANDOM = random.Random()


def _ephemeral_low():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port():
    """
    A port for a server a test starts later.  Below the kernel's ephemeral
    range: there the outbound connections of this very run pick their local
    ports, and one could take the port between now and the server's bind
    (nginx's "bind() failed (98: Address already in use)").  Never given
    twice in a run, and free now.
    """
    low = _ephemeral_low()
    for _ in range(200):
        if low <= 10000:
            break
        port = _PORT_RANDOM.randrange(10000, low)
        if port in _PORTS_GIVEN:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _PORTS_GIVEN.add(port)
        return port
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def header_get(headers, name, default=None):
    """First value of a header in a list of (name, value)."""
    name = name.lower()
    for k, v in headers:
        if k.lower() == name:
            return v
    return default


def header_all(headers, name):
    name = name.lower()
    return [v for k, v in headers if k.lower() == name]


# --- HTTP clients -----------------------------------------------------------

class Response:
    def __init__(self, status, reason, headers, body, http_version=None):
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
        self.http_version = http_version

    def header(self, name, default=None):
        return header_get(self.headers, name, default)

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return "<Response %s %r %r>" % (self.status, self.headers,
                                        self.body[:300])


def open_request(port, method, path, headers=(), body=None,
                 host="127.0.0.1", timeout=30, ssl_context=None,
                 server_hostname=None, api_key=DEFAULT):
    """
    Sends a request with the path exactly as given (no re-encoding, no
    headers added but Host, Content-Length and the API key: see
    with_key()) and returns (conn, resp) once the response headers are
    in, for reading the body step by step.
    """
    if ssl_context is not None:
        conn = http.client.HTTPSConnection(host, port, timeout=timeout,
                                           context=ssl_context)
        if server_hostname:
            conn._server_hostname = server_hostname
    else:
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
    conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    headers = with_key(headers, api_key)
    if header_get(headers, "host") is None:
        conn.putheader("Host", "%s:%d" % (host, port))
    for k, v in headers:
        conn.putheader(k, v)
    if body is None and method in ("POST", "PUT"):
        body = b""
    if body is not None and header_get(headers, "content-length") is None:
        conn.putheader("Content-Length", str(len(body)))
    conn.endheaders(body)
    resp = conn.getresponse()
    return conn, resp


def http_request(port, method, path, headers=(), body=None, **kw):
    conn, resp = open_request(port, method, path, headers, body, **kw)
    try:
        data = resp.read()
        return Response(resp.status, resp.reason, resp.getheaders(), data,
                        "HTTP/1.1" if resp.version == 11 else "HTTP/1.0")
    finally:
        conn.close()


def post(port, path, body=b"", headers=(), **kw):
    return http_request(port, "POST", path, headers, body, **kw)


def curl(url, workdir, method="POST", headers=(), body=b"", http2=True,
         cacert=None, resolve=None, timeout=60, unknown_length=False,
         api_key=DEFAULT):
    """
    A request through curl (HTTP/2 with --http2 over TLS).  Returns a
    Response with http_version set to what curl reports ("2", "1.1").
    unknown_length: the body is streamed from stdin, so curl sends no
    Content-Length (HTTP/2 DATA frames until END_STREAM; chunked in 1.1).
    The API key is added as by with_key().
    """
    headers = with_key(headers, api_key)
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    n = len(list(workdir.glob("curl-body-*")))
    bodyf = workdir / ("curl-body-%d" % n)
    outf = workdir / ("curl-out-%d" % n)
    hdrf = workdir / ("curl-hdr-%d" % n)
    bodyf.write_bytes(body)
    cmd = ["curl", "-sS", "--path-as-is", "-X", method, "-o", str(outf),
           "-D", str(hdrf), "-w", "%{http_version}",
           "--max-time", str(timeout)]
    cmd.append("--http2" if http2 else "--http1.1")
    if cacert:
        cmd += ["--cacert", str(cacert)]
    if resolve:
        cmd += ["--resolve", resolve]
    for k, v in headers:
        cmd += ["-H", "%s: %s" % (k, v)]
    if unknown_length:
        cmd += ["-T", "-"]
    elif body or method in ("POST", "PUT"):
        cmd += ["--data-binary", "@%s" % bodyf]
    cmd.append(url)
    p = subprocess.run(cmd, capture_output=True, timeout=timeout + 10,
                       input=body if unknown_length else None)
    if p.returncode != 0:
        raise AssertionError("curl failed (%d): %s" % (
            p.returncode, p.stderr.decode(errors="replace")))
    text = hdrf.read_bytes().decode(errors="replace")
    # with interim responses there are several blocks: keep the last
    blocks = [b for b in text.split("\r\n\r\n") if b.strip()]
    last = blocks[-1].split("\r\n")
    status = int(last[0].split()[1])
    hdrs = []
    for line in last[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            hdrs.append((k.strip(), v.strip()))
    return Response(status, "", hdrs, outf.read_bytes(),
                    p.stdout.decode().strip())


# --- SigV4 signing for direct requests to the mock --------------------------

def sign_headers(method, host, path, body, akid, secret, token=None,
                 service="bedrock", region=REGION, amz_date=None,
                 content_sha=True, extra=()):
    """
    Headers of a request signed with botocore as the AWS SDKs do (plus
    x-amz-content-sha256), with a chosen x-amz-date.
    """
    amz_date = amz_date or datetime.datetime.utcnow().strftime(
        "%Y%m%dT%H%M%SZ")
    headers = [("host", host), ("x-amz-date", amz_date)]
    if content_sha:
        headers.append(("x-amz-content-sha256", sha256_hex(body)))
    if token:
        headers.append(("x-amz-security-token", token))
    headers += list(extra)
    req = AWSRequest(method=method, url="http://%s%s" % (host, path),
                     data=body)
    for k, v in headers:
        req.headers[k] = v
    req.context["timestamp"] = amz_date
    signer = SigV4Auth(Credentials(akid, secret, token), service, region)
    cr = signer.canonical_request(req)
    sts = signer.string_to_sign(req, cr)
    sig = signer.signature(sts, req)
    auth = "AWS4-HMAC-SHA256 Credential=%s, SignedHeaders=%s, Signature=%s" \
        % (signer.scope(req), signer.signed_headers(
            signer.headers_to_sign(req)), sig)
    return headers + [("Authorization", auth)]


# --- certificates -----------------------------------------------------------

def _openssl(*args, cwd):
    p = subprocess.run(["openssl"] + list(args), cwd=cwd,
                       capture_output=True)
    if p.returncode != 0:
        raise RuntimeError("openssl %s: %s" % (" ".join(args),
                                               p.stderr.decode()))


_EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
           "-nodes"]


def make_certs(d, names=()):
    """
    A test CA, a server certificate it signs (SANs: localhost, 127.0.0.1,
    the VPC endpoint host, and "names") and an unrelated second CA.
    Returns a dict of paths: ca, ca_key, cert, key, other_ca.
    """
    d = Path(d)
    d.mkdir(parents=True, exist_ok=True)
    for name, cn in (("ca", "aigw test CA"), ("other-ca", "aigw other CA")):
        _openssl("req", "-x509", *_EC_KEY, "-keyout", name + ".key", "-out",
                 name + ".pem", "-days", "30", "-subj", "/CN=" + cn,
                 "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)
    certs = {"ca": d / "ca.pem", "ca_key": d / "ca.key",
             "other_ca": d / "other-ca.pem"}
    certs.update(issue_cert(certs, d, ["localhost", VPCE_HOST] + list(names),
                            ips=["127.0.0.1"]))
    return certs


def issue_cert(certs, d, names, ips=(), stem="server"):
    """A server certificate for "names" (DNS SANs, the first its CN) and
    "ips", signed by make_certs()'s CA, in directory d: {cert, key}."""
    d = Path(d)
    d.mkdir(parents=True, exist_ok=True)
    sans = ["DNS:" + n for n in names] + ["IP:" + i for i in ips]
    (d / (stem + ".ext")).write_text(
        "subjectAltName=%s\n"
        "basicConstraints=CA:FALSE\n"
        "keyUsage=critical,digitalSignature\n"
        "extendedKeyUsage=serverAuth\n" % ",".join(sans))
    _openssl("req", *_EC_KEY, "-keyout", stem + ".key", "-out",
             stem + ".csr", "-subj", "/CN=" + names[0], cwd=d)
    _openssl("x509", "-req", "-in", stem + ".csr", "-CA", str(certs["ca"]),
             "-CAkey", str(certs["ca_key"]), "-CAcreateserial", "-out",
             stem + ".pem", "-days", "30", "-extfile", stem + ".ext", cwd=d)
    return {"cert": d / (stem + ".pem"), "key": d / (stem + ".key")}


def client_ssl_context(ca):
    ctx = ssl.create_default_context(cafile=str(ca))
    return ctx


# --- nginx configuration ----------------------------------------------------

LOG_FORMAT = (
    "log_format aigw_json escape=json '{"
    '"time":"$time_iso8601",'
    '"request":"$request",'
    '"request_uri":"$request_uri",'
    '"status":"$status",'
    '"request_length":"$request_length",'
    '"upstream_status":"$upstream_status",'
    '"upstream_addr":"$upstream_addr",'
    '"aigw_model":"$aigw_model",'
    '"aigw_operation":"$aigw_operation",'
    '"aigw_service":"$aigw_service",'
    '"aigw_upstream":"$aigw_upstream",'
    '"aigw_upstream_url":"$aigw_upstream_url",'
    '"aigw_authorization":"$aigw_authorization",'
    '"aigw_amz_date":"$aigw_amz_date",'
    '"aigw_security_token":"$aigw_security_token",'
    '"aigw_content_sha256":"$aigw_content_sha256",'
    '"aigw_tenant":"$aigw_tenant",'
    '"aigw_project":"$aigw_project",'
    '"aigw_department":"$aigw_department",'
    '"aigw_key_id":"$aigw_key_id",'
    '"aigw_input_tokens":"$aigw_input_tokens",'
    '"aigw_output_tokens":"$aigw_output_tokens",'
    '"aigw_cache_read_input_tokens":"$aigw_cache_read_input_tokens",'
    '"aigw_cache_write_input_tokens":"$aigw_cache_write_input_tokens",'
    '"aigw_images":"$aigw_images",'
    '"aigw_usage_source":"$aigw_usage_source",'
    '"aigw_upstream_request_id":"$aigw_upstream_request_id",'
    '"aigw_error_type":"$aigw_error_type",'
    '"aigw_ttft_ms":"$aigw_ttft_ms",'
    '"aigw_cost":"$aigw_cost",'
    '"request_time":"$request_time",'
    '"bytes_sent":"$bytes_sent",'
    '"http_authorization":"$http_authorization",'
    '"http_x_api_key":"$http_x_api_key",'
    '"test_id":"$http_x_test_id"'
    "}';"
)


def aigw_http(mock_url=None, region=REGION, credentials=None,
              sagemaker_url=None, extra="", tenants=DEFAULT):
    """
    The http-level aigw directives of a gateway pointed at the mock.
    tenants: the aigw_tenants file (default: the session's, with the
    harness's key and every model allowed); None: no aigw_tenants.
    """
    lines = []
    if tenants is DEFAULT:
        tenants = default_tenants_file()
    if tenants is not None:
        lines.append("aigw_tenants %s;" % tenants)
    if region:
        lines.append("aigw_region %s;" % region)
    if credentials is None:
        credentials = "static %s %s" % (AKID, SECRET)
    if credentials:
        lines.append("aigw_credentials %s;" % credentials)
    if mock_url:
        lines.append("aigw_endpoint bedrock %s;" % mock_url)
    if sagemaker_url or mock_url:
        lines.append("aigw_endpoint sagemaker %s;" % (sagemaker_url or
                                                      mock_url))
    if extra:
        lines.append(extra)
    return "\n".join(lines) + "\n"


def gateway_server(port, location_extra="", server_extra="", listen_extra="",
                   params=AIGW_PARAMS, location="/",
                   proxy_pass="$aigw_upstream_url"):
    return """
    server {
        listen 127.0.0.1:%(port)d%(listen_extra)s;
        server_name localhost;
        %(server_extra)s
        location %(location)s {
            aigw on;
            include %(params)s;
            proxy_pass %(proxy_pass)s;
            %(location_extra)s
        }
    }
""" % dict(port=port, listen_extra=listen_extra, server_extra=server_extra,
           location=location, params=params, proxy_pass=proxy_pass,
           location_extra=location_extra)


def params_with_ca(dest, ca):
    """A copy of the shipped aigw_params trusting only "ca"."""
    text = AIGW_PARAMS.read_text()
    new, n = re.subn(r"(?m)^(\s*)proxy_ssl_trusted_certificate\s+[^;]+;",
                     r"\1proxy_ssl_trusted_certificate %s;" % ca, text)
    assert n == 1, "aigw_params has no proxy_ssl_trusted_certificate line"
    Path(dest).write_text(new)
    return Path(dest)


def env_lines(*names):
    """nginx's "env NAME;" lines: what its workers (and aigw) see."""
    return "".join("env %s;\n" % n for n in names)


def nginx_env(extra=None):
    """A clean environment for nginx: no AWS_* from the test runner."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("AWS_") and k not in ("HOME",)}
    env["PATH"] = os.environ.get("PATH", "/usr/bin:/bin")
    env.update(extra or {})
    return env


class Nginx:
    """One nginx (master + one worker, or one process under valgrind)."""

    def __init__(self, prefix, http_conf, ports, env=None, valgrind=False,
                 main_extra=""):
        self.prefix = Path(prefix)
        self.prefix.mkdir(parents=True, exist_ok=True)
        self.ports = list(ports)
        self.port = self.ports[0] if self.ports else None
        self.env = nginx_env(dict({"HOME": str(self.prefix)}, **(env or {})))
        if ASAN:
            # AIGW_ASAN_OPTIONS: more, or other, ASan options (the last
            # of an option wins)
            self.env["ASAN_OPTIONS"] = self.asan_options(server=False)
            self.env["UBSAN_OPTIONS"] = "%s:log_path=%s" % (
                UBSAN_OPTIONS, self.prefix / "sanitizer")
            self.env["LSAN_OPTIONS"] = LSAN_OPTIONS
        self.sanitizer_seen = set()
        self.valgrind = valgrind
        self.proc = None
        self.error_log = self.prefix / "error.log"
        self.access_log = self.prefix / "access.log"
        self.valgrind_log = self.prefix / "valgrind.log"
        self.allow = []          # regexes of bad-looking lines a test expects
        self.checked = 0         # error.log up to here was checked already
        self.conf = self.prefix / "nginx.conf"
        self.conf.write_text(self.config_text(http_conf, main_extra))

    def config_text(self, http_conf, main_extra=""):
        p = self.prefix
        user = "user root root;" if os.geteuid() == 0 else ""
        load = "" if STATIC_MODULE else "load_module %s;" % module_path()
        return """
%(load)s
%(user)s
%(workers)s
pid %(p)s/nginx.pid;
error_log %(p)s/error.log info;
%(main_extra)s
events {
    worker_connections 512;
}
http {
    %(log_format)s
    access_log %(p)s/access.log aigw_json;
    client_body_temp_path %(p)s/client_body_temp;
    proxy_temp_path %(p)s/proxy_temp;
    fastcgi_temp_path %(p)s/fastcgi_temp;
    uwsgi_temp_path %(p)s/uwsgi_temp;
    scgi_temp_path %(p)s/scgi_temp;
    default_type application/octet-stream;

%(http_conf)s
}
""" % dict(load=load, user=user, p=p, main_extra=main_extra,
           log_format=LOG_FORMAT, http_conf=http_conf,
           workers="" if "worker_processes" in main_extra
           else "worker_processes 1;")

    def asan_options(self, server):
        """ASAN_OPTIONS of the nginx server (server=True) or of a command
        (nginx -t, -s); then AIGW_ASAN_OPTIONS (the last of an option
        wins)."""
        return ":".join(filter(None, [
            ASAN_OPTIONS, ASAN_SERVER_OPTIONS if server else "",
            os.environ.get("AIGW_ASAN_OPTIONS"),
            "log_path=%s" % (self.prefix / "sanitizer")]))

    def base_cmd(self):
        return [nginx_bin(), "-p", str(self.prefix), "-c", str(self.conf),
                "-e", str(self.error_log)]

    def test_config(self):
        """nginx -t: (returncode, output)."""
        p = subprocess.run(self.base_cmd() + ["-t"], env=self.env,
                           capture_output=True, timeout=60)
        return p.returncode, (p.stdout + p.stderr).decode(errors="replace")

    @property
    def start_timeout(self):
        return 120 if self.valgrind else 30 if ASAN else 15

    def start(self):
        if self.valgrind:
            cmd = ["valgrind", "--tool=memcheck", "--error-exitcode=99",
                   "--leak-check=full", "--errors-for-leak-kinds=definite",
                   "--show-leak-kinds=definite", "--num-callers=30",
                   "--suppressions=%s" % VALGRIND_SUPP,
                   "--log-file=%s" % self.valgrind_log] + self.base_cmd() + \
                ["-g", "daemon off; master_process off;"]
        else:
            cmd = self.base_cmd() + ["-g", "daemon off; master_process on;"]
        env = self.env
        if ASAN:
            env = dict(env, ASAN_OPTIONS=self.asan_options(server=True))
        self.stdio = open(self.prefix / "stdio.log", "wb")
        self.proc = subprocess.Popen(cmd, env=env, stdout=self.stdio,
                                     stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + self.start_timeout
        for port in self.ports:
            while True:
                if self.proc.poll() is not None:
                    raise AssertionError(
                        "nginx exited with %s at start:\n%s" % (
                            self.proc.returncode, self.read_error_log()[-4000:]
                            + self.read_file("stdio.log")[-2000:]
                            + "\n".join(self.sanitizer_problems())))
                try:
                    socket.create_connection(("127.0.0.1", port), 0.5).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        self.stop()
                        raise AssertionError(
                            "nginx did not listen on %d within %ss:\n%s" % (
                                port, self.start_timeout,
                                self.read_error_log()[-4000:]))
                    time.sleep(0.02)
        # the master listens before its worker runs (a slower worker, as
        # under ASan, starts noticeably later): the tests that look at the
        # worker find it
        while not self.valgrind and self.ports and not self.worker_pids():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(
                    "nginx started no worker within %ss:\n%s" % (
                        self.start_timeout, self.read_error_log()[-4000:]))
            time.sleep(0.02)
        return self

    def worker_pids(self):
        """The pids of the master's live children (the workers)."""
        pids = set()
        if self.proc is None:
            return pids
        for d in Path("/proc").iterdir():
            if not d.name.isdigit():
                continue
            try:
                stat = (d / "stat").read_text()
            except OSError:
                continue
            # pid (comm) state ppid ...: comm may hold spaces
            fields = stat[stat.rindex(")") + 2:].split()
            if int(fields[1]) == self.proc.pid and fields[0] != "Z":
                pids.add(int(d.name))
        return pids

    def reload(self, timeout=15):
        """
        nginx -s reload, then waits until the workers that were running
        have exited, so that only workers of the new configuration
        answer.  Returns (returncode, output) of nginx -s reload; when it
        fails nothing was signalled and nothing is waited for.
        """
        old = self.worker_pids()
        p = subprocess.run(self.base_cmd() + ["-s", "reload"], env=self.env,
                           capture_output=True, timeout=60)
        out = (p.stdout + p.stderr).decode(errors="replace")
        if p.returncode != 0:
            return p.returncode, out
        deadline = time.monotonic() + timeout
        while True:
            now = self.worker_pids()
            if not (now & old) and now:
                return 0, out
            if time.monotonic() > deadline:
                raise AssertionError(
                    "the old workers %s still run %ds after the reload "
                    "(workers now: %s):\n%s" % (
                        sorted(now & old), timeout, sorted(now),
                        self.read_error_log()[-3000:]))
            time.sleep(0.02)

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        """Stops nginx gracefully; returns a list of problems."""
        problems = []
        if self.proc is None:
            return problems + self.sanitizer_problems()
        if self.proc.poll() is None:
            quit_timeout = 90 if self.valgrind else 30 if ASAN else 10
            # A signal that lands between nginx's check of its flags and
            # its epoll_wait() is only seen at the next event: one process
            # (valgrind mode) has no master to resend it, so repeat it.
            deadline = time.monotonic() + quit_timeout
            while True:
                self.proc.send_signal(signal.SIGQUIT)
                try:
                    self.proc.wait(2)
                    break
                except subprocess.TimeoutExpired:
                    if time.monotonic() > deadline:
                        break
            if self.proc.poll() is None:
                problems.append("nginx did not exit within %ds of SIGQUIT"
                                % quit_timeout)
                self.proc.terminate()
                try:
                    self.proc.wait(10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(10)
        rc = self.proc.returncode
        self.stdio.close()
        if self.valgrind:
            problems += self.valgrind_problems(rc)
        elif rc not in (0, None) and rc != -signal.SIGQUIT:
            problems.append("nginx exited with %s" % rc)
        return problems + self.sanitizer_problems()

    def sanitizer_problems(self):
        """The reports ASan or UBSan wrote into the prefix (one file a
        process: sanitizer.<pid>) that were not returned before."""
        out = []
        for f in sorted(self.prefix.glob("sanitizer.*")):
            if f.name in self.sanitizer_seen:
                continue
            self.sanitizer_seen.add(f.name)
            text = f.read_text(errors="replace")
            out.append("sanitizer report %s:\n%s" % (f, text[:12000]))
        return out

    def valgrind_problems(self, rc):
        out = []
        log = self.read_file("valgrind.log")
        blocks = re.split(r"\n==\d+== \n", log)
        ours = [b for b in blocks if "aigw" in b and (
            "Invalid" in b or "uninitialised" in b or "definitely lost" in b
            or "Mismatched" in b or "overlap" in b or "Syscall param" in b)]
        if rc == 99:
            out.append("valgrind reported errors (exit 99), see %s"
                       % self.valgrind_log)
        if ours:
            out.append("valgrind errors in aigw code:\n" +
                       "\n\n".join(ours)[:8000])
        elif rc == 99:
            m = re.search(r"ERROR SUMMARY: .*", log)
            out.append((m.group(0) if m else "") + "\n" + log[-6000:])
        return out

    def read_file(self, name):
        try:
            return (self.prefix / name).read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def read_error_log(self):
        try:
            return self.error_log.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def mark(self):
        """An error.log offset, for error_log_since()."""
        try:
            return self.error_log.stat().st_size
        except FileNotFoundError:
            return 0

    def error_log_since(self, mark):
        with open(self.error_log, "rb") as f:
            f.seek(mark)
            return f.read().decode(errors="replace")

    def bad_log_lines(self, since=0):
        bad = []
        for line in self.error_log_since(since).splitlines():
            if BAD_LOG_RE.search(line) and not any(
                    re.search(a, line) for a in self.allow):
                bad.append(line)
        return bad

    def access_entries(self):
        try:
            text = self.access_log.read_text(errors="replace")
        except FileNotFoundError:
            return []
        # a line nginx is writing while we read has no "\n" yet
        return [json.loads(line) for line in
                text[:text.rfind("\n") + 1].splitlines() if line]

    def wait_access(self, count, timeout=10):
        """Waits until the access log holds "count" entries; returns them.
        (nginx writes it in the log phase, after the client has the
        response.)"""
        deadline = time.monotonic() + timeout
        while True:
            entries = self.access_entries()
            if len(entries) >= count or time.monotonic() > deadline:
                return entries
            time.sleep(0.01)

    def wait_entry(self, test_id, timeout=10):
        """The access log entry of the request sent with "X-Test-Id:
        test_id" (written after the client has the response)."""
        deadline = time.monotonic() + timeout
        while True:
            for e in self.access_entries():
                if e.get("test_id") == test_id:
                    return e
            if time.monotonic() > deadline:
                raise AssertionError("no access log entry with test_id %s"
                                     % test_id)
            time.sleep(0.01)

    def wait_log(self, regex, since=0, timeout=10):
        deadline = time.monotonic() + timeout
        while True:
            text = self.error_log_since(since)
            m = re.search(regex, text)
            if m or time.monotonic() > deadline:
                return m
            time.sleep(0.01)

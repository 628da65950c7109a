"""
A hostile client (issue 9): malformed JSON, wrong content types, duplicate
and conflicting key headers, oversized headers, bodies over the limit,
slow senders, pipelined and HTTP/2 requests, a client that goes away in
the middle of a stream or of its own body.

Each gets a clear 4xx in Bedrock's JSON shape (x-amzn-ErrorType) or is
handled normally; what the gateway refuses never reaches the upstream (the
mock records every request), and Redis (one per nginx) counts exactly what
the upstream answered: no usage lost, none invented.
"""

import json
import socket
import subprocess
import time
import uuid

import pytest

import helpers as h
import mock_synthetic as ms
import mock_upstream as mu
import redisd
from redisd import FIELDS


pytestmark = pytest.mark.skipif(
    not redisd.redis_server_bin(),
    reason="redis-server not installed (make deps installs it)")

WAIT = 60 if h.VALGRIND else 10

BODY_MAX = 64 * 1024            # client_max_body_size of these gateways
BODY_TIMEOUT = 1.0              # client_body_timeout

NOVA = "amazon.nova-lite-v1:0"
CONVERSE = "/model/amazon.nova-lite-v1%3A0/converse"
CONVERSE_STREAM = "/model/amazon.nova-lite-v1%3A0/converse-stream"
BODY = b'{"messages": [{"role": "user", "content": [{"text": "hi"}]}]}'
INVOKE = "/model/amazon.nova-lite-v1%3A0/invoke"


def padded(n):
    """One Converse JSON object, BODY with n more bytes in a field."""
    return BODY[:-1] + b', "pad": "' + b"y" * (n - 10) + b'"}'
OTHER = "hostile-other"


def converse_usage(body):
    """The mock's default Converse answer: input 10 + len / 4, output 7."""
    return {"input_tokens": 10 + len(body) // 4, "output_tokens": 7}


@pytest.fixture(scope="module")
def other_key(tmp_path_factory):
    """A second tenant's key, and a tenants file with both tenants."""
    key, sha = h.make_key("hostileother1")
    h.register_keys(key)
    doc = h.tenants_doc(h.default_tenant(), {
        "id": OTHER, "keys": [{"id": "hostileother1", "sha256": sha}],
        "models": ["*"]})
    path = h.write_tenants(tmp_path_factory.mktemp("hostile-tenants") /
                           "tenants.json", doc)
    return key, path


@pytest.fixture
def cgw(nginx_factory, mock, redis, certs, other_key, tmp_path):
    """
    nginx counting into the test's Redis: ports[0] plain HTTP/1.1,
    ports[1] HTTP/2 over TLS; client_max_body_size BODY_MAX,
    client_body_timeout BODY_TIMEOUT.
    """
    params = tmp_path / "aigw_params"
    text = h.AIGW_PARAMS.read_text()
    assert text.count("client_max_body_size 25m;") == 1
    params.write_text(text.replace("client_max_body_size 25m;",
                                   "client_max_body_size %d;" % BODY_MAX))
    ports = [h.free_port(), h.free_port()]
    extra = "client_body_timeout %dms;" % int(BODY_TIMEOUT * 1000)
    conf = h.aigw_http(mock.url, tenants=other_key[1],
                       extra="aigw_redis %s journal=%s timeout=1s;"
                       % (redis.address, tmp_path / "journal"))
    conf += h.gateway_server(ports[0], params=params, server_extra=extra)
    conf += h.gateway_server(
        ports[1], params=params, listen_extra=" ssl http2",
        server_extra=extra + "ssl_certificate %s; ssl_certificate_key %s;"
        % (certs["cert"], certs["key"]))
    return nginx_factory(conf, ports)


# --- what to expect ----------------------------------------------------------

def counts(requests=1, **fields):
    want = {f: 0 for f in FIELDS}
    want["requests"] = requests
    want.update(fields)
    return want


def by_tenant_model(usage):
    out = {}
    for (day, tenant, model), fields in usage.items():
        redisd.add_usage(out, (tenant, model), fields)
    return out


def assert_counted(redis, want, quiet=0.3):
    """
    Redis equals "want" ({(tenant, model): fields}) exactly, and stays
    so for "quiet" seconds (three drain ticks of the module).  With want
    empty: nothing at all within that time.
    """
    def done(u):
        return not redisd.diff_usage(by_tenant_model(u), want)

    got = redis.wait_stable(done, timeout=WAIT) if want else redis.usage()
    diff = redisd.diff_usage(by_tenant_model(got), want)
    assert not diff, "Redis:\n  " + "\n  ".join(diff)
    deadline = time.monotonic() + quiet
    while time.monotonic() < deadline:
        now = redis.usage()
        assert now == got, "Redis changed: %s, then %s" % (got, now)
        time.sleep(0.05)


def assert_aws_error(r, status, error_type):
    assert r.status == status, r
    assert r.header("Content-Type", "").startswith("application/json"), r
    assert r.header("x-amzn-ErrorType") == error_type, r
    msg = json.loads(r.body)["message"]
    assert isinstance(msg, str) and msg, r
    return msg


def default(body=BODY, requests=1, tenant=h.DEFAULT_TENANT):
    """What "requests" default Converse answers to body count."""
    u = converse_usage(body)
    return {(tenant, NOVA): counts(requests, **{
        k: v * requests for k, v in u.items()})}


# --- a raw HTTP/1.1 client ---------------------------------------------------

def read_response(f):
    """One response from a buffered socket file: a helpers.Response, or
    None when the connection closed before a status line."""
    line = f.readline()
    if not line:
        return None
    version, status = line.split()[:2]
    headers = []
    while True:
        line = f.readline()
        assert line, "the connection closed inside the headers"
        if line in (b"\r\n", b"\n"):
            break
        k, v = line.decode("latin-1").split(":", 1)
        headers.append((k.strip(), v.strip()))
    body = b""
    if h.header_get(headers, "transfer-encoding", "").lower() == "chunked":
        while True:
            size = int(f.readline().split(b";")[0], 16)
            if size == 0:
                f.readline()
                break
            body += f.read(size)
            f.readline()
    else:
        body = f.read(int(h.header_get(headers, "content-length", "0")))
    return h.Response(int(status), "", headers, body, version.decode())


def raw_request(path, body=BODY, headers=(), api_key=h.DEFAULT,
                content_length=True):
    """The bytes of one request, the key added as helpers.with_key()."""
    out = b"POST %s HTTP/1.1\r\nHost: localhost\r\n" % path.encode()
    for k, v in h.with_key(headers, api_key):
        out += b"%s: %s\r\n" % (k.encode(), v.encode())
    if content_length:
        out += b"Content-Length: %d\r\n" % len(body)
    return out + b"\r\n" + body


def connect(port, timeout=10):
    s = socket.create_connection(("127.0.0.1", port), timeout)
    return s, s.makefile("rb")


def send(port, path, body=BODY, headers=(), **kw):
    return h.post(port, path, body, list(headers), **kw)


# --- request bodies the gateway does not read --------------------------------

BODIES = [
    (b'{"messages": [{"role": "user", "content": [', "application/json"),
    (b"\xff\xfe\x00not json at all\x00", "application/json"),
    (b'{"messages": []}', "text/plain; charset=ebcdic"),
    (b"--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b--\r\n",
     "multipart/form-data; boundary=b"),
    (b'{"messages": [], "x": "%s"}' % (b"y" * 100), None),
]


def test_body_passes_as_sent(cgw, mock, redis):
    """
    InvokeModel: malformed JSON, bytes that are not text, a content type
    AWS would refuse, none at all: the gateway does not judge the body
    (AWS answers it): it signs and forwards it unchanged, and counts what
    the upstream answered, once each.
    """
    want = {(h.DEFAULT_TENANT, NOVA): counts(0)}
    for body, ctype in BODIES:
        mock.reset()
        headers = [("Content-Type", ctype)] if ctype else []
        r = send(cgw.port, INVOKE, body, headers)
        assert r.status == 200, (body, ctype, r)
        [rec] = mock.requests()
        assert rec["sig_ok"], rec["sig_error"]
        assert rec["body_sha256"] == h.sha256_hex(body), (body, ctype)
        assert h.header_all(rec["headers"], "content-type") == \
            ([ctype] if ctype else [])
        for k, v in default(body)[(h.DEFAULT_TENANT, NOVA)].items():
            want[(h.DEFAULT_TENANT, NOVA)][k] += v
    assert_counted(redis, want)


def test_converse_body_not_one_json_value(cgw, mock, redis):
    """
    Converse reads its body (a service tier or latency there is
    authorized): one that is not one JSON value is refused with 400
    ValidationException, never forwarded, never counted.
    """
    for body, ctype in BODIES[:2] + [(BODY * 2, "application/json")]:
        r = send(cgw.port, CONVERSE, body, [("Content-Type", ctype)])
        assert_aws_error(r, 400, "ValidationException")
    assert mock.requests() == []
    assert_counted(redis, {})


def test_malformed_json_to_an_image_model(cgw, mock, redis):
    """The one request body the gateway parses (an image model's, for
    its size and quality): malformed, it is forwarded and counted, with
    no image class."""
    path = "/model/amazon.titan-image-generator-v1/invoke"
    body = b'{"taskType": "TEXT_IMAGE", "imageGenerationConfig": {"width": '
    s = ms.build("titan-image")
    r = send(cgw.port, path, body, [("X-Mock-Synthetic", "titan-image")])
    assert (r.status, r.body) == (200, s.body)
    assert len(mock.requests()) == 1
    model = "amazon.titan-image-generator-v1"
    assert_counted(redis, {(h.DEFAULT_TENANT, model):
                           counts(images=s.usage["images"])})


# --- keys --------------------------------------------------------------------

# keys sent that are not valid: the harness's key id with another
# secret, and one of 7 KB (the logs are scanned for them too)
WRONG_SECRET = h.register_keys(h.make_key(h.API_KEY_ID)[0])
KEY_7K = h.register_keys("aigw_%s_%s" % (h.API_KEY_ID, uuid.uuid4().hex * 220))

CONFLICT = (401, "UnrecognizedClientException")
UNKNOWN = [401, "UnrecognizedClientException"]      # not a conflict


def key_cases(other):
    """(id, headers, want): want is None for a normal answer, else the
    4xx status and error type."""
    k = h.API_KEY
    sigv4 = ("AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20250101/us-east-1/"
             "bedrock/aws4_request, SignedHeaders=host, Signature=" +
             "0" * 64)
    bad = WRONG_SECRET
    conflict = CONFLICT
    return [
        ("same-key-twice", [("x-api-key", k), ("x-api-key", k)], None),
        ("valid-then-other", [("x-api-key", k), ("x-api-key", other)],
         conflict),
        ("valid-then-invalid", [("x-api-key", k), ("x-api-key", bad)],
         conflict),
        ("invalid-then-valid", [("x-api-key", bad), ("x-api-key", k)],
         conflict),
        ("key-and-other-bearer", [("x-api-key", k),
                                  ("Authorization", "Bearer " + other)],
         conflict),
        ("other-key-and-bearer", [("x-api-key", other),
                                  ("Authorization", "Bearer " + k)],
         conflict),
        ("empty-key-and-bearer", [("x-api-key", ""),
                                  ("Authorization", "Bearer " + k)],
         conflict),
        ("key-and-same-bearer", [("x-api-key", k),
                                 ("Authorization", "Bearer  %s " % k)],
         None),
        ("key-and-sigv4", [("x-api-key", k), ("Authorization", sigv4)],
         None),
        ("upper-case-name", [("X-API-KEY", k)], None),
        ("two-bearers", [("Authorization", "Bearer " + k),
                         ("Authorization", "Bearer " + other)],
         (400, "ValidationException")),
        ("underscore-name", [("x_api_key", k)], UNKNOWN),
        ("key-of-7k", [("x-api-key", KEY_7K)], UNKNOWN),
    ]


def test_key_headers(cgw, mock, redis, other_key):
    """
    Duplicate and conflicting key headers: two different keys (x-api-key
    twice, x-api-key and a Bearer) are refused with 401 "conflicting API
    keys", whichever comes first, and reach nothing; the same key twice,
    a SigV4 Authorization next to the key (the client's own signature,
    replaced), a key header in capitals are normal requests, counted once
    each for the key's tenant.  nginx itself refuses two Authorization
    headers (400) and ignores a header name with an underscore (so: no
    key, 401).
    """
    accepted = 0
    for case, headers, want in key_cases(other_key[0]):
        mock.reset()
        r = send(cgw.port, CONVERSE, BODY, headers, api_key=None)
        if want is None:
            assert r.status == 200, (case, r)
            [rec] = mock.requests()
            assert rec["sig_ok"], (case, rec["sig_error"])
            assert h.header_all(rec["headers"], "x-api-key") == []
            accepted += 1
            continue
        msg = assert_aws_error(r, *want)
        assert msg.startswith("conflicting API keys") == (
            want == CONFLICT), (case, msg)
        assert mock.requests() == [], case
    # the refused ones are not counted: no tenant is known for sure
    assert_counted(redis, default(requests=accepted))


# --- headers and bodies too big, senders too slow ----------------------------

def test_oversized_header(cgw, mock, redis):
    """A header line past large_client_header_buffers (8k), or more
    headers than they hold: nginx's 400 in Bedrock's shape; nothing
    reaches the upstream or is counted; the next request is fine."""
    r = send(cgw.port, CONVERSE, BODY, [("X-Big", "b" * 9000)])
    assert_aws_error(r, 400, "ValidationException")
    r = send(cgw.port, CONVERSE, BODY,
             [("X-Many-%d" % i, "m" * 4000) for i in range(10)])
    assert_aws_error(r, 400, "ValidationException")
    assert mock.requests() == []
    r = send(cgw.port, CONVERSE, BODY)
    assert r.status == 200, r
    assert_counted(redis, default())


@pytest.mark.parametrize("te,cl,status,error_type", [
    ("chunked", "5", 400, "ValidationException"),
    ("gzip, chunked", None, 501, "ValidationException"),
    (None, "3", 400, "ValidationException"),
])
def test_request_framing(cgw, mock, redis, te, cl, status, error_type):
    """
    Framings a request smuggler tries: Transfer-Encoding and
    Content-Length together, a transfer coding nginx does not implement,
    two Content-Lengths: nginx refuses them (400, or 501 for the coding),
    in Bedrock's shape with the client's error type (not a server error
    an SDK would retry); nothing reaches the upstream or is counted.
    """
    headers = []
    if te:
        headers.append(("Transfer-Encoding", te))
    if cl:
        headers.append(("Content-Length", cl))
    body = b"5\r\nhello\r\n0\r\n\r\n" if te else b"hello"
    s, f = connect(cgw.port)
    try:
        s.sendall(raw_request(CONVERSE, body, headers,
                              content_length=not te))
        r = read_response(f)
    finally:
        s.close()
    assert_aws_error(r, status, error_type)
    assert mock.requests() == []
    assert_counted(redis, {})


@pytest.mark.parametrize("how", ["content-length", "chunked"])
def test_body_over_the_limit(cgw, mock, redis, how):
    """A body over client_max_body_size, announced or chunked: 413 in
    Bedrock's shape, nothing forwarded, nothing counted."""
    body = b"x" * (BODY_MAX + 1)
    s, f = connect(cgw.port)
    try:
        if how == "chunked":
            s.sendall(raw_request(CONVERSE, b"", [
                ("Transfer-Encoding", "chunked")], content_length=False))
            s.sendall(b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))
        else:
            s.sendall(raw_request(CONVERSE, body))
        r = read_response(f)
    finally:
        s.close()
    assert_aws_error(r, 413, "ValidationException")
    assert mock.requests() == []
    assert_counted(redis, {})


def test_slow_sender_times_out(cgw, mock, redis):
    """Half a body, then nothing for longer than client_body_timeout:
    nginx ends the request (408, closing the connection, as it does);
    nothing is forwarded or counted."""
    tid = uuid.uuid4().hex
    s, f = connect(cgw.port, timeout=BODY_TIMEOUT + 10)
    try:
        req = raw_request(CONVERSE, BODY, [("X-Test-Id", tid)])
        s.sendall(req[:-len(BODY) // 2])
        t0 = time.monotonic()
        assert f.read() == b""            # closed without an answer
        assert time.monotonic() - t0 >= BODY_TIMEOUT * 0.9
    finally:
        s.close()
    e = cgw.wait_entry(tid)
    assert e["status"] == "408", e
    assert mock.requests() == []
    assert_counted(redis, {})


def test_slow_sender_within_the_timeout(cgw, mock, redis):
    """A body trickled in ten pieces, each within client_body_timeout:
    read whole, forwarded unchanged, counted once."""
    body = padded(20 * len(BODY))
    s, f = connect(cgw.port)
    try:
        req = raw_request(CONVERSE, body)
        head = req[:-len(body)]
        s.sendall(head)
        step = len(body) // 10 + 1
        for i in range(0, len(body), step):
            time.sleep(BODY_TIMEOUT / 10)
            s.sendall(body[i:i + step])
        r = read_response(f)
    finally:
        s.close()
    assert r.status == 200, r
    [rec] = mock.requests()
    assert rec["body_sha256"] == h.sha256_hex(body)
    assert_counted(redis, default(body))


def test_client_gone_during_its_body(cgw, mock, redis):
    """The client sends half its body and closes: nothing forwarded,
    nothing counted, and the next request is fine."""
    tid = uuid.uuid4().hex
    s, f = connect(cgw.port)
    s.sendall(raw_request(CONVERSE, BODY, [("X-Test-Id", tid)])
              [:-len(BODY) // 2])
    s.close()
    # nginx logs 400 when it sees the close, 408 when the close came with
    # the bytes it had read already and only client_body_timeout ends it
    e = cgw.wait_entry(tid, timeout=BODY_TIMEOUT + WAIT)
    assert e["status"] in ("400", "408"), e
    assert mock.requests() == []
    r = send(cgw.port, CONVERSE, BODY)
    assert r.status == 200, r
    assert_counted(redis, default())


# --- pipelining, HTTP/2 ------------------------------------------------------

def test_pipelined_requests(cgw, mock, redis, other_key):
    """
    Five requests in one write on one connection: a Converse, a stream,
    one with conflicting keys, one with no key, another tenant's
    Converse: answered in order, each on its own (the refused ones 401,
    never forwarded), and counted exactly.
    """
    stream = ms.build("converse-stream")
    reqs = [
        raw_request(CONVERSE, BODY),
        raw_request(CONVERSE_STREAM, b"{}", [
            ("X-Mock-Synthetic", "converse-stream")]),
        raw_request(CONVERSE, BODY, [("x-api-key", h.API_KEY),
                                     ("x-api-key", other_key[0])]),
        raw_request(CONVERSE, BODY, api_key=None),
        raw_request(CONVERSE, padded(len(BODY)), api_key=other_key[0]),
    ]
    s, f = connect(cgw.port)
    try:
        s.sendall(b"".join(reqs))
        got = [read_response(f) for _ in reqs]
    finally:
        s.close()
    assert [r.status for r in got] == [200, 200, 401, 401, 200], got
    assert got[1].body == stream.body
    for r in got[2:4]:
        assert_aws_error(r, 401, "UnrecognizedClientException")
    assert [rec["path"] for rec in mock.requests()] == [
        CONVERSE, CONVERSE_STREAM, CONVERSE]
    want = default(BODY)
    want[(h.DEFAULT_TENANT, NOVA)]["requests"] += 1
    for k in ("input_tokens", "output_tokens", "cache_read_input_tokens",
              "cache_write_input_tokens"):
        want[(h.DEFAULT_TENANT, NOVA)][k] += stream.usage[k]
    want.update(default(padded(len(BODY)), tenant=OTHER))
    assert_counted(redis, want)


def h2(cgw, certs, tmp_path, path, body=BODY, headers=(), **kw):
    return h.curl("https://localhost:%d%s" % (cgw.ports[1], path), tmp_path,
                  headers=list(headers), body=body, cacert=certs["ca"], **kw)


def test_http2(cgw, mock, redis, certs, tmp_path, other_key):
    """HTTP/2: a normal request is counted once; conflicting keys, and
    a body over the limit, get the same 4xx as over HTTP/1.1 and reach
    nothing."""
    r = h2(cgw, certs, tmp_path, CONVERSE)
    assert (r.http_version, r.status) == ("2", 200), r
    r = h2(cgw, certs, tmp_path, CONVERSE, headers=[
        ("x-api-key", h.API_KEY),
        ("Authorization", "Bearer " + other_key[0])], api_key=None)
    assert r.http_version == "2"
    assert_aws_error(r, 401, "UnrecognizedClientException")
    r = h2(cgw, certs, tmp_path, CONVERSE, body=b"y" * (BODY_MAX + 1),
           unknown_length=True)
    assert_aws_error(r, 413, "ValidationException")
    assert len(mock.requests()) == 1
    assert_counted(redis, default())


# --- the client goes away mid-stream -----------------------------------------

def test_client_gone_mid_stream(cgw, mock, redis):
    """
    The client reads the first event of a stream and closes the
    connection; the upstream then sends the rest: counted once, with the
    usage of what nginx had passed on (none: it comes last), partial,
    and not as an error (the client's choice, not a failure).
    """
    name = "converse-stream"
    s = ms.build(name)
    first = mu.eventstream_split(s.body)[0]
    token = uuid.uuid4().hex
    tid = uuid.uuid4().hex
    conn, r = h.open_request(cgw.port, "POST", CONVERSE_STREAM, [
        ("X-Mock-Synthetic", name), ("X-Mock-Chunking", "events"),
        ("X-Mock-Hold", token), ("X-Test-Id", tid)], b"{}",
        timeout=h.HOLD_WAIT * 0.6)
    try:
        assert r.status == 200
        got = b""
        while len(got) < len(first):
            piece = r.read1(len(first) - len(got))
            assert piece
            got += piece
        assert got == first
    finally:
        conn.sock.shutdown(socket.SHUT_RDWR)
        conn.close()
    e = cgw.wait_entry(tid, timeout=h.HOLD_WAIT + 5)
    mock.release(token)
    assert e["aigw_usage_source"] == "partial", e
    assert e["aigw_error_type"] == "", e
    assert_counted(redis, {(h.DEFAULT_TENANT, NOVA): counts()})


def test_http2_client_gone_mid_stream(cgw, mock, redis, certs, tmp_path):
    """The same over HTTP/2: curl gives up (--max-time) while the
    upstream holds the stream: the stream is reset, counted once,
    partial, no error; the connection's next stream is unaffected."""
    token = uuid.uuid4().hex
    tid = uuid.uuid4().hex
    cmd = ["curl", "-sS", "--http2", "--cacert", str(certs["ca"]),
           "--max-time", "1", "-o", "/dev/null", "-X", "POST",
           "--data-binary", "{}"]
    for k, v in [("x-api-key", h.API_KEY), ("X-Mock-Synthetic",
                                            "converse-stream"),
                 ("X-Mock-Chunking", "events"), ("X-Mock-Hold", token),
                 ("X-Test-Id", tid)]:
        cmd += ["-H", "%s: %s" % (k, v)]
    p = subprocess.run(cmd + ["https://localhost:%d%s" % (
        cgw.ports[1], CONVERSE_STREAM)], capture_output=True, timeout=30)
    assert p.returncode == 28, p.stderr          # curl's timeout
    e = cgw.wait_entry(tid, timeout=h.HOLD_WAIT + 5)
    mock.release(token)
    assert e["aigw_usage_source"] == "partial", e
    assert e["aigw_error_type"] == "", e
    r = h2(cgw, certs, tmp_path, CONVERSE)
    assert r.status == 200, r
    want = default()
    want[(h.DEFAULT_TENANT, NOVA)]["requests"] += 1
    assert_counted(redis, want)


def test_http2_oversized_header(cgw, mock, redis, certs, tmp_path):
    """A 20 KB header field over HTTP/2: nginx ends the stream (its own
    way: "client sent too large header field", no response); nothing
    reaches the upstream or is counted; the next request is fine."""
    mark = cgw.mark()
    with pytest.raises(AssertionError, match=r"curl failed \((16|18|92)\)"):
        h2(cgw, certs, tmp_path, CONVERSE, headers=[("X-Big", "b" * 20000)])
    assert cgw.wait_log(r"client sent too large header field", since=mark)
    assert mock.requests() == []
    r = h2(cgw, certs, tmp_path, CONVERSE)
    assert r.status == 200, r
    assert_counted(redis, default())

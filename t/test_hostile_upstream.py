"""
A hostile upstream (issue 9): the endpoint refuses connections, resets or
cuts the response mid-stream, breaks the chunked framing, sends corrupted
or oversized event-stream frames, errors that are not JSON, a 200 whose
body is not what it says, absurd and negative token counts, or its first
byte very late.

For each, through a gateway counting into a Redis of its own:

  - the client gets a sensible answer: AWS's bytes as they came (cut
    where the upstream cut them), or the gateway's error in Bedrock's
    JSON shape when nothing came;
  - the request is counted once, its error with its type: Redis'
    `errors` and `throttled`, and $aigw_error_type in the JSON access log;
  - the next request through the same gateway succeeds and is counted
    exactly, once.
"""

import http.client
import json
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

# how long the counts may take to reach Redis (nginx under valgrind is slow)
WAIT = 60 if h.VALGRIND else 10

# The bound above which a token count is not believed (README, "What Redis
# cannot take"; the module's AIGW_USAGE_COUNT_MAX)
TOKEN_COUNT_MAX = ms.COUNT_MAX

# proxy_read_timeout of these gateways, and a first byte later than it
READ_TIMEOUT = 1.0
SLOW = READ_TIMEOUT + 0.6

NOVA = "amazon.nova-lite-v1:0"
NOVA_WIRE = "amazon.nova-lite-v1%3A0"
NEXT_MODEL = "amazon.titan-text-express-v1"
NEXT_PATH = "/model/%s/converse" % NEXT_MODEL
NEXT_BODY = b'{"messages": [{"role": "user", "content": [{"text": "x"}]}]}'
# the mock's default Converse answer: input 10 + body length / 4, output 7
NEXT_USAGE = {"input_tokens": 10 + len(NEXT_BODY) // 4, "output_tokens": 7}

TOKENS = ("input_tokens", "output_tokens", "cache_read_input_tokens",
          "cache_write_input_tokens")


def nova(op):
    return "/model/%s/%s" % (NOVA_WIRE, op)


# --- the gateway -------------------------------------------------------------

@pytest.fixture
def hgw(nginx_factory, mock, redis, tmp_path):
    """
    An nginx counting into the test's Redis with two gateway servers:
    ports[0] in front of the mock, ports[1] in front of a port where
    nothing listens; proxy_read_timeout READ_TIMEOUT.
    """
    params = tmp_path / "aigw_params"
    text = h.AIGW_PARAMS.read_text()
    assert text.count("proxy_read_timeout 300s;") == 1
    params.write_text(text.replace("proxy_read_timeout 300s;",
                                   "proxy_read_timeout %dms;"
                                   % int(READ_TIMEOUT * 1000)))
    ports = [h.free_port(), h.free_port()]
    dead = h.free_port()
    conf = h.aigw_http(mock.url, extra="aigw_redis %s journal=%s timeout=1s;"
                       % (redis.address, tmp_path / "journal"))
    conf += h.gateway_server(ports[0], params=params)
    conf += h.gateway_server(
        ports[1], params=params,
        server_extra="aigw_endpoint bedrock http://127.0.0.1:%d;" % dead)
    return nginx_factory(conf, ports)


def request(port, path, headers, body=b"{}", timeout=30):
    """
    One request that may be answered in full or cut: (status, headers,
    the body bytes the client got, whether the response was whole).
    """
    conn, r = h.open_request(port, "POST", path, list(headers) + [
        ("Content-Type", "application/json")], body, timeout=timeout)
    got = b""
    whole = True
    try:
        while True:
            piece = r.read1(65536)
            if not piece:
                break
            got += piece
    except http.client.IncompleteRead as x:
        got += x.partial
        whole = False
    except (ConnectionError, http.client.HTTPException):
        whole = False
    finally:
        conn.close()
    if r.length:
        whole = False           # less than its Content-Length
    return r.status, r.getheaders(), got, whole


def by_model(usage):
    """{model: fields} of the default tenant, summed over the days."""
    out = {}
    for (day, tenant, model), fields in usage.items():
        assert tenant == h.DEFAULT_TENANT, (tenant, model)
        redisd.add_usage(out, model, fields)
    return out


def counts(requests=1, errors=0, throttled=0, **tokens):
    want = {f: 0 for f in FIELDS}
    want.update(requests=requests, errors=errors, throttled=throttled)
    want.update(tokens)
    return want


def wait_counted(redis, want, quiet=0.3):
    """
    Polls Redis until its counts by model equal "want" exactly, then
    watches them for "quiet" seconds (three drain ticks of the module: a
    batch applied again would show) and fails if they changed.
    """
    def done(u):
        return not redisd.diff_usage(by_model(u), want)

    got = redis.wait_stable(done, timeout=WAIT)
    diff = redisd.diff_usage(by_model(got), want)
    assert not diff, "Redis:\n  " + "\n  ".join(diff)
    deadline = time.monotonic() + quiet
    while time.monotonic() < deadline:
        now = redis.usage()
        assert now == got, "the counts changed after they were exact:\n" \
            "  %s\n  then %s" % (got, now)
        time.sleep(0.05)
    return got


def next_request_counts(n, redis, want):
    """The next, ordinary request through the same gateway: 200, and
    counted exactly once next to the hostile one's counts ("want"),
    which are exact too."""
    status, _, body, whole = request(n.ports[0], NEXT_PATH, [], NEXT_BODY)
    assert (status, whole) == (200, True), body[:300]
    want = dict(want)
    want[NEXT_MODEL] = counts(**NEXT_USAGE)
    wait_counted(redis, want)


def assert_json_error(status, headers, body, want_status, error_type):
    """The gateway's own error, in Bedrock's shape."""
    hs = dict((k.lower(), v) for k, v in headers)
    assert status == want_status, (status, headers, body)
    assert hs.get("content-type", "").startswith("application/json"), hs
    assert hs.get("x-amzn-errortype") == error_type, hs
    msg = json.loads(body)["message"]
    assert isinstance(msg, str) and msg


def entry_of(n, tid):
    return n.wait_entry(tid, timeout=WAIT)


def tokens(e):
    return {k: int(e["aigw_" + k]) for k in TOKENS}


def zero_tokens(**some):
    out = dict.fromkeys(TOKENS, 0)
    out.update(some)
    return out


# --- nothing to talk to ------------------------------------------------------

def test_connection_refused(hgw, redis, mock):
    """Nothing listens at the endpoint: nginx's 502 in Bedrock's shape,
    counted as an error of that type, no tokens."""
    tid = uuid.uuid4().hex
    status, headers, body, whole = request(
        hgw.ports[1], nova("converse"), [("X-Test-Id", tid)])
    assert_json_error(status, headers, body, 502,
                      "ServiceUnavailableException")
    assert mock.requests() == []
    e = entry_of(hgw, tid)
    assert e["aigw_error_type"] == "ServiceUnavailableException", e
    assert e["aigw_usage_source"] == "none", e
    assert tokens(e) == zero_tokens(), e
    want = {NOVA: counts(errors=1)}
    next_request_counts(hgw, redis, want)


def test_huge_response_header(hgw, redis, mock):
    """A response header past proxy_buffer_size: nginx's 502 in
    Bedrock's shape (nothing of AWS's answer reaches the client), one
    error of that type, no tokens."""
    tid = uuid.uuid4().hex
    mark = hgw.mark()
    status, headers, body, whole = request(
        hgw.ports[0], nova("converse"), [
            ("X-Test-Id", tid), ("X-Mock-Synthetic", "hostile-huge-header")])
    assert_json_error(status, headers, body, 502,
                      "ServiceUnavailableException")
    assert hgw.wait_log(r"upstream sent too big header", since=mark)
    e = entry_of(hgw, tid)
    assert e["aigw_error_type"] == "ServiceUnavailableException", e
    assert tokens(e) == zero_tokens(), e
    next_request_counts(hgw, redis, {NOVA: counts(errors=1)})


def test_very_slow_first_byte(hgw, redis, mock):
    """AWS answers later than proxy_read_timeout: nginx's 504 in
    Bedrock's shape, one error; a late answer within the timeout is
    counted in full."""
    tid = uuid.uuid4().hex
    t0 = time.monotonic()
    status, headers, body, whole = request(
        hgw.ports[0], nova("converse"), [
            ("X-Test-Id", tid), ("X-Mock-Synthetic", "converse"),
            ("X-Mock-Delay", str(SLOW))])
    assert time.monotonic() - t0 < SLOW + 5
    assert_json_error(status, headers, body, 504,
                      "ServiceUnavailableException")
    e = entry_of(hgw, tid)
    assert e["aigw_error_type"] == "ServiceUnavailableException", e
    assert e["aigw_usage_source"] == "none", e
    want = {NOVA: counts(errors=1)}
    wait_counted(redis, want, quiet=0)

    # late, but within the timeout: an ordinary answer
    s = ms.build("converse-stream")
    tid = uuid.uuid4().hex
    status, headers, body, whole = request(
        hgw.ports[0], nova("converse-stream"), [
            ("X-Test-Id", tid), ("X-Mock-Synthetic", "converse-stream"),
            ("X-Mock-Delay", str(READ_TIMEOUT / 2))])
    assert (status, body, whole) == (200, s.body, True)
    e = entry_of(hgw, tid)
    assert e["aigw_error_type"] == "", e
    assert int(e["aigw_ttft_ms"]) >= READ_TIMEOUT / 2 * 1000, e
    want[NOVA] = counts(requests=2, errors=1, **{
        k: s.usage[k] for k in TOKENS})
    next_request_counts(hgw, redis, want)


# --- the connection breaks mid-response --------------------------------------

def stream_ends(name):
    ends = []
    for m in mu.eventstream_split(ms.build(name).body):
        ends.append((ends[-1] if ends else 0) + len(m))
    return ends


@pytest.mark.parametrize("how", ["fin", "rst"])
def test_reset_mid_stream(hgw, redis, mock, how):
    """
    The upstream closes or resets the connection in the middle of a
    stream: the client gets the bytes that came, and a response it can
    tell is cut (no last chunk); it counts once as an error of the
    upstream (the gateway's ServiceUnavailableException), partial, with
    the usage of the messages that came whole.
    """
    s = ms.build("anthropic-stream")
    cut = stream_ends("anthropic-stream")[2] + 50
    tid = uuid.uuid4().hex
    status, _, body, whole = request(
        hgw.ports[0], nova("invoke-with-response-stream"), [
            ("X-Test-Id", tid), ("X-Mock-Synthetic", "anthropic-stream"),
            ("X-Mock-Chunking", "events"),
            ("X-Mock-Cut-After", "%d%s" % (cut, ":rst" if how == "rst"
                                           else ""))])
    assert (status, body, whole) == (200, s.body[:cut], False)
    e = entry_of(hgw, tid)
    assert e["aigw_usage_source"] == "partial", e
    assert e["aigw_error_type"] == "ServiceUnavailableException", e
    # message_start: input 25, output 1, cache read 1024, write 256
    first = zero_tokens(input_tokens=25, output_tokens=1,
                        cache_read_input_tokens=1024,
                        cache_write_input_tokens=256)
    assert tokens(e) == first, e
    want = {NOVA: counts(errors=1, **first)}
    next_request_counts(hgw, redis, want)


@pytest.mark.parametrize("fault", ["chunk-short", "chunk-garbage",
                                   "length-short"])
@pytest.mark.parametrize("op,name", [
    ("converse-stream", "converse-stream"),
    ("converse", "converse"),
])
def test_broken_framing(hgw, redis, mock, fault, op, name):
    """
    The body's HTTP framing breaks after its first piece: a chunk shorter
    than its size line, a size line that is not hex, a Content-Length
    longer than the body.  The client gets what came and a response it
    can tell is cut; one error, with the usage read before the break
    (none in the stream, partial: it comes last; all of Converse's JSON,
    which came whole, final).
    """
    s = ms.build(name)
    first = mu.eventstream_split(s.body)[0] if op == "converse-stream" \
        else s.body
    tid = uuid.uuid4().hex
    status, _, body, whole = request(hgw.ports[0], nova(op), [
        ("X-Test-Id", tid), ("X-Mock-Synthetic", name),
        ("X-Mock-Chunking", "events" if op == "converse-stream" else "none"),
        ("X-Mock-Fault", fault)])
    assert status == 200
    assert not whole
    # what came, as it came: the short chunk's 10 bytes too
    assert body == first + (b"z" * 10 if fault == "chunk-short" else b""), \
        body[-200:]
    e = entry_of(hgw, tid)
    assert e["aigw_error_type"] == "ServiceUnavailableException", e
    if op == "converse-stream":
        assert e["aigw_usage_source"] == "partial", e
        assert tokens(e) == zero_tokens(), e
        want = {NOVA: counts(errors=1)}
    else:
        # the whole JSON came before the framing broke: its usage is
        # final (the client has all of it too), the call an error all
        # the same; the short chunk's bytes after it are not JSON: partial
        assert e["aigw_usage_source"] == (
            "partial" if fault == "chunk-short" else "body"), e
        assert tokens(e) == {k: s.usage[k] for k in TOKENS}, e
        want = {NOVA: counts(errors=1, **{k: s.usage[k] for k in TOKENS})}
    next_request_counts(hgw, redis, want)


# --- what arrives is not what it should be -----------------------------------

@pytest.mark.parametrize("name,error_type", [
    ("hostile-html-500", "InternalServerException"),
    ("hostile-text-503", "ServiceUnavailableException"),
    ("hostile-json-type-garbage", "Script"),
])
def test_error_not_json(hgw, redis, mock, name, error_type):
    """
    An error whose body is HTML, plain text or broken JSON, without a
    usable x-amzn-ErrorType: the client gets it as AWS sent it; it counts
    as one error, typed by its status when AWS gave no type (the type
    AWS gave, reduced to safe characters, when it did).
    """
    s = ms.build(name)
    tid = uuid.uuid4().hex
    status, _, body, whole = request(hgw.ports[0], nova("converse"), [
        ("X-Test-Id", tid), ("X-Mock-Synthetic", name)])
    assert (status, body, whole) == (s.status, s.body, True)
    e = entry_of(hgw, tid)
    assert e["aigw_error_type"] == error_type, e
    assert e["aigw_usage_source"] == "none", e
    # AWS's 400, 403 and 404 count under "_invalid" (README, "The keys")
    model = "_invalid" if s.status in (400, 403, 404) else NOVA
    want = {model: counts(errors=1, throttled=int(s.status == 429))}
    next_request_counts(hgw, redis, want)


def test_204_no_body(hgw, redis, mock):
    """A 204 with no body where a JSON answer belongs: passed on; nothing
    was cut (nginx sends no body for a 204), so no error; no tokens."""
    tid = uuid.uuid4().hex
    status, _, body, whole = request(hgw.ports[0], nova("converse"), [
        ("X-Test-Id", tid), ("X-Mock-Synthetic", "hostile-204")])
    assert (status, body, whole) == (204, b"", True)
    e = entry_of(hgw, tid)
    assert e["aigw_error_type"] == "", e
    assert tokens(e) == zero_tokens(), e
    next_request_counts(hgw, redis, {NOVA: counts()})


@pytest.mark.parametrize("name", ["hostile-converse-malformed",
                                  "hostile-converse-not-json"])
def test_200_malformed_body(hgw, redis, mock, name):
    """A 200 whose JSON breaks off (after "inputTokens":12), or is not
    JSON: passed on as it came, counted once with what could be read
    (partial) and no error (AWS said 200); what is not JSON is logged as
    an anomaly."""
    s = ms.build(name)
    tid = uuid.uuid4().hex
    mark = hgw.mark()
    status, _, body, whole = request(hgw.ports[0], nova("converse"), [
        ("X-Test-Id", tid), ("X-Mock-Synthetic", name)])
    assert (status, body, whole) == (200, s.body, True)
    e = entry_of(hgw, tid)
    assert e["aigw_error_type"] == "", e
    assert tokens(e) == {k: s.usage[k] for k in TOKENS}, e
    assert e["aigw_usage_source"] == ("partial" if any(s.usage.values())
                                      else "none"), e
    if name == "hostile-converse-not-json":
        assert hgw.wait_log(r"\[warn\].*aigw: response from AWS: 1 JSON "
                            r"documents not parsed", since=mark)
    want = {NOVA: counts(**{k: s.usage[k] for k in TOKENS})}
    next_request_counts(hgw, redis, want)


@pytest.mark.parametrize("name,source", [
    ("hostile-converse-stream-bad-crc", "none"),
    ("hostile-converse-stream-bad-prelude", "partial"),
    ("hostile-converse-stream-oversized", "stream"),
    ("hostile-anthropic-stream-huge-headers-len", "partial"),
])
@pytest.mark.parametrize("chunking", ["random:5:700"])
def test_corrupted_event_stream(hgw, redis, mock, name, source, chunking):
    """
    Event streams with a message whose CRC is wrong, a prelude whose CRC
    is wrong, a message of 2 GiB announced, a headers length past the
    bound: the client gets every byte; the usage is what came in intact
    messages before the damage; counted once, and the stream error in
    the error log.
    """
    s = ms.build(name)
    op = "converse-stream" if "converse" in name \
        else "invoke-with-response-stream"
    tid = uuid.uuid4().hex
    mark = hgw.mark()
    status, _, body, whole = request(hgw.ports[0], nova(op), [
        ("X-Test-Id", tid), ("X-Mock-Synthetic", name),
        ("X-Mock-Chunking", chunking)])
    assert (status, whole) == (200, True)
    assert body == s.body
    e = entry_of(hgw, tid)
    assert e["aigw_usage_source"] == source, e
    assert tokens(e) == {k: s.usage[k] for k in TOKENS}, e
    assert e["aigw_error_type"] == "", e
    assert hgw.wait_log(r"\[warn\].*aigw: event stream from AWS: ",
                        since=mark)
    want = {NOVA: counts(**{k: s.usage[k] for k in TOKENS})}
    next_request_counts(hgw, redis, want)


# --- absurd and negative counts ----------------------------------------------

@pytest.mark.parametrize("where,inp,out", [
    ("invoke", "-5", "7"),
    ("converse", "-5", "7"),
    ("invoke", "12.5", "7"),
    ("converse", "99999999999999999999999", "7"),
])
def test_negative_and_unreadable_counts(hgw, redis, mock, where, inp, out):
    """
    Token counts that are negative, fractional, or past 64 bits: not
    read as counts (never wrapped around); the request counts once, with
    the counts that are readable, and no error.
    """
    name = "hostile-%s-counts:%s:%s" % (where, inp, out)
    s = ms.build(name)
    tid = uuid.uuid4().hex
    status, _, body, whole = request(hgw.ports[0], nova(where), [
        ("X-Test-Id", tid), ("X-Mock-Synthetic", name)])
    assert (status, body, whole) == (200, s.body, True)
    e = entry_of(hgw, tid)
    got = tokens(e)
    assert got["input_tokens"] == 0, e
    assert got["output_tokens"] in (0, 7), e
    assert e["aigw_error_type"] == "", e
    want = {NOVA: counts(**{k: got[k] for k in TOKENS})}
    next_request_counts(hgw, redis, want)


# On the code as it landed (issue 9, defect 1) a count of 10^19 made
# Redis refuse the whole batch again and again, so the next request was
# never counted.
@pytest.mark.parametrize("where,absurd", [
    ("invoke", "10000000000000000000"),
    ("converse", "10000000000000000000"),
    ("converse", str(TOKEN_COUNT_MAX + 1)),
])
def test_absurd_counts(hgw, redis, mock, where, absurd):
    """
    A token count no model can produce (over TOKEN_COUNT_MAX, up to
    10^19): nginx goes on, the client gets AWS's bytes, and the next
    normal request is counted exactly once within a few seconds; the
    absurd record multiplies no one else's counts.
    """
    name = "hostile-%s-counts:%s:3" % (where, absurd)
    s = ms.build(name)
    status, _, body, whole = request(hgw.ports[0], nova(where), [
        ("X-Mock-Synthetic", name)])
    assert (status, body, whole) == (200, s.body, True)
    hgw.wait_access(1, timeout=WAIT)
    status, _, body, whole = request(hgw.ports[0], NEXT_PATH, [], NEXT_BODY)
    assert (status, whole) == (200, True)

    def next_counted(u):
        return by_model(u).get(NEXT_MODEL, {}).get("requests") == 1

    got = redis.wait_stable(next_counted, timeout=5)
    assert next_counted(got), "the next request was not counted: %s" % got
    time.sleep(1.2)            # a batch Redis refused is retried each second
    u = by_model(redis.usage())
    assert not redisd.diff_usage({NEXT_MODEL: u[NEXT_MODEL]},
                                 {NEXT_MODEL: counts(**NEXT_USAGE)}), u
    # counted once, the absurd count as unreadable (0), the other as sent
    assert u[NOVA]["requests"] == 1, u
    assert u[NOVA]["input_tokens"] == 0, u
    assert u[NOVA]["output_tokens"] == 3, u
    assert "the most a response can report, not counted" in \
        hgw.read_error_log()
    assert hgw.running()

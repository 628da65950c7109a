"""
Usage counted in Redis (../shared/SPEC.md, "Usage in Redis"), against a
real redis-server: every capture (without the shared data: every synthetic
stand-in) once in its hash, the day's index set, the
key schema, prefix=, db=, password=, unix: sockets, nginx -t on
aigw_redis, and Redis commands per request at load.
"""

import re
import socket
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

import helpers as h
import redisd
from redisd import FIELDS


pytestmark = pytest.mark.skipif(
    not redisd.redis_server_bin(),
    reason="redis-server not installed (make deps installs it)")

# how long the counts may take to reach Redis (nginx under valgrind is slow)
WAIT = 120 if h.VALGRIND else 20


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory):
    r = redisd.RedisServer(tmp_path_factory.mktemp("redis"), unix=True)
    r.start()
    yield r
    r.stop()


@pytest.fixture
def redis(redis_server):
    """The module's redis-server, running and empty (every db)."""
    if not redis_server.running():
        redis_server.start()
    redis_server.flush()
    return redis_server


def counting_gateway(nginx_factory, mock, tmp_path, redis_args,
                     tenants=h.DEFAULT):
    """A standard gateway with "aigw_redis REDIS_ARGS journal=...;"."""
    port = h.free_port()
    conf = h.aigw_http(mock.url, tenants=tenants, extra=(
        "aigw_redis %s journal=%s;" % (redis_args, tmp_path / "journal")))
    conf += h.gateway_server(port)
    return nginx_factory(conf, [port])


def send_case(port, c, chunking="none", api_key=h.DEFAULT, extra=()):
    """Sends Case c (a capture, or its synthetic stand-in): its status."""
    r = c.send(port, chunking, extra, api_key=api_key)
    assert r.status == c.status, (c.name, r)
    return r


def by_tenant_model(usage):
    """{(day, tenant, model): f} summed over the days (a run may straddle
    midnight UTC) into {(tenant, model): f}."""
    out = {}
    for (day, tenant, model), fields in usage.items():
        redisd.add_usage(out, (tenant, model), fields)
    return out


def expected(requests, usage=None, **more):
    e = {f: 0 for f in FIELDS}
    e["requests"] = requests
    for f, v in (usage or {}).items():
        e[f] = v * requests
    e.update(more)
    return e


def assert_counts(got, want, what=""):
    """Exact equality of every field but latency_ms_sum (>= 0)."""
    diff = redisd.diff_usage(got, want)
    assert not diff, "%s\n  %s" % (what, "\n  ".join(diff))


def wait_counts(redis, want, prefix="aigw", db=0, timeout=WAIT):
    """Polls Redis until the counts (by tenant and model) equal "want";
    returns the last usage seen (raw, by day)."""
    def done(u):
        return not redisd.diff_usage(by_tenant_model(u), want)
    return redis.wait_stable(done, prefix=prefix, db=db, timeout=timeout)


def check_schema(redis, usage, days, prefix="aigw", db=0):
    """
    Every key is a usage hash, an index set, a sequence mark, or a day's
    count of models per tenant (the cap of max_models=).
    """
    keys = redis.call("KEYS", "*", db=db)
    pat = re.compile(r"^%s:(usage:(\d{4}-\d\d-\d\d):(index|[^:]+:.+)"
                     r"|seq:[0-9a-f]{32}|models:(\d{4}-\d\d-\d\d))$"
                     % re.escape(prefix))
    for k in keys:
        m = pat.match(k)
        assert m, "a key outside the schema: %r" % k
        if m.group(1).startswith("usage:"):
            assert m.group(2) in days, k
            kind = redis.call("TYPE", k, db=db)
            assert kind == ("set" if m.group(3) == "index" else "hash"), k
        else:
            # the module's own keys expire: they do not pile up
            assert redis.call("TTL", k, db=db) > 0, k
        if m.group(1).startswith("models:"):
            # a tenant's count is its models in the day's index
            day = m.group(4)
            members = redis.call("SMEMBERS", "%s:usage:%s:index"
                                 % (prefix, day), db=db)
            counts = redis.call("HGETALL", k, db=db)
            got = dict(zip(counts[::2], counts[1::2]))
            want = {}
            for mem in members:
                tenant, model = mem.split(":", 1)
                if model not in ("_other", "_invalid"):
                    want[tenant] = want.get(tenant, 0) + 1
            assert {t: int(c) for t, c in got.items()} == want, k
    for (day, tenant, model), fields in usage.items():
        assert set(fields) <= set(FIELDS), fields
        assert all(v >= 0 for v in fields.values()), fields


# --- every capture, once ----------------------------------------------------

def capture_tenants(cases):
    """One tenant (and key) per case, so that each case has a hash of its
    own: {name: (tenant, key)} and the tenants document."""
    out = {}
    doc = []
    for i, c in enumerate(cases):
        tid = "cap-%02d" % i
        key, sha = h.make_key("capkey%02d" % i)
        h.register_keys(key)
        out[c.name] = (tid, key)
        doc.append({"id": tid, "keys": [{"id": "capkey%02d" % i,
                                         "sha256": sha}], "models": ["*"]})
    return out, h.tenants_doc(*doc)


def test_every_capture_counts_once_in_its_hash(nginx_factory, mock, redis,
                                               tmp_path):
    """
    Each capture (without the shared data: each synthetic stand-in, every
    operation, SageMaker, errors among them) through its own tenant, sent
    1, 2 or 3 times at random byte boundaries: its hash holds exactly its
    usage (expected-usage.json) times that, requests equal to the sends,
    errors and throttles where it is one; the day's index set lists every
    tenant:model and nothing else; every key follow the schema.
    """
    cases = h.responses()
    tenants, doc = capture_tenants(cases)
    tfile = h.write_tenants(tmp_path / "tenants.json", doc)
    n = counting_gateway(nginx_factory, mock, tmp_path, redis.address,
                         tenants=tfile)
    day0 = redisd.today()
    want = {}
    for i, c in enumerate(sorted(cases, key=lambda c: tenants[c.name])):
        tid, key = tenants[c.name]
        times = 1 + i % 3
        for j in range(times):
            send_case(n.port, c, "random:%d:64" % (i * 7 + j), api_key=key)
        # AWS's 400, 403 and 404 count under the fixed model "_invalid"
        model = "_invalid" if c.status in (400, 403, 404) else c.model
        want[(tid, model)] = expected(times, h.case_counts(c))
    day1 = redisd.today()

    usage = wait_counts(redis, want)
    assert_counts(by_tenant_model(usage), want,
                  "Redis against the expected usage x sends")
    for (day, tenant, model), f in usage.items():
        assert f.get("cost_nanousd", 0) == 0       # until the pricing issue

    days = {day0, day1}
    members = set()
    for d in days:
        members |= redis.index(d)
    assert members == {"%s:%s" % k for k in want}
    check_schema(redis, usage, days)
    # the ARN of a capture keeps its colons: the model is everything after
    # the fourth colon of the key
    arn = [m for (t, m) in want if m.startswith("arn:")]
    assert arn, "no capture with an ARN model"
    for m in arn:
        assert any(k[2] == m for k in usage), m


def test_repeats_and_errors_in_one_hash(gw_redis, redis, mock):
    """
    One tenant and model, a mix: N captures, errors (500, 400) and
    throttles (429): requests, tokens, errors and throttled add up; AWS's
    400 (an invalid request) counts under the model "_invalid".
    """
    n = gw_redis
    c = h.case_for("test_nova_converse", "converse-stream-guardrail")
    assert c.model == "amazon.nova-lite-v1:0"
    u = c.usage
    for i in range(5):
        send_case(n.port, c, "random:%d" % i)
    for status, times in ((429, 3), (500, 2), (400, 1)):
        for _ in range(times):
            r = h.post(n.port, "/model/amazon.nova-lite-v1%3A0/converse",
                       b'{"messages": []}', [("X-Mock-Status", str(status))])
            assert r.status == status, r
    want = {(h.DEFAULT_TENANT, "amazon.nova-lite-v1:0"): expected(
        10, input_tokens=5 * u["input_tokens"],
        output_tokens=5 * u["output_tokens"], errors=5, throttled=3),
        (h.DEFAULT_TENANT, "_invalid"): expected(1, errors=1)}
    usage = wait_counts(redis, want)
    assert_counts(by_tenant_model(usage), want)
    for f in usage.values():
        assert f.get("latency_ms_sum", 0) >= 0


@pytest.fixture
def gw_redis(nginx_factory, mock, redis, tmp_path):
    return counting_gateway(nginx_factory, mock, tmp_path, redis.address)


def test_synthetic_operations_count(gw_redis, redis, mock):
    """The mock's own answers (headers, bodies, both stream kinds,
    SageMaker without usage) count what the mock's ground truth says."""
    n = gw_redis
    paths = ["/model/amazon.nova-lite-v1%3A0/converse",
             "/model/amazon.nova-lite-v1%3A0/converse-stream",
             "/model/anthropic.claude-3-haiku-20240307-v1%3A0/invoke",
             "/model/anthropic.claude-3-haiku-20240307-v1%3A0/"
             "invoke-with-response-stream",
             "/endpoints/my-endpoint/invocations",
             "/endpoints/my-endpoint/invocations-response-stream"]
    for i, p in enumerate(paths):
        for j in range(2):
            body = b'{"x": "%s"}' % (b"y" * (i * 37 + j * 11))
            r = h.post(n.port, p, body, [
                ("X-Test-Tenant", h.DEFAULT_TENANT),
                ("X-Mock-Chunking", "random:%d:16" % (i + j))])
            assert r.status == 200, r
    truth = mock.ground_truth()
    assert sum(t["requests"] for t in truth.values()) == 12
    usage = wait_counts(redis, truth)
    assert_counts(by_tenant_model(usage), truth, "Redis against the mock")


# --- where it counts: prefix=, db=, unix:, IPv6, password= ---------------------

def test_prefix(nginx_factory, mock, redis, tmp_path):
    n = counting_gateway(nginx_factory, mock, tmp_path,
                         "%s prefix=acme-usage" % redis.address)
    c = h.case_for("test_titan_converse", "invoke-titan")
    assert c.model == "amazon.titan-text-express-v1"
    send_case(n.port, c)
    want = {(h.DEFAULT_TENANT, "amazon.titan-text-express-v1"):
            expected(1, c.usage)}
    usage = wait_counts(redis, want, prefix="acme-usage")
    assert_counts(by_tenant_model(usage), want)
    keys = redis.call("KEYS", "*")
    assert keys and all(k.startswith("acme-usage:") for k in keys), keys
    assert redis.index(redisd.today(), prefix="acme-usage") == {
        "%s:amazon.titan-text-express-v1" % h.DEFAULT_TENANT}
    check_schema(redis, usage, {redisd.today()}, prefix="acme-usage")


def test_db(nginx_factory, mock, redis, tmp_path):
    n = counting_gateway(nginx_factory, mock, tmp_path,
                         "%s db=3" % redis.address)
    c = h.case_for("test_meta_converse", "invoke-llama")
    send_case(n.port, c)
    want = {(h.DEFAULT_TENANT, c.model): expected(1, c.usage)}
    usage = wait_counts(redis, want, db=3)
    assert_counts(by_tenant_model(usage), want)
    assert redis.call("DBSIZE") == 0, redis.call("KEYS", "*")


def test_unix_socket(nginx_factory, mock, redis, tmp_path):
    n = counting_gateway(nginx_factory, mock, tmp_path,
                         "unix:%s" % redis.unix)
    c = h.case_for("test_cohere_completion", "converse")
    send_case(n.port, c)
    want = {(h.DEFAULT_TENANT, c.model): expected(1, c.usage)}
    usage = wait_counts(redis, want)
    assert_counts(by_tenant_model(usage), want)
    assert n.wait_log(r'aigw: redis "unix:%s" connected'
                      % re.escape(redis.unix))


@pytest.fixture(scope="module")
def redis_auth(tmp_path_factory):
    r = redisd.RedisServer(tmp_path_factory.mktemp("redis-auth"),
                           password="s3cret pass/word+x=")
    r.start()
    yield r
    r.stop()


def test_password(nginx_factory, mock, redis_auth, tmp_path):
    redis_auth.flush()
    n = counting_gateway(nginx_factory, mock, tmp_path,
                         '%s "password=%s" db=2' % (redis_auth.address,
                                                    redis_auth.password))
    c = h.case_for("test_guardrail_invoke", "titan-stream")
    send_case(n.port, c)
    want = {(h.DEFAULT_TENANT, c.model): expected(1, c.usage)}
    usage = wait_counts(redis_auth, want, db=2)
    assert_counts(by_tenant_model(usage), want)


def test_wrong_password(nginx_factory, mock, redis_auth, tmp_path):
    """
    A wrong password: the error log says Redis refused, without the
    password; requests are still served; nothing is counted.
    """
    redis_auth.flush()
    wrong = "not-the-Password-42"
    n = counting_gateway(nginx_factory, mock, tmp_path,
                         "%s password=%s" % (redis_auth.address, wrong))
    m = n.wait_log(r"\[error\].*aigw: redis \"%s\" refused the "
                   r"connection: (WRONGPASS|ERR)" % re.escape(
                       redis_auth.address), timeout=WAIT)
    assert m, n.read_error_log()[-2000:]
    c = h.case_for("test_titan_converse", "converse")
    for _ in range(3):
        send_case(n.port, c)
    # the connection is refused again after the requests (the backoff is
    # at most 5 s): nothing can have been counted in between
    mark = n.mark()
    assert n.wait_log(r"aigw: redis \"%s\"" % re.escape(redis_auth.address),
                      since=mark, timeout=WAIT)
    assert redis_auth.call("DBSIZE") == 0
    log = n.read_error_log()
    assert wrong not in log
    assert redis_auth.password not in log


def test_ipv6(nginx_factory, mock, tmp_path_factory, tmp_path):
    try:
        s = socket.socket(socket.AF_INET6)
        s.bind(("::1", 0))
        s.close()
    except OSError:
        pytest.skip("no IPv6 loopback here")
    r = redisd.RedisServer(tmp_path_factory.mktemp("redis6"), bind="::1")
    r.start()
    try:
        n = counting_gateway(nginx_factory, mock, tmp_path,
                             "[::1]:%d" % r.port)
        c = h.case_for("test_nova_completion", "invoke-nova")
        send_case(n.port, c)
        want = {(h.DEFAULT_TENANT, c.model): expected(1, c.usage)}
        usage = wait_counts(r, want)
        assert_counts(by_tenant_model(usage), want)
    finally:
        r.stop()


# --- nginx -t -------------------------------------------------------------------

def test_host_name_needs_a_resolver(nginx_t):
    rc, out = nginx_t(h.aigw_http("http://127.0.0.1:9") +
                      "aigw_redis localhost:6379;\n")
    assert rc != 0, out
    assert '"localhost:6379" is a host name' in out, out
    assert 'add a "resolver" to http{}' in out, out


@pytest.mark.parametrize("args,message", [
    ("127.0.0.1", "expected HOST:PORT, [IPv6]:PORT or unix:/path"),
    ("127.0.0.1:0", "expected HOST:PORT"),
    ("127.0.0.1:65536", "expected HOST:PORT"),
    ("127.0.0.1:x", "expected HOST:PORT"),
    ("[::1]6379", "expected HOST:PORT"),
    ("unix:", "expected HOST:PORT"),
    ("127.0.0.1:6379 db=x", 'invalid parameter "db=x"'),
    ("127.0.0.1:6379 db=-1", 'invalid parameter "db=-1"'),
    ("127.0.0.1:6379 bogus=1", 'invalid parameter "bogus=1"'),
    ("127.0.0.1:6379 password", 'invalid parameter "password"'),
    ("127.0.0.1:6379 prefix=", "prefix must be non-empty"),
    ("127.0.0.1:6379 prefix=a:b", "prefix must be non-empty"),
    ("127.0.0.1:6379 queue=1k", "the queue takes at least 256k"),
    ("127.0.0.1:6379 queue=lots", "the queue takes at least 256k"),
    ("127.0.0.1:6379 timeout=0", 'invalid parameter "timeout=0"'),
    ("127.0.0.1:6379 timeout=soon", 'invalid parameter "timeout=soon"'),
    ("127.0.0.1:6379 journal=", 'invalid parameter "journal="'),
    ("[redis.test]:6379", "expected HOST:PORT"),
    ("bad/host:6379", "expected HOST:PORT"),
    (":6379", "expected HOST:PORT"),
])
def test_bad_parameters(nginx_t, args, message):
    rc, out = nginx_t(h.aigw_http("http://127.0.0.1:9") +
                      "aigw_redis %s;\n" % args)
    assert rc != 0, out
    assert message in out, out
    assert "[emerg]" in out, out


def test_duplicate_and_context(nginx_t):
    rc, out = nginx_t(h.aigw_http("http://127.0.0.1:9") +
                      "aigw_redis 127.0.0.1:6379;\n"
                      "aigw_redis 127.0.0.1:6380;\n")
    assert rc != 0 and "is duplicate" in out, out
    rc, out = nginx_t(h.aigw_http("http://127.0.0.1:9") +
                      "server { listen 127.0.0.1:%d; "
                      "aigw_redis 127.0.0.1:6379; }\n" % h.free_port())
    assert rc != 0 and "not allowed here" in out, out


@pytest.mark.parametrize("args", [
    "127.0.0.1:6379",
    "[::1]:6379",
    "unix:/run/redis/redis.sock",
    "10.1.2.3:1 password=p db=15 prefix=team_x.y queue=1m timeout=500ms",
])
def test_good_parameters(nginx_t, tmp_path, args):
    rc, out = nginx_t(h.aigw_http("http://127.0.0.1:9") +
                      "aigw_redis %s journal=%s;\n" % (args,
                                                       tmp_path / "j"))
    assert rc == 0, out


# --- commands per request at load ------------------------------------------------

@pytest.mark.skipif(h.VALGRIND or h.ASAN, reason="a figure of speed: under "
                    "valgrind or ASan the worker is the bottleneck and "
                    "batches are small")
def test_commands_per_request(gw_redis, redis, mock):
    """
    ~1,000 requests from 16 concurrent clients: the module sends its
    batches as one EVALSHA each, so Redis sees far fewer commands than
    requests.  The test's own polling (HGET, one connection) is counted
    and taken out.
    """
    n = gw_redis
    total = 1000
    path = "/model/amazon.nova-lite-v1%3A0/converse"
    body = b'{"messages": [{"role": "user", "content": [{"text": "hi"}]}]}'
    statuses = []

    # warm up: the connection made, the script loaded
    assert h.post(n.port, path, body).status == 200
    key = redisd.usage_key(redisd.today(), h.DEFAULT_TENANT,
                           "amazon.nova-lite-v1:0")
    with redis.client() as c:
        deadline = time.monotonic() + WAIT
        while c.call("HGET", key, "requests") != "1":
            assert time.monotonic() < deadline, "the warm-up not counted"
            time.sleep(0.05)
        c.call("CONFIG", "RESETSTAT")

        def one(i):
            return h.post(n.port, path, body).status

        t0 = time.monotonic()
        with ThreadPoolExecutor(16) as ex:
            statuses = list(ex.map(one, range(total)))
        elapsed = time.monotonic() - t0
        assert statuses == [200] * total

        polls = 0
        deadline = time.monotonic() + WAIT
        while True:
            polls += 1
            got = int(c.call("HGET", key, "requests") or 0)
            if got == total + 1 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert got == total + 1
        info = c.call("INFO", "commandstats")

    stats = {}
    for line in info.splitlines():
        m = re.match(r"cmdstat_([^:]+):calls=(\d+)", line)
        if m:
            stats[m.group(1)] = int(m.group(2))
    # ours: the polls, and CONFIG RESETSTAT counted after the reset
    stats["hget"] = stats.get("hget", 0) - polls
    module = {k: v for k, v in stats.items()
              if v and not k.startswith("config")}
    calls = sum(module.values())
    evals = module.get("evalsha", 0) + module.get("eval", 0)
    per_request = calls / total
    print("\n%d requests in %.1fs (%.0f/s): %d Redis commands (%s), "
          "%.3f per request, %.3f EVALSHA per request" % (
              total, elapsed, total / elapsed, calls, module, per_request,
              evals / total))
    assert evals >= 1
    assert per_request < 0.5, module
    assert evals / total < 0.2, module

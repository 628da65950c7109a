"""
Limits and budgets (aigw_limits): rpm and tpm over a sliding minute, daily
and monthly budgets in USD reserved before forwarding and settled to the
bill; per tenant and per key; across workers and across two nginx sharing
one Redis; alerts once per threshold and period; Redis away with either
policy; the limits' metrics.
"""

import concurrent.futures
import json
import os
import re
import signal
import subprocess
import time

import types

import pytest

import dnsd
import helpers as h
import redisd

pytestmark = pytest.mark.skipif(
    not redisd.redis_server_bin(),
    reason="redis-server not installed (make deps installs it)")

CASE = "converse-stream"
NOVA = "invoke-nova"

# 1 USD per 1K tokens in and out: easy sums (1,000,000 nano-USD a token)
PRICING = {"currency": "USD", "models": {
    "*": {"input_per_1k": "1", "output_per_1k": "1",
          "cache_read_per_1k": "1", "cache_write_per_1k": "1"}}}


def tenant_doc(limits=None, key_limits=None, tid="lim", keys=1):
    """A tenant with "keys" keys (the first with key_limits), its keys."""
    made = [h.make_key("%sk%d" % (tid.replace("-", ""), i))
            for i in range(keys)]
    h.register_keys(*[k for k, _ in made])
    t = {"id": tid, "models": ["*"],
         "keys": [{"id": "%sk%d" % (tid.replace("-", ""), i), "sha256": sha}
                  for i, (_, sha) in enumerate(made)]}
    if limits:
        t["limits"] = limits
    if key_limits:
        t["keys"][0]["limits"] = key_limits
    return t, [k for k, _ in made]


def limits_gateway(nginx_factory, mock, tmp_path, doc, redis=None,
                   limits_line="", workers=1, name="gw", metrics=False):
    d = tmp_path / name
    d.mkdir()
    tenants = h.write_tenants(d / "tenants.json", h.tenants_doc(*doc))
    pricing = d / "pricing.json"
    pricing.write_text(json.dumps(PRICING))
    extra = "aigw_pricing %s;\n%s\n" % (pricing, limits_line)
    if redis:
        extra += "aigw_redis %s journal=%s;\n" % (redis.address,
                                                   d / "journal")
    port = h.free_port()
    server = ""
    if metrics:
        server = "location = /metrics { aigw_metrics; }"
    conf = h.aigw_http(mock.url, tenants=tenants, extra=extra)
    conf += h.gateway_server(port, listen_extra=" reuseport",
                             server_extra=server)
    n = nginx_factory(conf, [port],
                      main_extra="worker_processes %d;" % workers)
    n.port = port
    n.allow.append(r"no price for")
    return n


def send(port, key, case=CASE, extra=()):
    c = h.synthetic_case(case)
    return c.send(port, api_key=key, extra=extra)


def refused(r, limit_text):
    assert r.status == 429, r
    assert r.header("x-amzn-ErrorType") == "ThrottlingException", r
    ra = r.header("Retry-After")
    assert ra is not None and ra.isdigit() and int(ra) >= 1, r
    assert limit_text in r.json()["message"], r.json()
    return int(ra)


def test_rpm_refuses_at_the_limit(nginx_factory, mock, tmp_path, redis):
    doc, keys = tenant_doc({"rpm": 3})
    n = limits_gateway(nginx_factory, mock, tmp_path, [doc], redis)
    got = [send(n.port, keys[0]).status for _ in range(3)]
    assert got == [200, 200, 200]
    r = send(n.port, keys[0])
    ra = refused(r, "rate limit of 3 requests per minute reached")
    assert 1 <= ra <= 60


# Titan streams: a reservation of 100 tokens (99 bytes of body, 1 output
# token), 0.1 USD at PRICING; the synthetic answer bills 75 (0.075 USD)
TITAN_PATH = "/model/amazon.titan-text-express-v1/invoke-with-response-stream"
TITAN_MODEL = "amazon.titan-text-express-v1"
NANO = 1000000              # nano-USD a token at PRICING


def titan_body(bound=100, max_tokens=1):
    head = b'{"inputText": "'
    tail = b'", "textGenerationConfig": {"maxTokenCount": %d}}' % max_tokens
    pad = bound - max_tokens - len(head) - len(tail)
    assert pad >= 0
    body = head + b"x" * pad + tail
    assert len(body) + max_tokens == bound
    return body


def titan(port, key, hold=None, bound=100, max_tokens=1, timeout=30):
    headers = [("Content-Type", "application/json"),
               ("X-Mock-Synthetic", "titan-stream")]
    if hold:
        headers.append(("X-Mock-Hold", hold))
    return h.http_request(port, "POST", TITAN_PATH, headers,
                          titan_body(bound, max_tokens), api_key=key,
                          timeout=timeout)


def spend(redis, tenant="lim", model=TITAN_MODEL):
    """The cost_nanousd Redis counted today for the tenant and model."""
    u = redis.usage()
    return sum(f.get("cost_nanousd", 0) for (day, t, m), f in u.items()
               if t == tenant and m == model)


def wait_spend(redis, want, timeout=10, **kw):
    deadline = time.monotonic() + timeout
    while spend(redis, **kw) != want:
        assert time.monotonic() < deadline, (spend(redis, **kw), want)
        time.sleep(0.05)


def burst(mock, gateways, keys, count, token):
    """count held streams at once, spread over the gateways; released
    once every one was answered or refused.  [statuses]"""
    pool = concurrent.futures.ThreadPoolExecutor(count)
    futs = [pool.submit(titan, gateways[i % len(gateways)].port, keys[0],
                        token) for i in range(count)]
    # the admitted ones are held at the mock, the refused ones answered
    deadline = time.monotonic() + 20
    while True:
        done = [f for f in futs if f.done()]
        held = len(mock.requests())
        if len(done) + held >= count or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    refusals = [f.result() for f in done]
    mock.release(token)
    out = [f.result() for f in futs]
    pool.shutdown()
    for r in refusals:
        assert r.status == 429, r
    return out


def check_burst(out, redis, budget, per_request=75 * NANO):
    ok = [r for r in out if r.status == 200]
    no = [r for r in out if r.status != 200]
    for r in no:
        refused(r, "daily budget of %s USD reached" % budget)
    # each reserves 0.1 USD of a 1.05 budget: at most 10 at once
    assert 5 <= len(ok) <= 10, [r.status for r in out]
    wait_spend(redis, len(ok) * per_request)
    return len(ok)


def drain_budget(gateways, key, redis, budget_nano, admitted):
    """Sequential requests until one is refused: spend stays within the
    budget and ends near it (the last reservation did not fit)."""
    n = admitted
    for i in range(100):
        r = titan(gateways[i % len(gateways)].port, key)
        if r.status == 429:
            refused(r, "daily budget")
            break
        assert r.status == 200, r
        n += 1
    else:
        pytest.fail("never refused")
    wait_spend(redis, n * 75 * NANO)
    total = spend(redis)
    assert total <= budget_nano
    # refused only when 0.1 USD more could pass the budget
    assert total + 100 * NANO > budget_nano - 75 * NANO, total
    return n


def test_budget_holds_under_a_burst_of_streams(nginx_factory, mock, tmp_path,
                                               redis):
    doc, keys = tenant_doc({"daily_usd": "1.05"})
    n = limits_gateway(nginx_factory, mock, tmp_path, [doc], redis,
                       workers=2)
    out = burst(mock, [n], keys, 50, "b1")
    admitted = check_burst(out, redis, "1.05")
    # the released reservations free the budget: more are admitted, and
    # the spend ends within the budget
    drain_budget([n], keys[0], redis, 1050 * NANO, admitted)


def test_budget_holds_across_two_gateways(nginx_factory, mock, tmp_path,
                                          redis):
    doc, keys = tenant_doc({"daily_usd": "1.05"})
    a = limits_gateway(nginx_factory, mock, tmp_path, [doc], redis,
                       name="a")
    b = limits_gateway(nginx_factory, mock, tmp_path, [doc], redis,
                       name="b")
    out = burst(mock, [a, b], keys, 50, "b2")
    admitted = check_burst(out, redis, "1.05")
    drain_budget([a, b], keys[0], redis, 1050 * NANO, admitted)


def test_a_request_above_the_whole_budget(nginx_factory, mock, tmp_path,
                                          redis):
    doc, keys = tenant_doc({"daily_usd": "0.05"})
    n = limits_gateway(nginx_factory, mock, tmp_path, [doc], redis)
    r = titan(n.port, keys[0])
    refused(r, "the request may cost up to 0.1 USD, more than the daily "
               "budget of 0.05 USD")
    assert not mock.requests()


def test_released_on_errors(nginx_factory, mock, tmp_path, redis):
    """AWS's errors and requests that never reach it cost nothing: the
    reservation is released whole, and the budget is whole again."""
    doc, keys = tenant_doc({"daily_usd": "0.15"})
    n = limits_gateway(nginx_factory, mock, tmp_path, [doc], redis)
    for i in range(6):
        r = h.http_request(n.port, "POST", TITAN_PATH,
                           [("Content-Type", "application/json"),
                            ("X-Mock-Status", "500")], titan_body(),
                           api_key=keys[0])
        assert r.status == 500, r
    # 0.15 holds one reservation of 0.1: still admitted after six errors
    r = titan(n.port, keys[0])
    assert r.status == 200, r
    wait_spend(redis, 75 * NANO)


def test_per_key_limits_inside_a_tenant(nginx_factory, mock, tmp_path,
                                        redis):
    doc, keys = tenant_doc({"rpm": 100}, {"rpm": 2}, keys=2)
    n = limits_gateway(nginx_factory, mock, tmp_path, [doc], redis)
    assert [send(n.port, keys[0]).status for _ in range(2)] == [200, 200]
    refused(send(n.port, keys[0]),
            "key limk0: rate limit of 2 requests per minute reached")
    # the tenant's other key is not held back by the first key's limit
    assert [send(n.port, keys[1]).status for _ in range(3)] == [200] * 3


def test_rpm_and_tpm_recover_after_the_window(nginx_factory, mock, tmp_path,
                                              redis):
    rdoc, rkeys = tenant_doc({"rpm": 2}, tid="rpm-t")
    tdoc, tkeys = tenant_doc({"tpm": 250}, tid="tpm-t")
    n = limits_gateway(nginx_factory, mock, tmp_path, [rdoc, tdoc], redis)
    start = time.monotonic()
    assert [titan(n.port, rkeys[0]).status for _ in range(2)] == [200, 200]
    ra = refused(titan(n.port, rkeys[0]),
                 "rate limit of 2 requests per minute reached")
    # tpm: a reservation of 100 tokens settles to 75; 250 holds 3
    assert [titan(n.port, tkeys[0]).status for _ in range(3)] == [200] * 3
    rt = refused(titan(n.port, tkeys[0]),
                 "token limit of 250 tokens per minute reached")
    # a request bigger than the limit itself is refused as such
    refused(titan(n.port, tkeys[0], bound=300),
            "the request may use up to 300 tokens, more than the token "
            "limit of 250 per minute")
    assert 50 <= ra <= 60 and 50 <= rt <= 60, (ra, rt)
    # Retry-After is right: then both are admitted again
    time.sleep(max(ra, rt) + 1 - (time.monotonic() - start))
    assert titan(n.port, rkeys[0]).status == 200
    assert titan(n.port, tkeys[0]).status == 200


def alerts(redis):
    out = []
    for _id, fields in redis.call("XRANGE", "aigw:alerts", "-", "+"):
        f = dict(zip(fields[::2], fields[1::2]))
        out.append({(k.decode() if isinstance(k, bytes) else k):
                    (v.decode() if isinstance(v, bytes) else v)
                    for k, v in f.items()})
    return out


def test_alerts_once_per_threshold_across_gateways(nginx_factory, mock,
                                                   tmp_path, redis):
    doc, keys = tenant_doc({"daily_usd": 1, "alert_at": [0.25, 0.5]})
    a = limits_gateway(nginx_factory, mock, tmp_path, [doc], redis,
                       name="a")
    b = limits_gateway(nginx_factory, mock, tmp_path, [doc], redis,
                       name="b")
    # 8 requests: 0.6 USD; both gateways report what they settled
    for i in range(8):
        assert titan((a, b)[i % 2].port, keys[0]).status == 200
    wait_spend(redis, 8 * 75 * NANO)
    deadline = time.monotonic() + 10
    while len(alerts(redis)) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(2.5)         # more reports: no alert again
    got = alerts(redis)
    assert [g["threshold"] for g in got] == ["0.25", "0.5"], got
    day = time.strftime("%Y-%m-%d", time.gmtime())
    for g in got:
        assert g["tenant"] == "lim" and g["period"] == "daily", g
        assert g["period_start"] == day and g["limit_usd"] == "1", g
        assert float(g["spend_usd"]) >= float(g["threshold"]), g
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", g["time"]), g
        assert "key" not in g
    # aigw alerts prints what the gateways sent
    out = subprocess.run([str(h.build_dir() / "aigw"), "alerts", "--redis",
                          redis.address, "--json"], capture_output=True,
                         text=True, timeout=30)
    assert out.returncode == 0, out
    printed = [json.loads(line) for line in out.stdout.splitlines()]
    assert [(p["tenant"], p["period"], p["threshold"]) for p in printed] \
        == [("lim", "daily", "0.25"), ("lim", "daily", "0.5")], printed
    logs = a.read_error_log() + b.read_error_log()
    lines = re.findall(r"\[warn\].*aigw: alert: tenant \"lim\": daily "
                       r"spend reached (\S+) of the budget", logs)
    assert sorted(lines) == ["0.25", "0.5"], lines


@pytest.mark.parametrize("policy", ["open", "closed"])
def test_redis_away(nginx_factory, mock, tmp_path, redis, policy):
    doc, keys = tenant_doc({"rpm": 3})
    n = limits_gateway(nginx_factory, mock, tmp_path, [doc], redis,
                       limits_line="aigw_limits on_redis_down=%s;" % policy)
    n.allow += [r"redis", r"Connection refused"]
    assert send(n.port, keys[0]).status == 200
    redis.stop()
    time.sleep(0.3)
    got = [send(n.port, keys[0]) for _ in range(4)]
    if policy == "open":
        # this gateway's own view: the request before counts too
        assert [r.status for r in got[:2]] == [200, 200], got
        refused(got[2], "rate limit of 3 requests per minute reached")
    else:
        for r in got:
            assert r.status == 503, r
            assert r.header("x-amzn-ErrorType") == \
                "ServiceUnavailableException"
            assert "Redis is away" in r.json()["message"]
    logs = n.read_error_log()
    assert len(re.findall(r"\[warn\].*aigw: limits: redis is away", logs)) \
        == 1, logs
    assert ("on_redis_down=%s" % policy) in logs
    redis.start()
    deadline = time.monotonic() + 15
    while "limits: redis is back" not in n.read_error_log():
        assert time.monotonic() < deadline
        if policy == "closed":
            send(n.port, keys[0])
        time.sleep(0.2)


def test_without_redis_each_gateway_alone(nginx_factory, mock, tmp_path):
    doc, keys = tenant_doc({"rpm": 2, "daily_usd": 10})
    n = limits_gateway(nginx_factory, mock, tmp_path, [doc], None,
                       workers=2)
    assert [titan(n.port, keys[0]).status for _ in range(2)] == [200, 200]
    refused(titan(n.port, keys[0]), "rate limit of 2 requests")


def test_limits_metrics(nginx_factory, mock, tmp_path, redis):
    parser = pytest.importorskip("prometheus_client.parser")
    doc, keys = tenant_doc({"rpm": 2, "daily_usd": 5, "monthly_usd": 100})
    n = limits_gateway(nginx_factory, mock, tmp_path, [doc], redis,
                       metrics=True)
    for _ in range(2):
        assert titan(n.port, keys[0]).status == 200
    for _ in range(3):
        refused(titan(n.port, keys[0]), "rate limit")
    wait_spend(redis, 2 * 75 * NANO)
    deadline = time.monotonic() + 10
    while True:
        r = h.http_request(n.port, "GET", "/metrics", api_key=None)
        fams = {f.name: f for f in
                parser.text_string_to_metric_families(r.body.decode())}
        lim = {s.labels["limit"]: s.value
               for s in fams["aigw_limited"].samples}
        rem = {s.labels["period"]: s.value
               for s in fams["aigw_budget_remaining_usd"].samples
               if s.labels["tenant"] == "lim"}
        if rem.get("daily") == pytest.approx(5 - 0.15) or \
                time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert lim == {"rpm": 3}
    assert rem == {"daily": pytest.approx(4.85),
                   "monthly": pytest.approx(99.85)}


def test_limits_over_tls_and_an_acl_user(nginx_factory, mock, tmp_path):
    """The limits' connection is the counter's kind: a name resolved by
    nginx's resolver, TLS verified, an ACL user; the budget and the rpm
    hold over it as over a plain Redis."""
    certs = h.make_certs(tmp_path / "certs", names=["redis.aigw.test"])
    r = redisd.RedisServer(tmp_path / "redis", tls=certs)
    r.start()
    dns = dnsd.Dns()
    try:
        r.acl_user("aigw-limits", "limits-pass")
        target = types.SimpleNamespace(address=(
            "redis.aigw.test:%d tls=on tls_ca=%s username=aigw-limits "
            "password=limits-pass" % (r.tls_port, certs["ca"])))
        bdoc, bkeys = tenant_doc({"daily_usd": "0.15"})
        rdoc, rkeys = tenant_doc({"rpm": 2}, tid="rpm-tls")
        n = limits_gateway(nginx_factory, mock, tmp_path, [bdoc, rdoc],
                           target, limits_line=dns.resolver)
        # requests until one is refused: the spend ends within the budget
        assert drain_budget([n], bkeys[0], r, 150 * NANO, 0) >= 1
        got = [send(n.port, rkeys[0]).status for _ in range(2)]
        assert got == [200, 200]
        refused(send(n.port, rkeys[0]),
                "rate limit of 2 requests per minute reached")
        assert "redis.aigw.test" in dns.names
        clients = r.call("CLIENT", "LIST")
        assert clients.count("user=aigw-limits") >= 2, clients
        assert "limits-pass" not in n.read_error_log()
    finally:
        dns.stop()
        r.stop()


def test_config(nginx_t):
    for bad, msg in (("on_redis_down=maybe", "unknown parameter"),
                     ("default_max_tokens=0", "default_max_tokens must"),
                     ("default_max_tokens=10000001",
                      "default_max_tokens must"),
                     ("zone=1k", "zone= must")):
        conf = h.aigw_http(None, extra="aigw_limits %s;" % bad)
        conf += h.gateway_server(h.free_port())
        rc, out = nginx_t(conf)
        assert rc != 0 and "[emerg]" in out and msg in out, out
    conf = h.aigw_http(None, extra="aigw_limits on_redis_down=closed "
                                   "default_max_tokens=512 zone=1m;")
    rc, out = nginx_t(conf + h.gateway_server(h.free_port()))
    assert rc == 0, out


def limits_settled(redis, tenant="lim"):
    """The spend of today the gateways reported to the limits' hash."""
    raw = redis.call("HGETALL", "aigw:limits:%s" % tenant) or []
    raw = [x.decode() if isinstance(x, bytes) else x for x in raw]
    day = time.strftime("%Y-%m-%d", time.gmtime())
    total = 0
    for k, v in zip(raw[::2], raw[1::2]):
        f = v.split()
        if k.startswith("i:") and f[6] == day:
            total += int(f[8])
    return total


def test_budget_sees_the_cost_the_bill_counts(nginx_factory, mock, tmp_path,
                                              redis):
    """What budgets count is cost_nanousd, to the nano-dollar: a client
    that goes away mid-stream is charged what AWS reported until then."""
    doc, keys = tenant_doc({"daily_usd": 100})
    n = limits_gateway(nginx_factory, mock, tmp_path, [doc], redis)
    for _ in range(3):
        assert titan(n.port, keys[0]).status == 200
    # the first event says 14 input tokens; the client leaves after it
    conn, r = h.open_request(n.port, "POST", TITAN_PATH, [
        ("Content-Type", "application/json"),
        ("X-Mock-Synthetic", "titan-stream"), ("X-Mock-Chunking", "events"),
        ("X-Mock-Hold", "cut")], titan_body(), api_key=keys[0], timeout=10)
    try:
        assert r.status == 200
        assert r.read1(65536)
    finally:
        conn.sock.shutdown(2)
        conn.close()
    time.sleep(0.2)
    mock.release("cut")
    want = 3 * 75 * NANO + 14 * NANO
    wait_spend(redis, want)
    deadline = time.monotonic() + 10
    while limits_settled(redis) != want:
        assert time.monotonic() < deadline, (limits_settled(redis), want)
        time.sleep(0.1)


@pytest.mark.parametrize("default,status", [(2000, 429), (500, 200)])
def test_default_max_tokens(nginx_factory, mock, tmp_path, redis, default,
                            status):
    """A request that names no max tokens reserves default_max_tokens."""
    doc, keys = tenant_doc({"tpm": 1000})
    n = limits_gateway(nginx_factory, mock, tmp_path, [doc], redis,
                       limits_line="aigw_limits default_max_tokens=%d;"
                       % default)
    body = b'{"inputText": "Tell me a two sentence story"}'
    r = h.http_request(n.port, "POST", TITAN_PATH,
                       [("Content-Type", "application/json"),
                        ("X-Mock-Synthetic", "titan-stream")], body,
                       api_key=keys[0])
    if status == 429:
        refused(r, "the request may use up to %d tokens, more than the "
                   "token limit of 1000 per minute" % (len(body) + default))
    else:
        assert r.status == 200, r


@pytest.mark.skipif(h.VALGRIND, reason="reload needs a master process")
def test_reload_applies_new_limits(nginx_factory, mock, tmp_path, redis):
    doc, keys = tenant_doc({"rpm": 2})
    n = limits_gateway(nginx_factory, mock, tmp_path, [doc], redis)
    assert [send(n.port, keys[0]).status for _ in range(2)] == [200, 200]
    refused(send(n.port, keys[0]), "rate limit of 2 requests")
    doc["limits"] = {"rpm": 4}
    h.write_tenants(tmp_path / "gw" / "tenants.json", h.tenants_doc(doc))
    n.reload()
    # the window keeps the two admitted: two more now, then refused
    assert [send(n.port, keys[0]).status for _ in range(2)] == [200, 200]
    refused(send(n.port, keys[0]), "rate limit of 4 requests")


@pytest.mark.skipif(h.VALGRIND, reason="needs worker processes")
def test_a_dead_workers_reservations_are_released(nginx_factory, mock,
                                                  tmp_path, redis):
    """A worker killed while its streams run never settles them: their
    reservations are released once it is gone, not left to refuse."""
    doc, keys = tenant_doc({"daily_usd": "0.25"})
    n = limits_gateway(nginx_factory, mock, tmp_path, [doc], redis)
    pool = concurrent.futures.ThreadPoolExecutor(2)
    held = [pool.submit(titan, n.port, keys[0], "dead", timeout=15)
            for _ in range(2)]
    deadline = time.monotonic() + 10
    while len(mock.requests()) < 2:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    # 0.2 of 0.25 reserved: a third does not fit
    refused(titan(n.port, keys[0]), "daily budget of 0.25 USD reached")
    victim = next(iter(n.worker_pids()))
    n.allow.append(r"worker process %d exited on signal 9" % victim)
    os.kill(victim, signal.SIGKILL)
    for f in held:
        try:
            f.result()
        except Exception:
            pass
    mock.release("dead")
    pool.shutdown()
    # the new worker releases the dead one's reservations
    deadline = time.monotonic() + 10
    while True:
        r = titan(n.port, keys[0])
        if r.status == 200:
            break
        refused(r, "daily budget")
        assert time.monotonic() < deadline, "never released"
        time.sleep(0.2)
    assert "the reservations of the worker %d, gone, are released" \
        % victim in n.read_error_log()


def claim_args(inst, ver, now, lease, used, settled, need, limit):
    """The limits script's arguments: one tenant, a daily budget."""
    day = time.strftime("%Y-%m-%d", time.gmtime(now / 1000))
    month = day[:7]
    return ["aigw", inst, ver, now, 60000, day, month, 1000, 100000,
            "2026-01-01T00:00:00Z", 1,
            "t", "", lease, -1, -1, limit, -1,
            used, settled, used, settled, "",
            1, 0, need, 0, 0, 0, 0]


def test_a_silent_gateways_reservations_lapse(redis):
    """In Redis: the reservations of a gateway that stopped renewing its
    lease count until lease and grace pass; its settled spend stays."""
    script = (h.REPO / "src" / "lua" / "aigw_limits.lua").read_text()
    sha = redis.call("SCRIPT", "LOAD", script)
    sha = sha.decode() if isinstance(sha, bytes) else sha
    now = int(time.time() * 1000)
    key = "aigw:limits:t"
    # gateway A: 30 settled, 50 more reserved by running requests
    redis.call("EVALSHA", sha, 1, key,
               *claim_args("aaaa", 1, now, 5000, 80, 30, 0, 100))
    # B, now: 100 - 80 leaves 20; 25 does not fit, 20 does
    out = redis.call("EVALSHA", sha, 1, key,
                     *claim_args("bbbb", 1, now, 5000, 0, 0, 25, 100))
    assert out[0][0] == 3, out
    out = redis.call("EVALSHA", sha, 1, key,
                     *claim_args("bbbb", 2, now, 5000, 0, 0, 20, 100))
    assert out[0][0] == 0 and out[0][4] == 20, out
    # 66 s on, A silent: only its settled 30 counts; 70 fits, 71 not
    later = now + 66000
    out = redis.call("EVALSHA", sha, 1, key,
                     *claim_args("bbbb", 3, later, 5000, 0, 0, 71, 100))
    assert out[0][0] == 3, out
    out = redis.call("EVALSHA", sha, 1, key,
                     *claim_args("bbbb", 4, later, 5000, 0, 0, 70, 100))
    assert out[0][0] == 0 and out[0][4] == 70, out
    # an older version of B's claim changes nothing
    out = redis.call("EVALSHA", sha, 1, key,
                     *claim_args("bbbb", 4, later, 5000, 0, 0, 1, 100))
    assert out == [5], out

"""
aigw_metrics: the Prometheus text exposition (0.0.4), parsed by
prometheus_client's parser: values equal to the requests sent (counts by
status class, tokens, cost, histograms), two workers summed, kept across
a reload, label values escaped, the series bounded (the overflow series
"_other" and aigw_metrics_folded_total), the Redis gauges, and the
directive's checks.
"""

import json
import time
import urllib.parse

import pytest

import helpers as h
import redisd

parser = pytest.importorskip(
    "prometheus_client.parser",
    reason="python3-prometheus-client not installed (make deps installs it)")

EXAMPLE = h.REPO / "conf-examples" / "aigw_metrics.conf"

TITAN = "amazon.titan-text-express-v1"
LLAMA = "meta.llama3-8b-instruct-v1:0"

# 0.001 USD per 1K tokens: 1000 nano-USD a token
PRICING = {"currency": "USD", "models": {
    TITAN: {"input_per_1k": "0.001", "output_per_1k": "0.002"},
    "meta.llama3-*": {"input_per_1k": "0.0005", "output_per_1k": "0.001"},
}}
NANO = {TITAN: (1000, 2000), LLAMA: (500, 1000)}

TOKEN_TYPES = {"input_tokens": "input", "output_tokens": "output",
               "cache_read_input_tokens": "cache_read",
               "cache_write_input_tokens": "cache_write"}

# the synthetic cases whose model is the path's and whose answer is 200
CASES = ("invoke-titan", "invoke-llama", "titan-stream", "anthropic-stream",
         "converse-stream", "invoke-anthropic-cache-write",
         "invoke-anthropic-cache-read", "sm-openai-json", "sm-openai-stream")


def metrics_gateway(nginx_factory, mock, tmp_path, max_series=None,
                    workers=1, http_extra="", tenants=h.DEFAULT):
    pricing = tmp_path / "pricing.json"
    pricing.write_text(json.dumps(PRICING))
    port = h.free_port()
    if max_series is None:
        # the shipped snippet, as it is
        server = "include %s;" % EXAMPLE
    else:
        server = """
        location = /metrics {
            aigw_metrics max_series=%d;
            allow 127.0.0.1;
            deny all;
        }""" % max_series
    conf = h.aigw_http(mock.url, tenants=tenants,
                       extra="aigw_pricing %s;\n%s" % (pricing, http_extra))
    conf += h.gateway_server(
        port, listen_extra=" reuseport",
        location_extra="add_header X-Worker $pid always;",
        server_extra=server)
    n = nginx_factory(conf, [port],
                      main_extra="worker_processes %d;" % workers)
    n.allow.append(r"no price for")
    return n


def scrape(port):
    """{name: family} of the exposition, strictly parsed; the response."""
    r = h.http_request(port, "GET", "/metrics", api_key=None)
    assert r.status == 200, r
    assert r.header("Content-Type") == \
        "text/plain; version=0.0.4; charset=utf-8", r
    text = r.body.decode("utf-8")
    fams = {f.name: f for f in parser.text_string_to_metric_families(text)}
    return fams, text


def settled(port, check, timeout=10):
    """The exposition once "check" passes on it: a request's log phase,
    where it is counted, runs just after its response is sent, so a scrape
    on another connection (another worker) may come first."""
    deadline = time.monotonic() + timeout
    while True:
        fams, text = scrape(port)
        try:
            check(fams)
            return fams, text
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def seen(requests):
    """A check of settled(): that many requests counted."""
    def check(fams):
        assert total(fams, "aigw_requests", "aigw_requests_total") == \
            requests
    return check


def samples(fams, family, name=None):
    """[(labels, value)] of one family's samples named "name"."""
    name = name or family
    f = fams.get(family)
    if f is None:
        return []
    return [(s.labels, s.value) for s in f.samples if s.name == name]


def total(fams, family, name=None, **match):
    return sum(v for labels, v in samples(fams, family, name)
               if all(labels.get(k) == w for k, w in match.items()))


def key(labels, *names):
    return tuple(labels.get(n) for n in names)


def by(fams, family, name, *names):
    """{(label values...): value} of one family's samples."""
    out = {}
    for labels, v in samples(fams, family, name):
        k = key(labels, *names)
        assert k not in out, "a label set twice: %r" % (labels,)
        out[k] = v
    return out


class Expect:
    """What the metrics must say of the requests sent."""

    def __init__(self):
        self.requests = {}      # (tenant, model, operation, class): n
        self.tokens = {}        # (tenant, model, type): n
        self.cost = {}          # model: nano-USD
        self.metered = {}       # (model, operation): [usage...]
        self.streamed = {}      # (model, operation): n with a first event

    def add(self, model, op, status, usage=None, metered=True,
            tenant=h.DEFAULT_TENANT, streamed=False):
        k = (tenant, model, op, "%dxx" % (status // 100))
        self.requests[k] = self.requests.get(k, 0) + 1
        usage = usage or dict.fromkeys(TOKEN_TYPES, 0)
        for f, t in TOKEN_TYPES.items():
            k = (tenant, model, t)
            self.tokens[k] = self.tokens.get(k, 0) + usage[f]
        price = NANO.get(model, (0, 0))
        self.cost[model] = self.cost.get(model, 0) + \
            usage["input_tokens"] * price[0] + \
            usage["output_tokens"] * price[1]
        if metered:
            self.metered.setdefault((model, op), []).append(usage)
        if streamed:
            k = (model, op)
            self.streamed[k] = self.streamed.get(k, 0) + 1

    def send_case(self, port, name):
        c = h.synthetic_case(name)
        r = c.send(port)
        assert r.status == c.status == 200, (name, r)
        self.add(c.model, c.operation, r.status, c.usage,
                 streamed=c.streaming)
        return r

    def check(self, fams):
        got = by(fams, "aigw_requests", "aigw_requests_total",
                 "tenant", "model", "operation", "status")
        assert got == self.requests
        got = by(fams, "aigw_tokens", "aigw_tokens_total",
                 "tenant", "model", "type")
        assert got == self.tokens
        got = by(fams, "aigw_cost_usd", "aigw_cost_usd_total", "model")
        assert set(got) == {(m,) for m in self.cost}
        for m, nano in self.cost.items():
            assert got[(m,)] == pytest.approx(nano / 1e9, abs=1e-12), m
        self.check_histograms(fams)

    def check_histograms(self, fams):
        want = {k: len(v) for k, v in self.metered.items()}
        for fam in ("aigw_upstream_duration_seconds",
                    "aigw_time_to_first_token_seconds"):
            counts = {}
            for k, v in check_buckets(fams, fam, "model", "operation"):
                counts[k] = v
            if fam == "aigw_upstream_duration_seconds":
                assert counts == want
            else:
                assert counts == self.streamed
        fam = "gen_ai_client_operation_duration_seconds"
        counts = dict(check_buckets(fams, fam, "gen_ai_request_model",
                                    "gen_ai_operation_name"))
        assert counts == want
        fam = "gen_ai_client_token_usage"
        sums = by(fams, fam, fam + "_sum", "gen_ai_request_model",
                  "gen_ai_operation_name", "gen_ai_token_type")
        counts = dict(check_buckets(fams, fam, "gen_ai_request_model",
                                    "gen_ai_operation_name",
                                    "gen_ai_token_type"))
        for (model, op), usages in self.metered.items():
            for f, t in (("input_tokens", "input"),
                         ("output_tokens", "output")):
                assert counts.pop((model, op, t)) == len(usages)
                assert sums[(model, op, t)] == sum(u[f] for u in usages)
        assert not counts
        for labels, v in samples(fams, fam, fam + "_bucket"):
            system = "aws.sagemaker" \
                if labels["gen_ai_operation_name"].startswith("invocations") \
                else "aws.bedrock"
            if labels["gen_ai_request_model"] == "_other":
                system = "_other"
            assert labels["gen_ai_system"] == system, labels


def check_buckets(fams, fam, *names):
    """The histograms of a family are whole and consistent: buckets
    rising to +Inf, which is _count; yields (label values, count)."""
    buckets = {}
    for labels, v in samples(fams, fam, fam + "_bucket"):
        k = key(labels, *names)
        buckets.setdefault(k, []).append((float(labels["le"]), v))
    counts = by(fams, fam, fam + "_count", *names)
    sums = by(fams, fam, fam + "_sum", *names)
    assert set(buckets) == set(counts) == set(sums), fam
    for k, bs in buckets.items():
        les = [le for le, _ in bs]
        assert les == sorted(les) and les[-1] == float("inf"), (fam, k)
        vals = [v for _, v in bs]
        assert vals == sorted(vals), (fam, k, vals)
        assert vals[-1] == counts[k] > 0, (fam, k)
        assert sums[k] >= 0, (fam, k)
        yield k, counts[k]


def send_errors(port, e):
    """AWS's errors (5xx, a throttle, a model AWS does not know) and the
    gateway's own refusals of a known tenant."""
    path = "/model/%s/invoke" % TITAN
    body = b'{"inputText": "hi"}'
    for status in (500, 503, 429):
        r = h.post(port, path, body, [("X-Mock-Status", str(status))])
        assert r.status == status, r
        e.add(TITAN, "invoke", status)
    # an invalid model for AWS: counted under one "_invalid" model
    r = h.post(port, path, body, [("X-Mock-Status", "400")])
    assert r.status == 400, r
    e.add("_invalid", "invoke", 400)
    # the gateway refuses a malformed model ID: no model, no upstream
    r = h.post(port, "/model/a%22b%5Cc%0Ad/invoke", body)
    assert r.status == 400, r
    e.add("_none", "invoke", 400, metered=False)


def test_values_equal_requests_sent(nginx_factory, mock, tmp_path):
    """
    Every counter and histogram equals what was sent, summed over two
    workers (each one answered some requests, and any one answers the
    scrape with the same text).
    """
    n = metrics_gateway(nginx_factory, mock, tmp_path, workers=2)
    e = Expect()
    workers = set()
    for i in range(40):
        for name in CASES:
            r = e.send_case(n.port, name)
            workers.add(r.header("X-Worker"))
        if i >= 2 and len(workers) == 2:
            break
    assert len(workers) == 2, "one worker answered every request"
    send_errors(n.port, e)

    settled(n.port, e.check)
    texts = set()
    for _ in range(8):
        fams, text = scrape(n.port)
        e.check(fams)
        texts.add(text)
    assert len(texts) == 1
    # the hostile model ID never became a label (it is not one: the
    # escaping of label values is t/unit/test_util.c's)
    assert 'a"b' not in text and "a\\" not in text
    assert total(fams, "aigw_metrics_folded", "aigw_metrics_folded_total") == 0


def test_scrape_only_get_and_head(nginx_factory, mock, tmp_path):
    n = metrics_gateway(nginx_factory, mock, tmp_path)
    r = h.http_request(n.port, "HEAD", "/metrics", api_key=None)
    assert r.status == 200 and r.body == b"", r
    r = h.http_request(n.port, "POST", "/metrics", body=b"x", api_key=None)
    assert r.status == 405, r
    fams, _ = scrape(n.port)
    # no request yet: the families are there, without samples
    assert samples(fams, "aigw_requests", "aigw_requests_total") == []
    assert total(fams, "aigw_metrics_series") == 2
    assert total(fams, "aigw_metrics_series_max") == 1002


def test_example_denies_other_networks(nginx_factory, mock, tmp_path):
    """The shipped snippet answers the internal networks only: a client
    address outside them (set by the realip module from a trusted
    header, as a public client's would be) gets 403."""
    port = h.free_port()
    conf = h.aigw_http(mock.url) + """
    server {
        listen 127.0.0.1:%d;
        set_real_ip_from 127.0.0.1;
        real_ip_header X-Real-IP;
        include %s;
    }""" % (port, EXAMPLE)
    n = nginx_factory(conf, [port])
    for addr, status in (("203.0.113.9", 403), ("8.8.8.8", 403),
                         ("10.1.2.3", 200), ("192.168.1.1", 200),
                         ("127.0.0.1", 200)):
        r = h.http_request(port, "GET", "/metrics", [("X-Real-IP", addr)],
                           api_key=None)
        assert r.status == status, (addr, r)


def test_kept_across_reload(nginx_factory, mock, tmp_path):
    n = metrics_gateway(nginx_factory, mock, tmp_path, workers=2)
    e = Expect()
    for name in CASES:
        e.send_case(n.port, name)
    settled(n.port, e.check)
    rc, out = n.reload()
    assert rc == 0, out
    after, _ = scrape(n.port)
    e.check(after)
    e.send_case(n.port, "invoke-titan")
    send_errors(n.port, e)
    settled(n.port, e.check)


def test_series_bounded(nginx_factory, mock, tmp_path):
    """
    max_series=4: the first two requests take four series (tenant and
    model, histograms' model and operation); a new label set past that
    is folded into "_other" and counted in aigw_metrics_folded_total,
    while the series already there go on.
    """
    n = metrics_gateway(nginx_factory, mock, tmp_path, max_series=4)
    e = Expect()
    e.send_case(n.port, "invoke-titan")
    e.send_case(n.port, "invoke-llama")
    other = Expect()
    folded = 0
    for model in ("amazon.titan-text-lite-v1", "amazon.titan-tg1-large",
                  "amazon.titan-text-premier-v1:0"):
        c = h.synthetic_case("invoke-titan")
        r = h.post(n.port, "/model/%s/invoke" % urllib.parse.quote(model),
                   c.body, c.headers)
        assert r.status == 200, r
        other.add("_other", "_other", 200, c.usage, tenant="_other")
        folded += 2
    # a known model, a new operation: only its histograms fold
    c = h.synthetic_case("titan-stream")
    r = c.send(n.port)
    assert r.status == 200, r
    folded += 1
    e.add(TITAN, "invoke-with-response-stream", 200, c.usage,
          metered=False)
    other.metered[("_other", "_other")].append(c.usage)
    other.streamed[("_other", "_other")] = 1
    e.send_case(n.port, "invoke-titan")

    fams, _ = settled(n.port, seen(7))
    assert total(fams, "aigw_metrics_series") == 6
    assert total(fams, "aigw_metrics_series_max") == 6
    assert total(fams, "aigw_metrics_folded", "aigw_metrics_folded_total") == folded

    requests = by(fams, "aigw_requests", "aigw_requests_total",
                  "tenant", "model", "operation", "status")
    assert requests == {
        (h.DEFAULT_TENANT, TITAN, "invoke", "2xx"): 2,
        (h.DEFAULT_TENANT, TITAN, "invoke-with-response-stream", "2xx"): 1,
        (h.DEFAULT_TENANT, LLAMA, "invoke", "2xx"): 1,
        ("_other", "_other", "invoke", "2xx"): 3}
    tokens = by(fams, "aigw_tokens", "aigw_tokens_total",
                "tenant", "model", "type")
    for k, v in other.tokens.items():
        assert tokens[k] == v, k
    e.metered.update(other.metered)
    e.streamed.update(other.streamed)
    e.check_histograms(fams)


def test_tenant_named_other(nginx_factory, mock, tmp_path):
    """A tenant named "_other" (a model cannot be: model IDs begin with a
    letter or a digit) counts as itself, and past the bound in the
    overflow series, never in two series of the same labels."""
    kid = "kother"
    key, sha = h.make_key(kid)
    tenants = h.write_tenants(tmp_path / "tenants.json", h.tenants_doc(
        {"id": "_other", "keys": [{"id": kid, "sha256": sha}],
         "models": ["*"]}))
    n = metrics_gateway(nginx_factory, mock, tmp_path, max_series=2,
                        tenants=tenants)
    c = h.synthetic_case("invoke-titan")
    for model, status in ((TITAN, 200), (LLAMA, 200), ("_other", 400)):
        r = h.post(n.port, "/model/%s/invoke" % model, c.body,
                   c.headers + [("x-api-key", key)])
        assert r.status == status, r
    fams, _ = settled(n.port, seen(3))
    requests = by(fams, "aigw_requests", "aigw_requests_total",
                  "tenant", "model", "operation", "status")
    assert requests == {("_other", TITAN, "invoke", "2xx"): 1,
                        ("_other", "_other", "invoke", "2xx"): 1,
                        ("_other", "_other", "invoke", "4xx"): 1}
    by(fams, "aigw_tokens", "aigw_tokens_total", "tenant", "model", "type")
    assert total(fams, "aigw_metrics_series") == 4


def test_redis_gauges(nginx_factory, mock, tmp_path, redis):
    """aigw_redis_up follows Redis; usage waits in the queue while it is
    away, and leaves it when it is back."""
    n = metrics_gateway(nginx_factory, mock, tmp_path, http_extra=(
        "aigw_redis %s journal=%s;" % (redis.address, tmp_path / "j")))

    def wait(cond, timeout=20):
        deadline = time.monotonic() + timeout
        while True:
            fams, _ = scrape(n.port)
            if cond(fams) or time.monotonic() > deadline:
                return fams
            time.sleep(0.1)

    def gauges(fams):
        return (total(fams, "aigw_redis_up"),
                total(fams, "aigw_queue_records"),
                total(fams, "aigw_journal_records"))

    fams = wait(lambda f: gauges(f)[0] == 1)
    assert gauges(fams) == (1, 0, 0)
    e = Expect()
    for name in CASES:
        e.send_case(n.port, name)
    fams = wait(lambda f: gauges(f) == (1, 0, 0))
    assert gauges(fams) == (1, 0, 0)
    settled(n.port, e.check)

    n.allow += [r"redis", r"Connection refused", r"usage"]
    redis.stop()
    fams = wait(lambda f: gauges(f)[0] == 0)
    assert gauges(fams)[0] == 0
    for name in CASES:
        e.send_case(n.port, name)
    fams = wait(lambda f: gauges(f) == (0, len(CASES), 0))
    assert gauges(fams) == (0, len(CASES), 0)
    settled(n.port, e.check)
    redis.start()
    fams = wait(lambda f: gauges(f) == (1, 0, 0), timeout=30)
    assert gauges(fams) == (1, 0, 0)


@pytest.mark.parametrize("args,message", [
    ("max_series=0", "invalid max_series"),
    ("max_series=abc", "invalid max_series"),
    ("max_series=1000001", "invalid max_series"),
    ("size=1m", "invalid parameter"),
])
def test_directive_errors(nginx_t, args, message):
    rc, out = nginx_t(h.aigw_http("http://127.0.0.1:9") + """
    server { listen 127.0.0.1:9; location /m { aigw_metrics %s; } }
    """ % args)
    assert rc != 0 and message in out and "[emerg]" in out, out


def test_one_zone_for_every_location(nginx_t):
    rc, out = nginx_t(h.aigw_http("http://127.0.0.1:9") + """
    server { listen 127.0.0.1:9;
             location /a { aigw_metrics max_series=10; }
             location /b { aigw_metrics max_series=10; } }
    """)
    assert rc == 0, out
    rc, out = nginx_t(h.aigw_http("http://127.0.0.1:9") + """
    server { listen 127.0.0.1:9;
             location /a { aigw_metrics max_series=10; }
             location /b { aigw_metrics; } }
    """)
    assert rc != 0 and "max_series differs" in out, out

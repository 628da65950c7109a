"""
Limits and budgets (aigw_limits): rpm and tpm over a sliding minute, daily
and monthly budgets in USD reserved before forwarding and settled to the
bill; per tenant and per key; across workers and across two nginx sharing
one Redis; alerts once per threshold and period; Redis away with either
policy; the limits' metrics.
"""

import concurrent.futures
import json
import re
import time

import pytest

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

"""
The AWS request headers a tenant sends (issue 9, defect 3): those that
pick another resource or a price are authorized like the model, the
harmless ones pass, any other X-Amzn-Bedrock-* / X-Amzn-SageMaker-*
header is refused.  Allowed: the header reaches the upstream as sent.
Refused: 403 AccessDeniedException (400 ValidationException for a value
or header the gateway does not know), and nothing reaches the upstream.

- SageMaker's Target-Model, Target-Variant, Target-Container-Hostname and
  Inference-Component: the tenant's "models" must allow
  "ENDPOINT/model/NAME", ".../variant/NAME", ".../container/NAME",
  ".../component/NAME" (ENDPOINT as asked: the name or an alias);
- Bedrock's GuardrailIdentifier: "guardrail/ID-OR-ARN" in "models";
- Bedrock's Service-Tier: "default" always, the others when the tenant's
  "service_tiers" lists them; PerformanceConfig-Latency "optimized" when
  "latency_optimized" is true; such a request counts under the model
  prefixed with "TIER:" and/or "optimized:", which the pricing file
  prices.
"""

import json
import uuid

import pytest

import helpers as h
import redisd

BODY = b'{"messages":[{"role":"user","content":[{"text":"hi"}]}]}'
SM_BODY = b'{"inputs": "hi"}'
HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
CONVERSE = "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse"
INVOKE = "/model/anthropic.claude-3-haiku-20240307-v1%3A0/invoke"
SM = "/endpoints/my-endpoint/invocations"
SM_STREAM = "/endpoints/my-endpoint/invocations-response-stream"
SM_ALIAS = "/model/sm-alias/invoke"
GR_ARN = "arn:aws:bedrock:us-east-1:123456789012:guardrail/allowed1"

KEYS = {kid: h.make_key(kid) for kid in ("ksm", "kplain", "ktier", "kall")}
KEY = {kid: k for kid, (k, _) in KEYS.items()}


def keys_of(kid):
    return [{"id": kid, "sha256": KEYS[kid][1]}]


TENANTS = h.tenants_doc(
    {"id": "sm", "keys": keys_of("ksm"),
     "models": ["my-endpoint", "my-endpoint/variant/variant-a",
                "my-endpoint/model/models/a.tar.gz",
                "my-endpoint/container/c1",
                "my-endpoint/component/ic-a",
                "sm-alias", "sm-alias/component/ic-z*",
                "anthropic.*", "guardrail/gr-allowed",
                "guardrail/arn:aws:bedrock:*:guardrail/allowed*"]},
    {"id": "plain", "keys": keys_of("kplain"),
     "models": ["my-endpoint", "sm-alias", "anthropic.*"]},
    {"id": "tiers", "keys": keys_of("ktier"), "models": ["anthropic.*"],
     "service_tiers": ["flex", "default"], "latency_optimized": True},
    {"id": "all", "keys": keys_of("kall"), "models": ["*"]},
)

CATALOG = "aigw_model sm-alias sagemaker my-endpoint;"


@pytest.fixture(scope="module")
def tenants_file(tmp_path_factory):
    return h.write_tenants(tmp_path_factory.mktemp("tenants-hdrs") /
                           "tenants.json", TENANTS)


@pytest.fixture(scope="module")
def shared_gateway(launcher, mock_server, tenants_file):
    port = h.free_port()
    conf = h.aigw_http(mock_server.url, tenants=tenants_file,
                       extra=CATALOG) + h.gateway_server(port)
    n = launcher.new(conf, [port])
    yield n
    from conftest import stop_and_check
    problems = stop_and_check(n)
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


def post(gw, path, kid, headers=()):
    body = BODY if path.startswith("/model/anthropic") else SM_BODY
    return h.post(gw.port, path, body, list(headers) + [
        ("x-api-key", KEY[kid]), ("Content-Type", "application/json")])


def upstream(mock):
    recs = mock.requests()
    assert len(recs) == 1, [(r["method"], r["path"]) for r in recs]
    assert recs[0]["sig_ok"], recs[0]["sig_error"]
    return recs[0]


def assert_refused(r, mock, status, error_type):
    assert r.status == status, r
    assert r.header("Content-Type", "").startswith("application/json"), r
    assert r.header("x-amzn-ErrorType", "").split(":")[0] == error_type, r
    assert isinstance(r.json()["message"], str)
    assert mock.requests() == []


def assert_passed(r, mock, name, value):
    assert r.status == 200, r
    assert h.header_all(upstream(mock)["headers"], name) == [value]


# --- SageMaker: the endpoint's models, variants, containers, components ----

SM_ALLOWED = [
    ("ksm", SM, "X-Amzn-SageMaker-Target-Variant", "variant-a"),
    ("ksm", SM, "X-Amzn-SageMaker-Target-Model", "models/a.tar.gz"),
    ("ksm", SM, "X-Amzn-SageMaker-Target-Container-Hostname", "c1"),
    ("ksm", SM, "X-Amzn-SageMaker-Inference-Component", "ic-a"),
    ("ksm", SM_STREAM, "X-Amzn-SageMaker-Target-Variant", "variant-a"),
    ("ksm", SM_STREAM, "X-Amzn-SageMaker-Inference-Component", "ic-a"),
    # through the alias: the alias's name, with its own globs
    ("ksm", SM_ALIAS, "X-Amzn-SageMaker-Inference-Component", "ic-zz"),
    # "*" allows every resource
    ("kall", SM, "X-Amzn-SageMaker-Target-Model", "any/model.tar.gz"),
    ("kall", SM, "X-Amzn-SageMaker-Inference-Component", "ic-any"),
]


@pytest.mark.parametrize("kid,path,name,value", SM_ALLOWED)
def test_sagemaker_target_allowed(gw, mock, kid, path, name, value):
    r = post(gw, path, kid, [(name, value)])
    assert_passed(r, mock, name, value)


SM_DENIED = [
    # another variant, model, container or component of an allowed endpoint
    ("ksm", SM, "X-Amzn-SageMaker-Target-Variant", "variant-b"),
    ("ksm", SM, "X-Amzn-SageMaker-Target-Model", "models/b.tar.gz"),
    ("ksm", SM, "X-Amzn-SageMaker-Target-Container-Hostname", "c2"),
    ("ksm", SM, "X-Amzn-SageMaker-Inference-Component", "ic-b"),
    ("ksm", SM_STREAM, "X-Amzn-SageMaker-Inference-Component", "ic-b"),
    # the kinds do not stand for each other
    ("ksm", SM, "X-Amzn-SageMaker-Target-Variant", "ic-a"),
    ("ksm", SM, "X-Amzn-SageMaker-Inference-Component", "variant-a"),
    # the alias's globs are not the endpoint's, nor the other way round
    ("ksm", SM, "X-Amzn-SageMaker-Inference-Component", "ic-zz"),
    ("ksm", SM_ALIAS, "X-Amzn-SageMaker-Inference-Component", "ic-a"),
    # allowed "my-endpoint", not "my-endpoint/*": none of these headers
    ("kplain", SM, "X-Amzn-SageMaker-Target-Variant", "variant-a"),
    ("kplain", SM, "X-Amzn-SageMaker-Target-Model", "models/a.tar.gz"),
    ("kplain", SM, "X-Amzn-SageMaker-Target-Container-Hostname", "c1"),
    ("kplain", SM, "X-Amzn-SageMaker-Inference-Component", "ic-a"),
    ("kplain", SM_ALIAS, "X-Amzn-SageMaker-Inference-Component", "ic-a"),
    # a path trick in the value does not leave the endpoint's namespace
    ("ksm", SM, "X-Amzn-SageMaker-Inference-Component", "../ic-a"),
]


@pytest.mark.parametrize("kid,path,name,value", SM_DENIED)
def test_sagemaker_target_denied_403(gw, mock, kid, path, name, value):
    r = post(gw, path, kid, [(name, value)])
    assert_refused(r, mock, 403, "AccessDeniedException")


def test_sagemaker_every_occurrence_checked(gw, mock):
    """A second header of the same name is checked too."""
    name = "X-Amzn-SageMaker-Inference-Component"
    r = post(gw, SM, "ksm", [(name, "ic-a"), (name.lower(), "ic-b")])
    assert_refused(r, mock, 403, "AccessDeniedException")


# --- Bedrock guardrails -------------------------------------------------------

@pytest.mark.parametrize("kid,value", [
    ("ksm", "gr-allowed"), ("ksm", GR_ARN), ("kall", "anything1"),
    # "" is no guardrail
    ("kplain", ""),
])
def test_guardrail_allowed(gw, mock, kid, value):
    name = "X-Amzn-Bedrock-GuardrailIdentifier"
    r = post(gw, CONVERSE, kid, [(name, value),
                                 ("X-Amzn-Bedrock-GuardrailVersion", "1")])
    assert_passed(r, mock, name, value)


@pytest.mark.parametrize("kid,value", [
    ("ksm", "gr-other"), ("ksm", GR_ARN.replace("allowed1", "other1")),
    ("kplain", "gr-allowed"), ("ktier", "gr-allowed"),
])
def test_guardrail_denied_403(gw, mock, kid, value):
    r = post(gw, INVOKE, kid, [("X-Amzn-Bedrock-GuardrailIdentifier", value),
                               ("X-Amzn-Bedrock-GuardrailVersion", "DRAFT")])
    assert_refused(r, mock, 403, "AccessDeniedException")


# --- Bedrock service tiers and latency ----------------------------------------

@pytest.mark.parametrize("kid,name,value", [
    ("ktier", "X-Amzn-Bedrock-Service-Tier", "flex"),
    ("ktier", "X-Amzn-Bedrock-Service-Tier", "default"),
    ("kplain", "X-Amzn-Bedrock-Service-Tier", "default"),
    ("ktier", "X-Amzn-Bedrock-PerformanceConfig-Latency", "optimized"),
    ("ktier", "X-Amzn-Bedrock-PerformanceConfig-Latency", "standard"),
    ("kall", "X-Amzn-Bedrock-PerformanceConfig-Latency", "standard"),
])
def test_tier_latency_allowed(gw, mock, kid, name, value):
    r = post(gw, INVOKE, kid, [(name, value)])
    assert_passed(r, mock, name, value)


@pytest.mark.parametrize("kid,name,value", [
    # only the default tier unless listed; "*" models do not change that
    ("kall", "X-Amzn-Bedrock-Service-Tier", "priority"),
    ("kall", "X-Amzn-Bedrock-Service-Tier", "flex"),
    ("kplain", "X-Amzn-Bedrock-Service-Tier", "reserved"),
    ("ktier", "X-Amzn-Bedrock-Service-Tier", "priority"),
    ("kall", "X-Amzn-Bedrock-PerformanceConfig-Latency", "optimized"),
    ("kplain", "X-Amzn-Bedrock-PerformanceConfig-Latency", "optimized"),
])
def test_tier_latency_denied_403(gw, mock, kid, name, value):
    r = post(gw, CONVERSE, kid, [(name, value)])
    assert_refused(r, mock, 403, "AccessDeniedException")


@pytest.mark.parametrize("headers", [
    [("X-Amzn-Bedrock-Service-Tier", "gold")],
    [("X-Amzn-Bedrock-Service-Tier", "Priority")],
    [("X-Amzn-Bedrock-Service-Tier", "")],
    [("X-Amzn-Bedrock-Service-Tier", "flex"),
     ("X-Amzn-Bedrock-Service-Tier", "default")],
    [("X-Amzn-Bedrock-PerformanceConfig-Latency", "fast")],
    [("X-Amzn-Bedrock-PerformanceConfig-Latency", "standard"),
     ("X-Amzn-Bedrock-PerformanceConfig-Latency", "optimized")],
])
def test_tier_latency_malformed_400(gw, mock, headers):
    r = post(gw, CONVERSE, "ktier", headers)
    assert_refused(r, mock, 400, "ValidationException")


def test_tier_name_too_long_400(gw, mock):
    """
    A model ID near the 2048-byte limit cannot be counted with a tier
    prefix: 400 with the tier, 200 without it.
    """
    path = "/model/anthropic.%s/invoke" % ("x" * (2048 - 10))
    r = post(gw, path, "ktier", [("X-Amzn-Bedrock-Service-Tier", "flex")])
    assert_refused(r, mock, 400, "ValidationException")
    r = h.post(gw.port, path, BODY, [("x-api-key", KEY["ktier"])])
    assert r.status == 200, r


# --- Converse: the tier and latency in the body ------------------------------

CONVERSE_STREAM = CONVERSE + "-stream"


def converse_body(**opts):
    body = {"messages": [{"role": "user", "content": [{"text": "hi"}]}]}
    if "tier" in opts:
        body["serviceTier"] = {"type": opts["tier"]}
    if "latency" in opts:
        body["performanceConfig"] = {"latency": opts["latency"]}
    return json.dumps(body).encode()


def post_body(gw, path, kid, body, headers=()):
    return h.post(gw.port, path, body, list(headers) + [
        ("x-api-key", KEY[kid]), ("Content-Type", "application/json")])


@pytest.mark.parametrize("path", [CONVERSE, CONVERSE_STREAM])
@pytest.mark.parametrize("kid,opts,headers", [
    ("ktier", {"tier": "flex"}, []),
    ("ktier", {"tier": "default"}, []),
    ("kall", {"tier": "default", "latency": "standard"}, []),
    ("ktier", {"latency": "optimized"}, []),
    ("ktier", {"tier": "flex"}, [("X-Amzn-Bedrock-Service-Tier", "flex")]),
])
def test_converse_body_options_allowed(gw, mock, path, kid, opts, headers):
    body = converse_body(**opts)
    r = post_body(gw, path, kid, body, headers)
    assert r.status == 200, r
    assert upstream(mock)["body_sha256"] == h.sha256_hex(body)


@pytest.mark.parametrize("path", [CONVERSE, CONVERSE_STREAM])
@pytest.mark.parametrize("kid,opts", [
    ("kall", {"tier": "priority"}),
    ("kall", {"tier": "flex"}),
    ("ktier", {"tier": "priority"}),
    ("kplain", {"tier": "reserved"}),
    ("kall", {"latency": "optimized"}),
])
def test_converse_body_options_denied_403(gw, mock, path, kid, opts):
    r = post_body(gw, path, kid, converse_body(**opts))
    assert_refused(r, mock, 403, "AccessDeniedException")


@pytest.mark.parametrize("body,headers", [
    (converse_body(tier="gold"), []),
    (converse_body(tier=1), []),
    (converse_body(latency="fast"), []),
    # a header and the body that disagree
    (converse_body(tier="default"), [("X-Amzn-Bedrock-Service-Tier",
                                      "flex")]),
    (converse_body(latency="standard"),
     [("X-Amzn-Bedrock-PerformanceConfig-Latency", "optimized")]),
    # the key twice, two tiers
    (b'{"messages":[],"serviceTier":{"type":"flex"},'
     b'"serviceTier":{"type":"priority"}}', []),
    # not one JSON object: what follows could not be read
    (b'{"messages": [', []),
    (b'{"messages": []}{"serviceTier":{"type":"priority"}}', []),
])
def test_converse_body_options_malformed_400(gw, mock, body, headers):
    r = post_body(gw, CONVERSE, "ktier", body, headers)
    assert_refused(r, mock, 400, "ValidationException")


# --- what passes, what is refused ---------------------------------------------

PASSED = [
    (CONVERSE, "X-Amzn-Bedrock-Trace", "ENABLED_FULL"),
    (CONVERSE, "X-Amzn-Bedrock-Request-Metadata", '{"team":"x"}'),
    (CONVERSE, "X-Amzn-Bedrock-GuardrailVersion", "3"),
    (INVOKE, "X-Amzn-Bedrock-Accept", "application/json"),
    (SM, "X-Amzn-SageMaker-Custom-Attributes", "a=b"),
    (SM, "X-Amzn-SageMaker-Inference-Id", "id-1"),
    (SM, "X-Amzn-SageMaker-Enable-Explanations", "`true`"),
    (SM, "X-Amzn-SageMaker-Session-Id", "NEW_SESSION"),
    (SM_STREAM, "X-Amzn-SageMaker-Accept", "application/json"),
    (SM, "X-Amzn-Trace-Id", "Root=1-5759e988-bd862e3fe1be46a994272793"),
]


@pytest.mark.parametrize("path,name,value", PASSED)
def test_harmless_headers_pass(gw, mock, path, name, value):
    r = post(gw, path, "kplain", [(name, value)])
    assert_passed(r, mock, name, value)


@pytest.mark.parametrize("path,name", [
    (CONVERSE, "X-Amzn-Bedrock-Something-New"),
    (CONVERSE, "X-Amzn-Bedrock-Content-Type"),
    (SM, "X-Amzn-SageMaker-InputLocation"),
    (SM, "X-Amzn-SageMaker-Target-Something"),
    (SM, "x-amzn-sagemaker-requestttlseconds"),
])
def test_unknown_aws_headers_400(gw, mock, path, name):
    r = post(gw, path, "kall", [(name, "x")])
    assert_refused(r, mock, 400, "ValidationException")


# --- the price of a tier ------------------------------------------------------

PRICING = {"currency": "USD", "models": {
    "anthropic.claude-3-haiku-*": {"input_per_1k": "0.001",
                                   "output_per_1k": "0.001"},
    "flex:anthropic.claude-3-haiku-*": {"input_per_1k": "0.0005",
                                        "output_per_1k": "0.0005"},
}}


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory):
    r = redisd.RedisServer(tmp_path_factory.mktemp("redis-hdrs"), unix=True)
    r.start()
    yield r
    r.stop()


def test_tier_counted_under_its_own_model(nginx_factory, mock, tmp_path,
                                          tenants_file, redis_server):
    """
    A flex request counts under "flex:MODEL", a latency-optimized one
    under "optimized:MODEL", both under "flex:optimized:MODEL"; the
    pricing file prices "flex:..." (an unpriced prefix costs nothing, as
    any unpriced model); the default tier counts under the model.
    """
    redis_server.flush()
    pricing = tmp_path / "pricing.json"
    pricing.write_text(json.dumps(PRICING))
    port = h.free_port()
    conf = h.aigw_http(mock.url, tenants=tenants_file, extra=(
        "aigw_pricing %s;\naigw_redis %s journal=%s;"
        % (pricing, redis_server.address, tmp_path / "journal")))
    n = nginx_factory(conf + h.gateway_server(port), [port])
    n.allow.append(r"no price for")
    sends = [
        [],
        [("X-Amzn-Bedrock-Service-Tier", "default")],
        [("X-Amzn-Bedrock-Service-Tier", "flex")],
        [("X-Amzn-Bedrock-PerformanceConfig-Latency", "optimized")],
        [("X-Amzn-Bedrock-Service-Tier", "flex"),
         ("X-Amzn-Bedrock-PerformanceConfig-Latency", "optimized")],
    ]
    for extra in sends:
        r = h.post(n.port, INVOKE, BODY, extra + [
            ("x-api-key", KEY["ktier"]), ("X-Test-Id", uuid.uuid4().hex)])
        assert r.status == 200, r
    # Converse with the options in its body: the same names
    for opts in ({"tier": "flex"}, {"tier": "flex", "latency": "optimized"}):
        r = h.post(n.port, CONVERSE, converse_body(**opts),
                   [("x-api-key", KEY["ktier"])])
        assert r.status == 200, r

    want = {HAIKU: 2, "flex:" + HAIKU: 2, "optimized:" + HAIKU: 1,
            "flex:optimized:" + HAIKU: 2}

    def done(u):
        got = {}
        for (_, tenant, model), f in u.items():
            assert tenant == "tiers"
            got[model] = got.get(model, 0) + f.get("requests", 0)
        return got == want

    usage = redis_server.wait_stable(done, timeout=20)
    assert done(usage), usage
    fields = {m: f for (_, _, m), f in usage.items()}
    # 0.001 USD per 1K tokens: 1000 nano-dollars a token; flex half that
    for model, price in ((HAIKU, 1000), ("flex:" + HAIKU, 500),
                         ("optimized:" + HAIKU, 0)):
        f = fields[model]
        tokens = f["input_tokens"] + f["output_tokens"]
        assert tokens > 0, usage
        assert f.get("cost_nanousd", 0) == tokens * price, usage

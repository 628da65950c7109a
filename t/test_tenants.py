"""
Tenants and API keys in the access phase, against one gateway with its
own tenants file: 401 for no key or a bad one (nothing reaches AWS), the
key in x-api-key or as a Bearer token, model access by the tenant's globs
(ID, ARN or alias, as asked), aliases to Bedrock and to SageMaker (with
their regions), the tenant's inference profile as the signed upstream
target, the seed-style /invoke?model_id= route, the tenant variables in
the access log, and, last, a scan of every log for key material.
"""

import json
import re
import uuid

import pytest

import helpers as h

BODY = b'{"messages":[{"role":"user","content":[{"text":"hi"}]}]}'
HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
HAIKU_WIRE = "anthropic.claude-3-haiku-20240307-v1%3A0"
NOVA = "amazon.nova-lite-v1:0"
NOVA_WIRE = "amazon.nova-lite-v1%3A0"
LLAMA = "meta.llama3-8b-instruct-v1:0"
LLAMA_WIRE = "meta.llama3-8b-instruct-v1%3A0"
XR_ARN = ("arn:aws:bedrock:us-east-1:123456789012:inference-profile/"
          "us.anthropic.claude-3-haiku-20240307-v1:0")
OTHER_ARN = ("arn:aws:bedrock:us-east-1:123456789012:inference-profile/"
             "us.meta.llama3-2-1b-instruct-v1:0")
PROFILE_ARN = ("arn:aws:bedrock:us-east-1:123456789012:"
               "application-inference-profile/abcd1234")
PROFILE_ARN2 = ("arn:aws:bedrock:us-east-1:123456789012:"
                "application-inference-profile/llama5678")


def wire(model_id):
    """A model ID or ARN as the SDKs put it in the path."""
    return model_id.replace(":", "%3A").replace("/", "%2F")


# --- the tenants and their keys ----------------------------------------------

KEYS = {kid: h.make_key(kid) for kid in ("ka1", "ka2", "kb1", "kc1",
                                         "kc-2")}
KEY = {kid: k for kid, (k, _) in KEYS.items()}

# keys that were never valid: they must not appear in the logs either
WRONG_SECRET = "aigw_ka1_" + h.make_key("x")[0].split("_", 2)[2]
UNKNOWN_ID = h.make_key("nosuchkey")[0]
NEVER_VALID = [WRONG_SECRET, UNKNOWN_ID]


def keys_of(*kids):
    return [{"id": kid, "sha256": KEYS[kid][1]} for kid in kids]


TENANTS = h.tenants_doc(
    {"id": "team-a", "project": "support-bot", "department": "sales",
     "keys": keys_of("ka1", "ka2"),
     "models": ["anthropic.claude-3-haiku-*", "amazon.nova-*", "my-llama",
                "my-sm", "arn:aws:bedrock:*:inference-profile/us.anthropic.*"],
     "inference_profiles": {HAIKU: PROFILE_ARN, "my-llama": PROFILE_ARN2},
     "limits": {"rpm": 600, "tpm": 200000, "daily_usd": 50,
                "monthly_usd": 1000, "alert_at": [0.5, 0.8, 1.0]}},
    {"id": "team-b", "project": "nothing-allowed", "department": "it",
     "keys": keys_of("kb1"), "models": []},
    {"id": "team-c", "keys": keys_of("kc1", "kc-2"), "models": ["*"]},
)

CATALOG = """
aigw_model my-llama bedrock %(llama)s;
aigw_model my-sm sagemaker my-llm-endpoint;
aigw_model my-sm-eu sagemaker eu-endpoint region=eu-west-1;
aigw_model haiku-eu bedrock %(haiku)s region=eu-central-1;
aigw_model titan-alias bedrock amazon.titan-text-express-v1;
aigw_model tgi sagemaker tgi-endpoint usage=tgi;
""" % dict(llama=LLAMA, haiku=HAIKU)


@pytest.fixture(scope="module")
def tenants_file(tmp_path_factory):
    return h.write_tenants(tmp_path_factory.mktemp("tenants-t") /
                           "tenants.json", TENANTS)


@pytest.fixture(scope="module")
def shared_gateway(launcher, mock_server, tenants_file):
    """The gateway of this module: its own tenants and catalog; a second
    error log at debug level, for the scan at the end."""
    port = h.free_port()
    conf = h.aigw_http(mock_server.url, tenants=tenants_file,
                       extra=CATALOG) + h.gateway_server(port)
    n = launcher.new(conf, [port], main_extra="error_log debug.log debug;")
    yield n
    from conftest import stop_and_check
    problems = stop_and_check(n)
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


def post(gw, path, key, headers=(), body=BODY):
    """
    A request with the given key in x-api-key (None: no key at all).  The
    response's test_id finds its access log entry (entry()).
    """
    test_id = uuid.uuid4().hex
    headers = list(headers) + [("X-Test-Id", test_id)]
    if key is None:
        r = h.post(gw.port, path, body, headers, api_key=None)
    else:
        r = h.post(gw.port, path, body, headers + [("x-api-key", key)])
    r.test_id = test_id
    return r


def entry(gw, r):
    return gw.wait_entry(r.test_id)


def one(mock):
    recs = mock.requests()
    assert len(recs) == 1, [(r["method"], r["path"]) for r in recs]
    rec = recs[0]
    assert rec["sig_ok"], "%s\n%s" % (rec["sig_error"],
                                      rec["canonical_request"])
    return rec


def assert_error(r, status, error_type):
    assert r.status == status, r
    assert r.header("Content-Type", "").startswith("application/json"), r
    assert r.header("x-amzn-ErrorType", "").split(":")[0] == error_type, r
    msg = r.json()["message"]
    assert isinstance(msg, str) and msg
    return msg


# --- 401 ------------------------------------------------------------------------

GATEWAY_PATHS = ["/model/%s/converse" % NOVA_WIRE,
                 "/endpoints/my-llm-endpoint/invocations",
                 "/invoke?model_id=%s" % NOVA]


@pytest.mark.parametrize("path", GATEWAY_PATHS)
def test_no_key_401(gw, mock, path):
    r = post(gw, path, None, [("Content-Type", "application/json")])
    assert_error(r, 401, "UnrecognizedClientException")
    assert mock.requests() == []


def malformed_keys():
    good = KEY["kc1"]
    secret = good.split("_", 2)[2]
    return [
        pytest.param("aigw_kc1", id="no-secret"),
        pytest.param("aigw_kc1_", id="empty-secret"),
        pytest.param("kc1_" + secret, id="no-prefix"),
        pytest.param("AIGW_kc1_" + secret, id="upper-prefix"),
        pytest.param("aigw__" + secret, id="empty-id"),
        pytest.param("aigw_k@1_" + secret, id="bad-id-char"),
        pytest.param("aigw_%s_%s" % ("k" * 65, secret), id="id-too-long"),
        pytest.param(good[:-1], id="secret-42"),
        pytest.param(good + "A", id="secret-44"),
        pytest.param(good[:-1] + "=", id="secret-padding"),
        pytest.param(good[:-1] + "+", id="secret-not-url-safe"),
        pytest.param("garbage", id="garbage"),
    ]


@pytest.mark.parametrize("key", malformed_keys())
def test_malformed_key_401(gw, mock, key):
    r = post(gw, "/model/%s/converse" % NOVA_WIRE, key)
    msg = assert_error(r, 401, "UnrecognizedClientException")
    assert key not in msg
    assert mock.requests() == []


@pytest.mark.parametrize("key", [
    pytest.param(WRONG_SECRET, id="wrong-secret"),
    pytest.param(UNKNOWN_ID, id="unknown-key-id"),
    pytest.param(KEY["kc1"][:-1] + ("A" if KEY["kc1"][-1] != "A" else "B"),
                 id="last-char-changed"),
])
@pytest.mark.parametrize("form", ["x-api-key", "bearer"])
def test_wrong_key_401(gw, mock, key, form):
    if form == "bearer":
        r = h.post(gw.port, "/model/%s/converse" % NOVA_WIRE, BODY,
                   [("Authorization", "Bearer " + key)])
    else:
        r = post(gw, "/model/%s/converse" % NOVA_WIRE, key)
    msg = assert_error(r, 401, "UnrecognizedClientException")
    assert key not in msg and key.split("_", 2)[2] not in msg
    assert mock.requests() == []


@pytest.mark.parametrize("auth", [
    pytest.param("Bearer ", id="bearer-empty"),
    pytest.param("Basic dXNlcjpwYXNz", id="basic"),
    pytest.param("AWS4-HMAC-SHA256 Credential=AKIACLIENT00000000000/20200101/"
                 "us-east-1/bedrock/aws4_request, SignedHeaders=host;"
                 "x-amz-date, Signature=" + "0" * 64, id="sigv4-only"),
])
def test_authorization_without_key_401(gw, mock, auth):
    """An Authorization that is not a Bearer key (an SDK's SigV4 without
    x-api-key) authenticates nobody."""
    r = h.post(gw.port, "/model/%s/converse" % NOVA_WIRE, BODY,
               [("Authorization", auth)], api_key=None)
    assert_error(r, 401, "UnrecognizedClientException")
    assert mock.requests() == []


def test_401_before_anything_else(gw, mock):
    """A bad key is refused before the path is even looked at."""
    r = post(gw, "/no/such/path", None)
    assert_error(r, 401, "UnrecognizedClientException")
    r = post(gw, "/model/..%2Fx/invoke", WRONG_SECRET)
    assert_error(r, 401, "UnrecognizedClientException")
    assert mock.requests() == []


# --- the key's forms --------------------------------------------------------------

@pytest.mark.parametrize("auth", ["Bearer %s", "bearer %s", "Bearer   %s  "])
def test_bearer_key(gw, mock, auth):
    r = post(gw, "/model/%s/converse" % NOVA_WIRE, None,
             [("Authorization", auth % KEY["kc-2"])])
    assert r.status == 200, r
    rec = one(mock)
    assert rec["path"] == "/model/%s/converse" % NOVA_WIRE
    assert h.header_get(rec["headers"], "authorization").startswith(
        "AWS4-HMAC-SHA256 Credential=%s/" % h.AKID)
    assert KEY["kc-2"].split("_", 2)[2] not in json.dumps(rec["headers"])
    e = entry(gw, r)
    assert (e["aigw_tenant"], e["aigw_key_id"]) == ("team-c", "kc-2")
    assert e["http_authorization"] == ""


def test_x_api_key_and_another_bearer_conflict(gw, mock):
    """Both, different: which tenant it is would be a guess, whichever
    comes first: 401 (test_hostile_client.py has the other mixes)."""
    for headers in ([("x-api-key", KEY["kc1"]),
                     ("Authorization", "Bearer " + WRONG_SECRET)],
                    [("x-api-key", WRONG_SECRET),
                     ("Authorization", "Bearer " + KEY["kc1"])]):
        r = h.post(gw.port, "/model/%s/converse" % NOVA_WIRE, BODY,
                   headers)
        assert_error(r, 401, "UnrecognizedClientException")
        assert r.json()["message"].startswith("conflicting API keys"), r
    assert mock.requests() == []


def test_sdk_sigv4_and_x_api_key(gw, mock):
    """The SageMaker SDK case: its own SigV4 Authorization plus the key in
    x-api-key; the key authenticates, neither reaches the upstream."""
    path = "/endpoints/my-llm-endpoint/invocations"
    sdk = h.sign_headers("POST", "127.0.0.1:%d" % gw.port, path, BODY,
                         "AKIACLIENTSDK0000000", "client/secret",
                         service="sagemaker")
    r = post(gw, path, KEY["kc1"], [(k, v) for k, v in sdk if k != "host"])
    assert r.status == 200, r
    rec = one(mock)
    assert rec["service"] == "sagemaker"
    dumped = json.dumps(rec["headers"])
    assert "AKIACLIENTSDK" not in dumped
    assert KEY["kc1"].split("_", 2)[2] not in dumped
    assert h.header_all(rec["headers"], "x-api-key") == []


# --- model access ---------------------------------------------------------------

ALLOWED_A = [
    # (requested path, upstream path)
    pytest.param("/model/%s/converse" % NOVA_WIRE,
                 "/model/%s/converse" % NOVA_WIRE, id="id-glob"),
    pytest.param("/model/amazon.nova-pro-v1%3A0/invoke",
                 "/model/amazon.nova-pro-v1%3A0/invoke", id="id-glob-2"),
    pytest.param("/model/%s/converse-stream" % wire(XR_ARN),
                 "/model/%s/converse-stream" % wire(XR_ARN), id="arn-glob"),
    pytest.param("/model/my-sm/invoke",
                 "/endpoints/my-llm-endpoint/invocations", id="sm-alias"),
]


@pytest.mark.parametrize("path,upstream", ALLOWED_A)
def test_model_allowed(gw, mock, path, upstream):
    r = post(gw, path, KEY["ka1"])
    assert r.status == 200, r
    assert one(mock)["path"] == upstream


DENIED = [
    # (key id, path)
    pytest.param("ka1", "/model/us.%s/converse" % HAIKU_WIRE,
                 id="a-cross-region-id-not-listed"),
    pytest.param("ka1", "/model/amazon.titan-text-express-v1/invoke",
                 id="a-other-model"),
    pytest.param("ka2", "/model/%s/converse" % LLAMA_WIRE,
                 id="a-alias-target-asked-directly"),
    pytest.param("ka1", "/model/titan-alias/invoke", id="a-alias-not-listed"),
    pytest.param("ka1", "/model/%s/converse" % wire(OTHER_ARN),
                 id="a-arn-not-matching"),
    pytest.param("ka1", "/model/%s/converse" % wire(
        XR_ARN.replace("us-east-1", "eu-west-1").replace("us.", "eu.")),
        id="a-arn-other-prefix"),
    pytest.param("ka1", "/endpoints/my-llm-endpoint/invocations",
                 id="a-endpoint-by-name-not-listed"),
    pytest.param("ka1", "/model/my-sm-eu/invoke", id="a-sm-alias-not-listed"),
    pytest.param("ka1", "/invoke?model_id=amazon.titan-text-express-v1",
                 id="a-route-other-model"),
    pytest.param("ka1", "/invoke?model_id=tgi&stream=true",
                 id="a-route-alias-not-listed"),
    pytest.param("kb1", "/model/%s/converse" % NOVA_WIRE,
                 id="b-empty-models"),
    pytest.param("kb1", "/endpoints/my-llm-endpoint/invocations",
                 id="b-empty-models-sm"),
    pytest.param("kb1", "/invoke?model_id=my-sm", id="b-empty-models-route"),
]


@pytest.mark.parametrize("kid,path", DENIED)
def test_model_denied_403(gw, mock, kid, path):
    r = post(gw, path, KEY[kid])
    assert_error(r, 403, "AccessDeniedException")
    assert mock.requests() == []


# --- aliases ----------------------------------------------------------------------

ALIASES = [
    # (path, service, upstream path, region, $aigw_operation, $aigw_model)
    pytest.param("/model/my-llama/converse", "bedrock",
                 "/model/%s/converse" % LLAMA_WIRE, h.REGION, "Converse",
                 LLAMA, id="bedrock-converse"),
    pytest.param("/model/my-llama/invoke-with-response-stream", "bedrock",
                 "/model/%s/invoke-with-response-stream" % LLAMA_WIRE,
                 h.REGION, "InvokeModelWithResponseStream", LLAMA,
                 id="bedrock-stream"),
    pytest.param("/model/haiku-eu/converse", "bedrock",
                 "/model/%s/converse" % HAIKU_WIRE, "eu-central-1",
                 "Converse", HAIKU, id="bedrock-region"),
    pytest.param("/model/my-sm/invoke", "sagemaker",
                 "/endpoints/my-llm-endpoint/invocations", h.REGION,
                 "InvokeEndpoint", "my-llm-endpoint", id="sagemaker"),
    pytest.param("/model/my-sm/invoke-with-response-stream", "sagemaker",
                 "/endpoints/my-llm-endpoint/invocations-response-stream",
                 h.REGION, "InvokeEndpointWithResponseStream",
                 "my-llm-endpoint", id="sagemaker-stream"),
    pytest.param("/model/my-sm-eu/invoke", "sagemaker",
                 "/endpoints/eu-endpoint/invocations", "eu-west-1",
                 "InvokeEndpoint", "eu-endpoint", id="sagemaker-region"),
]


@pytest.mark.parametrize("path,service,upstream,region,op,model", ALIASES)
def test_alias(gw, mock, path, service, upstream, region, op, model):
    r = post(gw, path, KEY["kc1"])
    assert r.status == 200, r
    rec = one(mock)
    assert (rec["service"], rec["route_service"]) == (service, service)
    assert rec["path"] == upstream
    assert rec["region"] == region
    # aigw_endpoint is set: used as is, whatever the alias's region
    assert rec["host"] == "127.0.0.1:%d" % mock.port
    e = entry(gw, r)
    assert (e["aigw_service"], e["aigw_operation"], e["aigw_model"]) == (
        service, op, model)
    assert e["aigw_upstream_url"] == "http://127.0.0.1:%d%s" % (mock.port,
                                                                upstream)


def test_alias_region_default_endpoint(nginx_factory, mock_tls, certs,
                                       tenants_file, tmp_path):
    """
    region=R signs for R and goes to R's default endpoint, unless
    aigw_endpoint is set for that service (then used as is).  Here only
    Bedrock's is set (a VPC endpoint).  The hosts are upstream blocks on
    the TLS mock, so the real "proxy_pass $aigw_upstream_url" is what is tested
    (certificate verification off: the test certificate is not AWS's).
    """
    sm_hosts = ["runtime.sagemaker.eu-west-1.amazonaws.com",
                "runtime.sagemaker.%s.amazonaws.com" % h.REGION]
    params = tmp_path / "aigw_params"
    params.write_text(h.AIGW_PARAMS.read_text().replace(
        "proxy_ssl_verify on;", "proxy_ssl_verify off;"))
    bedrock = h.VPCE_HOST
    port = h.free_port()
    conf = h.aigw_http(None, tenants=tenants_file, extra=CATALOG +
                       "aigw_endpoint bedrock https://%s;\n" % bedrock)
    for host in sm_hosts + [bedrock]:
        conf += "upstream %s { server 127.0.0.1:%d; }\n" % (host,
                                                          mock_tls.port)
    conf += h.gateway_server(port, params=params)
    n = nginx_factory(conf, [port])
    cases = [
        # (request, service, Host, region, upstream path)
        ("/model/my-sm-eu/invoke", "sagemaker", sm_hosts[0], "eu-west-1",
         "/endpoints/eu-endpoint/invocations"),
        ("/invoke?model_id=my-sm-eu&stream=true", "sagemaker", sm_hosts[0],
         "eu-west-1", "/endpoints/eu-endpoint/invocations-response-stream"),
        ("/model/my-sm/invoke", "sagemaker", sm_hosts[1], h.REGION,
         "/endpoints/my-llm-endpoint/invocations"),
        ("/endpoints/other-endpoint/invocations", "sagemaker", sm_hosts[1],
         h.REGION, "/endpoints/other-endpoint/invocations"),
        ("/model/haiku-eu/converse", "bedrock", bedrock, "eu-central-1",
         "/model/%s/converse" % HAIKU_WIRE),
        ("/model/%s/converse" % HAIKU_WIRE, "bedrock", bedrock, h.REGION,
         "/model/%s/converse" % HAIKU_WIRE),
    ]
    for i, (path, service, host, region, upstream) in enumerate(cases):
        mock_tls.reset()
        r = post(n, path, KEY["kc1"])
        assert r.status == 200, (path, r)
        rec = one(mock_tls)
        assert (rec["host"], rec["region"], rec["service"], rec["path"]) == \
            (host, region, service, upstream), path
        assert rec["tls_sni"] == host
        e = entry(n, r)
        assert e["aigw_upstream"] == host
        assert e["aigw_upstream_url"] == "https://%s%s" % (host, upstream)


def test_converse_on_sagemaker_alias_400(gw, mock):
    for path in ("/model/my-sm/converse", "/model/my-sm/converse-stream",
                 "/model/my-sm/count-tokens"):
        r = post(gw, path, KEY["kc1"])
        assert_error(r, 400, "ValidationException")
    assert mock.requests() == []


# --- inference profiles -----------------------------------------------------------

PROFILES = [
    # (key id, requested path, upstream path, $aigw_model)
    pytest.param("ka1", "/model/%s/converse" % HAIKU_WIRE,
                 "/model/%s/converse" % wire(PROFILE_ARN), PROFILE_ARN,
                 id="model-id"),
    pytest.param("ka2", "/model/%s/invoke-with-response-stream" % HAIKU_WIRE,
                 "/model/%s/invoke-with-response-stream" % wire(PROFILE_ARN),
                 PROFILE_ARN, id="model-id-stream"),
    pytest.param("ka1", "/model/my-llama/invoke",
                 "/model/%s/invoke" % wire(PROFILE_ARN2), PROFILE_ARN2,
                 id="alias"),
    pytest.param("ka1", "/invoke?model_id=%s" % HAIKU,
                 "/model/%s/invoke" % wire(PROFILE_ARN), PROFILE_ARN,
                 id="seed-route"),
    pytest.param("ka1", "/invoke?model_id=%s&stream=true" % HAIKU_WIRE,
                 "/model/%s/invoke-with-response-stream" % wire(PROFILE_ARN),
                 PROFILE_ARN, id="seed-route-stream"),
]


@pytest.mark.parametrize("kid,path,upstream,arn", PROFILES)
def test_inference_profile_rewrite(gw, mock, kid, path, upstream, arn):
    r = post(gw, path, KEY[kid])
    assert r.status == 200, r
    rec = one(mock)
    assert rec["path"] == upstream
    assert upstream.startswith("/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A"
                               "123456789012%3Aapplication-inference-profile"
                               "%2F")
    assert (rec["service"], rec["route_service"]) == ("bedrock", "bedrock")
    assert rec["region"] == h.REGION
    # botocore's canonical URI encodes the wire path once more
    assert rec["canonical_request"].split("\n")[1] == \
        upstream.replace("%", "%25")
    e = entry(gw, r)
    assert e["aigw_model"] == arn
    assert e["aigw_service"] == "bedrock"
    assert e["aigw_upstream_url"] == "http://127.0.0.1:%d%s" % (mock.port,
                                                                upstream)


def test_inference_profile_is_per_tenant(gw, mock):
    """team-c has no profile: its haiku request goes to the model."""
    r = post(gw, "/model/%s/converse" % HAIKU_WIRE, KEY["kc1"])
    assert r.status == 200, r
    assert one(mock)["path"] == "/model/%s/converse" % HAIKU_WIRE


# --- the seed-style route ---------------------------------------------------------

ROUTE = [
    # (query, service, upstream path)
    pytest.param("model_id=%s" % NOVA, "bedrock",
                 "/model/%s/invoke" % NOVA_WIRE, id="bedrock"),
    pytest.param("model_id=%s&stream=true" % NOVA, "bedrock",
                 "/model/%s/invoke-with-response-stream" % NOVA_WIRE,
                 id="bedrock-stream"),
    pytest.param("stream=true&model_id=%s" % NOVA_WIRE, "bedrock",
                 "/model/%s/invoke-with-response-stream" % NOVA_WIRE,
                 id="bedrock-stream-encoded"),
    pytest.param("model_id=%s&stream=false" % NOVA, "bedrock",
                 "/model/%s/invoke" % NOVA_WIRE, id="bedrock-stream-false"),
    pytest.param("model_id=%s" % wire(XR_ARN), "bedrock",
                 "/model/%s/invoke" % wire(XR_ARN), id="bedrock-arn"),
    pytest.param("model_id=us.%s" % HAIKU, "bedrock",
                 "/model/us.%s/invoke" % HAIKU_WIRE, id="bedrock-profile"),
    pytest.param("model_id=my-llama", "bedrock",
                 "/model/%s/invoke" % LLAMA_WIRE, id="bedrock-alias"),
    pytest.param("model_id=my-llama&stream=true", "bedrock",
                 "/model/%s/invoke-with-response-stream" % LLAMA_WIRE,
                 id="bedrock-alias-stream"),
    pytest.param("model_id=my-sm", "sagemaker",
                 "/endpoints/my-llm-endpoint/invocations",
                 id="sagemaker-alias"),
    pytest.param("model_id=my-sm&stream=true", "sagemaker",
                 "/endpoints/my-llm-endpoint/invocations-response-stream",
                 id="sagemaker-alias-stream"),
    pytest.param("model_id=my-llm-endpoint", "sagemaker",
                 "/endpoints/my-llm-endpoint/invocations",
                 id="sagemaker-endpoint"),
    pytest.param("model_id=tgi-endpoint&stream=true", "sagemaker",
                 "/endpoints/tgi-endpoint/invocations-response-stream",
                 id="sagemaker-endpoint-stream"),
]


@pytest.mark.parametrize("query,service,upstream", ROUTE)
def test_seed_route(gw, mock, query, service, upstream):
    r = post(gw, "/invoke?" + query, KEY["kc1"],
             [("Content-Type", "application/json")])
    assert r.status == 200, r
    streaming = upstream.endswith("-stream")
    assert (r.header("Content-Type") ==
            "application/vnd.amazon.eventstream") == streaming, r
    rec = one(mock)
    assert (rec["service"], rec["route_service"]) == (service, service)
    assert rec["path"] == upstream
    assert rec["query"] == ""
    assert rec["body_sha256"] == h.sha256_hex(BODY)


@pytest.mark.parametrize("name", ["no-such-model", "unlisted-endpoint",
                                  "my%2Dsm%2Dx", "MY-SM"])
def test_seed_route_unknown_404(gw, mock, name):
    r = post(gw, "/invoke?model_id=%s" % name, KEY["kc1"])
    msg = assert_error(r, 404, "ResourceNotFoundException")
    assert "unknown model or alias" in msg
    assert mock.requests() == []


# --- the tenant variables -----------------------------------------------------------

@pytest.mark.parametrize("kid,tenant,project,department", [
    ("ka1", "team-a", "support-bot", "sales"),
    ("ka2", "team-a", "support-bot", "sales"),
    ("kc1", "team-c", "", ""),
])
def test_tenant_variables_logged(gw, mock, kid, tenant, project, department):
    r = post(gw, "/model/%s/converse" % NOVA_WIRE, KEY[kid])
    assert r.status == 200, r
    e = entry(gw, r)
    assert (e["aigw_tenant"], e["aigw_project"], e["aigw_department"],
            e["aigw_key_id"]) == (tenant, project, department, kid)
    assert e["http_x_api_key"] == "" and e["http_authorization"] == ""


def test_tenant_variables_on_403(gw, mock):
    """A refused model still names the tenant (who was refused)."""
    r = post(gw, "/model/%s/converse" % NOVA_WIRE, KEY["kb1"])
    assert r.status == 403
    e = entry(gw, r)
    assert e["status"] == "403"
    assert (e["aigw_tenant"], e["aigw_project"], e["aigw_department"],
            e["aigw_key_id"]) == ("team-b", "nothing-allowed", "it", "kb1")


def test_tenant_variables_empty_on_401(gw, mock):
    r = post(gw, "/model/%s/converse" % NOVA_WIRE, WRONG_SECRET)
    assert r.status == 401
    e = entry(gw, r)
    assert e["status"] == "401"
    assert (e["aigw_tenant"], e["aigw_project"], e["aigw_department"],
            e["aigw_key_id"]) == ("", "", "", "")
    assert e["http_x_api_key"] == ""


# --- requests nginx refuses before the access phase --------------------------------

EARLY = [
    # (id, extra headers, status): nginx answers these itself, before the
    # access phase, after it has read the x-api-key header
    pytest.param([("Content-Length", str(25 * 1024 * 1024 + 1))], 413,
                 id="413-content-length"),
    pytest.param([("Host", "localhost"), ("Host", "localhost")], 400,
                 id="400-duplicate-host"),
]


@pytest.mark.parametrize("form", ["x-api-key", "bearer"])
@pytest.mark.parametrize("extra,status", EARLY)
def test_key_not_logged_when_refused_before_access(gw, mock, extra, status,
                                                   form):
    gw.allow = [r"client intended to send too large body"]
    key = h.make_key("early")[0]         # not in all_keys(): the scan at
    test_id = uuid.uuid4().hex           # the end stays about the rest
    auth = [("x-api-key", key)] if form == "x-api-key" else [
        ("Authorization", "Bearer " + key)]
    conn, r = h.open_request(gw.port, "POST", "/model/%s/converse" % NOVA_WIRE,
                             auth + [("X-Test-Id", test_id)] + extra, b"")
    try:
        r.read()
        assert r.status == status
    finally:
        conn.close()
    assert mock.requests() == []
    e = gw.wait_entry(test_id)
    assert e["status"] == str(status)
    assert (e["http_x_api_key"], e["http_authorization"]) == ("", ""), \
        "the key is in the access log"


# --- last: no key material in any log ---------------------------------------------

def all_keys():
    """Every key this module sent: valid, wrong and malformed."""
    malformed = [p.values[0] for p in malformed_keys()]
    return [k for k, _ in KEYS.values()] + NEVER_VALID + [
        k for k in malformed if len(k) >= 20]


h.register_keys(*all_keys())


def test_zz_no_key_material_in_logs(gw, mock):
    """
    After everything above (valid keys in both forms, wrong and malformed
    keys, 401s, 403s, 404s): no key, secret or key hash in error.log
    (info), debug.log (debug) or access.log, whose format has $request,
    $http_authorization, $http_x_api_key and the $aigw_* variables.  Key
    ids are public and do appear.
    """
    # one more of each, so that this test stands alone too
    for key, status in ((KEY["ka1"], 200), (KEY["kb1"], 403),
                        (WRONG_SECRET, 401), (UNKNOWN_ID, 401)):
        assert post(gw, "/model/%s/converse" % NOVA_WIRE, key).status == \
            status
    assert h.post(gw.port, "/invoke?model_id=my-sm", BODY,
                  [("Authorization", "Bearer " + KEY["kc-2"])]).status == 200
    r = post(gw, "/model/%s/converse" % NOVA_WIRE, KEY["kc1"])
    assert r.status == 200
    entry(gw, r)        # the access log has all that came before

    material = h.key_material(all_keys())
    access = gw.read_file("access.log")
    error = gw.read_error_log()
    debug = gw.read_file("debug.log")
    assert "aigw" in access and "team-a" in access
    # the logs are what they should be: the key ids, the module's debug
    # lines, the 401 reasons
    assert '"aigw_key_id":"ka1"' in access
    assert re.search(r"\[info\].*aigw: invalid API key", error), error[-2000:]
    assert re.search(r"\[info\].*aigw: unknown API key", error), error[-2000:]
    assert re.search(r"\[info\].*aigw: malformed API key", error), \
        error[-2000:]
    debug_build = "[debug]" in debug        # nginx built --with-debug
    if debug_build:
        assert re.search(r'\[debug\].*aigw tenant "team-a" key "ka1"',
                         debug), "no module debug line in debug.log"

    problems = []
    for name, text in (("access.log", access), ("error.log", error)):
        problems += ["%s: %s" % (name, f)
                     for f in h.find_key_material(text, material)]
    # nginx's own HTTP core dumps every request header at debug level
    # ('http header: "x-api-key: ..."'), before any module runs: that is
    # nginx's, not the module's, and is reported apart
    core = [line for line in debug.splitlines()
            if h.CORE_HEADER_DUMP_RE.search(line)]
    module = "\n".join(line for line in debug.splitlines()
                       if not h.CORE_HEADER_DUMP_RE.search(line))
    if debug_build:
        # the scan is sharp: it does see the keys in nginx's own dump
        assert h.find_key_material("\n".join(core), material)
    problems += ["debug.log: %s" % f
                 for f in h.find_key_material(module, material)]
    assert not problems, "key material in the logs:\n  " + \
        "\n  ".join(problems[:30])

"""
The $aigw_* variables (as logged) and the default AWS hosts.
"""

import pytest

import helpers as h

HAIKU_WIRE = "anthropic.claude-3-haiku-20240307-v1%3A0"
HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
BODY = b'{"messages":[{"role":"user","content":[{"text":"hi"}]}]}'
ARN = ("arn:aws:bedrock:us-east-1:123456789012:inference-profile/"
       "us.anthropic.claude-3-haiku-20240307-v1:0")
ARN_WIRE = ARN.replace(":", "%3A").replace("/", "%2F")


def last_entry(n, count):
    entries = n.wait_access(count)
    assert len(entries) >= count, entries
    return entries[count - 1]


def test_variables_logged(gw, mock):
    path = "/model/%s/converse" % HAIKU_WIRE
    count = len(gw.access_entries()) + 1
    r = h.post(gw.port, path, BODY, [("Content-Type", "application/json")])
    assert r.status == 200, r
    [rec] = mock.requests()
    e = last_entry(gw, count)
    assert e["request_uri"] == path
    assert e["aigw_service"] == "bedrock"
    assert e["aigw_operation"] == "Converse"
    assert e["aigw_model"] == HAIKU
    assert e["aigw_upstream"] == "127.0.0.1:%d" % mock.port
    assert e["aigw_upstream_url"] == "http://127.0.0.1:%d%s" % (mock.port,
                                                                path)
    auth = h.header_get(rec["headers"], "authorization")
    assert e["aigw_authorization"] == auth
    assert e["aigw_amz_date"] == h.header_get(rec["headers"], "x-amz-date")
    assert e["aigw_content_sha256"] == h.sha256_hex(BODY)
    assert e["aigw_security_token"] == ""


@pytest.mark.parametrize("path,service,op,model", [
    ("/model/%s/invoke-with-response-stream" % ARN_WIRE, "bedrock",
     "InvokeModelWithResponseStream", ARN),
    ("/model/us.amazon.nova-lite-v1%3A0/converse-stream", "bedrock",
     "ConverseStream", "us.amazon.nova-lite-v1:0"),
    ("/model/%s/count-tokens" % HAIKU_WIRE, "bedrock", "CountTokens", HAIKU),
    ("/model/amazon.titan-text-express-v1/invoke", "bedrock", "InvokeModel",
     "amazon.titan-text-express-v1"),
    ("/endpoints/my-endpoint/invocations", "sagemaker", "InvokeEndpoint",
     "my-endpoint"),
    ("/endpoints/my-endpoint/invocations-response-stream", "sagemaker",
     "InvokeEndpointWithResponseStream", "my-endpoint"),
])
def test_variables_per_operation(gw, mock, path, service, op, model):
    count = len(gw.access_entries()) + 1
    r = h.post(gw.port, path, BODY)
    assert r.status == 200, r
    e = last_entry(gw, count)
    assert (e["aigw_service"], e["aigw_operation"], e["aigw_model"]) == (
        service, op, model)
    assert e["aigw_upstream_url"] == "http://127.0.0.1:%d%s" % (mock.port,
                                                                path)
    [rec] = mock.requests()
    assert rec["path"] == path
    assert rec["service"] == service


@pytest.mark.parametrize("region,service,path,host", [
    ("us-east-1", "bedrock", "/model/%s/converse" % HAIKU_WIRE,
     "bedrock-runtime.us-east-1.amazonaws.com"),
    ("eu-central-1", "bedrock", "/model/%s/invoke" % HAIKU_WIRE,
     "bedrock-runtime.eu-central-1.amazonaws.com"),
    ("us-east-1", "sagemaker", "/endpoints/my-endpoint/invocations",
     "runtime.sagemaker.us-east-1.amazonaws.com"),
    ("cn-north-1", "bedrock", "/model/%s/converse" % HAIKU_WIRE,
     "bedrock-runtime.cn-north-1.amazonaws.com.cn"),
])
def test_default_endpoints(nginx_factory, mock, region, service, path, host):
    """Without aigw_endpoint the upstream is AWS's own host.  proxy_pass
    goes to the mock directly (no DNS) to see what was signed."""
    port = h.free_port()
    conf = h.aigw_http(None, region=region) + h.gateway_server(
        port, proxy_pass="http://127.0.0.1:%d" % mock.port)
    n = nginx_factory(conf, [port])
    r = h.post(n.port, path, BODY)
    assert r.status == 200, r
    [rec] = mock.requests()
    assert rec["host"] == host
    assert rec["sig_ok"], rec["sig_error"]
    assert (rec["region"], rec["service"]) == (region, service)
    e = last_entry(n, 1)
    assert e["aigw_upstream"] == host
    assert e["aigw_upstream_url"] == "https://%s%s" % (host, path)


@pytest.mark.parametrize("endpoint,host", [
    ("https://bedrock-runtime.us-east-1.amazonaws.com:443",
     "bedrock-runtime.us-east-1.amazonaws.com"),
    ("http://bedrock-runtime.us-east-1.amazonaws.com:80",
     "bedrock-runtime.us-east-1.amazonaws.com"),
    ("https://bedrock-runtime.us-east-1.amazonaws.com:8443",
     "bedrock-runtime.us-east-1.amazonaws.com:8443"),
    ("http://localhost:8080", "localhost:8080"),
])
def test_endpoint_host_port(nginx_factory, mock, endpoint, host):
    """Host (signed and sent) has ":port" only when it is not the scheme's
    default.  proxy_pass goes to the mock directly to see it."""
    port = h.free_port()
    conf = h.aigw_http(endpoint) + h.gateway_server(
        port, proxy_pass="http://127.0.0.1:%d" % mock.port)
    n = nginx_factory(conf, [port])
    path = "/model/%s/converse" % HAIKU_WIRE
    r = h.post(n.port, path, BODY)
    assert r.status == 200, r
    [rec] = mock.requests()
    assert rec["host"] == host
    assert rec["sig_ok"], rec["sig_error"]
    e = last_entry(n, 1)
    assert e["aigw_upstream"] == host
    scheme = endpoint.split("://")[0]
    assert e["aigw_upstream_url"] == "%s://%s%s" % (scheme, host, path)

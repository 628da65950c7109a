"""
The model ID taken from a complex value (aigw_model_id $arg_model_id): the
seed-style POST /invoke?model_id=X[&stream=true] and /{operation}?model_id=X.
"""

import pytest

import helpers as h
HAIKU_WIRE = "anthropic.claude-3-haiku-20240307-v1%3A0"
HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
BODY = b'{"messages":[{"role":"user","content":[{"text":"hi"}]}]}'
ARN = ("arn:aws:bedrock:us-east-1:123456789012:inference-profile/"
       "us.anthropic.claude-3-haiku-20240307-v1:0")
ARN_WIRE = ARN.replace(":", "%3A").replace("/", "%2F")


@pytest.fixture(scope="module")
def shared_gateway(launcher, mock_server):
    port = h.free_port()
    conf = h.aigw_http(mock_server.url) + h.gateway_server(
        port, location_extra="aigw_model_id $arg_model_id;")
    from conftest import shared_nginx
    yield from shared_nginx(launcher, conf, [port])


@pytest.mark.parametrize("uri,upstream", [
    ("/invoke?model_id=%s" % HAIKU, "/model/%s/invoke" % HAIKU_WIRE),
    ("/invoke?model_id=%s&stream=true" % HAIKU,
     "/model/%s/invoke-with-response-stream" % HAIKU_WIRE),
    ("/invoke?stream=true&model_id=%s" % HAIKU,
     "/model/%s/invoke-with-response-stream" % HAIKU_WIRE),
    ("/converse?model_id=%s" % HAIKU, "/model/%s/converse" % HAIKU_WIRE),
    ("/converse-stream?model_id=amazon.nova-lite-v1:0",
     "/model/amazon.nova-lite-v1%3A0/converse-stream"),
    ("/invoke?model_id=%s" % ARN, "/model/%s/invoke" % ARN_WIRE),
])
def test_model_id_from_query(gw, mock, uri, upstream):
    r = h.post(gw.port, uri, BODY)
    assert r.status == 200, r
    [rec] = mock.requests()
    assert rec["sig_ok"], rec["sig_error"]
    assert rec["path"] == upstream


@pytest.mark.parametrize("uri", [
    "/invoke",
    "/invoke?model_id=",
    "/invoke?model_id=..%2Fx",
    "/invoke?model_id=amazon.titan%0D%0Ax",
    "/foo?model_id=%s" % HAIKU,
])
def test_model_id_from_query_refused(gw, mock, uri):
    r = h.post(gw.port, uri, BODY)
    assert r.status == 400, r
    assert r.header("x-amzn-ErrorType", "").startswith("ValidationException")
    assert "message" in r.json()
    assert mock.requests() == []

"""
TLS to the upstream, as to a VPC interface endpoint: SNI, the Host header
and the signature carry the endpoint's name, and the certificate is really
verified (the shipped aigw_params has proxy_ssl_verify on).
"""

import pytest

import helpers as h

CONVERSE = "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse"
BODY = b'{"messages":[{"role":"user","content":[{"text":"hi"}]}]}'


def vpce_conf(port, mock_tls, params):
    return h.aigw_http(None, extra="""
aigw_endpoint bedrock https://%(vpce)s;
aigw_endpoint sagemaker https://%(vpce)s;
upstream %(vpce)s {
    server 127.0.0.1:%(tls)d;
}
""" % dict(vpce=h.VPCE_HOST, tls=mock_tls.port)) + h.gateway_server(
        port, params=params)


@pytest.fixture
def vpce_gateway(nginx_factory, mock_tls, certs, tmp_path):
    def make(ca):
        params = h.params_with_ca(tmp_path / "aigw_params", ca)
        port = h.free_port()
        return nginx_factory(vpce_conf(port, mock_tls, params), [port])
    return make


def test_vpc_endpoint_tls(vpce_gateway, mock_tls, certs):
    n = vpce_gateway(certs["ca"])
    r = h.post(n.port, CONVERSE, BODY, [("Content-Type", "application/json")])
    assert r.status == 200, r
    [rec] = mock_tls.requests()
    assert rec["tls"]
    assert rec["tls_sni"] == h.VPCE_HOST
    assert rec["host"] == h.VPCE_HOST         # port 443 is not written
    assert rec["sig_ok"], rec["sig_error"]
    assert (rec["region"], rec["service"]) == (h.REGION, "bedrock")
    assert rec["path"] == CONVERSE
    entries = n.wait_access(1)
    assert entries[-1]["aigw_upstream"] == h.VPCE_HOST
    assert entries[-1]["aigw_upstream_url"] == "https://%s%s" % (
        h.VPCE_HOST, CONVERSE)


def test_vpc_endpoint_sagemaker(vpce_gateway, mock_tls, certs):
    n = vpce_gateway(certs["ca"])
    path = "/endpoints/my-endpoint/invocations"
    r = h.post(n.port, path, BODY, [("Content-Type", "application/json")])
    assert r.status == 200, r
    [rec] = mock_tls.requests()
    assert rec["host"] == h.VPCE_HOST
    assert rec["sig_ok"], rec["sig_error"]
    assert rec["service"] == "sagemaker"


def test_vpc_endpoint_wrong_ca_502(vpce_gateway, mock_tls, certs):
    n = vpce_gateway(certs["other_ca"])
    r = h.post(n.port, CONVERSE, BODY)
    assert r.status == 502
    assert mock_tls.requests() == []
    assert n.wait_log(r"upstream SSL certificate verify error")

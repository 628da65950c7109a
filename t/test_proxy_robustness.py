"""
Per-request state and the odd paths through nginx: keepalive on both sides,
chunked and 100-continue request bodies, concurrency, a client that goes
away mid-stream, an upstream that is down, aigw off, per-location settings.
"""

import concurrent.futures
import http.client
import uuid

import helpers as h
import mock_upstream as mu

CONVERSE = "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse"
# raw bytes go to InvokeModel: the gateway reads a Converse body's JSON
INVOKE = "/model/anthropic.claude-3-haiku-20240307-v1%3A0/invoke"
SIGNED = ["host", "x-amz-content-sha256", "x-amz-date"]
HOLD_WAIT = h.HOLD_WAIT


def check(rec, body, path=CONVERSE, service="bedrock"):
    assert rec["sig_ok"], "%s\n%s" % (rec["sig_error"],
                                      rec["canonical_request"])
    assert rec["service"] == service
    assert rec["path"] == path
    assert rec["body_sha256"] == h.sha256_hex(body)
    assert rec["body_length"] == len(body)


def test_client_keepalive_requests_signed_each(gw, mock):
    """Several requests on one client connection: each is signed for its
    own path and body."""
    conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=30)
    sent = []
    try:
        for i, (path, body) in enumerate([
                (CONVERSE, b'{"n": 1}'),
                ("/endpoints/ep-%d/invocations" % 2, b"x" * 300000),
                ("/model/amazon.nova-lite-v1%3A0/invoke", b""),
                (CONVERSE, b'{"n": 4}')]):
            conn.request("POST", path, body=body,
                         headers={"X-Req": str(i),
                                  "x-api-key": h.API_KEY})
            r = conn.getresponse()
            r.read()
            assert r.status == 200, (i, r.status)
            sent.append((path, body))
    finally:
        conn.close()
    recs = mock.requests()
    assert len(recs) == len(sent)
    for rec, (path, body) in zip(recs, sent):
        check(rec, body, path, "sagemaker" if "endpoints" in path
              else "bedrock")
    # distinct requests, distinct signatures
    assert len({r["signature"] for r in recs}) == len(recs)


def test_chunked_request_body(gw, mock):
    pieces = [b'{"messages": [', b'{"role": "user", ', b'"content": []}',
              b"]}"] + [b" " * 1000] * 300
    body = b"".join(pieces)
    conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=30)
    try:
        conn.request("POST", CONVERSE, body=iter(pieces),
                     headers={"Transfer-Encoding": "chunked",
                              "Content-Type": "application/json",
                              "x-api-key": h.API_KEY},
                     encode_chunked=True)
        r = conn.getresponse()
        r.read()
        assert r.status == 200
    finally:
        conn.close()
    [rec] = mock.requests()
    check(rec, body)
    assert h.header_all(rec["headers"], "transfer-encoding") == []
    assert h.header_all(rec["headers"], "content-length") == [str(len(body))]


def test_expect_100_continue(gw, mock, tmp_path):
    body = b"y" * (2 * 1024 * 1024)
    r = h.curl("http://127.0.0.1:%d%s" % (gw.port, INVOKE), tmp_path,
               http2=False, headers=[("Expect", "100-continue")], body=body)
    assert r.status == 200, r
    [rec] = mock.requests()
    check(rec, body, INVOKE)
    assert h.header_all(rec["headers"], "expect") == []


def test_concurrent_requests(gw, mock):
    def one(i):
        path = INVOKE if i % 3 else "/endpoints/ep-%d/invocations" % i
        body = (b'{"i": %d}' % i) * (1 + (i * 7919) % 5000)
        r = h.post(gw.port, path, body, [("X-Req-Id", str(i))])
        return i, path, body, r.status

    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        results = list(ex.map(one, range(32)))
    assert [s for *_, s in results] == [200] * 32
    recs = {h.header_get(r["headers"], "x-req-id"): r
            for r in mock.requests()}
    assert len(recs) == 32
    for i, path, body, _ in results:
        check(recs[str(i)], body, path,
              "bedrock" if path == INVOKE else "sagemaker")


def test_client_gone_mid_stream(gw, mock):
    c = h.case_for("test_titan_converse_stream", "converse-stream")
    first = mu.eventstream_split(c.resp_body)[0]
    token = uuid.uuid4().hex
    conn, r = h.open_request(gw.port, "POST", c.path, c.request_headers(
        "events", [("X-Mock-Hold", token)]), c.body,
        timeout=HOLD_WAIT * 0.6)
    assert r.read(len(first)) == first
    conn.close()
    mock.release(token)
    # nginx is fine afterwards (and gw fails the test on [alert]/[crit])
    r = h.post(gw.port, CONVERSE, b"{}")
    assert r.status == 200


def test_upstream_unreachable_502(nginx_factory, mock):
    closed = h.free_port()
    port = h.free_port()
    n = nginx_factory(h.aigw_http("http://127.0.0.1:%d" % closed) +
                      h.gateway_server(port), [port])
    r = h.post(n.port, CONVERSE, b"{}")
    assert r.status == 502
    assert n.wait_log(r"connect\(\) failed")


def test_upstream_keepalive(nginx_factory, mock):
    """aigw_params' advice: an upstream block named after the endpoint host
    with keepalive pools connections; every request on the pooled
    connection is signed on its own."""
    host = "bedrock-runtime.us-east-1.amazonaws.com"
    port = h.free_port()
    conf = h.aigw_http(None, extra="""
aigw_endpoint bedrock http://%(host)s;
upstream %(host)s {
    server 127.0.0.1:%(mock)d;
    keepalive 4;
}
""" % dict(host=host, mock=mock.port)) + h.gateway_server(port)
    n = nginx_factory(conf, [port])
    bodies = [b'{"k": %d}' % i for i in range(4)]
    for b in bodies:
        r = h.post(n.port, CONVERSE, b)
        assert r.status == 200, r
    recs = mock.requests()
    assert len(recs) == 4
    for rec, b in zip(recs, bodies):
        check(rec, b)
        assert rec["host"] == host
    assert len({tuple(r["peer"]) for r in recs}) == 1, \
        "nginx did not reuse the upstream connection"


def test_aigw_off_location(nginx_factory, mock):
    port = h.free_port()
    conf = h.aigw_http(mock.url) + h.gateway_server(
        port, location_extra="""
            location /plain/ {
                aigw off;
                proxy_pass http://127.0.0.1:%d;
            }""" % mock.port)
    n = nginx_factory(conf, [port])
    # no API key either: this is not a gateway location
    r = h.post(n.port, "/plain/thing", b"{}", [("X-Custom", "1")],
               api_key=None)
    # the mock refuses the unsigned request; what matters is that aigw
    # neither answered it nor signed it
    assert r.status == 403
    assert r.header("x-amzn-ErrorType") == \
        "MissingAuthenticationTokenException"
    [rec] = mock.requests()
    assert rec["path"] == "/plain/thing"
    assert h.header_all(rec["headers"], "authorization") == []
    assert h.header_all(rec["headers"], "x-amz-date") == []


def test_endpoint_per_location_and_server(nginx_factory, mock):
    closed = h.free_port()
    ports = [h.free_port(), h.free_port(), h.free_port()]
    mock_ep = "aigw_endpoint bedrock %s;" % mock.url
    conf = h.aigw_http("http://127.0.0.1:%d" % closed)
    conf += h.gateway_server(ports[0], location_extra=mock_ep)
    conf += h.gateway_server(ports[1], server_extra=mock_ep)
    conf += h.gateway_server(ports[2])
    n = nginx_factory(conf, ports)
    for p in ports[:2]:
        r = h.post(p, CONVERSE, b"{}")
        assert r.status == 200, (p, r)
    assert h.post(ports[2], CONVERSE, b"{}").status == 502
    recs = mock.requests()
    assert len(recs) == 2
    for rec in recs:
        check(rec, b"{}")

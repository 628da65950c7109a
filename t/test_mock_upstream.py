"""
The mock upstream on its own (no nginx, no module): it must accept what
botocore signs, reject what it should, replay captures (without the
shared data: their synthetic stand-ins) byte for byte with the framing
asked for, and hold/release streams.
"""

import base64
import datetime
import http.client
import json
import socket
import struct
import subprocess
import sys
import zlib

import pytest

import helpers as h
import mock_upstream as mu

CONVERSE = "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse"
BODY = b'{"messages":[{"role":"user","content":[{"text":"hi"}]}]}'


def signed(mock, path=CONVERSE, body=BODY, akid=h.AKID, secret=h.SECRET,
           token=None, service="bedrock", region=h.REGION, **kw):
    host = "127.0.0.1:%d" % mock.port
    return h.sign_headers("POST", host, path, body, akid, secret, token,
                          service, region, **kw)


def test_botocore_signed_request_is_accepted(mock):
    headers = signed(mock) + [("Content-Type", "application/json")]
    r = h.post(mock.port, CONVERSE, BODY, headers)
    assert r.status == 200, r
    out = r.json()
    assert out["usage"]["inputTokens"] > 0
    assert r.header("x-mock-body-sha256") == h.sha256_hex(BODY)
    assert r.header("x-mock-body-length") == str(len(BODY))
    [rec] = mock.requests()
    assert rec["sig_ok"], rec["sig_error"]
    assert (rec["region"], rec["service"], rec["akid"]) == (
        h.REGION, "bedrock", h.AKID)
    assert rec["path"] == CONVERSE
    assert rec["signed_headers"] == ["host", "x-amz-content-sha256",
                                     "x-amz-date"]
    assert base64.b64decode(rec["body_b64"]) == BODY
    # botocore canonicalises the wire path encoded once more
    assert rec["canonical_request"].split("\n")[1] == \
        "/model/anthropic.claude-3-haiku-20240307-v1%253A0/converse"


def test_add_auth_signed_request_is_accepted(mock):
    """A request signed by botocore's own add_auth (as the SDK does)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    url = mock.url + CONVERSE
    req = AWSRequest("POST", url, data=BODY, headers={
        "X-Amz-Content-SHA256": h.sha256_hex(BODY)})
    SigV4Auth(Credentials(h.TEMP_AKID, h.TEMP_SECRET, h.TEMP_TOKEN),
              "bedrock", h.REGION).add_auth(req)
    r = h.post(mock.port, CONVERSE, BODY, list(req.headers.items()))
    assert r.status == 200, r
    [rec] = mock.requests()
    assert rec["sig_ok"], rec["sig_error"]
    assert "x-amz-security-token" in rec["signed_headers"]


def test_session_token_checked(mock):
    ok = signed(mock, akid=h.TEMP_AKID, secret=h.TEMP_SECRET,
                token=h.TEMP_TOKEN)
    assert h.post(mock.port, CONVERSE, BODY, ok).status == 200
    # temporary credentials without their token
    no_token = signed(mock, akid=h.TEMP_AKID, secret=h.TEMP_SECRET)
    r = h.post(mock.port, CONVERSE, BODY, no_token)
    assert r.status == 403
    assert r.header("x-amzn-ErrorType") == "UnrecognizedClientException"
    recs = mock.requests()
    assert [x["sig_ok"] for x in recs] == [True, False]
    assert "token" in recs[1]["sig_error"]


@pytest.mark.parametrize("case", ["tampered", "wrong-service", "wrong-body",
                                  "stale-date", "unknown-key", "no-auth",
                                  "wrong-secret", "path-encoded-differently"])
def test_bad_signatures_rejected(mock, case):
    path, body = CONVERSE, BODY
    kw = {}
    if case == "wrong-service":
        kw["service"] = "sagemaker"
    elif case == "stale-date":
        kw["amz_date"] = (datetime.datetime.utcnow() - datetime.timedelta(
            minutes=20)).strftime("%Y%m%dT%H%M%SZ")
    elif case == "unknown-key":
        kw["akid"] = "AKIAUNKNOWN000000000"
    elif case == "wrong-secret":
        kw["secret"] = h.SECRET + "x"
    headers = signed(mock, **kw)
    if case == "tampered":
        k, v = headers[-1]
        headers[-1] = (k, v[:-1] + ("0" if v[-1] != "0" else "1"))
    elif case == "wrong-body":
        body = BODY + b" "
    elif case == "no-auth":
        headers = headers[:-1]
    elif case == "path-encoded-differently":
        # signed for %3A, sent with a literal ":"
        path = CONVERSE.replace("%3A", ":")
    r = h.post(mock.port, path, body, headers)
    assert r.status == 403, r
    assert r.header("x-amzn-ErrorType")
    assert "message" in r.json()
    [rec] = mock.requests()
    assert not rec["sig_ok"]
    assert rec["sig_error"]


def test_sagemaker_service_expected(mock):
    path = "/endpoints/my-endpoint/invocations"
    ok = signed(mock, path=path, service="sagemaker")
    r = h.post(mock.port, path, BODY, ok)
    assert r.status == 200, r
    assert r.json()["endpoint"] == "my-endpoint"
    bad = signed(mock, path=path, service="bedrock")
    assert h.post(mock.port, path, BODY, bad).status == 403


def test_large_body_hashed_not_kept(mock):
    body = bytes(range(256)) * (20 * 1024 * 1024 // 256)
    r = h.post(mock.port, CONVERSE, body, signed(mock, body=body))
    assert r.status == 200, r
    [rec] = mock.requests()
    assert rec["sig_ok"], rec["sig_error"]
    assert rec["body_length"] == len(body)
    assert rec["body_sha256"] == h.sha256_hex(body)
    assert rec["body_b64"] is None


def test_chunked_request_body(mock):
    """The mock reads chunked request bodies too."""
    conn = http.client.HTTPConnection("127.0.0.1", mock.port, timeout=10)
    headers = signed(mock)
    conn.putrequest("POST", CONVERSE, skip_host=True,
                    skip_accept_encoding=True)
    for k, v in headers:
        conn.putheader(k, v)
    conn.putheader("Transfer-Encoding", "chunked")
    conn.endheaders()
    for i in range(0, len(BODY), 7):
        piece = BODY[i:i + 7]
        conn.send(b"%x\r\n%s\r\n" % (len(piece), piece))
    conn.send(b"0\r\n\r\n")
    r = conn.getresponse()
    r.read()
    assert r.status == 200
    assert mock.requests()[0]["body_sha256"] == h.sha256_hex(BODY)


def raw_chunks(port, path, headers, body):
    """Sends a request on a raw socket; returns (head, list of chunks)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    req = "POST %s HTTP/1.1\r\n" % path
    for k, v in headers:
        req += "%s: %s\r\n" % (k, v)
    req += "Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body)
    s.sendall(req.encode() + body)
    data = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        data += b
    s.close()
    head, _, rest = data.partition(b"\r\n\r\n")
    chunks = []
    while True:
        line, _, rest = rest.partition(b"\r\n")
        n = int(line, 16)
        if n == 0:
            break
        chunks.append(rest[:n])
        assert rest[n:n + 2] == b"\r\n"
        rest = rest[n + 2:]
    return head.decode(), chunks


@pytest.mark.parametrize("chunking", ["none", "events", "1", "random:1",
                                      "random:7:5"])
def test_capture_replay_framing(mock, chunking):
    c = h.case_for("test_titan_invoke_stream", "titan-stream")
    body = c.resp_body
    headers = signed(mock, path=c.path, body=c.body) + c.request_headers(
        chunking)
    head, chunks = raw_chunks(mock.port, c.path, headers, c.body)
    assert head.startswith("HTTP/1.1 200")
    assert "Transfer-Encoding: chunked" in head
    assert "x-amzn-RequestId: %s" % c.request_id in head
    assert b"".join(chunks) == body
    if chunking == "none":
        assert chunks == [body]
    elif chunking == "1":
        assert all(len(x) == 1 for x in chunks)
    elif chunking == "events":
        assert len(chunks) > 1
        for x in chunks:
            assert struct.unpack(">I", x[:4])[0] == len(x)
            assert zlib.crc32(x[:-4]) & 0xffffffff == struct.unpack(
                ">I", x[-4:])[0]
    else:
        most = int(chunking.split(":")[2]) if chunking.count(":") == 2 \
            else 64
        assert max(len(x) for x in chunks) <= most
        assert len(chunks) > len(body) // most
        # seeded: the same cut every time
        _, again = raw_chunks(mock.port, c.path, signed(
            mock, path=c.path, body=c.body) + c.request_headers(chunking),
            c.body)
        assert [len(x) for x in again] == [len(x) for x in chunks]


def test_capture_non_stream_content_length(mock):
    c = h.case_for("test_nova_converse", "converse")
    r = h.post(mock.port, c.path, c.body, signed(mock, path=c.path,
                                                 body=c.body) + c.headers)
    assert r.status == c.status
    assert r.body == c.resp_body
    assert r.header("Content-Length") == str(len(c.resp_body))
    assert r.header("Date")
    if c.resp_header("Date"):
        # a capture's Date is not replayed
        assert r.header("Date") != c.resp_header("Date")


def test_hold_and_release(mock):
    c = h.case_for("test_titan_invoke_stream", "titan-stream")
    first = mu.eventstream_split(c.resp_body)[0]
    conn, r = h.open_request(mock.port, "POST", c.path, signed(
        mock, path=c.path, body=c.body) + c.request_headers(
        None, [("X-Mock-Hold", "t1")]), c.body, timeout=5)
    assert r.status == 200
    assert r.read(len(first)) == first
    # the handler is still waiting: the hold is not settled
    assert mock.requests()[0]["hold"] is None
    mock.release("t1")
    rest = r.read()
    conn.close()
    assert first + rest == c.resp_body
    assert mock.requests()[0]["hold"] == {"token": "t1", "released": True}


def test_forced_error_status(mock):
    r = h.post(mock.port, CONVERSE, BODY, signed(mock) +
               [("X-Mock-Status", "429")])
    assert r.status == 429
    assert r.header("x-amzn-ErrorType") == "ThrottlingException"
    assert "message" in r.json()


@pytest.mark.parametrize("op", ["invoke-with-response-stream",
                                "converse-stream"])
def test_default_streams_are_valid_eventstreams(mock, op):
    path = "/model/amazon.nova-lite-v1%3A0/" + op
    r = h.post(mock.port, path, BODY, signed(mock, path=path))
    assert r.status == 200
    assert r.header("Content-Type") == "application/vnd.amazon.eventstream"
    msgs = mu.eventstream_split(r.body)
    assert len(msgs) >= 3
    for m in msgs:
        total, hlen = struct.unpack(">II", m[:8])
        assert total == len(m)
        assert zlib.crc32(m[:8]) & 0xffffffff == struct.unpack(
            ">I", m[8:12])[0]


def test_control_endpoints_over_http(mock):
    h.post(mock.port, CONVERSE, BODY, signed(mock))
    r = h.http_request(mock.port, "GET", "/__mock/requests")
    recs = r.json()
    assert len(recs) == 1 and recs[0]["path"] == CONVERSE
    assert h.post(mock.port, "/__mock/reset").status == 200
    assert h.http_request(mock.port, "GET", "/__mock/requests").json() == []


def test_tls_mock(mock_tls, certs):
    ctx = h.client_ssl_context(certs["ca"])
    host = "localhost:%d" % mock_tls.port
    headers = h.sign_headers("POST", host, CONVERSE, BODY, h.AKID, h.SECRET)
    r = h.post(mock_tls.port, CONVERSE, BODY, headers, host="localhost",
               ssl_context=ctx)
    assert r.status == 200, r
    [rec] = mock_tls.requests()
    assert rec["tls"] and rec["sig_ok"]
    assert rec["tls_sni"] == "localhost"


def test_script_mode(tmp_path):
    """The mock runs as a script with a credentials file."""
    creds = tmp_path / "creds.json"
    creds.write_text(json.dumps({"AKIDSCRIPT": {"secret": "s3cr3t"}}))
    port = h.free_port()
    p = subprocess.Popen([sys.executable, str(h.T_DIR / "mock_upstream.py"),
                          "--port", str(port), "--credentials", str(creds)],
                         stdout=subprocess.PIPE)
    try:
        assert b"listening" in p.stdout.readline()
        host = "127.0.0.1:%d" % port
        r = h.post(port, CONVERSE, BODY, h.sign_headers(
            "POST", host, CONVERSE, BODY, "AKIDSCRIPT", "s3cr3t"))
        assert r.status == 200, r
        r = h.post(port, CONVERSE, BODY, h.sign_headers(
            "POST", host, CONVERSE, BODY, h.AKID, h.SECRET))
        assert r.status == 403
    finally:
        p.terminate()
        p.wait(10)

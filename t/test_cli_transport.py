"""
aigw's HTTP transport (libcurl, src/cli/aigw_http.c): proxies (a forward
proxy for http://, CONNECT for https://, NO_PROXY), the retries (a 5xx
and a failed exchange a few times, with a pause; a 4xx never), and one
connection for the requests of a run.
"""

import socket
import threading

import pytest

import mock_s3
from test_cli_hostile_peers import RawPeer
from test_export import DAY, S3_ENV, HAIKU, aigw, object_key, put_usage


class Proxy(RawPeer):
    """
    A tiny HTTP proxy, one connection at a time: "CONNECT host:port" opens
    a tunnel; a request in absolute form ("PUT http://host:port/path
    HTTP/1.1") is forwarded in origin form with "Connection: close", the
    answer relayed, then the client's connection closed.  Keeps each
    request line and whether an Authorization header reached the proxy
    itself.
    """

    def __init__(self):
        self.lines = []
        self.saw_authorization = False
        super().__init__([])

    @staticmethod
    def read_head(c):
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = c.recv(65536)
            if not chunk:
                return None, b""
            data += chunk
        head, rest = data.split(b"\r\n\r\n", 1)
        return head.decode("latin-1").split("\r\n"), rest

    @staticmethod
    def pipe(a, b):
        try:
            while True:
                d = a.recv(65536)
                if not d:
                    break
                b.sendall(d)
        except OSError:
            pass
        finally:
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def serve(self, c):
        c.settimeout(20)
        lines, rest = self.read_head(c)
        if not lines:
            return
        self.lines.append(lines[0])
        method, target, _ = lines[0].split(" ", 2)
        headers = lines[1:]
        if any(h.lower().startswith("authorization:") for h in headers):
            self.saw_authorization = True
        if method == "CONNECT":
            host, port = target.rsplit(":", 1)
            up = socket.create_connection((host, int(port)), 10)
            c.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            t = threading.Thread(target=self.pipe, args=(up, c),
                                 daemon=True)
            t.start()
            if rest:
                up.sendall(rest)
            self.pipe(c, up)
            t.join(20)
            up.close()
            return
        if not target.startswith("http://"):
            c.sendall(b"HTTP/1.1 400 Bad Request\r\n"
                      b"Content-Length: 0\r\n\r\n")
            return
        hostport, _, path = target[7:].partition("/")
        host, port = hostport.rsplit(":", 1)
        length = 0
        for h in headers:
            if h.lower().startswith("content-length:"):
                length = int(h.split(":", 1)[1])
        while len(rest) < length:
            rest += c.recv(65536)
        out = ["%s /%s HTTP/1.1" % (method, path)]
        out += [h for h in headers
                if not h.lower().startswith(("connection:",
                                             "proxy-connection:"))]
        out.append("Connection: close")
        with socket.create_connection((host, int(port)), 10) as up:
            up.sendall(("\r\n".join(out) + "\r\n\r\n").encode("latin-1")
                       + rest)
            up.shutdown(socket.SHUT_WR)
            while True:
                d = up.recv(65536)
                if not d:
                    break
                c.sendall(d)


@pytest.fixture
def s3():
    m = mock_s3.MockS3(buckets={"aigw-usage": "eu-west-1"}).start()
    yield m
    m.stop()


@pytest.fixture
def proxy():
    p = Proxy()
    yield p
    p.close()


@pytest.fixture
def usage(redis):
    put_usage(redis, DAY, "team-a", HAIKU, {"requests": 1})
    return redis


def export(redis, s3, env, *extra, check=0):
    return aigw("export", "--date", DAY, "--redis", redis.address,
                "--out", "s3://aigw-usage/px/", "--endpoint", s3.url,
                "--s3-region", "eu-west-1", *extra,
                env=dict(S3_ENV, **env), check=check)


@pytest.mark.parametrize("var", ["HTTP_PROXY", "http_proxy"])
def test_http_proxy(usage, s3, proxy, var):
    """
    An http:// endpoint through HTTP_PROXY (libcurl reads only the lower
    case one; aigw takes both): the request goes to the proxy in absolute
    form, signed as for S3 itself.
    """
    export(usage, s3, {var: proxy.url, "NO_PROXY": None, "no_proxy": None})
    assert proxy.lines == ["PUT %s/aigw-usage/px/year%%3D2024/month%%3D05/"
                           "day%%3D01/usage.csv HTTP/1.1" % s3.url]
    assert list(s3.objects) == [("aigw-usage", object_key("px/", DAY))]
    assert [q["sig_ok"] for q in s3.requests] == [True]


@pytest.mark.parametrize("var", ["NO_PROXY", "no_proxy"])
def test_no_proxy(usage, s3, var):
    """NO_PROXY names the endpoint: straight to it, the proxy unused."""
    export(usage, s3, {"HTTP_PROXY": "http://127.0.0.1:9",
                       "http_proxy": "http://127.0.0.1:9", var: "127.0.0.1"})
    assert list(s3.objects) == [("aigw-usage", object_key("px/", DAY))]


def test_proxy_down(usage, s3):
    """A proxy that does not answer: a clear error naming it, exit 1."""
    r = export(usage, s3, {"HTTP_PROXY": "http://127.0.0.1:9"}, check=1)
    assert "127.0.0.1 port" in r.stderr and "proxy" in r.stderr.lower(), \
        r.stderr
    assert s3.requests == []


def test_https_proxy_connect(usage, certs, proxy):
    """
    An https:// endpoint through HTTPS_PROXY: a CONNECT tunnel, the
    certificate verified through it; the signed headers never reach the
    proxy.
    """
    m = mock_s3.MockS3(buckets={"aigw-usage": "eu-west-1"},
                       certfile=str(certs["cert"]),
                       keyfile=str(certs["key"])).start()
    try:
        r = aigw("export", "--date", DAY, "--redis", usage.address,
                 "--out", "s3://aigw-usage/px/", "--endpoint",
                 "https://localhost:%d" % m.port, "--s3-region", "eu-west-1",
                 env=dict(S3_ENV, HTTPS_PROXY=proxy.url,
                          AWS_CA_BUNDLE=str(certs["ca"])), check=0)
        assert proxy.lines == ["CONNECT localhost:%d HTTP/1.1" % m.port], \
            r.stderr
        assert not proxy.saw_authorization
        assert list(m.objects) == [("aigw-usage", object_key("px/", DAY))]
    finally:
        m.stop()


def test_retry_5xx_then_success(usage, s3):
    """A 500 and a 503: asked again after a pause, then done."""
    s3.fail_next = [500, 503]
    export(usage, s3, {})
    assert [q["status"] for q in s3.requests] == [500, 503, 200]
    assert list(s3.objects) == [("aigw-usage", object_key("px/", DAY))]


def test_retry_bounded(usage, s3):
    """Always 503: three attempts, then the error; never forever."""
    s3.fail_next = [503] * 10
    r = export(usage, s3, {}, check=1)
    assert [q["status"] for q in s3.requests] == [503] * 3
    assert "HTTP 503 SlowDown" in r.stderr, r.stderr


@pytest.mark.parametrize("status", [400, 403, 404])
def test_no_retry_4xx(usage, s3, status):
    """A 4xx is S3's answer: never asked again."""
    s3.fail_next = [status]
    r = export(usage, s3, {}, check=1)
    assert [q["status"] for q in s3.requests] == [status], r.stderr
    assert "HTTP %d" % status in r.stderr, r.stderr
    assert s3.objects == {}


def test_connection_reused(usage, s3):
    """The requests of a run (HEAD, then a PUT a day) on one connection."""
    put_usage(usage, "2024-04-30", "team-a", HAIKU, {"requests": 1})
    aigw("export", "--from", "2024-04-30", "--to", DAY, "--redis",
         usage.address, "--out", "s3://aigw-usage/px/", "--endpoint", s3.url,
         env=S3_ENV, check=0)
    assert [q["method"] for q in s3.requests] == ["HEAD", "PUT", "PUT"]
    assert len({q["peer"] for q in s3.requests}) == 1, s3.requests

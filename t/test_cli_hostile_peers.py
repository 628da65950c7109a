"""
aigw export against hostile peers (issue 9, defect 5): an S3 endpoint
that answers with a NUL byte, a bare CR or an impossible region, and a
Redis hash field with a NUL byte.  A clean error exit (1, a message on
stderr, never a signal), and nothing written where it must not be.

The S3 peer is a tiny TCP server in this file that answers each request
with canned bytes (mock_s3 cannot: http.server never sends a NUL).
"""

import socket
import threading

import pytest

import mock_s3
import redisd
from test_export import DAY, S3_ENV, aigw, put_usage, HAIKU


class RawPeer:
    """
    Answers request N with answers[N] (bytes), the last one again to any
    later request (aigw retries a failed exchange), then closes.
    """

    def __init__(self, answers):
        self.answers = list(answers)
        self.requests = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.1)
        self.stop = False
        self.url = "http://127.0.0.1:%d" % self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop:
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with c:
                c.settimeout(10)
                self.serve(c)

    def serve(self, c):
        """One connection, closed on return (a subclass may do more)."""
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = c.recv(65536)
            if not chunk:
                break
            data += chunk
        head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
        line = head.split("\r\n", 1)[0]
        self.requests.append(line)
        n = min(len(self.requests), len(self.answers)) - 1
        c.sendall(self.answers[n])

    def close(self):
        self.stop = True
        self.thread.join(5)
        self.sock.close()


@pytest.fixture
def redis(redis):
    """conftest's fresh Redis, with one day of usage to export."""
    put_usage(redis, DAY, "team-a", HAIKU, {"requests": 1})
    return redis


def export_to(peer, redis, *extra):
    return aigw("export", "--date", DAY, "--redis", redis.address,
                "--out", "s3://aigw-usage/x/", "--endpoint", peer.url,
                *extra, env=S3_ENV, timeout=60)


@pytest.mark.parametrize("answer", [
    # a NUL inside a header value: the parser split lines with strstr()
    b"HTTP/1.1 200 OK\r\nx-amz-bucket-region: eu\x00west-1\r\n"
    b"Content-Length: 0\r\n\r\n",
    # a NUL inside a header name, before the colon
    b"HTTP/1.1 200 OK\r\nx-amz\x00-bucket-region: eu-west-1\r\n"
    b"Content-Length: 0\r\n\r\n",
    # a NUL in the reason phrase
    b"HTTP/1.1 200 O\x00K\r\nContent-Length: 0\r\n\r\n",
    # a NUL as the first byte of a line
    b"HTTP/1.1 200 OK\r\n\x00\r\nContent-Length: 0\r\n\r\n",
], ids=["value", "name", "reason", "line"])
def test_s3_nul_in_response_head(redis, answer):
    peer = RawPeer([answer])
    try:
        r = export_to(peer, redis)
    finally:
        peer.close()
    assert r.returncode == 1, (r.returncode, r.stderr)
    # libcurl's words ("Nul byte in header") or aigw's
    assert "malformed response" in r.stderr, r.stderr
    # three attempts, never a PUT
    assert [x.split(" ")[0] for x in peer.requests] == ["HEAD"] * 3


def test_s3_bare_cr_in_response_head(redis):
    peer = RawPeer([b"HTTP/1.1 200 OK\r\nx-a: b\rc\r\n"
                    b"Content-Length: 0\r\n\r\n"])
    try:
        r = export_to(peer, redis)
    finally:
        peer.close()
    assert r.returncode == 1, (r.returncode, r.stderr)
    assert "malformed response header line" in r.stderr, r.stderr


@pytest.mark.parametrize("region", [b"evil.example/x", b"EU-WEST-1 "])
def test_s3_region_from_peer_validated(redis, region):
    """
    A region S3 names goes into a host name and the signature: one that
    is not [a-z0-9-]{1,63} is refused (HEAD's header is ignored, then
    GetBucketLocation's answer fails the export), and no PUT is made.
    """
    peer = RawPeer([
        b"HTTP/1.1 301 Moved Permanently\r\nx-amz-bucket-region: " + region
        + b"\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\n"
        b"Content-Length: %d\r\n\r\n<LocationConstraint>%s"
        b"</LocationConstraint>" % (len(region) + 41, region),
    ])
    try:
        r = export_to(peer, redis)
    finally:
        peer.close()
    assert r.returncode == 1, (r.returncode, r.stderr)
    assert ('bucket "aigw-usage": GetBucketLocation named no valid region'
            in r.stderr), r.stderr
    assert [x.split(" ")[0] for x in peer.requests] == ["HEAD", "GET"]


def test_s3_put_redirect_region_validated(redis):
    """A PUT answered 400 with an impossible <Region>: no second PUT."""
    body = (b"<Error><Code>AuthorizationHeaderMalformed</Code>"
            b"<Region>x.y/z</Region></Error>")
    peer = RawPeer([b"HTTP/1.1 400 Bad Request\r\nx-amz-bucket-region: "
                    b"a b\r\nContent-Length: %d\r\n\r\n%s"
                    % (len(body), body)])
    try:
        r = export_to(peer, redis, "--s3-region", "us-west-2")
    finally:
        peer.close()
    assert r.returncode == 1, (r.returncode, r.stderr)
    assert ("PUT failed (region us-west-2): HTTP 400 "
            "AuthorizationHeaderMalformed") in r.stderr, r.stderr
    assert [x.split(" ")[0] for x in peer.requests] == ["PUT"]


def test_redis_field_with_nul(redis, tmp_path):
    """
    A hash field "requests\\0..." is not the field "requests": C string
    comparison took it for it.
    """
    key = redisd.usage_key(DAY, "team-a", HAIKU, "aigw")
    with redis.client() as c:
        c.call("HINCRBY", key, b"requests\x00x", "41")
        c.call("HINCRBY", key, b"images\x00:1x1:std", "7")
    out = tmp_path / "day.csv"
    r = aigw("export", "--date", DAY, "--redis", redis.address,
             "--out", out, check=0)
    rows = out.read_text().splitlines()
    assert len(rows) == 2, rows
    row = rows[1].split(",")
    assert (row[4], row[5], row[10]) == (HAIKU, "1", "0"), (rows, r.stderr)


def test_mock_s3_still_works(redis):
    """The same export against the well-behaved mock succeeds."""
    m = mock_s3.MockS3(buckets={"aigw-usage": "eu-west-1"}).start()
    try:
        r = aigw("export", "--date", DAY, "--redis", redis.address,
                 "--out", "s3://aigw-usage/x/", "--endpoint", m.url,
                 env=S3_ENV, check=0)
        assert list(m.objects) == [
            ("aigw-usage", "x/year=2024/month=05/day=01/usage.csv")], \
            r.stderr
    finally:
        m.stop()

"""
Fetches on nginx's event loop (src/ngx/ngx_http_aigw_fetch.c), through
the test-only module of t/fetch ("aigw_fetch_test": one fetch a request,
its outcome as the answer), loaded after the gateway's module, whose
code it runs: HTTP to addresses and resolved names, plain and TLS, every
framing of a response and what is refused; commands, their exit status,
output, deadline and environment.
"""

import os
import socket
import socketserver
import ssl
import threading
import time
import urllib.parse
from pathlib import Path

import pytest

import dnsd
import helpers as h
from conftest import stop_and_check

MAX = 64 * 1024


def fetch_test_module():
    return (h.build_dir() / "test-fetch"
            / "ngx_http_aigw_fetch_test_module.so")


# --- the peer: answers by path ------------------------------------------------

def chunked(data, size):
    out = b""
    for i in range(0, len(data), size):
        part = data[i:i + size]
        out += b"%x;ext=1\r\n" % len(part) + part + b"\r\n"
    return out + b"0\r\nX-Trailer: t\r\n\r\n"


ANSWERS = {
    "/cl": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
    "/cl-extra": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloEXTRA",
    "/chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                + chunked(b"hello, chunked world", 7),
    "/close": b"HTTP/1.0 200 OK\r\nServer: t\r\n\r\nuntil the end",
    "/lf": b"HTTP/1.1 201 Created\nContent-Length: 2\n\nok",
    "/status-503": b"HTTP/1.1 503 Service Unavailable\r\n"
                   b"Content-Length: 4\r\n\r\nbusy",
    "/no-content": b"HTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n",
    "/continue": b"HTTP/1.1 100 Continue\r\n\r\n"
                 b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nyes",
    "/max-cl": b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % MAX
               + b"a" * MAX,
    "/max-chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + chunked(b"b" * MAX, 1000),
    "/max-close": b"HTTP/1.1 200 OK\r\n\r\n" + b"c" * MAX,
    "/big-cl": b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % (MAX + 1)
               + b"a" * (MAX + 1),
    "/big-chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + chunked(b"b" * (MAX + 1), 1000),
    "/big-close": b"HTTP/1.1 200 OK\r\n\r\n" + b"c" * (MAX + 1),
    "/big-header": b"HTTP/1.1 200 OK\r\n"
                   + b"X-Pad: " + b"p" * (17 * 1024) + b"\r\n"
                   + b"Content-Length: 2\r\n\r\nok",
    "/bad-status": b"HTTP/1.1 2x0 OK\r\nContent-Length: 2\r\n\r\nok",
    "/not-http": b"SSH-2.0-OpenSSH_9.2\r\n\r\n",
    "/bad-header": b"HTTP/1.1 200 OK\r\nno colon here\r\n"
                   b"Content-Length: 2\r\n\r\nok",
    "/bad-length": b"HTTP/1.1 200 OK\r\nContent-Length: 2x\r\n\r\nok",
    "/two-lengths": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
                    b"Content-Length: 3\r\n\r\nok!",
    "/bad-chunk": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                  b"zz\r\nhello\r\n0\r\n\r\n",
    "/gzip-te": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nxx",
    "/short": b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello",
    "/short-chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                      b"\r\n5\r\nhello\r\n",
    "/nothing": b"",
}


class Peer(socketserver.ThreadingTCPServer):
    """HTTP peer on loopback; TLS when given a context."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, host="127.0.0.1", tls=None):
        self.tls = tls
        self.requests = []
        self.sni = []
        if tls is not None:
            tls.sni_callback = lambda s, name, ctx: self.sni.append(name)
        super().__init__((host, 0), PeerHandler)
        self.port = self.server_address[1]
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.shutdown()
        self.server_close()


class PeerHandler(socketserver.BaseRequestHandler):

    def handle(self):
        sock = self.request
        if self.server.tls is not None:
            try:
                sock = self.server.tls.wrap_socket(sock, server_side=True)
            except (ssl.SSLError, OSError):
                return
        data = b""
        sock.settimeout(10)
        try:
            while b"\r\n\r\n" not in data:
                more = sock.recv(65536)
                if not more:
                    return
                data += more
            head, _, rest = data.partition(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            while len(rest) < length:
                more = sock.recv(65536)
                if not more:
                    break
                rest += more
        except OSError:
            return
        self.server.requests.append(head + b"\r\n\r\n" + rest)
        path = head.split(b" ")[1].decode().partition("?")[0]
        try:
            self.answer(sock, path, head + b"\r\n\r\n" + rest)
        except OSError:
            pass
        finally:
            try:
                sock.close()
            except OSError:
                pass

    def answer(self, sock, path, request):
        if path == "/echo":
            sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n"
                         % len(request) + request)
        elif path == "/slow":
            time.sleep(3)
            sock.sendall(ANSWERS["/cl"])
        elif path == "/stall-body":
            sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab")
            time.sleep(3)
        elif path == "/trickle":
            # byte by byte: every state of the parser across reads
            for i in range(len(ANSWERS["/chunked"])):
                sock.sendall(ANSWERS["/chunked"][i:i + 1])
                time.sleep(0.001)
        else:
            sock.sendall(ANSWERS[path])


# --- the nginx running the fetches -------------------------------------------

@pytest.fixture(scope="module")
def fetch_env(launcher, certs):
    so = fetch_test_module()
    if not h.STATIC_MODULE and not so.is_file():
        pytest.fail("%s missing: make fetch-test" % so)
    plain = Peer()

    def tls_context():
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(str(certs["cert"]), str(certs["key"]))
        return ctx

    tls = Peer(tls=tls_context())
    # an address not in the certificate
    tls2 = Peer(host="127.0.0.2", tls=tls_context())
    dns = dnsd.Dns()
    port = h.free_port()
    conf = """
    server {
        listen 127.0.0.1:%(port)d;
        location /fetch {
            aigw_fetch_test;
            aigw_fetch_test_ca %(ca)s;
            resolver 127.0.0.1:%(dns)d ipv6=off;
            resolver_timeout 2s;
        }
        location /fetch-other-ca {
            aigw_fetch_test;
            aigw_fetch_test_ca %(other)s;
        }
        location /fetch-no-tls {
            aigw_fetch_test;
        }
        location /fetch-no-resolver {
            aigw_fetch_test;
        }
    }
""" % dict(port=port, ca=certs["ca"], other=certs["other_ca"], dns=dns.port)
    main = "" if h.STATIC_MODULE else "load_module %s;" % so
    n = launcher.new(conf, [port], main_extra=main)
    env = dict(nginx=n, plain=plain, tls=tls, tls2=tls2, dns=dns, port=port)
    yield env
    problems = stop_and_check(n)
    for p in (plain, tls, tls2, dns):
        p.stop()
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


def fetch(env, location="/fetch", timeout_s=15, **args):
    q = urllib.parse.urlencode(args)
    start = time.monotonic()
    r = h.http_request(env["port"], "GET", "%s?%s" % (location, q),
                       timeout=timeout_s, api_key=None)
    took = time.monotonic() - start
    assert r.status == 200, r
    head, _, body = r.body.partition(b"\n\n")
    out = {"body": body, "took": took, "error": None}
    for line in head.decode().splitlines():
        k, _, v = line.partition(": ")
        out[k] = v
    out["status"] = int(out["status"])
    assert int(out["length"]) == len(body)
    return out


def url(env, path, peer="plain", host="127.0.0.1"):
    scheme = "http" if peer == "plain" else "https"
    return "%s://%s:%d%s" % (scheme, host, env[peer].port, path)


# --- HTTP ------------------------------------------------------------------

@pytest.mark.parametrize("path,status,body", [
    ("/cl", 200, b"hello"),
    ("/cl-extra", 200, b"hello"),
    ("/chunked", 200, b"hello, chunked world"),
    ("/trickle", 200, b"hello, chunked world"),
    ("/close", 200, b"until the end"),
    ("/lf", 201, b"ok"),
    ("/status-503", 503, b"busy"),
    ("/no-content", 204, b""),
    ("/continue", 200, b"yes"),
    ("/max-cl", 200, b"a" * MAX),
    ("/max-chunked", 200, b"b" * MAX),
    ("/max-close", 200, b"c" * MAX),
])
def test_http_framings(fetch_env, path, status, body):
    r = fetch(fetch_env, url=url(fetch_env, path))
    assert (r["status"], r["error"], r["body"]) == (status, None, body)


@pytest.mark.parametrize("path,error", [
    ("/big-cl", "the response body of 127.0.0.1 is over 65536 bytes"),
    ("/big-chunked", "the response body of 127.0.0.1 is over 65536 bytes"),
    ("/big-close", "the response body of 127.0.0.1 is over 65536 bytes"),
    ("/big-header", "the response header of 127.0.0.1 is over 16384 bytes"),
    ("/bad-status", "127.0.0.1 sent an invalid status line"),
    ("/not-http", "127.0.0.1 sent an invalid status line"),
    ("/bad-header", "127.0.0.1 sent an invalid header line"),
    ("/bad-length", "127.0.0.1 sent an invalid Content-Length"),
    ("/two-lengths", "127.0.0.1 sent an invalid Content-Length"),
    ("/bad-chunk", "127.0.0.1 sent an invalid chunked body"),
    ("/gzip-te", "127.0.0.1 sent an unsupported Transfer-Encoding"),
    ("/short", "127.0.0.1 closed the connection before the end of the "
               "response body"),
    ("/short-chunked", "127.0.0.1 closed the connection before the end of "
                       "the response body"),
    ("/nothing", "127.0.0.1 closed the connection before the end of the "
                 "response"),
])
def test_http_refused(fetch_env, path, error):
    r = fetch(fetch_env, url=url(fetch_env, path))
    assert (r["status"], r["error"], r["body"]) == (0, error, b"")


def test_http_request_sent(fetch_env):
    """method, target, the given headers, Content-Length, Connection"""
    r = fetch(fetch_env, url=url(fetch_env, "/echo") + "?a=1&b=%2F",
              method="PUT", body="the body")
    assert r["status"] == 200
    assert r["body"] == (
        b"PUT /echo?a=1&b=%%2F HTTP/1.1\r\n"
        b"Host: 127.0.0.1:%d\r\n"
        b"X-Aigw-Test: fetch\r\n"
        b"Content-Length: 8\r\n"
        b"Connection: close\r\n\r\n"
        b"the body" % fetch_env["plain"].port)
    r = fetch(fetch_env, url=url(fetch_env, "/echo"))
    assert b"Content-Length" not in r["body"]
    assert r["body"].startswith(b"GET /echo HTTP/1.1\r\n")


def test_http_timeout(fetch_env):
    r = fetch(fetch_env, url=url(fetch_env, "/slow"), timeout=300)
    assert (r["status"], r["error"]) == (0, "127.0.0.1 timed out after "
                                            "300 ms")
    assert r["took"] < 2.5


def test_http_timeout_in_body(fetch_env):
    r = fetch(fetch_env, url=url(fetch_env, "/stall-body"), timeout=300)
    assert (r["status"], r["error"], r["body"]) == (
        0, "127.0.0.1 timed out after 300 ms", b"")


def test_http_connection_refused(fetch_env):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    r = fetch(fetch_env, url="http://127.0.0.1:%d/" % port)
    assert r["status"] == 0
    assert r["error"] == ("connect() to 127.0.0.1:%d failed (111: "
                          "Connection refused)" % port)


def test_http_ipv6_literal(fetch_env):
    if not socket.has_ipv6:
        pytest.fail("no IPv6 on loopback")
    s = socket.socket(socket.AF_INET6)
    s.bind(("::1", 0))
    s.listen(1)
    port = s.getsockname()[1]

    def serve():
        c, _ = s.accept()
        c.recv(65536)
        c.sendall(ANSWERS["/cl"])
        c.close()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    r = fetch(fetch_env, url="http://[::1]:%d/cl" % port)
    t.join(5)
    s.close()
    assert (r["status"], r["body"]) == (200, b"hello")


def test_http_early_answer(fetch_env):
    """a peer that answers before reading, and keeps the connection"""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)

    def serve():
        c, _ = s.accept()
        c.sendall(ANSWERS["/cl"])
        time.sleep(3)
        c.close()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    r = fetch(fetch_env, url="http://127.0.0.1:%d/cl" % s.getsockname()[1],
              timeout=2000)
    s.close()
    assert (r["status"], r["error"], r["body"]) == (200, None, b"hello")
    assert r["took"] < 1.5


def test_http_invalid_request(fetch_env):
    """a header value with a line break is never sent"""
    r = fetch(fetch_env, url=url(fetch_env, "/cl") + "\r\nX: y")
    assert r["status"] == 0
    assert r["error"].startswith("invalid request to http://127.0.0.1:")
    assert fetch_env["plain"].requests == [] or all(
        b"X: y" not in q for q in fetch_env["plain"].requests)


# --- resolver ---------------------------------------------------------------

def test_http_name_resolved(fetch_env):
    r = fetch(fetch_env, url=url(fetch_env, "/cl", host="creds.test"))
    assert (r["status"], r["error"], r["body"]) == (200, None, b"hello")
    assert "creds.test" in fetch_env["dns"].names


def test_http_name_second_address(fetch_env):
    """an address that refuses: the next one (either order, each time)"""
    for _ in range(6):
        r = fetch(fetch_env, url=url(fetch_env, "/cl", host="two.test"))
        assert (r["status"], r["error"], r["body"]) == (200, None, b"hello")


def test_http_name_not_found(fetch_env):
    r = fetch(fetch_env, url=url(fetch_env, "/cl", host="nx.test"))
    assert (r["status"], r["error"]) == (
        0, "nx.test could not be resolved (3: Host not found)")


def test_http_no_resolver(fetch_env):
    r = fetch(fetch_env, location="/fetch-no-resolver",
              url=url(fetch_env, "/cl", host="creds.test"))
    assert (r["status"], r["error"]) == (
        0, "no resolver defined to resolve creds.test")


# --- TLS -------------------------------------------------------------------

def test_https_address(fetch_env):
    """an address in the certificate's names; no SNI for an address"""
    before = len(fetch_env["tls"].sni)
    r = fetch(fetch_env, url=url(fetch_env, "/chunked", "tls"))
    assert (r["status"], r["error"], r["body"]) == (
        200, None, b"hello, chunked world")
    assert fetch_env["tls"].sni[before:] == [None]


def test_https_name(fetch_env):
    """a name, resolved, sent as SNI and matched to the certificate"""
    before = len(fetch_env["tls"].sni)
    r = fetch(fetch_env, url=url(fetch_env, "/echo", "tls", "localhost"))
    assert r["status"] == 200, r
    assert b"\r\nHost: localhost:%d\r\n" % fetch_env["tls"].port in r["body"]
    assert fetch_env["tls"].sni[before:] == ["localhost"]


def test_https_wrong_name(fetch_env):
    r = fetch(fetch_env, url=url(fetch_env, "/cl", "tls", "wrong.test"))
    assert (r["status"], r["error"]) == (
        0, "the certificate of wrong.test does not match its name")


def test_https_wrong_address(fetch_env):
    r = fetch(fetch_env, url=url(fetch_env, "/cl", "tls2", "127.0.0.2"))
    assert (r["status"], r["error"]) == (
        0, "the certificate of 127.0.0.2 does not match its name")


def test_https_untrusted(fetch_env):
    r = fetch(fetch_env, location="/fetch-other-ca",
              url=url(fetch_env, "/cl", "tls"))
    assert r["status"] == 0
    assert r["error"] == ("the certificate of 127.0.0.1 could not be "
                          "verified: (21: unable to verify the first "
                          "certificate)")


def test_https_not_configured(fetch_env):
    r = fetch(fetch_env, location="/fetch-no-tls",
              url=url(fetch_env, "/cl", "tls"))
    assert (r["status"], r["error"]) == (
        0, "https is not available for https://127.0.0.1:%d/cl"
        % fetch_env["tls"].port)


def test_https_to_plain_peer(fetch_env):
    """a peer answering in plain HTTP at once"""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)

    def serve():
        c, _ = s.accept()
        c.sendall(ANSWERS["/cl"])
        time.sleep(0.5)
        c.close()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    r = fetch(fetch_env, url="https://127.0.0.1:%d/cl" % s.getsockname()[1])
    t.join(5)
    s.close()
    assert (r["status"], r["error"]) == (
        0, "TLS handshake with 127.0.0.1 failed")


def test_https_handshake_timeout(fetch_env):
    """a peer that never answers the handshake"""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    r = fetch(fetch_env, url="https://127.0.0.1:%d/cl" % s.getsockname()[1],
              timeout=300)
    s.close()
    assert (r["status"], r["error"]) == (0, "127.0.0.1 timed out after "
                                            "300 ms")
    assert r["took"] < 2.5


def test_https_timeout(fetch_env):
    r = fetch(fetch_env, url=url(fetch_env, "/slow", "tls"), timeout=300)
    assert (r["status"], r["error"]) == (0, "127.0.0.1 timed out after "
                                            "300 ms")


# --- commands -------------------------------------------------------------

def test_process_output(fetch_env):
    r = fetch(fetch_env, cmd="printf 'out put'")
    assert (r["status"], r["error"], r["body"]) == (0, None, b"out put")


def test_process_exit_status(fetch_env):
    r = fetch(fetch_env, cmd="echo partial; exit 3")
    assert (r["status"], r["error"], r["body"]) == (3, None, b"partial\n")


def test_process_not_found(fetch_env):
    r = fetch(fetch_env, cmd="/nonexistent/credential-helper")
    assert (r["status"], r["error"]) == (127, None)


def test_process_killed(fetch_env):
    r = fetch(fetch_env, cmd="kill -9 $$")
    assert (r["status"], r["error"]) == (-1, "the command was killed by "
                                             "signal 9")


def test_process_timeout(fetch_env, tmp_path):
    """the command and what it started are killed at the deadline"""
    pids = tmp_path / "pids"
    r = fetch(fetch_env, cmd="sleep 30 & echo $! > %s; echo $$ >> %s; wait"
              % (pids, pids), timeout=300)
    assert (r["status"], r["error"]) == (-1, "the command timed out after "
                                             "300 ms")
    assert r["took"] < 2.5
    for pid in map(int, pids.read_text().split()):
        assert not alive(pid), pid


def test_process_output_bound(fetch_env):
    r = fetch(fetch_env, cmd="head -c %d /dev/zero" % MAX)
    assert (r["status"], r["error"], r["body"]) == (0, None, b"\0" * MAX)
    r = fetch(fetch_env, cmd="head -c %d /dev/zero; sleep 30" % (MAX + 1))
    assert (r["status"], r["error"]) == (-1, "the command's output is over "
                                             "65536 bytes")
    assert r["took"] < 5


def test_process_closed_output_then_waits(fetch_env):
    """the deadline holds after the command closes its output"""
    r = fetch(fetch_env, cmd="echo early; exec >&-; sleep 30", timeout=300)
    assert (r["status"], r["error"]) == (-1, "the command timed out after "
                                             "300 ms")
    assert r["body"] == b"early\n"


def test_process_environment(fetch_env):
    """stdin /dev/null, only fds 0-2, no signal ignored or blocked"""
    r = fetch(fetch_env, cmd="cat; ls /proc/self/fd; "
                             "grep -E '^Sig(Ign|Blk)' /proc/self/status")
    assert r["status"] == 0
    lines = r["body"].decode().split("\n")
    # ls's own directory descriptor is the 4th
    assert lines[:4] == ["0", "1", "2", "3"], lines
    # the standard signals (the real-time ones are the C library's: under
    # ASan the 32nd is ignored, and no program can change it)
    assert lines[4].startswith("SigBlk:\t") and lines[5].startswith(
        "SigIgn:\t"), lines
    assert int(lines[4][7:], 16) & 0xffffffff == 0, lines
    assert int(lines[5][7:], 16) & 0x7fffffff == 0, lines


def test_process_stderr_to_error_log(fetch_env):
    n = fetch_env["nginx"]
    mark = n.mark()
    r = fetch(fetch_env, cmd="echo to-the-error-log >&2; echo ok")
    assert (r["status"], r["body"]) == (0, b"ok\n")
    assert n.wait_log(r"to-the-error-log", since=mark)
    # the helper's own exit, reaped by nginx: a notice, no alert
    assert n.wait_log(r"\[notice\] \d+#\d+: unknown process \d+ exited "
                      r"with code 0", since=mark)


def test_process_cancel(fetch_env, tmp_path):
    """cancelled: the handler is not called, the command is killed"""
    pidf = tmp_path / "pid"
    mark = fetch_env["nginx"].mark()
    r = fetch(fetch_env, cmd="echo $$ > %s; exec sleep 30" % pidf,
              timeout=20000, cancel=300)
    assert (r["status"], r["error"]) == (-2, "cancelled")
    deadline = time.monotonic() + 5
    pid = int(pidf.read_text())
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(pid)
    assert fetch_env["nginx"].wait_log(r"unknown process \d+ exited with "
                                       r"code 0", since=mark)


def test_http_cancel(fetch_env):
    r = fetch(fetch_env, url=url(fetch_env, "/slow"), timeout=20000,
              cancel=200)
    assert (r["status"], r["error"]) == (-2, "cancelled")
    assert r["took"] < 2.5


def test_many_at_once(fetch_env):
    """concurrent fetches of both kinds, each its own outcome"""
    results = {}

    def one(i):
        # a deadline for a slow machine (valgrind runs every helper)
        if i % 2:
            results[i] = fetch(fetch_env, cmd="echo %d; exit %d" % (i, i),
                               timeout=10000)
        else:
            results[i] = fetch(fetch_env, url=url(fetch_env, "/echo")
                               + "?n=%d" % i, timeout=10000)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    for i in range(16):
        if i % 2:
            assert (results[i]["status"], results[i]["body"]) == (
                i, b"%d\n" % i), results[i]
        else:
            assert results[i]["status"] == 200
            assert b"GET /echo?n=%d HTTP/1.1" % i in results[i]["body"]


def alive(pid):
    try:
        stat = Path("/proc/%d/stat" % pid).read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"

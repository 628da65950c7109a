"""
Redis where it actually runs: a host name resolved by nginx's resolver (a
DNS server on loopback), TLS with the certificate and the name verified,
an ACL user (AUTH username password), a password file.  Counts arrive
exactly; a wrong CA, a certificate for another name, a wrong password or
user are refused with a clear line (no secret in it) and the records wait
for a configuration that works; nginx -t checks every parameter and never
waits on the network.
"""

import time

import pytest

import dnsd
import helpers as h
import redisd
from test_counting import (assert_counts, by_tenant_model, expected,
                           send_case, wait_counts, WAIT)

pytestmark = pytest.mark.skipif(
    not redisd.redis_server_bin(),
    reason="redis-server not installed (make deps installs it)")

NAME = "redis.aigw.test"            # in the certificate
OTHER = "other.aigw.test"           # resolved too, not in the certificate
USER = "aigw-gw"
ACL_PASSWORD = "acl s3cret/pass=+x"
ESC_NAME = NAME.replace(".", r"\.")


@pytest.fixture(scope="module")
def redis_certs(tmp_path_factory):
    return h.make_certs(tmp_path_factory.mktemp("redis-certs"), names=[NAME])


@pytest.fixture(scope="module")
def dns():
    d = dnsd.Dns()
    yield d
    d.stop()


@pytest.fixture(scope="module")
def tls_redis(tmp_path_factory, redis_certs):
    r = redisd.RedisServer(tmp_path_factory.mktemp("redis-tls"),
                           tls=redis_certs)
    r.start()
    yield r
    r.stop()


@pytest.fixture
def acl(tls_redis):
    """A fresh database and the ACL user; the default user stays open for
    the tests' own client (the plain port)."""
    tls_redis.flush()
    tls_redis.acl_user(USER, ACL_PASSWORD)
    return tls_redis


def password_file(tmp_path, password=ACL_PASSWORD):
    f = tmp_path / "redis.pass"
    f.write_text(password + "\n")
    f.chmod(0o600)
    return f


def redis_line(host, r, certs, tmp_path, ca="ca", extra=""):
    return ("%s:%d tls=on tls_ca=%s username=%s password_file=%s%s"
            % (host, r.tls_port, certs[ca], USER, password_file(tmp_path),
               extra))


def gateway_conf(mock, dns, args, tmp_path, port=None):
    port = port or h.free_port()
    conf = h.aigw_http(mock.url, extra=(
        "%s\naigw_redis %s journal=%s;" % (dns.resolver, args,
                                           tmp_path / "journal")))
    conf += h.gateway_server(port)
    return conf, port


def gateway(nginx_factory, mock, dns, args, tmp_path):
    conf, port = gateway_conf(mock, dns, args, tmp_path)
    n = nginx_factory(conf, [port])
    n.port = port
    return n


def send_some(n, count=3):
    """Sends "count" synthetic requests: the counts they make."""
    c = h.case_for("test_titan_converse", "converse")
    for _ in range(count):
        send_case(n.port, c)
    return {(h.DEFAULT_TENANT, c.model): expected(count, c.usage)}


def assert_no_secret(n):
    log = n.read_error_log()
    assert ACL_PASSWORD not in log
    assert "s3cret" not in log


def reconfigure(n, mock, dns, args, tmp_path):
    """The same gateway (its port, its queue) with other aigw_redis
    arguments: nginx -s reload."""
    conf, _ = gateway_conf(mock, dns, args, tmp_path, n.port)
    n.conf.write_text(n.config_text(conf))
    rc, out = n.reload()
    assert rc == 0, out


# --- counting over TLS, by name, as an ACL user ---------------------------------

def test_tls_name_acl_counts_exactly(nginx_factory, mock, dns, acl,
                                     redis_certs, tmp_path):
    n = gateway(nginx_factory, mock, dns,
                redis_line(NAME, acl, redis_certs, tmp_path), tmp_path)
    address = "%s:%d" % (NAME, acl.tls_port)
    assert n.wait_log(r'aigw: redis "%s" connected' % address,
                      timeout=WAIT), n.read_error_log()[-2000:]
    want = {}
    for c in h.synthetic_cases():
        send_case(n.port, c)
        # AWS's 400, 403 and 404 count under the fixed model "_invalid"
        model = "_invalid" if c.status in (400, 403, 404) else c.model
        redisd.add_usage(want, (h.DEFAULT_TENANT, model),
                         expected(1, h.case_counts(c)))
    usage = wait_counts(acl, want)
    assert_counts(by_tenant_model(usage), want)
    assert NAME in dns.names
    # the connection is the ACL user's, over TLS
    clients = acl.call("CLIENT", "LIST")
    assert "user=%s" % USER in clients, clients
    assert_no_secret(n)


def test_name_is_resolved_again_at_each_connect(nginx_factory, mock, dns,
                                                acl, redis_certs, tmp_path):
    n = gateway(nginx_factory, mock, dns,
                redis_line(NAME, acl, redis_certs, tmp_path), tmp_path)
    n.allow += [r"redis"]
    address = "%s:%d" % (NAME, acl.tls_port)
    assert n.wait_log(r'aigw: redis "%s" connected' % address, timeout=WAIT)
    asked = dns.names.count(NAME)
    # Redis closes every client: the gateway connects again, by name
    mark = n.mark()
    acl.call("CLIENT", "KILL", "USER", USER)
    assert n.wait_log(r'aigw: redis "%s" connected' % address, since=mark,
                      timeout=WAIT)
    # nginx's resolver caches the answer for its TTL (60 s): asked again
    # or served from its cache, the name went through the resolver
    assert dns.names.count(NAME) >= asked
    want = send_some(n)
    usage = wait_counts(acl, want)
    assert_counts(by_tenant_model(usage), want)


def test_dns_name_moved_to_another_redis(nginx_factory, mock, redis_certs,
                                        tmp_path):
    """
    A failover as a managed Redis does it: the name moves to another
    server (127.0.0.2, the same port) and the old one goes away.  The
    gateway connects again, resolves the name again (its TTL of 1 s has
    passed) and counts into the new one; nothing is lost, nothing counted
    twice.
    """
    port = h.free_port()
    a = redisd.RedisServer(tmp_path / "a", tls=redis_certs, port=port)
    b = redisd.RedisServer(tmp_path / "b", tls=redis_certs, port=port,
                           bind="127.0.0.2")
    b.tls_port = a.tls_port
    dns = dnsd.Dns(answers={NAME: ["127.0.0.1"]}, ttl=1)
    try:
        for r in (a, b):
            r.start()
            r.acl_user(USER, ACL_PASSWORD)
        n = gateway(nginx_factory, mock, dns,
                    redis_line(NAME, a, redis_certs, tmp_path), tmp_path)
        n.allow += [r"redis"]
        first = send_some(n, 2)
        usage = wait_counts(a, first)
        assert_counts(by_tenant_model(usage), first)
        # the name moves, then the old primary goes away
        dns.answers[NAME] = ["127.0.0.2"]
        time.sleep(1.5)
        mark = n.mark()
        a.stop()
        second = send_some(n, 3)
        assert n.wait_log(r'aigw: redis "%s:%d" connected'
                          % (ESC_NAME, a.tls_port), since=mark,
                          timeout=WAIT), n.read_error_log()[-2000:]
        usage = wait_counts(b, second)
        assert_counts(by_tenant_model(usage), second)
        assert dns.names.count(NAME) >= 2
    finally:
        dns.stop()
        a.stop()
        b.stop()


# --- refused: the records wait for a configuration that works -------------------

@pytest.mark.skipif(h.VALGRIND, reason="reload needs a master process")
def test_wrong_ca_then_fixed_by_a_reload(nginx_factory, mock, dns, acl,
                                         redis_certs, tmp_path):
    n = gateway(nginx_factory, mock, dns,
                redis_line(NAME, acl, redis_certs, tmp_path, ca="other_ca"),
                tmp_path)
    n.allow += [r"redis", r"certificate"]
    error = r"the certificate of %s could not be verified" % ESC_NAME
    m = n.wait_log(r"\[error\].*aigw: redis \"%s:%d\": %s"
                   % (ESC_NAME, acl.tls_port, error), timeout=WAIT)
    assert m, n.read_error_log()[-2000:]
    want = send_some(n)
    # refused again after the requests: nothing can have been counted
    mark = n.mark()
    assert n.wait_log(error, since=mark, timeout=WAIT)
    assert acl.call("DBSIZE") == 0
    # fixed (the same address: the same journal): what waited arrives, once
    reconfigure(n, mock, dns, redis_line(NAME, acl, redis_certs, tmp_path),
                tmp_path)
    usage = wait_counts(acl, want)
    assert_counts(by_tenant_model(usage), want)
    assert_no_secret(n)


def test_certificate_for_another_name_then_fixed(nginx_factory, mock, dns,
                                                 redis_certs, tmp_path):
    """Redis's certificate names another host: refused; once Redis has a
    certificate with the right name, the gateway's next connect takes the
    records that waited in the queue."""
    r = redisd.RedisServer(tmp_path / "redis", tls=redis_certs)
    r.start()
    try:
        r.acl_user(USER, ACL_PASSWORD)
        n = gateway(nginx_factory, mock, dns,
                    redis_line(OTHER, r, redis_certs, tmp_path), tmp_path)
        n.allow += [r"redis", r"certificate"]
        error = r"the certificate of %s does not match its name" \
            % OTHER.replace(".", r"\.")
        m = n.wait_log(r"\[error\].*aigw: redis \"%s:%d\": %s"
                       % (OTHER.replace(".", r"\."), r.tls_port, error),
                       timeout=WAIT)
        assert m, n.read_error_log()[-2000:]
        want = send_some(n)
        mark = n.mark()
        assert n.wait_log(error, since=mark, timeout=WAIT)
        assert r.call("DBSIZE") == 0
        # a certificate for that name, from the same CA
        r.stop()
        r.tls = dict(redis_certs, **h.issue_cert(
            redis_certs, tmp_path / "fixed", [OTHER]))
        r.start()
        r.acl_user(USER, ACL_PASSWORD)
        usage = wait_counts(r, want)
        assert_counts(by_tenant_model(usage), want)
        assert_no_secret(n)
    finally:
        r.stop()


@pytest.mark.parametrize("user,password", [
    (USER, "not-the-Password-42"),
    ("nobody-here", ACL_PASSWORD),
])
def test_wrong_acl_credentials(nginx_factory, mock, dns, acl, redis_certs,
                               tmp_path, user, password):
    f = password_file(tmp_path, password)
    n = gateway(nginx_factory, mock, dns,
                "%s:%d tls=on tls_ca=%s username=%s password_file=%s"
                % (NAME, acl.tls_port, redis_certs["ca"], user, f),
                tmp_path)
    n.allow += [r"redis"]
    m = n.wait_log(r"\[error\].*aigw: redis \"%s:%d\" refused the "
                   r"connection: WRONGPASS" % (NAME.replace(".", r"\."),
                                               acl.tls_port), timeout=WAIT)
    assert m, n.read_error_log()[-2000:]
    send_some(n, 2)
    mark = n.mark()
    assert n.wait_log(r"refused the connection", since=mark, timeout=WAIT)
    assert acl.call("DBSIZE") == 0
    log = n.read_error_log()
    assert password not in log
    assert ACL_PASSWORD not in log


def test_tls_verify_off(nginx_factory, mock, dns, acl, redis_certs,
                        tmp_path):
    """A certificate for another name, not verified: counted, and said at
    start."""
    n = gateway(nginx_factory, mock, dns,
                redis_line(OTHER, acl, redis_certs, tmp_path,
                           ca="other_ca", extra=" tls_verify=off"),
                tmp_path)
    n.allow += [r"tls_verify=off"]
    assert n.wait_log(r"\[warn\].*tls_verify=off: the certificate of "
                      r"\"%s:%d\" is not verified" % (
                          OTHER.replace(".", r"\."), acl.tls_port))
    want = send_some(n)
    usage = wait_counts(acl, want)
    assert_counts(by_tenant_model(usage), want)


def test_plain_name_and_password(nginx_factory, mock, dns, tmp_path):
    """No TLS: a name and requirepass's password (AUTH password)."""
    r = redisd.RedisServer(tmp_path / "redis", password="plain pass")
    r.start()
    try:
        n = gateway(nginx_factory, mock, dns,
                    '"%s:%d" "password=plain pass"' % (NAME, r.port),
                    tmp_path)
        want = send_some(n)
        usage = wait_counts(r, want)
        assert_counts(by_tenant_model(usage), want)
    finally:
        r.stop()


# --- nginx -t ------------------------------------------------------------------

def conf_t(args, resolver=True):
    return (h.aigw_http("http://127.0.0.1:9") +
            ("resolver 127.0.0.1:9 ipv6=off;\n" if resolver else "") +
            "aigw_redis %s;\n" % args)


@pytest.mark.parametrize("args", [
    "%s:6379" % NAME,
    "%s:6380 tls=on" % NAME,
    "%s:6380 tls=on tls_verify=on username=u password=p db=1" % NAME,
    "127.0.0.1:6380 tls=on",
    "[::1]:6380 tls=on tls=off",
])
def test_config_good(nginx_t, args):
    t0 = time.monotonic()
    rc, out = nginx_t(conf_t(args))
    assert rc == 0, out
    # the name is not resolved (the resolver there answers nothing)
    assert time.monotonic() - t0 < 5


def test_config_password_file(nginx_t, tmp_path):
    f = password_file(tmp_path, "file-Secret-1")
    rc, out = nginx_t(conf_t("%s:6379 username=u password_file=%s"
                             % (NAME, f)))
    assert rc == 0, out
    assert "file-Secret-1" not in out


def test_config_tls_ca(nginx_t, redis_certs):
    rc, out = nginx_t(conf_t("%s:6380 tls=on tls_ca=%s"
                             % (NAME, redis_certs["ca"])))
    assert rc == 0, out


def test_config_tls_verify_off_warns(nginx_t):
    rc, out = nginx_t(conf_t("%s:6380 tls=on tls_verify=off" % NAME))
    assert rc == 0, out
    assert "[warn]" in out and "tls_verify=off" in out, out


@pytest.mark.parametrize("args,message", [
    ("%s:6379" % NAME, 'add a "resolver" to http{}'),
    ("%s:6379 tls=on" % NAME, 'add a "resolver" to http{}'),
])
def test_config_name_without_resolver(nginx_t, args, message):
    rc, out = nginx_t(conf_t(args, resolver=False))
    assert rc != 0, out
    assert message in out and NAME in out, out


@pytest.mark.parametrize("args,message", [
    ("127.0.0.1:6379 username=", 'invalid parameter "username="'),
    ("127.0.0.1:6379 password=", 'invalid parameter "password="'),
    ("127.0.0.1:6379 password_file=", 'invalid parameter "password_file="'),
    ("127.0.0.1:6379 username=u", "username= needs password="),
    ("127.0.0.1:6379 tls=yes", 'invalid parameter "tls=yes"'),
    ("127.0.0.1:6379 tls=on tls_verify=maybe",
     'invalid parameter "tls_verify=maybe"'),
    ("127.0.0.1:6379 tls=on tls_ca=", 'invalid parameter "tls_ca="'),
    ("127.0.0.1:6379 tls_ca=/etc/ssl/certs/ca-certificates.crt",
     "tls_ca= and tls_verify= need tls=on"),
    ("127.0.0.1:6379 tls_verify=off", "tls_ca= and tls_verify= need tls=on"),
    ("unix:/run/redis.sock tls=on", "not a unix socket"),
    ("127.0.0.1:6379 tls=on tls_ca=/nonexistent/ca.pem",
     "/nonexistent/ca.pem"),
    ("127.0.0.1:6379 password_file=/nonexistent/pass",
     '"aigw_redis" password_file "/nonexistent/pass": open() failed'),
])
def test_config_bad(nginx_t, args, message):
    rc, out = nginx_t(conf_t(args))
    assert rc != 0, out
    assert message in out, out


def test_config_password_and_file(nginx_t, tmp_path):
    f = password_file(tmp_path, "x")
    rc, out = nginx_t(conf_t("127.0.0.1:6379 password=p password_file=%s"
                             % f))
    assert rc != 0 and "password= or password_file=, not both" in out, out


def test_config_empty_password_file(nginx_t, tmp_path):
    f = tmp_path / "empty"
    f.write_text("\n")
    rc, out = nginx_t(conf_t("127.0.0.1:6379 password_file=%s" % f))
    assert rc != 0 and "is empty" in out, out

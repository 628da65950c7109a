"""
Fixtures of aigw's integration tests.

Environment (the Makefile sets the first two):
    AIGW_BUILD      build/ directory holding ngx_http_aigw_module.so
    NGINX_BIN       nginx to load it into (default /usr/sbin/nginx)
    AIGW_TESTDATA   shared test data (default <repo>/../shared/testdata)
    AIGW_VALGRIND=1 run nginx under valgrind memcheck, one process
    AIGW_ASAN=1     NGINX_BIN is built with ASan and UBSan: a report fails
                    the test (make test-asan)
    AIGW_STATIC_MODULE=1  the module is compiled into NGINX_BIN: no
                    load_module, no .so needed
"""

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import helpers as h                                     # noqa: E402
import mock_aws                                         # noqa: E402
import mock_upstream as mu                              # noqa: E402
import redisd                                           # noqa: E402


def pytest_report_header(config):
    if h.STATIC_MODULE:
        module = "compiled into nginx"
    else:
        module = "%s%s" % (h.module_path(), "" if h.module_path().is_file()
                           else " (MISSING)")
    out = ["aigw: module %s, nginx %s, testdata %s%s" % (
        module, h.nginx_bin(), h.testdata_dir(),
        "" if h.testdata_dir().is_dir() else " (MISSING)")]
    if h.VALGRIND:
        out.append("aigw: nginx runs under valgrind")
    if h.ASAN:
        source = Path(h.nginx_bin()).parent.parent / "SOURCE"
        out.append("aigw: nginx is built with ASan and UBSan%s" % (
            ": " + source.read_text().splitlines()[0]
            if source.is_file() else ""))
    return out


# --- locations ---------------------------------------------------------------

@pytest.fixture(scope="session")
def testdata():
    d = h.testdata_dir()
    if not d.is_dir():
        pytest.skip("test data not found at %s (set AIGW_TESTDATA)" % d)
    return d


@pytest.fixture(scope="session")
def captures(testdata):
    d = testdata / "bedrock-captures"
    if not d.is_dir():
        pytest.skip("bedrock captures not found at %s (set AIGW_TESTDATA)"
                    % d)
    return d


def skip_without_module():
    so = h.module_path()
    if h.module_needed() and not so.is_file():
        pytest.skip("module not built: %s missing (run make, or set "
                    "AIGW_BUILD)" % so)
    if not Path(h.nginx_bin()).is_file():
        pytest.skip("nginx not found at %s (set NGINX_BIN)" % h.nginx_bin())
    if h.VALGRIND and not shutil.which("valgrind"):
        pytest.skip("AIGW_VALGRIND=1 but valgrind is not installed")
    return so


@pytest.fixture(scope="session")
def module_so():
    return skip_without_module()


@pytest.fixture(scope="session")
def certs(tmp_path_factory):
    if not shutil.which("openssl"):
        pytest.skip("openssl CLI not installed")
    return h.make_certs(tmp_path_factory.mktemp("certs"))


@pytest.fixture(scope="session", autouse=True)
def default_tenants(tmp_path_factory):
    """
    The session's tenants file: one tenant ("harness") allowed every
    model, with one key (h.API_KEY, sent by the request helpers unless a
    test says otherwise).  h.aigw_http() includes it by default.
    """
    path = h.write_tenants(tmp_path_factory.mktemp("tenants") /
                           "tenants.json", h.tenants_doc(h.default_tenant()))
    h.set_default_tenants_file(path)
    return path


# --- Redis -------------------------------------------------------------------

@pytest.fixture
def redis(tmp_path):
    """
    A fresh redis-server, running, for the test's own nginx (a module
    that shares one across its tests defines its own "redis").
    """
    if not redisd.redis_server_bin():
        pytest.skip("redis-server not installed (make deps installs it)")
    r = redisd.RedisServer(tmp_path / "redis")
    r.start()
    yield r
    r.stop()


# --- the mock upstream ------------------------------------------------------

@pytest.fixture(scope="session")
def mock_server(aws_registry):
    m = mu.MockUpstream(captures_dir=str(h.captures_dir() or ""),
                        hold_timeout=h.HOLD_WAIT).start()
    m.trust(aws_registry)
    yield m
    m.stop()


@pytest.fixture
def mock(mock_server):
    """The plain-HTTP mock, with no recorded request."""
    mock_server.reset()
    yield mock_server
    mock_server.reset()


@pytest.fixture(scope="session")
def mock_tls_server(certs, aws_registry):
    m = mu.MockUpstream(captures_dir=str(h.captures_dir() or ""),
                        certfile=str(certs["cert"]),
                        keyfile=str(certs["key"]),
                        hold_timeout=h.HOLD_WAIT).start()
    m.trust(aws_registry)
    yield m
    m.stop()


@pytest.fixture
def mock_tls(mock_tls_server):
    mock_tls_server.reset()
    yield mock_tls_server
    mock_tls_server.reset()


# --- the AWS credential providers' mocks (t/mock_aws.py) --------------------

@pytest.fixture(scope="session")
def aws_registry():
    """
    The key pairs the mocks IMDS, container endpoint and STS issue, with
    their windows; the mock upstreams (mock, mock_tls) trust it: they
    accept a signature made with an issued key while it is valid.
    """
    return mock_aws.KeyRegistry()


@pytest.fixture
def aws_keys(aws_registry):
    """The registry, emptied for the test."""
    aws_registry.reset()
    yield aws_registry
    aws_registry.reset()


def _aws_mock(server, keys):
    """Resets a session's mock around a test (keys: already reset)."""
    server.reset()
    yield server
    server.reset()


@pytest.fixture(scope="session")
def imds_server(aws_registry):
    m = mock_aws.MockIMDS(aws_registry).start()
    yield m
    m.stop()


@pytest.fixture
def imds(imds_server, aws_keys):
    """
    The mock IMDS (IMDSv2 only), plain HTTP: point
    AWS_EC2_METADATA_SERVICE_ENDPOINT at imds.url; its role is
    imds.role (mock_aws.DEFAULT_ROLE).
    """
    yield from _aws_mock(imds_server, aws_keys)


@pytest.fixture(scope="session")
def container_server(aws_registry):
    m = mock_aws.MockContainer(aws_registry,
                               token=mock_aws.CONTAINER_TOKEN).start()
    yield m
    m.stop()


@pytest.fixture
def container(container_server, aws_keys):
    """
    The mock container credentials endpoint: GET container.url +
    container.path with Authorization: container.token
    (mock_aws.CONTAINER_TOKEN).
    """
    yield from _aws_mock(container_server, aws_keys)


def _sts(registry, **kw):
    return mock_aws.MockSTS(registry,
                            web_identity_token=mock_aws.WEB_IDENTITY_TOKEN,
                            credentials=mock_aws.SOURCE_CREDENTIALS,
                            **kw).start()


@pytest.fixture(scope="session")
def sts_server(aws_registry):
    m = _sts(aws_registry)
    yield m
    m.stop()


@pytest.fixture
def sts(sts_server, aws_keys):
    """
    The mock STS, plain HTTP: AssumeRoleWithWebIdentity with
    mock_aws.WEB_IDENTITY_TOKEN, AssumeRole signed with a key of
    mock_aws.SOURCE_CREDENTIALS or an issued one.
    """
    yield from _aws_mock(sts_server, aws_keys)


@pytest.fixture(scope="session")
def sts_tls_server(aws_registry, certs):
    m = _sts(aws_registry, certfile=str(certs["cert"]),
             keyfile=str(certs["key"]))
    yield m
    m.stop()


@pytest.fixture
def sts_tls(sts_tls_server, aws_keys):
    """The mock STS over HTTPS, its certificate signed by certs["ca"]."""
    yield from _aws_mock(sts_tls_server, aws_keys)


# --- nginx --------------------------------------------------------------------

class Launcher:
    """Starts nginx instances in fresh prefixes."""

    def __init__(self, tmp_path_factory):
        self.tmp = tmp_path_factory
        self.count = 0
        self.instances = []

    def new(self, http_conf, ports=None, env=None, start=True, name="nginx",
            main_extra=""):
        skip_without_module()
        self.count += 1
        prefix = self.tmp.mktemp("%s%d" % (name, self.count), numbered=False)
        if ports is None:
            ports = []
        n = h.Nginx(prefix, http_conf, ports, env=env, valgrind=h.VALGRIND,
                    main_extra=main_extra)
        self.instances.append(n)
        if start:
            n.start()
        return n


@pytest.fixture(scope="session")
def launcher(tmp_path_factory):
    """
    Every nginx the tests start comes from here; each has its logs
    scanned for key material when the test (or module) that started it
    stops it (stop_and_check); any the session's end finds unscanned
    (nginx -t runs) is scanned then.
    """
    lr = Launcher(tmp_path_factory)
    yield lr
    problems = []
    for n in lr.instances:
        if not getattr(n, "keys_scanned", False):
            problems += key_material_problems(n)
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


def stop_and_check(n):
    """
    Stops nginx and lists its problems: a bad exit, [alert]/[emerg]/
    [crit] lines, and key material in any of its logs (every key the
    tests sent so far, valid or not, its secret, its SHA-256).
    """
    problems = n.stop()
    bad = n.bad_log_lines(n.checked)
    if bad:
        problems.append("error.log of %s has:\n  %s" % (
            n.prefix, "\n  ".join(bad[:20])))
    return problems + key_material_problems(n)


def key_material_problems(n):
    n.keys_scanned = True
    found = h.scan_logs_for_keys(n.prefix)
    if not found:
        return []
    return ["key material in the logs of %s:\n  %s" % (
        n.prefix, "\n  ".join(found[:40]))]


@pytest.fixture
def nginx_factory(launcher):
    """
    nginx_factory(http_conf, ports=[...], env=None) starts an nginx whose
    http{} holds http_conf and waits for its ports; it is stopped after the
    test, which fails on [alert]/[emerg]/[crit], a crashed worker, or (under
    valgrind) memory errors.
    """
    started = []

    def make(http_conf, ports=None, env=None, start=True, main_extra=""):
        n = launcher.new(http_conf, ports, env, start, main_extra=main_extra)
        started.append(n)
        return n

    yield make
    problems = []
    for n in started:
        problems += stop_and_check(n)
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@pytest.fixture
def gateway(nginx_factory, mock):
    """
    gateway(location_extra="", http_extra="", ...) starts the standard
    gateway: region us-east-1, static long-term credentials, both services'
    endpoints on the plain mock, one server on a free port.
    """
    def make(location_extra="", http_extra="", server_extra="",
             credentials=None, region=h.REGION, env=None, params=h.AIGW_PARAMS):
        port = h.free_port()
        conf = h.aigw_http(mock.url, region=region, credentials=credentials,
                           extra=http_extra)
        conf += h.gateway_server(port, location_extra=location_extra,
                                 server_extra=server_extra, params=params)
        return nginx_factory(conf, [port], env=env)
    return make


@pytest.fixture
def nginx_t(launcher):
    """nginx_t(http_conf, env=None) -> (returncode, output) of nginx -t;
    the test fails if its logs hold key material, or a sanitizer reported
    an error of it."""
    ran = []

    def run(http_conf, env=None, main_extra=""):
        n = launcher.new(http_conf, [], env, start=False, name="conftest",
                         main_extra=main_extra)
        ran.append(n)
        return n.test_config()

    yield run
    problems = []
    for n in ran:
        problems += key_material_problems(n)
        problems += n.sanitizer_problems()
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


def shared_nginx(launcher, http_conf, ports, env=None):
    """For module-scoped fixtures: start, yield, stop and check."""
    n = launcher.new(http_conf, ports, env)
    yield n
    problems = stop_and_check(n)
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@pytest.fixture(scope="module")
def shared_gateway(launcher, mock_server):
    """One standard gateway for a whole test module (see gw)."""
    port = h.free_port()
    conf = h.aigw_http(mock_server.url) + h.gateway_server(port)
    yield from shared_nginx(launcher, conf, [port])


@pytest.fixture
def gw(shared_gateway, mock):
    """
    The module's shared gateway, for one test: the mock is reset and the
    test fails on bad error.log lines written while it ran.
    """
    n = shared_gateway
    if not n.running():
        pytest.fail("the shared nginx is not running any more:\n" +
                    n.read_error_log()[-3000:], pytrace=False)
    mark = n.mark()
    n.allow = []
    yield n
    bad = n.bad_log_lines(mark)
    n.checked = n.mark()
    if bad:
        pytest.fail("error.log:\n  " + "\n  ".join(bad[:20]), pytrace=False)

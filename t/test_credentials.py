"""
The AWS credential providers in the module, against the mocks of IMDS,
the container endpoint and STS (t/mock_aws.py): each source alone, the
chain's order, failures and recovery, none at all, TLS to STS, and
credentials that rotate every 15 seconds under load, every signature
checked by the mock upstream against the key pair valid at that moment.
"""

import json
import os
import statistics
import threading
import time

import pytest

import helpers as h
import mock_aws

CONVERSE = "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse"
BODY = b'{"messages":[{"role":"user","content":[{"text":"hi"}]}]}'

ROLE_ARN = "arn:aws:iam::123456789012:role/aigw-gateway"

# a worker's first look is at once; a retry after a failure within 2 s
READY_TIMEOUT = 20 if h.VALGRIND else 10


STARTED = []


@pytest.fixture(autouse=True)
def no_aws_secret_in_logs(nginx_factory, aws_keys):
    """
    After each test: no secret key, session token, web identity token or
    container token, issued or given, in any log of its nginx but the
    access log, whose test format logs $aigw_security_token on purpose.
    """
    del STARTED[:]
    yield
    secrets = [mock_aws.WEB_IDENTITY_TOKEN, mock_aws.CONTAINER_TOKEN,
               mock_aws.SOURCE_SECRET, h.SECRET]
    for e in aws_keys.issued():
        secrets += [x for x in (e["secret"], e["token"]) if x]
    for n in STARTED:
        for f in sorted(n.prefix.glob("*.log")):
            if f.name == "access.log":
                continue
            text = f.read_text(errors="replace")
            for s in secrets:
                assert s not in text, "a secret in %s" % f


def start(nginx_factory, mock, credentials, env, http_extra="",
          main_extra="", workers=None):
    port = h.free_port()
    conf = h.aigw_http(mock.url, credentials=credentials, extra=http_extra)
    conf += h.gateway_server(port)
    extra = h.env_lines(*sorted(env)) + main_extra
    if workers and not h.VALGRIND:
        extra += "worker_processes %d;\n" % workers
    n = nginx_factory(conf, [port], env=env, main_extra=extra)
    STARTED.append(n)
    return n


def wait_ready(n, timeout=READY_TIMEOUT):
    """Posts until the gateway has credentials (not 503); the response."""
    deadline = time.monotonic() + timeout
    while True:
        r = h.post(n.port, CONVERSE, BODY)
        if r.status != 503 or time.monotonic() > deadline:
            return r
        time.sleep(0.05)


def signed_with(mock):
    """The key ids the upstream saw, in order; every signature valid."""
    recs = mock.requests()
    for rec in recs:
        assert rec["sig_ok"], rec["sig_error"]
    return [rec["akid"] for rec in recs]


def issued(m):
    return [e["akid"] for e in m.issued()]


# --- each source alone ----------------------------------------------------------

def test_imds_alone(nginx_factory, mock, imds):
    n = start(nginx_factory, mock, "imds",
              {"AWS_EC2_METADATA_SERVICE_ENDPOINT": imds.url})
    r = wait_ready(n)
    assert r.status == 200, r
    assert signed_with(mock) == issued(imds)[-1:]
    reqs = imds.requests()
    # IMDSv2: the session token first, every GET with it
    assert reqs[0]["method"] == "PUT"
    assert reqs[0]["path"] == "/latest/api/token"
    assert all(q["status"] == 200 for q in reqs), reqs
    assert [q["path"] for q in reqs[1:3]] == [
        "/latest/meta-data/iam/security-credentials/",
        "/latest/meta-data/iam/security-credentials/%s" % imds.role]


def test_container_full_uri_alone(nginx_factory, mock, container, tmp_path):
    token = tmp_path / "token"
    token.write_text(mock_aws.CONTAINER_TOKEN)
    n = start(nginx_factory, mock, "ecs", {
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": container.url + container.path,
        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": str(token)})
    r = wait_ready(n)
    assert r.status == 200, r
    assert signed_with(mock) == issued(container)[-1:]
    [q] = container.requests()
    assert dict((k.lower(), v) for k, v in q["headers"])[
        "authorization"] == mock_aws.CONTAINER_TOKEN


def test_web_identity_alone(nginx_factory, mock, sts, tmp_path):
    token = tmp_path / "token"
    token.write_text(mock_aws.WEB_IDENTITY_TOKEN)
    n = start(nginx_factory, mock, "web_identity", {
        "AWS_WEB_IDENTITY_TOKEN_FILE": str(token),
        "AWS_ROLE_ARN": ROLE_ARN,
        "AWS_ROLE_SESSION_NAME": "aigw-test"},
        http_extra="aigw_endpoint sts %s;" % sts.url)
    r = wait_ready(n)
    assert r.status == 200, r
    assert signed_with(mock) == issued(sts)[-1:]
    [q] = sts.requests()
    assert q["form"]["Action"] == "AssumeRoleWithWebIdentity"
    assert q["form"]["RoleArn"] == ROLE_ARN
    assert q["form"]["RoleSessionName"] == "aigw-test"
    # unsigned
    assert "authorization" not in [k.lower() for k, _ in q["headers"]]


def test_web_identity_sts_from_environment(nginx_factory, mock, sts,
                                           tmp_path):
    """AWS_ENDPOINT_URL_STS, when aigw_endpoint sts is not given."""
    token = tmp_path / "token"
    token.write_text(mock_aws.WEB_IDENTITY_TOKEN)
    n = start(nginx_factory, mock, "chain", {
        "AWS_WEB_IDENTITY_TOKEN_FILE": str(token),
        "AWS_ROLE_ARN": ROLE_ARN,
        "AWS_ENDPOINT_URL_STS": sts.url})
    r = wait_ready(n)
    assert r.status == 200, r
    assert signed_with(mock) == issued(sts)[-1:]


def test_profile_assume_role(nginx_factory, mock, sts, tmp_path):
    """role_arn + source_profile: AssumeRole signed with the source's keys
    (the mock STS checks that signature with botocore)."""
    creds = tmp_path / "credentials"
    creds.write_text("[src]\naws_access_key_id = %s\n"
                     "aws_secret_access_key = %s\n" % (
                         mock_aws.SOURCE_AKID, mock_aws.SOURCE_SECRET))
    config = tmp_path / "config"
    config.write_text("[profile gw]\nrole_arn = %s\nsource_profile = src\n"
                      "role_session_name = gw-session\n" % ROLE_ARN)
    n = start(nginx_factory, mock, "file gw", {
        "AWS_SHARED_CREDENTIALS_FILE": str(creds),
        "AWS_CONFIG_FILE": str(config)},
        http_extra="aigw_endpoint sts %s;" % sts.url)
    r = wait_ready(n)
    assert r.status == 200, r
    assert signed_with(mock) == issued(sts)[-1:]
    [q] = sts.requests()
    assert q["form"]["Action"] == "AssumeRole"
    assert q["form"]["RoleSessionName"] == "gw-session"
    assert q["status"] == 200, q


def test_profile_credential_process(nginx_factory, mock, aws_keys,
                                    tmp_path):
    e = aws_keys.issue(3600, "process")
    out = json.dumps({"Version": 1, "AccessKeyId": e["akid"],
                      "SecretAccessKey": e["secret"],
                      "SessionToken": e["token"],
                      "Expiration": mock_aws.iso8601(e["not_after"])})
    script = tmp_path / "creds.sh"
    script.write_text("#!/bin/sh\ncat <<'EOF'\n%s\nEOF\n" % out)
    script.chmod(0o755)
    config = tmp_path / "config"
    config.write_text("[default]\ncredential_process = %s\n" % script)
    n = start(nginx_factory, mock, "file", {
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_CONFIG_FILE": str(config)})
    n.allow.append(r"unknown process \d+ exited")
    r = wait_ready(n)
    assert r.status == 200, r
    assert signed_with(mock) == [e["akid"]]


def test_profile_keys_with_dev_null_credentials_file(nginx_factory, mock,
                                                     tmp_path):
    """
    "/dev/null" as a file that says nothing, as the SDKs take it: the
    config file's keys are found.
    """
    config = tmp_path / "config"
    config.write_text("[default]\naws_access_key_id = %s\n"
                      "aws_secret_access_key = %s\n" % (h.AKID, h.SECRET))
    n = start(nginx_factory, mock, "file", {
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_CONFIG_FILE": str(config)})
    r = wait_ready(n)
    assert r.status == 200, r
    assert signed_with(mock) == [h.AKID]


# --- the chain's order ----------------------------------------------------------

def test_chain_env_before_container(nginx_factory, mock, container):
    n = start(nginx_factory, mock, "chain", {
        "AWS_ACCESS_KEY_ID": h.AKID, "AWS_SECRET_ACCESS_KEY": h.SECRET,
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": container.url + container.path,
        "AWS_CONTAINER_AUTHORIZATION_TOKEN": mock_aws.CONTAINER_TOKEN})
    r = h.post(n.port, CONVERSE, BODY)
    assert r.status == 200, r
    assert signed_with(mock) == [h.AKID]
    time.sleep(1.5)
    assert container.requests() == []


def test_chain_web_identity_before_container(nginx_factory, mock, sts,
                                             container, tmp_path):
    token = tmp_path / "token"
    token.write_text(mock_aws.WEB_IDENTITY_TOKEN)
    n = start(nginx_factory, mock, "chain", {
        "AWS_WEB_IDENTITY_TOKEN_FILE": str(token),
        "AWS_ROLE_ARN": ROLE_ARN,
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": container.url + container.path,
        "AWS_CONTAINER_AUTHORIZATION_TOKEN": mock_aws.CONTAINER_TOKEN},
        http_extra="aigw_endpoint sts %s;" % sts.url)
    r = wait_ready(n)
    assert r.status == 200, r
    assert signed_with(mock) == issued(sts)[-1:]
    assert container.requests() == []


def test_chain_container_before_imds(nginx_factory, mock, container, imds):
    n = start(nginx_factory, mock, "chain", {
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": container.url + container.path,
        "AWS_CONTAINER_AUTHORIZATION_TOKEN": mock_aws.CONTAINER_TOKEN,
        "AWS_EC2_METADATA_SERVICE_ENDPOINT": imds.url})
    r = wait_ready(n)
    assert r.status == 200, r
    assert signed_with(mock) == issued(container)[-1:]
    assert imds.requests() == []


def test_chain_ends_with_imds(nginx_factory, mock, imds, tmp_path):
    n = start(nginx_factory, mock, "chain", {
        "AWS_EC2_METADATA_SERVICE_ENDPOINT": imds.url,
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_CONFIG_FILE": str(tmp_path / "none")})
    r = wait_ready(n)
    assert r.status == 200, r
    assert signed_with(mock) == issued(imds)[-1:]


# --- failures -------------------------------------------------------------------

def test_no_source_at_all(nginx_factory, mock, tmp_path):
    """Nothing configured and no IMDS: 503 in Bedrock's shape, the reason
    logged once, not per request."""
    n = start(nginx_factory, mock, "chain", {
        "AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:%d"
        % h.free_port(),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_CONFIG_FILE": str(tmp_path / "none")})
    assert n.wait_log(r"aigw: AWS credentials: ", timeout=READY_TIMEOUT)
    for _ in range(5):
        r = h.post(n.port, CONVERSE, BODY)
        assert r.status == 503, r
        assert r.header("x-amzn-ErrorType").startswith(
            "ServiceUnavailableException")
        assert "credentials" in r.json()["message"]
    assert mock.requests() == []
    log = n.read_error_log()
    assert log.count("aigw: AWS credentials: ") == 1, log


def test_failing_then_recovering(nginx_factory, mock, imds):
    imds.fail(n=2, how="500")
    n = start(nginx_factory, mock, "imds",
              {"AWS_EC2_METADATA_SERVICE_ENDPOINT": imds.url})
    assert n.wait_log(r"aigw: AWS credentials: .*trying again in",
                      timeout=READY_TIMEOUT)
    r = wait_ready(n)
    assert r.status == 200, r
    assert signed_with(mock) == issued(imds)[-1:]
    assert n.wait_log(r"AWS credentials from .* after failures")


def test_sts_error_logged_with_code(nginx_factory, mock, sts, tmp_path):
    token = tmp_path / "token"
    token.write_text("not-the-token")
    n = start(nginx_factory, mock, "web_identity", {
        "AWS_WEB_IDENTITY_TOKEN_FILE": str(token),
        "AWS_ROLE_ARN": ROLE_ARN},
        http_extra="aigw_endpoint sts %s;" % sts.url)
    m = n.wait_log(r"aigw: AWS credentials: [^\n]*InvalidIdentityToken"
                   r"[^\n]*", timeout=READY_TIMEOUT)
    assert m, n.read_error_log()
    assert "not-the-token" not in n.read_error_log()
    assert h.post(n.port, CONVERSE, BODY).status == 503


def test_sts_over_tls(nginx_factory, mock, sts_tls, certs, tmp_path):
    token = tmp_path / "token"
    token.write_text(mock_aws.WEB_IDENTITY_TOKEN)
    n = start(nginx_factory, mock, "web_identity", {
        "AWS_WEB_IDENTITY_TOKEN_FILE": str(token),
        "AWS_ROLE_ARN": ROLE_ARN, "AWS_CA_BUNDLE": str(certs["ca"])},
        http_extra="aigw_endpoint sts https://127.0.0.1:%d;" % sts_tls.port)
    r = wait_ready(n)
    assert r.status == 200, r
    assert signed_with(mock) == issued(sts_tls)[-1:]


def test_sts_tls_certificate_verified(nginx_factory, mock, sts_tls,
                                      tmp_path):
    """Without the test CA the certificate is not trusted: no call."""
    token = tmp_path / "token"
    token.write_text(mock_aws.WEB_IDENTITY_TOKEN)
    n = start(nginx_factory, mock, "web_identity", {
        "AWS_WEB_IDENTITY_TOKEN_FILE": str(token),
        "AWS_ROLE_ARN": ROLE_ARN},
        http_extra="aigw_endpoint sts https://127.0.0.1:%d;" % sts_tls.port)
    assert n.wait_log(r"aigw: AWS credentials: ", timeout=READY_TIMEOUT)
    assert h.post(n.port, CONVERSE, BODY).status == 503
    assert sts_tls.requests() == []


def test_expired_never_used(nginx_factory, mock, imds):
    """The source fails after its first answer: requests are signed until
    the credentials' last 5 seconds, then get 503; none is signed with an
    expired key (the upstream checks each against its window)."""
    imds.lifetime = 16
    n = start(nginx_factory, mock, "imds",
              {"AWS_EC2_METADATA_SERVICE_ENDPOINT": imds.url})
    n.allow.append(r"AWS credentials: ")
    r = wait_ready(n)
    assert r.status == 200, r
    [e] = imds.issued()
    imds.fail(n=10000, how="500")
    statuses = []
    while time.time() < e["not_after"] + 2:
        statuses.append((time.time(), h.post(n.port, CONVERSE, BODY).status))
        time.sleep(0.2)
    ok = [t for t, s in statuses if s == 200]
    refused = [t for t, s in statuses if s == 503]
    assert ok and refused, statuses
    assert max(ok) < e["not_after"] - 4, (max(ok), e["not_after"])
    assert min(refused) > e["not_after"] - 7, (min(refused), e["not_after"])
    signed_with(mock)


def test_reload_keeps_credentials(nginx_factory, mock, imds):
    if h.VALGRIND:
        pytest.skip("valgrind runs nginx as one process: no reloads")
    n = start(nginx_factory, mock, "imds",
              {"AWS_EC2_METADATA_SERVICE_ENDPOINT": imds.url})
    assert wait_ready(n).status == 200
    fetched = len(imds.requests())
    rc, out = n.reload()
    assert rc == 0, out
    r = h.post(n.port, CONVERSE, BODY)
    assert r.status == 200, r
    time.sleep(1.5)
    assert len(imds.requests()) == fetched
    assert signed_with(mock) == issued(imds)[-1:] * 2


def test_one_fetch_for_all_workers(nginx_factory, mock, container):
    if h.VALGRIND:
        pytest.skip("valgrind runs nginx as one process")
    container.lifetime = 20
    n = start(nginx_factory, mock, "ecs", {
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": container.url + container.path,
        "AWS_CONTAINER_AUTHORIZATION_TOKEN": mock_aws.CONTAINER_TOKEN},
        workers=4)
    assert wait_ready(n).status == 200
    time.sleep(3)
    # one fetch, not one per worker; the next is 10 s before expiry
    assert len(container.requests()) == 1


# --- rotation under load --------------------------------------------------------

def test_rotation_under_load(nginx_factory, mock, sts, tmp_path):
    """
    Credentials that live 30 seconds (refreshed when 15 remain), each
    issue a new key pair, each fetch answered after 3 seconds; requests
    flow for two minutes from four clients.  None fails, none is signed
    with an expired or unknown key (the upstream checks each signature
    against the pair valid when it arrives), and none waits for a fetch:
    no request takes the fetch's 3 seconds, and those sent while a fetch
    is under way are as fast as the others.  (The fetch is long so that a
    request that waited for it stands out from a loaded machine's pauses;
    STS's, as it may take longer than a container endpoint's 2 seconds.)
    """
    delay = 3.0
    sts.lifetime = 30
    sts.fail(n=100000, how="slow", delay=delay)
    token = tmp_path / "token"
    token.write_text(mock_aws.WEB_IDENTITY_TOKEN)
    n = start(nginx_factory, mock, "web_identity", {
        "AWS_WEB_IDENTITY_TOKEN_FILE": str(token),
        "AWS_ROLE_ARN": ROLE_ARN},
        http_extra="aigw_endpoint sts %s;" % sts.url, workers=2)
    assert wait_ready(n, timeout=READY_TIMEOUT + delay).status == 200
    mock.reset()

    duration = 120
    end = time.monotonic() + duration
    results = []
    lock = threading.Lock()

    def client():
        while time.monotonic() < end:
            sent = time.time()
            t0 = time.monotonic()
            r = h.post(n.port, CONVERSE, BODY)
            took = time.monotonic() - t0
            with lock:
                results.append((r.status, sent, took))

    threads = [threading.Thread(target=client) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    statuses = [s for s, _, _ in results]
    assert statuses.count(200) == len(statuses), \
        [s for s in statuses if s != 200][:10]
    akids = signed_with(mock)
    assert len(akids) == len(results)
    keys = issued(sts)
    used = set(akids)
    # a new pair every 15 s or so: 7 or more in two minutes, all used
    assert len(used) >= 6, (len(used), len(keys))
    assert used <= set(keys)

    fetches = [q["time"] for q in sts.requests()]
    assert len(fetches) >= 7, fetches

    def during(t):
        return any(f <= t <= f + delay for f in fetches)

    inside = sorted(took for _, sent, took in results if during(sent))
    outside = sorted(took for _, sent, took in results if not during(sent))
    assert inside and outside
    slow = sorted((round(sent % 1000, 3), round(took, 3))
                  for _, sent, took in results if took >= delay * 0.8)
    assert not slow, (slow[:10], [round(f % 1000, 3) for f in fetches])
    assert statistics.median(inside) <= \
        2 * statistics.median(outside) + 0.005, (
            statistics.median(inside), statistics.median(outside))

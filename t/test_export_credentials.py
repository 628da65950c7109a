"""
"aigw export --out s3://..." with the credentials of the provider chain
(issue 10), the module's own (src/core/aigw_credchain.c run by
src/cli/aigw_cli_creds.c): EC2 instance metadata, the container endpoint,
web identity, a profile's role (AssumeRole, signed) and
credential_process, each against the mocks of t/mock_aws.py; the S3 mock
verifies every PUT with the key pair the mock issued (the shared
registry, aws_keys), valid at that moment.

And the bucket's region as the SDKs configure one (--s3-region, then
AWS_REGION, AWS_DEFAULT_REGION, the profile's region; only then S3 is
asked), separate from the pricing region (--region).
"""

import json
import time

import pytest

import mock_aws
import mock_s3
import redisd
from test_export import AIGW, DAY, HAIKU, NOVA, PRICING, aigw, \
    object_key, parse_csv, put_usage


pytestmark = [
    pytest.mark.skipif(not redisd.redis_server_bin(),
                       reason="redis-server not installed (make deps)"),
    pytest.mark.skipif(not AIGW.is_file(),
                       reason="%s is not built (make cli)" % AIGW),
]

ROLE_ARN = "arn:aws:iam::123456789012:role/aigw-export"
URL = "s3://aigw-usage/creds/"
KEY = object_key("creds/", DAY)


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory):
    r = redisd.RedisServer(tmp_path_factory.mktemp("redis-creds"),
                           unix=True)
    r.start()
    yield r
    r.stop()


@pytest.fixture
def redis(redis_server):
    if not redis_server.running():
        redis_server.start()
    redis_server.flush()
    put_usage(redis_server, DAY, "team-a", HAIKU, {"requests": 1})
    return redis_server


@pytest.fixture(scope="module")
def s3_server(aws_registry):
    m = mock_s3.MockS3(buckets={"aigw-usage": "eu-west-1",
                                "east-bucket": "us-east-1"}).start()
    m.trust(aws_registry)
    yield m
    m.stop()


@pytest.fixture
def s3(s3_server):
    s3_server.reset()
    yield s3_server
    s3_server.reset()


def export(redis, s3, env, *extra, check=0, url=URL):
    return aigw("export", "--date", DAY, "--redis", redis.address,
                "--out", url, "--endpoint", s3.url, *extra, env=env,
                check=check)


def assert_put_with(s3, entry, key=KEY, bucket="aigw-usage"):
    """The object is there, PUT with the issued key pair, verified."""
    assert list(s3.objects) == [(bucket, key)]
    puts = [q for q in s3.requests if q["method"] == "PUT"]
    assert puts and all(q["sig_ok"] for q in puts), \
        [q["sig_error"] for q in puts]
    assert {q["akid"] for q in s3.requests} == {entry["akid"]}
    assert "x-amz-security-token" in puts[-1]["signed_headers"]


def assert_no_secret(text, *entries):
    for e in entries:
        assert e["secret"] not in text
        assert e["token"] not in text


def write(path, text, mode=0o600):
    path.write_text(text)
    path.chmod(mode)
    return path


# --- the providers ----------------------------------------------------------

def test_imds(redis, s3, imds, aws_keys):
    """
    EC2 instance metadata, IMDSv2: a session token (PUT with its TTL),
    the role, its credentials; every GET with the token; the PUT to S3
    signed with the key pair IMDS issued.  -v names the origin, never the
    secret.
    """
    env = {"AWS_EC2_METADATA_DISABLED": None,
           "AWS_EC2_METADATA_SERVICE_ENDPOINT": imds.url}
    r = export(redis, s3, env, "-v")
    [e] = aws_keys.issued("imds")
    assert_put_with(s3, e)
    log = imds.requests()
    assert [(q["method"], q["path"], q["status"]) for q in log] == [
        ("PUT", "/latest/api/token", 200),
        ("GET", "/latest/meta-data/iam/security-credentials/", 200),
        ("GET", "/latest/meta-data/iam/security-credentials/" +
         mock_aws.DEFAULT_ROLE, 200)]
    ttl = [v for k, v in log[0]["headers"]
           if k.lower() == "x-aws-ec2-metadata-token-ttl-seconds"]
    assert len(ttl) == 1 and 1 <= int(ttl[0]) <= 21600
    assert 'credentials from instance profile "%s" (imds)' % \
        mock_aws.DEFAULT_ROLE in r.stderr, r.stderr
    assert_no_secret(r.stderr + r.stdout, e)


def test_imds_off_and_absent(redis, s3, imds, aws_keys):
    """
    AWS_EC2_METADATA_DISABLED=true: IMDS is never asked.  IMDS that does
    not answer (the connection closed): "no credentials", exit 1.
    """
    env = {"AWS_EC2_METADATA_SERVICE_ENDPOINT": imds.url}
    r = export(redis, s3, env, check=1)
    assert imds.requests() == []
    assert "no AWS credentials found" in r.stderr, r.stderr
    assert "disabled (AWS_EC2_METADATA_DISABLED)" in r.stderr, r.stderr

    imds.fail(10, "close")
    env["AWS_EC2_METADATA_DISABLED"] = None
    r = export(redis, s3, env, check=1)
    assert imds.requests(), "IMDS was not asked"
    assert imds.requests()[0]["path"] == "/latest/api/token"
    assert "no AWS credentials found" in r.stderr, r.stderr
    assert "connection closed" in r.stderr, r.stderr
    assert s3.requests == [] and s3.objects == {}
    assert aws_keys.issued() == []


def test_container(redis, s3, container, aws_keys, tmp_path):
    """
    The container endpoint (AWS_CONTAINER_CREDENTIALS_FULL_URI on
    loopback), its Authorization token read from
    AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE; a wrong token fails with the
    endpoint's answer, and the token is never printed.
    """
    token = write(tmp_path / "token", container.token)
    env = {"AWS_CONTAINER_CREDENTIALS_FULL_URI":
           container.url + container.path,
           "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": str(token)}
    r = export(redis, s3, dict(env), "--verbose")
    assert "credentials from container endpoint (ecs)" in r.stderr, r.stderr
    [e] = aws_keys.issued("container")
    assert_put_with(s3, e)
    [q] = container.requests()
    assert (q["method"], q["path"], q["status"]) == ("GET", container.path,
                                                     200)
    assert [v for k, v in q["headers"] if k.lower() == "authorization"] \
        == [container.token]
    assert_no_secret(r.stderr, e)
    assert container.token not in r.stderr

    s3.reset()
    write(token, "not-the-token")
    r = export(redis, s3, env, check=1)
    assert container.requests()[-1]["status"] == 403
    assert "403" in r.stderr, r.stderr
    assert "not-the-token" not in r.stderr
    assert s3.objects == {}
    assert len(aws_keys.issued("container")) == 1


def test_web_identity(redis, s3, sts, aws_keys, tmp_path):
    """
    AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN: STS
    AssumeRoleWithWebIdentity (unsigned) at AWS_ENDPOINT_URL_STS, the
    token as read from the file, the session name given.
    """
    tok = write(tmp_path / "jwt", mock_aws.WEB_IDENTITY_TOKEN)
    env = {"AWS_WEB_IDENTITY_TOKEN_FILE": str(tok),
           "AWS_ROLE_ARN": ROLE_ARN,
           "AWS_ROLE_SESSION_NAME": "aigw-export-test",
           "AWS_ENDPOINT_URL_STS": sts.url}
    r = export(redis, s3, env, "-v")
    [e] = aws_keys.issued("sts")
    assert_put_with(s3, e)
    [q] = sts.requests()
    assert (q["method"], q["path"], q["status"]) == ("POST", "/", 200)
    assert q["form"]["Action"] == "AssumeRoleWithWebIdentity"
    assert q["form"]["RoleArn"] == ROLE_ARN
    assert q["form"]["RoleSessionName"] == "aigw-export-test"
    assert q["form"]["WebIdentityToken"] == mock_aws.WEB_IDENTITY_TOKEN
    assert ROLE_ARN in r.stderr, r.stderr
    assert mock_aws.WEB_IDENTITY_TOKEN not in r.stderr
    assert_no_secret(r.stderr, e)


def test_web_identity_sts_tls(redis, s3, sts_tls, aws_keys, tmp_path,
                              certs):
    """STS over HTTPS: its certificate verified against AWS_CA_BUNDLE."""
    tok = write(tmp_path / "jwt", mock_aws.WEB_IDENTITY_TOKEN)
    env = {"AWS_WEB_IDENTITY_TOKEN_FILE": str(tok),
           "AWS_ROLE_ARN": ROLE_ARN,
           "AWS_ENDPOINT_URL_STS": sts_tls.url,
           "AWS_CA_BUNDLE": str(certs["ca"])}
    export(redis, s3, env)
    [e] = aws_keys.issued("sts")
    assert_put_with(s3, e)
    [q] = sts_tls.requests()
    assert q["tls"] and q["status"] == 200
    assert q["form"]["RoleSessionName"]

    s3.reset()
    r = export(redis, s3, dict(env, AWS_CA_BUNDLE=str(certs["other_ca"])),
               check=1)
    assert "certificate" in r.stderr, r.stderr
    assert len(sts_tls.requests()) == 1
    assert s3.objects == {}


def test_sts_error(redis, s3, sts, aws_keys, tmp_path):
    """
    STS refuses: exit 1, STS's code and message, never the web identity
    token; the same for a role STS does not let assume.
    """
    tok = write(tmp_path / "jwt", "eyJ.not-the-expected.token")
    env = {"AWS_WEB_IDENTITY_TOKEN_FILE": str(tok),
           "AWS_ROLE_ARN": ROLE_ARN,
           "AWS_ENDPOINT_URL_STS": sts.url}
    r = export(redis, s3, env, "-v", check=1)
    assert "InvalidIdentityToken" in r.stderr, r.stderr
    assert "Couldn't verify the web identity token" in r.stderr, r.stderr
    assert "eyJ.not-the-expected.token" not in r.stderr
    assert [q["error"] for q in sts.requests()] == ["InvalidIdentityToken"]

    sts.roles = {"arn:aws:iam::123456789012:role/another"}
    write(tok, mock_aws.WEB_IDENTITY_TOKEN)
    r = export(redis, s3, env, check=1)
    assert "AccessDenied" in r.stderr, r.stderr
    assert "is not authorized to perform: sts:AssumeRoleWithWebIdentity" \
        in r.stderr, r.stderr
    assert mock_aws.WEB_IDENTITY_TOKEN not in r.stderr
    assert s3.requests == [] and aws_keys.issued() == []


def test_profile_assume_role(redis, s3, sts, aws_keys, tmp_path):
    """
    A profile with role_arn + source_profile: STS AssumeRole signed with
    the source profile's keys (verified with botocore by the mock STS),
    for the region configured (the bucket's, --s3-region); the PUT with
    the role's key pair.
    """
    creds = write(tmp_path / "credentials",
                  "[base]\naws_access_key_id = %s\n"
                  "aws_secret_access_key = %s\n"
                  % (mock_aws.SOURCE_AKID, mock_aws.SOURCE_SECRET))
    config = write(tmp_path / "config",
                   "[profile finance]\nrole_arn = %s\n"
                   "source_profile = base\n"
                   "role_session_name = aigw-finance\n" % ROLE_ARN)
    env = {"AWS_SHARED_CREDENTIALS_FILE": str(creds),
           "AWS_CONFIG_FILE": str(config),
           "AWS_PROFILE": "finance",
           "AWS_ENDPOINT_URL_STS": sts.url}
    r = export(redis, s3, env, "--s3-region", "eu-west-1", "-v")
    [e] = aws_keys.issued("sts")
    assert_put_with(s3, e)
    [q] = sts.requests()
    assert q["status"] == 200, q
    assert q["sig_ok"], q["sig_error"]
    assert (q["signed_by"], q["region"]) == (mock_aws.SOURCE_AKID,
                                             "eu-west-1")
    assert q["form"]["Action"] == "AssumeRole"
    assert q["form"]["RoleArn"] == ROLE_ARN
    assert q["form"]["RoleSessionName"] == "aigw-finance"
    assert mock_aws.SOURCE_SECRET not in r.stderr
    assert_no_secret(r.stderr, e)

    # the source's secret wrong: STS's SignatureDoesNotMatch
    s3.reset()
    write(creds, "[base]\naws_access_key_id = %s\n"
          "aws_secret_access_key = wrong%s\n"
          % (mock_aws.SOURCE_AKID, mock_aws.SOURCE_SECRET[5:]))
    r = export(redis, s3, env, "--s3-region", "eu-west-1", check=1)
    assert "SignatureDoesNotMatch" in r.stderr, r.stderr
    assert s3.objects == {}


def test_credential_process(redis, s3, aws_keys, tmp_path):
    """
    credential_process: run with sh -c, stdin /dev/null, its JSON output
    taken; a failing process is an error naming its exit status.
    """
    e = aws_keys.issue(900, "process")
    out = json.dumps({"Version": 1, "AccessKeyId": e["akid"],
                      "SecretAccessKey": e["secret"],
                      "SessionToken": e["token"],
                      "Expiration": mock_aws.iso8601(e["not_after"])})
    (tmp_path / "creds.json").write_text(out)
    script = write(tmp_path / "creds.sh",
                   "#!/bin/sh\n"
                   "# stdin must be /dev/null: read would block otherwise\n"
                   "read -r line && exit 9\n"
                   "echo \"$1\" > \"%s/ran\"\n"
                   "cat \"%s/creds.json\"\n" % (tmp_path, tmp_path),
                   mode=0o700)
    config = write(tmp_path / "config",
                   "[default]\ncredential_process = %s first-arg\n"
                   % script)
    env = {"AWS_CONFIG_FILE": str(config),
           "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none")}
    r = export(redis, s3, env, "-v")
    assert_put_with(s3, e)
    assert (tmp_path / "ran").read_text() == "first-arg\n"
    assert_no_secret(r.stderr, e)

    s3.reset()
    write(config, "[default]\ncredential_process = sh -c 'exit 3'\n")
    r = export(redis, s3, env, check=1)
    assert "status 3" in r.stderr and "credential_process" in r.stderr, \
        r.stderr
    assert s3.requests == []

    # more output than a credential_process may write: killed, an error
    write(config, "[default]\ncredential_process = sh -c 'cat %s; "
          "exec yes'\n" % (tmp_path / "creds.json"))
    r = export(redis, s3, env, check=1)
    assert "credential_process" in r.stderr and "65536" in r.stderr, \
        r.stderr
    assert s3.requests == []


# --- the bucket's region ----------------------------------------------------

# (what is configured, the bucket is in eu-west-1): each time the first
# one of the precedence is right and every later one wrong, so that a PUT
# signed for a wrong region would show (400, then a second PUT)
PRECEDENCE = {
    "s3-region": (["--s3-region", "eu-west-1"],
                  {"AWS_REGION": "us-west-2",
                   "AWS_DEFAULT_REGION": "ap-south-1"}, "ca-central-1"),
    "AWS_REGION": ([], {"AWS_REGION": "eu-west-1",
                        "AWS_DEFAULT_REGION": "ap-south-1"}, "ca-central-1"),
    "AWS_DEFAULT_REGION": ([], {"AWS_DEFAULT_REGION": "eu-west-1"},
                           "ca-central-1"),
    "profile": ([], {}, "eu-west-1"),
}


@pytest.mark.parametrize("case", sorted(PRECEDENCE))
def test_bucket_region_precedence(redis, s3, tmp_path, case):
    """
    --s3-region beats AWS_REGION beats AWS_DEFAULT_REGION beats the
    profile's region: S3 is not asked (no HEAD), the PUT goes at once to
    the bucket's region.
    """
    args, env, profile_region = PRECEDENCE[case]
    config = write(tmp_path / "config", "[default]\nregion = us-west-1\n"
                   "[profile finance]\nregion = %s\n" % profile_region)
    env = dict(env, AWS_ACCESS_KEY_ID=mock_s3.AKID,
               AWS_SECRET_ACCESS_KEY=mock_s3.SECRET,
               AWS_CONFIG_FILE=str(config), AWS_PROFILE="finance")
    r = export(redis, s3, env, *args, "--verbose")
    assert [(q["method"], q["status"], q["region"]) for q in s3.requests] \
        == [("PUT", 200, "eu-west-1")], r.stderr
    assert list(s3.objects) == [("aigw-usage", KEY)]
    assert 'bucket "aigw-usage" in eu-west-1' in r.stderr, r.stderr


def test_bucket_region_asked_of_s3_only_without_any(redis, s3, tmp_path):
    """
    None configured (a profile without region): HEAD, then the PUT in the
    region S3 named.  S3 that does not answer HEAD nor GetBucketLocation
    (an S3-compatible store): a configured region is enough.
    """
    config = write(tmp_path / "config", "[default]\noutput = json\n")
    env = {"AWS_ACCESS_KEY_ID": mock_s3.AKID,
           "AWS_SECRET_ACCESS_KEY": mock_s3.SECRET,
           "AWS_CONFIG_FILE": str(config)}
    export(redis, s3, env)
    assert [(q["method"], q["status"], q["region"]) for q in s3.requests] \
        == [("HEAD", 301, "us-east-1"), ("PUT", 200, "eu-west-1")]

    s3.reset()
    s3.fail_next = [405, 405]
    r = export(redis, s3, env, check=1)
    assert "cannot find its region" in r.stderr, r.stderr
    assert [q["method"] for q in s3.requests] == ["HEAD", "GET"]
    s3.reset()
    s3.fail_next = [405]
    r = export(redis, s3, dict(env, AWS_REGION="eu-west-1"), check=1)
    # the region known: the first request is the PUT (refused on purpose)
    assert [q["method"] for q in s3.requests] == ["PUT"]

    # a region that is no region name
    r = export(redis, s3, dict(env, AWS_REGION="eu west/1"), check=1)
    assert "AWS_REGION" in r.stderr, r.stderr
    r = export(redis, s3, env, "--s3-region", "EU_WEST", check=1)
    assert "--s3-region" in r.stderr, r.stderr


def test_pricing_region_separate(redis, s3, tmp_path):
    """
    eu-central-1 usage, priced with eu-central-1's prices (--region),
    exported to a us-east-1 bucket: the PUT signed for us-east-1 at once.
    """
    put_usage(redis, DAY, "team-b", NOVA, {"requests": 1,
                                           "input_tokens": 1000,
                                           "output_tokens": 1000})
    pricing = write(tmp_path / "pricing.json", PRICING)
    env = {"AWS_ACCESS_KEY_ID": mock_s3.AKID,
           "AWS_SECRET_ACCESS_KEY": mock_s3.SECRET,
           "AWS_REGION": "us-east-1"}
    for extra in ([], ["--s3-region", "us-east-1"]):
        s3.reset()
        export(redis, s3, env, "--region", "eu-central-1", "--pricing",
               pricing, *extra, url="s3://east-bucket/p/")
        assert [(q["method"], q["status"], q["region"])
                for q in s3.requests] == [("PUT", 200, "us-east-1")]
        body = s3.objects[("east-bucket", object_key("p/", DAY))]["body"]
        rows = {x["model_id"]: x for x in parse_csv(body.decode())}
        # eu-central-1: 1000 x 0.000078 / 1000 + 1000 x 0.000312 / 1000
        assert (rows[NOVA]["input_cost"], rows[NOVA]["output_cost"],
                rows[NOVA]["total_cost"]) == ("0.000078000", "0.000312000",
                                              "0.000390000")

    r = aigw("export", "--date", DAY, "--redis", redis.address,
             "--s3-region", "us-east-1", check=2)
    assert "--s3-region is for --out s3://" in r.stderr, r.stderr


def test_no_credentials_at_all(redis, s3, tmp_path):
    """
    Nothing configured and IMDS off: a clear error, exit 1, no request.
    """
    r = export(redis, s3, {"AWS_CONFIG_FILE": str(tmp_path / "no-config"),
                           "AWS_SHARED_CREDENTIALS_FILE":
                           str(tmp_path / "no-credentials")}, check=1)
    assert "no AWS credentials found" in r.stderr, r.stderr
    for where in ("AWS_ACCESS_KEY_ID", "AWS_WEB_IDENTITY_TOKEN_FILE",
                  str(tmp_path / "no-config"),
                  "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                  "AWS_EC2_METADATA_DISABLED"):
        assert where in r.stderr, (where, r.stderr)
    assert s3.requests == []


def test_files_unreadable_are_errors(redis, s3, sts, tmp_path):
    """
    A web identity token file that is not there, or over 1 MiB: the
    chain's error (the source is configured), no fallback to another
    identity, nothing sent to STS.
    """
    env = {"AWS_WEB_IDENTITY_TOKEN_FILE": str(tmp_path / "missing"),
           "AWS_ROLE_ARN": ROLE_ARN,
           "AWS_ENDPOINT_URL_STS": sts.url}
    r = export(redis, s3, env, check=1)
    assert str(tmp_path / "missing") in r.stderr, r.stderr

    big = write(tmp_path / "big", "x" * (1024 * 1024 + 1))
    env["AWS_WEB_IDENTITY_TOKEN_FILE"] = str(big)
    r = export(redis, s3, env, check=1)
    assert str(big) in r.stderr, r.stderr
    assert s3.requests == [] and sts.requests() == []


def test_container_stalled_times_out(redis, s3, container, aws_keys,
                                     tmp_path):
    """
    A container endpoint that takes the request and does not answer: the
    fetch ends at its deadline (2 s, the whole exchange), a clear error,
    never a hang.
    """
    token = write(tmp_path / "token", container.token)
    env = {"AWS_CONTAINER_CREDENTIALS_FULL_URI":
           container.url + container.path,
           "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": str(token)}
    container.fail(n=100, how="slow", delay=8)
    t = time.monotonic()
    r = export(redis, s3, env, check=1)
    took = time.monotonic() - t
    assert "timed out" in r.stderr, r.stderr
    assert took < 7, (took, r.stderr)
    assert s3.objects == {}

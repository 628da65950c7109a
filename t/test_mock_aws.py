"""
The mocks of the AWS credential providers (t/mock_aws.py) on their own:
IMDSv2 only and its token TTL honoured, the container endpoint's token
checked, STS's answers and errors in its XML, AssumeRole's signature
verified with botocore, failures injected, and the key pairs they issue
accepted by the upstream and S3 mocks only within their windows.
"""

import datetime
import http.client
import ssl
import time
import urllib.parse
import xml.etree.ElementTree as ET

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

import helpers as h
import mock_aws
import mock_s3

NS = {"s": mock_aws.STS_NS}
CREDS = "/latest/meta-data/iam/security-credentials/"
ROLE_ARN = "arn:aws:iam::123456789012:role/aigw-gateway"
CONVERSE = "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse"
BODY = b'{"messages":[{"role":"user","content":[{"text":"hi"}]}]}'


def req(m, method, path, headers=(), body=None, **kw):
    return h.http_request(m.port, method, path, headers, body, api_key=None,
                          **kw)


def imds_token(m, ttl="60"):
    r = req(m, "PUT", "/latest/api/token",
            [("X-aws-ec2-metadata-token-ttl-seconds", ttl)])
    assert r.status == 200, r
    assert r.header("X-aws-ec2-metadata-token-ttl-seconds") == ttl
    return r.body.decode()


def parse_time(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def form(**params):
    return urllib.parse.urlencode(dict(Version="2011-06-15",
                                       **params)).encode()


FORM = [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")]


def sts_error(r):
    root = ET.fromstring(r.body)
    assert root.tag == "{%s}ErrorResponse" % mock_aws.STS_NS
    err = root.find("s:Error", NS)
    assert err.find("s:Type", NS).text in ("Sender", "Receiver")
    assert root.find("s:RequestId", NS).text
    return err.find("s:Code", NS).text, err.find("s:Message", NS).text


def sts_creds(r, action):
    assert r.status == 200, r
    root = ET.fromstring(r.body)
    assert root.tag == "{%s}%sResponse" % (mock_aws.STS_NS, action)
    res = root.find("s:%sResult" % action, NS)
    c = res.find("s:Credentials", NS)
    assert res.find("s:AssumedRoleUser/s:Arn", NS).text.startswith(
        "arn:aws:sts::123456789012:assumed-role/aigw-gateway/")
    return {k: c.find("s:" + k, NS).text for k in (
        "AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration")}


def signed_assume_role(m, akid, secret, token=None, body=None,
                       region="us-east-1"):
    body = body or form(Action="AssumeRole", RoleArn=ROLE_ARN,
                        RoleSessionName="aigw-test")
    r = AWSRequest("POST", m.url + "/", data=body,
                   headers=dict(FORM))
    SigV4Auth(Credentials(akid, secret, token), "sts", region).add_auth(r)
    return list(r.headers.items()), body


# --- IMDS -------------------------------------------------------------------

def test_imds_v1_refused_v2_answers(imds, aws_keys):
    assert req(imds, "GET", CREDS).status == 401
    assert req(imds, "GET", CREDS + imds.role).status == 401
    assert aws_keys.issued() == []

    tok = imds_token(imds)
    hdr = [("X-aws-ec2-metadata-token", tok)]
    r = req(imds, "GET", CREDS, hdr)
    assert (r.status, r.body.decode()) == (200, mock_aws.DEFAULT_ROLE)
    assert req(imds, "GET", CREDS + "other-role", hdr).status == 404
    assert req(imds, "GET", CREDS, [("X-aws-ec2-metadata-token",
                                     tok + "x")]).status == 401

    before = time.time()
    r1 = req(imds, "GET", CREDS + imds.role, hdr)
    r2 = req(imds, "GET", CREDS + imds.role, hdr)
    d1, d2 = r1.json(), r2.json()
    assert (d1["Code"], d1["Type"]) == ("Success", "AWS-HMAC")
    # a new key pair at each issue
    assert d1["AccessKeyId"] != d2["AccessKeyId"]
    assert d1["SecretAccessKey"] != d2["SecretAccessKey"]
    assert d1["Token"] != d2["Token"]
    assert d1["AccessKeyId"].startswith("ASIA")
    assert len(d1["AccessKeyId"]) == 20
    exp = parse_time(d1["Expiration"])
    assert before + 3600 - 1 <= exp <= time.time() + 3600
    # the registry: both, with their windows as told
    e1, e2 = aws_keys.issued()
    assert [e1["akid"], e2["akid"]] == [d1["AccessKeyId"],
                                        d2["AccessKeyId"]]
    assert e1["issuer"] == "imds"
    assert (e1["secret"], e1["token"]) == (d1["SecretAccessKey"],
                                           d1["Token"])
    assert e1["not_after"] == exp
    assert before <= e1["not_before"] <= time.time()
    assert [x["akid"] for x in imds.requests()
            if x["akid"]] == [e1["akid"], e2["akid"]]
    assert [x["status"] for x in imds.requests()] == [
        401, 401, 200, 200, 404, 401, 200, 200]


@pytest.mark.parametrize("ttl", [None, "0", "21601", "-1", "abc", "1.5"])
def test_imds_token_ttl_required_in_range(imds, ttl):
    hdr = [] if ttl is None else [("X-aws-ec2-metadata-token-ttl-seconds",
                                   ttl)]
    assert req(imds, "PUT", "/latest/api/token", hdr).status == 400
    assert imds.tokens() == {}


def test_imds_token_expires_after_its_ttl(imds):
    assert imds_token(imds, "21600")
    tok = imds_token(imds, "1")
    hdr = [("X-aws-ec2-metadata-token", tok)]
    assert req(imds, "GET", CREDS, hdr).status == 200
    time.sleep(1.2)
    assert req(imds, "GET", CREDS, hdr).status == 401
    # GET on the token path is not how a token is asked for
    assert req(imds, "GET", "/latest/api/token").status == 405


# --- the container endpoint ------------------------------------------------

def test_container_checks_the_token(container, aws_keys):
    path = container.path
    assert req(container, "GET", path).status == 403
    assert req(container, "GET", path,
               [("Authorization", "wrong")]).status == 403
    assert req(container, "GET", "/other",
               [("Authorization", container.token)]).status == 404
    assert aws_keys.issued() == []
    r = req(container, "GET", path, [("Authorization", container.token)])
    assert r.status == 200, r
    d = r.json()
    assert set(d) == {"AccessKeyId", "SecretAccessKey", "Token",
                      "Expiration", "RoleArn"}
    [e] = aws_keys.issued("container")
    assert (e["akid"], e["secret"], e["token"]) == (
        d["AccessKeyId"], d["SecretAccessKey"], d["Token"])
    assert e["not_after"] == parse_time(d["Expiration"])
    assert [x["error"] for x in container.requests()] == [
        "AccessDenied", "AccessDenied", "NotFound", None]


# --- STS --------------------------------------------------------------------

def test_sts_web_identity(sts, aws_keys):
    body = form(Action="AssumeRoleWithWebIdentity", RoleArn=ROLE_ARN,
                RoleSessionName="aigw-1",
                WebIdentityToken=mock_aws.WEB_IDENTITY_TOKEN)
    c = sts_creds(req(sts, "POST", "/", FORM, body),
                  "AssumeRoleWithWebIdentity")
    [e] = aws_keys.issued("sts")
    assert (c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"]) == (
        e["akid"], e["secret"], e["token"])
    assert parse_time(c["Expiration"]) == e["not_after"]
    rec = sts.requests()[-1]
    assert rec["form"]["Action"] == "AssumeRoleWithWebIdentity"

    bad = form(Action="AssumeRoleWithWebIdentity", RoleArn=ROLE_ARN,
               RoleSessionName="aigw-1", WebIdentityToken="not-it")
    r = req(sts, "POST", "/", FORM, bad)
    assert r.status == 400
    assert sts_error(r)[0] == "InvalidIdentityToken"

    nosession = form(Action="AssumeRoleWithWebIdentity", RoleArn=ROLE_ARN,
                     WebIdentityToken=mock_aws.WEB_IDENTITY_TOKEN)
    r = req(sts, "POST", "/", FORM, nosession)
    assert r.status == 400
    code, msg = sts_error(r)
    assert code == "ValidationError" and "roleSessionName" in msg

    badarn = form(Action="AssumeRoleWithWebIdentity", RoleArn="role/x",
                  RoleSessionName="s1",
                  WebIdentityToken=mock_aws.WEB_IDENTITY_TOKEN)
    assert sts_error(req(sts, "POST", "/", FORM, badarn))[0] == \
        "ValidationError"
    noversion = b"Action=AssumeRoleWithWebIdentity"
    assert sts_error(req(sts, "POST", "/", FORM, noversion))[0] == \
        "InvalidAction"
    assert len(aws_keys.issued()) == 1


def test_sts_roles_and_duration(sts, aws_keys):
    sts.roles = {"arn:aws:iam::123456789012:role/other"}
    body = form(Action="AssumeRoleWithWebIdentity", RoleArn=ROLE_ARN,
                RoleSessionName="aigw-1",
                WebIdentityToken=mock_aws.WEB_IDENTITY_TOKEN)
    r = req(sts, "POST", "/", FORM, body)
    assert r.status == 403
    code, msg = sts_error(r)
    assert code == "AccessDenied" and ROLE_ARN in msg
    sts.reset()
    assert sts.roles is None
    body = form(Action="AssumeRoleWithWebIdentity", RoleArn=ROLE_ARN,
                RoleSessionName="aigw-1", DurationSeconds="900",
                WebIdentityToken=mock_aws.WEB_IDENTITY_TOKEN)
    c = sts_creds(req(sts, "POST", "/", FORM, body),
                  "AssumeRoleWithWebIdentity")
    assert 899 <= parse_time(c["Expiration"]) - time.time() <= 900


def test_sts_assume_role_signature_verified(sts, aws_keys):
    headers, body = signed_assume_role(sts, mock_aws.SOURCE_AKID,
                                       mock_aws.SOURCE_SECRET)
    c = sts_creds(req(sts, "POST", "/", headers, body), "AssumeRole")
    rec = sts.requests()[-1]
    assert rec["sig_ok"] and rec["signed_by"] == mock_aws.SOURCE_AKID

    # a role chained from the issued credentials (their token signed)
    headers, body = signed_assume_role(sts, c["AccessKeyId"],
                                       c["SecretAccessKey"],
                                       c["SessionToken"])
    assert req(sts, "POST", "/", headers, body).status == 200
    assert len(aws_keys.issued("sts")) == 2

    # a bad signature, an unknown key, none at all
    headers, body = signed_assume_role(sts, mock_aws.SOURCE_AKID,
                                       mock_aws.SOURCE_SECRET + "x")
    r = req(sts, "POST", "/", headers, body)
    assert (r.status, sts_error(r)[0]) == (403, "SignatureDoesNotMatch")
    headers, body = signed_assume_role(sts, "AKIAUNKNOWN000000000", "x")
    r = req(sts, "POST", "/", headers, body)
    assert (r.status, sts_error(r)[0]) == (403, "InvalidClientTokenId")
    headers, body = signed_assume_role(sts, mock_aws.SOURCE_AKID,
                                       mock_aws.SOURCE_SECRET)
    r = req(sts, "POST", "/", FORM, body)
    assert (r.status, sts_error(r)[0]) == (403,
                                           "MissingAuthenticationToken")
    # the body changed after signing
    r = req(sts, "POST", "/", headers, body + b"&DurationSeconds=900")
    assert (r.status, sts_error(r)[0]) == (403, "SignatureDoesNotMatch")
    assert len(aws_keys.issued("sts")) == 2


def test_sts_assume_role_with_an_expired_key(sts, aws_keys):
    e = aws_keys.issue(1, "test")
    time.sleep(max(0, e["not_after"] - time.time()) + 0.1)
    headers, body = signed_assume_role(sts, e["akid"], e["secret"],
                                       e["token"])
    r = req(sts, "POST", "/", headers, body)
    assert r.status == 400
    code, msg = sts_error(r)
    assert code == "ExpiredToken" and "signed with an expired key" in msg


def test_sts_over_tls(sts_tls, certs):
    body = form(Action="AssumeRoleWithWebIdentity", RoleArn=ROLE_ARN,
                RoleSessionName="aigw-1",
                WebIdentityToken=mock_aws.WEB_IDENTITY_TOKEN)
    assert sts_tls.url.startswith("https://")
    r = req(sts_tls, "POST", "/", FORM, body,
            ssl_context=h.client_ssl_context(certs["ca"]))
    sts_creds(r, "AssumeRoleWithWebIdentity")
    assert sts_tls.requests()[-1]["tls"]
    with pytest.raises(ssl.SSLCertVerificationError):
        req(sts_tls, "POST", "/", FORM, body,
            ssl_context=h.client_ssl_context(certs["other_ca"]))


# --- all three --------------------------------------------------------------

def test_failures_injected(imds, container, aws_keys):
    auth = [("Authorization", container.token)]
    container.fail(2, "500")
    r = req(container, "GET", container.path, auth)
    assert (r.status, r.json()["code"]) == (500, "InternalServerError")
    assert req(container, "GET", container.path, auth).status == 500
    assert req(container, "GET", container.path, auth).status == 200

    container.fail(1, "close")
    with pytest.raises((http.client.RemoteDisconnected,
                        ConnectionResetError)):
        req(container, "GET", container.path, auth)
    container.fail(1, "slow", delay=1.0)
    t = time.time()
    assert req(container, "GET", container.path, auth).status == 200
    assert time.time() - t >= 1.0
    assert [x["failure"] for x in container.requests()] == [
        "500", "500", None, "close", "slow"]
    assert len(aws_keys.issued("container")) == 2

    # only the requests of a path: the token is had, the credentials fail
    imds.fail(1, "500", path=CREDS)
    tok = imds_token(imds)
    hdr = [("X-aws-ec2-metadata-token", tok)]
    assert req(imds, "GET", CREDS, hdr).status == 500
    assert req(imds, "GET", CREDS, hdr).status == 200
    assert imds.pending_failures() == 0
    imds.fail(3)
    imds.reset()
    assert imds.pending_failures() == 0 and imds.requests() == []


def test_lifetime_and_upstream_windows(container, mock, aws_keys):
    """
    Issued keys are accepted by the upstream mock while valid, refused
    once expired ("signed with an expired key"); an unknown key is
    "unknown"; the long-term keys without a window still work.
    """
    container.lifetime = 2
    r = req(container, "GET", container.path,
            [("Authorization", container.token)])
    d = r.json()
    assert 0.5 <= parse_time(d["Expiration"]) - time.time() <= 2

    def send(akid, secret, token=None):
        headers = h.sign_headers("POST", "127.0.0.1:%d" % mock.port,
                                 CONVERSE, BODY, akid, secret, token)
        return h.post(mock.port, CONVERSE, BODY, headers, api_key=None)

    assert send(d["AccessKeyId"], d["SecretAccessKey"],
                d["Token"]).status == 200
    time.sleep(max(0, parse_time(d["Expiration"]) - time.time()) + 0.1)
    r = send(d["AccessKeyId"], d["SecretAccessKey"], d["Token"])
    assert r.status == 403
    assert r.header("x-amzn-ErrorType") == "ExpiredTokenException"
    assert "signed with an expired key" in r.json()["message"]
    r = send("ASIAUNKNOWNKEY000001", "x", "t")
    assert r.status == 403 and "unknown key" in r.json()["message"]
    assert send(h.AKID, h.SECRET).status == 200
    assert [x["sig_ok"] for x in mock.requests()] == [True, False, False,
                                                      True]
    container.reset()
    assert container.lifetime == mock_aws.DEFAULT_LIFETIME


def test_s3_trusts_the_registry(aws_keys):
    m = mock_s3.MockS3(buckets={"b": "us-east-1"}).start()
    try:
        m.trust(aws_keys)
        e = aws_keys.issue(1, "test")

        def put(key):
            path = "/b/" + key
            headers = h.sign_headers("PUT", "127.0.0.1:%d" % m.port, path,
                                     b"x", e["akid"], e["secret"],
                                     e["token"], service="s3",
                                     region="us-east-1")
            return h.http_request(m.port, "PUT", path, headers, b"x",
                                  api_key=None)

        assert put("k1").status == 200
        time.sleep(max(0, e["not_after"] - time.time()) + 0.1)
        r = put("k2")
        assert r.status == 403 and b"ExpiredToken" in r.body
        assert b"signed with an expired key" in r.body
        assert list(m.objects) == [("b", "k1")]
        m.untrust(aws_keys)
        r = put("k3")
        assert r.status == 403 and b"InvalidAccessKeyId" in r.body
    finally:
        m.stop()

"""
Configuration: the module loads into the target nginx, nginx -t accepts a
minimal gateway and refuses bad directives with a useful message; regions
and credentials come from where the contract says.
"""

import pytest

import helpers as h

CONVERSE = "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse"
BODY = b'{"messages":[{"role":"user","content":[{"text":"hi"}]}]}'


def minimal(region="aigw_region us-east-1;",
            credentials="aigw_credentials static %s %s;" % (h.AKID, h.SECRET),
            extra_http="", location_extra="", tenants=h.DEFAULT):
    if tenants is h.DEFAULT:
        tenants = h.default_tenants_file()
    tenants = "aigw_tenants %s;" % tenants if tenants else ""
    return "%s\n%s\n%s\n%s\n%s" % (
        tenants, region, credentials, extra_http,
        h.gateway_server(h.free_port(), location_extra=location_extra))


def test_minimal_config_ok(nginx_t):
    rc, out = nginx_t(minimal())
    assert rc == 0, out
    assert "syntax is ok" in out and "test is successful" in out


def test_module_without_aigw_on_ok(nginx_t):
    """Loading the module changes nothing by itself."""
    rc, out = nginx_t("server { listen 127.0.0.1:%d; location / { return 204;"
                      " } }" % h.free_port())
    assert rc == 0, out


def test_no_region_anywhere_fails(nginx_t):
    rc, out = nginx_t(minimal(region=""))
    assert rc != 0, out
    assert "aigw_region" in out
    assert "[emerg]" in out


@pytest.mark.parametrize("var", ["AWS_REGION", "AWS_DEFAULT_REGION"])
def test_region_from_environment_ok(nginx_t, var):
    rc, out = nginx_t(minimal(region=""), env={var: "eu-west-1"})
    assert rc == 0, out


def test_region_from_environment_used(nginx_factory, mock):
    port = h.free_port()
    n = nginx_factory(h.aigw_http(mock.url, region=None) +
                      h.gateway_server(port), [port],
                      env={"AWS_REGION": "eu-west-1",
                           "AWS_DEFAULT_REGION": "ap-south-1"})
    r = h.post(n.port, CONVERSE, BODY)
    assert r.status == 200, r
    [rec] = mock.requests()
    assert rec["sig_ok"], rec["sig_error"]
    assert rec["region"] == "eu-west-1"


def test_region_per_location(nginx_factory, mock):
    """aigw_region in a location wins over http's."""
    port = h.free_port()
    conf = h.aigw_http(mock.url) + h.gateway_server(
        port, location_extra="aigw_region eu-central-1;")
    n = nginx_factory(conf, [port])
    r = h.post(n.port, CONVERSE, BODY)
    assert r.status == 200, r
    [rec] = mock.requests()
    assert rec["sig_ok"], rec["sig_error"]
    assert rec["region"] == "eu-central-1"


@pytest.mark.parametrize("creds", [
    "static AKIAONLYONEARG",
    "static",
    "static a b c d",
    "bogus",
    "file a b",
])
def test_bad_credentials_fail(nginx_t, creds):
    rc, out = nginx_t(minimal(credentials="aigw_credentials %s;" % creds))
    assert rc != 0, out
    assert "[emerg]" in out and ("credentials" in out or
                                 "invalid number of arguments" in out)


def test_credentials_not_allowed_in_location(nginx_t):
    rc, out = nginx_t(minimal(location_extra="aigw_credentials static a b;"))
    assert rc != 0, out
    assert "aigw_credentials" in out


@pytest.mark.parametrize("endpoint", [
    "aigw_endpoint foo http://127.0.0.1:1;",
    "aigw_endpoint bedrock ftp://127.0.0.1:1;",
    "aigw_endpoint bedrock not-a-url;",
    "aigw_endpoint bedrock;",
])
def test_bad_endpoint_fails(nginx_t, endpoint):
    rc, out = nginx_t(minimal(extra_http=endpoint))
    assert rc != 0, out
    assert "aigw_endpoint" in out or "invalid number of arguments" in out


@pytest.mark.parametrize("value", ["maybe", ""])
def test_bad_aigw_flag_fails(nginx_t, value):
    rc, out = nginx_t("aigw_region us-east-1;\nserver { listen 127.0.0.1:%d; "
                      "location / { aigw %s; } }" % (h.free_port(), value))
    assert rc != 0, out


def test_bad_region_fails(nginx_t):
    rc, out = nginx_t(minimal(region="aigw_region 'us east 1';"))
    assert rc != 0, out
    assert "region" in out and "[emerg]" in out


# --- credential sources -------------------------------------------------------

def test_credentials_env(nginx_factory, mock):
    port = h.free_port()
    n = nginx_factory(h.aigw_http(mock.url, credentials="env") +
                      h.gateway_server(port), [port], env={
                          "AWS_ACCESS_KEY_ID": h.TEMP_AKID,
                          "AWS_SECRET_ACCESS_KEY": h.TEMP_SECRET,
                          "AWS_SESSION_TOKEN": h.TEMP_TOKEN},
                      main_extra=h.env_lines("AWS_ACCESS_KEY_ID",
                                             "AWS_SECRET_ACCESS_KEY",
                                             "AWS_SESSION_TOKEN"))
    r = h.post(n.port, CONVERSE, BODY)
    assert r.status == 200, r
    [rec] = mock.requests()
    assert rec["sig_ok"], rec["sig_error"]
    assert rec["akid"] == h.TEMP_AKID
    assert "x-amz-security-token" in rec["signed_headers"]


def test_credentials_env_missing_fails(nginx_t):
    rc, out = nginx_t(minimal(credentials="aigw_credentials env;"))
    assert rc != 0, out
    assert "AWS_ACCESS_KEY_ID" in out


@pytest.mark.parametrize("profile", [None, "aigwtest"])
def test_credentials_file(nginx_factory, mock, tmp_path, profile):
    f = tmp_path / "credentials"
    f.write_text(
        "[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n\n"
        "[aigwtest]\naws_access_key_id = %s\n"
        "aws_secret_access_key = %s\naws_session_token = %s\n" % (
            h.AKID, h.SECRET, h.TEMP_AKID, h.TEMP_SECRET, h.TEMP_TOKEN))
    port = h.free_port()
    creds = "file" + (" " + profile if profile else "")
    n = nginx_factory(h.aigw_http(mock.url, credentials=creds) +
                      h.gateway_server(port), [port],
                      env={"AWS_SHARED_CREDENTIALS_FILE": str(f),
                           "AWS_CONFIG_FILE": str(tmp_path / "none")},
                      main_extra=h.env_lines("AWS_SHARED_CREDENTIALS_FILE",
                                             "AWS_CONFIG_FILE"))
    r = h.post(n.port, CONVERSE, BODY)
    assert r.status == 200, r
    [rec] = mock.requests()
    assert rec["sig_ok"], rec["sig_error"]
    assert rec["akid"] == (h.TEMP_AKID if profile else h.AKID)


def test_credentials_chain_uses_env(nginx_factory, mock):
    port = h.free_port()
    n = nginx_factory(h.aigw_http(mock.url, credentials="chain") +
                      h.gateway_server(port), [port], env={
                          "AWS_ACCESS_KEY_ID": h.AKID,
                          "AWS_SECRET_ACCESS_KEY": h.SECRET,
                          "AWS_EC2_METADATA_DISABLED": "true"},
                      main_extra=h.env_lines("AWS_ACCESS_KEY_ID",
                                             "AWS_SECRET_ACCESS_KEY",
                                             "AWS_EC2_METADATA_DISABLED"))
    r = h.post(n.port, CONVERSE, BODY)
    assert r.status == 200, r
    [rec] = mock.requests()
    assert rec["sig_ok"], rec["sig_error"]
    assert rec["akid"] == h.AKID

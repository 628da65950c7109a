"""
The credential providers at configuration time: nginx -t checks the
directive, names the "env" lines the workers lack, and never waits on
the network.
"""

import time

import pytest

import helpers as h


def conf(credentials, extra_http="", location_extra=""):
    return "%s\n%s\n%s\n%s\n%s" % (
        "aigw_tenants %s;" % h.default_tenants_file(),
        "aigw_region us-east-1;", "aigw_credentials %s;" % credentials,
        extra_http, h.gateway_server(h.free_port(),
                                     location_extra=location_extra))


@pytest.mark.parametrize("creds", [
    "web_identity x", "ecs x", "imds x", "chain x", "env x", "file a b",
    "sso",
])
def test_bad_arguments_fail(nginx_t, creds):
    rc, out = nginx_t(conf(creds))
    assert rc != 0, out
    assert "[emerg]" in out
    assert ("invalid number of arguments" in out
            or "unknown credentials provider" in out), out


def test_sts_endpoint_only_in_http(nginx_t):
    rc, out = nginx_t(conf("static a b", location_extra=(
        "aigw_endpoint sts http://127.0.0.1:1;")))
    assert rc != 0, out
    assert "\"aigw_endpoint sts\" is allowed only in http" in out


def test_s3_endpoint_is_not_the_module_s(nginx_t):
    """aigw_endpoint s3 was read by nothing: export has --endpoint."""
    rc, out = nginx_t(conf("static a b", extra_http=(
        "aigw_endpoint s3 http://127.0.0.1:1;")))
    assert rc != 0, out
    assert "unknown service \"s3\"" in out


def test_sts_endpoint_in_http_ok(nginx_t):
    rc, out = nginx_t(conf("static a b", extra_http=(
        "aigw_endpoint sts https://sts.us-east-1.amazonaws.com;")))
    assert rc == 0, out


def test_web_identity_names_missing_env_lines(nginx_t, tmp_path):
    """
    The master has the variables, the workers would not: a source given
    alone that finds nothing fails, naming the env lines to add.
    """
    token = tmp_path / "token"
    token.write_text("eyJ.token.x")
    rc, out = nginx_t(conf("web_identity"), env={
        "AWS_WEB_IDENTITY_TOKEN_FILE": str(token),
        "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/gw"})
    assert rc != 0, out
    assert "[emerg]" in out
    assert "env AWS_WEB_IDENTITY_TOKEN_FILE;" in out
    assert "env AWS_ROLE_ARN;" in out


def test_chain_warns_of_missing_env_line(nginx_t):
    rc, out = nginx_t(conf("chain"), env={
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:1/creds",
        "AWS_EC2_METADATA_DISABLED": "true"},
        main_extra=h.env_lines("AWS_EC2_METADATA_DISABLED"))
    assert rc == 0, out
    assert "[warn]" in out
    assert ("AWS_CONTAINER_CREDENTIALS_FULL_URI is set in nginx's "
            "environment, but nginx workers do not see it: add \"env "
            "AWS_CONTAINER_CREDENTIALS_FULL_URI;\"") in out


def test_env_lines_given_no_warning(nginx_t):
    rc, out = nginx_t(conf("chain"), env={
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:1/creds"},
        main_extra=h.env_lines("AWS_CONTAINER_CREDENTIALS_FULL_URI"))
    assert rc == 0, out
    assert "workers do not see it" not in out


def test_env_line_with_value_is_what_workers_see(nginx_t):
    """env NAME=VALUE sets it for the workers: nothing is missing."""
    rc, out = nginx_t(conf("env"), main_extra=(
        "env AWS_ACCESS_KEY_ID=%s;\nenv AWS_SECRET_ACCESS_KEY=%s;\n"
        % (h.AKID, h.SECRET)))
    assert rc == 0, out


def test_env_without_env_lines_fails(nginx_t):
    rc, out = nginx_t(conf("env"), env={
        "AWS_ACCESS_KEY_ID": h.AKID, "AWS_SECRET_ACCESS_KEY": h.SECRET})
    assert rc != 0, out
    assert "env AWS_ACCESS_KEY_ID;" in out
    assert "env AWS_SECRET_ACCESS_KEY;" in out


@pytest.mark.parametrize("creds,env", [
    ("imds", {"AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://10.255.255.1"}),
    ("ecs", {"AWS_CONTAINER_CREDENTIALS_FULL_URI":
             "http://127.0.0.1:9/never"}),
    ("chain", {"AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://10.255.255.1"}),
])
def test_nginx_t_never_waits_on_the_network(nginx_t, creds, env):
    """
    A non-routable IMDS address would hang a connect for minutes: nginx -t
    does not try it; the workers will.
    """
    start = time.monotonic()
    rc, out = nginx_t(conf(creds), env=env,
                      main_extra=h.env_lines(*env))
    took = time.monotonic() - start
    assert rc == 0, out
    assert took < 5, (took, out)

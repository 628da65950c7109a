"""
nginx -t warns when a gateway's error log is at "info" or "debug" (issue
9, defect 6): nginx itself logs whole request header lines at "info"
("client sent invalid header line", "client sent duplicate header line"),
API keys among them, before any module runs.  One warning per offending
log, naming it; none for "notice", "warn" or "error", none for a server
without a gateway.

The harness's own main error_log is at "info"; these configurations give
the http block (or the server, or the location) its own error_log, which
is what a gateway then writes to.
"""

import re

import pytest

import helpers as h

WARNING = re.compile(r'\[warn\] aigw: the error log "([^"]*)" of a gateway '
                     r'is at "(info|debug)" level')


def conf(tmp_path, http_log="", server_log="", location_log="",
         second_location=False, plain_server_log=""):
    tenants = h.default_tenants_file()
    extra = ""
    if second_location:
        extra = "}\n location /two/ { aigw on; include %s; " \
                "proxy_pass $aigw_upstream_url;" % h.AIGW_PARAMS
    gw = h.gateway_server(h.free_port(), server_extra=server_log,
                          location_extra=location_log + extra)
    plain = ""
    if plain_server_log:
        plain = "server { listen 127.0.0.1:%d; %s location / { return 204; }" \
                " }" % (h.free_port(), plain_server_log)
    return ("aigw_tenants %s;\naigw_region us-east-1;\n"
            "aigw_credentials static %s %s;\n%s\n%s\n%s" % (
                tenants, h.AKID, h.SECRET, http_log, gw, plain))


def warnings(out):
    return WARNING.findall(out)


@pytest.mark.parametrize("level", ["info", "debug"])
def test_http_level_log_warns(nginx_t, tmp_path, level):
    log = tmp_path / "gw.log"
    rc, out = nginx_t(conf(tmp_path, http_log="error_log %s %s;"
                           % (log, level)))
    assert rc == 0, out
    assert warnings(out) == [(str(log), level)], out
    assert 'keep gateway error logs at "notice" or above' in out


@pytest.mark.parametrize("level", ["notice", "warn", "error"])
def test_quiet_levels_do_not_warn(nginx_t, tmp_path, level):
    log = tmp_path / "gw.log"
    rc, out = nginx_t(conf(tmp_path, http_log="error_log %s %s;"
                           % (log, level)))
    assert rc == 0, out
    assert warnings(out) == [], out
    assert "test is successful" in out


def test_main_log_inherited_warns(nginx_t, tmp_path):
    """Without an http error_log, the gateway writes to the main one."""
    rc, out = nginx_t(conf(tmp_path))
    assert rc == 0, out
    [(name, level)] = warnings(out)
    assert name.endswith("/error.log") and level == "info", out


def test_location_and_server_logs(nginx_t, tmp_path):
    """
    The location's own log and its server's (nginx logs rejected header
    lines there, before a location is chosen), each once; a chain of two
    logs at one level warns for the one at "debug" only.
    """
    http_log = tmp_path / "http.log"
    srv_log = tmp_path / "srv.log"
    loc_log = tmp_path / "loc.log"
    loc_log2 = tmp_path / "loc2.log"
    rc, out = nginx_t(conf(
        tmp_path, http_log="error_log %s notice;" % http_log,
        server_log="error_log %s info;" % srv_log,
        location_log="error_log %s debug; error_log %s warn;"
        % (loc_log, loc_log2)))
    assert rc == 0, out
    assert sorted(warnings(out)) == sorted([(str(loc_log), "debug"),
                                           (str(srv_log), "info")]), out


def test_once_per_log(nginx_t, tmp_path):
    """Two gateway locations sharing the http log: one warning."""
    log = tmp_path / "gw.log"
    rc, out = nginx_t(conf(tmp_path, http_log="error_log %s info;" % log,
                           second_location=True))
    assert rc == 0, out
    assert warnings(out) == [(str(log), "info")], out


def test_server_without_gateway_not_checked(nginx_t, tmp_path):
    log = tmp_path / "gw.log"
    plain = tmp_path / "plain.log"
    rc, out = nginx_t(conf(tmp_path, http_log="error_log %s notice;" % log,
                           plain_server_log="error_log %s debug;" % plain))
    assert rc == 0, out
    assert warnings(out) == [], out


def test_no_gateway_no_warning(nginx_t):
    """The module loaded without "aigw on": nothing to say."""
    rc, out = nginx_t("server { listen 127.0.0.1:%d; location / { return "
                      "204; } }" % h.free_port())
    assert rc == 0, out
    assert warnings(out) == [], out

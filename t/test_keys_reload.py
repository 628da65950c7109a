"""
Keys managed with the aigw tool take effect on "nginx -s reload": a new
key works after it and not before, a revoked key stops working after it,
a tenant's narrowed models apply after it, and a broken file leaves the
running configuration in place.  The logs keep no key material through
all of it.

A reload needs nginx's master process: under valgrind nginx runs as one
process, so these tests skip there.
"""

import json
import os
import re
import signal
import subprocess

import pytest

import helpers as h

pytestmark = pytest.mark.skipif(
    h.VALGRIND, reason="reload needs a master process; valgrind runs one")

AIGW = h.build_dir() / "aigw"
BODY = b'{"messages":[{"role":"user","content":[{"text":"hi"}]}]}'
NOVA = "/model/amazon.nova-lite-v1%3A0/converse"
TITAN = "/model/amazon.titan-text-express-v1/invoke"
RELOAD_WAIT = 15


def aigw(*args):
    if not AIGW.is_file():
        pytest.skip("%s is not built (make cli)" % AIGW)
    p = subprocess.run([str(AIGW)] + [str(a) for a in args],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, (args, p.stdout, p.stderr)
    return p.stdout


def create_key(tenants, tenant, key_id):
    key = aigw("key", "create", "--tenant", tenant, "--tenants", tenants,
               "--id", key_id).strip()
    assert re.fullmatch(r"aigw_%s_[A-Za-z0-9_-]{43}" % re.escape(key_id),
                        key), key
    return h.register_keys(key)


def revoke_key(tenants, key_id):
    aigw("key", "revoke", "--id", key_id, "--tenants", tenants)


def listed_key_ids(tenants):
    out = aigw("key", "list", "--tenants", tenants)
    # TENANT PROJECT KEY-ID CREATED; "-" for a tenant without keys
    return {line.split()[2] for line in out.splitlines()[1:]
            if line.strip()} - {"-"}


def reload(n):
    """nginx -s reload (it reads the whole configuration, tenants file
    included, before it signals the master), then waits until the old
    workers have exited."""
    return n.reload(timeout=RELOAD_WAIT)


def status(n, key, path=NOVA):
    return h.post(n.port, path, BODY, api_key=key).status


@pytest.fixture
def tenants(tmp_path):
    f = h.write_tenants(tmp_path / "tenants.json", h.tenants_doc(
        {"id": "team-r", "project": "reload", "department": "ops",
         "models": ["amazon.nova-*", "amazon.titan-*"]},
        {"id": "team-s", "models": ["*"]}), mode=0o640)
    return f


@pytest.fixture
def keyed_gateway(nginx_factory, mock, tenants):
    def make():
        port = h.free_port()
        return nginx_factory(h.aigw_http(mock.url, tenants=tenants) +
                             h.gateway_server(port), [port])
    return make


def assert_no_key_material(n, keys):
    material = h.key_material(keys)
    found = []
    for name in ("error.log", "access.log", "stdio.log"):
        found += ["%s: %s" % (name, f)
                  for f in h.find_key_material(n.read_file(name), material)]
    assert not found, "key material in the logs:\n  " + "\n  ".join(found)


def test_created_key_works_after_reload(keyed_gateway, mock, tenants):
    k1 = create_key(tenants, "team-r", "r1")
    n = keyed_gateway()
    assert status(n, k1) == 200

    k2 = create_key(tenants, "team-r", "r2")
    assert listed_key_ids(tenants) == {"r1", "r2"}
    # not before the reload
    assert status(n, k2) == 401

    rc, out = reload(n)
    assert rc == 0, out
    assert status(n, k2) == 200
    assert status(n, k1) == 200

    mock.reset()
    r = h.post(n.port, NOVA, BODY, [("X-Test-Id", "after-reload")],
               api_key=k2)
    assert r.status == 200
    [rec] = mock.requests()
    assert rec["sig_ok"], rec["sig_error"]
    e = n.wait_entry("after-reload")
    assert (e["aigw_tenant"], e["aigw_project"], e["aigw_department"],
            e["aigw_key_id"]) == ("team-r", "reload", "ops", "r2")
    # the file keeps its mode through the tool's rewrites
    assert tenants.stat().st_mode & 0o777 == 0o640
    assert_no_key_material(n, [k1, k2])


def test_revoked_key_refused_after_reload(keyed_gateway, mock, tenants):
    k1 = create_key(tenants, "team-r", "r1")
    k2 = create_key(tenants, "team-s", "s1")
    n = keyed_gateway()
    assert status(n, k1) == 200 and status(n, k2) == 200

    revoke_key(tenants, "r1")
    assert listed_key_ids(tenants) == {"s1"}
    # the running configuration still has it
    assert status(n, k1) == 200

    rc, out = reload(n)
    assert rc == 0, out
    for _ in range(5):
        assert status(n, k1) == 401
    assert status(n, k2) == 200

    mock.reset()
    r = h.post(n.port, NOVA, BODY, api_key=k1)
    assert r.status == 401
    assert r.header("x-amzn-ErrorType") == "UnrecognizedClientException"
    assert r.json()["message"]
    assert mock.requests() == []
    assert_no_key_material(n, [k1, k2])


def test_models_narrowed_after_reload(keyed_gateway, mock, tenants):
    k1 = create_key(tenants, "team-r", "r1")
    n = keyed_gateway()
    assert status(n, k1, TITAN) == 200

    doc = json.loads(tenants.read_text())
    doc["tenants"][0]["models"] = ["amazon.nova-*"]
    h.write_tenants(tenants, doc)
    rc, out = reload(n)
    assert rc == 0, out
    assert status(n, k1, TITAN) == 403
    assert status(n, k1, NOVA) == 200
    assert_no_key_material(n, [k1])


def test_broken_file_keeps_running_config(keyed_gateway, mock, tenants):
    k1 = create_key(tenants, "team-r", "r1")
    n = keyed_gateway()
    assert status(n, k1) == 200

    doc = json.loads(tenants.read_text())
    doc["tenants"][0]["limits"] = {"rpm": -1}
    h.write_tenants(tenants, doc)
    reason = 'tenant "team-r": limits.rpm: expected a non-negative integer'
    n.allow = [re.escape(reason)]

    # nginx -s reload reads the configuration first: it refuses, and
    # signals nothing
    rc, out = reload(n)
    assert rc != 0, out
    assert str(tenants) in out and reason in out, out

    # the master told to reload all the same keeps the old workers
    mark = n.mark()
    os.kill(n.proc.pid, signal.SIGHUP)
    assert n.wait_log(r"\[emerg\].*%s.*%s" % (re.escape(str(tenants)),
                                                re.escape(reason)), mark), \
        n.error_log_since(mark)
    for _ in range(5):
        assert status(n, k1) == 200
    assert n.running()
    assert_no_key_material(n, [k1])

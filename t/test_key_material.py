"""
The key-material scan that every nginx of the suite goes through when it
stops (conftest.stop_and_check, the launcher's end of session): it finds
a key, its secret, its SHA-256 in any of an instance's logs, leaves key
ids and nginx's own header lines alone, and fails the test that started
the instance.
"""

import helpers as h
from conftest import stop_and_check


def plant(prefix, name, lines):
    prefix.mkdir(parents=True, exist_ok=True)
    with open(prefix / name, "a") as f:
        f.write("\n".join(lines) + "\n")


def test_scan_finds_planted_key_material(tmp_path):
    key, sha = h.make_key("planted1")
    other, _ = h.make_key("planted2")
    secret = h.key_secret(key)
    prefix = tmp_path / "fake-nginx"
    plant(prefix, "error.log", [
        "2026/01/01 00:00:00 [info] 1#1: *1 aigw: unknown API key "
        "\"planted1\"",
        "2026/01/01 00:00:00 [warn] 1#1: *2 aigw: something %s" % secret,
        # nginx's own lines, left out
        '2026/01/01 00:00:00 [debug] 1#1: *3 http header: "x-api-key: %s"'
        % key,
        "2026/01/01 00:00:00 [info] 1#1: *4 client sent duplicate header "
        'line: "Authorization: Bearer %s", previous value: ...' % key,
        "2026/01/01 00:00:00 [info] 1#1: *5 client sent invalid header "
        'line: "x_api_key: %s" while reading client request headers' % key,
    ])
    plant(prefix, "access.log", [
        '{"status":"200","http_x_api_key":"%s"}' % key,
        '{"status":"401","note":"%s"}' % sha.upper(),
        '{"status":"200","aigw_key_id":"planted1"}',
    ])
    plant(prefix, "debug.log", [
        "2026/01/01 00:00:00 [debug] 1#1: *6 aigw tenant x key %s" % sha])

    found = h.scan_logs_for_keys(prefix, [key, other])
    assert {f.split(":", 1)[0] for f in found} == {
        "access.log", "debug.log", "error.log"}, found
    assert len([f for f in found if f.startswith("error.log")]) == 1, found
    assert any("secret of planted1" in f and "[warn]" in f for f in found)
    assert any(f.startswith("access.log: key planted1") for f in found)
    assert any(f.startswith("access.log: SHA256 of planted1")
               for f in found)
    assert any(f.startswith("debug.log: sha256 of planted1") for f in found)
    # nginx's own header lines, the key id alone, the key never sent: no
    assert not any("*3" in f or "*4" in f or "*5" in f for f in found)
    assert not any("planted2" in f for f in found)

    clean = tmp_path / "clean-nginx"
    plant(clean, "error.log", ["[info] 1#1: *1 aigw: key id planted1"])
    assert h.scan_logs_for_keys(clean, [key]) == []


def test_stop_and_check_fails_on_a_planted_key(tmp_path):
    """stop_and_check (what nginx_factory, shared_nginx and the other
    fixtures call at teardown) reports a key the tests sent, found in an
    instance's logs."""
    n = h.Nginx(tmp_path / "nginx", "", [])
    plant(n.prefix, "error.log", ["[notice] 1#1: start"])
    assert stop_and_check(n) == []
    plant(n.prefix, "access.log", ['{"x":"Bearer %s"}' % h.API_KEY])
    problems = stop_and_check(n)
    assert len(problems) == 1, problems
    assert problems[0].startswith("key material in the logs of %s"
                                  % n.prefix), problems
    assert "access.log: key %s" % h.API_KEY_ID in problems[0]
    assert h.API_KEY not in problems[0].split("\n")[0]

"""aigw key create | revoke | list: the command-line tool on real files.

Standalone: plain pytest functions and tmp_path, no fixture of conftest.py.
The tool is build/aigw (or $AIGW_BUILD/aigw).
"""

import concurrent.futures
import copy
import hashlib
import json
import os
import re
import stat
import subprocess
from pathlib import Path

import pytest


ROOT = Path(__file__).resolve().parent.parent
BUILD = Path(os.environ.get("AIGW_BUILD") or ROOT / "build")
AIGW = BUILD / "aigw"

KEY_RE = re.compile(r"^aigw_([A-Za-z0-9-]{1,64})_([A-Za-z0-9_-]{43})$")
CREATED_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")

PROFILE_ARN = ("arn:aws:bedrock:us-east-1:123456789012:"
               "application-inference-profile/abcd1234")

DOC = {
    "tenants": [
        {
            "id": "team-a",
            "project": "support-bot",
            "department": "sales",
            "keys": [{"id": "old1", "sha256": "ab" * 32,
                      "created": "2024-01-02T03:04:05Z", "note": "legacy"}],
            "models": ["anthropic.claude-3-haiku-*", "amazon.nova-*",
                       "my-llama"],
            "inference_profiles": {
                "anthropic.claude-3-haiku-20240307-v1:0": PROFILE_ARN},
            "limits": {"rpm": 600, "tpm": 200000, "daily_usd": 0.1,
                       "monthly_usd": "1000.25", "alert_at": [0.5, 0.8, 1.0]},
        },
        {"id": "team-b", "project": "Équipe données", "department": "R&D"},
        {"id": "team-c", "keys": [], "models": []},
    ]
}


def setup_module():
    if not AIGW.is_file():
        pytest.skip(f"{AIGW} is not built (make cli)")


def aigw(*args, check=None):
    r = subprocess.run([str(AIGW), *map(str, args)], capture_output=True,
                       text=True, timeout=60)
    if check is not None:
        assert r.returncode == check, (r.returncode, r.stdout, r.stderr)
    return r


def write(path, doc=DOC, mode=0o640):
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    path.chmod(mode)
    return path


def load(path):
    text = path.read_text()
    assert text.endswith("}\n")
    return json.loads(text)


def tenant(doc, tid):
    return next(t for t in doc["tenants"] if t["id"] == tid)


def create(path, tenant_id, *extra):
    r = aigw("key", "create", "--tenant", tenant_id, "--tenants", path,
             *extra, check=0)
    key = r.stdout.strip()
    assert r.stdout == key + "\n", "only the key, on one line"
    assert KEY_RE.match(key), key
    return key, r


def leftovers(directory):
    """temporary files left behind"""
    return [p.name for p in directory.iterdir() if p.name.startswith(".")]


# create


def test_create_prints_the_key_once_and_stores_its_hash(tmp_path):
    f = write(tmp_path / "tenants.json")

    key, r = create(f, "team-b")
    key_id = KEY_RE.match(key).group(1)

    assert re.fullmatch(r"[a-z0-9]{8}", key_id)
    assert key not in r.stderr
    assert KEY_RE.match(key).group(2) not in r.stderr
    assert "nginx -s reload" in r.stderr
    assert "SHA-256" in r.stderr
    assert key_id in r.stderr

    text = f.read_text()
    assert key not in text
    assert KEY_RE.match(key).group(2) not in text

    doc = load(f)
    keys = tenant(doc, "team-b")["keys"]
    assert len(keys) == 1
    k = keys[0]
    assert list(k) == ["id", "sha256", "created"]
    assert k["id"] == key_id
    assert k["sha256"] == hashlib.sha256(key.encode()).hexdigest()
    assert CREATED_RE.match(k["created"])

    # everything else is as it was, in the same order
    expected = copy.deepcopy(DOC)
    tenant(expected, "team-b")["keys"] = [k]
    assert doc == expected
    assert [list(t) for t in doc["tenants"]] == \
        [list(t) for t in expected["tenants"]]
    assert "0.1" in text and "0.10000" not in text
    assert '"1000.25"' in text
    assert "Équipe données" in text

    assert stat.S_IMODE(f.stat().st_mode) == 0o640
    assert leftovers(tmp_path) == []


def test_create_appends_to_existing_keys(tmp_path):
    f = write(tmp_path / "tenants.json", mode=0o600)

    key1, _ = create(f, "team-a")
    key2, _ = create(f, "team-a")
    assert key1 != key2

    keys = tenant(load(f), "team-a")["keys"]
    assert [k["id"] for k in keys] == \
        ["old1", KEY_RE.match(key1).group(1), KEY_RE.match(key2).group(1)]
    assert keys[0] == DOC["tenants"][0]["keys"][0]
    for key, k in zip((key1, key2), keys[1:]):
        assert k["sha256"] == hashlib.sha256(key.encode()).hexdigest()

    assert stat.S_IMODE(f.stat().st_mode) == 0o600


def test_create_with_id_and_note(tmp_path):
    f = write(tmp_path / "tenants.json")

    key, _ = create(f, "team-c", "--id", "ci-deploy-1", "--note", "CI runner")
    assert key.startswith("aigw_ci-deploy-1_")

    k = tenant(load(f), "team-c")["keys"][0]
    assert k["id"] == "ci-deploy-1"
    assert k["note"] == "CI runner"
    assert k["sha256"] == hashlib.sha256(key.encode()).hexdigest()

    # a key id is unique across all tenants
    before = f.read_bytes()
    for t in ("team-c", "team-a"):
        r = aigw("key", "create", "--tenant", t, "--tenants", f,
                 "--id", "ci-deploy-1", check=1)
        assert r.stdout == ""
        assert 'key id "ci-deploy-1" is already used (tenant "team-c")' \
            in r.stderr
    assert f.read_bytes() == before

    # --id=VALUE works too
    key, _ = create(f, "team-b", "--id=k2")
    assert key.startswith("aigw_k2_")


def test_create_tenant_without_keys_member(tmp_path):
    f = write(tmp_path / "tenants.json")

    key, _ = create(f, "team-b")
    t = tenant(load(f), "team-b")
    assert list(t) == ["id", "project", "department", "keys"]
    assert t["keys"][0]["id"] == KEY_RE.match(key).group(1)


def test_create_unknown_tenant(tmp_path):
    f = write(tmp_path / "tenants.json")
    before = f.read_bytes()
    inode = f.stat().st_ino

    r = aigw("key", "create", "--tenant", "team-z", "--tenants", f, check=1)
    assert r.stdout == ""
    assert f'{f}: no tenant "team-z"' in r.stderr

    assert f.read_bytes() == before
    assert f.stat().st_ino == inode
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("text, reason", [
    ('{"tenants": [{"id": "a", "limits": {"rmp": 600}}]}\n',
     'tenant "a": limits: unknown field "rmp"'),
    ('{"tenants": [{"id": "a"}, {"id": "a"}]}\n',
     'duplicate tenant id "a" (tenants #1 and #2)'),
    ('{"tenants": [{"id": "a",}]}\n',
     'invalid JSON at line 1, column'),
    ('{"tenants": [{"id": "a", "keys": [{"id": "k1", "sha256": "abc"}]}]}\n',
     'tenant "a": key "k1": sha256: expected 64 hexadecimal digits'),
    ('', 'invalid JSON at line 1'),
])
def test_invalid_file_is_left_untouched(tmp_path, text, reason):
    f = tmp_path / "tenants.json"
    f.write_text(text)
    f.chmod(0o644)
    inode = f.stat().st_ino

    for args in (("create", "--tenant", "a"), ("revoke", "--id", "k1"),
                 ("list",)):
        r = aigw("key", *args, "--tenants", f, check=1)
        assert r.stdout == ""
        assert f"aigw: {f}: " in r.stderr
        assert reason in r.stderr

    assert f.read_text() == text
    assert f.stat().st_ino == inode
    assert leftovers(tmp_path) == []


def test_missing_file(tmp_path):
    r = aigw("key", "create", "--tenant", "a", "--tenants",
             tmp_path / "nope.json", check=1)
    assert "No such file or directory" in r.stderr
    r = aigw("key", "list", "--tenants", tmp_path / "nope.json", check=1)
    assert "No such file or directory" in r.stderr


def test_symlink_target_is_rewritten(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    f = write(real / "tenants.json")
    link = tmp_path / "tenants.json"
    link.symlink_to(f)

    key, _ = create(link, "team-a")

    assert link.is_symlink()
    assert link.resolve() == f
    assert KEY_RE.match(key).group(1) in \
        [k["id"] for k in tenant(load(f), "team-a")["keys"]]
    assert leftovers(real) == [] and leftovers(tmp_path) == []


@pytest.mark.skipif(os.geteuid() != 0, reason="changing owners needs root")
def test_owner_and_group_are_kept(tmp_path):
    f = write(tmp_path / "tenants.json", mode=0o640)
    os.chown(f, 65534, 65534)

    create(f, "team-a")

    st = f.stat()
    assert (st.st_uid, st.st_gid) == (65534, 65534)
    assert stat.S_IMODE(st.st_mode) == 0o640


# revoke


def test_revoke(tmp_path):
    f = write(tmp_path / "tenants.json", mode=0o644)
    key1, _ = create(f, "team-a", "--id", "k1")
    key2, _ = create(f, "team-b", "--id", "k2")

    r = aigw("key", "revoke", "--id", "k1", "--tenants", f, check=0)
    assert r.stdout == ""
    assert '"k1"' in r.stderr and '"team-a"' in r.stderr
    assert "nginx -s reload" in r.stderr

    doc = load(f)
    assert [k["id"] for k in tenant(doc, "team-a")["keys"]] == ["old1"]
    assert [k["id"] for k in tenant(doc, "team-b")["keys"]] == ["k2"]
    assert stat.S_IMODE(f.stat().st_mode) == 0o644

    # the rest is untouched
    expected = copy.deepcopy(DOC)
    tenant(expected, "team-b")["keys"] = tenant(doc, "team-b")["keys"]
    assert doc == expected

    # not there (any more)
    before = f.read_bytes()
    r = aigw("key", "revoke", "--id", "k1", "--tenants", f, check=1)
    assert f'{f}: no key "k1"' in r.stderr
    r = aigw("key", "revoke", "--id", "team-a", "--tenants", f, check=1)
    assert 'no key "team-a"' in r.stderr
    assert f.read_bytes() == before

    # the old key of the file itself, then the last one
    aigw("key", "revoke", "--id", "old1", "--tenants", f, check=0)
    aigw("key", "revoke", "--id=k2", "--tenants", f, check=0)
    doc = load(f)
    assert tenant(doc, "team-a")["keys"] == []
    assert tenant(doc, "team-b")["keys"] == []
    assert leftovers(tmp_path) == []


def test_revoke_refuses_a_whole_key(tmp_path):
    f = write(tmp_path / "tenants.json")
    key, _ = create(f, "team-a")
    before = f.read_bytes()

    r = aigw("key", "revoke", "--id", key, "--tenants", f, check=2)
    assert key not in r.stderr
    assert "the key id, not the key" in r.stderr
    assert f.read_bytes() == before


# list


def test_list(tmp_path):
    f = write(tmp_path / "tenants.json")
    create(f, "team-a", "--id", "a-second-key")
    create(f, "team-c", "--id", "c1")
    text = f.read_text()
    hashes = re.findall(r'"sha256": "([0-9a-f]{64})"', text)
    assert len(hashes) == 3

    r = aigw("key", "list", "--tenants", f, check=0)
    lines = r.stdout.splitlines()

    assert lines[0].split() == ["TENANT", "PROJECT", "KEY", "ID", "CREATED"]
    rows = [re.split(r"\s{2,}", line) for line in lines[1:]]
    assert rows[0] == ["team-a", "support-bot", "old1",
                       "2024-01-02T03:04:05Z"]
    assert rows[1][:3] == ["team-a", "support-bot", "a-second-key"]
    assert CREATED_RE.match(rows[1][3])
    assert rows[2] == ["team-b", "Équipe données", "-", "-"]
    assert rows[3][:3] == ["team-c", "-", "c1"]
    assert len(rows) == 4

    # aligned: every column starts at the same character
    for col in ("PROJECT", "KEY ID", "CREATED"):
        start = lines[0].index(col)
        for line in lines[1:]:
            assert line[start - 2:start] == "  " and line[start] != " ", \
                (col, line)

    for h in hashes:
        assert h not in r.stdout and h not in r.stderr

    r = aigw("key", "list", "--tenants", f, "--tenant", "team-c", check=0)
    assert len(r.stdout.splitlines()) == 2
    assert "c1" in r.stdout

    r = aigw("key", "list", "--tenants", f, "--tenant", "nope", check=1)
    assert 'no tenant "nope"' in r.stderr


def test_list_empty(tmp_path):
    f = write(tmp_path / "tenants.json", {"tenants": []})
    r = aigw("key", "list", "--tenants", f, check=0)
    assert r.stdout.split() == ["TENANT", "PROJECT", "KEY", "ID", "CREATED"]


# help and usage


def test_help():
    r = aigw("--help", check=0)
    assert re.search(r"^\s+key\s+create, revoke and list API keys$",
                     r.stdout, re.M)

    r = aigw("key", "--help", check=0)
    for s in ("aigw key create --tenant TENANT --tenants FILE",
              "aigw key revoke --id KEY_ID --tenants FILE",
              "aigw key list --tenants FILE", "nginx -s reload", "SHA-256"):
        assert s in r.stdout

    r = aigw("key", "create", "--help", check=0)
    for s in ("--tenant TENANT", "--tenants FILE", "--id KEY_ID", "--note",
              "once", "SHA-256", "nginx -s reload"):
        assert s in r.stdout

    r = aigw("key", "revoke", "--help", check=0)
    for s in ("--id KEY_ID", "--tenants FILE", "Removes",
              "nginx -s reload"):
        assert s in r.stdout

    r = aigw("key", "list", "-h", check=0)
    for s in ("--tenants FILE", "--tenant TENANT", "Never a key or a hash"):
        assert s in r.stdout

    for cmd in ("create", "revoke", "list"):
        assert aigw("key", cmd, "--tenants", "/nonexistent", "--help",
                    check=0).stdout.startswith("usage: aigw key " + cmd)


@pytest.mark.parametrize("cmd", [["export"], ["usage"], ["version"],
                                 ["key", "create"], ["key", "list"],
                                 ["key", "revoke"]])
def test_help_each_command(cmd):
    """--help and -h of every command: its usage on stdout, exit 0."""
    for h in ("--help", "-h"):
        r = aigw(*cmd, h, check=0)
        assert r.stdout.startswith("usage: aigw " + " ".join(cmd)), r.stdout
        assert r.stderr == ""


@pytest.mark.parametrize("args, message", [
    ((), "usage: aigw key create"),
    (("frob",), 'unknown command "frob"'),
    (("create", "--tenants", "x"), "missing --tenant"),
    (("create", "--tenant", "a"), "missing --tenants"),
    (("create", "--tenant"), "--tenant needs a value"),
    (("create", "--tenant", "a", "--tenants", "x", "--bogus", "1"),
     'unknown option "--bogus"'),
    (("create", "--tenant", "a", "--tenant", "b", "--tenants", "x"),
     "--tenant is given twice"),
    (("create", "--tenant", "a", "--tenants", "x", "extra"),
     'unexpected argument "extra"'),
    (("create", "--tenant", "a", "--tenants", "x", "--id", "a_b"),
     "--id: expected 1 to 64 characters of [A-Za-z0-9-]"),
    (("create", "--tenant=", "--tenants", "x"), "--tenant: empty value"),
    (("create", "--ten", "a", "--tenants", "x"), 'unknown option "--ten"'),
    (("list", "-x"), 'unknown option "-x"'),
    (("revoke", "--tenants", "x"), "missing --id"),
    (("revoke", "--id", "k1"), "missing --tenants"),
    (("list",), "missing --tenants"),
])
def test_bad_usage(args, message):
    r = aigw("key", *args, check=2)
    assert r.stdout == ""
    assert message in r.stderr


def test_bad_usage_top_level():
    r = aigw(check=2)
    assert "usage: aigw COMMAND" in r.stderr
    r = aigw("frob", check=2)
    assert 'unknown command "frob"' in r.stderr


# concurrency


def test_parallel_creates_lose_nothing(tmp_path):
    f = write(tmp_path / "tenants.json")
    n = 12

    def one(i):
        return aigw("key", "create", "--tenant",
                    ("team-a", "team-b", "team-c")[i % 3], "--tenants", f,
                    "--id", f"par-{i}")

    with concurrent.futures.ThreadPoolExecutor(max_workers=n) as pool:
        results = list(pool.map(one, range(n)))

    for r in results:
        assert r.returncode == 0, r.stderr

    doc = load(f)
    stored = {k["id"]: k["sha256"]
              for t in doc["tenants"] for k in t.get("keys", [])}

    for i, r in enumerate(results):
        key = r.stdout.strip()
        assert key.startswith(f"aigw_par-{i}_")
        assert stored[f"par-{i}"] == hashlib.sha256(key.encode()).hexdigest()

    assert len(stored) == n + 1
    assert stat.S_IMODE(f.stat().st_mode) == 0o640
    assert leftovers(tmp_path) == []


def test_parallel_creates_and_revokes(tmp_path):
    f = write(tmp_path / "tenants.json")
    for i in range(6):
        create(f, "team-a", "--id", f"r{i}")

    def one(i):
        if i < 6:
            return aigw("key", "revoke", "--id", f"r{i}", "--tenants", f)
        return aigw("key", "create", "--tenant", "team-b", "--tenants", f,
                    "--id", f"c{i}")

    with concurrent.futures.ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(one, range(12)))

    for r in results:
        assert r.returncode == 0, r.stderr

    doc = load(f)
    assert [k["id"] for k in tenant(doc, "team-a")["keys"]] == ["old1"]
    assert sorted(k["id"] for k in tenant(doc, "team-b")["keys"]) == \
        sorted(f"c{i}" for i in range(6, 12))

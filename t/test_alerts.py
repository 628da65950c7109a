"""
aigw alerts (issue 12): the budget alerts of the Redis stream
PREFIX:alerts, against a real redis-server, the entries written here with
XADD as the module writes them (../shared/SPEC.md, "Limits, budgets,
alerts, metrics"): the table, --json, -n, --since, --prefix, missing and
hostile fields, a key of another type, an empty stream, --follow (new
entries as they come, SIGTERM and SIGINT, Redis going away and coming
back), and a fake Redis that answers entries of the wrong shape.
"""

import calendar
import json
import queue
import signal
import socket
import subprocess
import threading
import time

import pytest

import helpers as h
import redisd
# a redis-server for the module, flushed for each test (and started
# again after a test that stops it)
from test_export import AIGW, aigw, redis, redis_server  # noqa: F401


pytestmark = [
    pytest.mark.skipif(not redisd.redis_server_bin(),
                       reason="redis-server not installed (make deps)"),
    pytest.mark.skipif(not AIGW.is_file(),
                       reason="%s is not built (make cli)" % AIGW),
]

FIELDS = ("time", "tenant", "key", "period", "period_start", "threshold",
          "spend_usd", "limit_usd")
HEADS = [f.upper() for f in FIELDS]
# the narrowest widths: an ISO time, "monthly"
MIN_WIDTH = {"time": 20, "period": 7}
NUMBERS = ("threshold", "spend_usd", "limit_usd")

# how long a followed entry may take to be printed
WAIT = 10


def ms(iso):
    """The stream ID's milliseconds of an ISO 8601 UTC time."""
    return calendar.timegm(time.strptime(iso, "%Y-%m-%dT%H:%M:%SZ")) * 1000


def alert(tenant, period="daily", day="2026-12-07", threshold="0.5",
          spend="25.000000001", limit="50", at="2026-12-07T21:50:12Z",
          **more):
    """The fields of an entry the module adds (key=... for a key's)."""
    f = {"tenant": tenant, "period": period, "period_start": day,
         "threshold": threshold, "spend_usd": spend, "limit_usd": limit,
         "time": at}
    f.update(more)
    return f


A1 = alert("team-a")
A2 = alert("team-b", key="k-7f3a", period="monthly", day="2026-12-01",
           threshold="0.8", spend="400.5", limit="500",
           at="2026-12-07T21:51:00Z")
A3 = alert("team-a", threshold="1", spend="50.000000002",
           at="2026-12-07T22:10:00Z")


def xadd(redis, fields, entry_id="*", key="aigw:alerts", db=0):
    args = ["XADD", key, entry_id]
    for k, v in fields.items():
        args += [k, v]
    return redis.call(*args, db=db)


def fill(redis, *alerts, key="aigw:alerts"):
    """Adds the alerts with IDs from their "time" (ms-0), oldest first."""
    ids = []
    for i, a in enumerate(alerts):
        ids.append(xadd(redis, a, "%d-%d" % (ms(a["time"]), i), key=key))
    return ids


def cells_of(a):
    return [a.get(f) or "-" for f in FIELDS]


def table(*alerts, widths_of=None):
    """
    The expected table: the documented columns and their alignment, the
    widths those of the alerts (or of widths_of's, the first ones of
    --follow, when later lines come).
    """
    cells = [cells_of(a) for a in alerts]
    known = cells if widths_of is None else [cells_of(a) for a in widths_of]
    w = [max([len(h), MIN_WIDTH.get(f, 0)] + [len(c[j]) for c in known])
         for j, (f, h) in enumerate(zip(FIELDS, HEADS))]
    out = ""
    for row in [HEADS] + cells:
        out += "  ".join(c.rjust(w[j]) if FIELDS[j] in NUMBERS
                         else c.ljust(w[j])
                         for j, c in enumerate(row)) + "\n"
    return out


def alerts(redis, *args, check=0):
    return aigw("alerts", "--redis", redis.address, *args, check=check)


# --- reading -----------------------------------------------------------------

def test_table(redis):
    fill(redis, A1, A2, A3)
    r = alerts(redis)
    assert r.stderr == ""
    assert r.stdout == (
        "TIME                  TENANT  KEY     PERIOD   PERIOD_START  "
        "THRESHOLD     SPEND_USD  LIMIT_USD\n"
        "2026-12-07T21:50:12Z  team-a  -       daily    2026-12-07    "
        "      0.5  25.000000001         50\n"
        "2026-12-07T21:51:00Z  team-b  k-7f3a  monthly  2026-12-01    "
        "      0.8         400.5        500\n"
        "2026-12-07T22:10:00Z  team-a  -       daily    2026-12-07    "
        "        1  50.000000002         50\n")
    assert r.stdout == table(A1, A2, A3)


def test_json(redis):
    ids = fill(redis, A1, A2)
    r = alerts(redis, "--json")
    lines = r.stdout.splitlines()
    assert len(lines) == 2 and r.stdout.endswith("\n")
    assert [json.loads(x) for x in lines] == [dict(A1, id=ids[0]),
                                              dict(A2, id=ids[1])]
    # one compact object a line, the ID first, then the columns' order
    assert lines[1] == (
        '{"id":"%s","time":"2026-12-07T21:51:00Z","tenant":"team-b",'
        '"key":"k-7f3a","period":"monthly","period_start":"2026-12-01",'
        '"threshold":"0.8","spend_usd":"400.5","limit_usd":"500"}' % ids[1])


def test_count(redis):
    many = [alert("t%d" % i, at="2026-12-07T%02d:%02d:00Z" % divmod(i, 60))
            for i in range(150)]
    for a in many:
        xadd(redis, a)
    # the last 100 by default, oldest first
    assert alerts(redis).stdout == table(*many[50:])
    assert alerts(redis, "-n", "2").stdout == table(*many[148:])
    assert alerts(redis, "--count", "3").stdout == table(*many[147:])
    assert alerts(redis, "--count=1000").stdout == table(*many)
    assert alerts(redis, "-n", "0").stdout == table()
    for bad in ("x", "-1", "1.5", "100001", ""):
        r = alerts(redis, "-n", bad, check=2)
        assert "--count" in r.stderr and r.stdout == ""


def test_since(redis):
    ids = fill(redis, A1, A2, A3)
    assert ids == ["%d-%d" % (ms(a["time"]), i)
                   for i, a in enumerate((A1, A2, A3))]
    # a stream ID, whole or its milliseconds alone: at or after it
    assert alerts(redis, "--since", ids[1]).stdout == table(A2, A3)
    assert alerts(redis, "--since", ids[1].split("-")[0]).stdout == \
        table(A2, A3)
    assert alerts(redis, "--since", "%d-2" % ms(A2["time"])).stdout == \
        table(A3)
    # a UTC time, a day
    assert alerts(redis, "--since", "2026-12-07T21:51:00Z").stdout == \
        table(A2, A3)
    assert alerts(redis, "--since", "2026-12-07T21:51:01Z").stdout == \
        table(A3)
    assert alerts(redis, "--since", "2026-12-07").stdout == \
        table(A1, A2, A3)
    assert alerts(redis, "--since", "2026-12-08").stdout == table()
    # with -n: the last N of them
    assert alerts(redis, "--since", "2026-12-07", "-n", "1").stdout == \
        table(A3)
    for bad in ("yesterday", "2026-13-01", "2026-12-07T25:00:00Z",
                "2026-12-07 21:50:12", "1-2-3", "-5", "1-"):
        r = alerts(redis, "--since", bad, check=2)
        assert "--since" in r.stderr and r.stdout == ""


def test_prefix_and_db(redis):
    fill(redis, A1, key="gw2:alerts")
    xadd(redis, A2, key="aigw:alerts", db=3)
    assert alerts(redis).stdout == table()
    assert alerts(redis, "--prefix", "gw2").stdout == table(A1)
    assert alerts(redis, "--db", "3").stdout == table(A2)


def test_missing_and_unknown_fields(redis):
    partial = {"tenant": "team-c", "period": "daily", "threshold": "0.8",
               "note": "a field of a later version", "spend_usd": ""}
    xadd(redis, partial)
    # a field given twice: the first is kept
    xadd(redis, {"tenant": "first", "period": "daily", "tenant ": "x"})
    redis.call("XADD", "aigw:alerts", "*", "tenant", "one", "tenant", "two")
    r = alerts(redis)
    lines = r.stdout.splitlines()
    assert r.stdout == table(
        {"tenant": "team-c", "period": "daily", "threshold": "0.8"},
        {"tenant": "first", "period": "daily"}, {"tenant": "one"})
    assert lines[1].split() == ["-", "team-c", "-", "daily", "-", "0.8",
                                "-", "-"]
    j = [json.loads(x) for x in alerts(redis, "--json").stdout.splitlines()]
    # present but empty: "" in JSON, "-" in the table; unknown: left out
    assert {k: v for k, v in j[0].items() if k != "id"} == {
        "tenant": "team-c", "period": "daily", "threshold": "0.8",
        "spend_usd": ""}
    assert j[2]["tenant"] == "one"


HOSTILE = [
    # (the value written, what is shown)
    (b"evil\x1b[31mred\x1b[0m", "evil?[31mred?[0m"),
    (b"two\nlines\rback", "two?lines?back"),
    (b"csi\xc2\x9b31m", "csi?31m"),             # C1 CSI, as UTF-8
    (b"bad\xff\xfeutf8\xc3", "bad??utf8?"),
    (b"over\xc0\xafl\xed\xa0\x80ong", "over??l???ong"),
    (b"rtl\xe2\x80\xaeexe.txt", "rtl?exe.txt"),  # U+202E
    (b"nul\x00byte\x7f", "nul?byte?"),
    (b"t\xc3\xa9am-\xe6\x97\xa5", "t\u00e9am-\u65e5"),   # kept
    (b"A" * 10240, "A" * 128 + "\u2026"),
    ("\u00e9".encode() * 100, "\u00e9" * 64 + "\u2026"),
    (b"\x1b" * 500, "?" * 128 + "\u2026"),
]


def test_hostile_values(redis):
    for raw, _ in HOSTILE:
        redis.call("XADD", "aigw:alerts", "*", b"tenant", raw, b"time", raw,
                   b"key", raw, b"limit_usd", raw, b"period", b"daily")
    r = subprocess.run([str(AIGW), "alerts", "--redis", redis.address],
                       capture_output=True, timeout=60)
    assert r.returncode == 0 and r.stderr == b""
    out = r.stdout.decode("utf-8")      # valid UTF-8, whatever was written
    assert "\x1b" not in out and "\r" not in out and "\x00" not in out
    assert not any(0x80 <= ord(c) <= 0x9f or c == "\u202e" for c in out)
    shown = [alert_of(v) for _, v in HOSTILE]
    assert out == table(*shown)
    assert len(out.splitlines()) == 1 + len(HOSTILE)

    j = [json.loads(x) for x in
         alerts(redis, "--json").stdout.splitlines()]
    assert [{k: v for k, v in o.items() if k != "id"} for o in j] == shown


def alert_of(v):
    return {"tenant": v, "time": v, "key": v, "limit_usd": v,
            "period": "daily"}


def test_wrong_type(redis):
    redis.call("SET", "aigw:alerts", "not a stream")
    r = alerts(redis, check=1)
    assert r.stdout == ""
    assert r.stderr == ("aigw alerts: aigw:alerts is a string, not a "
                        "stream: is --prefix right?\n")
    redis.call("HSET", "x:alerts", "tenant", "team-a")
    r = alerts(redis, "--prefix", "x", "--json", "--follow", check=1)
    assert r.stdout == ""
    assert r.stderr == ("aigw alerts: x:alerts is a hash, not a stream: is "
                        "--prefix right?\n")


def test_empty_stream(redis):
    # no key
    assert alerts(redis).stdout == table() == (
        "TIME                  TENANT  KEY  PERIOD   PERIOD_START  THRESHOLD"
        "  SPEND_USD  LIMIT_USD\n")
    r = alerts(redis, "--json")
    assert (r.stdout, r.stderr) == ("", "")
    # a stream with no entry left
    entry = xadd(redis, A1)
    redis.call("XDEL", "aigw:alerts", entry)
    assert redis.call("TYPE", "aigw:alerts") == "stream"
    r = alerts(redis)
    assert (r.stdout, r.stderr) == (table(), "")
    assert alerts(redis, "--json").stdout == ""


def test_redis_unreachable_and_auth(tmp_path):
    port = h.free_port()
    r = aigw("alerts", "--redis", "127.0.0.1:%d" % port, check=1)
    assert r.stdout == "" and "Redis at 127.0.0.1:%d" % port in r.stderr
    secret = "s3cret-Pa55word"
    srv = redisd.RedisServer(tmp_path / "auth", password=secret).start()
    try:
        xadd(srv, A1)
        r = aigw("alerts", "--redis", srv.address, "--password", "wrong" +
                 secret, check=1)
        assert "AUTH" in r.stderr and secret not in r.stderr + r.stdout
        r = aigw("alerts", "--redis", srv.address, "--password", secret,
                 check=0)
        assert r.stdout == table(A1) and secret not in r.stderr
    finally:
        srv.stop()


def test_help():
    r = aigw("--help", check=0)
    assert "\n  alerts " in r.stdout
    r = aigw("alerts", "--help", check=0)
    for opt in ("--count", "--since", "--follow", "--json", "--redis",
                "--password", "--db", "--prefix"):
        assert opt in r.stdout
    r = aigw("alerts", "extra", check=2)
    assert "unexpected argument" in r.stderr


# --- --follow ----------------------------------------------------------------

class Follower:
    """aigw alerts --follow, its lines read by a thread."""

    def __init__(self, redis, *args):
        self.proc = subprocess.Popen(
            [str(AIGW), "alerts", "--redis", redis.address, "--follow",
             *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True)
        self.lines = queue.Queue()
        self.thread = threading.Thread(target=self.read, daemon=True)
        self.thread.start()

    def read(self):
        for line in self.proc.stdout:
            self.lines.put(line)

    def line(self, timeout=WAIT):
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            pytest.fail("no line from aigw alerts --follow in %ss" % timeout)

    def nothing(self, seconds):
        try:
            extra = self.lines.get(timeout=seconds)
        except queue.Empty:
            return True
        pytest.fail("unexpected line %r" % extra)

    def stop(self, sig=signal.SIGTERM):
        self.proc.send_signal(sig)
        rc = self.proc.wait(WAIT)
        self.thread.join(WAIT)
        return rc, self.proc.stderr.read()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def test_follow(redis):
    fill(redis, A1, A2)
    f = Follower(redis, "-n", "1")
    try:
        head, last = table(A2).splitlines(keepends=True)
        assert f.line() == head
        assert f.line() == last
        f.nothing(0.5)
        xadd(redis, A3)
        # a later line: the widths of the first ones, the cells padded
        assert f.line() == table(A3, widths_of=[A2]).splitlines(
            keepends=True)[1]
        xadd(redis, A1)
        xadd(redis, A2)
        assert f.line().split() == table(A1).splitlines()[1].split()
        assert f.line().split() == table(A2).splitlines()[1].split()
        rc, err = f.stop()
        assert (rc, err) == (0, "")
    finally:
        f.kill()


def test_follow_sigint_count_0_and_since(redis):
    fill(redis, A1)
    # -n 0: only what comes (the header once it has read the stream);
    # --since in the future: nothing before then
    f = Follower(redis, "-n", "0")
    g = Follower(redis, "--json", "--since", str(int(time.time() * 1000)
                                                 + 3600 * 1000))
    try:
        assert f.line() == table()
        entry = xadd(redis, A3)
        assert f.line() == table(A3, widths_of=[]).splitlines(
            keepends=True)[1]
        g.nothing(1)
        later = xadd(redis, A2, "%d-0" % (int(time.time() * 1000)
                                          + 7200 * 1000))
        assert json.loads(g.line()) == dict(A2, id=later)
        assert f.line().split() == cells_of(A2)
        assert entry < later
        assert f.stop(signal.SIGINT) == (0, "")
        assert g.stop(signal.SIGTERM) == (0, "")
    finally:
        f.kill()
        g.kill()


def test_follow_redis_goes_away(redis):
    f = Follower(redis)
    try:
        assert f.line() == table()
        redis.stop()
        time.sleep(3)        # several attempts: still one line on stderr
        assert f.proc.poll() is None
        redis.start()
        xadd(redis, A1)
        assert f.line(timeout=WAIT + 5).split() == cells_of(A1)
        rc, err = f.stop()
        assert rc == 0
        assert err.count("\n") == 1, err
        assert err.startswith("aigw alerts: Redis at %s: " % redis.address)
        assert err.endswith(": retrying until it answers\n")
    finally:
        f.kill()


# --- a fake Redis: entries of the wrong shape --------------------------------

def resp(v):
    if isinstance(v, list):
        return b"*%d\r\n" % len(v) + b"".join(resp(x) for x in v)
    if isinstance(v, int):
        return b":%d\r\n" % v
    if v is None:
        return b"*-1\r\n"
    v = v if isinstance(v, bytes) else v.encode()
    return b"$%d\r\n%s\r\n" % (len(v), v)


def test_malformed_entries():
    """Redis never sends these; a peer posing as Redis may."""
    good = ["1-0", ["tenant", "team-a", "period", "daily"]]
    reply = resp([good,                                 # newest first
                  ["2-0", "x"],
                  ["3-0", ["tenant"]],
                  ["4-0", ["tenant", 5]],
                  ["5-0", None],
                  ["6-\x1b[2J", ["tenant", "id"]],
                  "7-0",
                  ["8-0"]])
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)

    def serve():
        c, _ = srv.accept()
        with c:
            c.recv(65536)
            c.sendall(reply)
            c.recv(65536)

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        r = aigw("alerts", "--redis", "127.0.0.1:%d" % srv.getsockname()[1],
                 "--json", check=0)
    finally:
        srv.close()
    assert r.stdout == '{"id":"1-0","tenant":"team-a","period":"daily"}\n'
    warnings = r.stderr.splitlines()
    assert warnings == [
        "aigw alerts: aigw:alerts: entry 2-0 is not a field/value list: "
        "skipped",
        "aigw alerts: aigw:alerts: entry 3-0 is not a field/value list: "
        "skipped",
        "aigw alerts: aigw:alerts: entry 4-0 is not a field/value list: "
        "skipped",
        "aigw alerts: aigw:alerts: entry 5-0 is not a field/value list: "
        "skipped",
        'aigw alerts: aigw:alerts: entry "6-?[2J": not a stream ID: skipped',
        "aigw alerts: aigw:alerts: an entry is not [ID, FIELDS]: skipped",
        "aigw alerts: aigw:alerts: an entry is not [ID, FIELDS]: skipped"]


class FakeRedis:
    """
    Answers each command with the next of "answers" (RESP bytes, or a
    function of the command's arguments), the last one again to any later
    command; records the commands.
    """

    def __init__(self, answers):
        self.answers = answers
        self.commands = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.address = "127.0.0.1:%d" % self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        c, _ = self.sock.accept()
        with c:
            while True:
                data = c.recv(65536)       # one command: aigw waits
                if not data:
                    return
                # *N, then $LEN and the argument, in turn
                self.commands.append(
                    [a.decode() for a in data.split(b"\r\n")[2::2]])
                n = min(len(self.commands), len(self.answers)) - 1
                answer = self.answers[n]
                if callable(answer):
                    answer = answer()
                c.sendall(answer)

    def close(self):
        self.sock.close()


def test_follow_skips_a_malformed_entry_once():
    """An entry skipped while following is not read again."""
    def block():
        time.sleep(0.2)
        return resp(None)

    srv = FakeRedis([resp([]),
                     resp([["aigw:alerts",
                            [["9-0", ["tenant", "team-a"]],
                             ["10-0", ["tenant"]]]]]),
                     block])
    f = Follower(srv, "--json")
    try:
        assert json.loads(f.line()) == {"id": "9-0", "tenant": "team-a"}
        deadline = time.monotonic() + WAIT
        while len(srv.commands) < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        rc, err = f.stop()
    finally:
        f.kill()
        srv.close()
    assert rc == 0
    assert err == ("aigw alerts: aigw:alerts: entry 10-0 is not a "
                   "field/value list: skipped\n")
    assert srv.commands[0] == ["XREVRANGE", "aigw:alerts", "+", "-",
                               "COUNT", "100"]
    assert srv.commands[1][-2:] == ["aigw:alerts", "0-0"]
    assert srv.commands[2][:5] == ["XREAD", "COUNT", "100", "BLOCK", "1000"]
    assert [c[-1] for c in srv.commands[2:4]] == ["10-0", "10-0"]

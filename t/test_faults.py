"""
Counting exactly once through faults (issue 5): Redis stopped and started
under load, nginx reloaded, a worker killed with SIGKILL, Redis down for a
whole run with nginx quitting and the journal replayed by the next nginx.
The mock upstream keeps the ground truth: the usage it sent, per request it
answered in full, by tenant (X-Test-Tenant, which the gateway passes
through) and model; Redis must equal it field by field.

These tests need nginx's master and several workers: not under valgrind
(AIGW_VALGRIND=1 runs nginx as one process).
"""

import random
import re
import struct
import subprocess
import threading
import time
import urllib.parse
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import helpers as h
import mock_upstream as mu
import redisd
from redisd import EXACT_FIELDS


pytestmark = [
    pytest.mark.skipif(not redisd.redis_server_bin(),
                       reason="redis-server not installed (make deps "
                       "installs it)"),
    pytest.mark.skipif(h.VALGRIND, reason="needs nginx's master and "
                       "workers (reload, SIGKILL, quit): valgrind runs one "
                       "process"),
]

TENANTS = ["fault-a", "fault-b", "fault-c", "fault-d"]

BEDROCK_MODELS = ["amazon.nova-lite-v1:0",
                  "anthropic.claude-3-haiku-20240307-v1:0",
                  "meta.llama3-8b-instruct-v1:0"]
BEDROCK_OPS = ["converse", "converse-stream", "invoke",
               "invoke-with-response-stream"]
ENDPOINT = "fault-endpoint"


@pytest.fixture(scope="module")
def fmock():
    """A mock of this module's own: its records are the ground truth."""
    m = mu.MockUpstream(captures_dir=str(h.captures_dir() or ""),
                        hold_timeout=h.HOLD_WAIT).start()
    yield m
    m.stop()


@pytest.fixture(scope="module")
def tenant_keys(tmp_path_factory):
    """{tenant: key} and a tenants file with those tenants."""
    keys = {}
    doc = []
    for i, t in enumerate(TENANTS):
        kid = "faultkey%d" % i
        key, sha = h.make_key(kid)
        h.register_keys(key)
        keys[t] = key
        doc.append({"id": t, "keys": [{"id": kid, "sha256": sha}],
                    "models": ["*"]})
    path = h.write_tenants(tmp_path_factory.mktemp("fault-tenants") /
                           "tenants.json", h.tenants_doc(*doc))
    return keys, path


@pytest.fixture
def redis(tmp_path):
    r = redisd.RedisServer(tmp_path / "redis")
    yield r
    r.stop()


def redis_target(redis):
    """aigw_redis's address for "redis": with TLS (redis.tls), its TLS port
    and the test CA."""
    if redis.tls:
        return "127.0.0.1:%d tls=on tls_ca=%s" % (redis.tls_port,
                                                  redis.tls["ca"])
    return redis.address


def fault_gateway(nginx_factory, fmock, tenants_file, redis, journal,
                  workers=2, queue="256k"):
    port = h.free_port()
    conf = h.aigw_http(fmock.url, tenants=tenants_file or h.DEFAULT, extra=(
        "aigw_redis %s queue=%s journal=%s timeout=1s;" % (
            redis_target(redis), queue, journal)))
    conf += h.gateway_server(port)
    n = nginx_factory(conf, [port], start=False)
    text = n.conf.read_text()
    assert "worker_processes 1;" in text
    n.conf.write_text(text.replace("worker_processes 1;",
                                   "worker_processes %d;" % workers))
    n.start()
    deadline = time.monotonic() + 10
    while len(n.worker_pids()) != workers:
        assert time.monotonic() < deadline, n.worker_pids()
        time.sleep(0.02)
    return n


# --- the load ---------------------------------------------------------------

def make_plan(count, keys, seed):
    """
    count requests: real captures (streams among them; without the shared
    data, their synthetic stand-ins: every operation, cache reads and
    writes, SageMaker, a stream ending in a throttling exception, error
    statuses) at random byte boundaries, the mock's own answers to every
    Bedrock operation and to SageMaker, and errors (429 throttles, 500,
    400); four tenants.
    Each is (tenant, key, method, path, headers, body, want_status).
    """
    rng = random.Random(seed)
    cases = h.responses()
    plan = []
    for i in range(count):
        tenant = rng.choice(TENANTS)
        headers = [("X-Test-Tenant", tenant),
                   ("X-Mock-Chunking", "random:%d:512" % rng.randrange(1 << 30))]
        x = rng.random()
        want = 200
        if x < 0.45:
            c = rng.choice(cases)
            path = c.path
            body = c.body
            headers += c.request_headers()
            want = c.status
        elif x < 0.80 or x >= 0.88:
            model = urllib.parse.quote(rng.choice(BEDROCK_MODELS), safe="")
            path = "/model/%s/%s" % (model, rng.choice(BEDROCK_OPS))
            body = b'{"messages": "%s"}' % (b"z" * rng.randrange(0, 400))
            headers.append(("Content-Type", "application/json"))
            if x >= 0.88:
                want = rng.choice([429, 429, 429, 429, 500, 500, 400])
                headers.append(("X-Mock-Status", str(want)))
        else:
            path = "/endpoints/%s/%s" % (ENDPOINT, rng.choice(
                ["invocations", "invocations-response-stream"]))
            body = b'{"inputs": "%s"}' % (b"q" * rng.randrange(0, 100))
            headers.append(("Content-Type", "application/json"))
        plan.append((tenant, keys[tenant], "POST", path, headers, body,
                     want))
    return plan


class Load:
    """
    Client threads working through a plan at about "rate" requests a
    second in all; pause() stops them taking new requests and waits until
    none is in flight; resume() lets them go on.
    """

    def __init__(self, port, plan, threads=8, rate=150):
        self.port = port
        self.plan = plan
        self.threads = threads
        self.interval = threads / float(rate)
        self.lock = threading.Lock()
        self.next = 0
        self.done = 0
        self.in_flight = 0
        self.run = threading.Event()
        self.run.set()
        self.results = [None] * len(plan)
        self.errors = []
        self.workers = [threading.Thread(target=self._client, daemon=True)
                        for _ in range(threads)]

    def start(self):
        for t in self.workers:
            t.start()
        return self

    def _take(self):
        while True:
            self.run.wait()
            with self.lock:
                if not self.run.is_set():
                    continue
                if self.next >= len(self.plan):
                    return None
                i = self.next
                self.next += 1
                self.in_flight += 1
                return i

    def _client(self):
        while True:
            i = self._take()
            if i is None:
                return
            t0 = time.monotonic()
            tenant, key, method, path, headers, body, want = self.plan[i]
            try:
                r = h.http_request(self.port, method, path, headers, body,
                                   api_key=key, timeout=60)
                self.results[i] = r.status
                if r.status != want:
                    self.errors.append("request %d %s: status %d, want %d: "
                                       "%r" % (i, path, r.status, want,
                                               r.body[:200]))
            except Exception as e:                      # noqa: BLE001
                self.errors.append("request %d %s: %r" % (i, path, e))
            finally:
                with self.lock:
                    self.in_flight -= 1
                    self.done += 1
            left = self.interval - (time.monotonic() - t0)
            if left > 0:
                time.sleep(left)

    def wait_done(self, n, timeout=120):
        deadline = time.monotonic() + timeout
        while self.done < n:
            assert time.monotonic() < deadline, \
                "only %d of %d requests done" % (self.done, n)
            time.sleep(0.01)

    def pause(self, timeout=60):
        self.run.clear()
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                if self.in_flight == 0:
                    return self.done
            assert time.monotonic() < deadline, "requests still in flight"
            time.sleep(0.005)

    def resume(self):
        self.run.set()

    def stop(self):
        """No new request is taken (after a failure)."""
        with self.lock:
            del self.plan[self.next:]
        self.run.set()

    def join(self, timeout=120):
        for t in self.workers:
            t.join(timeout)
            assert not t.is_alive(), "a client thread is stuck"


def wait_logged(n, count, timeout=30):
    """
    Waits until nginx has written "count" access log entries: each request
    is then through its log phase, where its usage record is committed
    (the access log's handler runs first, the module's right after it in
    the same call, hence the short grace).
    """
    got = n.wait_access(count, timeout)
    assert len(got) >= count, "%d of %d requests logged" % (len(got), count)
    time.sleep(0.3)


def journal_files(d):
    return sorted(p for p in Path(d).glob("*.aigwj"))


def journal_records(path):
    """
    The records of a journal file, in the binary form of aigw_record.h
    (u32 length, u32 CRC32 of what follows the CRC, ...): a count, each
    CRC checked.
    """
    data = Path(path).read_bytes()
    off = 0
    count = 0
    while off < len(data):
        assert off + 8 <= len(data), "%s: a record cut short" % path
        size, crc = struct.unpack_from("<II", data, off)
        assert 8 < size <= len(data) - off, "%s: bad length at %d" % (
            path, off)
        assert zlib.crc32(data[off + 8:off + size]) == crc, \
            "%s: bad CRC at %d" % (path, off)
        off += size
        count += 1
    return count


def by_tenant_model(usage):
    out = {}
    for (day, tenant, model), fields in usage.items():
        redisd.add_usage(out, (tenant, model), fields)
    return out


def wait_truth(redis, truth, timeout=60):
    """Polls Redis until its totals equal the ground truth, or stop
    changing for 5 s after the deadline's first half; returns them."""
    deadline = time.monotonic() + timeout

    def done(u):
        return not redisd.diff_usage(by_tenant_model(u), truth)
    got = redis.wait_stable(done, timeout=timeout / 2)
    if not done(got):
        got = redis.wait_stable(None, timeout=deadline - time.monotonic(),
                                quiet=5)
    return by_tenant_model(got)


def assert_truth(got, truth, what):
    diff = redisd.diff_usage(got, truth)
    lost = sum(t["requests"] for t in truth.values()) - sum(
        g.get("requests", 0) for g in got.values())
    assert not diff, "%s: %d request(s) %s\n  %s" % (
        what, abs(lost), "lost" if lost >= 0 else "counted twice",
        "\n  ".join(diff[:40]))


def nginx_quit(n, timeout=30):
    """nginx -s quit, and waits until the master has exited."""
    p = subprocess.run(n.base_cmd() + ["-s", "quit"], env=n.env,
                       capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr.decode(errors="replace")
    try:
        n.proc.wait(timeout)
    except subprocess.TimeoutExpired:
        raise AssertionError("nginx did not exit within %ds of nginx -s "
                             "quit:\n%s" % (timeout, "\n".join(
                                 n.read_error_log().splitlines()[-5:])))
    problems = n.stop()
    assert not problems, problems


def finish(n, redis=None):
    """
    Ends nginx inside the test (Redis up, if given, so that it can drain),
    then fails on a bad exit or bad error.log lines: a test marked xfail
    for a module bug stays a clean xfail instead of erroring at teardown.
    """
    if redis is not None and not redis.running():
        redis.start()
    problems = n.stop()
    bad = n.bad_log_lines(n.checked)
    n.checked = n.mark()
    assert not problems and not bad, "\n".join(problems + bad[:20])


def abandon(n, redis):
    """After a failure: ends nginx (Redis up so that it can) without
    hiding the failure, and leaves nothing for the teardown to report."""
    try:
        finish(n, redis)
    except AssertionError as e:
        print("\nwhile ending nginx after the failure: %s" % str(e)[:3000])


def redis_worker_commands(redis, n):
    """
    {worker pid: the last command of its Redis connection}, from CLIENT
    LIST and the sockets the workers hold: the drainer holding the lease
    is the one whose last command is EVALSHA.
    """
    ports = {}
    for line in redis.call("CLIENT", "LIST").splitlines():
        f = dict(kv.split("=", 1) for kv in line.split() if "=" in kv)
        host, _, port = f["addr"].rpartition(":")
        ports[int(port)] = f.get("cmd")
    inodes = {}
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        cols = line.split()
        lport = int(cols[1].split(":")[1], 16)
        rport = int(cols[2].split(":")[1], 16)
        if lport in ports and rport == (redis.tls_port or redis.port):
            inodes["socket:[%s]" % cols[9]] = ports[lport]
    out = {}
    for pid in n.worker_pids():
        try:
            fds = list(Path("/proc/%d/fd" % pid).iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                link = str(fd.readlink())
            except OSError:
                continue
            if link in inodes:
                out[pid] = inodes[link]
    return out


# --- the fault-injection run ------------------------------------------------

@pytest.mark.parametrize("variant", [
    "16m",
    "256k",
    "16m-tls",
])
def test_exactly_once_through_faults(redis, nginx_factory, fmock,
                                     tenant_keys, certs, tmp_path, variant):
    """
    About 3,000 requests of mixed operations (invoke, converse, both
    stream kinds, real captures -- or their synthetic stand-ins -- at
    random byte boundaries, SageMaker, 429/500/400 errors) from 8
    concurrent clients with 4 tenants, through 2 workers, while:

      1. Redis is shut down for several seconds, then started again (on
         the same port, with its data);
      2. during the outage the worker holding the drainer's lease (the
         one whose Redis connection last sent EVALSHA) is SIGKILLed: its
         records stay in the shared queue and the other worker takes the
         lease over once it lapses (3 s);
      3. nginx is reloaded while Redis is still away, after that takeover
         (the old workers journal what is queued as they exit), and once
         more after Redis is back, under load.

    Variant "16m" (the default queue): the load slows to 60 requests a
    second during the outage, so that the queue never holds more than a
    batch (512 records) and what goes to the journal goes there at the
    reload.  Variant "256k": the load goes on at full rate and the queue
    spills half of itself to the journal during the outage, before the
    first reload.  Variant "16m-tls": the first, with Redis reached over
    TLS (the certificate and its address verified).

    The kill happens at a quiescent moment: the clients pause and every
    request is through its log phase first.  A request in flight inside a
    SIGKILLed worker is lost by nature (nothing was committed for it yet),
    so only then is exactness decidable.

    At the end Redis must equal the mock's ground truth field by field for
    every (tenant, model): zero lost, zero counted twice.
    """
    keys, tenants_file = tenant_keys
    fmock.reset()
    journal = tmp_path / "journal"
    queue, _, tls = variant.partition("-")
    if tls:
        # the same run over TLS, the certificate verified
        redis.tls = certs
        redis.tls_port = h.free_port()
    redis.start()
    n = fault_gateway(nginx_factory, fmock, tenants_file, redis, journal,
                      queue=queue)
    total = 3000
    load = Load(n.port, make_plan(total, keys, seed=5), threads=8,
                rate=150).start()
    t0 = time.monotonic()
    timeline = []

    def note(what):
        timeline.append("%5.1fs %4d done: %s" % (time.monotonic() - t0,
                                                   load.done, what))

    try:
        # 1. Redis away
        load.wait_done(400)
        cmds = redis_worker_commands(redis, n)
        holder = [p for p, c in cmds.items() if c in ("evalsha", "eval")]
        if queue == "16m":
            load.interval = load.threads / 60.0
        redis.shutdown()
        down = time.monotonic()
        note("redis shut down; worker commands %s" % cmds)

        # 2. SIGKILL the lease holder
        load.wait_done(load.done + 100)
        done = load.pause()
        wait_logged(n, done)
        workers = n.worker_pids()
        victim = holder[0] if len(holder) == 1 and holder[0] in workers \
            else min(workers)
        n.allow.append(r"worker process %d exited on signal 9" % victim)
        subprocess.run(["kill", "-KILL", str(victim)], check=True)
        killed = time.monotonic()
        deadline = killed + 10
        while True:
            now = n.worker_pids()
            if victim not in now and len(now) == 2:
                break
            assert time.monotonic() < deadline, "no new worker: %s" % now
            time.sleep(0.02)
        note("worker %d killed (%s), workers now %s" % (
            victim, "the lease holder" if [victim] == holder else
            "lease holder unknown", sorted(now)))
        load.resume()

        # 3. reload with Redis still away, after the lease lapsed
        while time.monotonic() - killed < 3.5:
            time.sleep(0.05)
        if queue == "256k":
            deadline = time.monotonic() + 15
            while not journal_files(journal):
                assert time.monotonic() < deadline, \
                    "the queue did not spill to the journal"
                time.sleep(0.05)
            note("the queue spilled: %s" % [
                p.name for p in journal_files(journal)])
        rc, out = n.reload(timeout=20)
        assert rc == 0, out
        note("reloaded (redis away), %d journal file(s)"
             % len(journal_files(journal)))
        while time.monotonic() - down < 7:
            time.sleep(0.05)
        load.interval = load.threads / 150.0
        redis.start()
        note("redis started again")

        # 4. reload with Redis back, under load
        load.wait_done(2300)
        rc, out = n.reload(timeout=20)
        assert rc == 0, out
        note("reloaded (redis up)")

        load.wait_done(total)
        load.join()
        note("all requests done")
        assert not load.errors, "\n".join(load.errors[:20])
        wait_logged(n, total)

        truth = fmock.ground_truth()
        assert sum(t["requests"] for t in truth.values()) == total, \
            "the mock did not answer every request in full"
        got = wait_truth(redis, truth)
        note("redis totals settled")
    except BaseException:
        load.stop()
        abandon(n, redis)
        raise
    finally:
        print("\n" + "\n".join(timeline))

    assert_truth(got, truth, "Redis against the mock's ground truth")
    for key, t in truth.items():
        if t["requests"] >= 20:
            assert got[key].get("latency_ms_sum", 0) > 0, (key, got[key])
    # the run did exercise what it means to
    assert {k[0] for k in truth} == set(TENANTS)
    assert sum(t["throttled"] for t in truth.values()) > 50
    assert sum(t["errors"] for t in truth.values()) > \
        sum(t["throttled"] for t in truth.values())
    assert [victim] == holder, "the lease holder was not identified: %s" \
        % cmds
    assert not journal_files(journal), "journal files left: %s" % \
        journal_files(journal)
    log = n.read_error_log()
    assert "aigw: counting the usage journal" in log
    finish(n)
    assert "open socket" not in n.read_error_log()


def test_spill_more_than_a_batch(redis, nginx_factory, fmock, tmp_path):
    """
    Redis away and a 256k queue: past half of it, queued records go to
    journal files, whole, a batch of at most 512 records a file, however
    many are queued.
    """
    fmock.reset()
    journal = tmp_path / "journal"
    n = fault_gateway(nginx_factory, fmock, None, redis, journal,
                      workers=1)
    try:
        path = "/model/amazon.nova-lite-v1%3A0/converse"

        def one(i):
            return h.post(n.port, path, b"{}",
                          [("X-Test-Tenant", h.DEFAULT_TENANT)]).status

        with ThreadPoolExecutor(16) as ex:
            statuses = list(ex.map(one, range(1600)))
        assert statuses == [200] * 1600
        deadline = time.monotonic() + 10
        while not journal_files(journal) and time.monotonic() < deadline:
            time.sleep(0.05)
        bad = n.bad_log_lines(n.checked)
        assert not bad, "\n".join(bad[:5])
        files = journal_files(journal)
        assert files, "nothing spilled to %s" % journal
        assert sum(journal_records(f) for f in files) > 512
    finally:
        finish(n, redis)


# --- Redis down for a whole run: the journal --------------------------------

@pytest.mark.parametrize("total", [
    400,
    1500,
])
def test_journal_replayed_once_after_quit(redis, nginx_factory, fmock,
                                          tenant_keys, tmp_path, total):
    """
    Redis down from the start: 400 requests (fewer than a batch of 512
    records) or 1500 (more), nginx -s quit, the records are
    all in journal
    files and Redis has nothing; Redis started, nginx started again with
    the same configuration: the journal is counted once (Redis equals the
    mock's ground truth) and removed; nginx restarted once more counts
    nothing again.
    """
    keys, tenants_file = tenant_keys
    fmock.reset()
    journal = tmp_path / "journal"
    n = fault_gateway(nginx_factory, fmock, tenants_file, redis, journal)
    try:
        load = Load(n.port, make_plan(total, keys, seed=11), threads=8,
                    rate=2000).start()
        load.join()
        assert not load.errors, "\n".join(load.errors[:20])
        wait_logged(n, total)
        truth = fmock.ground_truth()
        assert sum(t["requests"] for t in truth.values()) == total

        nginx_quit(n, timeout=10)
        files = journal_files(journal)
        assert files, "no journal in %s" % journal
        assert sum(journal_records(f) for f in files) == total, files

        redis.start()
        assert redis.call("DBSIZE") == 0

        mark = n.mark()
        n.start()
        got = wait_truth(redis, truth)
        assert_truth(got, truth, "the journal replayed")
        deadline = time.monotonic() + 10
        while list(Path(journal).iterdir()):
            assert time.monotonic() < deadline, \
                "the journal is not removed: %s" % list(
                    Path(journal).iterdir())
            time.sleep(0.05)
        assert "aigw: counting the usage journal" in n.error_log_since(mark)

        # once more: nothing left to count twice
        nginx_quit(n)
        assert not list(Path(journal).iterdir())
        mark = n.mark()
        n.start()
        assert n.wait_log(r'aigw: redis "%s" connected'
                          % re.escape(redis.address), since=mark)
        time.sleep(1.0)         # ten drain ticks
        assert by_tenant_model(redis.usage()) == got
    except BaseException:
        abandon(n, redis)
        raise
    finish(n)

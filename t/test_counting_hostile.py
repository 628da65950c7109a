"""
Counting that hostile input cannot stop or skew (issue 9, defects 1, 2, 7
and 8): counts no model can produce, records Redis refuses, made-up model
IDs, the overflow journal's lock, and journal directories shared by two
nginx instances counting into two Redis.
"""

import fcntl
import hashlib
import os
import signal
import struct
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import helpers as h
import mock_synthetic as ms
import redisd
from redisd import FIELDS


pytestmark = pytest.mark.skipif(
    not redisd.redis_server_bin(),
    reason="redis-server not installed (make deps installs it)")

WAIT = 120 if h.VALGRIND else 20

CONVERSE = "/model/amazon.nova-lite-v1%3A0/converse"
NOVA = "amazon.nova-lite-v1:0"
CLAUDE = "anthropic.claude-3-haiku-20240307-v1:0"
INVOKE_CLAUDE = "/model/anthropic.claude-3-haiku-20240307-v1%3A0/invoke"


def gateway(nginx_factory, mock, redis_address, journal, extra=""):
    port = h.free_port()
    conf = h.aigw_http(mock.url, extra="aigw_redis %s journal=%s%s;" % (
        redis_address, journal, extra))
    conf += h.gateway_server(port)
    return nginx_factory(conf, [port])


def totals(redis, prefix="aigw"):
    """{(tenant, model): {field: n}} over the days."""
    out = {}
    for (day, tenant, model), f in redis.usage(prefix).items():
        redisd.add_usage(out, (tenant, model), f)
    return out


def exact(t):
    return {k: {f: v for f, v in fields.items() if f != "latency_ms_sum"}
            for k, fields in t.items()}


def counts(requests, **fields):
    out = {f: 0 for f in FIELDS if f != "latency_ms_sum"}
    out["requests"] = requests
    out.update(fields)
    return out


def wait_for(redis, want, timeout=WAIT):
    """Polls until the totals equal want; then checks they stay so."""
    got = redis.wait_stable(lambda u: exact(totals_of(u)) == want,
                            timeout=timeout)
    assert exact(totals_of(got)) == want
    # nothing counts again: a batch applied twice would show here
    time.sleep(1.5)
    assert exact(totals(redis)) == want
    return got


def totals_of(usage):
    out = {}
    for (day, tenant, model), f in usage.items():
        redisd.add_usage(out, (tenant, model), f)
    return out


def journal_tag(address, db=0, prefix="aigw"):
    """The tag of a Redis target its journal files are named after."""
    return hashlib.sha256(("%s\n%d\n%s" % (address, db, prefix))
                          .encode()).hexdigest()[:16]


def encode_record(stream, seq, day, tenant, model, values, image_class=b""):
    """A usage record in the module's binary form (aigw_record.h)."""
    body = stream + struct.pack("<Q", seq) + day.encode()
    body += bytes([len(tenant)]) + tenant.encode()
    body += struct.pack("<H", len(model)) + model.encode()
    body += bytes([len(image_class)]) + image_class
    body += b"".join(struct.pack("<Q", v) for v in values)
    size = 8 + len(body)
    return struct.pack("<II", size, zlib.crc32(body) & 0xffffffff) + body


def values(requests=1, **f):
    return [requests if n == "requests" else f.get(n, 0) for n in FIELDS]


def converse(port, n=1, extra=()):
    for _ in range(n):
        r = h.post(port, CONVERSE, b'{"messages": []}', list(extra))
        assert r.status == 200, r


# --- defect 1: a count no model can produce ---------------------------------

def test_absurd_count_is_not_believed(nginx_factory, mock, redis, tmp_path):
    """
    A response with input_tokens 10^19 next to normal requests: it counts
    as a request with its readable counts only, the others count once
    each (not again every second), the next request counts, the warning
    names the bound, and nginx quits at once.
    """
    n = gateway(nginx_factory, mock, redis.address, tmp_path / "journal")
    huge = "invoke-anthropic-usage:10000000000000000000:1"
    assert ms.build(huge).usage["input_tokens"] == 0
    with ThreadPoolExecutor(4) as ex:
        futures = [ex.submit(h.post, n.port, INVOKE_CLAUDE, b"{}",
                             [("X-Mock-Synthetic", huge)])]
        futures += [ex.submit(h.post, n.port, CONVERSE, b'{"messages": []}')
                    for _ in range(6)]
        assert [f.result().status for f in futures] == [200] * 7
    in_tok = 10 + len(b'{"messages": []}') // 4
    want = {("harness", CLAUDE): counts(1, output_tokens=1),
            ("harness", NOVA): counts(6, input_tokens=6 * in_tok,
                                      output_tokens=6 * 7)}
    wait_for(redis, want)
    converse(n.port)
    want[("harness", NOVA)] = counts(7, input_tokens=7 * in_tok,
                                     output_tokens=7 * 7)
    wait_for(redis, want)
    assert "counts over 1000000000, the most a response can report" in \
        n.read_error_log()
    t0 = time.monotonic()
    assert n.stop() == []
    assert time.monotonic() - t0 < (60 if h.VALGRIND else 5)


@pytest.mark.parametrize("inp,out,want_in,want_out", [
    ("-5", "3", 0, 3),                      # negative: not a count
    ("12.5", "3", 0, 3),                    # not a whole number
    ("1000000000", "1000000001", 1000000000, 0),    # at and over the bound
    ("18446744073709551616", "2", 0, 2),    # over 2^64
])
def test_unbelievable_counts(nginx_factory, mock, redis, tmp_path, inp, out,
                             want_in, want_out):
    n = gateway(nginx_factory, mock, redis.address, tmp_path / "journal")
    name = "invoke-anthropic-usage:%s:%s" % (inp, out)
    assert ms.build(name).usage["input_tokens"] == want_in
    r = h.post(n.port, INVOKE_CLAUDE, b"{}", [("X-Mock-Synthetic", name)])
    assert r.status == 200
    wait_for(redis, {("harness", CLAUDE): counts(
        1, input_tokens=want_in, output_tokens=want_out)})
    e = [x for x in n.access_entries()
         if x["request_uri"].endswith("/invoke")][-1]
    assert (e["aigw_input_tokens"], e["aigw_output_tokens"]) == (
        str(want_in), str(want_out))


def test_poison_journal_set_aside(nginx_factory, mock, redis, tmp_path):
    """
    A journal left by an older version holds a record whose counter Redis
    cannot add (10^19): the script checks the batch before writing, counts
    the good records once, and sets the bad one aside in a dead-letter
    file with an alert, instead of refusing the whole batch forever.
    """
    journal = tmp_path / "journal"
    journal.mkdir()
    stream = os.urandom(16)
    day = redisd.today()
    recs = [encode_record(stream, 1, day, "harness", NOVA,
                          values(input_tokens=10)),
            encode_record(stream, 2, day, "harness", CLAUDE,
                          values(input_tokens=10 ** 19, output_tokens=1)),
            encode_record(stream, 3, day, "harness", NOVA,
                          values(input_tokens=5, output_tokens=2))]
    name = "%s-%s-%020d-1.aigwj" % (journal_tag(redis.address), stream.hex(),
                                    1)
    (journal / name).write_bytes(b"".join(recs))
    n = gateway(nginx_factory, mock, redis.address, journal)
    n.allow = [r"refused usage record 2 of a batch: counter input_tokens "
               r"out of range", r"set aside in a dead-letter file"]
    wait_for(redis, {("harness", NOVA): counts(2, input_tokens=15,
                                               output_tokens=2)})
    dead = list(journal.glob("*.aigwdead"))
    assert len(dead) == 1, list(journal.iterdir())
    assert dead[0].name.startswith(journal_tag(redis.address) + "-")
    data = dead[0].read_bytes()
    assert len(data) == len(recs[1])
    assert not list(journal.glob("*.aigwj*"))
    # and the queue goes on
    converse(n.port)
    in_tok = 10 + len(b'{"messages": []}') // 4
    wait_for(redis, {("harness", NOVA): counts(
        3, input_tokens=15 + in_tok, output_tokens=2 + 7)})


def test_refused_records_dead_letter_then_counted(nginx_factory, mock, redis,
                                                  tmp_path):
    """
    A usage hash that is not a hash (WRONGTYPE): the records for it are
    refused, the others counted; renamed to .aigwj once the key is fixed,
    the dead-letter file counts them exactly once.
    """
    journal = tmp_path / "journal"
    day = redisd.today()
    redis.call("SET", redisd.usage_key(day, "harness", NOVA), "oops")
    n = gateway(nginx_factory, mock, redis.address, journal)
    n.allow = [r"refused usage record \d+ of a batch: WRONGTYPE",
               r"set aside in a dead-letter file"]
    converse(n.port, 3)
    r = h.post(n.port, INVOKE_CLAUDE, b"{}",
               [("X-Mock-Synthetic", "invoke-anthropic-usage:4:5")])
    assert r.status == 200
    # (the usage hashes cannot all be read while one is a string)
    deadline = time.monotonic() + WAIT
    while redis.call("HGET", redisd.usage_key(day, "harness", CLAUDE),
                     "requests") != "1":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert redis.call("HGETALL", redisd.usage_key(day, "harness", CLAUDE))[
        :6] == ["requests", "1", "input_tokens", "4", "output_tokens", "5"]
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        dead = list(journal.glob("*.aigwdead"))
        if dead and sum(f.stat().st_size for f in dead) > 0:
            break
        time.sleep(0.05)
    assert dead
    redis.call("DEL", redisd.usage_key(day, "harness", NOVA))
    assert n.stop() == []
    for f in dead:
        f.rename(f.with_suffix(".aigwj"))
    # the next nginx (one that starts looks at the journal first)
    gateway(nginx_factory, mock, redis.address, journal)
    in_tok = 10 + len(b'{"messages": []}') // 4
    wait_for(redis, {("harness", CLAUDE): counts(1, input_tokens=4,
                                                 output_tokens=5),
                     ("harness", NOVA): counts(3, input_tokens=3 * in_tok,
                                               output_tokens=3 * 7)})
    assert not list(journal.glob("*.aigw*"))


def test_batch_refused_twice_goes_aside_and_nginx_quits(nginx_factory, mock,
                                                        tmp_path):
    """
    A Redis that refuses every batch (EVAL and EVALSHA renamed away): each
    batch is tried twice, then set aside; nginx -s quit does not wait on
    batches that cannot succeed; the dead letters, renamed, count once in
    a Redis that takes them.
    """
    r = redisd.RedisServer(tmp_path / "redis")
    r.extra_args = ["--rename-command", "EVALSHA", "",
                    "--rename-command", "EVAL", ""]
    r.start()
    journal = tmp_path / "journal"
    try:
        n = gateway(nginx_factory, mock, r.address, journal)
        n.allow = [r"refused a usage batch of \d+ records twice",
                   r"set aside in a dead-letter file"]
        converse(n.port, 4)
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline and \
                "set aside in a dead-letter file" not in n.read_error_log():
            time.sleep(0.05)
        converse(n.port, 2)
        t0 = time.monotonic()
        assert n.stop() == []
        assert time.monotonic() - t0 < (60 if h.VALGRIND else 8)
        assert "trying once more" in n.read_error_log()
        assert not r.usage()
    finally:
        r.stop()
    # the same address, a Redis that counts: the dead letters, renamed
    r2 = redisd.RedisServer(tmp_path / "redis2", port=r.port)
    r2.start()
    try:
        dead = list(journal.glob("*.aigwdead"))
        assert dead
        for f in dead:
            f.rename(f.with_suffix(".aigwj"))
        gateway(nginx_factory, mock, r2.address, journal)
        in_tok = 10 + len(b'{"messages": []}') // 4
        wait_for(r2, {("harness", NOVA): counts(
            6, input_tokens=6 * in_tok, output_tokens=6 * 7)})
    finally:
        r2.stop()


def test_a_cluster_endpoint_is_no_poison(nginx_factory, mock, tmp_path):
    """
    A Redis Cluster endpoint answers a batch with -MOVED: it says nothing
    of the batch, which waits (no dead letter), and the log says what the
    endpoint is; what the gateway could not count is journaled when it
    quits.
    """
    moved = b"-MOVED 3999 127.0.0.1:6381\r\n"
    fake = redisd.ScriptedRedis({"EVALSHA": moved, "EVAL": moved})
    journal = tmp_path / "journal"
    try:
        n = gateway(nginx_factory, mock, fake.address, journal)
        n.allow = [r"cannot count now: MOVED"]
        converse(n.port, 3)
        deadline = time.monotonic() + WAIT
        while fake.names().count("EVAL") + fake.names().count("EVALSHA") \
                < 3:
            assert time.monotonic() < deadline, fake.names()
            time.sleep(0.1)
        log = n.read_error_log()
        assert "a Redis Cluster endpoint: aigw counts into one primary" \
            in log, log
        assert "dead-letter" not in log
        assert n.stop() == []
        assert not list(journal.glob("*.aigwdead"))
        kept = list(journal.glob("*.aigwj"))
        assert kept and sum(f.stat().st_size for f in kept) > 0
    finally:
        fake.close()


# --- defect 2: made-up model IDs --------------------------------------------

def test_invalid_requests_count_in_one_bucket(nginx_factory, mock, redis,
                                              tmp_path):
    """
    Random long model IDs AWS rejects (400, 403, 404) count under the
    tenant's "_invalid" model: one hash, one index member, whatever the
    IDs.
    """
    n = gateway(nginx_factory, mock, redis.address, tmp_path / "journal")
    for i in range(12):
        model = "anthropic." + os.urandom(400).hex()[:800 + i]
        status = (400, 403, 404)[i % 3]
        r = h.post(n.port, "/model/%s/converse" % model, b"{}",
                   [("X-Mock-Status", str(status))])
        assert r.status == status, r
    wait_for(redis, {("harness", "_invalid"): counts(12, errors=12)})
    assert redis.index(redisd.today()) == {"harness:_invalid"}
    # a 500 or 429 is AWS's trouble, not the request's: its own model
    r = h.post(n.port, CONVERSE, b"{}", [("X-Mock-Status", "500")])
    assert r.status == 500
    wait_for(redis, {("harness", "_invalid"): counts(12, errors=12),
                     ("harness", NOVA): counts(1, errors=1)})


def test_models_per_tenant_capped(nginx_factory, mock, redis, tmp_path):
    """
    max_models=3: the fourth and later new models of a tenant on a day
    count under "_other"; models already counted keep their own hash.
    """
    n = gateway(nginx_factory, mock, redis.address, tmp_path / "journal",
                " max_models=3")
    models = ["amazon.nova-lite-v1:0", "amazon.nova-pro-v1:0",
              "amazon.nova-micro-v1:0", "meta.llama3-8b-instruct-v1:0",
              "mistral.mistral-7b-instruct-v0:2"]
    body = b'{"messages": []}'
    in_tok = 10 + len(body) // 4
    for m in models:
        r = h.post(n.port, "/model/%s/converse" % m.replace(":", "%3A"),
                   body)
        assert r.status == 200
        # one batch each, so that the order is the order sent
        redis.wait_stable(lambda u: sum(f["requests"] for f in u.values())
                          == models.index(m) + 1, timeout=WAIT)
    r = h.post(n.port, CONVERSE, body)
    assert r.status == 200
    one = counts(1, input_tokens=in_tok, output_tokens=7)
    want = {("harness", models[0]): counts(2, input_tokens=2 * in_tok,
                                           output_tokens=14),
            ("harness", models[1]): one, ("harness", models[2]): one,
            ("harness", "_other"): counts(2, input_tokens=2 * in_tok,
                                          output_tokens=14)}
    wait_for(redis, want)
    day = redisd.today()
    assert redis.index(day) == {"harness:" + m for m in models[:3]} | {
        "harness:_other"}
    assert redis.call("HGET", "aigw:models:" + day, "harness") == "3"
    assert redis.call("TTL", "aigw:models:" + day) > 0


def test_max_models_syntax(nginx_t, tmp_path):
    for bad in ("max_models=0", "max_models=x", "max_models=1000001"):
        rc, out = nginx_t(h.aigw_http(extra="aigw_redis 127.0.0.1:1 %s;"
                                      % bad))
        assert rc != 0 and "max_models takes 1 to 1000000" in out, out
    rc, out = nginx_t(h.aigw_http(extra="aigw_redis 127.0.0.1:1 "
                                  "max_models=500;"))
    assert rc == 0, out


# --- defect 7: the overflow journal's lock ----------------------------------

def test_overflow_never_waits_for_a_journal_lock(nginx_factory, mock, redis,
                                                 tmp_path):
    """
    Redis hangs (SIGSTOP) with a batch in flight, so the queue fills and
    records go to the worker's overflow file.  While another process holds
    that file's lock (as the drainer did across Redis round trips while
    replaying it), requests are still served: the log phase never waits
    for the lock, it starts a new file.  Once Redis is back every request
    counts once.
    """
    journal = tmp_path / "journal"
    n = gateway(nginx_factory, mock, redis.address, journal,
                " queue=256k timeout=60s")
    n.allow = []
    model = "anthropic.claude-" + "x" * 1500
    path = "/model/%s/converse" % model
    body = b'{"messages": []}'
    r = h.post(n.port, path, body)
    assert r.status == 200
    redis.wait_stable(lambda u: u, timeout=WAIT)
    os.kill(redis.proc.pid, signal.SIGSTOP)
    held = None
    try:
        sent = 1
        # a batch goes out and hangs; ~1.6 KB records fill 256k soon
        deadline = time.monotonic() + WAIT
        while not list(journal.glob("*.aigwj")):
            assert time.monotonic() < deadline, "no overflow file"
            assert h.post(n.port, path, body).status == 200
            sent += 1
        files = list(journal.glob("*.aigwj"))
        assert len(files) == 1
        held = open(files[0], "rb")
        fcntl.flock(held, fcntl.LOCK_EX)
        for _ in range(20):
            r = h.post(n.port, path, body, timeout=30 if h.VALGRIND else 5)
            assert r.status == 200
            sent += 1
        assert len(list(journal.glob("*.aigwj"))) >= 2
    finally:
        if held:
            fcntl.flock(held, fcntl.LOCK_UN)
            held.close()
        os.kill(redis.proc.pid, signal.SIGCONT)
    in_tok = 10 + len(body) // 4
    wait_for(redis, {("harness", model): counts(
        sent, input_tokens=sent * in_tok, output_tokens=sent * 7)})
    assert "usage goes to the journal" in n.read_error_log()


# --- defect 8: journals of two nginx instances ------------------------------

def test_journal_replayed_only_into_its_redis(nginx_factory, mock, tmp_path):
    """
    Two nginx instances share a journal directory and count into two
    Redis.  A's journal (left while its Redis was down) is not replayed
    into B's Redis; it is, once, into A's when A comes back.
    """
    journal = tmp_path / "shared-journal"
    ra = redisd.RedisServer(tmp_path / "ra")         # not started yet
    rb = redisd.RedisServer(tmp_path / "rb").start()
    try:
        a = gateway(nginx_factory, mock, ra.address, journal)
        converse(a.port, 3)
        assert a.stop() == []
        left = list(journal.glob("*.aigwj"))
        assert left and all(f.name.startswith(journal_tag(ra.address) + "-")
                            for f in left)
        b = gateway(nginx_factory, mock, rb.address, journal)
        converse(b.port, 1)
        in_tok = 10 + len(b'{"messages": []}') // 4
        wait_for(rb, {("harness", NOVA): counts(1, input_tokens=in_tok,
                                                output_tokens=7)})
        # another start of B (which looks at the journal first): A's
        # files are still there
        assert b.stop() == []
        b = gateway(nginx_factory, mock, rb.address, journal)
        converse(b.port, 1)
        wait_for(rb, {("harness", NOVA): counts(2, input_tokens=2 * in_tok,
                                                output_tokens=14)})
        assert sorted(journal.glob("*.aigwj")) == sorted(left)
        ra.start()
        gateway(nginx_factory, mock, ra.address, journal)
        wait_for(ra, {("harness", NOVA): counts(3, input_tokens=3 * in_tok,
                                                output_tokens=21)})
        assert not list(journal.glob("*.aigwj"))
    finally:
        ra.stop()
        rb.stop()


def test_default_journal_is_the_instances_own(nginx_factory, mock, tmp_path):
    """
    Without journal=, the journal is "aigw" next to the http{}
    client_body_temp_path: each nginx instance has its own.
    """
    port = h.free_port()
    dead = redisd.RedisServer(tmp_path / "never")
    conf = h.aigw_http(mock.url, extra="aigw_redis %s;" % dead.address)
    conf += h.gateway_server(port)
    n = nginx_factory(conf, [port])
    converse(n.port, 2)
    assert n.stop() == []
    files = list((Path(n.prefix) / "aigw").glob("*.aigwj"))
    assert files, list(Path(n.prefix).iterdir())

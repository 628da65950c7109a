"""
Redis as it fails over: with replicas=N a batch leaves the queue only once
WAIT says N replicas have it; while they do not, it stays and goes again,
counted once all the same (the sequence marks).
"""

import time

import pytest

import helpers as h
import redisd

pytestmark = pytest.mark.skipif(
    not redisd.redis_server_bin(),
    reason="redis-server not installed (make deps installs it)")

WAIT = 120 if h.VALGRIND else 20
CONVERSE = "/model/amazon.nova-lite-v1%3A0/converse"
NOVA = "amazon.nova-lite-v1:0"


def gateway(nginx_factory, mock, address, tmp_path, extra=""):
    port = h.free_port()
    conf = h.aigw_http(mock.url, extra="aigw_redis %s journal=%s%s;" % (
        address, tmp_path / "journal", extra))
    conf += h.gateway_server(port)
    n = nginx_factory(conf, [port])
    n.port = port
    return n


def converse(port, n=1):
    for _ in range(n):
        r = h.post(port, CONVERSE, b'{"messages": []}')
        assert r.status == 200, r


def requests_in(r):
    return sum(f.get("requests", 0) for (day, t, m), f in r.usage().items()
               if t == h.DEFAULT_TENANT and m == NOVA)


def wait_requests(r, want, timeout=WAIT):
    deadline = time.monotonic() + timeout
    while requests_in(r) != want:
        assert time.monotonic() < deadline, (requests_in(r), want)
        time.sleep(0.05)


def replica_of(tmp_path, primary, name="replica"):
    r = redisd.RedisServer(tmp_path / name)
    r.extra_args = ["--replicaof", "127.0.0.1", str(primary.port)]
    return r


def wait_synced(replica, timeout=WAIT):
    deadline = time.monotonic() + timeout
    while "master_link_status:up" not in replica.call("INFO",
                                                      "replication"):
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_replicas_wait(nginx_factory, mock, tmp_path):
    primary = redisd.RedisServer(tmp_path / "primary").start()
    replica = replica_of(tmp_path, primary).start()
    try:
        wait_synced(replica)
        n = gateway(nginx_factory, mock, primary.address, tmp_path,
                    " replicas=1")
        n.allow.append(r"replicas replicas= asks for")
        converse(n.port, 5)
        wait_requests(primary, 5)
        wait_requests(replica, 5)
        assert "cmdstat_wait:calls=" in primary.call("INFO",
                                                     "commandstats")
        # the replica gone: batches stay, sent again, counted once
        replica.stop()
        converse(n.port, 3)
        deadline = time.monotonic() + WAIT
        while "reached 0 of the 1 replicas" not in n.read_error_log():
            assert time.monotonic() < deadline
            time.sleep(0.1)
        wait_requests(primary, 8)
        time.sleep(2.5)                 # sent again, at least once more
        assert requests_in(primary) == 8
        # back, and in sync: the queue empties; the replica has all
        replica = replica_of(tmp_path, primary, "replica2").start()
        wait_synced(replica)
        wait_requests(replica, 8)
        mark = n.mark()
        converse(n.port, 2)
        wait_requests(primary, 10)
        wait_requests(replica, 10)
        time.sleep(1)
        assert "replicas replicas= asks for" not in n.error_log_since(mark)
    finally:
        replica.stop()
        primary.stop()


def test_a_replica_is_no_poison(nginx_factory, mock, tmp_path):
    """
    The gateway's Redis is a replica (a failover demoted it, or the name
    points at one): -READONLY says nothing of the batch.  The connection
    is made again, the batch waits (no dead letter); once the replica is
    promoted, the usage arrives, once.
    """
    primary = redisd.RedisServer(tmp_path / "primary").start()
    replica = replica_of(tmp_path, primary).start()
    try:
        wait_synced(replica)
        n = gateway(nginx_factory, mock, replica.address, tmp_path)
        n.allow += [r"READONLY", r"cannot take writes now"]
        converse(n.port, 4)
        deadline = time.monotonic() + WAIT
        while n.read_error_log().count("cannot take writes now") < 2:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert requests_in(primary) == 0
        assert "dead-letter" not in n.read_error_log()
        # promoted: the next reconnect writes there
        replica.call("REPLICAOF", "NO", "ONE")
        wait_requests(replica, 4)
        converse(n.port, 2)
        wait_requests(replica, 6)
        time.sleep(1)
        assert requests_in(replica) == 6
        assert not list((tmp_path / "journal").glob("*.aigwdead"))
    finally:
        replica.stop()
        primary.stop()

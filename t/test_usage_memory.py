"""
Long streams through the gateway: metered exactly, and with flat memory
(nothing of the body is held, however long it runs).

The mock generates an Anthropic InvokeModelWithResponseStream of the size
asked for (mock_synthetic.anthropic_stream_big: message_start, content
deltas, message_delta, the invocation metrics last), sent in HTTP chunks
of random sizes up to 64 KiB, so events are cut everywhere.
"""

import hashlib
import time
import uuid

import pytest

import helpers as h
import mock_synthetic as ms

MB = 1024 * 1024

# The worker's peak RSS may grow by at most this much while a 50 MB stream
# passes, after a 1 MB stream has warmed it up (pools, buffers, the
# allocator's arenas).  The module's state for a request is a fixed 6712
# bytes and nginx's proxy buffers are a few pages; 4 MB leaves room for
# allocator noise while staying far under what holding even a tenth of the
# body (5 MB) would cost, and it does not depend on the size streamed.
GROWTH_MAX_KB = 4 * 1024


def vm_kb(pid):
    """VmRSS and VmHWM of a process, in kB."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                out[k] = int(v.split()[0])
    return out


def stream_through(n, size, slow_after=None, kind="anthropic-stream-big"):
    """
    Streams an ~size byte response through nginx, reading it in 256 KiB
    pieces (pausing 0.3 s once after slow_after bytes, so that the
    upstream runs ahead and back-pressure builds up); checks the bytes
    and returns (the Synthetic, the access log entry).
    """
    name = "%s:%d" % (kind, size)
    s = ms.build(name)
    want_sha = hashlib.sha256(s.body).hexdigest()
    want_len = len(s.body)
    s = s._replace(body=None)
    tid = uuid.uuid4().hex
    conn, r = h.open_request(n.port, "POST", "/model/anthropic.claude-3-"
                             "haiku-20240307-v1%3A0/invoke-with-response-"
                             "stream", [
                                 ("X-Mock-Synthetic", name),
                                 ("X-Mock-Chunking", "random:%d:65536" % size),
                                 ("X-Test-Id", tid)], b"{}", timeout=120)
    got = hashlib.sha256()
    total = 0
    paused = slow_after is None
    try:
        assert r.status == 200
        while True:
            piece = r.read(256 * 1024)
            if not piece:
                break
            got.update(piece)
            total += len(piece)
            if not paused and total >= slow_after:
                paused = True
                time.sleep(0.3)
    finally:
        conn.close()
    assert total == want_len
    assert got.hexdigest() == want_sha
    e = n.wait_entry(tid)
    assert e["aigw_usage_source"] == "stream", e
    assert {k: int(e["aigw_" + k]) for k in (
        "input_tokens", "output_tokens", "cache_read_input_tokens",
        "cache_write_input_tokens")} == {k: v for k, v in s.usage.items()
                                         if k != "images"}, e
    return s, e


@pytest.fixture
def stream_gateway(gateway):
    return gateway()


def test_long_stream_metered_exactly(stream_gateway, mock):
    """4 MB (also under valgrind): exact usage, every byte passed on."""
    s, e = stream_through(stream_gateway, 4 * MB, slow_after=MB)
    assert s.usage["output_tokens"] > 8000


def test_huge_event_metered_exactly(stream_gateway, mock):
    """One event of 4 MB (also under valgrind): streamed through the
    decoder, base64 and JSON scanners piece by piece; exact usage."""
    stream_through(stream_gateway, 4 * MB, slow_after=MB,
                   kind="anthropic-stream-huge-event")


@pytest.mark.skipif(h.VALGRIND, reason="measures the worker's RSS: needs "
                    "the master/worker processes, not one under valgrind")
def test_50mb_stream_flat_memory(stream_gateway, mock):
    n = stream_gateway
    [pid] = n.worker_pids()
    before = vm_kb(pid)
    stream_through(n, 1 * MB)
    after_1mb = vm_kb(pid)
    t0 = time.monotonic()
    s, e = stream_through(n, 50 * MB, slow_after=5 * MB)
    secs = time.monotonic() - t0
    after_50mb = vm_kb(pid)
    assert n.worker_pids() == {pid}
    growth = after_50mb["VmHWM"] - after_1mb["VmHWM"]
    report = ("worker pid %d, in kB: before %s, after 1 MB %s, after 50 MB "
              "%s (%.1f s); peak growth over the 50 MB stream %d kB, limit %d"
              % (pid, before, after_1mb, after_50mb, secs, growth,
                 GROWTH_MAX_KB))
    print("\n" + report)
    assert growth < GROWTH_MAX_KB, report
    assert after_50mb["VmRSS"] - after_1mb["VmRSS"] < GROWTH_MAX_KB, report
    assert s.usage["output_tokens"] > 100000, s.usage

    # one event of 12 MB: a single message is not buffered either
    stream_through(n, 12 * MB, slow_after=2 * MB,
                   kind="anthropic-stream-huge-event")
    after_huge = vm_kb(pid)
    growth = after_huge["VmHWM"] - after_1mb["VmHWM"]
    report += "; after a 12 MB event %s, peak growth %d kB" % (after_huge,
                                                               growth)
    print(report)
    assert growth < GROWTH_MAX_KB, report

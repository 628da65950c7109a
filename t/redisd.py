"""
A real redis-server for aigw's counting tests: started in a temporary
directory on a free port (or a unix socket), without persistence, stoppable
and restartable on the same address; a tiny RESP client to read what the
module counted; and the key schema of ../shared/SPEC.md ("Usage in Redis").
"""

import datetime
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import helpers as h


REDIS_SERVER = os.environ.get("AIGW_REDIS_SERVER") or "redis-server"

FIELDS = ("requests", "input_tokens", "output_tokens",
          "cache_read_input_tokens", "cache_write_input_tokens", "images",
          "errors", "throttled", "latency_ms_sum", "cost_nanousd")

# the fields that must equal the ground truth exactly (latency is only > 0)
EXACT_FIELDS = ("requests", "input_tokens", "output_tokens",
                "cache_read_input_tokens", "cache_write_input_tokens",
                "images", "errors", "throttled", "cost_nanousd")


def redis_server_bin():
    return shutil.which(REDIS_SERVER)


def today():
    """The UTC day the module stamps a record with (the request's start)."""
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")


def usage_key(day, tenant, model, prefix="aigw"):
    return "%s:usage:%s:%s:%s" % (prefix, day, tenant, model)


def index_key(day, prefix="aigw"):
    return "%s:usage:%s:index" % (prefix, day)


# --- a minimal RESP client ---------------------------------------------------

class RedisError(Exception):
    pass


class Client:
    """One connection; call("HGETALL", key) -> decoded reply."""

    def __init__(self, port=None, unix=None, password=None, db=0,
                 timeout=5, host="127.0.0.1"):
        if unix:
            self.sock = socket.socket(socket.AF_UNIX)
            self.sock.settimeout(timeout)
            self.sock.connect(unix)
        else:
            self.sock = socket.create_connection((host, port), timeout)
        self.buf = b""
        if password is not None:
            self.call("AUTH", password)
        if db:
            self.call("SELECT", str(db))

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()

    def call(self, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.sock.sendall(out)
        reply = self._read()
        if isinstance(reply, RedisError):
            raise reply
        return reply

    def _line(self):
        while b"\r\n" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("redis closed the connection")
            self.buf += data
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exact(self, n):
        while len(self.buf) < n + 2:
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("redis closed the connection")
            self.buf += data
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def _read(self):
        line = self._line()
        t, rest = line[:1], line[1:]
        if t == b"+":
            return rest.decode()
        if t == b"-":
            return RedisError(rest.decode())
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n).decode(
                errors="replace")
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [self._read() for _ in range(n)]
        raise RedisError("unexpected reply %r" % line)


# --- the server ---------------------------------------------------------------

class RedisServer:
    """
    redis-server on 127.0.0.1:port (a free one by default) and, with
    unix=True, on a unix socket too; --save '' --appendonly no, so a
    restart starts empty unless keep_data (then it saves on shutdown and
    loads at start).  With tls (make_certs()'s dict), it also speaks TLS on
    tls_port (clients not asked for a certificate); the tests' own client
    keeps the plain port.
    """

    def __init__(self, workdir, password=None, unix=False, port=None,
                 bind="127.0.0.1", tls=None):
        self.dir = Path(workdir)
        self.bind = bind
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = port or h.free_port()
        self.password = password
        self.unix = str(self.dir / "redis.sock") if unix else None
        self.proc = None
        self.log = self.dir / "redis.log"
        self.starts = 0
        self.extra_args = []        # more redis-server options
        self.tls = tls              # may change between restarts
        self.tls_port = h.free_port() if tls else None

    @property
    def address(self):
        if ":" in self.bind:
            return "[%s]:%d" % (self.bind, self.port)
        return "%s:%d" % (self.bind, self.port)

    def start(self, timeout=10):
        assert self.proc is None or self.proc.poll() is not None
        cmd = [redis_server_bin(), "--port", str(self.port),
               "--bind", self.bind, "--dir", str(self.dir),
               "--save", "", "--appendonly", "no",
               "--daemonize", "no", "--logfile", str(self.log),
               "--protected-mode", "no"]
        if self.unix:
            cmd += ["--unixsocket", self.unix, "--unixsocketperm", "700"]
        if self.password is not None:
            cmd += ["--requirepass", self.password]
        if self.tls:
            cmd += ["--tls-port", str(self.tls_port),
                    "--tls-cert-file", str(self.tls["cert"]),
                    "--tls-key-file", str(self.tls["key"]),
                    "--tls-ca-cert-file", str(self.tls["ca"]),
                    "--tls-auth-clients", "no"]
        cmd += self.extra_args
        self.starts += 1
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        deadline = time.monotonic() + timeout
        while True:
            try:
                with self.client() as c:
                    if c.call("PING") == "PONG":
                        return self
            except (OSError, ConnectionError, RedisError):
                pass
            if self.proc.poll() is not None:
                raise AssertionError("redis-server exited with %s:\n%s" % (
                    self.proc.returncode, self.read_log()[-2000:]))
            if time.monotonic() > deadline:
                raise AssertionError("redis-server did not answer on %d "
                                     "within %ss" % (self.port, timeout))
            time.sleep(0.02)

    def stop(self):
        """Stops it at once (SIGKILL: nothing saved, the port freed)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def shutdown(self, timeout=10):
        """SHUTDOWN SAVE: its data is written to its directory and loaded
        again by the next start() (on the same port)."""
        try:
            with self.client() as c:
                c.call("SHUTDOWN", "SAVE")
        except (ConnectionError, OSError):
            pass                # it closes the connection without a reply
        self.proc.wait(timeout)

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def read_log(self):
        try:
            return self.log.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def client(self, db=0):
        return Client(self.port, password=self.password, db=db,
                      host=self.bind)

    def call(self, *args, db=0):
        with self.client(db) as c:
            return c.call(*args)

    def flush(self):
        self.call("FLUSHALL")

    def acl_user(self, name, password):
        """An ACL user with every right (as an ElastiCache RBAC user)."""
        self.call("ACL", "SETUSER", name, "reset", "on", ">" + password,
                  "~*", "&*", "+@all")

    # -- what the module counted --

    def usage(self, prefix="aigw", db=0):
        """
        {(day, tenant, model): {field: int}} of every usage hash, found
        by SCAN (not through the index, which is checked on its own).
        """
        out = {}
        pat = "%s:usage:*" % prefix
        with self.client(db) as c:
            cursor = "0"
            keys = []
            while True:
                cursor, batch = c.call("SCAN", cursor, "MATCH", pat,
                                       "COUNT", "1000")
                keys += batch
                if cursor == "0":
                    break
            for k in keys:
                if k.endswith(":index"):
                    continue
                parts = k.split(":", 4)
                assert len(parts) == 5, k
                flat = c.call("HGETALL", k)
                out[(parts[2], parts[3], parts[4])] = {
                    flat[i]: int(flat[i + 1])
                    for i in range(0, len(flat), 2)}
        return out

    def index(self, day, prefix="aigw", db=0):
        with self.client(db) as c:
            return set(c.call("SMEMBERS", index_key(day, prefix)))

    def wait_stable(self, want=None, prefix="aigw", db=0, timeout=30,
                    quiet=1.0):
        """
        Polls usage() until it equals "want" (a function of it returning
        True, or None for "stopped changing for quiet seconds"); returns
        the last usage() seen.  Never fails by itself.
        """
        deadline = time.monotonic() + timeout
        last = None
        since = time.monotonic()
        while True:
            now = self.usage(prefix, db)
            if want is not None and want(now):
                return now
            if now != last:
                last = now
                since = time.monotonic()
            elif want is None and now and time.monotonic() - since >= quiet:
                return now
            if time.monotonic() > deadline:
                return now
            time.sleep(0.05)


def add_usage(total, key, usage):
    """total[key][field] += usage[field], for plain dicts of counters."""
    t = total.setdefault(key, {f: 0 for f in FIELDS})
    for f, v in usage.items():
        t[f] = t.get(f, 0) + v
    return total


def diff_usage(got, want, fields=EXACT_FIELDS):
    """Human-readable differences between two {key: {field: n}} maps."""
    out = []
    for key in sorted(set(got) | set(want)):
        g = got.get(key)
        w = want.get(key)
        if g is None:
            out.append("missing in Redis: %s (want %s)" % (key, w))
            continue
        if w is None:
            out.append("not expected: %s = %s" % (key, g))
            continue
        for f in fields:
            if g.get(f, 0) != w.get(f, 0):
                out.append("%s %s: Redis %d, ground truth %d (%+d)" % (
                    key, f, g.get(f, 0), w.get(f, 0),
                    g.get(f, 0) - w.get(f, 0)))
    return out


class ScriptedRedis:
    """
    A stand-in for Redis on 127.0.0.1: every connection gets, for each
    command, answers[NAME] (RESP bytes; a function of the arguments), or
    +OK; PING is +PONG.  Commands are recorded (name and arguments).
    """

    def __init__(self, answers):
        self.answers = {k.upper(): v for k, v in answers.items()}
        self.commands = []
        self.lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.address = "127.0.0.1:%d" % self.port
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c,),
                             daemon=True).start()

    def _serve(self, c):
        buf = b""
        with c:
            while True:
                while True:
                    cmd, buf = self._parse(buf)
                    if cmd is None:
                        break
                    with self.lock:
                        self.commands.append(cmd)
                    name = cmd[0].decode(errors="replace").upper()
                    a = self.answers.get(name)
                    if callable(a):
                        a = a(cmd)
                    if a is None:
                        a = b"+PONG\r\n" if name == "PING" else b"+OK\r\n"
                    c.sendall(a)
                try:
                    data = c.recv(65536)
                except OSError:
                    return
                if not data:
                    return
                buf += data

    @staticmethod
    def _parse(buf):
        """One RESP array of bulk strings off buf: (args, rest), or
        (None, buf) while it is incomplete."""
        if not buf.startswith(b"*") or b"\r\n" not in buf:
            return None, buf
        head, rest = buf.split(b"\r\n", 1)
        args = []
        for _ in range(int(head[1:])):
            if b"\r\n" not in rest:
                return None, buf
            n, rest = rest.split(b"\r\n", 1)
            n = int(n[1:])
            if len(rest) < n + 2:
                return None, buf
            args.append(rest[:n])
            rest = rest[n + 2:]
        return args, rest

    def names(self):
        with self.lock:
            return [c[0].decode(errors="replace").upper()
                    for c in self.commands]

    def close(self):
        self.sock.close()

"""
A tiny DNS server on loopback for nginx's "resolver": A queries only.
By default every name is 127.0.0.1; "answers" maps a name to its
addresses ([] or None: NXDOMAIN), and may be changed while it runs (a
failover that moves a name).  "names" lists the names asked, in order.
"""

import socket
import struct
import threading

# the fixed answers of the fetch tests: "nx.test" does not exist, and
# nothing listens on 127.0.0.3, so the second address of "two.test" is tried
DEFAULT_ANSWERS = {"nx.test": None, "two.test": ["127.0.0.3", "127.0.0.1"]}


class Dns(threading.Thread):

    def __init__(self, answers=None, ttl=60):
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.names = []
        self.answers = dict(DEFAULT_ANSWERS, **(answers or {}))
        self.ttl = ttl
        self.start()

    @property
    def resolver(self):
        """The http{} "resolver" directive that points nginx here."""
        return "resolver 127.0.0.1:%d ipv6=off;" % self.port

    def run(self):
        while True:
            try:
                q, addr = self.sock.recvfrom(512)
            except OSError:
                return
            try:
                r = self.answer(q)
            except (IndexError, struct.error, UnicodeDecodeError):
                continue
            self.sock.sendto(r, addr)

    def answer(self, q):
        qid = struct.unpack("!H", q[:2])[0]
        i = 12
        labels = []
        while q[i]:
            labels.append(q[i + 1:i + 1 + q[i]].decode())
            i += 1 + q[i]
        question = q[12:i + 5]
        qtype = struct.unpack("!H", q[i + 1:i + 3])[0]
        name = ".".join(labels)
        self.names.append(name)
        addrs = self.answers.get(name, ["127.0.0.1"])
        if not addrs:
            return struct.pack("!HHHHHH", qid, 0x8183, 1, 0, 0, 0) + question
        if qtype != 1:
            return struct.pack("!HHHHHH", qid, 0x8180, 1, 0, 0, 0) + question
        r = struct.pack("!HHHHHH", qid, 0x8180, 1, len(addrs), 0, 0) + question
        for a in addrs:
            r += (b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, self.ttl, 4)
                  + socket.inet_aton(a))
        return r

    def stop(self):
        self.sock.close()

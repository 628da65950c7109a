#!/usr/bin/env python3
"""Seed inputs for the fuzz targets, made from the shared test data.

    seeds.py OUTDIR TARGET...

writes OUTDIR/TARGET/* in each target's input format (see the comment at
the top of t/fuzz/fuzz_TARGET.c) from $AIGW_TESTDATA (default
../shared/testdata): Bedrock captures, event-stream vectors, SigV4
vectors.  Without the test data it says so in one line and writes
nothing; the targets still have their seeds in t/fuzz/seeds.
"""

import hashlib
import json
import os
import struct
import sys
import urllib.parse

# the operations, formats, models and header names of usage_common.h and
# fuzz_usage.c, by index
OPS = {"invoke": 1, "invoke-with-response-stream": 2, "converse": 3,
       "converse-stream": 4, "count-tokens": 5}
MODEL_PREFIXES = [
    ("us.", 1), ("anthropic.", 0), ("amazon.nova-canvas", 8),
    ("amazon.nova", 1), ("amazon.titan-image", 7), ("amazon.titan", 2),
    ("meta.", 3), ("cohere.", 4), ("ai21.", 5), ("mistral.", 6),
    ("stability.", 9), ("arn:", 10),
]
STATUSES = {200: 0, 400: 3, 429: 4, 500: 5}
HEADERS = {
    "content-type": 0,
    "x-amzn-bedrock-input-token-count": 1,
    "x-amzn-bedrock-output-token-count": 2,
    "x-amzn-bedrock-cache-read-input-token-count": 3,
    "x-amzn-bedrock-cache-write-input-token-count": 4,
    "x-amzn-errortype": 5,
}
ZERO_SEED = b"\0" * 8


def testdata():
    return os.environ.get("AIGW_TESTDATA") or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
        "shared", "testdata")


def write(outdir, target, data):
    d = os.path.join(outdir, target)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def model_index(model):
    for prefix, i in MODEL_PREFIXES:
        if model.startswith(prefix):
            return i
    return 0


def captures(root, outdir, targets):
    base = os.path.join(root, "bedrock-captures")
    if not os.path.isdir(base):
        return
    for name in sorted(os.listdir(base)):
        d = os.path.join(base, name)
        if not os.path.isfile(os.path.join(d, "request.json")):
            continue
        req = json.load(open(os.path.join(d, "request.json")))
        resp = json.load(open(os.path.join(d, "response.json")))
        body = read(os.path.join(d, "response.body"))
        path = req["path"]
        parts = path.split("/")
        model = urllib.parse.unquote(parts[2]) if len(parts) > 3 else ""
        op = OPS.get(parts[-1], 0)
        status = STATUSES.get(resp["status"], 0)
        request_body = req.get("body", "").encode()

        if "target" in targets:
            write(outdir, "target", b"\x01\xff" + path.encode())

        if "usage" in targets:
            headers = b""
            n = 0
            for k, v in resp["headers"].items():
                if k.lower() in HEADERS and n < 8:
                    v = v.encode()[:255]
                    headers += bytes([HEADERS[k.lower()], len(v)]) + v
                    n += 1
            req_part = request_body[:65535]
            write(outdir, "usage",
                  bytes([op, 0, model_index(model), status, 1]) + ZERO_SEED
                  + bytes([n]) + headers
                  + struct.pack(">H", len(req_part)) + req_part + body)

        if "json_scan" in targets:
            if request_body:
                write(outdir, "json_scan", b"\0\0" + ZERO_SEED + request_body)
            if not op in (2, 4):
                write(outdir, "json_scan", b"\0\0" + ZERO_SEED + body)

        if "eventstream" in targets and op in (2, 4):
            write(outdir, "eventstream", ZERO_SEED + body)


def eventstream(root, outdir, targets):
    for kind in ("positive", "negative"):
        for sub, target, prefix in (("encoded", "eventstream", ZERO_SEED),
                                    ("decoded", "json_scan",
                                     b"\0\0" + ZERO_SEED)):
            d = os.path.join(root, "eventstream", sub, kind)
            if target not in targets or not os.path.isdir(d):
                continue
            for name in sorted(os.listdir(d)):
                write(outdir, target, prefix + read(os.path.join(d, name)))


def sigv4(root, outdir, targets):
    base = os.path.join(root, "sigv4")
    if "sigv4" not in targets or not os.path.isdir(base):
        return
    for name in sorted(os.listdir(base)):
        d = os.path.join(base, name)
        if not os.path.isfile(os.path.join(d, "request.txt")):
            continue
        ctx = json.load(open(os.path.join(d, "context.json")))
        text = read(os.path.join(d, "request.txt")).decode("utf-8",
                                                            "replace")
        head, _, body = text.partition("\n\n")
        lines = head.split("\n")
        method, _, rest = lines[0].partition(" ")
        target = rest.rsplit(" ", 1)[0]
        path, _, query = target.partition("?")
        headers = []
        for line in lines[1:]:
            if line.startswith(" ") and headers:
                headers[-1][1] += "," + line.strip()
                continue
            k, _, v = line.partition(":")
            headers.append([k, v])
        creds = ctx["credentials"]
        flags = 0x01 if ctx.get("normalize", True) else 0x02
        flags |= 0x10                       # the vectors carry their host
        fields = [method, path, query, ctx["region"], ctx["service"],
                  creds["access_key_id"], creds["secret_access_key"],
                  creds.get("token", ""),
                  hashlib.sha256(body.encode()).hexdigest()]
        for k, v in headers:
            fields += [k, v]
        write(outdir, "sigv4", bytes([flags]) + struct.pack(">I", 1440938160)
              + b"\0".join(f.encode() for f in fields))


def main():
    outdir, targets = sys.argv[1], set(sys.argv[2:])
    root = testdata()
    if not os.path.isdir(root):
        print("fuzz: no test data at %s (set AIGW_TESTDATA): seeds from "
              "t/fuzz/seeds only" % os.path.normpath(root))
        return
    captures(root, outdir, targets)
    eventstream(root, outdir, targets)
    sigv4(root, outdir, targets)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""
make bench-gateway: what the gateway costs per request, as ratios.

One nginx serves three locations to wrk, with the same upstream (an nginx
server block answering a Converse response with its usage, so that the
upstream costs next to nothing):

    /plain/...   proxy_pass, nothing else: the baseline
    /model/...   aigw on: key check, body hash, SigV4, usage metering,
                 aigw_redis counting in a real Redis
    the same     with a tenant whose limits (rpm, tpm, a daily budget)
                 are far from reached: the reservation, the admission on
                 the gateway's quotas, a claim to Redis per lease, the
                 settle

and reports requests per second and latency of each, and the ratios to the
baseline, measured in the same run.
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
T = HERE.parent
REPO = T.parent
BUILD = Path(os.environ.get("AIGW_BUILD", REPO / "build"))
NGINX = os.environ.get("NGINX_BIN", "/usr/sbin/nginx")
DURATION = os.environ.get("BENCH_DURATION", "5s")
CONNECTIONS = os.environ.get("BENCH_CONNECTIONS", "32")

sys.path.insert(0, str(T))

import helpers as h                                     # noqa: E402

BODY = json.dumps({"messages": [{"role": "user", "content": [
    {"text": "Say hello in five words, please."}]}]})
ANSWER = json.dumps({
    "output": {"message": {"role": "assistant",
                           "content": [{"text": "Hello there, how are you?"}]}},
    "stopReason": "end_turn",
    "usage": {"inputTokens": 12, "outputTokens": 7, "totalTokens": 19},
    "metrics": {"latencyMs": 1}})


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port):
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit("bench: nothing listens on %d" % port)


def wrk(url, key, tmp):
    script = tmp / "post.lua"
    script.write_text(
        'wrk.method = "POST"\n'
        'wrk.body = %s\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        'wrk.headers["x-api-key"] = "%s"\n' % (json.dumps(BODY), key))
    out = subprocess.run(["wrk", "-t", "2", "-c", CONNECTIONS, "-d", DURATION,
                          "--latency", "-s", str(script), url],
                         capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = re.search(r"50%\s+([\d.]+\w+)", out).group(1)
    p99 = re.search(r"99%\s+([\d.]+\w+)", out).group(1)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        sys.exit("bench: %s: %s errors\n%s" % (url, errors.group(1), out))
    return rps, p50, p99


def main():
    if not shutil.which("wrk"):
        sys.exit("bench: wrk is not installed (make deps)")

    tmp = Path(tempfile.mkdtemp(prefix="aigw-bench-"))
    tmp.chmod(0o755)
    redis = None
    conf = tmp / "nginx.conf"
    started = False

    try:
        rport = free_port()
        redis = subprocess.Popen(
            ["redis-server", "--port", str(rport), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", str(tmp)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(rport)

        key, sha = h.make_key("bench")
        lkey, lsha = h.make_key("benchlim")
        (tmp / "tenants.json").write_text(json.dumps({"tenants": [{
            "id": "bench", "models": ["*"],
            "keys": [{"id": "bench", "sha256": sha}]}, {
            "id": "bench-limits", "models": ["*"],
            "keys": [{"id": "benchlim", "sha256": lsha}],
            "limits": {"rpm": 100000000, "tpm": 1000000000000,
                       "daily_usd": 1000000,
                       "alert_at": [0.5, 0.8]}}]}))
        (tmp / "pricing.json").write_text(json.dumps({
            "currency": "USD", "models": {"anthropic.claude-3-haiku-*": {
                "input_per_1k": "0.00025", "output_per_1k": "0.00125"}}}))

        up, gw, gw2 = free_port(), free_port(), free_port()
        conf.write_text("""
load_module %(so)s;
worker_processes 1;
error_log %(tmp)s/error.log warn;
pid %(tmp)s/nginx.pid;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path %(tmp)s/body;
    proxy_temp_path %(tmp)s/proxy;
    aigw_tenants %(tmp)s/tenants.json;
    aigw_region us-east-1;
    aigw_credentials static AKIDBENCH benchsecret;
    aigw_endpoint bedrock http://127.0.0.1:%(up)d;
    aigw_endpoint sagemaker http://127.0.0.1:%(up)d;
    aigw_redis 127.0.0.1:%(rport)d journal=%(tmp)s/journal;
    aigw_pricing %(tmp)s/pricing.json;
    aigw_limits default_max_tokens=4096;

    upstream aws { server 127.0.0.1:%(up)d; keepalive 32; }

    server {
        listen 127.0.0.1:%(up)d;
        location / {
            default_type application/json;
            return 200 '%(answer)s';
        }
    }

    server {
        listen 127.0.0.1:%(gw)d;
        location /plain/ {
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;
            proxy_pass http://aws;
        }
        location / {
            aigw on;
            include %(repo)s/conf-examples/aigw_params;
            proxy_pass http://aws;
        }
    }
}
""" % dict(so=BUILD / "ngx_http_aigw_module.so", tmp=tmp, up=up, gw=gw,
           rport=rport, repo=REPO, answer=ANSWER))

        subprocess.run([NGINX, "-p", str(tmp), "-c", str(conf)], check=True)
        started = True
        wait_port(gw)

        path = "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse"
        url = "http://127.0.0.1:%d%s" % (gw, path)
        runs = [
            ("proxy_pass (baseline)", "http://127.0.0.1:%d/plain%s"
             % (gw, path), key),
            ("aigw: key, SigV4, metering, Redis", url, key),
            ("aigw, and limits (rpm, tpm, budget)", url, lkey),
        ]

        print("bench-gateway: wrk -t 2 -c %s -d %s, one nginx worker, "
              "a Converse body of %d bytes, answer of %d bytes"
              % (CONNECTIONS, DURATION, len(BODY), len(ANSWER)))

        results = []
        for name, url, k in runs:
            wrk(url, k, tmp)                            # warm up
            results.append((name,) + wrk(url, k, tmp))

        base = results[0][1]
        for name, rps, p50, p99 in results:
            print("  %-36s %9.0f req/s   p50 %-8s p99 %-8s ratio %.2f"
                  % (name, rps, p50, p99, rps / base))

        day = time.strftime("%Y-%m-%d", time.gmtime())
        out = subprocess.run(
            ["redis-cli", "-p", str(rport), "HGET",
             "aigw:usage:%s:bench:anthropic.claude-3-haiku-20240307-v1:0"
             % day, "requests"], capture_output=True, text=True).stdout
        print("  requests counted in Redis: %s" % out.strip())

    finally:
        if started:
            subprocess.run([NGINX, "-p", str(tmp), "-c", str(conf), "-s",
                            "quit"], stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 10
            while (tmp / "nginx.pid").exists() and \
                    time.monotonic() < deadline:
                time.sleep(0.05)
        if redis:
            redis.terminate()
            redis.wait(5)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

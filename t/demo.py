#!/usr/bin/env python3
"""
make demo: the gateway end to end on this machine, then cleaned up.

It starts a Redis, a Bedrock simulator (the tests' mock upstream, which
checks every SigV4 signature with botocore) and nginx with the module on a
local port, creates a tenant and an API key, sends invoke, converse and
streaming requests through the gateway, and prints the usage counters it
reads back from Redis, the live usage table and the day's cost CSV.

With AWS credentials in the environment (AWS_ACCESS_KEY_ID, ...) and
AIGW_DEMO_BEDROCK=1, the requests go to the real Bedrock Runtime of
AWS_REGION (default us-east-1) instead, to AIGW_DEMO_MODEL (default
amazon.nova-micro-v1:0), which the account must have access to.
"""

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
BUILD = Path(os.environ.get("AIGW_BUILD", REPO / "build"))
NGINX = os.environ.get("NGINX_BIN", "/usr/sbin/nginx")

sys.path.insert(0, str(HERE))

DEMO_AKID = "AKIDAIGWDEMO"
DEMO_SECRET = "aigw/demo/secret/key/for/the/bedrock/simulator"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, what, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            sys.exit("demo: %s exited early" % what)
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit("demo: %s did not start on port %d" % (what, port))


def redis_cli(port, *args):
    out = subprocess.run(["redis-cli", "-p", str(port), "--raw"] + list(args),
                         check=True, capture_output=True, text=True)
    return out.stdout.splitlines()


def nameserver():
    try:
        for line in Path("/etc/resolv.conf").read_text().splitlines():
            parts = line.split()
            if len(parts) >= 2 and parts[0] == "nameserver":
                return parts[1]
    except OSError:
        pass
    return "127.0.0.53"


def post(port, path, body, key):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("POST", path, body=json.dumps(body).encode(),
                 headers={"x-api-key": key,
                          "Content-Type": "application/json"})
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, data


def main():
    real = (os.environ.get("AIGW_DEMO_BEDROCK") == "1"
            and os.environ.get("AWS_ACCESS_KEY_ID"))
    region = os.environ.get("AWS_REGION", "us-east-1")
    model = os.environ.get("AIGW_DEMO_MODEL", "amazon.nova-micro-v1:0")

    for f in (BUILD / "ngx_http_aigw_module.so", BUILD / "aigw"):
        if not f.is_file():
            sys.exit("demo: %s is missing: run make" % f)

    tmp = Path(tempfile.mkdtemp(prefix="aigw-demo-"))
    tmp.chmod(0o755)                      # nginx's workers may be nobody
    procs = []
    mock = None
    nginx_started = False
    conf = tmp / "nginx.conf"

    try:
        # Redis
        rport = free_port()
        redis = subprocess.Popen(
            ["redis-server", "--port", str(rport), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", str(tmp)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(redis)
        wait_port(rport, redis, "redis-server")

        # the upstream: the Bedrock simulator, or Bedrock itself
        if real:
            upstream = "resolver %s valid=30s;\n" % nameserver()
            credentials = "aigw_credentials env;"
            print("demo: calling the real Bedrock Runtime in %s, model %s"
                  % (region, model))
        else:
            import mock_upstream
            mock = mock_upstream.MockUpstream(
                credentials={DEMO_AKID: {"secret": DEMO_SECRET}}).start()
            upstream = ("aigw_endpoint bedrock %s;\n"
                        "    aigw_endpoint sagemaker %s;\n"
                        % (mock.url, mock.url))
            credentials = "aigw_credentials static %s %s;" % (DEMO_AKID,
                                                             DEMO_SECRET)
            print("demo: calling the built-in Bedrock simulator at %s "
                  "(it checks every signature with botocore)" % mock.url)

        # a tenant and its key
        tenants = tmp / "tenants.json"
        tenants.write_text(json.dumps({"tenants": [{
            "id": "demo-team", "project": "support-bot",
            "department": "engineering", "models": ["*"]}]}, indent=2))
        key = subprocess.run(
            [str(BUILD / "aigw"), "key", "create", "--tenant", "demo-team",
             "--tenants", str(tenants)], check=True, capture_output=True,
            text=True).stdout.strip()
        print("demo: tenant demo-team, API key id %s (key printed once by "
              "'aigw key create')" % key.split("_")[1])

        # prices, for $aigw_cost and the cost_nanousd counter
        pricing = tmp / "pricing.json"
        pricing.write_text(json.dumps({"currency": "USD", "models": {
            "amazon.nova-micro-v1:0": {"input_per_1k": "0.000035",
                                       "output_per_1k": "0.00014"}}},
            indent=2))

        # nginx with the module
        port = free_port()
        conf.write_text("""
load_module %(so)s;
error_log %(tmp)s/error.log notice;
pid %(tmp)s/nginx.pid;
worker_processes 2;
%(env)sevents { worker_connections 256; }
http {
    include %(repo)s/conf-examples/aigw_log_format;
    access_log %(tmp)s/access.log aigw_json;
    client_body_temp_path %(tmp)s/body;
    proxy_temp_path %(tmp)s/proxy;
    %(upstream)s
    aigw_tenants %(tmp)s/tenants.json;
    aigw_pricing %(tmp)s/pricing.json;
    aigw_region %(region)s;
    %(credentials)s
    aigw_redis 127.0.0.1:%(rport)d journal=%(tmp)s/journal;

    server {
        listen 127.0.0.1:%(port)d;
        location / {
            aigw on;
            include %(repo)s/conf-examples/aigw_params;
            proxy_pass $aigw_upstream_url;
        }
    }
}
""" % dict(so=BUILD / "ngx_http_aigw_module.so", tmp=tmp, repo=REPO,
           upstream=upstream, region=region, credentials=credentials,
           rport=rport, port=port,
           env="".join("env %s;\n" % v for v in (
               "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
               "AWS_SESSION_TOKEN")) if real else ""))

        subprocess.run([NGINX, "-p", str(tmp), "-c", str(conf)], check=True)
        nginx_started = True
        wait_port(port, None, "nginx")
        print("demo: nginx with ngx_http_aigw_module on http://127.0.0.1:%d"
              % port)

        # requests through the gateway
        m = model.replace(":", "%3A")
        msg = {"messages": [{"role": "user", "content": [
            {"text": "Say hello in five words."}]}]}
        invoke = {"messages": [{"role": "user", "content": [
            {"text": "Say hello in five words."}]}],
            "inferenceConfig": {"maxTokens": 32}}
        calls = [
            ("Converse", "/model/%s/converse" % m, msg),
            ("ConverseStream", "/model/%s/converse-stream" % m, msg),
            ("InvokeModel", "/model/%s/invoke" % m, invoke),
            ("InvokeModelWithResponseStream",
             "/model/%s/invoke-with-response-stream" % m, invoke),
            ("InvokeModel (seed-style route)",
             "/invoke?model_id=%s" % m, invoke),
        ]
        sent = 0
        for name, path, body in calls:
            status, data = post(port, path, body, key)
            sent += 1
            print("demo: %-32s -> %d (%d bytes)" % (name, status, len(data)))
        status, _ = post(port, "/model/%s/converse" % m, msg,
                         "aigw_nope_" + "y" * 43)
        print("demo: %-32s -> %d" % ("a wrong key", status))

        # the counters, read back from Redis
        day = time.strftime("%Y-%m-%d", time.gmtime())
        index = "aigw:usage:%s:index" % day
        deadline = time.monotonic() + 10
        total = 0
        while time.monotonic() < deadline:
            total = 0
            for member in redis_cli(rport, "SMEMBERS", index):
                total += int(redis_cli(rport, "HGET", "aigw:usage:%s:%s"
                                       % (day, member), "requests")[0] or 0)
            if total >= sent:
                break
            time.sleep(0.1)

        print("\ndemo: usage counted in Redis (%s):" % index)
        for member in sorted(redis_cli(rport, "SMEMBERS", index)):
            h = redis_cli(rport, "HGETALL", "aigw:usage:%s:%s"
                          % (day, member))
            fields = dict(zip(h[::2], h[1::2]))
            print("  aigw:usage:%s:%s" % (day, member))
            for f in ("requests", "input_tokens", "output_tokens",
                      "cache_read_input_tokens", "cache_write_input_tokens",
                      "images", "errors", "throttled", "latency_ms_sum",
                      "cost_nanousd"):
                print("    %-26s %s" % (f, fields.get(f, "0")))

        if total < sent:
            sys.exit("demo: only %d of %d requests were counted" % (total,
                                                                    sent))

        usage = BUILD / "aigw"
        out = subprocess.run([str(usage), "usage", "--redis",
                              "127.0.0.1:%d" % rport, "--tenants",
                              str(tenants)], capture_output=True, text=True)
        export = subprocess.run([str(usage), "export", "--date", day,
                                 "--redis", "127.0.0.1:%d" % rport,
                                 "--tenants", str(tenants), "--pricing",
                                 str(pricing)], capture_output=True,
                                text=True)
        if out.returncode == 0 and out.stdout:
            print("\ndemo: aigw usage --by tenant\n" + out.stdout)
        if export.returncode == 0 and export.stdout:
            print("demo: aigw export --date %s (the finance CSV)\n%s"
                  % (day, export.stdout))

        print("demo: the JSON access log has one line per request, e.g.:")
        lines = (tmp / "access.log").read_text().splitlines()
        if lines:
            print("  " + lines[0])
        print("\ndemo: done; everything it started is stopped and removed")

    finally:
        if nginx_started:
            subprocess.run([NGINX, "-p", str(tmp), "-c", str(conf), "-s",
                            "quit"], stderr=subprocess.DEVNULL)
            pid_file = tmp / "nginx.pid"
            deadline = time.monotonic() + 10
            while pid_file.exists() and time.monotonic() < deadline:
                time.sleep(0.05)
        if mock is not None:
            mock.stop()
        for p in procs:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

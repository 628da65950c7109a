"""
aigw export and aigw usage (issue 6), against a real redis-server.

Most tests write the usage hashes directly, in the module's schema
(../shared/SPEC.md, "Usage in Redis": HINCRBY on
PREFIX:usage:DAY:TENANT:MODEL, SADD of TENANT:MODEL to the day's index);
one sends recorded Bedrock traffic through nginx with aigw_redis and
exports what the module counted.  S3 uploads go to t/mock_s3.py, which
verifies every signature with botocore's S3SigV4Auth.

Costs are checked against literal values computed by hand (the comments
show the arithmetic) and against an independent integer computation in
Python (cost_nano() below).
"""

import csv
import datetime
import io
import json
import os
import re
import subprocess
import time
from decimal import Decimal

import pytest

import helpers as h
import mock_s3
import redisd


AIGW = h.build_dir() / "aigw"

HEADER = ("date,team_id,project,department,model_id,invocations,"
          "input_tokens,output_tokens,cache_read_input_tokens,"
          "cache_write_input_tokens,images,errors,throttled,input_cost,"
          "output_cost,cache_cost,total_cost")
COLUMNS = HEADER.split(",")

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
NOVA = "amazon.nova-lite-v1:0"
TITAN_IMAGE = "amazon.titan-image-generator-v1"
SONNET_ARN = ("arn:aws:bedrock:us-east-1:123456789012:inference-profile/"
              "us.anthropic.claude-3-7-sonnet-20250219-v1:0")

PRICING = """{
  "currency": "USD",
  "models": {
    "anthropic.claude-3-haiku-20240307-v1:0":
      {"input_per_1k": 0.00025, "output_per_1k": 0.00125,
       "cache_read_per_1k": 0.000025, "cache_write_per_1k": 0.0003125},
    "anthropic.claude-3-5-haiku-20241022-v1:0":
      {"input_per_1k": "0.0008", "output_per_1k": "0.004",
       "cache_read_per_1k": "0.00008", "cache_write_per_1k": "0.001"},
    "anthropic.claude-3-7-sonnet-*":
      {"input_per_1k": 0.003, "output_per_1k": 0.015,
       "cache_read_per_1k": 0.0003, "cache_write_per_1k": 0.00375},
    "amazon.nova-lite-v1:0": {"input_per_1k": 6e-05, "output_per_1k": 0.00024},
    "amazon.titan-image-generator-v1":
      {"per_image": {"512x512": {"standard": 0.008, "premium": 0.01},
                     "larger": {"standard": 0.01, "premium": 0.012}}},
    "meta.llama3-*": {"input_per_1k": 0.00072, "output_per_1k": 0.00072},
    "cohere.command-text-v14": {"input_per_1k": 0.0015}
  },
  "regions": {
    "eu-central-1": {"models": {
      "amazon.nova-lite-v1:0": {"input_per_1k": 0.000078,
                                "output_per_1k": 0.000312}}}
  }
}
"""

PRICES = {
    HAIKU: {"input_per_1k": "0.00025", "output_per_1k": "0.00125",
            "cache_read_per_1k": "0.000025",
            "cache_write_per_1k": "0.0003125"},
    "anthropic.claude-3-5-haiku-20241022-v1:0": {
        "input_per_1k": "0.0008", "output_per_1k": "0.004",
        "cache_read_per_1k": "0.00008", "cache_write_per_1k": "0.001"},
    "anthropic.claude-3-7-sonnet-20250219-v1:0": {
        "input_per_1k": "0.003", "output_per_1k": "0.015",
        "cache_read_per_1k": "0.0003", "cache_write_per_1k": "0.00375"},
    NOVA: {"input_per_1k": "0.00006", "output_per_1k": "0.00024"},
    "meta.llama3-2-1b-instruct-v1:0": {"input_per_1k": "0.00072",
                                       "output_per_1k": "0.00072"},
    "meta.llama3-8b-instruct-v1:0": {"input_per_1k": "0.00072",
                                     "output_per_1k": "0.00072"},
}

pytestmark = [
    pytest.mark.skipif(not redisd.redis_server_bin(),
                       reason="redis-server not installed (make deps)"),
    pytest.mark.skipif(not AIGW.is_file(),
                       reason="%s is not built (make cli)" % AIGW),
]

# how long the module's counts may take to reach Redis
WAIT = 120 if h.VALGRIND else 20


# --- helpers -----------------------------------------------------------------

# the runner's proxies would take aigw's requests to the local mocks
PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


def aigw(*args, env=None, home=None, check=None, timeout=120):
    """
    Runs build/aigw with no AWS or proxy settings of the runner's, and
    IMDS off (never a request to 169.254.169.254): env may turn it on again
    by giving AWS_EC2_METADATA_DISABLED None (a None value unsets).
    """
    e = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")
         and k.lower() not in PROXY_VARS}
    e["HOME"] = str(home) if home else "/nonexistent"
    e["AWS_EC2_METADATA_DISABLED"] = "true"
    e.update(env or {})
    e = {k: v for k, v in e.items() if v is not None}
    r = subprocess.run([str(AIGW), *map(str, args)], capture_output=True,
                       text=True, env=e, timeout=timeout)
    if check is not None:
        assert r.returncode == check, (r.returncode, r.stdout, r.stderr)
    return r


def pico(price):
    """A decimal price string in pico-dollars, exactly."""
    v = Decimal(price) * 10 ** 12
    assert v == int(v), price
    return int(v)


def nano(femto):
    """femto-dollars to nano-dollars, half up (the documented rule)."""
    return (femto + 500000) // 10 ** 6


def usd(n):
    return "%d.%09d" % divmod(n, 10 ** 9)


def cost_nano(prices, f):
    """(input, output, cache, total) in nano-dollars, computed in Python."""
    i = nano(f.get("input_tokens", 0) * pico(prices["input_per_1k"]))
    o = nano(f.get("output_tokens", 0) * pico(prices["output_per_1k"]))
    c = nano(f.get("cache_read_input_tokens", 0) *
             pico(prices.get("cache_read_per_1k", "0")) +
             f.get("cache_write_input_tokens", 0) *
             pico(prices.get("cache_write_per_1k", "0")))
    return i, o, c, i + o + c


def put_usage(redis, day, tenant, model, fields, prefix="aigw", db=0):
    """What the module's counting script does for one hash."""
    key = redisd.usage_key(day, tenant, model, prefix)
    with redis.client(db) as c:
        for f, v in fields.items():
            c.call("HINCRBY", key, f, str(v))
        c.call("SADD", redisd.index_key(day, prefix),
               "%s:%s" % (tenant, model))


def parse_csv(text):
    assert text.startswith(HEADER + "\n"), text[:300]
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    for r in rows:
        assert list(r) == COLUMNS
    return rows


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory):
    r = redisd.RedisServer(tmp_path_factory.mktemp("redis-export"),
                           unix=True)
    r.start()
    yield r
    r.stop()


@pytest.fixture
def redis(redis_server):
    if not redis_server.running():
        redis_server.start()
    redis_server.flush()
    return redis_server


@pytest.fixture
def files(tmp_path):
    """The pricing and tenants files of these tests."""
    p = tmp_path / "pricing.json"
    p.write_text(PRICING)
    t = tmp_path / "tenants.json"
    t.write_text("""{"tenants": [
      {"id": "team-a", "project": "support, bot", "department": "sales"},
      {"id": "team-b", "project": "Équipe \\"données\\"",
       "department": "R&D"},
      {"id": "team-c"}
    ]}""")
    return {"pricing": p, "tenants": t}


DAY = "2024-05-01"


def fill_day(redis, day=DAY):
    """A day of usage written as the module writes it (out of order)."""
    put_usage(redis, day, "unknown-team", NOVA,
              {"requests": 1, "input_tokens": 10, "output_tokens": 5,
               "latency_ms_sum": 40})
    put_usage(redis, day, "team-b", NOVA,
              {"requests": 4, "input_tokens": 10 ** 12, "output_tokens": 3,
               "errors": 2, "throttled": 1, "latency_ms_sum": 400,
               "cost_nanousd": 77})
    put_usage(redis, day, "team-a", "us." + HAIKU,
              {"requests": 2, "input_tokens": 2000, "output_tokens": 1000})
    put_usage(redis, day, "team-a", HAIKU,
              {"requests": 10, "input_tokens": 123456789,
               "output_tokens": 987654, "cache_read_input_tokens": 5555,
               "cache_write_input_tokens": 777, "latency_ms_sum": 1234})
    put_usage(redis, day, "team-a", SONNET_ARN,
              {"requests": 1, "input_tokens": 1, "output_tokens": 1})
    put_usage(redis, day, "team-a", TITAN_IMAGE,
              {"requests": 3, "images": 5, "images:512x512:standard": 3,
               "images:1024x1024:premium": 2})
    put_usage(redis, day, "team-c", "mistral.mistral-large-2402-v1:0",
              {"requests": 7, "input_tokens": 70, "output_tokens": 700})


# the export of fill_day() with the pricing and tenants files, by hand:
#
# team-a anthropic.claude-3-haiku: 123456789 x 0.00025 / 1000 = 30.86419725,
#   987654 x 0.00125 / 1000 = 1.2345675, cache 5555 x 0.000025 / 1000 +
#   777 x 0.0003125 / 1000 = 0.000138875 + 0.0002428125 = 0.0003816875
#   (381687.5 nano-dollars: half up, 0.000381688); total 32.099146438
# team-a arn:...us.anthropic.claude-3-7-sonnet (ARN, prefix, glob):
#   1 x 0.003 / 1000 = 0.000003, 1 x 0.015 / 1000 = 0.000015
# team-a titan image: 3 x 0.008 (512x512 standard) + 2 x 0.012 (larger
#   premium) = 0.048
# team-a us.anthropic.claude-3-haiku (prefix): 2000 x 0.00025 / 1000 =
#   0.0005, 1000 x 0.00125 / 1000 = 0.00125
# team-b nova lite: 10^12 x 0.00006 / 1000 = 60000, 3 x 0.00024 / 1000 =
#   0.00000072
# team-c mistral: no price, empty costs
# unknown-team nova: 10 x 0.00006 / 1000 = 0.0000006, 5 x 0.00024 / 1000
#   = 0.0000012; no project or department
EXPECTED_DAY = HEADER + "\n" + "\n".join([
    '2024-05-01,team-a,"support, bot",sales,amazon.titan-image-generator-v1,'
    '3,0,0,0,0,5,0,0,0.000000000,0.048000000,0.000000000,0.048000000',
    '2024-05-01,team-a,"support, bot",sales,'
    'anthropic.claude-3-haiku-20240307-v1:0,10,123456789,987654,5555,777,0,'
    '0,0,30.864197250,1.234567500,0.000381688,32.099146438',
    '2024-05-01,team-a,"support, bot",sales,' + SONNET_ARN +
    ',1,1,1,0,0,0,0,0,0.000003000,0.000015000,0.000000000,0.000018000',
    '2024-05-01,team-a,"support, bot",sales,us.' + HAIKU +
    ',2,2000,1000,0,0,0,0,0,0.000500000,0.001250000,0.000000000,0.001750000',
    '2024-05-01,team-b,"Équipe ""données""",R&D,amazon.nova-lite-v1:0,4,'
    '1000000000000,3,0,0,0,2,1,60000.000000000,0.000000720,0.000000000,'
    '60000.000000720',
    '2024-05-01,team-c,,,mistral.mistral-large-2402-v1:0,7,70,700,0,0,0,0,0,'
    ',,,',
    '2024-05-01,unknown-team,,,amazon.nova-lite-v1:0,1,10,5,0,0,0,0,0,'
    '0.000000600,0.000001200,0.000000000,0.000001800',
]) + "\n"


# --- the CSV -----------------------------------------------------------------

def test_export_day_exact(redis, files):
    """
    Every column in order, rows sorted by team then model, RFC 4180
    quoting, project and department from the tenants file, costs by hand;
    a model with no price keeps its row with empty costs, is named on
    stderr, and the exit code is 0.
    """
    fill_day(redis)
    r = aigw("export", "--date", DAY, "--redis", redis.address,
             "--pricing", files["pricing"], "--tenants", files["tenants"],
             check=0)
    assert r.stdout == EXPECTED_DAY
    assert re.search(r'no price for model "mistral\.mistral-large-2402-v1:0"'
                     r' in ".*pricing\.json": 1 row with empty cost columns',
                     r.stderr), r.stderr
    assert "nova" not in r.stderr and "haiku" not in r.stderr, r.stderr

    # the CSV module reads back every field; each row adds up
    rows = parse_csv(r.stdout)
    assert len(rows) == 7
    for row in rows:
        if row["total_cost"]:
            parts = [Decimal(row[c]) for c in ("input_cost", "output_cost",
                                               "cache_cost")]
            assert sum(parts) == Decimal(row["total_cost"]), row
    assert rows[1]["project"] == "support, bot"
    assert rows[4]["project"] == 'Équipe "données"'


def test_export_strict(redis, files):
    """--strict: the same output, exit 1 for the model with no price."""
    fill_day(redis)
    r = aigw("export", "--date", DAY, "--redis", redis.address,
             "--pricing", files["pricing"], "--tenants", files["tenants"],
             "--strict", check=1)
    assert r.stdout == EXPECTED_DAY
    assert "mistral.mistral-large-2402-v1:0" in r.stderr

    # every model priced: --strict exits 0
    redis.flush()
    put_usage(redis, DAY, "team-a", HAIKU, {"requests": 1,
                                           "input_tokens": 1})
    aigw("export", "--date", DAY, "--redis", redis.address, "--pricing",
         files["pricing"], "--strict", check=0)


def test_export_buckets(redis, files):
    """
    The module's buckets: "_invalid" (AWS's refusals, no tokens) costs
    zero without a price; "_other" (several models past max_models) has
    the total the module priced each request at, no components; an
    "_other" with tokens and no module cost is unpriced.  --strict passes
    when no other model lacks a price.
    """
    put_usage(redis, DAY, "team-a", "_invalid",
              {"requests": 12, "errors": 12, "latency_ms_sum": 30})
    put_usage(redis, DAY, "team-a", "_other",
              {"requests": 3, "input_tokens": 300, "output_tokens": 30,
               "cost_nanousd": 123456})
    r = aigw("export", "--date", DAY, "--redis", redis.address,
             "--pricing", files["pricing"], "--strict", check=0)
    assert r.stdout == HEADER + "\n" + "\n".join([
        "2024-05-01,team-a,,,_invalid,12,0,0,0,0,0,12,0,"
        "0.000000000,0.000000000,0.000000000,0.000000000",
        "2024-05-01,team-a,,,_other,3,300,30,0,0,0,0,0,,,,0.000123456",
    ]) + "\n", r.stdout
    assert r.stderr == "", r.stderr
    put_usage(redis, DAY, "team-b", "_other",
              {"requests": 1, "input_tokens": 5})
    r = aigw("export", "--date", DAY, "--redis", redis.address,
             "--pricing", files["pricing"], "--strict", check=1)
    assert "2024-05-01,team-b,,,_other,1,5,0,0,0,0,0,0,,,,\n" in r.stdout
    assert '"_other"' in r.stderr, r.stderr


def test_export_without_pricing_or_tenants(redis):
    """No --pricing: empty cost columns for all rows, exit 0, no noise."""
    fill_day(redis)
    r = aigw("export", "--date", DAY, "--redis", redis.address,
             "--strict", check=0)
    assert r.stderr == ""
    rows = parse_csv(r.stdout)
    assert len(rows) == 7
    for row in rows:
        assert row["project"] == row["department"] == ""
        for c in ("input_cost", "output_cost", "cache_cost", "total_cost"):
            assert row[c] == ""
    assert [(r["team_id"], r["model_id"]) for r in rows] == sorted(
        (r["team_id"], r["model_id"]) for r in rows)


def test_empty_day(redis, files, tmp_path):
    """An empty day: the header only, exit 0 (stdout and a file)."""
    r = aigw("export", "--date", "2024-02-29", "--redis", redis.address,
             "--pricing", files["pricing"], "--strict", check=0)
    assert r.stdout == HEADER + "\n"
    assert r.stderr == ""
    out = tmp_path / "empty.csv"
    aigw("export", "--date", "2024-02-29", "--redis", redis.address,
         "--out", out, check=0)
    assert out.read_text() == HEADER + "\n"


def test_export_to_file(redis, files, tmp_path):
    """--out PATH: written whole, renamed into place, no temporary left;
    a second run replaces it."""
    fill_day(redis)
    out = tmp_path / "out" / "usage.csv"
    out.parent.mkdir()
    out.write_text("old content\n")
    r = aigw("export", "--date", DAY, "--redis", redis.address,
             "--pricing", files["pricing"], "--tenants", files["tenants"],
             "--out", out, check=0)
    assert r.stdout == ""
    assert out.read_text() == EXPECTED_DAY
    assert [p.name for p in out.parent.iterdir()] == ["usage.csv"]
    r = aigw("export", "--date", DAY, "--redis", redis.address,
             "--out", str(tmp_path / "nodir" / "x.csv"), check=1)
    assert "nodir" in r.stderr


def test_partial_price(redis, tmp_path):
    """A price without the field some usage needs: that cost column and
    the total are empty, the others filled; named on stderr."""
    p = tmp_path / "p.json"
    p.write_text('{"models": {"cohere.command-text-v14": '
                 '{"input_per_1k": 0.0015}, "titan-img": {"per_image": '
                 '{"default": {"standard": 0.04}}}}}')
    put_usage(redis, DAY, "t", "cohere.command-text-v14",
              {"requests": 2, "input_tokens": 1000, "output_tokens": 9,
               "cache_read_input_tokens": 3})
    put_usage(redis, DAY, "t", "titan-img",
              {"requests": 1, "images": 4, "images::": 1,
               "images:1024x1024:premium": 1, "images:512x512:": 1})
    r = aigw("export", "--date", DAY, "--redis", redis.address,
             "--pricing", p, check=0)
    rows = parse_csv(r.stdout)
    assert [(x["input_cost"], x["output_cost"], x["cache_cost"],
             x["total_cost"]) for x in rows] == [
        # 1000 x 0.0015 / 1000 = 0.0015
        ("0.001500000", "", "", ""),
        # 3 images at the default (no size, size 512x512 with no quality:
        # "standard", and one not detailed), "premium" has no price
        ("0.000000000", "", "0.000000000", "")]
    assert re.search(r'model "cohere.command-text-v14" \(priced by '
                     r'"cohere.command-text-v14"\): no price for output '
                     r'tokens, cache read tokens: 1 row with empty '
                     r'output_cost, cache_cost, total_cost', r.stderr), \
        r.stderr
    assert re.search(r'model "titan-img" .*no price for images', r.stderr)
    aigw("export", "--date", DAY, "--redis", redis.address, "--pricing", p,
         "--strict", check=1)

    # with a premium price too, everything is priced: 4 x 0.04 + 0.08
    p.write_text('{"models": {"cohere.command-text-v14": '
                 '{"input_per_1k": 0.0015}, "titan-img": {"per_image": '
                 '{"default": {"standard": 0.04, "premium": 0.08}}}}}')
    r = aigw("export", "--date", DAY, "--redis", redis.address,
             "--pricing", p, check=0)
    rows = parse_csv(r.stdout)
    assert rows[1]["output_cost"] == "0.200000000"
    assert rows[1]["total_cost"] == "0.200000000"


def test_region_overrides(redis, files):
    """--region applies the pricing file's region entries."""
    put_usage(redis, DAY, "team-b", NOVA, {"requests": 1,
                                          "input_tokens": 1000000,
                                          "output_tokens": 1000000})
    put_usage(redis, DAY, "team-b", "eu." + NOVA, {"requests": 1,
                                                  "input_tokens": 1000})
    r = aigw("export", "--date", DAY, "--redis", redis.address,
             "--pricing", files["pricing"], "--region", "eu-central-1",
             check=0)
    rows = parse_csv(r.stdout)
    # 10^6 x 0.000078 / 1000 = 0.078, 10^6 x 0.000312 / 1000 = 0.312
    assert [(x["model_id"], x["input_cost"], x["output_cost"],
             x["total_cost"]) for x in rows] == [
        (NOVA, "0.078000000", "0.312000000", "0.390000000"),
        ("eu." + NOVA, "0.000078000", "0.000000000", "0.000078000")]
    r = aigw("export", "--date", DAY, "--redis", redis.address,
             "--pricing", files["pricing"], "--region", "us-west-2",
             check=0)
    assert parse_csv(r.stdout)[0]["total_cost"] == "0.300000000"


def test_from_to(redis, files):
    """--from/--to: one CSV, days in order, each day's rows sorted; days
    outside the range are not exported."""
    days = ["2024-02-27", "2024-02-28", "2024-02-29", "2024-03-01",
            "2024-03-02"]
    for i, d in enumerate(days):
        put_usage(redis, d, "team-b", NOVA, {"requests": i + 1,
                                            "input_tokens": 1000 * (i + 1)})
        if i % 2:
            put_usage(redis, d, "team-a", HAIKU, {"requests": 1})
    r = aigw("export", "--from", "2024-02-28", "--to", "2024-03-01",
             "--redis", redis.address, "--pricing", files["pricing"],
             check=0)
    rows = parse_csv(r.stdout)
    assert [(x["date"], x["team_id"], x["invocations"]) for x in rows] == [
        ("2024-02-28", "team-a", "1"), ("2024-02-28", "team-b", "2"),
        ("2024-02-29", "team-b", "3"),
        ("2024-03-01", "team-a", "1"), ("2024-03-01", "team-b", "4")]
    # 4000 x 0.00006 / 1000
    assert rows[-1]["input_cost"] == "0.000240000"
    r = aigw("export", "--from", "2024-03-01", "--to", "2024-03-01",
             "--redis", redis.address, check=0)
    assert len(parse_csv(r.stdout)) == 2


def test_default_date_is_yesterday_utc(redis):
    yesterday = (datetime.datetime.now(datetime.timezone.utc) -
                 datetime.timedelta(days=1)).strftime("%Y-%m-%d")
    today = redisd.today()
    put_usage(redis, yesterday, "team-a", HAIKU, {"requests": 5})
    put_usage(redis, today, "team-a", HAIKU, {"requests": 9})
    r = aigw("export", "--redis", redis.address, check=0)
    rows = parse_csv(r.stdout)
    if redisd.today() != today:
        pytest.skip("midnight UTC passed during the test")
    assert [(x["date"], x["invocations"]) for x in rows] == [
        (yesterday, "5")]


def test_redis_address_forms(tmp_path, files):
    """unix:/path, a host name, --password, --db and --prefix."""
    r = redisd.RedisServer(tmp_path / "redis-auth", password="p@ss word",
                           unix=True)
    r.start()
    try:
        put_usage(r, DAY, "team-a", HAIKU, {"requests": 3,
                                           "input_tokens": 4000},
                  prefix="acme", db=5)
        put_usage(r, DAY, "team-a", NOVA, {"requests": 1}, prefix="aigw",
                  db=5)
        for addr in ("unix:%s" % r.unix, "localhost:%d" % r.port,
                     "127.0.0.1:%d" % r.port):
            out = aigw("export", "--date", DAY, "--redis", addr,
                       "--password", r.password, "--db", "5", "--prefix",
                       "acme", "--pricing", files["pricing"], check=0)
            rows = parse_csv(out.stdout)
            assert [(x["model_id"], x["invocations"], x["input_cost"])
                    for x in rows] == [(HAIKU, "3", "0.001000000")], addr
        out = aigw("export", "--date", DAY, "--redis", r.address,
                   "--password", "wrong", check=1)
        assert "AUTH" in out.stderr and r.address in out.stderr
        out = aigw("export", "--date", DAY, "--redis", r.address, check=1)
        assert "NOAUTH" in out.stderr or "Authentication" in out.stderr, \
            out.stderr
    finally:
        r.stop()
    out = aigw("export", "--date", DAY, "--redis",
               "127.0.0.1:%d" % h.free_port(), check=1)
    assert "Redis at 127.0.0.1:" in out.stderr, out.stderr


def test_index_members_without_hash_and_bad_counters(redis):
    """A member whose hash is gone is skipped with a warning; a counter
    that is not a non-negative integer is an error."""
    put_usage(redis, DAY, "team-a", HAIKU, {"requests": 1})
    redis.call("SADD", redisd.index_key(DAY), "team-a:gone-model",
               "no-colon")
    r = aigw("export", "--date", DAY, "--redis", redis.address, check=0)
    assert len(parse_csv(r.stdout)) == 1
    assert "aigw:usage:%s:team-a:gone-model" % DAY in r.stderr
    assert '"no-colon" is not TENANT:MODEL' in r.stderr
    redis.call("HSET", redisd.usage_key(DAY, "team-a", HAIKU),
               "input_tokens", "-5")
    r = aigw("export", "--date", DAY, "--redis", redis.address, check=1)
    assert r.stdout == ""
    assert 'field "input_tokens" is "-5", not a non-negative integer' in \
        r.stderr


@pytest.mark.parametrize("args, message", [
    (["--date", "2024-13-01"], "--date \"2024-13-01\": expected a day"),
    (["--date", "2023-02-29"], "expected a day"),
    (["--date", "yesterday"], "expected a day"),
    (["--date", DAY, "--from", DAY, "--to", DAY], "exclude each other"),
    (["--from", DAY], "--from and --to go together"),
    (["--from", "2024-05-02", "--to", DAY], "is after --to"),
    (["--bogus"], "unknown option \"--bogus\""),
    (["--redis"], "--redis needs a value"),
    (["--strict=1"], "--strict takes no value"),
    (["--dat", DAY], "unknown option \"--dat\""),
    (["--date", DAY, "extra"], "unexpected argument \"extra\""),
    (["--", "--date", DAY], "unknown option \"--\""),
    (["-vx"], "unknown option \"-x\""),
    (["--prefix", "a:b"], "without \":\""),
    (["--endpoint", "http://x"], "--endpoint is for --out s3://"),
])
def test_export_usage_errors(args, message):
    r = aigw("export", *args, check=2)
    assert message in r.stderr, r.stderr
    assert r.stdout == ""


def test_bad_files(redis, tmp_path):
    """A bad pricing or tenants file: exit 1, its path and the reason."""
    p = tmp_path / "bad-pricing.json"
    p.write_text('{"models": {"m": {"input_per_1k": "0.0000000000001"}}}')
    r = aigw("export", "--date", DAY, "--redis", redis.address,
             "--pricing", p, check=1)
    assert r.stderr == ('aigw export: "%s": model "m": input_per_1k: '
                        '"0.0000000000001": more than 12 decimal places\n'
                        % p)
    r = aigw("export", "--pricing", tmp_path / "none.json", check=1)
    assert "none.json\": No such file or directory" in r.stderr
    t = tmp_path / "bad-tenants.json"
    t.write_text('{"tenants": [{"id": "x", "idd": "x"}]}')
    r = aigw("export", "--tenants", t, check=1)
    assert str(t) in r.stderr and "idd" in r.stderr


def test_help():
    r = aigw("--help", check=0)
    assert re.search(r"^  export ", r.stdout, re.M)
    assert re.search(r"^  usage ", r.stdout, re.M)
    r = aigw("export", "--help", check=0)
    assert r.stdout.startswith("usage: aigw export")
    for opt in ("--date", "--from", "--to", "--redis", "--password", "--db",
                "--prefix", "--pricing", "--tenants", "--out", "--region",
                "--s3-region", "--endpoint", "--strict", "--verbose",
                "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_WEB_IDENTITY_TOKEN",
                "credential_process", "IMDSv2"):
        assert opt in r.stdout, opt
    r = aigw("usage", "--help", check=0)
    assert r.stdout.startswith("usage: aigw usage")
    assert "--by" in r.stdout


# --- aigw usage --------------------------------------------------------------

def table(text):
    """The rows of "aigw usage": {name: [cells]} (names without spaces)."""
    lines = text.splitlines()
    assert lines[0].startswith("usage of ")
    out = {}
    widths = None
    for line in lines[1:]:
        if set(line) == {"-"}:
            widths = len(line)
            continue
        if line.startswith("* "):
            continue
        cells = line.split()
        out[cells[0]] = cells[1:]
    assert widths, text
    return out


def test_usage_by_tenant_model_department(redis, files):
    fill_day(redis)
    r = aigw("usage", "--date", DAY, "--redis", redis.address, check=0)
    t = table(r.stdout)
    lines = r.stdout.splitlines()
    assert lines[1].split() == ["TENANT", "REQUESTS", "INPUT_TOKENS",
                                "OUTPUT_TOKENS", "CACHE_READ",
                                "CACHE_WRITE", "IMAGES", "ERRORS",
                                "THROTTLED", "AVG_MS", "COST_USD"]
    # aligned: every line as long as the header (right-aligned numbers)
    assert len({len(x) for x in lines[1:] if not x.startswith("*")}) == 1
    assert list(t) == ["TENANT", "team-a", "team-b", "team-c",
                       "unknown-team", "TOTAL"]
    # team-a: 10 + 2 + 1 + 3 requests; 123456789 + 2000 + 1 input
    assert t["team-a"][:8] == ["16", "123458790", "988655", "5555", "777",
                               "5", "0", "0"]
    # team-b: latency 400 ms over 4 requests; the module's own cost
    assert t["team-b"] == ["4", "1000000000000", "3", "0", "0", "0", "2",
                           "1", "100", "0.000000077"]
    assert t["TOTAL"][:8] == ["28", "1000123458870", "989363", "5555", "777",
                              "5", "2", "1"]

    r = aigw("usage", "--date", DAY, "--redis", redis.address, "--by",
             "model", "--pricing", files["pricing"], check=0)
    t = table(r.stdout)
    assert t["MODEL"][0] == "REQUESTS"
    assert t[NOVA][0] == "5"                        # team-b + unknown-team
    assert t[NOVA][-1] == "60000.000002520"     # 60000.00000072 + 0.0000018
    assert t["mistral.mistral-large-2402-v1:0"][-1] == "0.000000000*"
    # 0.048 + 32.099146438 + 0.000018 + 0.00175 + 60000.00000072 +
    # 0.0000018, mistral unpriced
    assert t["TOTAL"][-1] == "60032.148916958*"
    assert "* some usage has no price" in r.stdout

    r = aigw("usage", "--date", DAY, "--redis", redis.address, "--by",
             "department", "--tenants", files["tenants"], check=0)
    t = table(r.stdout)
    assert list(t) == ["DEPARTMENT", "(none)", "R&D", "sales", "TOTAL"]
    assert t["(none)"][0] == "8"                    # team-c 7, unknown 1
    assert t["sales"][0] == "16"

    r = aigw("usage", "--date", "2020-01-01", "--redis", redis.address,
             check=0)
    t = table(r.stdout)
    assert list(t) == ["TENANT", "TOTAL"]
    assert t["TOTAL"] == ["0"] * 8 + ["-", "0.000000000"]

    aigw("usage", "--by", "department", "--redis", redis.address, check=2)
    aigw("usage", "--by", "team", check=2)


def test_usage_default_today(redis):
    put_usage(redis, redisd.today(), "team-z", HAIKU, {"requests": 42})
    r = aigw("usage", "--redis", redis.address, check=0)
    assert table(r.stdout)["team-z"][0] == "42"


# --- S3 ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def s3_server():
    m = mock_s3.MockS3(buckets={"aigw-usage": "eu-west-1",
                                "east-bucket": "us-east-1"}).start()
    yield m
    m.stop()


@pytest.fixture
def s3(s3_server):
    s3_server.reset()
    yield s3_server
    s3_server.reset()


S3_ENV = {"AWS_ACCESS_KEY_ID": mock_s3.AKID,
          "AWS_SECRET_ACCESS_KEY": mock_s3.SECRET}


def object_key(prefix, day):
    y, m, d = day.split("-")
    return "%syear=%s/month=%s/day=%s/usage.csv" % (prefix, y, m, d)


def test_s3_upload_and_rerun(redis, files, s3):
    """
    PUT prefix/year=YYYY/month=MM/day=DD/usage.csv, signed for "s3" (the
    mock verifies with botocore), in the bucket's region found by HEAD;
    the object is the CSV of stdout; a re-run overwrites the same object.
    """
    fill_day(redis)
    url = "s3://aigw-usage/finance/aigw/"
    r = aigw("export", "--date", DAY, "--redis", redis.address,
             "--pricing", files["pricing"], "--tenants", files["tenants"],
             "--out", url, "--endpoint", s3.url, env=S3_ENV, check=0)
    assert r.stdout == ""
    key = object_key("finance/aigw/", DAY)
    assert "s3://aigw-usage/%s (7 rows)" % key in r.stderr, r.stderr
    assert list(s3.objects) == [("aigw-usage", key)]
    obj = s3.objects[("aigw-usage", key)]
    assert obj["body"].decode() == EXPECTED_DAY
    assert obj["content_type"] == "text/csv"

    assert [(q["method"], q["target"], q["status"], q["region"])
            for q in s3.requests] == [
        ("HEAD", "/aigw-usage", 301, "us-east-1"),
        ("PUT", "/aigw-usage/finance/aigw/year%3D2024/month%3D05/day%3D01/"
         "usage.csv", 200, "eu-west-1")]
    for q in s3.requests:
        assert q["sig_ok"], q["sig_error"]
        assert q["signed_headers"] == ["host", "x-amz-content-sha256",
                                       "x-amz-date"]
    # the path as sent, never encoded twice (S3's rule)
    assert s3.requests[1]["canonical_request"].split("\n")[1] == (
        "/aigw-usage/finance/aigw/year%3D2024/month%3D05/day%3D01/usage.csv")

    # a re-run with more usage: the same object, replaced
    put_usage(redis, DAY, "team-c", "mistral.mistral-large-2402-v1:0",
              {"requests": 1})
    aigw("export", "--date", DAY, "--redis", redis.address,
         "--pricing", files["pricing"], "--tenants", files["tenants"],
         "--out", url, "--endpoint", s3.url, env=S3_ENV, check=0)
    assert list(s3.objects) == [("aigw-usage", key)]
    assert s3.puts == 2
    body = s3.objects[("aigw-usage", key)]["body"].decode()
    assert body == EXPECTED_DAY.replace(
        "team-c,,,mistral.mistral-large-2402-v1:0,7,",
        "team-c,,,mistral.mistral-large-2402-v1:0,8,")
    assert body != EXPECTED_DAY


def test_s3_wrong_secret(redis, s3):
    """A wrong secret: exit 1, the bucket, the key and AWS's error code."""
    put_usage(redis, DAY, "team-a", HAIKU, {"requests": 1})
    r = aigw("export", "--date", DAY, "--redis", redis.address,
             "--out", "s3://aigw-usage/x", "--endpoint", s3.url,
             env=dict(S3_ENV, AWS_SECRET_ACCESS_KEY="not-the-secret"),
             check=1)
    assert ("s3://aigw-usage/x/year=2024/month=05/day=01/usage.csv: PUT "
            "failed (region eu-west-1): HTTP 403 SignatureDoesNotMatch: The "
            "request signature we calculated does not match") in r.stderr, \
        r.stderr
    assert s3.objects == {}
    assert "not-the-secret" not in r.stderr

    r = aigw("export", "--date", DAY, "--redis", redis.address,
             "--out", "s3://aigw-usage/x", "--endpoint", s3.url,
             env=dict(S3_ENV, AWS_ACCESS_KEY_ID="AKIAUNKNOWN000000000"),
             check=1)
    assert "HTTP 403 InvalidAccessKeyId" in r.stderr, r.stderr

    r = aigw("export", "--date", DAY, "--redis", redis.address,
             "--out", "s3://no-such-bucket/", "--endpoint", s3.url,
             env=S3_ENV, check=1)
    assert 'bucket "no-such-bucket": does not exist' in r.stderr, r.stderr

    r = aigw("export", "--date", DAY, "--redis", redis.address,
             "--out", "s3://aigw-usage/", "--endpoint", s3.url, check=1)
    assert "no AWS credentials" in r.stderr, r.stderr


def test_s3_range_session_token_location_chunked(redis, s3):
    """
    --from/--to: one object per day (an empty day too); temporary
    credentials (x-amz-security-token signed); the region from
    GetBucketLocation when HEAD gives none; chunked responses.
    """
    s3.head_region_header = False
    s3.chunked = True
    put_usage(redis, "2024-12-31", "team-a", HAIKU, {"requests": 1})
    put_usage(redis, "2025-01-02", "team-b", NOVA, {"requests": 2})
    env = {"AWS_ACCESS_KEY_ID": mock_s3.TEMP_AKID,
           "AWS_SECRET_ACCESS_KEY": mock_s3.TEMP_SECRET,
           "AWS_SESSION_TOKEN": mock_s3.TEMP_TOKEN}
    r = aigw("export", "--from", "2024-12-31", "--to", "2025-01-02",
             "--redis", redis.address, "--out", "s3://aigw-usage",
             "--endpoint", s3.url, env=env, check=0)
    assert sorted(k for _, k in s3.objects) == [
        "year=2024/month=12/day=31/usage.csv",
        "year=2025/month=01/day=01/usage.csv",
        "year=2025/month=01/day=02/usage.csv"], r.stderr
    assert s3.objects[("aigw-usage", "year=2025/month=01/day=01/"
                       "usage.csv")]["body"].decode() == HEADER + "\n"
    rows = parse_csv(s3.objects[("aigw-usage", "year=2025/month=01/day=02/"
                                 "usage.csv")]["body"].decode())
    assert [(x["date"], x["team_id"], x["invocations"]) for x in rows] == [
        ("2025-01-02", "team-b", "2")]
    assert [(q["method"], q["query"], q["status"]) for q in s3.requests][:2] \
        == [("HEAD", "", 403), ("GET", "location", 200)]
    for q in s3.requests:
        assert q["sig_ok"], q["sig_error"]
    assert "x-amz-security-token" in s3.requests[-1]["signed_headers"]

    # an error body, chunked: the code still comes through
    r = aigw("export", "--date", "2024-12-31", "--redis", redis.address,
             "--out", "s3://aigw-usage", "--endpoint", s3.url,
             "--s3-region", "eu-west-1",
             env=dict(env, AWS_SESSION_TOKEN="wrong"), check=1)
    assert "HTTP 403 InvalidToken" in r.stderr, r.stderr


def test_s3_region_given_redirect_and_retry(redis, s3, tmp_path):
    """
    --s3-region skips the HEAD; a wrong one is corrected from S3's answer
    (400 AuthorizationHeaderMalformed with <Region>), once, and the next
    days go straight to the right region; a 503 is retried.  Credentials
    from a profile of the shared credentials file.
    """
    put_usage(redis, DAY, "team-a", HAIKU, {"requests": 1})
    creds = tmp_path / "credentials"
    creds.write_text("[default]\naws_access_key_id = AKIAWRONG\n"
                     "aws_secret_access_key = wrong\n\n"
                     "[finance]\naws_access_key_id = %s\n"
                     "aws_secret_access_key = %s\n" % (mock_s3.AKID,
                                                       mock_s3.SECRET))
    env = {"AWS_SHARED_CREDENTIALS_FILE": str(creds),
           "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
           "AWS_PROFILE": "finance"}
    r = aigw("export", "--from", "2024-04-30", "--to", DAY, "--redis",
             redis.address, "--out", "s3://aigw-usage/p/", "--endpoint",
             s3.url, "--s3-region", "us-west-2", env=env, check=0)
    assert [(q["method"], q["status"], q["region"]) for q in s3.requests] \
        == [("PUT", 400, "us-west-2"), ("PUT", 200, "eu-west-1"),
            ("PUT", 200, "eu-west-1")], r.stderr
    assert len(s3.objects) == 2

    # a 503 SlowDown, then success
    s3.reset()
    s3.fail_next = [503]
    r = aigw("export", "--date", DAY, "--redis", redis.address,
             "--out", "s3://east-bucket/", "--endpoint", s3.url,
             "--s3-region", "us-east-1", env=env, check=0)
    assert [q["status"] for q in s3.requests] == [503, 200]
    assert list(s3.objects) == [("east-bucket",
                                 object_key("", DAY))]

    # a profile aigw cannot use
    creds.write_text("[finance]\nrole_arn = arn:aws:iam::1:role/x\n"
                     "source_profile = default\n"
                     "mfa_serial = arn:aws:iam::1:mfa/x\n")
    r = aigw("export", "--date", DAY, "--redis", redis.address,
             "--out", "s3://east-bucket/", "--endpoint", s3.url, env=env,
             check=1)
    assert 'profile "finance"' in r.stderr, r.stderr
    assert "mfa_serial" in r.stderr, r.stderr


@pytest.mark.parametrize("bad", ["s3:/x", "s3://", "s3://ab/", "s3://a b/",
                                 "s3://bucket/a//b"])
def test_s3_bad_urls(redis, bad):
    r = aigw("export", "--date", DAY, "--redis", redis.address, "--out",
             bad, env=S3_ENV, check=None)
    if bad == "s3:/x":
        # not an s3:// URL: a local path
        assert r.returncode == 1
        return
    assert r.returncode == 1
    assert "s3://" in r.stderr and ("bucket name" in r.stderr or
                                    "empty segment" in r.stderr), r.stderr


def test_s3_https(redis, certs, tmp_path):
    """
    HTTPS with the certificate verified (AWS_CA_BUNDLE, the name or the
    address checked): a trusted endpoint works, an untrusted one fails.
    """
    m = mock_s3.MockS3(buckets={"aigw-usage": "ap-south-1"},
                       certfile=str(certs["cert"]),
                       keyfile=str(certs["key"])).start()
    try:
        put_usage(redis, DAY, "team-a", HAIKU, {"requests": 1})
        for host in ("127.0.0.1", "localhost"):
            m.objects.clear()
            aigw("export", "--date", DAY, "--redis", redis.address,
                 "--out", "s3://aigw-usage/tls/", "--endpoint",
                 "https://%s:%d" % (host, m.port),
                 env=dict(S3_ENV, AWS_CA_BUNDLE=str(certs["ca"])), check=0)
            assert list(m.objects) == [("aigw-usage",
                                        object_key("tls/", DAY))]
        r = aigw("export", "--date", DAY, "--redis", redis.address,
                 "--out", "s3://aigw-usage/tls/", "--endpoint", m.url,
                 env=dict(S3_ENV, AWS_CA_BUNDLE=str(certs["other_ca"])),
                 check=1)
        assert "certificate verification" in r.stderr, r.stderr
        r = aigw("export", "--date", DAY, "--redis", redis.address,
                 "--out", "s3://aigw-usage/tls/", "--endpoint", m.url,
                 env=S3_ENV, check=1)
        assert "certificate" in r.stderr, r.stderr
    finally:
        m.stop()


# --- end to end: requests -> nginx -> Redis -> export ------------------------

E2E_TENANTS = [
    # (tenant, project, department)
    ("team-a", "support, bot", "sales"),
    ("team-b", 'Équipe "données"', "R&D"),
    ("team-c", "", ""),
]

E2E_SENDS = h.pick({
    # tenant: [(capture, times)]
    "team-a": [("test_nova_converse", 2), ("test_prompt_cache", 1),
               ("test_prompt_cache-1", 2), ("test_meta_converse", 1)],
    "team-b": [("test_anthropic_cross_region", 1),
               ("test_nova_cross_region_invoke", 3),
               ("test_titan_converse", 1)],
    "team-c": [("test_nova_converse_stream", 1)],
}, {
    # without the shared data, the synthetic stand-ins: the same models
    # and operations where there is one
    "team-a": [("converse-stream-guardrail", 2),
               ("invoke-anthropic-cache-write", 1),
               ("invoke-anthropic-cache-read", 2), ("invoke-llama", 1)],
    "team-b": [("converse", 1), ("anthropic-stream", 3),
               ("invoke-titan", 1)],
    "team-c": [("converse-stream", 1)],
})

# one hand-checked row: team-a's prompt cache, claude-3-5-haiku
E2E_CACHE_ROW = h.pick(
    # 3 requests; input 4 x 3 = 12 x 0.0008 / 1000 = 0.0000096; output
    # 50 x 3 = 150 x 0.004 / 1000 = 0.0006; cache read 18131 x 2 = 36262 x
    # 0.00008 / 1000 = 0.00290096, cache write 18131 x 0.001 / 1000 =
    # 0.018131: cache 0.02103196; total 0.02164156
    ["3", "12", "150", "36262", "18131", "0", "0", "0",
     "0.000009600", "0.000600000", "0.021031960", "0.021641560"],
    # 3 requests; input 6 x 3 = 18 x 0.0008 / 1000 = 0.0000144; output
    # 48 + 41 x 2 = 130 x 0.004 / 1000 = 0.00052; cache read 2048 x 2 =
    # 4096 x 0.00008 / 1000 = 0.00032768, cache write 2048 x 0.001 / 1000
    # = 0.002048: cache 0.00237568; total 0.00291008
    ["3", "18", "130", "4096", "2048", "0", "0", "0",
     "0.000014400", "0.000520000", "0.002375680", "0.002910080"])


def test_end_to_end_through_nginx(nginx_factory, mock, redis, tmp_path,
                                  files, s3):
    """
    Recorded Bedrock answers (without the shared data: their synthetic
    stand-ins) through nginx with aigw_redis, three tenants; 429s too;
    then "aigw export" of that day: every row equals what was sent
    (requests, the captures' expected usage, errors, throttled), the
    project and department come from the tenants file, the costs equal an
    independent computation, titan (not in the pricing file) has empty
    costs; the same CSV lands in S3.
    """
    keys = {}
    doc = []
    for tid, project, department in E2E_TENANTS:
        kid = "e2e%s" % tid.replace("-", "")
        key, sha = h.make_key(kid)
        h.register_keys(key)
        keys[tid] = key
        t = {"id": tid, "keys": [{"id": kid, "sha256": sha}],
             "models": ["*"]}
        if project:
            t["project"] = project
        if department:
            t["department"] = department
        doc.append(t)
    tfile = h.write_tenants(tmp_path / "tenants.json", h.tenants_doc(*doc))

    port = h.free_port()
    conf = h.aigw_http(mock.url, tenants=tfile, extra=(
        "aigw_redis %s journal=%s;" % (redis.address, tmp_path / "journal")))
    conf += h.gateway_server(port)
    n = nginx_factory(conf, [port])

    day0 = redisd.today()
    want = {}
    for tid, sends in E2E_SENDS.items():
        for i, (name, times) in enumerate(sends):
            c = h.case(name)
            for j in range(times):
                r = c.send(n.port, "random:%d:64" % (i * 5 + j),
                           api_key=keys[tid])
                assert r.status == c.status, (name, r)
            f = want.setdefault((tid, c.model),
                                {x: 0 for x in redisd.FIELDS})
            f["requests"] += times
            for k, v in c.usage.items():
                f[k] += v * times
    # throttled requests of team-c: errors and throttled, no tokens
    for _ in range(2):
        r = h.post(n.port, "/model/amazon.nova-lite-v1%3A0/converse",
                   b'{"messages": []}', [("X-Mock-Status", "429")],
                   api_key=keys["team-c"])
        assert r.status == 429, r
    f = want.setdefault(("team-c", NOVA), {x: 0 for x in redisd.FIELDS})
    f["requests"] += 2
    f["errors"] += 2
    f["throttled"] += 2
    day1 = redisd.today()

    def done(u):
        got = {}
        for (d, t, m), fields in u.items():
            redisd.add_usage(got, (t, m), fields)
        return not redisd.diff_usage(got, want)

    usage = redis.wait_stable(done, timeout=WAIT)
    assert done(usage), redisd.diff_usage(
        {(t, m): f for (d, t, m), f in usage.items()}, want)

    r = aigw("export", "--from", day0, "--to", day1, "--redis",
             redis.address, "--pricing", files["pricing"], "--tenants",
             tfile, check=0)
    rows = parse_csv(r.stdout)

    got = {}
    for row in rows:
        assert row["date"] in (day0, day1)
        g = got.setdefault((row["team_id"], row["model_id"]), {
            "rows": [], "project": row["project"],
            "department": row["department"]})
        g["rows"].append(row)
    assert set(got) == set(want)

    meta = {tid: (p, d) for tid, p, d in E2E_TENANTS}
    names = {"invocations": "requests"}
    for (tid, model), g in got.items():
        w = want[(tid, model)]
        assert (g["project"], g["department"]) == meta[tid]
        for col in COLUMNS[5:13]:
            total = sum(int(x[col]) for x in g["rows"])
            assert total == w[names.get(col, col)], (tid, model, col)
        if day0 != day1:
            continue                # costs per row: checked on one day
        row = g["rows"][0]
        base = model.split("/")[-1]
        base = re.sub(r"^(us|eu|apac|global)\.", "", base)
        if base not in PRICES:
            assert base == "amazon.titan-text-express-v1", base
            assert [row[c] for c in COLUMNS[13:]] == ["", "", "", ""]
            continue
        i, o, c, t = cost_nano(PRICES[base], w)
        assert [row[c2] for c2 in COLUMNS[13:]] == [usd(i), usd(o), usd(c),
                                                    usd(t)], (tid, model)
    assert 'no price for model "amazon.titan-text-express-v1"' in r.stderr

    # the hand-checked row (E2E_CACHE_ROW)
    if day0 == day1:
        row = got[("team-a",
                   "anthropic.claude-3-5-haiku-20241022-v1:0")]["rows"][0]
        assert [row[c] for c in COLUMNS[5:]] == E2E_CACHE_ROW

    # the same export to S3 is the same CSV
    if day0 == day1:
        aigw("export", "--date", day0, "--redis", redis.address,
             "--pricing", files["pricing"], "--tenants", tfile,
             "--out", "s3://aigw-usage/e2e/", "--endpoint", s3.url,
             env=S3_ENV, check=0)
        assert s3.objects[("aigw-usage", object_key("e2e/", day0))][
            "body"].decode() == r.stdout

    # aigw usage agrees with the export
    u = aigw("usage", "--date", day0, "--redis", redis.address, check=0)
    if day0 == day1:
        t = table(u.stdout)
        for tid in meta:
            assert int(t[tid][0]) == sum(
                w["requests"] for (tt, _), w in want.items() if tt == tid)


# --- images end to end: size and quality reach Redis and the export ---------

IMAGE_PRICING = """{"models": {"amazon.titan-image-generator-v1": {"per_image": {
    "512x512": {"standard": 0.008, "premium": 0.01},
    "larger": {"standard": "0.01", "premium": "0.012"}}}}}"""


def test_images_priced_by_size_and_quality(nginx_factory, mock, redis,
                                           tmp_path, files):
    """
    A Titan image request (1024x1024, premium, 2 images) through nginx
    with aigw_redis and aigw_pricing: Redis counts the images under
    "images:1024x1024:premium" and cost_nanousd = 2 x 0.012 USD; the log
    says $aigw_cost 0.024000000; "aigw export" of that day prices the row
    by size and quality the same: output_cost and total_cost 0.024000000.
    """
    import mock_synthetic as ms

    pricing = tmp_path / "image-pricing.json"
    pricing.write_text(IMAGE_PRICING)
    port = h.free_port()
    conf = h.aigw_http(mock.url, extra=(
        "aigw_redis %s journal=%s;\naigw_pricing %s;"
        % (redis.address, tmp_path / "journal", pricing)))
    conf += h.gateway_server(port)
    n = nginx_factory(conf, [port])

    body = json.dumps({
        "taskType": "TEXT_IMAGE",
        "textToImageParams": {"text": "a lighthouse at dawn"},
        "imageGenerationConfig": {"numberOfImages": 2, "quality": "premium",
                                  "width": 1024, "height": 1024}}).encode()
    day0 = redisd.today()
    r = h.post(n.port, "/model/amazon.titan-image-generator-v1/invoke", body,
               [("Content-Type", "application/json"),
                ("X-Mock-Synthetic", "titan-image"),
                ("X-Test-Id", "img1")])
    assert (r.status, r.body) == (200, ms.build("titan-image").body)
    e = n.wait_entry("img1")
    assert e["aigw_images"] == "2", e
    assert e["aigw_cost"] == "0.024000000", e

    key = "aigw:usage:%s:%s:amazon.titan-image-generator-v1" % (
        day0, h.DEFAULT_TENANT)
    deadline = time.monotonic() + WAIT
    fields = {}
    while time.monotonic() < deadline:
        flat = redis.call("HGETALL", key)
        fields = dict(zip(flat[::2], flat[1::2]))
        if fields.get("requests") == "1":
            break
        time.sleep(0.05)
    assert fields.get("images") == "2", fields
    assert fields.get("images:1024x1024:premium") == "2", fields
    assert fields.get("cost_nanousd") == "24000000", fields

    r = aigw("export", "--date", day0, "--redis", redis.address,
             "--pricing", pricing, check=0)
    [row] = [x for x in parse_csv(r.stdout)
             if x["model_id"] == "amazon.titan-image-generator-v1"]
    assert row["images"] == "2"
    assert (row["input_cost"], row["output_cost"], row["cache_cost"],
            row["total_cost"]) == ("0.000000000", "0.024000000",
                                   "0.000000000", "0.024000000"), row

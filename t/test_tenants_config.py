"""
aigw_tenants and aigw_model at nginx -t: a gateway needs a tenants file, a
bad file fails with its path and the precise reason (which tenant, which
field), unknown fields are errors, and no message shows a key hash.  And
the scale the issue asks for: 10,000 tenants and 20,000 keys.
"""

import copy
import json
import time

import pytest

import helpers as h

BODY = b'{"messages":[{"role":"user","content":[{"text":"hi"}]}]}'
PROFILE_ARN = ("arn:aws:bedrock:us-east-1:123456789012:"
               "application-inference-profile/abcd1234")
SHA_A = "ab" * 32
SHA_B = "cd" * 32


def gateway_conf(tenants_line, extra_http=""):
    return "%s\naigw_region us-east-1;\naigw_credentials static %s %s;\n" \
        "%s\n%s" % (tenants_line, h.AKID, h.SECRET, extra_http,
                    h.gateway_server(h.free_port()))


GOOD = {
    "tenants": [
        {"id": "team-a", "project": "support-bot", "department": "sales",
         "keys": [{"id": "k7f3q2", "sha256": SHA_A}],
         "models": ["anthropic.claude-3-haiku-*", "amazon.nova-*",
                    "my-llama"],
         "inference_profiles": {
             "anthropic.claude-3-haiku-20240307-v1:0": PROFILE_ARN},
         "limits": {"rpm": 600, "tpm": 200000, "daily_usd": 50,
                    "monthly_usd": 1000, "alert_at": [0.5, 0.8, 1.0]}},
        {"id": "team-b", "keys": [{"id": "kb1", "sha256": SHA_B}]},
    ]
}


def tenants_file(tmp_path, doc, name="tenants.json"):
    p = tmp_path / name
    if isinstance(doc, str):
        p.write_text(doc)
    else:
        p.write_text(json.dumps(doc, indent=2))
    return p


def test_good_tenants_file_ok(nginx_t, tmp_path):
    f = tenants_file(tmp_path, GOOD)
    rc, out = nginx_t(gateway_conf("aigw_tenants %s;" % f))
    assert rc == 0, out


def test_aigw_on_without_tenants_fails(nginx_t):
    rc, out = nginx_t(gateway_conf(""))
    assert rc != 0, out
    assert "[emerg]" in out
    assert '"aigw_tenants"' in out, out


def test_tenants_without_gateway_ok(nginx_t, tmp_path):
    """A tenants file and no "aigw on" anywhere is fine."""
    f = tenants_file(tmp_path, GOOD)
    rc, out = nginx_t("aigw_tenants %s;\nserver { listen 127.0.0.1:%d; "
                      "location / { return 204; } }" % (f, h.free_port()))
    assert rc == 0, out


def test_tenants_missing_file_fails(nginx_t, tmp_path):
    f = tmp_path / "nope" / "tenants.json"
    rc, out = nginx_t(gateway_conf("aigw_tenants %s;" % f))
    assert rc != 0, out
    assert "[emerg]" in out
    assert str(f) in out
    assert "No such file or directory" in out


def test_tenants_unreadable_file_fails(nginx_t, tmp_path):
    """A directory, not a file."""
    rc, out = nginx_t(gateway_conf("aigw_tenants %s;" % tmp_path))
    assert rc != 0, out
    assert str(tmp_path) in out and "[emerg]" in out


def mutate(fn):
    doc = copy.deepcopy(GOOD)
    fn(doc)
    return doc


def t0(doc):
    return doc["tenants"][0]


BAD = [
    # (id, document or text, fragments the message must hold)
    ("rpm-negative",
     mutate(lambda d: t0(d)["limits"].update(rpm=-1)),
     ['tenant "team-a": limits.rpm: expected a non-negative integer']),
    ("rpm-string",
     mutate(lambda d: t0(d)["limits"].update(rpm="600")),
     ['tenant "team-a": limits.rpm: expected a non-negative integer']),
    ("tpm-real",
     mutate(lambda d: t0(d)["limits"].update(tpm=1.5)),
     ['tenant "team-a": limits.tpm: expected a non-negative integer']),
    ("unknown-tenant-field",
     mutate(lambda d: t0(d).update(modles=["*"])),
     ['tenant "team-a": unknown field "modles"']),
    ("unknown-limits-field",
     mutate(lambda d: t0(d)["limits"].update(rpmm=5)),
     ['tenant "team-a": limits: unknown field "rpmm"']),
    ("unknown-key-field",
     mutate(lambda d: t0(d)["keys"][0].update(secret="x")),
     ['tenant "team-a": key "k7f3q2": unknown field "secret"']),
    ("unknown-top-field",
     mutate(lambda d: d.update(version=2)),
     ['unknown field "version" at the top level']),
    ("no-tenant-id",
     mutate(lambda d: d["tenants"].append({"project": "x"})),
     ['tenant #3: missing "id"']),
    ("bad-tenant-id",
     mutate(lambda d: t0(d).update(id="team a")),
     ["tenant #1: id: expected 1 to 64 characters"]),
    ("duplicate-tenant",
     mutate(lambda d: d["tenants"].append({"id": "team-a"})),
     ['duplicate tenant id "team-a"']),
    ("duplicate-key-id",
     mutate(lambda d: d["tenants"][1]["keys"].append(
         {"id": "k7f3q2", "sha256": "ef" * 32})),
     ['key id "k7f3q2" is used twice']),
    ("bad-sha256",
     mutate(lambda d: t0(d)["keys"][0].update(sha256=SHA_A[:-1])),
     ['tenant "team-a": key "k7f3q2": sha256: expected 64 hexadecimal']),
    ("models-not-array",
     mutate(lambda d: t0(d).update(models="*")),
     ['tenant "team-a": models: expected an array']),
    ("bad-profile-arn",
     mutate(lambda d: t0(d)["inference_profiles"].update(
         {"amazon.nova-lite-v1:0": "arn:aws:s3:::bucket"})),
     ['tenant "team-a": inference_profiles "amazon.nova-lite-v1:0"']),
    ("alert-at-over",
     mutate(lambda d: t0(d)["limits"].update(alert_at=[0.5, 11])),
     ['tenant "team-a": limits.alert_at']),
    ("daily-usd-negative",
     mutate(lambda d: t0(d)["limits"].update(daily_usd=-1)),
     ['tenant "team-a": limits.daily_usd']),
    ("json-syntax",
     '{"tenants": [{"id": "team-a",}]}',
     ["invalid JSON at line 1"]),
    ("empty-file", "", ["invalid JSON"]),
    ("not-an-object", "[]", ["expected a JSON object"]),
]


@pytest.mark.parametrize("doc,fragments", [
    pytest.param(d, f, id=i) for i, d, f in BAD])
def test_bad_tenants_file_fails(nginx_t, tmp_path, doc, fragments):
    f = tenants_file(tmp_path, doc)
    rc, out = nginx_t(gateway_conf("aigw_tenants %s;" % f))
    assert rc != 0, out
    assert "[emerg]" in out
    assert 'aigw_tenants: "%s"' % f in out, out
    for frag in fragments:
        assert frag in out, out
    # no message shows a key hash
    for sha in (SHA_A, SHA_B, SHA_A[:-1], "ef" * 32):
        assert sha not in out and sha.upper() not in out, out


def test_tenants_duplicate_directive_fails(nginx_t, tmp_path):
    f = tenants_file(tmp_path, GOOD)
    rc, out = nginx_t(gateway_conf("aigw_tenants %s;\naigw_tenants %s;"
                                   % (f, f)))
    assert rc != 0, out
    assert "aigw_tenants" in out and "duplicate" in out


def test_tenants_not_in_server_fails(nginx_t, tmp_path):
    f = tenants_file(tmp_path, GOOD)
    rc, out = nginx_t("aigw_region us-east-1;\nserver { listen 127.0.0.1:%d;"
                      " aigw_tenants %s; location / { aigw on; } }"
                      % (h.free_port(), f))
    assert rc != 0, out
    assert '"aigw_tenants" directive is not allowed here' in out


# --- aigw_model -------------------------------------------------------------

@pytest.mark.parametrize("models,fragment", [
    ("aigw_model x bedrock;", "invalid number of arguments"),
    ("aigw_model x dynamo amazon.nova-lite-v1:0;", 'invalid service "dynamo"'),
    ("aigw_model x bedrock amazon.nova-lite-v1:0;\n"
     "aigw_model x sagemaker ep;", 'duplicate alias "x"'),
    ("aigw_model x bedrock amazon.nova-lite-v1:0 region=us_east;",
     'invalid region "us_east"'),
    ("aigw_model x bedrock amazon.nova-lite-v1:0 usage=tgi;",
     "is for SageMaker endpoints"),
    ("aigw_model x sagemaker ep usage=json;", 'invalid "usage=json"'),
    ("aigw_model x sagemaker ep speed=fast;", 'invalid parameter "speed=fast"'),
    ("aigw_model x/y bedrock amazon.nova-lite-v1:0;", 'invalid alias "x/y"'),
    ("aigw_model x sagemaker my_endpoint;", 'invalid target "my_endpoint"'),
    ("aigw_model x bedrock ..%2Fx;", 'invalid target'),
])
def test_bad_aigw_model_fails(nginx_t, models, fragment):
    rc, out = nginx_t(gateway_conf("aigw_tenants %s;" %
                                   h.default_tenants_file(), models))
    assert rc != 0, out
    assert "[emerg]" in out and fragment in out, out


def test_aigw_model_ok(nginx_t):
    rc, out = nginx_t(gateway_conf(
        "aigw_tenants %s;" % h.default_tenants_file(),
        "aigw_model a bedrock amazon.nova-lite-v1:0;\n"
        "aigw_model b bedrock arn:aws:bedrock:us-east-1:123456789012:"
        "application-inference-profile/abcd1234 region=us-west-2;\n"
        "aigw_model c sagemaker my-endpoint region=eu-west-1 usage=openai;\n"
        "aigw_model d sagemaker other-endpoint usage=none;\n"))
    assert rc == 0, out


# --- scale ------------------------------------------------------------------

def test_10k_tenants_20k_keys(nginx_t, nginx_factory, mock, tmp_path):
    """10,000 tenants with two keys each: nginx -t accepts the file (the
    time it takes is printed), and the last key works."""
    tenants = []
    last = None
    for i in range(10000):
        keys = []
        for j in range(2):
            kid = "k%05d-%d" % (i, j)
            if i == 9999 and j == 1:
                last, sha = h.make_key(kid)
                h.register_keys(last)
            else:
                # any hash: these keys are never sent
                sha = h.sha256_hex(b"%d-%d" % (i, j))
            keys.append({"id": kid, "sha256": sha})
        tenants.append({"id": "tenant-%05d" % i, "project": "p%d" % (i % 97),
                        "department": "d%d" % (i % 13), "keys": keys,
                        "models": ["amazon.nova-*", "anthropic.*"]})
    f = h.write_tenants(tmp_path / "big.json", h.tenants_doc(*tenants))

    port = h.free_port()
    conf = h.aigw_http(mock.url, tenants=f) + h.gateway_server(port)
    t = time.monotonic()
    rc, out = nginx_t(conf)
    took = time.monotonic() - t
    print("\nnginx -t with 10,000 tenants and 20,000 keys (%.1f MB): %.3f s"
          % (f.stat().st_size / 1e6, took))
    assert rc == 0, out

    n = nginx_factory(conf, [port])
    r = h.post(n.port, "/model/amazon.nova-lite-v1%3A0/converse", BODY,
               api_key=last)
    assert r.status == 200, r
    [rec] = mock.requests()
    assert rec["sig_ok"], rec["sig_error"]
    e = n.wait_access(1)[-1]
    assert (e["aigw_tenant"], e["aigw_key_id"], e["aigw_project"]) == (
        "tenant-09999", "k09999-1", "p%d" % (9999 % 97))
    # and a key of the same id with another secret does not
    r = h.post(n.port, "/model/amazon.nova-lite-v1%3A0/converse", BODY,
               api_key=h.register_keys(h.make_key("k09999-1")[0]))
    assert r.status == 401
    assert len(mock.requests()) == 1

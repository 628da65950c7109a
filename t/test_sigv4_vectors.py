"""The committed SigV4 vectors are what botocore computes today.

t/unit/test_sigv4.c checks aigw's signer against
t/unit/sigv4_bedrock_vectors.json; this re-runs t/gen_sigv4_vectors.py
and requires the same vectors, so the file cannot drift from botocore.
Plain functions, no fixtures: it needs neither nginx nor Redis.
"""

import json
import os
import subprocess
import sys
import tempfile

import pytest


HERE = os.path.dirname(os.path.abspath(__file__))
GENERATOR = os.path.join(HERE, "gen_sigv4_vectors.py")
COMMITTED = os.path.join(HERE, "unit", "sigv4_bedrock_vectors.json")


def _generate():
    pytest.importorskip("botocore")

    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "vectors.json")
        subprocess.run([sys.executable, GENERATOR, out], check=True)
        with open(out, encoding="ascii") as f:
            return f.read()


def _without_version(doc):
    doc = dict(doc)
    doc.pop("botocore", None)
    return doc


def test_committed_vectors_match_botocore():
    fresh = _generate()

    with open(COMMITTED, encoding="ascii") as f:
        committed = f.read()

    fresh_doc = json.loads(fresh)
    committed_doc = json.loads(committed)

    # the botocore version is informative only; the vectors must be equal
    assert _without_version(fresh_doc) == _without_version(committed_doc), \
        "re-run /usr/bin/python3 t/gen_sigv4_vectors.py and commit the result"

    if fresh_doc.get("botocore") == committed_doc.get("botocore"):
        assert fresh == committed


def test_vectors_cover_the_operations():
    with open(COMMITTED, encoding="ascii") as f:
        vectors = json.load(f)["vectors"]

    ops = {(v["service"], v["operation"]) for v in vectors}

    assert ops == {
        ("bedrock", "invoke"),
        ("bedrock", "invoke-with-response-stream"),
        ("bedrock", "converse"),
        ("bedrock", "converse-stream"),
        ("bedrock", "count-tokens"),
        ("sagemaker", "invocations"),
        ("sagemaker", "invocations-response-stream"),
    }

    assert any(v["token"] for v in vectors)
    assert any(not v["token"] for v in vectors)
    assert any(":" in v["host"] for v in vectors)
    assert any(v["target"].startswith("arn:") for v in vectors)

"""The committed STS vectors are what botocore serializes and signs today.

t/unit/test_credchain.c checks the chain's AssumeRole and
AssumeRoleWithWebIdentity requests against t/unit/sts_vectors.h; this
re-runs t/gen_sts_vectors.py and requires the same vectors, so the file
cannot drift from botocore.  No fixtures: it needs neither nginx nor Redis.
"""

import os
import subprocess
import sys
import tempfile

import pytest


HERE = os.path.dirname(os.path.abspath(__file__))
GENERATOR = os.path.join(HERE, "gen_sts_vectors.py")
COMMITTED = os.path.join(HERE, "unit", "sts_vectors.h")


def _defines(text):
    # the botocore version in the comment is informative only
    return [line for line in text.splitlines() if line.startswith("#define")]


def test_committed_sts_vectors_match_botocore():
    pytest.importorskip("botocore")

    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "sts_vectors.h")
        subprocess.run([sys.executable, GENERATOR, out], check=True)
        with open(out, encoding="ascii") as f:
            fresh = f.read()

    with open(COMMITTED, encoding="ascii") as f:
        committed = f.read()

    assert len(_defines(committed)) == 5
    assert _defines(fresh) == _defines(committed), \
        "re-run /usr/bin/python3 t/gen_sts_vectors.py and commit the result"

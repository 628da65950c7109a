"""
Last of the session (the files run in name order): every log of every
nginx the session started (error.log at info, the debug logs, access.log
whose format has $request, $http_authorization, $http_x_api_key and the
$aigw_* variables, stdio) holds no key material: no key the tests sent,
valid or not, no secret part, no SHA-256 of a key.  Key ids may appear.

nginx's HTTP core writes request headers into debug-level logs before any
module runs ('http header: "x-api-key: ..."'): those lines are nginx's and
are left out here (test_tenants.py shows they do hold the keys).
"""

import helpers as h


def test_no_key_material_in_any_log(launcher):
    material = h.key_material(h.SENT_KEYS)
    found = []
    for n in launcher.instances:
        for f in sorted(n.prefix.glob("*.log")):
            text = "\n".join(
                line for line in f.read_text(errors="replace").splitlines()
                if not h.CORE_HEADER_DUMP_RE.search(line))
            found += ["%s: %s" % (f, x)
                      for x in h.find_key_material(text, material)]
    print("\nscanned the logs of %d nginx instances for %d keys"
          % (len(launcher.instances), len(h.SENT_KEYS)))
    assert not found, "key material in the logs:\n  " + "\n  ".join(
        found[:40])

#!/usr/bin/python3
# arc_suite.t - the public ARC test suites through arctool
#
# Reads $TESTDATA/arc/arc-draft-validation-tests.yml (10 scenarios, 171
# tests) and arc-draft-sign-tests.yml (2 scenarios, 17 tests).  Each
# scenario's txt-records become a key file for `arctool -k` (the lines of
# a record joined, as the suite's reference runner joins them); each
# message has its final line breaks removed and LF made CRLF, as there.
#
# Validation: cv "Pass" must give arc=pass, "Fail" arc=fail, "None"
# arc=none; five tests leave cv empty: all five carry an ARC-Seal with
# cv=fail, which RFC 8617 5.2 makes a failed chain, so they must give
# arc=fail.
#
# Signing: the chain is validated, then sealed with the scenario's key at
# the test's t= with its sig-headers and srv-id, every tag in
# alphabetical order as the suite's fields have them (arctool -S: by
# default i= comes first, which the suite predates); the three new fields
# must equal the expected ones tag by tag (the reference runner's
# comparison: tags split at ";", white space at line starts and line
# breaks removed, sorted).  Since RSA PKCS#1 v1.5 signatures are
# deterministic, b= must match exactly.  Empty expected fields mean no
# set may be added.
import os
import re
import subprocess
import sys
import tempfile

try:
    import yaml
except ImportError:
    print("1..1\nnot ok 1 - python3-yaml is installed (make deps)")
    sys.exit(1)

BUILD = os.environ.get("BUILD", os.path.abspath("build/plain"))
TESTDATA = os.environ.get("TESTDATA", os.path.abspath("../shared/testdata"))
ARCTOOL = os.path.join(BUILD, "t", "tools", "arctool")
VALID = os.path.join(TESTDATA, "arc", "arc-draft-validation-tests.yml")
SIGN = os.path.join(TESTDATA, "arc", "arc-draft-sign-tests.yml")

n = 0
failed = 0


def tap(ok, name, diag=None):
    global n, failed
    n += 1
    print("%sok %d - %s" % ("" if ok else "not ", n, name))
    if not ok:
        failed += 1
        for line in (diag or "").splitlines():
            print("# " + line)
    sys.stdout.flush()


def keyfile(tmp, records):
    path = os.path.join(tmp, "keys")
    with open(path, "w") as f:
        for name, txt in sorted((records or {}).items()):
            f.write("%s %s\n" % (name, "".join(str(txt).split("\n"))))
    return path


def message(text):
    text = re.sub(r"[\r\n]*\Z", "", text or "")
    return re.sub(r"\r?\n", "\r\n", text).encode("utf-8")


def srt(value):
    value = re.sub(r"(?m)^\s+", "", value or "").replace("\n", "")
    parts = [p.strip() for p in re.split(r";\s*", value)]
    return "; ".join(sorted(p for p in parts if p != ""))


def run(args, data):
    p = subprocess.run([ARCTOOL] + args, input=data, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60)
    return p.returncode, p.stdout.decode("utf-8", "replace"), \
        p.stderr.decode("utf-8", "replace")


def fields(out):
    got = {}
    for m in re.finditer(r"(?ms)^(ARC-Seal|ARC-Message-Signature|"
                         r"ARC-Authentication-Results): (.*?)(?=^\S|\Z)",
                         out):
        got[m.group(1)] = m.group(2)
    return got


if not os.access(ARCTOOL, os.X_OK):
    print("1..0 # SKIP %s not built" % ARCTOOL)
    sys.exit(0)
if not os.path.exists(VALID) or not os.path.exists(SIGN):
    print("1..0 # SKIP the ARC suites are not in %s" % TESTDATA)
    sys.exit(0)

want_of = {"pass": "pass", "fail": "fail", "none": "none", "": "fail"}
counts = {"valid": [0, 0], "sign": [0, 0]}
with tempfile.TemporaryDirectory() as tmp:
    for sc in yaml.safe_load_all(open(VALID)):
        keys = keyfile(tmp, sc.get("txt-records"))
        for name, t in sc["tests"].items():
            want = want_of[str(t.get("cv") or "").strip().lower()]
            rc, out, err = run(["verify", "-k", keys], message(t["message"]))
            got = out.split()[0] if out else "(nothing)"
            ok = rc == 0 and got == "arc=" + want
            counts["valid"][0] += 1
            counts["valid"][1] += ok
            tap(ok, "validation %s: arc=%s" % (name, want),
                "got: %s%s" % (out, err))
    for sc in yaml.safe_load_all(open(SIGN)):
        keys = keyfile(tmp, sc.get("txt-records"))
        priv = os.path.join(tmp, "priv.pem")
        with open(priv, "w") as f:
            f.write(sc["privatekey"])
        for name, t in sc["tests"].items():
            args = ["seal", "-S", "-k", keys, "-K", priv, "-d", sc["domain"],
                    "-s", sc["sel"], "-a", t["srv-id"], "-h",
                    t["sig-headers"], "-t", str(t["t"])]
            rc, out, err = run(args, message(t["message"]))
            got = fields(out)
            if not (t.get("AS") or "").strip():
                ok = rc == 3 and not got
                diag = "expected no set, got rc %d: %s%s" % (rc, out, err)
            else:
                ok = rc == 0
                diag = "rc %d %s" % (rc, err)
                for key, fname in (("AS", "ARC-Seal"),
                                   ("AMS", "ARC-Message-Signature"),
                                   ("AAR", "ARC-Authentication-Results")):
                    if srt(got.get(fname)) != srt(t[key]):
                        ok = False
                        diag += "\n%s\n got: %s\nwant: %s" % (
                            fname, srt(got.get(fname)), srt(t[key]))
            counts["sign"][0] += 1
            counts["sign"][1] += ok
            tap(ok, "signing %s" % name, diag)
print("# validation %d/%d, signing %d/%d" % (
    counts["valid"][1], counts["valid"][0], counts["sign"][1],
    counts["sign"][0]))
print("1..%d" % n)
sys.exit(1 if failed else 0)

#!/usr/bin/python3
# spf_suite.t - the openspf RFC 7208 test suite through spfcheck
#
# Reads $TESTDATA/spf/rfc7208-tests.yml (16 scenarios, 203 tests).  Each
# scenario's zone data becomes a record file for `spfcheck -d` (NAME TAB
# TYPE TAB RDATA, RDATA in master-file syntax with \DDD escapes), then every
# test runs through $BUILD/t/tools/spfcheck and prints one TAP line.  A test
# passes when the result is one of the acceptable results and, when the
# test gives one, the explanation matches ("DEFAULT": the default one).
#
# Zone data conventions of the reference driver: SPF-type records are
# copied to TXT unless the name has its own TXT entry; "TXT: NONE" only
# stops that copy; a bare TIMEOUT makes every type without records at that
# name time out.  An empty mailfrom is a HELO check.
import os
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
SPFCHECK = os.path.join(BUILD, "t", "tools", "spfcheck")
SUITE = os.path.join(TESTDATA, "spf", "rfc7208-tests.yml")
TIMEOUT_TYPES = ("A", "AAAA", "MX", "TXT", "PTR")


def txt_rdata(value):
    """Master-file rdata of a TXT record: quoted strings, \\DDD escapes."""
    if isinstance(value, str):
        value = [value]
    out = []
    for s in value:
        data = s.encode("utf-8")
        chunks = [data[i:i + 255] for i in range(0, len(data), 255)] or [b""]
        for c in chunks:
            esc = "".join(chr(b) if 0x20 <= b < 0x7F and b not in b'"\\;'
                          else "\\%03d" % b for b in c)
            out.append('"%s"' % esc)
    return " ".join(out) if out else '""'


def owner(name):
    """A master-file owner name: spaces and specials as \\DDD."""
    return "".join(c if 0x21 <= ord(c) < 0x7F and c not in '"\\;()'
                   else "\\%03d" % ord(c) for c in name)


def zone_lines(zonedata):
    """Record-file lines for one scenario's zone data."""
    lines = []
    for name, recs in zonedata.items():
        has_txt = any(isinstance(r, dict) and "TXT" in r for r in recs)
        types = set()
        timeout = False
        for r in recs:
            if r == "TIMEOUT":
                timeout = True
                continue
            for t, v in r.items():
                if t == "SPF":
                    if has_txt:
                        continue
                    t = "TXT"
                if t == "TXT" and v == "NONE":
                    continue
                types.add(t)
                if t == "TXT":
                    rdata = txt_rdata(v)
                elif t == "MX":
                    rdata = "%d %s." % (v[0], v[1]) if v[1] else "%d ." % v[0]
                elif t in ("PTR", "CNAME"):
                    rdata = v if v.endswith(".") else v + "."
                else:
                    rdata = str(v)
                lines.append("%s\t%s\t%s" % (owner(name), t, rdata))
        if timeout and "CNAME" not in types:
            for t in TIMEOUT_TYPES:
                if t not in types:
                    lines.append("%s\t%s\tTIMEOUT" % (owner(name), t))
    return lines


def run(recfile, test):
    cmd = [SPFCHECK, "-d", recfile, str(test["host"]),
           test.get("mailfrom", ""), str(test.get("helo", ""))]
    p = subprocess.run(cmd, capture_output=True, timeout=30)
    out = {}
    for line in p.stdout.decode("utf-8", "replace").splitlines():
        k, _, v = line.partition(": ")
        out[k] = v
    return p.returncode, out, p.stderr.decode("utf-8", "replace")


def check(recfile, name, test):
    want = test["result"]
    want = want if isinstance(want, list) else [want]
    rc, out, err = run(recfile, test)
    got = out.get("result")
    problems = []
    if rc != 0:
        problems.append("spfcheck exit %d: %s" % (rc, err.strip()))
    elif got not in want:
        problems.append("result %s, want %s (%s)" %
                        (got, "/".join(want), out.get("reason")))
    elif "explanation" in test and got == "fail":
        exp = test["explanation"]
        if exp == "DEFAULT":
            if out.get("explanation-default") != "1":
                problems.append("explanation '%s', want the default" %
                                out.get("explanation"))
        elif out.get("explanation") != exp:
            problems.append("explanation '%s', want '%s'" %
                            (out.get("explanation"), exp))
    return problems


def main():
    if not os.path.isfile(SUITE):
        print("1..0 # SKIP %s is missing (set TESTDATA)" % SUITE)
        return 0
    scenarios = list(yaml.safe_load_all(open(SUITE, "rb")))
    n = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for i, sc in enumerate(scenarios):
            recfile = os.path.join(tmp, "zone%d" % i)
            with open(recfile, "w", encoding="ascii") as f:
                f.write("\n".join(zone_lines(sc["zonedata"])) + "\n")
            for name in sorted(sc["tests"]):
                test = sc["tests"][name]
                problems = check(recfile, name, test)
                n += 1
                if problems:
                    failed += 1
                    print("not ok %d - %s: %s" % (n, name,
                          " ".join(str(test.get("description", "")).split())[:60]))
                    for p in problems:
                        print("# %s" % p)
                else:
                    print("ok %d - %s" % (n, name))
                sys.stdout.flush()
    print("1..%d" % n)
    if failed:
        print("# %d of %d suite tests failed" % (failed, n))
    return 1 if failed or n != 203 else 0


if __name__ == "__main__":
    sys.exit(main())

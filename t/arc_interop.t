#!/usr/bin/python3
# arc_interop.t - ARC chains of 1 to 5 hops mixing two sealers, each hop
# validated by both validators
#
# The sealers: our library (t/tools/arctool seal) and python3-dkim's
# dkim.arc_sign (Debian's python3-dkim).  Each hop prepends a Received
# field and, as an MTA's validator would, an Authentication-Results field
# with the chain status it found (dkim.arc_sign reads the status from
# there), then seals with its own domain and key (RSA 1024 and 2048 bits,
# relaxed/relaxed).  After every hop the chain must pass in both
# validators (arctool verify and dkim.arc_verify), and ours must report
# oldest-pass 0 from two sets on.  At the end of each chain a changed body
# must fail in both, and the failed chain sealed once more (by the
# library, cv=fail) must still fail in both.  Keys come from
# t/data/arcd/arc.zone through a key file, no DNS.
import os
import re
import subprocess
import sys
import tempfile

BUILD = os.environ.get("BUILD", os.path.abspath("build/plain"))
ARCTOOL = os.path.join(BUILD, "t", "tools", "arctool")
ZONE = "t/data/arcd/arc.zone"
KEYS = {"rsa": "t/data/dkim/rsa1024.pem", "big": "t/data/dkim/rsa2048.pem"}
HDRS = "from:to:subject:date:message-id"

try:
    import dkim
except ImportError:
    print("1..0 # SKIP python3-dkim is not installed")
    sys.exit(0)
if not os.access(ARCTOOL, os.X_OK):
    print("1..0 # SKIP %s not built" % ARCTOOL)
    sys.exit(0)

n = 0
failed = 0


def tap(ok, name, diag=""):
    global n, failed
    n += 1
    print("%sok %d - %s" % ("" if ok else "not ", n, name))
    if not ok:
        failed += 1
        for line in str(diag).splitlines():
            print("# " + line)
    sys.stdout.flush()


def zone_keys():
    keys = {}
    for line in open(ZONE):
        m = re.match(r"^(\S+)\s+IN\s+TXT\s+(.*)$", line)
        if m and "_domainkey" in m.group(1):
            keys[m.group(1) + ".arc.test"] = "".join(
                re.findall(r'"([^"]*)"', m.group(2)))
    return keys


KEYREC = zone_keys()


def dnsfunc(name, timeout=5):
    rec = KEYREC.get(name.decode().rstrip(".").lower())
    return rec.encode() if rec is not None else None


def ours(msg, keyfile):
    p = subprocess.run([ARCTOOL, "verify", "-k", keyfile], input=msg,
                       stdout=subprocess.PIPE, timeout=60)
    return p.stdout.decode().strip()


def theirs(msg):
    cv, _, why = dkim.arc_verify(msg, dnsfunc=dnsfunc)
    return (cv or b"fail").decode(), why


def hop_header(msg, k, status):
    return (b"Authentication-Results: hop%d.arc.test; arc=%s\r\n"
            b"Received: from hop%d.example by hop%d.example; "
            b"Thu, 3 Dec 2026 08:%02d:00 +0000\r\n" %
            (k, status.encode(), k - 1, k, k)) + msg


def seal_ours(msg, k, sel, keyfile):
    p = subprocess.run([ARCTOOL, "seal", "-k", keyfile, "-K", KEYS[sel],
                        "-d", "arc.test", "-s", sel, "-a",
                        "hop%d.arc.test" % k, "-h", HDRS, "-w",
                        "-t", str(1764748800 + k)],
                       input=msg, stdout=subprocess.PIPE, timeout=60)
    return p.returncode, p.stdout.replace(b"\r\n", b"\n").replace(
        b"\n", b"\r\n")


def seal_theirs(msg, k, sel):
    out = dkim.arc_sign(msg, sel.encode(), b"arc.test",
                        open(KEYS[sel], "rb").read(),
                        ("hop%d.arc.test" % k).encode(),
                        include_headers=[h.encode() for h in HDRS.split(":")],
                        timestamp=1764748800 + k)
    return (0 if out else 3), b"".join(out) + msg


BASE = (b"From: Alice <alice@origin.example>\r\nTo: list@arc.test\r\n"
        b"Subject: interop\r\nDate: Thu, 3 Dec 2026 08:00:00 +0000\r\n"
        b"Message-ID: <interop@origin.example>\r\n\r\n"
        b"Hello from the origin.\r\nSecond line.\r\n")
CHAINS = ["L", "P", "LP", "PL", "LPL", "PLP", "LLPP", "PLPL", "LPLPL",
          "PPLLP"]

with tempfile.TemporaryDirectory() as tmp:
    keyfile = os.path.join(tmp, "keys")
    with open(keyfile, "w") as f:
        for name, rec in KEYREC.items():
            f.write("%s %s\n" % (name, rec))
    for chain in CHAINS:
        msg = BASE
        status = "none"
        for k, who in enumerate(chain, 1):
            sel = "rsa" if k % 2 else "big"
            msg = hop_header(msg, k, status)
            if who == "L":
                rc, msg = seal_ours(msg, k, sel, keyfile)
            else:
                rc, msg = seal_theirs(msg, k, sel)
            name = "%s hop %d (%s, s=%s)" % (chain, k, "library" if
                                             who == "L" else "python3-dkim",
                                             sel)
            got = ours(msg, keyfile)
            want = "arc=pass" + (" oldest-pass=0" if k > 1 else "")
            tap(rc == 0 and got == want, name + ": library: " + want,
                "rc %d, got %s" % (rc, got))
            cv, why = theirs(msg)
            tap(cv == "pass", name + ": python3-dkim: pass", why)
            status = "pass"
        bad = msg.replace(b"Second line.", b"Second line, changed.")
        got = ours(bad, keyfile)
        cv, why = theirs(bad)
        tap(got.startswith("arc=fail") and cv == "fail",
            "%s, body changed: both say fail" % chain,
            "library: %s; python3-dkim: %s %s" % (got, cv, why))
        rc, sealed = seal_ours(hop_header(bad, 9, "fail"), 9, "rsa", keyfile)
        got = ours(sealed, keyfile)
        cv, why = theirs(sealed)
        tap(rc == 0 and b"cv=fail" in sealed and got.startswith("arc=fail")
            and cv == "fail", "%s, sealed with cv=fail: both still say fail"
            % chain, "rc %d library: %s; python3-dkim: %s %s" % (rc, got,
                                                                 cv, why))
print("1..%d" % n)
sys.exit(1 if failed else 0)

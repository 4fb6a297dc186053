# arcchain.py - ARC chains for the interop tests (t/arc_interop.t,
# t/arc_openarc.t): TAP output, the keys of t/data/arcd/arc.zone, a hop's
# header fields, sealing and validating with our library (t/tools/arctool)
# and with python3-dkim.  Imported with t/lib on sys.path; importing it
# fails with ImportError when python3-dkim is missing.
import os
import re
import subprocess
import sys

import dkim

BUILD = os.environ.get("BUILD", os.path.abspath("build/plain"))
ARCTOOL = os.path.join(BUILD, "t", "tools", "arctool")
ZONE = "t/data/arcd/arc.zone"
KEYS = {"rsa": "t/data/dkim/rsa1024.pem", "big": "t/data/dkim/rsa2048.pem"}
HDRS = "from:to:subject:date:message-id"


class Tap:
    """numbered TAP lines, the plan at the end"""

    def __init__(self):
        self.n = 0
        self.failed = 0

    def __call__(self, ok, name, diag=""):
        self.n += 1
        print("%sok %d - %s" % ("" if ok else "not ", self.n, name))
        if not ok:
            self.failed += 1
            for line in str(diag).splitlines():
                print("# " + line)
        sys.stdout.flush()

    def done(self):
        print("1..%d" % self.n)
        return 1 if self.failed else 0


def zone_keys():
    keys = {}
    for line in open(ZONE):
        m = re.match(r"^(\S+)\s+IN\s+TXT\s+(.*)$", line)
        if m and "_domainkey" in m.group(1):
            keys[m.group(1) + ".arc.test"] = "".join(
                re.findall(r'"([^"]*)"', m.group(2)))
    return keys


KEYREC = zone_keys()


def write_keyfile(path):
    """the key records as arctool (and OpenARC's TestKeys) read them"""
    with open(path, "w") as f:
        for name, rec in KEYREC.items():
            f.write("%s %s\n" % (name, rec))


def dnsfunc(name, timeout=5):
    rec = KEYREC.get(name.decode().rstrip(".").lower())
    return rec.encode() if rec is not None else None


def library_verify(msg, keyfile):
    """arctool verify's line: arc=RESULT [oldest-pass=N] [(reason)]"""
    p = subprocess.run([ARCTOOL, "verify", "-k", keyfile], input=msg,
                       stdout=subprocess.PIPE, timeout=60)
    return p.stdout.decode().strip()


def python_verify(msg):
    """python3-dkim's chain status and its reason"""
    cv, _, why = dkim.arc_verify(msg, dnsfunc=dnsfunc)
    return (cv or b"fail").decode(), why


def hop_header(msg, k, status):
    """hop k's Authentication-Results (the status it found) and Received"""
    return (b"Authentication-Results: hop%d.arc.test; arc=%s\r\n"
            b"Received: from hop%d.example by hop%d.example; "
            b"Thu, 3 Dec 2026 08:%02d:00 +0000\r\n" %
            (k, status.encode(), k - 1, k, k)) + msg


def seal_library(msg, k, sel, keyfile):
    p = subprocess.run([ARCTOOL, "seal", "-k", keyfile, "-K", KEYS[sel],
                        "-d", "arc.test", "-s", sel, "-a",
                        "hop%d.arc.test" % k, "-h", HDRS, "-w",
                        "-t", str(1764748800 + k)],
                       input=msg, stdout=subprocess.PIPE, timeout=60)
    return p.returncode, p.stdout.replace(b"\r\n", b"\n").replace(
        b"\n", b"\r\n")


def seal_python(msg, k, sel):
    out = dkim.arc_sign(msg, sel.encode(), b"arc.test",
                        open(KEYS[sel], "rb").read(),
                        ("hop%d.arc.test" % k).encode(),
                        include_headers=[h.encode() for h in HDRS.split(":")],
                        timestamp=1764748800 + k)
    return (0 if out else 3), b"".join(out) + msg

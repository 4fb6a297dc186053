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
import sys
import tempfile

sys.path.insert(0, "t/lib")
try:
    from arcchain import (ARCTOOL, Tap, hop_header, library_verify,
                          python_verify, seal_library, seal_python,
                          write_keyfile)
except ImportError:
    print("1..0 # SKIP python3-dkim is not installed")
    sys.exit(0)
if not os.access(ARCTOOL, os.X_OK):
    print("1..0 # SKIP %s not built" % ARCTOOL)
    sys.exit(0)

tap = Tap()


BASE = (b"From: Alice <alice@origin.example>\r\nTo: list@arc.test\r\n"
        b"Subject: interop\r\nDate: Thu, 3 Dec 2026 08:00:00 +0000\r\n"
        b"Message-ID: <interop@origin.example>\r\n\r\n"
        b"Hello from the origin.\r\nSecond line.\r\n")
CHAINS = ["L", "P", "LP", "PL", "LPL", "PLP", "LLPP", "PLPL", "LPLPL",
          "PPLLP"]

with tempfile.TemporaryDirectory() as tmp:
    keyfile = os.path.join(tmp, "keys")
    write_keyfile(keyfile)
    for chain in CHAINS:
        msg = BASE
        status = "none"
        for k, who in enumerate(chain, 1):
            sel = "rsa" if k % 2 else "big"
            msg = hop_header(msg, k, status)
            if who == "L":
                rc, msg = seal_library(msg, k, sel, keyfile)
            else:
                rc, msg = seal_python(msg, k, sel)
            name = "%s hop %d (%s, s=%s)" % (chain, k, "library" if
                                             who == "L" else "python3-dkim",
                                             sel)
            got = library_verify(msg, keyfile)
            want = "arc=pass" + (" oldest-pass=0" if k > 1 else "")
            tap(rc == 0 and got == want, name + ": library: " + want,
                "rc %d, got %s" % (rc, got))
            cv, why = python_verify(msg)
            tap(cv == "pass", name + ": python3-dkim: pass", why)
            status = "pass"
        bad = msg.replace(b"Second line.", b"Second line, changed.")
        got = library_verify(bad, keyfile)
        cv, why = python_verify(bad)
        tap(got.startswith("arc=fail") and cv == "fail",
            "%s, body changed: both say fail" % chain,
            "library: %s; python3-dkim: %s %s" % (got, cv, why))
        rc, sealed = seal_library(hop_header(bad, 9, "fail"), 9, "rsa", keyfile)
        got = library_verify(sealed, keyfile)
        cv, why = python_verify(sealed)
        tap(rc == 0 and b"cv=fail" in sealed and got.startswith("arc=fail")
            and cv == "fail", "%s, sealed with cv=fail: both still say fail"
            % chain, "rc %d library: %s; python3-dkim: %s %s" % (rc, got,
                                                                 cv, why))
sys.exit(tap.done())

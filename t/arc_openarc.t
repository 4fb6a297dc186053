#!/usr/bin/python3
# arc_openarc.t - ARC chains mixing three sealers, each hop validated by
# three validators: our library, python3-dkim and the maintained OpenARC
#
# OpenARC is not packaged in Debian; this runs when OPENARC names its
# binary (built from its source; `openarc` on PATH also counts) and
# skips otherwise.  Two OpenARC milters run on 127.0.0.1, on ports
# picked at run time: one sealing (Mode s), one validating (Mode v),
# both reading the keys from a TestKeys file instead of the DNS.  They
# are driven over the milter protocol by t/tools/milterclient, and the
# edits they ask for are applied as an MTA would (t/data/dkimd/apply.py).
#
# The sealers: OpenARC (O), our library (L, t/tools/arctool seal) and
# python3-dkim's dkim.arc_sign (P).  Each hop prepends a Received field
# and an Authentication-Results field with the chain status the previous
# hop found, then seals.  After every hop the chain must pass in all
# three validators (arctool verify, dkim.arc_verify, OpenARC's arc= in
# the Authentication-Results it writes).  At the end of each chain a
# changed body must fail in all three.  Keys come from
# t/data/arcd/arc.zone; the OpenARC processes are stopped by PID.
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
OPENARC = os.environ.get("OPENARC") or shutil.which("openarc") or ""
if not OPENARC or not os.access(OPENARC, os.X_OK):
    print("1..0 # SKIP OpenARC is not installed (set OPENARC to its binary)")
    sys.exit(0)
try:
    from arcchain import (ARCTOOL, BUILD, HDRS, KEYS, Tap, hop_header,
                          library_verify, python_verify, seal_library,
                          seal_python, write_keyfile)
except ImportError:
    print("1..0 # SKIP python3-dkim is not installed")
    sys.exit(0)

MC = os.path.join(BUILD, "t", "tools", "milterclient")
APPLY = "t/data/dkimd/apply.py"
for f in (ARCTOOL, MC):
    if not os.access(f, os.X_OK):
        print("1..0 # SKIP %s not built" % f)
        sys.exit(0)

tap = Tap()


def free_port():
    p = subprocess.run(["t/lib/freeport"], stdout=subprocess.PIPE, text=True)
    return int(p.stdout.strip())


def listening(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


procs = []


def start_openarc(tmp, name, lines):
    port = free_port()
    conf = os.path.join(tmp, name + ".conf")
    with open(conf, "w") as f:
        f.write("Socket inet:%d@127.0.0.1\nBackground false\n"
                "Syslog false\nRequireSafeKeys false\nTestKeys %s\n"
                "PidFile %s\n" % (port, os.path.join(tmp, "keys"),
                                  os.path.join(tmp, name + ".pid")))
        f.write("".join(line + "\n" for line in lines))
    log = open(os.path.join(tmp, name + ".log"), "w")
    p = subprocess.Popen([OPENARC, "-f", "-c", conf], stdout=log,
                         stderr=subprocess.STDOUT)
    procs.append(p)
    for _ in range(100):
        if p.poll() is not None:
            break
        if listening(port):
            return "inet:%d@127.0.0.1" % port
        time.sleep(0.1)
    return None


def milter(tmp, sock, msg):
    """msg through a milter; (edits, message with the edits applied)"""
    src = os.path.join(tmp, "in.eml")
    edits = os.path.join(tmp, "edits")
    with open(src, "wb") as f:
        f.write(msg)
    with open(src, "rb") as i, open(edits, "wb") as o:
        subprocess.run([MC, "-T", "20", "-s", sock, "-i", "192.0.2.1",
                        "-H", "mx.origin.example", "-f",
                        "alice@origin.example", "-r", "list@arc.test"],
                       stdin=i, stdout=o, stderr=subprocess.STDOUT,
                       timeout=60)
    out = subprocess.run(["/usr/bin/python3", APPLY, src, edits],
                         stdout=subprocess.PIPE, timeout=60).stdout
    return open(edits, "rb").read().decode("utf-8", "replace"), out


def ours(msg, keyfile):
    return library_verify(msg, keyfile).split(" ")[0]


def python(msg):
    cv, why = python_verify(msg)
    return "arc=" + cv, why


def openarc(tmp, sock, msg):
    edits, _ = milter(tmp, sock, msg)
    m = re.search(r"Authentication-Results: openarc-v\.arc\.test;.*?"
                  r"arc=(\w+)", edits)
    return ("arc=" + m.group(1)) if m else "none", edits


def seal_openarc(tmp, sock, msg):
    edits, out = milter(tmp, sock, msg)
    ok = "ARC-Seal:" in edits
    return (0 if ok else 1), out.replace(b"\r\n", b"\n").replace(
        b"\n", b"\r\n")


BASE = (b"From: Alice <alice@origin.example>\r\nTo: list@arc.test\r\n"
        b"Subject: interop\r\nDate: Thu, 3 Dec 2026 08:00:00 +0000\r\n"
        b"Message-ID: <openarc@origin.example>\r\n\r\n"
        b"Hello from the origin.\r\nSecond line.\r\n")
CHAINS = ["O", "OL", "LO", "OP", "PO", "OLP", "POL", "LOPO", "OLPLO",
          "POOLP"]
NAMES = {"O": "OpenARC", "L": "library", "P": "python3-dkim"}

tmp = tempfile.mkdtemp(prefix="arc_openarc.")


def stop(*_):
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
    shutil.rmtree(tmp, ignore_errors=True)


signal.signal(signal.SIGTERM, lambda *_: (stop(), sys.exit(1)))
try:
    keyfile = os.path.join(tmp, "keys")
    write_keyfile(keyfile)
    okey = os.path.join(tmp, "openarc.key")
    shutil.copy(KEYS["rsa"], okey)
    os.chmod(okey, 0o600)
    seal_sock = start_openarc(tmp, "seal", [
        "Mode s", "AuthservID openarc-s.arc.test", "Domain list.arc.test",
        "Selector rsa", "KeyFile " + okey, "SignHeaders " + HDRS.replace(
            ":", ",")])
    verify_sock = start_openarc(tmp, "verify", [
        "Mode v", "AuthservID openarc-v.arc.test"])
    tap(seal_sock is not None and verify_sock is not None,
        "OpenARC starts (%s), sealing and validating" % OPENARC,
        "".join(open(os.path.join(tmp, x + ".log")).read()
                for x in ("seal", "verify")))
    if seal_sock is None or verify_sock is None:
        raise SystemExit
    for chain in CHAINS:
        msg = BASE
        status = "none"
        for k, who in enumerate(chain, 1):
            sel = "rsa" if k % 2 else "big"
            msg = hop_header(msg, k, status)
            if who == "L":
                rc, msg = seal_library(msg, k, sel, keyfile)
            elif who == "P":
                rc, msg = seal_python(msg, k, sel)
            else:
                rc, msg = seal_openarc(tmp, seal_sock, msg)
            name = "%s hop %d (%s)" % (chain, k, NAMES[who])
            a = ours(msg, keyfile)
            b, why = python(msg)
            c, edits = openarc(tmp, verify_sock, msg)
            tap(rc == 0 and a == b == c == "arc=pass",
                name + ": library, python3-dkim and OpenARC say arc=pass",
                "rc %d; library %s; python3-dkim %s (%s); OpenARC %s\n%s"
                % (rc, a, b, why, c, edits))
            status = "pass"
        bad = msg.replace(b"Second line.", b"Second line, changed.")
        a = ours(bad, keyfile)
        b, why = python(bad)
        c, edits = openarc(tmp, verify_sock, bad)
        tap(a == b == c == "arc=fail",
            "%s, body changed: all three say arc=fail" % chain,
            "library %s; python3-dkim %s (%s); OpenARC %s\n%s"
            % (a, b, why, c, edits))
finally:
    stop()
sys.exit(tap.done())

#!/usr/bin/python3
# pyarc.py - python3-dkim's ARC (Debian's python3-dkim), for the tests
#
#	pyarc.py verify MESSAGE KEYS
#		prints "arc=pass|fail|none" and the reason
#	pyarc.py seal MESSAGE KEYS PRIVKEY DOMAIN SELECTOR SRVID TIME HEADERS
#		prints the message with the new set on top; HEADERS is a
#		colon-separated list; exit 3 when dkim adds no set
#
# KEYS has one record a line, "name TXT-value" (as t/tools/arctool reads).
# dkim.arc_sign takes the chain status from the message's
# Authentication-Results under SRVID (arc=...), as its API requires.
import sys

import dkim


def keys_of(path):
    keys = {}
    for line in open(path):
        line = line.rstrip("\n")
        if " " in line:
            name, rec = line.split(" ", 1)
            keys[name.rstrip(".").lower()] = rec.encode()
    return keys


def main():
    cmd, msg_path, keys_path = sys.argv[1:4]
    msg = open(msg_path, "rb").read()
    keys = keys_of(keys_path)

    def dnsfunc(name, timeout=5):
        return keys.get(name.decode().rstrip(".").lower())

    if cmd == "verify":
        cv, res, why = dkim.arc_verify(msg, dnsfunc=dnsfunc)
        print("arc=%s (%s)" % ((cv or b"fail").decode(), why))
        return 0
    priv, domain, sel, srvid, when, hdrs = sys.argv[4:10]
    hl = [h.encode() for h in hdrs.split(":")]
    out = dkim.arc_sign(msg, sel.encode(), domain.encode(),
                        open(priv, "rb").read(), srvid.encode(),
                        include_headers=hl, timestamp=int(when))
    if not out:
        sys.stdout.buffer.write(msg)
        return 3
    sys.stdout.buffer.write(b"".join(out) + msg)
    return 0


sys.exit(main())

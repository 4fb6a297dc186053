# pyverify.py - verify every DKIM-Signature of a message with python3-dkim
#
# Usage: /usr/bin/python3 pyverify.py DNS-PORT MESSAGE-FILE
#
# Key records are looked up in DNS through dnspython, asking the server at
# 127.0.0.1 port DNS-PORT directly (no system resolver), so the records
# come over the same path as the milter's: UDP, or TCP when truncated, and
# TXT values split into several strings are joined here as RFC 6376
# section 3.6.2.2 says.
#
# Prints one line per signature, in header order:
#	pass|fail a=ALGORITHM d=DOMAIN s=SELECTOR strings=N
# where N is the number of character-strings the TXT record came in.
# Exits 0 when every signature passes and there is at least one.
import sys

import dkim
import dns.message
import dns.query
import dns.rdatatype

port = int(sys.argv[1])
strings = {}


def dnsfunc(name, timeout=5):
    """TXT data of name, strings joined; None if there is none."""
    if isinstance(name, bytes):
        name = name.decode()
    q = dns.message.make_query(name, dns.rdatatype.TXT)
    r, _ = dns.query.udp_with_fallback(q, "127.0.0.1", timeout=timeout,
                                      port=port)
    for rrset in r.answer:
        if rrset.rdtype == dns.rdatatype.TXT:
            parts = list(rrset)[0].strings
            strings[name.rstrip(".").lower()] = len(parts)
            return b"".join(parts)
    return None


def tags(value):
    """The tag=value pairs of a DKIM-Signature value."""
    out = {}
    for item in value.decode().replace("\r", "").replace("\n", "").split(";"):
        k, _, v = item.strip().partition("=")
        out[k.strip()] = v.strip()
    return out


msg = open(sys.argv[2], "rb").read()
d = dkim.DKIM(msg, minkey=1024)
sigs = [v for (k, v) in d.headers if k.lower() == b"dkim-signature"]
ok = len(sigs) > 0
for i, v in enumerate(sigs):
    t = tags(v)
    try:
        res = d.verify(idx=i, dnsfunc=dnsfunc)
    except dkim.DKIMException as e:
        res = False
        print("# %s" % e)
    qname = "%s._domainkey.%s" % (t.get("s", ""), t.get("d", ""))
    print("%s a=%s d=%s s=%s strings=%d" % ("pass" if res else "fail",
          t.get("a"), t.get("d"), t.get("s"),
          strings.get(qname.lower(), 0)))
    ok = ok and res
sys.exit(0 if ok else 1)

#!/usr/bin/python3
# spf_diff.t - differential test of spfcheck against Debian's python3-spf
#
# A seeded generator builds CASES scenarios: SPF records mixing every
# mechanism, qualifiers, macros, dual CIDR lengths, include:, redirect=,
# exp=, unknown modifiers, void lookups, timeouts and occasional syntax
# errors, over IPv4, IPv6 and IPv4-mapped clients, with the zone data they
# need.  Each scenario is answered by pyspf (its DNS replaced through the
# spf.DNSLookup hook, as its own test suite does) and by
# $BUILD/t/tools/spfcheck (the same data as a record file).  Any difference
# in result, or in the exp= explanation of a fail, is a failed test point
# that prints the scenario.
#
# The generator stays out of the corners where pyspf reads RFC 7208
# differently from us, each on purpose:
#  - pyspf counts a void lookup for every empty DNS answer (the address
#    lookups of MX hosts and PTR names, %{p}); RFC 7208 4.6.4 counts terms.
#    So every MX host and PTR name has A and AAAA records, and %{p} is
#    used only when the client has a PTR record.
#  - pyspf counts redirect= against the 10-lookup limit when the record is
#    parsed, even when a mechanism matches first; we count it when it is
#    used.  Scenarios with redirect= keep every record tree within 9 lookups.
#  - pyspf turns a PTR timeout into temperror (RFC 7208 5.5: no match), and
#    looks up every MX host before matching: no timeouts on PTR data or MX
#    hosts.
#  - pyspf rejects an unknown modifier that appears twice; RFC 7208 6
#    forbids repeating only redirect= and exp=.  Unknown modifiers are
#    not repeated.
#  - pyspf rejects include: of the record's own domain when parsing; we
#    find the loop only if evaluation gets there.  No self-includes.
#  - pyspf caches %{p} for the whole check and takes "0" digits as a
#    transformer: %{p} names are validated at most once, no %{x0}.
import os
import random
import socket
import subprocess
import sys
import tempfile

try:
    import spf
except ImportError:
    print("1..1\nnot ok 1 - python3-spf is installed (make deps)")
    sys.exit(1)

BUILD = os.environ.get("BUILD", os.path.abspath("build/plain"))
SPFCHECK = os.path.join(BUILD, "t", "tools", "spfcheck")
CASES = int(os.environ.get("SPF_DIFF_CASES", "600"))
SEED = int(os.environ.get("SPF_DIFF_SEED", "7208"))
RECEIVER = "mx.receiver.example"
PY_DEFAULT_EXP = "SPF fail - not authorized"

V4 = ["192.0.2.1", "192.0.2.77", "198.51.100.7", "203.0.113.200"]
V6 = ["2001:db8::1", "2001:db8::cb01", "2001:db8:1::5", "2001:db8:ffff::9"]
DOMAINS = ["d%d.example" % i for i in range(7)]
VOIDS = ["void%d.example" % i for i in range(4)]
LOCALS = ["alice", "bob-smith", "c.d"]
HOSTS = ["mx%d.example" % i for i in range(5)]

zone = {}       # (name, type) -> list of values, or "TIMEOUT"


def add(name, rtype, value):
    zone.setdefault((name.lower(), rtype), []).append(value)


def rev4(ip):
    return ".".join(reversed(ip.split(".")))


def nibbles(ip):
    return ".".join(socket.inet_pton(socket.AF_INET6, ip).hex().upper())


class Gen:
    def __init__(self, rnd, ip, local):
        self.r = rnd
        self.ip = ip
        self.v6 = ":" in ip and not ip.startswith("::ffff:")
        self.ip4 = ip[7:] if ip.startswith("::ffff:") else ip
        self.local = local
        self.has_ptr = False
        self.ptr_domain = "none.example"

    def pick(self, seq):
        return self.r.choice(seq)

    def qual(self):
        return self.pick(["", "", "+", "-", "~", "?"])

    def cidr(self):
        c = self.r.random()
        if c < 0.6:
            return ""
        if c < 0.75:
            return "/%d" % self.pick([0, 8, 16, 24, 30, 32])
        if c < 0.9:
            return "//%d" % self.pick([0, 32, 48, 64, 128])
        return "/%d//%d" % (self.pick([0, 16, 24, 32]),
                            self.pick([0, 48, 64, 128]))

    def macro_target(self):
        """exists: targets built from macros, and sometimes present."""
        forms = [
            ("%{l}.m.example", self.local.replace(".", ".")),
            ("%{ir}.%{v}.m.example",
             (rev4(self.ip4) + ".in-addr") if not self.v6 else
             ".".join(reversed(nibbles(self.ip).split("."))) + ".ip6"),
            ("%{i}.m.example", self.ip4 if not self.v6 else nibbles(self.ip)),
            ("%{d2}.m.example", None),
            ("%{o}.m.example", "d0.example"),
            ("%{l1r-}.m.example", self.local.split("-")[0]),
            ("%{L}.m.example", self.local),
        ]
        if self.has_ptr:
            forms.append(("%{p}.m.example", None))
        spec, value = self.pick(forms)
        if value is not None and self.r.random() < 0.5:
            add(value + ".m.example", "A", "127.0.0.2")
        return spec

    def term(self, depth, domain):
        c = self.r.random()
        q = self.qual()
        dom = self.pick(DOMAINS[1:] + VOIDS[:2])
        if c < 0.12:
            return q + "all"
        if c < 0.27 and depth < 3:
            return q + "include:" + self.pick(
                [d for d in DOMAINS[1:] + VOIDS[:1] if d != domain])
        if c < 0.42:
            return q + "a" + self.pick(["", ":" + dom]) + self.cidr()
        if c < 0.52:
            return q + "mx" + self.pick(["", ":" + dom]) + self.cidr()
        if c < 0.62:
            return q + "ptr" + self.pick(["", ":" + self.pick(DOMAINS),
                                          ":" + self.ptr_domain])
        if c < 0.68:
            return "%sip4:%s/%d" % (q, self.pick(V4), self.pick(
                [8, 16, 24, 30, 32, 32]))
        if c < 0.78:
            return "%sip6:%s/%d" % (q, self.pick(V6), self.pick(
                [16, 32, 48, 64, 128, 128]))
        if c < 0.9:
            return q + "exists:" + (self.macro_target()
                                    if self.r.random() < 0.7 else dom)
        if c < 0.98:
            return self.pick(["foo=bar", "x-y.z=%{d}", "v2=1"])
        return self.pick(["ip4:1.2.3.4/33", "a:museum", "bogus",
                          "exists:%{q}.example", "ip6:::1//64",
                          "a//129", "mx/33", "all:x"])

    def record(self, domain, depth):
        if depth < 2 and self.r.random() < 0.1:
            # many DNS terms: the 10-lookup limit, across include:
            terms = ["a:%s" % self.pick(HOSTS) for _ in range(
                self.r.randint(4, 12))]
            terms.insert(self.r.randint(0, len(terms)), "include:" +
                         self.pick([d for d in DOMAINS[1:] if d != domain]))
            return " ".join(["v=spf1"] + terms + [self.qual() + "all"])
        n = self.r.randint(0, 5)
        terms = [self.term(depth, domain) for _ in range(n)]
        if self.r.random() < 0.2:
            terms.append("redirect=" + self.pick(DOMAINS[1:] + VOIDS[:1]))
        if self.r.random() < 0.5:
            terms.append("exp=exp." + domain)
            add("exp." + domain, "TXT", self.pick([
                ["%{i} may not send for %{d} (%{l}@%{o}, %{v})"],
                ["See http://%{d}/why?s=%{S}&i=%{I}&r=%{r}"],
                ["Client %{c} ", "rejected by %{d2r}"],
                ["bad %{q} macro"],
            ]))
        seen = set()        # one of each unknown modifier (see above)
        for t in list(terms):
            if t.startswith(("foo=", "x-y.z=", "v2=")):
                if t in seen:
                    terms.remove(t)
                seen.add(t)
        self.r.shuffle(terms)
        if self.r.random() < 0.5:
            terms.append(self.pick(["-all", "-all", "~all", "?all"]))
        return " ".join(["v=spf1"] + terms)


def build(rnd):
    zone.clear()
    ip = rnd.choice(V4 + V6 + ["::ffff:" + V4[0], "::ffff:" + V4[2]])
    local = rnd.choice(LOCALS)
    g = Gen(rnd, ip, local)
    fam = "AAAA" if g.v6 else "A"
    if rnd.random() < 0.5:
        g.has_ptr = True
        arpa = (".".join(reversed(nibbles(ip).lower().split("."))) +
                ".ip6.arpa") if g.v6 else rev4(g.ip4) + ".in-addr.arpa"
        names = rnd.sample(["host." + d for d in DOMAINS] + HOSTS[:2],
                           rnd.randint(1, 2))
        g.ptr_domain = names[0].split(".", 1)[1]
        if "." not in g.ptr_domain:
            g.ptr_domain = names[0]
        for i, n in enumerate(names):
            add(arpa, "PTR", n)
            add(n, "A", g.ip4 if i == 0 and not g.v6 and rnd.random() < .7
                else "192.0.2.250")
            add(n, "AAAA", ip if i == 0 and g.v6 and rnd.random() < .7
                else "2001:db8::250")
    for h in HOSTS:
        add(h, "A", rnd.choice(V4))
        add(h, "AAAA", rnd.choice(V6))
    for d in DOMAINS:
        if rnd.random() < (0.97 if d == "d0.example" else 0.9):
            add(d, "TXT", [g.record(d, 0 if d == "d0.example" else 1)])
        if rnd.random() < 0.2:
            add(d, "TXT", ["google-site-verification=xyz"])
        if rnd.random() < 0.03:
            add(d, "TXT", ["v=spf1 -all"])
        for t, pool in (("A", V4), ("AAAA", V6)):
            for _ in range(rnd.choice([0, 0, 1, 2])):
                mine = (ip if g.v6 else V6[0]) if t == "AAAA" else \
                    (V4[0] if g.v6 else g.ip4)
                add(d, t, rnd.choice(pool + [mine]))
        if rnd.random() < 0.5:
            k = 11 if rnd.random() < 0.05 else rnd.randint(1, 3)
            for i in range(k):
                add(d, "MX", (i, rnd.choice(HOSTS)))
        if rnd.random() < 0.04:
            zone[(d, rnd.choice(["A", "AAAA", "MX", "TXT"]))] = "TIMEOUT"
    if rnd.random() < 0.1:
        return ip, "", "d0.example"
    return ip, local + "@d0.example", "helo.example"


def lookups(name, seen):
    """Upper bound of DNS terms in the record tree at name."""
    if name in seen or len(seen) > 12:
        return 99
    recs = zone.get((name, "TXT"))
    if not isinstance(recs, list):
        return 0
    total = 0
    for rec in recs:
        if not rec[0].startswith("v=spf1"):
            continue
        for t in rec[0].split()[1:]:
            t = t.lstrip("+-~?")
            if t.startswith(("include:", "redirect=")):
                total += 1 + lookups(t.split(":" if ":" in t.split("=")[0]
                                             else "=", 1)[1],
                                     seen | {name})
            elif t.startswith(("a", "mx", "ptr", "exists")) and \
                    not t.startswith("all"):
                total += 1
    return total


def has_redirect():
    return any(isinstance(v, list) and any("redirect=" in s[0] for s in v)
               for (n, t), v in zone.items() if t == "TXT")


def py_lookup(name, qtype, strict=True, timeout=None):
    name = name.lower().rstrip(".")
    v = zone.get((name, qtype))
    if v == "TIMEOUT":
        raise spf.TempError("DNS timeout")
    for x in v or []:
        if qtype == "TXT":
            x = tuple(s.encode() for s in x)
        elif qtype == "AAAA":
            x = socket.inet_pton(socket.AF_INET6, x)
        yield ((name, qtype), x)


def record_lines():
    out = []
    for (name, t), vals in sorted(zone.items()):
        if vals == "TIMEOUT":
            out.append("%s\t%s\tTIMEOUT" % (name, t))
            continue
        for v in vals:
            if t == "TXT":
                rd = " ".join('"%s"' % s.replace("\\", "\\\\")
                              .replace('"', '\\"') for s in v)
            elif t == "MX":
                rd = "%d %s." % v
            elif t == "PTR":
                rd = v + "."
            else:
                rd = v
            out.append("%s\t%s\t%s" % (name, t, rd))
    return out


def ours(path, ip, sender, helo):
    p = subprocess.run([SPFCHECK, "-d", path, "-r", RECEIVER, ip, sender,
                        helo], capture_output=True, timeout=20)
    out = {}
    for line in p.stdout.decode().splitlines():
        k, _, v = line.partition(": ")
        out[k] = v
    if p.returncode != 0:
        out["result"] = "exit %d: %s" % (p.returncode, p.stderr.decode())
    return out


def main():
    spf.DNSLookup = py_lookup
    rnd = random.Random(SEED)
    failed = n = 0
    stats = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "records")
        while n < CASES:
            ip, sender, helo = build(rnd)
            if has_redirect() and lookups("d0.example", frozenset()) > 9:
                continue
            n += 1
            with open(path, "w") as f:
                f.write("\n".join(record_lines()) + "\n")
            q = spf.query(i=ip, s=sender, h=helo, receiver=RECEIVER,
                          strict=True)
            pres, _, pexp = q.check()
            got = ours(path, ip, sender, helo)
            stats[pres] = stats.get(pres, 0) + 1
            bad = None
            if got.get("result") != pres:
                bad = "result %s, pyspf %s" % (got.get("result"), pres)
            elif pres == "fail":
                pdef = pexp == PY_DEFAULT_EXP
                if not pdef:
                    stats["exp= text compared"] = stats.get(
                        "exp= text compared", 0) + 1
                odef = got.get("explanation-default") == "1"
                if pdef != odef or (not pdef and
                                    got.get("explanation") != pexp):
                    bad = "explanation '%s', pyspf '%s'" % (
                        got.get("explanation"), pexp)
            if bad:
                failed += 1
                print("not ok %d - case %d agrees with pyspf" % (n, n))
                print("# %s (%s)" % (bad, got.get("reason")))
                print("# client %s sender '%s' helo %s" % (ip, sender, helo))
                for line in record_lines():
                    print("#   %s" % line)
            else:
                print("ok %d - case %d: %s (%s)" % (n, n, pres,
                                                    got.get("reason")))
    print("# results: %s" % ", ".join("%s %d" % kv
                                       for kv in sorted(stats.items())))
    print("1..%d" % n)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

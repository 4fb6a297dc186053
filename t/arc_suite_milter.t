#!/bin/bash
# arc_suite_milter.t - the 171 validation cases of the public ARC suite
# through the daemon: milter-arc (Mode v) over the milter protocol, keys
# served by nsd
#
# t/arc_suite.t runs the suite through the library; this runs the same
# cases through what Postfix talks to.  The scenarios' txt-records (the
# same record for a name in every scenario) become zones example.org and
# example2.org for a private nsd; each message (final line breaks
# removed, as the suite's reference runner does) goes through milterclient
# and the arc= result of the Authentication-Results field milter-arc
# inserts must be the expected one (an empty cv, on the five chains with
# a cv=fail seal, means fail, as in t/arc_suite.t).
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-$(pwd)/build/plain}
TESTDATA=${TESTDATA:-$(cd .. && pwd)/shared/testdata}
MA=$BUILD/bin/milter-arc
MC=$BUILD/t/tools/milterclient
SUITE=$TESTDATA/arc/arc-draft-validation-tests.yml

. t/lib/procs.sh
. t/lib/tap.sh
need_exec "$MA" "$MC"
command -v nsd >/dev/null || PATH=$PATH:/usr/sbin
need_cmd nsd
if [ ! -f "$SUITE" ]; then
	echo "1..0 # SKIP $SUITE is not there"
	exit 0
fi
if ! /usr/bin/python3 -c 'import yaml' 2>/dev/null; then
	echo "1..0 # SKIP python3-yaml is not installed"
	exit 0
fi
T=0
FAILED=0

. t/data/dns/nsd.sh
TMP=$(mktemp -d "${TMPDIR:-/tmp}/arc_suite_milter.XXXXXX") || exit 1
cleanup() {
	stop_procs
	nsd_stop
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'cleanup; exit 1' HUP INT TERM

/usr/bin/python3 - "$SUITE" "$TMP" <<'PY' || { echo "Bail out! cannot read the suite"; exit 1; }
import os, re, sys, yaml
suite, tmp = sys.argv[1:3]
zones = {}
os.mkdir(os.path.join(tmp, "cases"))
n = 0
with open(os.path.join(tmp, "list"), "w") as lst:
    for sc in yaml.safe_load_all(open(suite)):
        for name, rec in sc["txt-records"].items():
            dom = "example2.org" if name.endswith("example2.org") else "example.org"
            rel = name[:-(len(dom) + 1)]
            txt = "".join(str(rec).split("\n"))
            zones.setdefault(dom, {})[rel] = txt
        for name, t in sc["tests"].items():
            n += 1
            want = {"pass": "pass", "fail": "fail", "none": "none",
                    "": "fail"}[str(t.get("cv") or "").strip().lower()]
            msg = re.sub(r"[\r\n]*\Z", "", t["message"] or "")
            with open(os.path.join(tmp, "cases", "%03d.eml" % n), "w") as f:
                f.write(msg + "\n")
            lst.write("%03d %s %s\n" % (n, want, name))
for dom, recs in zones.items():
    with open(os.path.join(tmp, dom + ".zone"), "w") as f:
        f.write("$ORIGIN %s.\n$TTL 300\n@ IN SOA ns hostmaster 1 3600 600 "
                "86400 60\n@ IN NS ns\nns IN A 127.0.0.1\n" % dom)
        for rel, txt in sorted(recs.items()):
            chunks = [txt[i:i + 250] for i in range(0, len(txt), 250)] or [""]
            f.write("%s IN TXT %s\n" % (rel, " ".join(
                '"%s"' % c.replace('"', '\\"') for c in chunks)))
PY

nsd_start example.org "$TMP/example.org.zone" example2.org \
    "$TMP/example2.org.zone" >"$TMP/nsd.out" 2>&1 || {
	echo "Bail out! nsd does not start"; cat "$TMP/nsd.out"; exit 1; }
trap cleanup EXIT
PORT=$(t/lib/freeport)
printf '%s\n' "Socket inet:$PORT@127.0.0.1" "Syslog no" "Mode v" \
    "AuthservID mx.suite.test" "AuthResIP no" "MaximumHeaders 0" \
    "Nameservers 127.0.0.1:$NSD_PORT" "DNSTimeout 2" >"$TMP/arc.conf"
"$MA" -f -c "$TMP/arc.conf" >"$TMP/arc.log" 2>&1 &
PIDS="$PIDS $!"
wait_port "$PORT" $! || { echo "Bail out! milter-arc does not start";
	cat "$TMP/arc.log"; exit 1; }

pass=0
total=0
while read -r num want name; do
	out=$("$MC" -T 20 -s "inet:$PORT@127.0.0.1" -i 192.0.2.1 \
	    <"$TMP/cases/$num.eml" 2>&1)
	got=$(printf '%s\n' "$out" | sed -n 's/^INSHEADER 0 Authentication-Results: mx\.suite\.test; arc=\([a-z]*\).*/\1/p' | head -1)
	total=$((total + 1))
	if [ "$got" = "$want" ]; then
		pass=$((pass + 1))
		ok 0 "$name: arc=$want"
	else
		ok 1 "$name: arc=$want"
		printf '%s\n' "$out" | sed 's/^/#   /' | head -8
	fi
done <"$TMP/list"
echo "# through the daemon: $pass/$total"
echo "1..$T"
exit $FAILED

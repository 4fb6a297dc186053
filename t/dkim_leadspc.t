#!/bin/bash
# dkim_leadspc.t - milter-dkim with MTAs that keep or drop the space
#	after a header field's colon (SMFIP_HDR_LEADSPC offered or not)
#
# Postfix and Sendmail 8.14+ agree to SMFIP_HDR_LEADSPC: header values
# reach the milter from the byte after the colon, and the values it adds
# are written verbatim.  Sendmail before 8.14, several milter proxies and
# test clients do not: they drop one space after the colon and write
# "name: value" back.  milterclient plays both kinds of MTA (-L: the
# second).  With each, and with simple header canonicalization (where one
# space decides):
# - internal mail signed by milter-dkim (RSA and Ed25519, simple/simple),
#   with the header fields the MTA inserts, verifies with python3-dkim;
# - mail signed by python3-dkim (simple/simple, simple/relaxed,
#   relaxed/simple) gets dkim=pass from milter-dkim;
# - the fields milter-dkim adds have exactly one space after the colon.
#
# nsd serves t/data/dkimd/example.jp.zone; every process is stopped by
# PID on exit.  Needs nsd and Debian's python3-dkim (and python3-nacl for
# Ed25519).
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$SRCDIR/build/plain}
MD=$BUILD/bin/milter-dkim
MC=$BUILD/t/tools/milterclient
DT=$BUILD/t/tools/dkimtool
DATA=$SRCDIR/t/data/dkimd
APPLY=$DATA/apply.py
PY=/usr/bin/python3
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}

. "$SRCDIR/t/lib/procs.sh"
need_exec "$MD" "$MC" "$DT"
need_cmd nsd
$PY -c 'import dkim, nacl' 2>/dev/null ||
    { echo "1..0 # SKIP python3-dkim or python3-nacl is missing"; exit 0; }

. "$SRCDIR/t/data/dns/nsd.sh"

T=0
FAILED=0
TMP=$(mktemp -d "${TMPDIR:-/tmp}/dkim_leadspc.XXXXXX") || exit 1
cleanup() {
	stop_procs
	nsd_stop
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'cleanup; exit 1' HUP INT TERM
. "$SRCDIR/t/lib/tap.sh"

cp "$DATA"/rsa2048.pem "$DATA"/ed25519.pem "$DATA"/red.pem "$TMP"/
chmod 600 "$TMP"/*.pem
cat >"$TMP/KeyTable" <<EOF
default._domainkey.blue.example.jp blue.example.jp:default:$TMP/rsa2048.pem
ed._domainkey.blue.example.jp blue.example.jp:ed:$TMP/ed25519.pem
EOF
cat >"$TMP/SigningTable" <<EOF
*@blue.example.jp default._domainkey.blue.example.jp
*@blue.example.jp ed._domainkey.blue.example.jp
EOF
for k in default ed; do
	f=$TMP/rsa2048.pem
	[ $k = ed ] && f=$TMP/ed25519.pem
	echo "$k._domainkey.blue.example.jp $("$DT" record "$f")"
done >"$TMP/keys"

nsd_start example.jp "$DATA/example.jp.zone" || { echo "Bail out! nsd"; exit 1; }
trap cleanup EXIT
PORT=$("$SRCDIR/t/lib/freeport")
cat >"$TMP/milter.conf" <<EOF
Socket			inet:$PORT@127.0.0.1
Syslog			no
AuthservID		mx.blue.example.jp
Canonicalization	simple/simple
InternalHosts		127.0.0.1
KeyTable		refile:$TMP/KeyTable
SigningTable		refile:$TMP/SigningTable
MultipleSignatures	yes
Nameservers		127.0.0.1:$NSD_PORT
DNSTimeout		2
EOF
"$MD" -f -c "$TMP/milter.conf" >"$TMP/milter.log" 2>&1 &
PIDS=$!
wait_port "$PORT" "$PIDS" || { echo "Bail out! milter-dkim did not start";
    cat "$TMP/milter.log"; exit 1; }
S=inet:$PORT@127.0.0.1

# py_verify FILE - python3-dkim's verdict on each signature: "pass N"
py_verify() {
	$PY - "$1" "$TMP/keys" <<'PY'
import sys, dkim
keys = {}
for line in open(sys.argv[2]):
    name, rec = line.rstrip("\n").split(" ", 1)
    keys[name.encode() + b"."] = rec.encode()
msg = open(sys.argv[1], "rb").read()
def dnsfunc(name, timeout=5):
    return keys.get(name if name.endswith(b".") else name + b".")
d = dkim.DKIM(msg)
n = 0
for i in range(msg.count(b"\nDKIM-Signature:") + msg.startswith(b"DKIM-Signature:")):
    n += bool(d.verify(idx=i, dnsfunc=dnsfunc))
print("pass %d" % n)
PY
}

# py_sign CANON MESSAGE - MESSAGE signed by red.example.jp with python3-dkim
py_sign() {
	$PY - "$TMP/red.pem" "$1" "$2" <<'PY'
import sys, dkim
key = open(sys.argv[1], "rb").read()
hc, bc = sys.argv[2].encode().split(b"/")
msg = open(sys.argv[3], "rb").read().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
sig = dkim.sign(msg, b"red", b"red.example.jp", key, canonicalize=(hc, bc),
                include_headers=[b"from", b"to", b"subject", b"date",
                                 b"message-id"])
sys.stdout.buffer.write(sig + msg)
PY
}

for mta in leadspc noleadspc; do
	opt=
	[ $mta = noleadspc ] && opt=-L
	what="MTA keeping the space"
	[ $mta = noleadspc ] && what="MTA dropping the space (-L)"

	# signing
	"$MC" -T 20 $opt -s "$S" -i 127.0.0.1 <"$DATA/internal.eml" \
	    >"$TMP/s-$mta.out" 2>&1
	ok $? "$what: signing: milterclient got a verdict"
	has "$TMP/s-$mta.out" '^INSHEADER 0 DKIM-Signature: v=1; a=rsa-sha256; c=simple/simple;' \
	    "$what: an RSA simple/simple signature, one space after the colon"
	hasnt "$TMP/s-$mta.out" '^[A-Z]+ [0-9 ]*[A-Za-z-]+:  ' \
	    "$what: no field added with two spaces after the colon"
	"$APPLY" "$DATA/internal.eml" "$TMP/s-$mta.out" >"$TMP/signed-$mta.eml"
	is "$(py_verify "$TMP/signed-$mta.eml")" "pass 2" \
	    "$what: python3-dkim verifies the RSA and Ed25519 signatures"

	# verifying
	for canon in simple/simple simple/relaxed relaxed/simple; do
		py_sign $canon "$DATA/external.eml" >"$TMP/ext.eml" \
		    2>"$TMP/py.err"
		ok $? "python3-dkim signs $canon" || sed 's/^/# /' "$TMP/py.err"
		"$MC" -T 20 $opt -s "$S" -i 192.0.2.1 <"$TMP/ext.eml" \
		    >"$TMP/v-$mta.out" 2>&1
		has "$TMP/v-$mta.out" '^INSHEADER 0 Authentication-Results: mx\.blue\.example\.jp;.*dkim=pass' \
		    "$what: python3-dkim's $canon signature: dkim=pass, one space after the colon"
	done
done

echo "1..$T"
exit $FAILED

#!/bin/bash
# dkim_opendkim.t - milter-dkim and OpenDKIM verify each other's signatures
#
# A private nsd serves t/data/dkimd/example.jp.zone.  OpenDKIM
# (/usr/sbin/opendkim, Debian's) runs as a signer for red.example.jp and
# as a verifier, milter-dkim as a signer for blue.example.jp and as a
# verifier, both asking nsd for keys; milterclient plays the MTA and
# t/data/dkimd/apply.py applies the header edits.  Each direction is
# checked with relaxed/simple and simple/simple, and a tampered message
# fails in both.  Skipped when opendkim or nsd is not installed.
#
# Every process started here is killed by its PID on exit.

SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$SRCDIR/build/plain}
MD=$BUILD/bin/milter-dkim
MC=$BUILD/t/tools/milterclient
OPENDKIM=${OPENDKIM:-/usr/sbin/opendkim}
DATA=$SRCDIR/t/data/dkimd
APPLY=$DATA/apply.py
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}

. "$SRCDIR/t/lib/procs.sh"
need_exec "$MD" "$MC" "$OPENDKIM"
need_cmd nsd

. "$SRCDIR/t/data/dns/nsd.sh"

T=0
FAILED=0
# milter-dkim's keys (RequireSafeKeys yes) lie below directories whose
# ancestors root owns and no one else may write (t/lib/knowndir): a
# group-writable directory above TMPDIR would make it refuse them.
TMP=$("$SRCDIR/t/lib/knowndir" -s dkim_opendkim 2>&1) || {
	echo "1..0 # SKIP $TMP"
	exit 0
}

cleanup() {
	stop_procs
	nsd_stop
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'cleanup; exit 1' HUP INT TERM

. "$SRCDIR/t/lib/tap.sh"
mc() {	# mc OUT MESSAGE [milterclient options]
	local out=$1 msg=$2
	shift 2
	"$MC" -T 20 "$@" <"$msg" >"$out" 2>&1
}

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

nsd_start example.jp "$DATA/example.jp.zone" || { echo "Bail out! nsd"; exit 1; }
trap cleanup EXIT
trap 'cleanup; exit 1' HUP INT TERM

# start_opendkim NAME CANON: sign red.example.jp, verify the rest
start_opendkim() {
	local port
	port=$("$SRCDIR/t/lib/freeport")
	cat >"$TMP/$1.conf" <<EOF
Socket			inet:$port@127.0.0.1
Syslog			no
Background		no
Mode			sv
Domain			red.example.jp
KeyFile			$TMP/red.pem
Selector		red
Canonicalization	$2
InternalHosts		127.0.0.1
Nameservers		127.0.0.1@$NSD_PORT
AuthservID		opendkim.test
RequireSafeKeys		no
EOF
	"$OPENDKIM" -f -x "$TMP/$1.conf" >"$TMP/$1.log" 2>&1 &
	PIDS="$PIDS $!"
	wait_port "$port" $! 100 || {
		sed 's/^/# opendkim: /' "$TMP/$1.log"
		echo "Bail out! opendkim did not start"
		exit 1
	}
	eval "${1}_S=inet:$port@127.0.0.1"
}

# start_ours NAME CANON: sign blue.example.jp (RSA and Ed25519), verify
start_ours() {
	local port
	port=$("$SRCDIR/t/lib/freeport")
	cat >"$TMP/$1.conf" <<EOF
Socket			inet:$port@127.0.0.1
Syslog			no
AuthservID		mx.blue.example.jp
Canonicalization	$2
InternalHosts		127.0.0.1
KeyTable		refile:$TMP/KeyTable
SigningTable		refile:$TMP/SigningTable
MultipleSignatures	yes
Nameservers		127.0.0.1:$NSD_PORT
EOF
	"$MD" -f -c "$TMP/$1.conf" >"$TMP/$1.log" 2>&1 &
	eval "${1}_PID=$!"
	PIDS="$PIDS $!"
	wait_port "$port" $! 100 || {
		sed 's/^/# milter-dkim: /' "$TMP/$1.log"
		echo "Bail out! milter-dkim did not start"
		exit 1
	}
	eval "${1}_S=inet:$port@127.0.0.1"
}

start_opendkim odr relaxed/simple
start_opendkim ods simple/simple
start_ours mdr relaxed/simple
start_ours mds simple/simple

for c in r s; do
	case $c in r) canon=relaxed/simple ;; s) canon=simple/simple ;; esac
	eval "od=\$od${c}_S md=\$md${c}_S"

	# OpenDKIM signs, milter-dkim verifies
	mc "$TMP/os$c.out" "$DATA/external.eml" -s "$od" -i 127.0.0.1
	has "$TMP/os$c.out" "^INSHEADER 0 DKIM-Signature: v=1; a=rsa-sha256; c=$canon;" \
	    "$canon: OpenDKIM signs the red.example.jp message"
	"$APPLY" "$DATA/external.eml" "$TMP/os$c.out" >"$TMP/os$c.eml"
	mc "$TMP/mv$c.out" "$TMP/os$c.eml" -s "$md" -i 192.0.2.1
	has "$TMP/mv$c.out" 'Authentication-Results: mx.blue.example.jp;.*dkim=pass .*header.d=red.example.jp.*header.s=red' \
	    "$canon: milter-dkim verifies OpenDKIM's signature (dkim=pass)"
	sed 's/noon/midnight/' "$TMP/os$c.eml" >"$TMP/os$c-bad.eml"
	mc "$TMP/mv$c-bad.out" "$TMP/os$c-bad.eml" -s "$md" -i 192.0.2.1
	has "$TMP/mv$c-bad.out" 'dkim=fail' \
	    "$canon: milter-dkim fails OpenDKIM's signature on a tampered body"

	# milter-dkim signs, OpenDKIM verifies
	mc "$TMP/ms$c.out" "$DATA/internal.eml" -s "$md" -i 127.0.0.1
	ok $(($(grep -c '^INSHEADER 0 DKIM-Signature' "$TMP/ms$c.out") == 2 ? 0 : 1)) \
	    "$canon: milter-dkim signs with RSA and Ed25519"
	"$APPLY" "$DATA/internal.eml" "$TMP/ms$c.out" >"$TMP/ms$c.eml"
	mc "$TMP/ov$c.out" "$TMP/ms$c.eml" -s "$od" -i 192.0.2.1
	has "$TMP/ov$c.out" 'Authentication-Results: opendkim.test;.*dkim=pass [^\\]*header.d=blue.example.jp [^\\]*header.a=rsa-sha256 header.s=default' \
	    "$canon: OpenDKIM verifies milter-dkim's RSA signature (dkim=pass)"
	if grep -q 'header.s=ed' "$TMP/ov$c.out"; then
		has "$TMP/ov$c.out" 'dkim=pass [^\\]*header.a=ed25519-sha256 header.s=ed' \
		    "$canon: OpenDKIM verifies milter-dkim's Ed25519 signature"
	else
		echo "# OpenDKIM reported no Ed25519 result (no Ed25519 support)"
	fi
	sed 's/noon/midnight/' "$TMP/ms$c.eml" >"$TMP/ms$c-bad.eml"
	mc "$TMP/ov$c-bad.out" "$TMP/ms$c-bad.eml" -s "$od" -i 192.0.2.1
	has "$TMP/ov$c-bad.out" 'dkim=fail' \
	    "$canon: OpenDKIM fails milter-dkim's signature on a tampered body"
	hasnt "$TMP/ov$c-bad.out" 'dkim=pass' \
	    "$canon: and reports no pass for it"

	# OpenDKIM's own results survive milter-dkim (another authserv-id)
	"$APPLY" "$TMP/ms$c.eml" "$TMP/ov$c.out" >"$TMP/both$c.eml"
	mc "$TMP/both$c.out" "$TMP/both$c.eml" -s "$md" -i 192.0.2.1
	hasnt "$TMP/both$c.out" '^CHGHEADER' \
	    "$canon: OpenDKIM's Authentication-Results (opendkim.test) are kept"
	ok $(($(grep -o 'dkim=pass' "$TMP/both$c.out" | wc -l) == 2 ? 0 : 1)) \
	    "$canon: milter-dkim passes both of its signatures after OpenDKIM"
done

for n in mdr mds; do
	eval "p=\$${n}_PID"
	kill -TERM "$p"
	wait "$p"
	r=$?
	ok $r "milter-dkim ($n) exits 0 on SIGTERM"
	[ $r -eq 0 ] || { echo "# exit $r; $TMP/$n.log:"; sed 's/^/#   /' "$TMP/$n.log" | tail -30; }
	PIDS=$(echo " $PIDS " | sed "s/ $p / /")
	hasnt "$TMP/$n.log" 'AddressSanitizer|LeakSanitizer|runtime error' \
	    "no sanitizer report from milter-dkim ($n)"
done

echo "1..$T"
exit $FAILED

#!/bin/bash
# arc_milter.t - milter-arc over the milter protocol, with nsd serving keys
#
# Starts nsd with t/data/arcd/arc.zone and milter-arc daemons (the seeds'
# openarc.conf with Mode sv and a symlinked key; Mode unset, deciding by
# InternalHosts; a tiny MaximumHeaders; an unsafe key), drives them with
# milterclient, applies the edits as an MTA would (t/data/dkimd/apply.py)
# and checks: the new ARC set and Authentication-Results at the top in
# that order, arc=none/pass/fail with smtp.remote-ip and
# header.oldest-pass, each hop's result validated by the library
# (arctool) and by python3-dkim, forged results under our authserv-id
# removed, a failed chain sealed once then never again, PeerList clients
# left alone, the mode chosen by InternalHosts, ResponseUnwilling and
# RequireSafeKeys.  Everything on 127.0.0.1, ports picked at run time,
# processes killed by PID.
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-$(pwd)/build/plain}
MA=$BUILD/bin/milter-arc
MC=$BUILD/t/tools/milterclient
AT=$BUILD/t/tools/arctool
DATA=t/data/arcd
APPLY=t/data/dkimd/apply.py
PY=$DATA/pyarc.py

. t/lib/procs.sh
. t/lib/tap.sh
need_exec "$MA" "$MC" "$AT"
command -v nsd >/dev/null || PATH=$PATH:/usr/sbin
need_cmd nsd
T=0
FAILED=0
HAVE_PY=0
/usr/bin/python3 -c 'import dkim' 2>/dev/null && HAVE_PY=1

. t/data/dns/nsd.sh
TMP=$(mktemp -d "${TMPDIR:-/tmp}/arc_milter.XXXXXX") || exit 1
cleanup() {
	stop_procs
	nsd_stop
	rm -rf "$TMP"
}
nsd_start arc.test "$DATA/arc.zone" >"$TMP/nsd.out" 2>&1 || {
	echo "Bail out! nsd does not start"; cat "$TMP/nsd.out"; rm -rf "$TMP"
	exit 1; }
trap cleanup EXIT
trap 'cleanup; exit 1' HUP INT TERM

# the key records as a file, for arctool and python3-dkim
awk '$3 == "TXT" { n = $1 ".arc.test"; $1 = $2 = $3 = ""; gsub(/" "|"/, "");
    sub(/^ +/, ""); print n " " $0 }' "$DATA/arc.zone" >"$TMP/keys"

# the seeds' layout: a copied key directory, reached through a symlink
mkdir -p "$TMP/keys.d/blue.int-design.jp" && chmod 700 "$TMP/keys.d"
cp t/data/dkim/rsa1024.pem "$TMP/keys.d/blue.int-design.jp/default.private"
chmod 600 "$TMP/keys.d/blue.int-design.jp/default.private"
ln -s "$TMP/keys.d/blue.int-design.jp/default.private" "$TMP/fwd.private"
printf '# peers\n192.0.2.99\n' >"$TMP/PeerList"

conf() {	# conf NAME PORT [extra lines]
	local name=$1 port=$2
	shift 2
	{
		echo "Socket inet:$port@127.0.0.1"
		echo "Syslog no"
		echo "Nameservers 127.0.0.1:$NSD_PORT"
		echo "DNSTimeout 2"
		printf '%s\n' "$@"
	} >"$TMP/$name.conf"
}
start() {	# start NAME: a daemon on its own port; S_NAME is its socket
	local port
	port=$(t/lib/freeport)
	conf "$1" "$port" "${@:2}"
	"$MA" -f -c "$TMP/$1.conf" >"$TMP/$1.log" 2>&1 &
	PIDS="$PIDS $!"
	if ! wait_port "$port" $!; then
		echo "# $1 did not start:"; sed 's/^/#   /' "$TMP/$1.log"
	fi
	eval "S_$1=inet:$port@127.0.0.1"
}
mc() {	# mc OUT MESSAGE SOCKET [milterclient options]
	local out=$1 msg=$2 s=$3
	shift 3
	"$MC" -T 20 -s "$s" "$@" <"$msg" >"$out" 2>&1
}
verify_both() {	# verify_both MESSAGE WANT NAME
	local got
	got=$("$AT" verify -k "$TMP/keys" <"$1" | cut -d' ' -f1)
	is "$got" "arc=$2" "$3: the library says arc=$2"
	if [ $HAVE_PY = 1 ]; then
		got=$(/usr/bin/python3 "$PY" verify "$1" "$TMP/keys" 2>&1)
		like "$got" "^arc=$2 " "$3: python3-dkim says arc=$2"
	else
		skip "$3: python3-dkim" "python3-dkim not installed"
	fi
}

SEEDS=(
	"Mode sv"
	"AuthservID blue.int-design.jp"
	"Selector rsa"
	"Domain fwd.arc.test"
	"KeyFile $TMP/fwd.private"
	"SignHeaders to,subject,message-id,date,from,mime-version,dkim-signature"
	"PeerList $TMP/PeerList"
	"FixedTimestamp 1764748800"
)
start seeds "${SEEDS[@]}"
start bymode "AuthservID mx.arc.test" "Selector rsa" "Domain list.arc.test" \
    "KeyFile $TMP/fwd.private" "InternalHosts 127.0.0.1, 10.0.0.0/8"
start small "Mode v" "MaximumHeaders 200" "AuthservID mx.arc.test"

printf '%s\r\n' \
    "Received: from out.sender.example (out.sender.example [198.51.100.7])" \
    "	by mx.blue.int-design.jp (Postfix) with ESMTPS id 4AbC" \
    "Authentication-Results: blue.int-design.jp; arc=pass (forged)" \
    "From: Sender <someone@sender.example>" \
    "To: user@blue.int-design.jp" \
    "Subject: forwarded through ARC" \
    "Date: Thu, 3 Dec 2026 08:00:00 +0000" \
    "Message-ID: <arc-milter-1@sender.example>" \
    "MIME-Version: 1.0" \
    "" \
    "Hello over ARC." >"$TMP/m0.eml"
# this hop's results, as milter-dkim and milter-spf put them above Received
{ printf '%s\r\n' \
    "Authentication-Results: blue.int-design.jp; dkim=pass header.d=sender.example" \
    "Authentication-Results: blue.int-design.jp; spf=pass smtp.mailfrom=sender.example"
  cat "$TMP/m0.eml"; } >"$TMP/m0ar.eml"

# ---- hop 1: no chain yet ----
mc "$TMP/h1.out" "$TMP/m0ar.eml" "$S_seeds" -i 198.51.100.7
has "$TMP/h1.out" '^INSHEADER 0 Authentication-Results: blue.int-design.jp; arc=none smtp.remote-ip=198.51.100.7$' \
    "hop 1: Authentication-Results arc=none with smtp.remote-ip"
has "$TMP/h1.out" '^CHGHEADER 3 Authentication-Results: ?$' \
    "hop 1: the forged arc=pass under our authserv-id (third A-R) is removed"
has "$TMP/h1.out" '^INSHEADER 0 ARC-Seal: i=1; a=rsa-sha256;.*cv=none; d=fwd.arc.test; s=rsa; t=1764748800$' \
    "hop 1: ARC-Seal i=1 cv=none"
has "$TMP/h1.out" '^INSHEADER 0 ARC-Message-Signature: .*h=to:subject:message-id:date:from:mime-version;' \
    "hop 1: the AMS signs the SignHeaders present, in their order"
has "$TMP/h1.out" '^INSHEADER 0 ARC-Authentication-Results: i=1; blue.int-design.jp; arc=none smtp.remote-ip=198.51.100.7;\\n.dkim=pass header.d=sender.example;\\n.spf=pass smtp.mailfrom=sender.example$' \
    "hop 1: the AAR: our arc= first, then this hop's results, not the forged one"
"$APPLY" "$TMP/m0ar.eml" "$TMP/h1.out" >"$TMP/h1.eml"

# the shared scrubber: "id/jobid" (AuthservIDWithJobID's form) is ours too,
# another host's arc= result is not
{ printf '%s\r\n' \
    "Authentication-Results: \"blue.int-design.jp/4AbC\"; arc=pass (forged, job id)" \
    "Authentication-Results: other.example; arc=pass"
  cat "$TMP/m0.eml"; } >"$TMP/mjob.eml"
mc "$TMP/hj.out" "$TMP/mjob.eml" "$S_seeds" -i 198.51.100.7
has "$TMP/hj.out" '^CHGHEADER 1 Authentication-Results: ?$' \
    "forged arc=pass under our authserv-id with a job id is removed"
has "$TMP/hj.out" '^CHGHEADER 3 Authentication-Results: ?$' \
    "  ... and the bare one further down too"
hasnt "$TMP/hj.out" '^CHGHEADER 2 ' "  ... other.example's arc= result stays"
is "$(grep -E '^[A-Za-z-]+:' "$TMP/h1.eml" | head -4 | cut -d: -f1 | tr '\n' ' ')" \
    "ARC-Seal ARC-Message-Signature ARC-Authentication-Results Authentication-Results " \
    "hop 1: the set on top (AS, AMS, AAR), then our Authentication-Results"
verify_both "$TMP/h1.eml" pass "hop 1"

# ---- hop 2: a passing chain of one; the MTA adds its Received ----
hop() {	# hop IN OUT: the message as the next MTA's milters see it
	{ printf 'Received: from prev.example by next.example; %s\r\n' \
	    "Thu, 3 Dec 2026 08:0$((T % 10)):00 +0000"; cat "$1"; } >"$2"
}
hop "$TMP/h1.eml" "$TMP/h1r.eml"
mc "$TMP/h2.out" "$TMP/h1r.eml" "$S_seeds" -i 203.0.113.5
has "$TMP/h2.out" '^INSHEADER 0 Authentication-Results: blue.int-design.jp; arc=pass smtp.remote-ip=203.0.113.5$' \
    "hop 2: arc=pass (no oldest-pass for a single set)"
has "$TMP/h2.out" '^CHGHEADER 1 Authentication-Results: ?$' \
    "hop 2: hop 1's arc= result under the same authserv-id is removed too"
has "$TMP/h2.out" '^INSHEADER 0 ARC-Seal: i=2; .*cv=pass; d=fwd.arc.test;' \
    "hop 2: ARC-Seal i=2 cv=pass"
has "$TMP/h2.out" '^INSHEADER 0 ARC-Authentication-Results: i=2; blue.int-design.jp; arc=pass smtp.remote-ip=203.0.113.5$' \
    "hop 2: the AAR has this hop's result only (the older ones are below Received)"
"$APPLY" "$TMP/h1r.eml" "$TMP/h2.out" >"$TMP/h2.eml"
verify_both "$TMP/h2.eml" pass "hop 2"

# ---- hop 3: oldest-pass ----
mc "$TMP/h3.out" "$TMP/h2.eml" "$S_bymode" -i 192.0.2.20
has "$TMP/h3.out" '^INSHEADER 0 Authentication-Results: mx.arc.test; arc=pass header.oldest-pass=0 smtp.remote-ip=192.0.2.20$' \
    "hop 3 (Mode unset, external client): verify only, header.oldest-pass=0"
hasnt "$TMP/h3.out" 'INSHEADER 0 ARC-Seal' "hop 3: an external client's mail is not sealed"

# ---- internal client with Mode unset: seal only ----
mc "$TMP/h4.out" "$TMP/h2.eml" "$S_bymode" -i 10.1.2.3
has "$TMP/h4.out" '^INSHEADER 0 ARC-Seal: i=3; .*cv=pass; d=list.arc.test;' \
    "internal client (InternalHosts, Mode unset): sealed, i=3"
hasnt "$TMP/h4.out" 'INSHEADER 0 Authentication-Results' \
    "internal client: no Authentication-Results (sign mode only)"
"$APPLY" "$TMP/h2.eml" "$TMP/h4.out" >"$TMP/h4.eml"
verify_both "$TMP/h4.eml" pass "three sets, two sealers"

# ---- a broken chain: sealed once with cv=fail, then never again ----
sed 's/Hello over ARC\./Hello over ARC, with a footer./' "$TMP/h2.eml" \
    >"$TMP/bad.eml"
mc "$TMP/b1.out" "$TMP/bad.eml" "$S_seeds" -i 198.51.100.7
has "$TMP/b1.out" '^INSHEADER 0 Authentication-Results: blue.int-design.jp; arc=fail \(ARC-Message-Signature 2: body hash did not verify\) smtp.remote-ip=198.51.100.7$' \
    "changed body: arc=fail with the reason"
has "$TMP/b1.out" '^INSHEADER 0 ARC-Seal: i=3; .*cv=fail; d=fwd.arc.test;' \
    "changed body: sealed once with cv=fail"
"$APPLY" "$TMP/bad.eml" "$TMP/b1.out" >"$TMP/b1.eml"
verify_both "$TMP/b1.eml" fail "after the cv=fail seal"
mc "$TMP/b2.out" "$TMP/b1.eml" "$S_seeds" -i 198.51.100.7
has "$TMP/b2.out" 'INSHEADER 0 Authentication-Results: blue.int-design.jp; arc=fail' \
    "next hop: still arc=fail"
hasnt "$TMP/b2.out" 'INSHEADER 0 ARC-Seal' "next hop: a chain with cv=fail is not extended"

# ---- PeerList ----
mc "$TMP/p.out" "$TMP/m0.eml" "$S_seeds" -i 192.0.2.99
has "$TMP/p.out" '^ACCEPT( at CONNECT)?' "PeerList client: accepted at connect"
hasnt "$TMP/p.out" 'HEADER' "PeerList client: no edits"

# ---- MaximumHeaders: ResponseUnwilling (reject) ----
mc "$TMP/big.out" "$TMP/h2.eml" "$S_small" -i 192.0.2.20
has "$TMP/big.out" '^REPLYCODE 550 5.7.0 message header larger than MaximumHeaders' \
    "a header over MaximumHeaders: rejected (ResponseUnwilling)"

# ---- RequireSafeKeys ----
cp t/data/dkim/rsa1024.pem "$TMP/open.private"
chmod 644 "$TMP/open.private"
conf unsafe 1 "Mode s" "Selector rsa" "Domain fwd.arc.test" \
    "KeyFile $TMP/open.private"
"$MA" -n -c "$TMP/unsafe.conf" >"$TMP/n.out" 2>&1
has "$TMP/n.out" 'key file .* is readable by others.*RequireSafeKeys' \
    "-n: a key others may read is reported"
start unsafe "Mode s" "Selector rsa" "Domain fwd.arc.test" \
    "KeyFile $TMP/open.private"
mc "$TMP/u.out" "$TMP/m0.eml" "$S_unsafe" -i 127.0.0.1
has "$TMP/u.out" '^REPLYCODE 451 4.7.0 internal error' \
    "mail to seal with an unsafe key: tempfail (ResponseUnable)"
"$MA" -n -c "$TMP/seeds.conf" >"$TMP/n2.out" 2>&1
ok $? "-n: the seeds' configuration (symlinked key) loads"
hasnt "$TMP/n2.out" 'not safe' "-n: the symlinked key in a private directory is safe"
hasnt "$TMP/n2.out" 'publish|match' "-n: the key is published in DNS, and matches"
conf nokey 1 "Mode sv" "Selector nokey" "Domain fwd.arc.test" \
    "KeyFile $TMP/fwd.private"
"$MA" -n -c "$TMP/nokey.conf" >"$TMP/n3.out" 2>&1
has "$TMP/n3.out" 'no key record is published at nokey._domainkey.fwd.arc.test' \
    "-n: a selector with no key in DNS is reported"
conf otherkey 1 "Mode sv" "Selector big" "Domain arc.test" \
    "KeyFile $TMP/fwd.private"
"$MA" -n -c "$TMP/otherkey.conf" >"$TMP/n4.out" 2>&1
has "$TMP/n4.out" 'KeyFile does not match the public key published at big._domainkey.arc.test' \
    "-n: a key that is not the published one is reported"

# ---- every keyword of OpenARC 1.3.0 loads ----
echo "# included" >"$TMP/included.conf"
conf openarc 1 "AuthResComments no" "AuthResIP yes" \
    "AuthservID blue.int-design.jp" "AutoRestart yes" "AutoRestartCount 3" \
    "AutoRestartRate 10/1h" "Background no" "BaseDirectory /var/lib/openarc" \
    "Canonicalization relaxed/simple" "ChangeRootDirectory /var/lib/openarc" \
    "Domain fwd.arc.test" "EnableCoredumps no" "FinalReceiver yes" \
    "FixedTimestamp 1764748800" "Include $TMP/included.conf" \
    "InternalHosts $TMP/PeerList" "KeepTemporaryFiles no" \
    "KeyFile $TMP/fwd.private" "MaximumHeaders 65536" "MilterDebug 0" \
    "MinimumKeySizeRSA 1024" "Mode sv" "OverSignHeaders from" \
    "PeerList 192.0.2.99, 192.0.2.98" "PermitAuthenticationOverrides no" \
    "PidFile $TMP/openarc.pid" "RequireSafeKeys yes" \
    "ResponseDisabled accept" "ResponseUnable tempfail" \
    "ResponseUnwilling reject" "SealHeaderChecks /etc/openarc/checks" \
    "Selector rsa" "SignatureAlgorithm rsa-sha256" "SignatureTTL 0" \
    "SignHeaders to,subject,message-id,date,from,mime-version" \
    "SoftwareHeader no" "SyslogFacility mail" "TemporaryDirectory /tmp" \
    "TestKeys /etc/openarc/testkeys" "UMask 007" "UserID root"
"$MA" -n -c "$TMP/openarc.conf" >"$TMP/n5.out" 2>&1
ok $? "-n: a file with every OpenARC 1.3.0 keyword loads"
for kw in AuthResComments BaseDirectory ChangeRootDirectory \
    EnableCoredumps KeepTemporaryFiles SealHeaderChecks TemporaryDirectory \
    TestKeys AutoRestart; do
	grep -q "$kw has no effect here" "$TMP/n5.out" || echo "# $kw: no warning"
done
ok $(grep -c 'has no effect here' "$TMP/n5.out" | awk '{ print ($1 >= 11) ? 0 : 1 }') \
    "-n: each keyword without effect is named with its reason"
sed 's/^Mode sv/Mode sx/' "$TMP/openarc.conf" >"$TMP/badmode.conf"
"$MA" -n -c "$TMP/badmode.conf" >"$TMP/n6.out" 2>&1
ok $(($? == 1 ? 0 : 1)) "-n: Mode sx is refused"
has "$TMP/n6.out" "Mode: 'sx' is not made of s" "-n: and the message says why"

echo "1..$T"
exit $FAILED

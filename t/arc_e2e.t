#!/bin/sh
# arc_e2e.t - milter-arc in a real Postfix, chained after milter-dkim and
# milter-spf, with nsd serving the keys
#
# A private Postfix (t/lib/rig.sh) with smtpd_milters = milter-dkim,
# milter-spf, milter-arc (last, as milter-arc(8) says), all with one
# AuthservID and Nameservers pointing at the rig's nsd (t/data/arcd/
# arc.zone, plus an SPF record for the sender).  milter-arc has the seeds'
# settings (Mode sv, SignHeaders with dkim-signature, a symlinked key).
# An outside client (127.0.0.2) sends a message carrying a forged
# spf=pass under our authserv-id; it is delivered with the new set on
# top (below only what the delivery agent adds), its AAR holding arc=none
# and this hop's spf= and dkim= results but not the forgery (milter-spf,
# earlier in the chain, removed it: Postfix does not show milters its own
# Received field, so the chain order is what keeps forgeries out), and
# it validates with the library and python3-dkim.
# The delivered copy is sent through again: i=2 cv=pass, arc=pass.  A
# copy changed in transit gets arc=fail and a cv=fail seal.  Needs root,
# postfix and nsd.
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-$(pwd)/build/plain}
MA=$BUILD/bin/milter-arc
AT=$BUILD/t/tools/arctool
PY=t/data/arcd/pyarc.py
RIG_LIB=$(pwd)/t/lib
export RIG_LIB
. t/lib/rig.sh

T=0
FAILED=0
. t/lib/tap.sh

if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP needs root to run a private Postfix"
	exit 0
fi
for p in postfix nsd; do
	if ! command -v $p > /dev/null && ! [ -x /usr/sbin/$p ]; then
		echo "1..0 # SKIP $p is not installed"
		exit 0
	fi
done
for f in "$MA" "$AT" "$BUILD/bin/milter-dkim" "$BUILD/bin/milter-spf"; do
	if ! [ -x "$f" ]; then
		echo "1..0 # SKIP $f is not built"
		exit 0
	fi
done
HAVE_PY=0
/usr/bin/python3 -c 'import dkim' 2>/dev/null && HAVE_PY=1

# listening PORT - succeed once something accepts on 127.0.0.1:PORT
listening()
{
	perl -MIO::Socket::INET -e 'exit(IO::Socket::INET->new(
	    PeerAddr => "127.0.0.1", PeerPort => $ARGV[0], Proto => "tcp")
	    ? 0 : 1)' "$1"
}
# milter NAME BINARY [LINES]: start a milter on a free port; sets PORT_NAME
milter()
{
	_name=$1 _bin=$2
	shift 2
	_port=$("$RIG_LIB/freeport") || return 1
	{
		printf 'Socket inet:%s@127.0.0.1\nSyslog no\n' "$_port"
		printf 'AuthservID mx.rig.test\nDNSTimeout 2\n'
		printf 'Nameservers 127.0.0.1:%s\n' "$RIG_DNS_PORT"
		printf '%s\n' "$@"
	} > "$RIG_DIR/$_name.conf"
	rig_spawn "$_bin" -f -c "$RIG_DIR/$_name.conf"
	_i=0
	while [ $_i -lt 50 ] && ! listening "$_port"; do
		sleep 0.1
		_i=$((_i + 1))
	done
	eval "PORT_$_name=$_port"
	listening "$_port"
}
# both FILE WANT NAME: the library and python3-dkim validate FILE
both()
{
	like "$("$AT" verify -k "$RIG_DIR/keys" < "$1")" "^arc=$2" \
	    "$3: the library says arc=$2"
	if [ $HAVE_PY = 1 ]; then
		like "$(/usr/bin/python3 "$PY" verify "$1" "$RIG_DIR/keys")" \
		    "^arc=$2 " "$3: python3-dkim says arc=$2"
	else
		skip "$3: python3-dkim says arc=$2" "python3-dkim not installed"
	fi
}
# top FILE: the names of the first four header fields after those the
# delivery agent adds
top()
{
	rig_headers "$1" | grep -E '^[A-Za-z-]+:' | cut -d: -f1 |
	    grep -Ev '^(Return-Path|X-Original-To|Delivered-To)$' | head -4 |
	    tr '\n' ' '
}


rig_init
ok $? "rig_init makes a temporary directory"
{ cat t/data/arcd/arc.zone; echo 'sender	IN TXT	"v=spf1 ip4:127.0.0.2 -all"'; } \
    > "$RIG_DIR/arc.zone"
rig_nsd arc.test "$RIG_DIR/arc.zone" > /dev/null 2>&1
ok $? "nsd serves arc.test"
awk '$3 == "TXT" && $1 ~ /_domainkey/ { n = $1 ".arc.test"; $1 = $2 = $3 = "";
    gsub(/" "|"/, ""); sub(/^ +/, ""); print n " " $0 }' t/data/arcd/arc.zone \
    > "$RIG_DIR/keys"

# the seeds' key layout: a private copy of the key directory, a symlink
mkdir -p "$RIG_DIR/arckeys/fwd.arc.test" && chmod 700 "$RIG_DIR/arckeys"
cp t/data/dkim/rsa1024.pem "$RIG_DIR/arckeys/fwd.arc.test/default.private"
chmod 600 "$RIG_DIR/arckeys/fwd.arc.test/default.private"
ln -s "$RIG_DIR/arckeys/fwd.arc.test/default.private" "$RIG_DIR/arc.private"

milter dkim "$BUILD/bin/milter-dkim" "AlwaysAddARHeader yes" &&
    milter spf "$BUILD/bin/milter-spf" &&
    milter arc "$MA" "Mode sv" "Selector rsa" "Domain fwd.arc.test" \
    "KeyFile $RIG_DIR/arc.private" \
    "SignHeaders to,subject,message-id,date,from,mime-version,dkim-signature"
ok $? "milter-dkim, milter-spf and milter-arc start"
RIG_MAILBOXES="alice@rig.test"
RIG_MILTERS="inet:127.0.0.1:$PORT_dkim, inet:127.0.0.1:$PORT_spf, inet:127.0.0.1:$PORT_arc"
export RIG_MAILBOXES RIG_MILTERS
rig_postfix
ok $? "postfix starts with the three milters, milter-arc last"

printf '%s\n' \
    "Authentication-Results: mx.rig.test; spf=pass smtp.mailfrom=paypal.com" \
    "From: Sender <someone@sender.arc.test>" "To: alice@rig.test" \
    "Subject: ARC end to end" "Date: Thu, 3 Dec 2026 08:00:00 +0000" \
    "Message-ID: <arc-e2e-1@sender.arc.test>" "MIME-Version: 1.0" "" \
    "Hello through a real Postfix." > "$RIG_DIR/m0.eml"
out=$(rig_send someone@sender.arc.test 127.0.0.2 alice@rig.test \
    < "$RIG_DIR/m0.eml")
is "$?" 0 "hop 1: accepted ($out)"
f1=$(rig_wait_mail alice@rig.test 20)
ok $? "hop 1: delivered"
f1=${f1:-/dev/null}
like "$(top "$f1")" "ARC-Seal ARC-Message-Signature ARC-Authentication-Results Authentication-Results" \
    "hop 1: the set (AS, AMS, AAR) above this hop's Authentication-Results"
aar=$(rig_header ARC-Authentication-Results "$f1")
like "$aar" '^i=1; mx\.rig\.test; arc=none smtp\.remote-ip=127\.0\.0\.2;' \
    "hop 1: the AAR starts with arc=none and the client's address"
like "$aar" 'spf=pass smtp\.mailfrom=sender\.arc\.test' \
    "hop 1: the AAR carries milter-spf's result"
like "$aar" 'dkim=none' "hop 1: the AAR carries milter-dkim's result"
unlike "$aar" 'paypal' \
    "hop 1: the forged spf=pass (removed by milter-spf) is not carried"
like "$(rig_header Authentication-Results "$f1")" \
    'mx\.rig\.test; arc=none smtp\.remote-ip=127\.0\.0\.2' \
    "hop 1: Authentication-Results arc=none smtp.remote-ip=127.0.0.2"
both "$f1" pass "hop 1"

# hop 2: the delivered copy, through again
out=$(rig_send someone@sender.arc.test 127.0.0.2 alice@rig.test < "$f1")
f2=$(rig_wait_mail alice@rig.test 20)
ok $? "hop 2: delivered"
f2=${f2:-/dev/null}
like "$(rig_header ARC-Seal "$f2" | head -1)" '^i=2; .*cv=pass; d=fwd\.arc\.test;' \
    "hop 2: ARC-Seal i=2 cv=pass on top"
like "$(rig_header Authentication-Results "$f2" | head -1)" \
    '^mx\.rig\.test; arc=pass smtp\.remote-ip=127\.0\.0\.2' \
    "hop 2: arc=pass"
both "$f2" pass "hop 2"

# a copy changed in transit
sed 's/Hello through a real Postfix\./Hello, changed on the way./' "$f2" \
    > "$RIG_DIR/changed.eml"
rig_send someone@sender.arc.test 127.0.0.2 alice@rig.test \
    < "$RIG_DIR/changed.eml" > /dev/null
f3=$(rig_wait_mail alice@rig.test 20)
f3=${f3:-/dev/null}
like "$(rig_header Authentication-Results "$f3" | head -1)" \
    '^mx\.rig\.test; arc=fail \(ARC-Message-Signature 2: body hash did not verify\)' \
    "changed copy: arc=fail with the reason"
like "$(rig_header ARC-Seal "$f3" | head -1)" '^i=3; .*cv=fail; d=fwd\.arc\.test;' \
    "changed copy: sealed once with cv=fail"

if [ $FAILED != 0 ]; then
	rig_log | tail -30 | sed 's/^/# /'
	sed 's/^/# /' "$RIG_DIR/milter-arc.log" 2>/dev/null | tail -20
fi
echo "1..$T"
exit $FAILED

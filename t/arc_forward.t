#!/bin/bash
# arc_forward.t - forwarding that arrives authenticated: two real Postfix
# instances, the forwarder (DKIM verified and re-signed, SPF, ARC sealed,
# SRS by Debian's postsrsd) and a receiver standing in for Gmail (its own
# milter-dkim, milter-spf and milter-arc, verifying only)
#
# The setup (contrib/forwarding/README.md describes it for a production
# host):
#   sender.test (127.0.0.2, DKIM-signed, SPF "ip4:127.0.0.2")
#     -> forwarder mx.fwd.test: virtual_alias_maps user@fwd.test ->
#        bob@gmail.test; smtpd_milters = milter-dkim (verify),
#        milter-spf, milter-dkim (signing everything that arrives with
#        the catch-all "*" SigningTable line, as the MTA keyword allows),
#        milter-arc (Mode sv, last); sender_canonical_maps and
#        recipient_canonical_maps through postsrsd (tcp tables)
#     -> receiver mx.gmail.test (client 127.0.0.1; fwd.test publishes
#        SPF "ip4:127.0.0.1")
# The receiver's copy must show dkim=pass for fwd.test, spf=pass for the
# SRS envelope sender at fwd.test, arc=pass, and the AAR of the
# forwarder's seal must carry the original spf=pass and dkim=pass for
# sender.test.  Needs root, postfix, nsd and postsrsd.
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-$(pwd)/build/plain}
MA=$BUILD/bin/milter-arc
MD=$BUILD/bin/milter-dkim
MS=$BUILD/bin/milter-spf
DT=$BUILD/t/tools/dkimtool
RIG_LIB=$(pwd)/t/lib
export RIG_LIB
. t/lib/rig.sh
T=0
FAILED=0
. t/lib/tap.sh

if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP needs root to run private Postfix instances"
	exit 0
fi
PATH=$PATH:/usr/sbin
for p in postfix nsd postsrsd; do
	if ! command -v $p > /dev/null; then
		echo "1..0 # SKIP $p is not installed"
		exit 0
	fi
done
for f in "$MA" "$MD" "$MS" "$DT"; do
	if ! [ -x "$f" ]; then
		echo "1..0 # SKIP $f is not built"
		exit 0
	fi
done

listening()
{
	perl -MIO::Socket::INET -e 'exit(IO::Socket::INET->new(
	    PeerAddr => "127.0.0.1", PeerPort => $ARGV[0], Proto => "tcp")
	    ? 0 : 1)' "$1"
}
# milter NAME BINARY AUTHSERVID [LINES]: a milter on a free port; PORT_NAME
milter()
{
	local name=$1 bin=$2 id=$3 port i
	shift 3
	port=$("$RIG_LIB/freeport") || return 1
	{
		printf 'Socket inet:%s@127.0.0.1\nSyslog no\n' "$port"
		printf 'AuthservID %s\nDNSTimeout 2\n' "$id"
		printf 'Nameservers 127.0.0.1:%s\n' "$RIG_DNS_PORT"
		printf '%s\n' "$@"
	} > "$RIG_DIR/$name.conf"
	rig_spawn "$bin" -f -c "$RIG_DIR/$name.conf"
	for i in $(seq 50); do
		listening "$port" && break
		sleep 0.1
	done
	eval "PORT_$name=$port"
	listening "$port"
}
key_of()	# key_of NAME: the record of NAME in t/data/dkim/test.keys
{
	sed -n "s/^$1\._domainkey\.example\.com //p" t/data/dkim/test.keys |
	    /usr/bin/python3 -c 'import sys; s = sys.stdin.read().strip()
print(" ".join("\"%s\"" % s[i:i + 250] for i in range(0, len(s), 250)))'
}

rig_init
ok $? "rig_init"
F=$RIG_DIR
rig_zone sender.test > /dev/null <<EOF
@	IN TXT	"v=spf1 ip4:127.0.0.2 -all"
s1._domainkey	IN TXT	$(key_of rsa2048)
EOF
rig_zone fwd.test > /dev/null <<EOF
@	IN TXT	"v=spf1 ip4:127.0.0.1 -all"
default._domainkey	IN TXT	$(key_of rsa1024)
arc._domainkey	IN TXT	$(key_of ed25519)
EOF
rig_nsd sender.test "$F/zones/sender.test.zone" fwd.test \
    "$F/zones/fwd.test.zone" > /dev/null 2>&1
ok $? "nsd serves sender.test and fwd.test"

# keys, private to the milters' user (root here)
mkdir -p "$F/keys" && chmod 700 "$F/keys"
cp t/data/dkim/rsa1024.pem "$F/keys/default.private"
cp t/data/dkim/ed25519.seed "$F/keys/arc.private"
chmod 600 "$F/keys/"*
printf 'fwd.test fwd.test:default:%s\n' "$F/keys/default.private" \
    > "$F/KeyTable"
printf '*\tfwd.test\n' > "$F/SigningTable"

# postsrsd on two free ports
head -c 32 /dev/urandom | base64 > "$F/srs.secret"
chmod 600 "$F/srs.secret"
SRS_F=$("$RIG_LIB/freeport") && SRS_R=$("$RIG_LIB/freeport")
rig_spawn postsrsd -s"$F/srs.secret" -dfwd.test -l127.0.0.1 -4 \
    -f"$SRS_F" -r"$SRS_R"
for i in $(seq 50); do
	listening "$SRS_F" && listening "$SRS_R" && break
	sleep 0.1
done
listening "$SRS_F" && listening "$SRS_R"
ok $? "postsrsd serves its forward and reverse tables"

# the receiver's milters, verifying only (the forwarder connects from
# 127.0.0.1, so nothing here may count that address as internal)
milter g_dkim "$MD" mx.gmail.test "Mode v" "InternalHosts 192.0.2.1" \
    "AlwaysAddARHeader yes" &&
    milter g_spf "$MS" mx.gmail.test "InternalHosts 192.0.2.1" &&
    milter g_arc "$MA" mx.gmail.test "Mode v" "InternalHosts 192.0.2.1"
ok $? "the receiver's milter-dkim, milter-spf and milter-arc start"
# the forwarder's: verify, SPF, re-sign, seal
milter f_dkim "$MD" mx.fwd.test "Mode v" "InternalHosts 192.0.2.1" \
    "AlwaysAddARHeader yes" &&
    milter f_spf "$MS" mx.fwd.test "InternalHosts 192.0.2.1" &&
    milter f_sign "$MD" sign.fwd.test "Mode s" "MTA mx.fwd.test" \
    "KeyTable file:$F/KeyTable" "SigningTable refile:$F/SigningTable" &&
    milter f_arc "$MA" mx.fwd.test "Mode sv" "Domain fwd.test" \
    "Selector arc" "KeyFile $F/keys/arc.private" \
    "SignatureAlgorithm ed25519-sha256" \
    "SignHeaders to,subject,message-id,date,from,mime-version,dkim-signature"
ok $? "the forwarder's milters start"

# the receiver: a second Postfix instance in a directory of its own
mkdir -p "$F/g" && chmod 755 "$F/g" && : > "$F/g/pids"
RIG_DIR=$F/g RIG_MAILBOXES=bob@gmail.test \
    RIG_MILTERS="inet:127.0.0.1:$PORT_g_dkim, inet:127.0.0.1:$PORT_g_spf, inet:127.0.0.1:$PORT_g_arc" \
    RIG_POSTCONF="myhostname = mx.gmail.test" rig_postfix
ok $? "the receiver's Postfix starts"
cat "$F/g/pids" >> "$F/pids"
G_DIR=$RIG_POSTFIX_DIR
G_PORT=$RIG_SMTP_PORT
G_MAIL=$RIG_MAIL
RIG_DIR=$F
trap 'postfix -c "$G_DIR" stop >/dev/null 2>&1; rig_cleanup' EXIT

printf 'user@fwd.test bob@gmail.test\n' > "$F/valias"
printf 'gmail.test smtp:[127.0.0.1]:%s\n' "$G_PORT" > "$F/transport"
RIG_MAILBOXES=alice@rig.test \
    RIG_MILTERS="inet:127.0.0.1:$PORT_f_dkim, inet:127.0.0.1:$PORT_f_spf, inet:127.0.0.1:$PORT_f_sign, inet:127.0.0.1:$PORT_f_arc" \
    RIG_POSTCONF="myhostname = mx.fwd.test
virtual_alias_domains = fwd.test
virtual_alias_maps = texthash:$F/valias
transport_maps = texthash:$F/transport
sender_canonical_maps = tcp:127.0.0.1:$SRS_F
sender_canonical_classes = envelope_sender
recipient_canonical_maps = tcp:127.0.0.1:$SRS_R
recipient_canonical_classes = envelope_recipient, header_recipient" \
    rig_postfix
ok $? "the forwarder's Postfix starts"

# the original message, DKIM-signed by sender.test
printf '%s\n' "From: Someone <someone@sender.test>" "To: user@fwd.test" \
    "Subject: forwarded to Gmail" "Date: Thu, 3 Dec 2026 08:00:00 +0000" \
    "Message-ID: <forward-1@sender.test>" "MIME-Version: 1.0" "" \
    "This message is forwarded and arrives authenticated." \
    > "$F/plain.eml"
"$DT" sign -d sender.test -s s1 -k t/data/dkim/rsa2048.pem \
    < "$F/plain.eml" > "$F/signed.eml"
ok $? "the sender signs the message"
out=$(rig_send someone@sender.test 127.0.0.2 user@fwd.test < "$F/signed.eml")
is "$?" 0 "the forwarder accepts it ($out)"
f=$(RIG_MAIL=$G_MAIL rig_wait_mail bob@gmail.test 30)
ok $? "the receiver gets it"
f=${f:-/dev/null}

ar=$(rig_header Authentication-Results "$f" | grep '^mx\.gmail\.test;')
like "$ar" 'dkim=pass .*header\.d=fwd\.test' \
    "receiver: dkim=pass for fwd.test (re-signed by the forwarder)"
like "$ar" 'spf=pass smtp\.mailfrom=fwd\.test' \
    "receiver: spf=pass for the SRS envelope sender at fwd.test"
like "$ar" 'arc=pass' "receiver: arc=pass"
like "$(rig_header Return-Path "$f")" '^<SRS0[=+-][^@]*=sender\.test=someone@fwd\.test>$' \
    "receiver: the envelope sender is SRS-rewritten (Return-Path)"
aar=$(rig_header ARC-Authentication-Results "$f")
like "$aar" '^i=1; mx\.fwd\.test; arc=none' "the forwarder's AAR: i=1, arc=none"
like "$aar" 'spf=pass smtp\.mailfrom=sender\.test' \
    "the forwarder's AAR carries the original spf=pass"
like "$aar" 'dkim=pass .*header\.d=sender\.test' \
    "the forwarder's AAR carries the original dkim=pass"
like "$(rig_header ARC-Message-Signature "$f")" 'h=to:subject:message-id:date:from:mime-version:dkim-signature' \
    "the seal covers the forwarder's DKIM-Signature (the seeds' SignHeaders)"

if [ $FAILED != 0 ]; then
	echo "# forwarder log:"; rig_log | tail -25 | sed 's/^/#   /'
	echo "# receiver log:"; tail -15 "$F/g/maillog" 2>/dev/null | sed 's/^/#   /'
	echo "# received:"; rig_headers "$f" | sed 's/^/#   /'
	for l in "$F"/*.log; do echo "# $l"; tail -5 "$l" | sed 's/^/#   /'; done
fi
echo "1..$T"
exit $FAILED

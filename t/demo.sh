#!/bin/sh
# demo.sh - show mail passing the milters in a private Postfix on loopback
#
# Usage: BUILD=<build directory> sh t/demo.sh	(what "make demo" runs)
#
# Makes a signing key with milter-dkim-genkey, publishes its record in a
# zone served by nsd, checks it with milter-dkim-testkey, and starts a
# private Postfix on 127.0.0.1 (see t/lib/rig.sh) with milter-dkim in
# between, on its built-in default configuration plus a few command-line
# settings.  Sends one message from an internal client (127.0.0.1,
# alice@example.test writing out to bob@example.org), which milter-dkim
# signs, and one signed message from an outside client (127.0.0.2,
# bob@example.org writing in to alice@example.test), which milter-dkim
# verifies; prints the DKIM fields of each as delivered.  milter-dmarc
# runs after milter-dkim and reads its result: the outside message
# passes DMARC for example.org (p=reject), and a third message, claiming
# to come from example.org without its signature, is rejected.
# milter-arc runs last: it seals the internal client's message (an ARC
# set at the top, carrying this hop's results), and when that sealed
# message comes back in from outside, as a forwarder would pass it on,
# the chain validates (arc=pass).  Then it stops everything.  Needs root.  KEEP=1 keeps the temporary directory
# (keys, zones, logs, mail).
#
# The steps that involve the milters are the demo_* functions below.
cd "$(dirname "$0")/.." || exit 1
RIG_LIB=$(pwd)/t/lib
export RIG_LIB
. t/lib/rig.sh

BUILD=${BUILD:-$(pwd)/build/plain}
DKIMTOOL=$BUILD/t/tools/dkimtool
DOMAIN=example.test		# the domain the internal client signs for
SELECTOR=demo			# its DKIM selector
OUTSIDE=example.org		# the domain of the outside correspondent
OUTSIDE_SELECTOR=mail		# the selector it signs with

# demo_show - print a command line as it is run, programs without their path
demo_show()
{
	echo "\$ $*" | sed "s|$BUILD/bin/||g"
}

# demo_keys - make the signing keys in $RIG_DIR/keys
#	Our key, as an administrator makes it: milter-dkim-genkey writes a
#	fresh RSA 2048 key, $SELECTOR.private, and the record to publish,
#	$SELECTOR.txt.  The outside correspondent's key, with which its
#	message is signed before it is sent, comes from the test tool.
demo_keys()
{
	mkdir -m 700 "$RIG_DIR/keys" || return 1
	set -- "$BUILD/bin/milter-dkim-genkey" -d "$DOMAIN" -s "$SELECTOR" \
	    -D "$RIG_DIR/keys"
	demo_show "$@"
	"$@" > /dev/null || return 1
	sed 's/^/  /' "$RIG_DIR/keys/$SELECTOR.txt" | cut -c 1-76
	"$DKIMTOOL" keygen rsa 2048 \
	    "$RIG_DIR/keys/$OUTSIDE_SELECTOR.$OUTSIDE.private" &&
	    chmod 600 "$RIG_DIR/keys/$OUTSIDE_SELECTOR.$OUTSIDE.private"
}

# demo_records - print the DNS records of DOMAIN beyond SOA and NS
#	For $DOMAIN, a DMARC policy and the entry milter-dkim-genkey wrote;
#	for $OUTSIDE, p=reject and its key record cut into strings of at
#	most 255 bytes as DNS requires.
demo_records()
{
	if [ "$1" = "$DOMAIN" ]; then
		echo "@ IN MX 10 mx.$DOMAIN."
		echo "mx IN A 127.0.0.1"
		echo '_dmarc IN TXT "v=DMARC1; p=quarantine"'
		cat "$RIG_DIR/keys/$SELECTOR.txt"
		return
	fi
	echo '_dmarc IN TXT "v=DMARC1; p=reject"'
	printf '%s._domainkey IN TXT ( ' "$OUTSIDE_SELECTOR"
	"$DKIMTOOL" record "$RIG_DIR/keys/$OUTSIDE_SELECTOR.$OUTSIDE.private" |
	    fold -w 255 | sed 's/.*/"&" /' | tr -d '\n'
	echo ")"
}

# demo_testkey - check the published key with milter-dkim-testkey
demo_testkey()
{
	set -- "$BUILD/bin/milter-dkim-testkey" -d "$DOMAIN" -s "$SELECTOR" \
	    -k "$RIG_DIR/keys/$SELECTOR.private" -n "127.0.0.1:$RIG_DNS_PORT"
	demo_show "$@"
	"$@" 2>&1 | sed 's/^/  /'
}

# demo_milters - start the milters, set RIG_MILTERS for Postfix
#	milter-dkim runs in the foreground under rig_spawn on its built-in
#	default configuration (-C: even if /etc/milter-dkim.conf exists, it
#	is not read): it verifies all mail and signs mail
#	from 127.0.0.1 and ::1.  The command line adds only what this demo
#	needs: the key, selector and domain to sign with, the socket, the
#	demo's DNS server, and no syslog (it logs to $RIG_DIR/milter-dkim.log).
demo_milters()
{
	_m=$BUILD/bin/milter-dkim
	_port=$("$RIG_LIB/freeport") || demo_fail "no free port"
	set -- "$_m" -f -C -d "$DOMAIN" -s "$SELECTOR" \
	    -k "$RIG_DIR/keys/$SELECTOR.private" -p "inet:$_port@127.0.0.1" \
	    -O "Nameservers=127.0.0.1:$RIG_DNS_PORT" -O Syslog=no
	demo_show "$@"
	rig_spawn "$@"
	_i=0
	until grep -qs 'listening on' "$RIG_DIR/milter-dkim.log"; do
		rig__alive "$RIG_SPAWNED" && [ $_i -lt 100 ] || {
			cat "$RIG_DIR/milter-dkim.log" >&2
			demo_fail "milter-dkim did not start"
		}
		sleep 0.1
		_i=$((_i + 1))
	done
	RIG_MILTERS="inet:127.0.0.1:$_port"
	# milter-dmarc, after it: it reads milter-dkim's dkim= result under
	# their common AuthservID (both default to the host name)
	_d=$BUILD/bin/milter-dmarc
	_dport=$("$RIG_LIB/freeport") || demo_fail "no free port"
	set -- "$_d" -f -C -p "inet:$_dport@127.0.0.1" \
	    -O "Nameservers=127.0.0.1:$RIG_DNS_PORT" -O Syslog=no \
	    -O RejectFailures=yes
	demo_show "$@"
	rig_spawn "$@"
	_i=0
	until grep -qs 'listening on' "$RIG_DIR/milter-dmarc.log"; do
		rig__alive "$RIG_SPAWNED" && [ $_i -lt 100 ] || {
			cat "$RIG_DIR/milter-dmarc.log" >&2
			demo_fail "milter-dmarc did not start"
		}
		sleep 0.1
		_i=$((_i + 1))
	done
	RIG_MILTERS="$RIG_MILTERS, inet:127.0.0.1:$_dport"
	# milter-arc, last: it seals what the internal client sends, with
	# milter-dkim's key, and validates the rest
	_a=$BUILD/bin/milter-arc
	_aport=$("$RIG_LIB/freeport") || demo_fail "no free port"
	set -- "$_a" -f -C -p "inet:$_aport@127.0.0.1" -O Mode=sv \
	    -O "Domain=$DOMAIN" -O "Selector=$SELECTOR" \
	    -O "KeyFile=$RIG_DIR/keys/$SELECTOR.private" \
	    -O "Nameservers=127.0.0.1:$RIG_DNS_PORT" -O Syslog=no
	demo_show "$@"
	rig_spawn "$@"
	_i=0
	until grep -qs 'listening on' "$RIG_DIR/milter-arc.log"; do
		rig__alive "$RIG_SPAWNED" && [ $_i -lt 100 ] || {
			cat "$RIG_DIR/milter-arc.log" >&2
			demo_fail "milter-arc did not start"
		}
		sleep 0.1
		_i=$((_i + 1))
	done
	RIG_MILTERS="$RIG_MILTERS, inet:127.0.0.1:$_aport"
}

# demo_fail - show what went wrong and give up
demo_fail()
{
	echo "demo: $*" >&2
	rig_log | tail -n 20 >&2
	exit 1
}

# demo_fields - print header fields NAME... of FILE as delivered, indented
demo_fields()
{
	_file=$1
	shift
	for _name in "$@"; do
		rig_headers "$_file" | awk -v name="$_name" '
			BEGIN { key = tolower(name) ":" }
			/^[ \t]/ { if (keep) print "    " $0; next }
			{ keep = tolower(substr($0, 1, length(key))) == key }
			keep { print "    " $0; found = 1 }
			END { if (!found) print "    (no " name " field)" }'
	done
}

# demo_send - send a message from FROM to RCPT via SOURCE-IP, show its
#	DKIM fields as delivered; with SIGN-KEY, sign it first as FROM's
#	domain with that key (selector $OUTSIDE_SELECTOR)
demo_send()
{
	_from=$1
	_rcpt=$2
	_src=$3
	echo ""
	echo "=== $4: $_from -> $_rcpt, from client $_src"
	{
		echo "From: <$_from>"
		echo "To: <$_rcpt>"
		echo "Subject: demo, $4"
		echo "Date: $(LC_ALL=C date -u '+%a, %d %b %Y %H:%M:%S +0000')"
		echo "Message-ID: <$(date +%s).$$.$_src@${_from#*@}>"
		echo ""
		echo "Hello from the $4."
	} > "$RIG_DIR/message"
	if [ -n "${5:-}" ]; then
		echo "Signed beforehand by ${_from#*@} (selector" \
		    "$OUTSIDE_SELECTOR) with dkimtool."
		"$DKIMTOOL" sign -d "${_from#*@}" -s "$OUTSIDE_SELECTOR" \
		    -k "$5" < "$RIG_DIR/message" > "$RIG_DIR/message.signed" ||
		    demo_fail "dkimtool sign failed"
		mv "$RIG_DIR/message.signed" "$RIG_DIR/message"
	fi
	_reply=$(rig_send "$_from" "$_src" "$_rcpt" < "$RIG_DIR/message") ||
	    demo_fail "$_reply"
	echo "SMTP reply: $_reply"
	_file=$(rig_wait_mail "$_rcpt" 10) || demo_fail "not delivered"
	echo "As delivered to $_rcpt:"
	demo_fields "$_file" DKIM-Signature Authentication-Results
}

rig_init || exit 1
start=$(date +%s)
echo "=== Setup, in $RIG_DIR"
demo_keys || demo_fail "cannot make the keys"
zone=$(demo_records "$DOMAIN" | rig_zone "$DOMAIN")
ozone=$(demo_records "$OUTSIDE" | rig_zone "$OUTSIDE")
rig_nsd "$DOMAIN" "$zone" "$OUTSIDE" "$ozone" || demo_fail "nsd did not start"
echo "nsd serves the zones $DOMAIN and $OUTSIDE on 127.0.0.1 port" \
    "$RIG_DNS_PORT."
demo_testkey
echo "milter-dkim, on its built-in configuration (verify all mail; sign" \
    "mail from 127.0.0.1 and ::1), milter-dmarc and milter-arc, with" \
    "these options:"
demo_milters
RIG_MAILBOXES="alice@$DOMAIN bob@$OUTSIDE"
export RIG_MILTERS RIG_MAILBOXES
rig_postfix || demo_fail "postfix did not start"
echo "Postfix listens on 127.0.0.1 port $RIG_SMTP_PORT, with" \
    "smtpd_milters = $RIG_MILTERS"

demo_send "alice@$DOMAIN" "bob@$OUTSIDE" 127.0.0.1 "internal client"
if rig_header DKIM-Signature "$_file" | grep -q "d=$DOMAIN;"; then
	echo "=> milter-dkim signed it for $DOMAIN."
else
	echo "=> NOT signed: see milter-dkim's log below."
fi
demo_fields "$_file" ARC-Seal ARC-Message-Signature \
    ARC-Authentication-Results
if rig_header ARC-Seal "$_file" | grep -q "d=$DOMAIN;"; then
	echo "=> milter-arc sealed it for $DOMAIN (i=1, cv=none)."
else
	echo "=> NOT sealed: see milter-arc's log below."
fi
sealed=$RIG_DIR/sealed.eml
sed '/^Return-Path:/d; /^Delivered-To:/d' "$_file" > "$sealed"
demo_send "bob@$OUTSIDE" "alice@$DOMAIN" 127.0.0.2 "outside client" \
    "$RIG_DIR/keys/$OUTSIDE_SELECTOR.$OUTSIDE.private"
res=$(rig_header Authentication-Results "$_file" |
    sed -n 's/.*dkim=\([a-z]*\).*/\1/p' | head -n 1)
echo "=> milter-dkim verified the signature: dkim=${res:-(no result)}."
res=$(rig_header Authentication-Results "$_file" |
    sed -n 's/.*dmarc=\([a-z]*\).*/\1/p' | head -n 1)
echo "=> milter-dmarc: dmarc=${res:-(no result)} for $OUTSIDE (p=reject)."
echo ""
echo "=== forged: ceo@$OUTSIDE -> alice@$DOMAIN, from client 127.0.0.2," \
    "not signed"
printf 'From: <ceo@%s>\nTo: <alice@%s>\nSubject: pay this\n\nNow.\n' \
    "$OUTSIDE" "$DOMAIN" > "$RIG_DIR/message"
_reply=$(rig_send "ceo@$OUTSIDE" 127.0.0.2 "alice@$DOMAIN" \
    < "$RIG_DIR/message")
echo "SMTP reply: $_reply"
echo "=> milter-dmarc applied $OUTSIDE's p=reject."
echo ""
echo "=== forwarded: the sealed message comes back in from client" \
    "127.0.0.2, as a forwarder would pass it on"
_reply=$(rig_send "alice@$DOMAIN" 127.0.0.2 "alice@$DOMAIN" < "$sealed") ||
    demo_fail "$_reply"
echo "SMTP reply: $_reply"
_file=$(rig_wait_mail "alice@$DOMAIN" 10) || demo_fail "not delivered"
demo_fields "$_file" Authentication-Results
res=$(rig_header Authentication-Results "$_file" |
    sed -n 's/.*arc=\([a-z]*\).*/\1/p' | head -n 1)
echo "=> milter-arc validated the chain: arc=${res:-(no result)}."
echo ""
echo "milter-dkim's log:"
sed 's/^/  /' "$RIG_DIR/milter-dkim.log"
echo "milter-dmarc's log:"
sed 's/^/  /' "$RIG_DIR/milter-dmarc.log"
echo "milter-arc's log:"
sed 's/^/  /' "$RIG_DIR/milter-arc.log"
echo "Done in $(($(date +%s) - start)) s; stopping nsd, Postfix and" \
    "the milters."
exit 0

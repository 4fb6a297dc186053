#!/bin/sh
# demo.sh - show mail passing the milters in a private Postfix on loopback
#
# Usage: BUILD=<build directory> sh t/demo.sh	(what "make demo" runs)
#
# Starts nsd serving the demo zone and a private Postfix on 127.0.0.1
# (see t/lib/rig.sh), sends one message from an internal client
# (127.0.0.1, alice@example.test writing out to bob@example.org) and one
# from an outside client (127.0.0.2, bob@example.org writing in to
# alice@example.test), prints the header sections as delivered and stops
# everything.  Needs root.  KEEP=1 keeps the temporary directory.
#
# The steps that involve the milters are the demo_* functions below; each
# says what belongs in it.
cd "$(dirname "$0")/.." || exit 1
RIG_LIB=$(pwd)/t/lib
export RIG_LIB
. t/lib/rig.sh

BUILD=${BUILD:-$(pwd)/build/plain}
DOMAIN=example.test		# the domain the internal client signs for
SELECTOR=demo			# its DKIM selector
OUTSIDE=example.org		# the domain of the outside correspondent

# demo_keys - make the signing keys in $RIG_DIR/keys
#	With milter-dkim: generate the DKIM key pair for $SELECTOR.$DOMAIN.
demo_keys()
{
	mkdir -p "$RIG_DIR/keys"
}

# demo_records - print the DNS records of $DOMAIN beyond SOA and NS
#	With milter-dkim: add the $SELECTOR._domainkey TXT record made from
#	the public key written by demo_keys.
demo_records()
{
	echo "@ IN MX 10 mx.$DOMAIN."
	echo "mx IN A 127.0.0.1"
}

# demo_milters - start the milters, set RIG_MILTERS for Postfix
#	With milter-dkim: start $BUILD/milter-dkim/milter-dkim in the
#	foreground with rig_spawn, listening on inet:PORT@127.0.0.1 (a port
#	from "$RIG_LIB/freeport"), signing for $DOMAIN from 127.0.0.1,
#	resolving through nsd at 127.0.0.1 port $RIG_DNS_PORT; then wait for
#	its socket and set RIG_MILTERS="inet:127.0.0.1:PORT".
demo_milters()
{
	RIG_MILTERS=""
}

# demo_fail - show what went wrong and give up
demo_fail()
{
	echo "demo: $*" >&2
	rig_log | tail -n 20 >&2
	exit 1
}

# demo_send - send a message from FROM to RCPT via SOURCE-IP, show headers
demo_send()
{
	_from=$1
	_rcpt=$2
	_src=$3
	echo "=== $4: $_from -> $_rcpt, client $_src"
	_reply=$({
		echo "From: <$_from>"
		echo "To: <$_rcpt>"
		echo "Subject: demo, $4"
		echo "Date: $(LC_ALL=C date -u '+%a, %d %b %Y %H:%M:%S +0000')"
		echo "Message-ID: <$(date +%s).$$.$_src@${_from#*@}>"
		echo ""
		echo "Hello from the $4."
	} | rig_send "$_from" "$_src" "$_rcpt") || demo_fail "$_reply"
	echo "SMTP: $_reply"
	_file=$(rig_wait_mail "$_rcpt" 10) || demo_fail "not delivered"
	echo "--- header as delivered to $_rcpt:"
	rig_headers "$_file"
	echo ""
}

rig_init || exit 1
demo_keys
zone=$(demo_records | rig_zone "$DOMAIN")
rig_nsd "$DOMAIN" "$zone" || demo_fail "nsd did not start"
demo_milters
RIG_MAILBOXES="alice@$DOMAIN bob@$OUTSIDE"
export RIG_MILTERS RIG_MAILBOXES
rig_postfix || demo_fail "postfix did not start"

demo_send "alice@$DOMAIN" "bob@$OUTSIDE" 127.0.0.1 "internal client"
demo_send "bob@$OUTSIDE" "alice@$DOMAIN" 127.0.0.2 "outside client"
exit 0

#!/bin/sh
# spf_e2e.t - milter-spf in a real Postfix, with nsd serving SPF records
#
# A private Postfix (t/lib/rig.sh) with smtpd_milters and
# non_smtpd_milters pointing at milter-spf, whose Nameservers is the
# rig's nsd serving t/data/spfd/spf.zone.  An outside client (127.0.0.2)
# sends: a pass is delivered with Authentication-Results; a fail is
# refused with 550 5.7.23, a HELO fail too; a DNS failure (nsd refuses a
# zone it does not serve) gives 451 4.7.24; postmaster still gets a
# failing message; forged Authentication-Results are removed; an
# internal client and a local submission through sendmail(1) are not
# checked.  Needs root, postfix, nsd and perl's Net::DNS.
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-$(pwd)/build/plain}
MILTER=$BUILD/bin/milter-spf
RIG_LIB=$(pwd)/t/lib
export RIG_LIB
. t/lib/rig.sh

T=0
FAILED=0
. t/lib/tap.sh

# message - a test message with SUBJECT to RCPT, extra header lines on $3
message()
{
	printf '%s' "${3:-}"
	printf 'From: <sender@pass.spf.test>\nTo: <%s>\nSubject: %s\n' \
	    "${2:-alice@rig.test}" "$1"
	printf 'Message-ID: <%s@spf.test>\n' "$(echo "$1" | tr ' ' -)"
	printf 'Date: Mon, 23 Nov 2026 12:00:00 +0000\n\nbody\n'
}

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
if ! [ -x "$MILTER" ]; then
	echo "1..0 # SKIP $MILTER is not built"
	exit 0
fi

echo "1..23"

rig_init
ok $? "rig_init makes a temporary directory"
rig_nsd spf.test t/data/spfd/spf.zone
ok $? "nsd serves spf.test"

# listening PORT - succeed once something accepts on 127.0.0.1:PORT
listening()
{
	perl -MIO::Socket::INET -e 'exit(IO::Socket::INET->new(
	    PeerAddr => "127.0.0.1", PeerPort => $ARGV[0], Proto => "tcp")
	    ? 0 : 1)' "$1"
}

# start_milter - milter-spf on a free port; sets MILTER_PORT
start_milter()
{
	_try=0
	while [ $_try -lt 3 ]; do
		_try=$((_try + 1))
		MILTER_PORT=$("$RIG_LIB/freeport") || return 1
		cat > "$RIG_DIR/milter-spf.conf" <<-EOF
		Socket		inet:$MILTER_PORT@127.0.0.1
		Syslog		no
		AuthservID	mx.rig.test
		Nameservers	127.0.0.1:$RIG_DNS_PORT
		DNSTimeout	3
		InternalHosts	127.0.0.3
		HELO_reject	Fail
		Mail_From_reject	Fail
		TempError_Defer	yes
		EOF
		rig_spawn "$MILTER" -f -c "$RIG_DIR/milter-spf.conf"
		_i=0
		while [ $_i -lt 50 ] && rig__alive "$RIG_SPAWNED"; do
			listening "$MILTER_PORT" && return 0
			sleep 0.1
			_i=$((_i + 1))
		done
		kill "$RIG_SPAWNED" 2> /dev/null
	done
	cat "$RIG_DIR/milter-spf.log" >&2
	return 1
}
start_milter
ok $? "milter-spf starts with Nameservers pointing at nsd"

RIG_MAILBOXES="alice@rig.test postmaster@rig.test"
RIG_MILTERS="inet:127.0.0.1:$MILTER_PORT"
RIG_MILTER_DEFAULT_ACTION=tempfail
export RIG_MAILBOXES RIG_MILTERS RIG_MILTER_DEFAULT_ACTION
rig_postfix
ok $? "postfix starts with smtpd_milters and non_smtpd_milters = milter-spf"

# A pass: delivered with our Authentication-Results.
out=$(message "spf pass" | RIG_HELO=mx.spf.test \
    rig_send sender@pass.spf.test 127.0.0.2 alice@rig.test)
is "$?" 0 "pass: accepted"
f=$(rig_wait_mail alice@rig.test 15)
ok $? "pass: delivered"
ar=$(rig_header Authentication-Results "${f:-/dev/null}")
like "$ar" '^mx\.rig\.test;.*spf=pass smtp\.mailfrom=pass\.spf\.test' \
    "pass: Authentication-Results spf=pass smtp.mailfrom=pass.spf.test"
like "$ar" 'spf=pass smtp\.helo=mx\.spf\.test' \
    "pass: the HELO result recorded as smtp.helo"

# A fail: refused at RCPT, the SMTP client sees 550 5.7.23.
out=$(message "spf fail" | RIG_HELO=mx.spf.test \
    rig_send a@fail.spf.test 127.0.0.2 alice@rig.test)
st=$?
like "$out" "^550 5\.7\.23 SPF MAIL FROM check failed: 127\.0\.0\.2 is not one of fail\.spf\.test's designated mail servers\." \
    "fail: the client sees 550 5.7.23 with the explanation"
is "$st" 1 "fail: smtpsend reports a 5xx refusal"

# A HELO fail.
out=$(message "helo fail" | RIG_HELO=badhelo.spf.test \
    rig_send sender@pass.spf.test 127.0.0.2 alice@rig.test)
like "$out" '^550 5\.7\.23 SPF HELO check failed' \
    "HELO fail: 550 5.7.23 SPF HELO check failed"

# A DNS failure: nsd refuses queries for zones it does not serve.
out=$(message "temperror" | RIG_HELO=mx.spf.test \
    rig_send a@unserved.test 127.0.0.2 alice@rig.test)
st=$?
like "$out" '^451 4\.7\.24 SPF MAIL FROM check: temporary error' \
    "temperror: the client sees 451 4.7.24"
is "$st" 2 "temperror: smtpsend reports a 4xx refusal"

# postmaster gets even a failing message, annotated.
out=$(message "to postmaster" postmaster@rig.test | RIG_HELO=mx.spf.test \
    rig_send a@fail.spf.test 127.0.0.2 postmaster@rig.test)
is "$?" 0 "fail to postmaster: accepted"
f=$(rig_wait_mail postmaster@rig.test 15)
like "$(rig_header Authentication-Results "${f:-/dev/null}")" \
    'spf=fail smtp\.mailfrom=fail\.spf\.test' \
    "fail to postmaster: delivered with spf=fail recorded"

# Forged results claiming our authserv-id are removed.
forged='Authentication-Results: mx.rig.test; spf=pass smtp.mailfrom=paypal.com
Authentication-Results: other.test; spf=none smtp.mailfrom=x.test
'
out=$(message "forged" alice@rig.test "$forged" | RIG_HELO=mx.spf.test \
    rig_send sender@pass.spf.test 127.0.0.2 alice@rig.test)
f=$(rig_wait_mail alice@rig.test 15)
ok $? "forged: delivered"
ars=$(rig_header Authentication-Results "${f:-/dev/null}")
is "$(printf '%s\n' "$ars" | grep -c '^mx\.rig\.test;')" 1 \
    "forged: one Authentication-Results for mx.rig.test remains"
like "$ars" '^mx\.rig\.test;.*smtp\.mailfrom=pass\.spf\.test' \
    "forged: the one that remains is ours"
like "$ars" '^other\.test;' "forged: another authserv-id's field is kept"

# An internal client is not checked.
out=$(message "internal" | RIG_HELO=mx.spf.test \
    rig_send a@fail.spf.test 127.0.0.3 alice@rig.test)
is "$?" 0 "internal client (InternalHosts): a fail is accepted"
f=$(rig_wait_mail alice@rig.test 15)
is "$(rig_header Authentication-Results "${f:-/dev/null}")" "" \
    "internal client: delivered without Authentication-Results"

# A local submission is not checked, though 127.0.0.1 is not internal.
message "local" | sendmail -C "$RIG_POSTFIX_DIR" -f a@fail.spf.test \
    alice@rig.test
f=$(rig_wait_mail alice@rig.test 20)
ok $? "local submission through sendmail(1): delivered"
is "$(rig_header Authentication-Results "${f:-/dev/null}")" "" \
    "local submission: not checked, no Authentication-Results"

if [ $FAILED != 0 ]; then
	rig_log | sed 's/^/# /'
	sed 's/^/# /' "$RIG_DIR/milter-spf.log"
fi
exit $FAILED

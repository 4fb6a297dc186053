#!/bin/sh
# rig.t - the end-to-end rig serves DNS, delivers and rejects mail, cleans up
#
# Starts nsd with two zones and checks TXT, A and NXDOMAIN answers; starts
# a private Postfix without milters, sends from an internal (127.0.0.1)
# and an outside (127.0.0.2) client and checks delivery and the Received
# headers; checks the 5xx answers for an unknown user and for relaying;
# then runs the rig in child shells that exit with failure or are killed
# by SIGTERM and checks that none of their processes survive.
# Needs root, postfix, nsd and perl's Net::DNS.  Safe to run in parallel.
cd "$(dirname "$0")/.." || exit 1
RIG_LIB=$(pwd)/t/lib
export RIG_LIB
. t/lib/rig.sh

T=0
FAILED=0
. t/lib/tap.sh

# message - print a test message with SUBJECT to alice
message()
{
	printf 'From: <sender@example.test>\nTo: <%s>\nSubject: %s\n' \
	    "${2:-alice@rig.test}" "$1"
	printf 'Message-ID: <%s@example.test>\n' "$(echo "$1" | tr ' ' -)"
	printf 'Date: Mon, 23 Nov 2026 12:00:00 +0000\n\n'
	printf 'line one\n.leading dot\n'
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

echo "1..31"

rig_init
ok $? "rig_init makes a temporary directory"

# DNS
z1=$(rig_zone rig.test <<'EOF'
txt	IN TXT	"v=test1; k=value"
host	IN A	192.0.2.1
EOF
)
z2=$(rig_zone example.test <<'EOF'
@	IN TXT	"second zone"
EOF
)
rig_nsd rig.test "$z1" example.test "$z2"
ok $? "nsd starts with two zones"
like "${RIG_DNS_PORT:-}" '^[0-9]+$' "rig_nsd exports RIG_DNS_PORT"
is "$(rig_dig txt.rig.test TXT)" 'NOERROR
"v=test1; k=value"' "TXT record is served"
is "$(rig_dig host.rig.test A)" 'NOERROR
192.0.2.1' "A record is served"
is "$(rig_dig missing.rig.test A)" "NXDOMAIN" "missing name gives NXDOMAIN"
is "$(rig_dig example.test TXT)" 'NOERROR
"second zone"' "second zone is served"

# Postfix
rig_postfix
ok $? "postfix starts"
like "${RIG_SMTP_PORT:-}" '^[0-9]+$' "rig_postfix exports RIG_SMTP_PORT"
out=$("$RIG_LIB/smtpsend" -h 127.0.0.2 -p "$RIG_SMTP_PORT" alice@rig.test \
    < /dev/null 2>&1)
is "$?" 3 "smtpd listens on 127.0.0.1 only"

out=$(message "from inside" | rig_send sender@example.test 127.0.0.1)
st=$?
like "$out" '^250 ' "internal client: message accepted with 250"
is "$st" 0 "internal client: smtpsend exits 0"
out=$(message "from outside" | rig_send sender@example.test 127.0.0.2)
st=$?
like "$out" '^250 ' "outside client: message accepted with 250"
is "$st" 0 "outside client: smtpsend exits 0"

f1=$(rig_wait_mail alice@rig.test 15)
ok $? "first message is delivered to the Maildir"
f2=$(rig_wait_mail alice@rig.test 15)
ok $? "second message is delivered to the Maildir"
# Deliveries may finish in either order; sort them by Subject.
if [ -n "$f1" ] && grep -q '^Subject: from outside' "$f1"; then
	f=$f1 f1=$f2 f2=$f
fi
like "$(rig_header Received "${f1:-/dev/null}")" \
    '^from client\.test \(unknown \[127\.0\.0\.1\]\)' \
    "Received shows internal client 127.0.0.1"
like "$(rig_header Received "${f2:-/dev/null}")" \
    '^from client\.test \(unknown \[127\.0\.0\.2\]\)' \
    "Received shows outside client 127.0.0.2"
is "$(sed '1,/^$/d' "${f1:-/dev/null}")" 'line one
.leading dot' "body arrives intact, leading dot included"
is "$(rig_headers "${f1:-/dev/null}" | grep -c '^Message-ID:')" 1 \
    "rig_headers prints the header section"

out=$(message "unknown" nobody@rig.test |
    rig_send sender@example.test 127.0.0.2 nobody@rig.test)
st=$?
like "$out" '^550 5\.1\.1 ' "unknown user is rejected with 550 5.1.1"
is "$st" 1 "smtpsend exits 1 on a 5xx reply"
out=$(message "relay" someone@elsewhere.test |
    rig_send sender@example.test 127.0.0.2 someone@elsewhere.test)
like "$out" '^554 5\.7\.1 .*Relay access denied' \
    "outside client may not relay"

# rig_postconf returns once the reload is done: the very next connection
# meets the new setting (a process of the old configuration would greet
# with the old banner)
rig_postconf "smtpd_banner = \$myhostname ESMTP reloaded"
ok $? "rig_postconf reloads Postfix and says when it is done"
rig_log | grep -q 'postfix/master.*: reload '
ok $? "by then Postfix has logged its reload"
banner=$(perl -MIO::Socket::INET -e '
	my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1",
	    PeerPort => $ARGV[0], Proto => "tcp", Timeout => 10) or exit 1;
	my $l = <$s>; print $l; print $s "QUIT\r\n";' "$RIG_SMTP_PORT")
like "$banner" '^220 mx\.rig\.test ESMTP reloaded' \
    "the next connection gets the new smtpd_banner"

# Cleanup, in child shells that also run a process under rig_spawn: on
# failure exit and on SIGTERM.
child='
	. "$RIG_LIB/rig.sh"
	rig_init || exit 2
	z=$(rig_zone rig.test < /dev/null)
	rig_nsd rig.test "$z" || exit 2
	rig_postfix || exit 2
	rig_spawn sleep 60
	cat "$RIG_DIR/pids" > "$1/pids"
	echo "$RIG_DIR" > "$1/dir"
	[ "$2" = fail ] && exit 1
	wait $RIG_SPAWNED
'
# survivors - print the PIDs of processes that belong to rig directory DIR
#	Found independently of the rig's own records: by RIG_DIR or
#	MAIL_CONFIG in their environment or DIR in their arguments.
survivors()
{
	grep -lxzF -e "RIG_DIR=$1" -e "MAIL_CONFIG=$1/postfix/etc" \
	    /proc/[0-9]*/environ 2> /dev/null | cut -d/ -f3
	ps -eo pid=,args= | grep -F "$1" | grep -v grep | awk '{ print $1 }'
}

# gone - pass if no process of the child rig in DIR runs and its directory
#	is removed
gone()
{
	_dir=$(cat "$1/dir" 2> /dev/null)
	_left=""
	for p in $(cat "$1/pids" 2> /dev/null) $(survivors "$_dir"); do
		rig__alive "$p" && _left="$_left $p"
	done
	[ -s "$1/pids" ] && [ -n "$_dir" ] && [ -z "$_left" ] &&
	    ! [ -d "$_dir" ]
	ok $? "$2"
	[ -z "$_left" ] || echo "# still running:$_left"
}
for how in fail term; do
	mkdir "$RIG_DIR/$how"
	sh -c "$child" child "$RIG_DIR/$how" "$how" > /dev/null 2>&1 &
	pid=$!
	if [ $how = term ]; then
		i=0
		while [ $i -lt 100 ] && ! [ -s "$RIG_DIR/$how/dir" ]; do
			sleep 0.1
			i=$((i + 1))
		done
		found=$(survivors "$(cat "$RIG_DIR/$how/dir")" | wc -l)
		[ "$found" -ge 4 ]
		ok $? "a running rig's processes are found by environment and arguments"
		kill -TERM $pid
	fi
	wait $pid
	st=$?
	case $how in
	fail)	is "$st" 1 "child rig exits with its failure status";;
	term)	is "$st" 143 "child rig exits 143 on SIGTERM";;
	esac
	gone "$RIG_DIR/$how" "cleanup after $how leaves no process or directory"
done

[ $FAILED = 0 ] || rig_log | sed 's/^/# /'
exit $FAILED

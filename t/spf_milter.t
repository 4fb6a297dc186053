#!/bin/sh
# spf_milter.t - milter-spf over the milter protocol, with nsd serving SPF
#
# Starts nsd with t/data/spfd/spf.zone, a UDP socket that never answers,
# and four milter-spf daemons (default settings, RejectAt eom, TestOnly,
# and one whose name server is the silent socket), then drives them with
# milterclient: pass, fail at RCPT and at end of message, the domain's
# explanation, the postmaster exception, softfail and permerror accepted,
# temperror deferred, the HELO check, skipped clients, forged
# Authentication-Results removed, TestOnly, a reload.  Every process is
# on 127.0.0.1, on ports picked at run time, and is killed by PID on exit.
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-$(pwd)/build/plain}
MILTER=$BUILD/bin/milter-spf
CLIENT=$BUILD/t/tools/milterclient

for f in "$MILTER" "$CLIENT"; do
	if ! [ -x "$f" ]; then
		echo "1..0 # SKIP $f is not built"
		exit 0
	fi
done
if ! command -v nsd > /dev/null && ! [ -x /usr/sbin/nsd ]; then
	echo "1..0 # SKIP nsd is not installed"
	exit 0
fi
command -v nsd > /dev/null || PATH=$PATH:/usr/sbin

T=0
FAILED=0
. t/lib/tap.sh

. t/data/dns/nsd.sh
TMP=$(mktemp -d "${TMPDIR:-/tmp}/spf_milter.XXXXXX") || exit 1
PIDS=""

# cleanup - kill what we started, by PID, then nsd; remove the directory
cleanup()
{
	for p in $PIDS; do
		kill "$p" 2> /dev/null
	done
	for p in $PIDS; do
		wait "$p" 2> /dev/null
	done
	PIDS=""
	nsd_stop
	rm -rf "$TMP"
}

echo "1..51"

if ! nsd_start spf.test t/data/spfd/spf.zone > "$TMP/nsd.out" 2>&1; then
	trap cleanup EXIT
	ok 1 "nsd starts"
	sed 's/^/# /' "$TMP/nsd.out"
	exit 1
fi
trap cleanup EXIT
trap 'cleanup; exit 1' HUP INT TERM
ok 0 "nsd starts"

# A UDP socket that receives queries and never answers.
perl -MIO::Socket::INET -e '
	my $s = IO::Socket::INET->new(Proto => "udp",
	    LocalAddr => "127.0.0.1", LocalPort => 0) or die "$!\n";
	open(my $f, ">", "$ARGV[0].tmp") or die "$!\n";
	print $f $s->sockport, "\n";
	close $f;
	rename("$ARGV[0].tmp", $ARGV[0]);
	sleep 600;
' "$TMP/silent.port" &
SILENT_PID=$!
PIDS="$PIDS $SILENT_PID"
i=0
while ! [ -s "$TMP/silent.port" ] && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
SILENT=$(cat "$TMP/silent.port" 2> /dev/null)

# listening PORT - succeed once something accepts on 127.0.0.1:PORT
listening()
{
	perl -MIO::Socket::INET -e 'exit(IO::Socket::INET->new(
	    PeerAddr => "127.0.0.1", PeerPort => $ARGV[0], Proto => "tcp")
	    ? 0 : 1)' "$1"
}

# start NAME NAMESERVERS [LINES] - a milter-spf; sets PORT_NAME, PID_NAME
start()
{
	_try=0
	while [ $_try -lt 3 ]; do
		_try=$((_try + 1))
		_port=$(t/lib/freeport) || return 1
		{
			printf 'Socket inet:%s@127.0.0.1\n' "$_port"
			printf 'Syslog no\nAuthservID mx.test\nDNSTimeout 2\n'
			printf 'Nameservers %s\n' "$2"
			printf 'PeerList 198.51.100.0/24\n'
			printf '%s\n' "${3:-}"
		} > "$TMP/$1.conf"
		"$MILTER" -f -c "$TMP/$1.conf" >> "$TMP/$1.log" 2>&1 &
		_pid=$!
		PIDS="$PIDS $_pid"
		_i=0
		while [ $_i -lt 50 ] && kill -0 $_pid 2> /dev/null; do
			if listening "$_port"; then
				eval "PORT_$1=$_port PID_$1=$_pid"
				return 0
			fi
			sleep 0.1
			_i=$((_i + 1))
		done
		kill $_pid 2> /dev/null
		wait $_pid 2> /dev/null
	done
	sed 's/^/# /' "$TMP/$1.log"
	return 1
}

NS=127.0.0.1:$NSD_PORT
start plain "$NS"
ok $? "milter-spf starts with Nameservers pointing at nsd"
start eom "$NS" "RejectAt eom"
ok $? "milter-spf starts with RejectAt eom"
start test "$NS" "TestOnly yes"
ok $? "milter-spf starts with TestOnly yes"
start silent "127.0.0.1:${SILENT:-1}" "TempError_Defer yes
DNSTimeout 1"
ok $? "milter-spf starts with a name server that never answers"

# mc NAME IP HELO FROM RCPT [OPTIONS] [< message] - one message
mc()
{
	_name=$1 _ip=$2 _helo=$3 _from=$4 _rcpt=$5
	shift 5
	eval "_port=\$PORT_$_name"
	"$CLIENT" -s "inet:$_port@127.0.0.1" -i "$_ip" -H "$_helo" \
	    -f "$_from" -r "$_rcpt" -q QID42 "$@" 2>&1
}

MSG=t/data/spfd/message
IP=192.0.2.1

out=$(mc plain $IP mx.spf.test sender@pass.spf.test user@rcpt.test < $MSG)
like "$out" 'INSHEADER 0 Authentication-Results: mx\.test;.*spf=pass smtp\.mailfrom=pass\.spf\.test' \
    "pass: A-R spf=pass smtp.mailfrom=pass.spf.test"
like "$out" 'spf=pass smtp\.helo=mx\.spf\.test' \
    "pass: A-R records the HELO check separately, spf=pass smtp.helo="
like "$out" '^CONTINUE$' "pass: message accepted"

out=$(mc plain $IP mx.spf.test a@fail.spf.test user@rcpt.test < $MSG)
like "$out" "^REPLYCODE 550 5\.7\.23 SPF MAIL FROM check failed: 192\.0\.2\.1 is not one of fail\.spf\.test's designated mail servers\. at rcpt$" \
    "fail: 550 5.7.23 at RCPT with the default explanation"

out=$(mc plain $IP mx.spf.test 'x%y@exp.spf.test' user@rcpt.test < $MSG)
like "$out" '^REPLYCODE 550 5\.7\.23 SPF MAIL FROM check failed: the domain exp\.spf\.test explains: Mail from x%%y via mx\.spf\.test is not welcome at rcpt$' \
    "fail: the domain's explanation, with % doubled for the milter library"

out=$(mc plain $IP mx.spf.test a@fail.spf.test postmaster@rcpt.test < $MSG)
like "$out" 'spf=fail smtp\.mailfrom=fail\.spf\.test' \
    "fail to postmaster: accepted with spf=fail recorded"
like "$out" '^CONTINUE$' "fail to postmaster: no rejection"

out=$(mc plain $IP mx.spf.test a@soft.spf.test user@rcpt.test < $MSG)
like "$out" 'spf=softfail smtp\.mailfrom=soft\.spf\.test' \
    "softfail: recorded in A-R"
like "$out" '^CONTINUE$' "softfail: accepted by default"

out=$(mc plain $IP mx.spf.test a@perm.spf.test user@rcpt.test < $MSG)
like "$out" 'spf=permerror' "permerror: recorded in A-R"
like "$out" '^CONTINUE$' "permerror: accepted by default"

out=$(mc plain $IP badhelo.spf.test sender@pass.spf.test user@rcpt.test \
    < $MSG)
like "$out" '^REPLYCODE 550 5\.7\.23 SPF HELO check failed: .* at rcpt$' \
    "HELO fail: 550 5.7.23 at RCPT"

out=$(mc plain $IP mx.spf.test '' user@rcpt.test < $MSG)
like "$out" 'spf=pass smtp\.mailfrom=mx\.spf\.test' \
    "null sender: checked as postmaster@HELO"

out=$(mc plain 127.0.0.1 mx.spf.test a@fail.spf.test user@rcpt.test < $MSG)
like "$out" '^CONTINUE$' "internal client 127.0.0.1: accepted"
unlike "$out" 'INSHEADER' "internal client 127.0.0.1: not checked, no A-R"

out=$(mc plain $IP mx.spf.test a@fail.spf.test user@rcpt.test -a alice \
    < $MSG)
unlike "$out" 'REPLYCODE|INSHEADER' "SMTP AUTH sender: not checked"

out=$(mc plain 198.51.100.7 mx.spf.test a@fail.spf.test user@rcpt.test \
    < $MSG)
like "$out" '^ACCEPT at rcpt$' "PeerList client: accepted (the connect verdict is given at the first step that replies, RCPT)"

out=$(mc plain $IP mx.spf.test sender@pass.spf.test user@rcpt.test \
    < t/data/spfd/forged)
like "$(printf '%s\n' "$out" | grep -E '^(CHG|INS)HEADER' | sed 's/:.*/:/' |
    tr '\n' '|')" \
    '^CHGHEADER 3 Authentication-Results:\|CHGHEADER 1 Authentication-Results:\|INSHEADER 0 Authentication-Results:\|$' \
    "forged A-R claiming mx.test deleted, highest index first, then ours added"
like "$out" '^CHGHEADER 3 Authentication-Results: ?$' \
    "forged A-R: deletion (empty value)"
unlike "$out" 'CHGHEADER 2' "A-R of another authserv-id kept"
unlike "$out" 'CHGHEADER 4' "A-R under our id with only dkim= results kept (milter-dkim's)"

out=$(mc eom $IP mx.spf.test a@fail.spf.test user@rcpt.test < $MSG)
unlike "$out" ' at rcpt' "RejectAt eom: RCPT accepted"
like "$out" '^REPLYCODE 550 5\.7\.23 SPF MAIL FROM check failed: .*servers\.$' \
    "RejectAt eom: 550 5.7.23 at end of message"
out=$(mc eom $IP mx.spf.test a@fail.spf.test abuse@rcpt.test < $MSG)
like "$out" '^CONTINUE$' "RejectAt eom: message to abuse accepted"

out=$(mc test $IP badhelo.spf.test a@fail.spf.test user@rcpt.test < $MSG)
like "$out" 'spf=fail smtp\.mailfrom=fail\.spf\.test;.*spf=fail smtp\.helo=badhelo\.spf\.test' \
    "TestOnly: both failures recorded"
like "$out" '^CONTINUE$' "TestOnly: never rejects"
like "$(cat "$TMP/test.log")" 'QID42: SPF client=192\.0\.2\.1 .*TestOnly, would reject' \
    "TestOnly: the log says what would have happened, with the queue id"

out=$(mc silent $IP mx.spf.test a@pass.spf.test user@rcpt.test -T 20 < $MSG)
like "$out" '^REPLYCODE 451 4\.7\.24 SPF HELO check: temporary error .* at rcpt$' \
    "name server not answering: 451 4.7.24 with TempError_Defer"

out=$(mc silent $IP mx.spf.test a@pass.spf.test postmaster@rcpt.test \
    -T 20 < $MSG)
like "$out" 'spf=temperror' "temperror to postmaster: recorded in A-R"

# Connection reuse (Sendmail): SMTP sessions over one milter connection,
# SMFIC_QUIT_NC between them; the steps negotiated as reply-less stay so.
out=$(mc plain 198.51.100.7 mx.spf.test a@fail.spf.test user@rcpt.test \
    -R 3 < $MSG)
like "$(printf '%s\n' "$out" | tr '\n' '|')" \
    '^ACCEPT at rcpt\|QUIT_NC\|ACCEPT at rcpt\|QUIT_NC\|ACCEPT at rcpt\|$' \
    "connection reuse: a PeerList client is accepted in every session"
out=$(mc plain $IP mx.spf.test a@fail.spf.test user@rcpt.test -R 2 < $MSG)
like "$(printf '%s\n' "$out" | grep -c '^REPLYCODE 550 5\.7\.23 .* at rcpt$')" \
    '^2$' "connection reuse: an SPF failure is refused in every session"
out=$(mc plain $IP mx.spf.test sender@pass.spf.test user@rcpt.test -R 2 \
    < $MSG)
like "$(printf '%s\n' "$out" | grep -c 'spf=pass smtp\.mailfrom=pass')" \
    '^2$' "connection reuse: each session gets its own A-R"
unlike "$(cat "$TMP/plain.log")" 'is lost' \
    "connection reuse: no verdict lost at a step without reply"

# Concurrency: many connections at once, each checked on its own.
out=$(mc plain $IP mx.spf.test a@fail.spf.test user@rcpt.test -n 200 -c 8 \
    < $MSG)
st=$?
like "$out" '^REPLYCODE 550 5\.7\.23 .* at rcpt$' \
    "200 messages over 8 threads: the first is rejected"
ok $st "200 messages over 8 threads: every one got a verdict"

# Reload: the plain daemon becomes TestOnly on SIGHUP.
echo "TestOnly yes" >> "$TMP/plain.conf"
kill -HUP "$PID_plain"
i=0
while ! grep -q 'configuration reloaded' "$TMP/plain.log" && [ $i -lt 50 ]
do
	sleep 0.1
	i=$((i + 1))
done
like "$(cat "$TMP/plain.log")" 'configuration reloaded' \
    "SIGHUP reloads the configuration"
out=$(mc plain $IP mx.spf.test a@fail.spf.test user@rcpt.test < $MSG)
like "$out" '^CONTINUE$' "after the reload, new connections follow TestOnly"

for v in plain eom test silent; do
	eval "p=\$PID_$v"
	kill -0 "$p" 2> /dev/null
	ok $? "milter-spf ($v) still runs"
done

# Stop them and look for sanitizer reports (leaks show at exit).
for v in plain eom test silent; do
	eval "p=\$PID_$v"
	kill -TERM "$p" 2> /dev/null
	wait "$p"
	ok $? "milter-spf ($v) exits 0 on SIGTERM"
done
PIDS=$SILENT_PID
bad=$(grep -l -E 'Sanitizer|runtime error' "$TMP"/*.log)
ok $([ -z "$bad" ]; echo $?) "no sanitizer report in the daemons' logs"

[ $FAILED = 0 ] || for f in "$TMP"/*.log; do
	echo "# $f:"; sed 's/^/#   /' "$f"
done
exit $FAILED

#!/bin/sh
# dmarc_e2e.t - milter-spf and milter-dmarc chained in a real Postfix, with
# nsd serving the "test" zone of t/data/dmarcd/dmarc.zone
#
# milter-spf (Mail_From_reject False: it records, never rejects) runs
# first and milter-dmarc (RejectFailures, HoldQuarantinedMessages, a
# SQLite history) reads its spf= result under their shared AuthservID.
# An outside client (127.0.0.2) sends: an SPF-aligned message from
# reject.test is delivered with dmarc=pass; the same From with an
# unaligned envelope is refused with 550 5.7.1 naming the domain; a
# p=quarantine failure lands in Postfix's hold queue; a domain without
# a record is delivered with dmarc=none; a forged dmarc=pass claiming
# our id is removed.  Needs root, postfix and nsd.
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-$(pwd)/build/plain}
SPF=$BUILD/bin/milter-spf
DMARC=$BUILD/bin/milter-dmarc
RIG_LIB=$(pwd)/t/lib
export RIG_LIB
. t/lib/rig.sh

T=0
FAILED=0
. t/lib/tap.sh

# message SUBJECT FROM [EXTRA] - a test message to alice
message()
{
	printf '%s' "${3:-}"
	printf 'From: <%s>\nTo: <alice@rig.test>\nSubject: %s\n' "$2" "$1"
	printf 'Message-ID: <%s@dmarc.test>\n' "$(echo "$1" | tr ' ' -)"
	printf 'Date: Thu, 03 Dec 2026 08:00:00 +0000\n\nbody\n'
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
for f in "$SPF" "$DMARC"; do
	if ! [ -x "$f" ]; then
		echo "1..0 # SKIP $f is not built"
		exit 0
	fi
done

rig_init
ok $? "rig_init makes a temporary directory"
rig_nsd test t/data/dmarcd/dmarc.zone
ok $? "nsd serves the test zone"

listening()
{
	perl -MIO::Socket::INET -e 'exit(IO::Socket::INET->new(
	    PeerAddr => "127.0.0.1", PeerPort => $ARGV[0], Proto => "tcp")
	    ? 0 : 1)' "$1"
}

# start NAME BINARY LINES - a milter on a free port; sets PORT_NAME
start()
{
	_try=0
	while [ $_try -lt 3 ]; do
		_try=$((_try + 1))
		_port=$("$RIG_LIB/freeport") || return 1
		{
			printf 'Socket inet:%s@127.0.0.1\nSyslog no\n' "$_port"
			printf 'AuthservID mx.rig.test\nDNSTimeout 3\n'
			printf 'Nameservers 127.0.0.1:%s\n' "$RIG_DNS_PORT"
			printf '%s\n' "$3"
		} > "$RIG_DIR/$1.conf"
		rig_spawn "$2" -f -c "$RIG_DIR/$1.conf"
		_i=0
		while [ $_i -lt 50 ] && rig__alive "$RIG_SPAWNED"; do
			if listening "$_port"; then
				eval "PORT_$1=$_port PID_$1=$RIG_SPAWNED"
				return 0
			fi
			sleep 0.1
			_i=$((_i + 1))
		done
		kill "$RIG_SPAWNED" 2> /dev/null
	done
	return 1
}
start spf "$SPF" "InternalHosts 127.0.0.3
Mail_From_reject False
HELO_reject False"
ok $? "milter-spf starts"
start dmarc "$DMARC" "IgnoreHosts 127.0.0.3
RejectFailures yes
HoldQuarantinedMessages yes
HistoryDatabase sqlite:$RIG_DIR/history.sqlite"
ok $? "milter-dmarc starts"

RIG_MAILBOXES="alice@rig.test"
RIG_MILTERS="inet:127.0.0.1:$PORT_spf, inet:127.0.0.1:$PORT_dmarc"
RIG_MILTER_DEFAULT_ACTION=tempfail
export RIG_MAILBOXES RIG_MILTERS RIG_MILTER_DEFAULT_ACTION
rig_postfix
ok $? "postfix starts with milter-spf then milter-dmarc"

out=$(message "aligned" a@reject.test |
    rig_send bounce@reject.test 127.0.0.2 alice@rig.test)
is "$?" 0 "SPF-aligned message from a p=reject domain: accepted"
f=$(rig_wait_mail alice@rig.test 15)
ok $? "  ... delivered"
ars=$(rig_header Authentication-Results "${f:-/dev/null}")
like "$ars" 'dmarc=pass \(p=reject sp=reject dis=none\) header\.from=reject\.test' \
    "  ... with dmarc=pass, from milter-spf's result"
like "$ars" 'spf=pass smtp\.mailfrom=reject\.test' \
    "  ... and milter-spf's field kept beside it"

out=$(message "unaligned" a@reject.test |
    rig_send bounce@norecord.test 127.0.0.2 alice@rig.test)
st=$?
like "$out" '^550 5\.7\.1 rejected by DMARC policy for reject\.test' \
    "unaligned envelope, p=reject: the client sees 550 5.7.1 naming the domain"
is "$st" 1 "  ... a 5xx refusal"

out=$(message "quarantine" a@quar.test |
    rig_send bounce@norecord.test 127.0.0.2 alice@rig.test)
is "$?" 0 "p=quarantine failure: accepted"
held=""
i=0
while [ $i -lt 50 ]; do
	held=$(find "$RIG_DIR/postfix/queue/hold" -type f 2> /dev/null)
	[ -n "$held" ] && break
	sleep 0.2
	i=$((i + 1))
done
ok $([ -n "$held" ]; echo $?) "  ... and held in Postfix's hold queue"

out=$(message "norecord" a@norecord.test \
    'Authentication-Results: mx.rig.test; dmarc=pass header.from=norecord.test
' | rig_send bounce@norecord.test 127.0.0.2 alice@rig.test)
is "$?" 0 "a domain without a DMARC record: accepted"
f=$(rig_wait_mail alice@rig.test 15)
ars=$(rig_header Authentication-Results "${f:-/dev/null}")
like "$ars" 'dmarc=none header\.from=norecord\.test' "  ... with dmarc=none"
is "$(printf '%s\n' "$ars" | grep -c 'dmarc=')" 1 \
    "  ... the forged dmarc=pass under our id is gone"

kill -TERM "$PID_dmarc"
i=0
while rig__alive "$PID_dmarc" && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
if command -v sqlite3 > /dev/null; then
	is "$(sqlite3 "$RIG_DIR/history.sqlite" "SELECT count(*) FROM messages")" 3 \
	    "the history has the three messages from domains with a record"
else
	skip "history rows" "no sqlite3"
fi

echo "1..$T"
if [ $FAILED != 0 ]; then
	rig_log | sed 's/^/# /'
	sed 's/^/# /' "$RIG_DIR"/milter-*.log
fi
exit $FAILED

#!/bin/sh
# tcp_stall.t - no per-message stall between Postfix and a milter over TCP
#
# Runs the rig's private Postfix (t/lib/rig.sh) with milter-dkim, signing,
# on an inet socket (milter_default_action = tempfail) and sends 30
# messages of 4 KB through it with Postfix's own load generator
# smtp-source, one SMTP session per message, one session at a time.  The
# mean time per message must stay at or below 15 ms.
#
# A stall between Postfix and the milter costs about 44 ms per message:
# Postfix writes the packets that get no reply without waiting, with
# Nagle on, so a small write waits for the acknowledgement of the one
# before, which a receiver that delays acknowledgements holds for 40 ms.
# A healthy message takes 3 to 8 ms here.  The bound is a detector with
# a wide margin, not a benchmark: the 30 messages are sent up to three
# times and the best run counts, so that a machine busy with other tests
# does not fail it, whereas a stall shows in every run.  On a machine so
# loaded that Postfix alone needs more than that, each run also sends 30
# messages through a second SMTP listener of the same Postfix without
# the milter, and a run passes when the milter adds at most 15 ms per
# message to that: a stall adds 40 ms or more whatever the load.
#
# Every message must be delivered and signed (a milter that failed would
# make Postfix answer 451 and smtp-source stop).  Needs root, postfix and
# smtp-source (Debian's postfix package); skips without them.
cd "$(dirname "$0")/.." || exit 1
RIG_LIB=$(pwd)/t/lib
export RIG_LIB
. t/lib/rig.sh

BUILD=${BUILD:-$(pwd)/build/plain}
MILTER=$BUILD/bin/milter-dkim
DKIMTOOL=$BUILD/t/tools/dkimtool
SMTP_SOURCE=${SMTP_SOURCE:-/usr/sbin/smtp-source}
RCPT=alice@rig.test
COUNT=30
LIMIT_MS=15
TRIES=3

T=0
FAILED=0
. t/lib/tap.sh

skip_all()
{
	echo "1..0 # SKIP $*"
	exit 0
}

bail()
{
	echo "Bail out! $*"
	for _f in milter-dkim.log maillog; do
		[ -f "$RIG_DIR/$_f" ] && tail -n 15 "$RIG_DIR/$_f" |
		    sed "s|^|# $_f: |"
	done
	exit 1
}

# now_ms - the time in milliseconds
now_ms()
{
	perl -MTime::HiRes=time -e 'printf "%d\n", time * 1000'
}

# delivered - how many messages are in alice's Maildir
delivered()
{
	ls "$(rig_maildir "$RCPT")/new" 2> /dev/null | wc -l
}

# wait_delivered N - wait up to 20 s until N messages are delivered
wait_delivered()
{
	_i=0
	while [ "$(delivered)" -lt "$1" ] && [ $_i -lt 200 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	[ "$(delivered)" -ge "$1" ]
}

[ "$(id -u)" = 0 ] || skip_all "needs root to run a private Postfix"
command -v postfix > /dev/null || [ -x /usr/sbin/postfix ] ||
    skip_all "postfix is not installed"
[ -x "$SMTP_SOURCE" ] || skip_all "smtp-source (package postfix) is missing"
[ -x "$MILTER" ] && [ -x "$DKIMTOOL" ] || skip_all "$BUILD is not built"

echo "1..4"
rig_init || bail "rig_init failed"
K=$RIG_DIR/keys
mkdir -m 700 "$K"
"$DKIMTOOL" keygen rsa 2048 "$K/rsa.pem" || bail "no key"
chmod 600 "$K/rsa.pem"

PORT=$("$RIG_LIB/freeport") || bail "no free port"
cat > "$RIG_DIR/milter-dkim.conf" <<EOF
Socket			inet:$PORT@127.0.0.1
Syslog			no
Mode			s
InternalHosts		127.0.0.1
Domain			sign.test
Selector		rsa
KeyFile			$K/rsa.pem
EOF
rig_spawn "$MILTER" -f -c "$RIG_DIR/milter-dkim.conf"
_i=0
until grep -q 'listening on' "$RIG_DIR/milter-dkim.log" 2> /dev/null; do
	_i=$((_i + 1))
	[ $_i -lt 100 ] || bail "milter-dkim did not start"
	sleep 0.1
done
RIG_MILTERS=inet:127.0.0.1:$PORT RIG_MILTER_DEFAULT_ACTION=tempfail \
    rig_postfix || bail "postfix did not start"
# the same Postfix without the milter, on a second port
BARE_PORT=$("$RIG_LIB/freeport") || bail "no free port"
echo "127.0.0.1:$BARE_PORT inet n - n - - smtpd -o smtpd_milters=" \
    >> "$RIG_POSTFIX_DIR/master.cf"
rig__age "$RIG_POSTFIX_DIR/master.cf"
postfix -c "$RIG_POSTFIX_DIR" reload > /dev/null 2>&1 ||
    bail "postfix reload failed"
_i=0
until perl -MIO::Socket::INET -e 'IO::Socket::INET->new(PeerAddr =>
    "127.0.0.1", PeerPort => $ARGV[0]) or exit 1' "$BARE_PORT"; do
	_i=$((_i + 1))
	[ $_i -lt 100 ] || bail "no second SMTP listener"
	sleep 0.1
done

{
	printf 'From: Someone <someone@sign.test>\nTo: Alice <%s>\n' "$RCPT"
	printf 'Subject: stall detector\nDate: Mon, 23 Nov 2026 12:00:00 +0000\n'
	printf 'Message-ID: <stall@sign.test>\nMIME-Version: 1.0\n'
	printf 'Content-Type: text/plain\n\n'
	awk 'BEGIN { for (i = 0; i < 60; i++) printf "%s %02d\n",
	    "The quick brown fox jumps over the lazy dog; 0123456789 abcdef.", i }'
} > "$RIG_DIR/msg.eml"

# one N [PORT] - send N messages, one session at a time, to the milter's
#	listener or PORT; print the milliseconds
one()
{
	_t0=$(now_ms)
	"$SMTP_SOURCE" -s 1 -m "$1" -F "$RIG_DIR/msg.eml" -f someone@sign.test \
	    -t "$RCPT" "127.0.0.1:${2:-$RIG_SMTP_PORT}" \
	    > "$RIG_DIR/smtp-source.out" 2>&1 || return 1
	_t1=$(now_ms)
	echo $((_t1 - _t0))
}

# A first message starts Postfix's smtpd, cleanup and delivery agents.
one 1 > /dev/null && wait_delivered 1
ok $? "a first message goes through Postfix and milter-dkim over inet" ||
    bail "$(cat "$RIG_DIR/smtp-source.out")"

# A run passes when the milter's 30 messages took at most 15 ms each, or
# at most 15 ms each more than the 30 sent right after without it.
one 1 "$BARE_PORT" > /dev/null
passed=0
runs=""
sent=1
bare=1
try=0
refused=0
while [ $try -lt $TRIES ] && [ $passed = 0 ]; do
	try=$((try + 1))
	ms=$(one $COUNT) || { refused=1; break; }
	sent=$((sent + COUNT))
	if [ "$ms" -le $((LIMIT_MS * COUNT)) ]; then
		passed=1
		runs="$runs ${ms}ms"
		break
	fi
	bms=$(one $COUNT "$BARE_PORT") || { refused=1; break; }
	bare=$((bare + COUNT))
	runs="$runs ${ms}ms (without the milter ${bms}ms)"
	[ $((ms - bms)) -le $((LIMIT_MS * COUNT)) ] && passed=1
done
[ $refused = 0 ]
ok $? "$COUNT messages sent by smtp-source, none refused" ||
    sed 's/^/# /' "$RIG_DIR/smtp-source.out"
wait_delivered $((sent + bare))
ok $? "all $((sent + bare)) messages delivered"
signed=$(grep -l '^DKIM-Signature: ' "$(rig_maildir "$RCPT")"/new/* |
    wc -l)
echo "# $COUNT messages through milter-dkim in:$runs"
[ $passed = 1 ] && [ "$signed" -eq "$sent" ]
ok $? "at most $LIMIT_MS ms per message (or added to Postfix alone), every message through the milter signed" ||
    echo "# signed: $signed of $sent"

exit $FAILED

#!/bin/sh
# spf_limit.t - milter-spf keeps the SPF checks of a message within
# CheckTimeLimit, and stops them when the MTA goes away or on SIGTERM
#
# A slow name server (t/lib/slowdns: every answer after 250 ms) serves
# a record of 9 "mx:" mechanisms of 10 MX names each, 100 lookups per
# identity, 25 s each without a limit.  Over the milter protocol:
# with CheckTimeLimit 3 the message gets temperror (451 with
# TempError_Defer) after about 3 s and no query follows; SIGTERM during
# a check makes the daemon exit at once and stop querying; a client
# that hangs up during a check stops it too.  Every process is on
# 127.0.0.1 on ports picked at run time and is killed by PID on exit.
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
if ! perl -MNet::DNS -e 1 2> /dev/null; then
	echo "1..0 # SKIP Net::DNS (libnet-dns-perl) is not installed"
	exit 0
fi

T=0
FAILED=0
. t/lib/tap.sh
TMP=$(mktemp -d "${TMPDIR:-/tmp}/spf_limit.XXXXXX") || exit 1
PIDS=""

# cleanup - kill what we started, by PID; remove the directory
cleanup()
{
	for p in $PIDS; do
		kill "$p" 2> /dev/null
	done
	for p in $PIDS; do
		wait "$p" 2> /dev/null
	done
	PIDS=""
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'cleanup; exit 1' HUP INT TERM

# now_ms - a clock in milliseconds
now_ms()
{
	echo $(($(date +%s%N) / 1000000))
}

# wait_for FILE REGEX [TRIES] - until FILE has a matching line (0.1 s a
# try, 100 by default)
wait_for()
{
	_i=0
	while [ $_i -lt "${3:-100}" ]; do
		grep -Eq -- "$2" "$1" 2> /dev/null && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

# queries - how many queries the slow server has received
queries()
{
	wc -l < "$TMP/queries" | tr -d ' '
}

# quiet_after N - 0 when no query has come since there were N (one
# second after a check stopped, any query still going out would show)
quiet_after()
{
	sleep 1
	[ "$(queries)" -eq "$1" ]
}

: > "$TMP/queries"
t/lib/slowdns "$TMP/dns.port" "$TMP/queries" 250 2> "$TMP/dns.err" &
PIDS="$PIDS $!"
wait_for "$TMP/dns.port" . 50
DNSPORT=$(cat "$TMP/dns.port" 2> /dev/null)

echo "1..17"
[ -n "$DNSPORT" ]
ok $? "the slow name server starts" || { sed 's/^/# /' "$TMP/dns.err"; exit 1; }

# start NAME [LINES] - a milter-spf asking the slow server; sets
# PORT_NAME, PID_NAME
start()
{
	_try=0
	while [ $_try -lt 3 ]; do
		_try=$((_try + 1))
		_port=$(t/lib/freeport) || return 1
		{
			printf 'Socket inet:%s@127.0.0.1\n' "$_port"
			printf 'Syslog no\nAuthservID mx.test\nDNSTimeout 5\n'
			printf 'Nameservers 127.0.0.1:%s\n' "$DNSPORT"
			printf 'TempError_Defer yes\n%s\n' "${2:-}"
		} > "$TMP/$1.conf"
		"$MILTER" -f -c "$TMP/$1.conf" >> "$TMP/$1.log" 2>&1 &
		_pid=$!
		PIDS="$PIDS $_pid"
		if wait_for "$TMP/$1.log" "listening on" 50; then
			eval "PORT_$1=$_port PID_$1=$_pid"
			return 0
		fi
		kill $_pid 2> /dev/null
		wait $_pid 2> /dev/null
	done
	sed 's/^/# /' "$TMP/$1.log"
	return 1
}

printf 'Subject: t\n\nbody\n' > "$TMP/msg"

# mc NAME FROM - one message from 192.0.2.1, HELO c.slow.test (exec'd,
# so that "mc ... &" leaves the client's own PID in $!)
mc()
{
	eval "_port=\$PORT_$1"
	exec "$CLIENT" -s "inet:$_port@127.0.0.1" -i 192.0.2.1 \
	    -H c.slow.test -f "$2" -r user@rcpt.test -q QID7 < "$TMP/msg" 2>&1
}

# 1. CheckTimeLimit 3: temperror after about 3 s, then silence.
start cap "CheckTimeLimit 3"
ok $? "milter-spf starts with CheckTimeLimit 3"
n0=$(queries)
t0=$(now_ms)
out=$(mc cap a@b.slow.test)
ms=$(($(now_ms) - t0))
like "$out" '^REPLYCODE 451 4\.7\.24 .* at rcpt$' \
    "a check of 2 x 100 slow lookups: temperror, deferred (451 4.7.24)"
[ $ms -ge 2500 ] && [ $ms -lt 6000 ]
ok $? "... after CheckTimeLimit 3 s, not 50 s ($ms ms)"
n1=$(queries)
[ $((n1 - n0)) -lt 30 ]
ok $? "... having sent $((n1 - n0)) of the 200 queries"
quiet_after "$n1"
ok $? "... and none after it"
has "$TMP/cap.log" 'QID7: SPF check stopped after [0-9]+ ms: CheckTimeLimit of 3 s reached' \
    "the log says why the check stopped"

# Eight messages at once from the same domain: each query goes out once.
n0=$(queries)
_port=$PORT_cap
out=$("$CLIENT" -s "inet:$_port@127.0.0.1" -i 192.0.2.1 -H y.slow.test \
    -f a@z.slow.test -r user@rcpt.test -q QID8 -n 8 -c 8 < "$TMP/msg" 2>&1)
like "$out" '^REPLYCODE 451 4\.7\.24 .* at rcpt$' \
    "eight concurrent messages: temperror within the limit"
n1=$(queries)
# (at the deadline, a query whose owner gave up may be asked once more
# by a message with a few milliseconds left)
sent=$(sed -n "$((n0 + 1)),\$p" "$TMP/queries")
first=$(printf '%s\n' "$sent" | grep -c '^y\.slow\.test TXT')
[ "$first" -eq 1 ] && [ $((n1 - n0)) -lt 24 ]
ok $? "... the queries are shared: the first sent $first time(s), $((n1 - n0)) in all (eight apart: about 96)"

# 2. SIGTERM during a check: prompt exit, no more queries.
start term
ok $? "milter-spf starts with the default CheckTimeLimit (20 s)"
n0=$(queries)
mc term a@d.slow.test > "$TMP/term.out" &
CPID=$!
PIDS="$PIDS $CPID"
i=0
while [ "$(queries)" -lt $((n0 + 3)) ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
t0=$(now_ms)
kill -TERM "$PID_term"
i=0
while kill -0 "$PID_term" 2> /dev/null && [ $i -lt 400 ]; do
	sleep 0.05
	i=$((i + 1))
done
ms=$(($(now_ms) - t0))
! kill -0 "$PID_term" 2> /dev/null && [ $ms -lt 5000 ]
ok $? "SIGTERM during a check: the daemon exits in $ms ms"
n1=$(queries)
quiet_after "$n1"
ok $? "... and sends no query after it ($((n1 - n0)) in all)"
wait "$CPID" 2> /dev/null
like "$(cat "$TMP/term.out")" '^REPLYCODE 451 4\.7\.24 .* at rcpt$' \
    "... the message in flight gets temperror (451), not a lost verdict"
has "$TMP/term.log" 'SPF check stopped after [0-9]+ ms: the MTA went away or the daemon is stopping' \
    "... and the log says the check was stopped"

# 3. The client hangs up during a check: the check stops.
start gone
ok $? "milter-spf starts for a client that hangs up"
n0=$(queries)
mc gone a@e.slow.test > /dev/null &
CPID=$!
PIDS="$PIDS $CPID"
i=0
while [ "$(queries)" -lt $((n0 + 3)) ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
kill -KILL "$CPID" 2> /dev/null
wait_for "$TMP/gone.log" 'SPF check stopped after [0-9]+ ms: the MTA went away' 30
ok $? "a client that hangs up stops the check"
n1=$(queries)
quiet_after "$n1"
ok $? "... no query after it ($((n1 - n0)) in all)"

exit $FAILED

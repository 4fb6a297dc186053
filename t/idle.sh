#!/bin/bash
# idle.sh - thousands of idle milter connections, then real mail
#
# Usage: BUILD=build/plain bash t/idle.sh	(run by `make soak`)
#
# A private Postfix (t/lib/rig.sh) whose smtpd_milters is milter-dkim on
# an inet socket, signing mail from 127.0.0.1, milter_default_action =
# accept.  Before each real message, a client on 127.0.0.1 opens IDLE
# TCP connections to milter-dkim and holds them without a byte, as a
# flood of idle or hung peers would:
#
#	limit	IDLE_OVER (5000) connections against the default
#		MaximumConnections (1024): a real message must not wait for
#		Postfix's milter time-outs: the daemon refuses the connection
#		over the limit at once, says so in its log, and Postfix
#		applies its default action (delivered unsigned).
#	within	IDLE_UNDER (3000) connections with MaximumConnections 4096
#		(the largest allowed): the message is served (signed).
#
# For each phase it prints the time the message took, whether it was
# signed, the daemon's resident size and threads with the connections
# held; and TAP.  The descriptor limit is raised (ulimit -n) for the
# client and the daemon; without the room for it the phase is skipped.
# Everything on 127.0.0.1, ports picked at run time, stopped by PID.
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
cd "$SRCDIR" || exit 1
BUILD=${BUILD:-$SRCDIR/build/plain}
MD=$BUILD/bin/milter-dkim
OVER=${IDLE_OVER:-5000}
UNDER=${IDLE_UNDER:-3000}
T=0
FAILED=0
. t/lib/tap.sh
. t/lib/procs.sh
need_exec "$MD"
command -v postconf > /dev/null || PATH=$PATH:/usr/sbin
need_cmd postfix
[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root for the rig"; exit 0; }
if ! ulimit -n $((OVER + 1000)) 2> /dev/null; then
	echo "1..0 # SKIP cannot raise the descriptor limit to $((OVER + 1000))"
	exit 0
fi
. t/lib/rig.sh
rig_init || exit 1

KEY=$SRCDIR/t/data/dkimd/rsa2048.pem
PORT=$("$RIG_LIB/freeport") || exit 1
RIG_MILTERS="inet:127.0.0.1:$PORT"
RIG_MILTER_DEFAULT_ACTION=accept
RIG_MAILBOXES="idle@rig.test"
rig_postfix || exit 1
printf 'From: <a@idle.test>\nTo: <idle@rig.test>\nSubject: idle\n\nbody\n' \
    > "$RIG_DIR/msg"

# hold N - open N connections to the milter and keep them until
#	$RIG_DIR/release exists; $RIG_DIR/held gets the count opened
hold() {
	rm -f "$RIG_DIR/release" "$RIG_DIR/held"
	/usr/bin/python3 - "$PORT" "$1" "$RIG_DIR" <<-'PY' &
	import os, socket, sys, time
	port, n, d = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
	socks = []
	for i in range(n):
	    try:
	        s = socket.create_connection(("127.0.0.1", port), timeout=5)
	    except OSError:
	        break
	    socks.append(s)
	open(os.path.join(d, "held.tmp"), "w").write("%d\n" % len(socks))
	os.rename(os.path.join(d, "held.tmp"), os.path.join(d, "held"))
	for _ in range(1200):            # two minutes at most
	    if os.path.exists(os.path.join(d, "release")):
	        break
	    time.sleep(0.1)
	PY
	HOLD_PID=$!
	PIDS="$PIDS $HOLD_PID"
	for i in $(seq 600); do
		[ -s "$RIG_DIR/held" ] && return 0
		sleep 0.1
	done
	return 1
}

# phase NAME LIMIT N - the daemon with MaximumConnections LIMIT, N idle
#	connections, then one message; sets MS (ms taken) and SIGNED (0/1)
phase() {
	local name=$1 limit=$2 n=$3 t0 t1 f
	printf 'Socket inet:%s@127.0.0.1\nSyslog no\nMode sv\nDomain idle.test\nSelector sel\nKeyFile %s\nRequireSafeKeys no\nMaximumConnections %s\n' \
	    "$PORT" "$KEY" "$limit" > "$RIG_DIR/$name.conf"
	"$MD" -f -c "$RIG_DIR/$name.conf" 2> "$RIG_DIR/$name.log" &
	DPID=$!
	PIDS="$PIDS $DPID"
	wait_port "$PORT" "$DPID" 100 || { ok 1 "$name: milter-dkim starts"; return 1; }
	hold "$n" || { ok 1 "$name: $n idle connections opened"; return 1; }
	is "$(cat "$RIG_DIR/held")" "$n" "$name: $n idle connections opened"
	# until the daemon has taken them all in (its threads stop growing)
	local last=0 now
	for i in $(seq 100); do
		now=$(ls "/proc/$DPID/task" | wc -l)
		[ "$now" -eq "$last" ] && [ "$now" -gt 1 ] && break
		last=$now
		sleep 0.2
	done
	RSS=$(awk '/^VmRSS:/ { print $2 }' "/proc/$DPID/status")
	THREADS=$(ls "/proc/$DPID/task" | wc -l)
	t0=$(date +%s%3N)
	r=$(rig_send a@idle.test 127.0.0.1 idle@rig.test < "$RIG_DIR/msg")
	f=$(rig_wait_mail idle@rig.test 30)
	t1=$(date +%s%3N)
	MS=$((t1 - t0))
	like "$r" '^250' "$name: the message is accepted"
	grep -q '^DKIM-Signature: .*d=idle.test' "$f" 2> /dev/null
	SIGNED=$(( $? == 0 ))
	touch "$RIG_DIR/release"
	wait "$HOLD_PID" 2> /dev/null
	kill "$DPID"
	wait "$DPID" 2> /dev/null
	printf '%-7s %5s idle, MaximumConnections %4s: delivered in %5s ms, %s; milter-dkim %s kB RSS, %s threads\n' \
	    "$name" "$n" "$limit" "$MS" "$([ $SIGNED = 1 ] && echo signed ||
	    echo unsigned)" "$RSS" "$THREADS" >> "$RIG_DIR/summary"
}

phase limit 1024 "$OVER"
ok $([ "$MS" -lt 5000 ]; echo $?) "limit: delivered in ${MS} ms, without waiting for a time-out"
is "$SIGNED" 0 "limit: over the limit the message goes unsigned (milter_default_action = accept)"
has "$RIG_DIR/limit.log" 'MaximumConnections' "limit: the refusals are logged, naming MaximumConnections"
phase within 4096 "$UNDER"
ok $([ "$MS" -lt 5000 ]; echo $?) "within: delivered in ${MS} ms"
is "$SIGNED" 1 "within: the message is signed beside $UNDER idle connections"
sed 's/^/# /' "$RIG_DIR/summary"
cp "$RIG_DIR/summary" "$(dirname "$BUILD")/idle.txt" 2> /dev/null
echo "1..$T"
exit $FAILED

#!/bin/sh
# soak.sh - the daemons under sustained load, reloads and a kill -9
#
# Usage: BUILD=build/plain sh t/soak.sh		(what `make soak` runs)
#
# Runs a private Postfix and nsd (t/lib/rig.sh) with the four daemons,
# each on its own inet socket, in the order of the README: milter-spf
# (checking every sender against an SPF record that passes 127.0.0.1),
# milter-dkim (signing every message from 127.0.0.1), milter-dmarc
# (applying the sender domain's p=reject policy to milter-spf's result,
# with its history in SQLite) and milter-arc (sealing); driven by
# Postfix's smtp-source from 127.0.0.1 at SOAK_SESSIONS sessions (16).
# Three phases:
#
#	soak	SOAK_SECONDS (60; the documented full run is 600) of load.
#		The resident size of each daemon is sampled every 2 s.
#		After the warm-up (the first fifth, at least 20 s), its
#		level (the median of the next fifth's samples) and its
#		level at the end (the median of the last fifth's) must
#		differ by less than 5 %: growth, not the swing between
#		busy and quiet moments of a sample, which is printed with
#		the largest sample.
#	reload	SOAK_RELOADS SIGHUPs (200) to every daemon, spread over
#		SOAK_RELOAD_SECONDS (60) of load; then a broken file and one
#		more SIGHUP, which must be refused while mail still flows.
#	kill	milter-dkim is killed with SIGKILL in the middle of a load
#		and started again on the same socket and PID file, with
#		milter_default_action = tempfail.
#
# After each phase every message Postfix queued must have been delivered
# exactly once (as many deliveries and mailbox files as queued messages), every
# delivered message must carry milter-dkim's DKIM-Signature,
# milter-spf's spf=pass, milter-dmarc's dmarc=pass and milter-arc's
# first ARC set (a sample of 20 per phase is verified with the DKIM
# library against the published key), and no daemon may have logged an
# error.  Messages refused with 4xx while milter-dkim was
# down are counted and printed.  Prints TAP and a summary table, also
# saved to build/soak.txt.
#
# All servers listen on 127.0.0.1 on ports picked at run time and are
# stopped by PID on exit; every load is bounded by a message count and
# by time.
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
cd "$SRCDIR" || exit 1
BUILD=${BUILD:-$SRCDIR/build/plain}
MD=$BUILD/bin/milter-dkim
MS=$BUILD/bin/milter-spf
MDM=$BUILD/bin/milter-dmarc
MA=$BUILD/bin/milter-arc
DT=$BUILD/t/tools/dkimtool
AT=$BUILD/t/tools/arctool
SECONDS_SOAK=${SOAK_SECONDS:-60}
SESSIONS=${SOAK_SESSIONS:-16}
RELOADS=${SOAK_RELOADS:-200}
RELOAD_SECONDS=${SOAK_RELOAD_SECONDS:-60}
T=0
FAILED=0
QUEUED=0
REFUSED=0
. t/lib/tap.sh
. t/lib/procs.sh
need_exec "$MD" "$MS" "$MDM" "$MA" "$DT" "$AT"
command -v smtp-source > /dev/null || PATH=$PATH:/usr/sbin
need_cmd postfix nsd smtp-source
. t/lib/rig.sh
rig_init || exit 1
SUMMARY=$RIG_DIR/summary

KEY=$SRCDIR/t/data/dkimd/rsa2048.pem
rec=$($DT record "$KEY") || exit 1
printf 'sel._domainkey.soak.test %s\n' "$rec" > "$RIG_DIR/keys"
zone=$(rig_zone soak.test <<-EOF
	@ IN TXT "v=spf1 ip4:127.0.0.1 -all"
	_dmarc IN TXT "v=DMARC1; p=reject"
	sel._domainkey IN TXT $(printf '%s\n' "$rec" | fold -w 200 |
	    sed 's/.*/"&"/' | tr '\n' ' ')
	EOF
)
rig_nsd soak.test "$zone" || exit 1

# milter_conf NAME BODY - a configuration file for daemon NAME
milter_conf() {
	printf '%s\n' "$2" > "$RIG_DIR/$1.conf"
}
PORT_DKIM=$("$RIG_LIB/freeport") || exit 1
PORT_SPF=$("$RIG_LIB/freeport") || exit 1
PORT_DMARC=$("$RIG_LIB/freeport") || exit 1
PORT_ARC=$("$RIG_LIB/freeport") || exit 1
DKIM_CONF="Socket inet:$PORT_DKIM@127.0.0.1
PidFile $RIG_DIR/milter-dkim.pid
Syslog no
Mode sv
AuthservID mx.rig.test
InternalHosts 127.0.0.1
Nameservers 127.0.0.1@$RIG_DNS_PORT
Domain soak.test
Selector sel
KeyFile $KEY
RequireSafeKeys no"
SPF_CONF="Socket inet:$PORT_SPF@127.0.0.1
PidFile $RIG_DIR/milter-spf.pid
Syslog no
AuthservID mx.rig.test
InternalHosts 192.0.2.99
HELO_reject No_Check
Nameservers 127.0.0.1@$RIG_DNS_PORT"
DMARC_CONF="Socket inet:$PORT_DMARC@127.0.0.1
PidFile $RIG_DIR/milter-dmarc.pid
Syslog no
AuthservID mx.rig.test
TrustedAuthservIDs mx.rig.test
IgnoreHosts 192.0.2.99
RejectFailures true
HistoryDatabase sqlite:$RIG_DIR/history.sqlite
Nameservers 127.0.0.1@$RIG_DNS_PORT"
ARC_CONF="Socket inet:$PORT_ARC@127.0.0.1
PidFile $RIG_DIR/milter-arc.pid
Syslog no
Mode sv
AuthservID mx.rig.test
Domain soak.test
Selector sel
KeyFile $KEY
RequireSafeKeys no
Nameservers 127.0.0.1@$RIG_DNS_PORT"
milter_conf milter-dkim "$DKIM_CONF"
milter_conf milter-spf "$SPF_CONF"
milter_conf milter-dmarc "$DMARC_CONF"
milter_conf milter-arc "$ARC_CONF"

# start NAME BIN PORT - the daemon in the foreground, tracked by the rig
start() {
	rig_spawn "$2" -f -c "$RIG_DIR/milter-$1.conf"
	eval "PID_$1=$RIG_SPAWNED"
	wait_port "$3" "$RIG_SPAWNED" 100
}
start dkim "$MD" "$PORT_DKIM" || { ok 1 "milter-dkim starts"; exit 1; }
start spf "$MS" "$PORT_SPF" || { ok 1 "milter-spf starts"; exit 1; }
start dmarc "$MDM" "$PORT_DMARC" || { ok 1 "milter-dmarc starts"; exit 1; }
start arc "$MA" "$PORT_ARC" || { ok 1 "milter-arc starts"; exit 1; }
DAEMONS="dkim spf dmarc arc"

RIG_MILTERS="inet:127.0.0.1:$PORT_SPF, inet:127.0.0.1:$PORT_DKIM,
    inet:127.0.0.1:$PORT_DMARC, inet:127.0.0.1:$PORT_ARC"
RIG_MILTER_DEFAULT_ACTION=tempfail
RIG_MAILBOXES="soak@rig.test"
RIG_POSTCONF="default_process_limit = 64"
rig_postfix || exit 1

cat > "$RIG_DIR/msg" <<-EOF
	From: Soak <soak@soak.test>
	To: <soak@rig.test>
	Subject: soak
	Date: Thu, 3 Dec 2026 00:00:00 +0000
	MIME-Version: 1.0
	Content-Type: text/plain

	$(for i in $(seq 60); do echo "line $i of a message of about 4 KB, written out to fill the body."; done)
	EOF

# load SECONDS - smtp-source batches until SECONDS have passed
load() {
	local end=$((SECONDS + $1)) n=0
	while [ $SECONDS -lt $end ] && [ $n -lt 1000 ]; do
		timeout 120 smtp-source -s "$SESSIONS" -m 400 -F "$RIG_DIR/msg" \
		    -f soak@soak.test -t soak@rig.test \
		    "127.0.0.1:$RIG_SMTP_PORT" 2>> "$RIG_DIR/smtp-source.err"
		n=$((n + 1))
	done
}

# level FIRST LAST SAMPLE... - the median of samples FIRST to LAST
level() {
	local a=$1 b=$2
	shift 2
	printf '%s\n' "$@" | sed -n "${a},${b}p" | sort -n |
	    awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'
}

# rss PID - resident size in kB
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2> /dev/null; }

# drained - wait until the queue is empty (60 s at most)
drained() {
	local i
	for i in $(seq 600); do
		[ -z "$(find "$RIG_DIR/postfix/queue/incoming" \
		    "$RIG_DIR/postfix/queue/active" \
		    "$RIG_DIR/postfix/queue/deferred" -type f 2> /dev/null |
		    head -1)" ] && return 0
		sleep 0.1
	done
	return 1
}

# check PHASE - every queued message delivered once, signed and checked
check() {
	local md queued sent files unsigned nospf nodmarc noarc bad sample
	drained
	ok $? "$1: the queue drains"
	queued=$(grep -c 'postfix/qmgr.*: from=<.*nrcpt=' "$RIG_DIR/maillog")
	# (queue ids are reused over a long run: deliveries are counted, a
	# message delivered twice would make more deliveries than queued)
	sent=$(grep -c 'postfix/virtual.*status=sent' "$RIG_DIR/maillog")
	md=$(rig_maildir soak@rig.test)
	files=$(find "$md/new" "$md/cur" -type f | wc -l)
	is "$sent" "$queued" \
	    "$1: every queued message delivered once ($queued)"
	is "$files" "$queued" "$1: one file per queued message"
	QUEUED=$((QUEUED + queued))
	REFUSED=$((REFUSED + $(grep -c 'milter-reject.*4\.[0-9]\.[0-9]' \
	    "$RIG_DIR/maillog")))
	unsigned=$(grep -L '^DKIM-Signature: .*d=soak.test' -r "$md/new" |
	    wc -l)
	nospf=$(grep -L 'spf=pass' -r "$md/new" | wc -l)
	is "$unsigned" 0 "$1: every message signed by milter-dkim"
	is "$nospf" 0 "$1: every message has spf=pass from milter-spf"
	nodmarc=$(grep -L 'dmarc=pass' -r "$md/new" | wc -l)
	noarc=$(grep -L '^ARC-Authentication-Results: i=1; mx\.rig\.test;' \
	    -r "$md/new" | wc -l)
	is "$nodmarc" 0 "$1: every message has dmarc=pass from milter-dmarc"
	is "$noarc" 0 "$1: every message sealed by milter-arc (i=1)"
	bad=0 badarc=0
	for f in $(ls "$md/new" | shuf -n 20 2> /dev/null); do
		$DT verify -k "$RIG_DIR/keys" < "$md/new/$f" |
		    grep -q '^pass d=soak.test' || bad=$((bad + 1))
		$AT verify -k "$RIG_DIR/keys" < "$md/new/$f" |
		    grep -q '^arc=pass' || badarc=$((badarc + 1))
	done
	is "$bad" 0 "$1: a sample of 20 signatures verifies"
	is "$badarc" 0 "$1: the ARC chains of the same sample validate"
	printf '%-8s %8s queued %6s refused(4xx)\n' "$1" "$queued" \
	    "$(grep -c 'milter-reject.*4\.[0-9]\.[0-9]' "$RIG_DIR/maillog")" \
	    >> "$SUMMARY"
	# next phase starts from an empty mailbox and log
	mkdir -p "$RIG_DIR/done-$1"
	find "$md/new" "$md/cur" -type f -exec mv -t "$RIG_DIR/done-$1/" {} +
	cat "$RIG_DIR/maillog" >> "$RIG_DIR/maillog.all"
	: > "$RIG_DIR/maillog"
}

# errors NAME - error lines in a daemon's log (warnings about the
# configuration excepted)
errors() {
	grep -iE 'error|fatal|panic|sanitizer' "$RIG_DIR/$1.log" |
	    grep -v 'configuration' | head -5
}

echo "# soak: $SECONDS_SOAK s at $SESSIONS sessions"
printf 'phase      messages        refused\n' > "$SUMMARY"

# Phase 1: soak, sampling RSS.
load "$SECONDS_SOAK" &
LOAD=$!
for d in $DAEMONS; do eval "samples_$d=''"; done
while kill -0 "$LOAD" 2> /dev/null; do
	for d in $DAEMONS; do
		eval "samples_$d=\"\$samples_$d \$(rss \"\$PID_$d\")\""
	done
	sleep 2
done
wait "$LOAD"
for d in $DAEMONS; do
	eval "s=\$samples_$d"
	set -- $s
	n=$#
	warm=$(( (n + 4) / 5 ))
	[ "$warm" -lt 10 ] && [ "$n" -gt 10 ] && warm=10
	fifth=$(( (n + 4) / 5 ))
	base=$(level $((warm + 1)) $((warm + fifth)) $s)
	end=$(level $((n - fifth + 1)) "$n" $s)
	top=$(echo $s | awk -v w="$warm" '{ m = 0; for (i = w; i <= NF; i++)
	    if ($i > m) m = $i; print m }')
	growth=$(awk -v a="$base" -v b="$end" 'BEGIN { if (a > 0)
	    printf("%.1f", (b - a) * 100 / a) }')
	echo "# milter-$d RSS (kB) every 2 s:$s"
	[ -n "$growth" ] && awk -v g="$growth" 'BEGIN { exit !(g + 0 < 5) }'
	ok $? "soak: milter-$d RSS growth after warm-up $growth % (< 5 %)"
	printf 'RSS milter-%s: %s kB after warm-up, %s kB at the end (%s %%), %s kB at most\n' \
	    "$d" "$base" "$end" "$growth" "$top" >> "$SUMMARY"
done
check soak

# Phase 2: reloads under load, then a broken file.
load "$RELOAD_SECONDS" &
LOAD=$!
gap=$(awk -v s="$RELOAD_SECONDS" -v n="$RELOADS" 'BEGIN { printf "%.3f",
    s / n }')
for i in $(seq "$RELOADS"); do
	kill -HUP "$PID_dkim" "$PID_spf" "$PID_dmarc" "$PID_arc" \
	    2> /dev/null || break
	sleep "$gap"
done
wait "$LOAD"
kill -0 "$PID_dkim" "$PID_spf" "$PID_dmarc" "$PID_arc" 2> /dev/null
ok $? "reload: every daemon alive after $RELOADS SIGHUPs each"
for d in $DAEMONS; do
	echo "# milter-$d logged $(grep -c 'reloaded' "$RIG_DIR/milter-$d.log") reloads"
done
check reload
milter_conf milter-dkim "$DKIM_CONF
NoSuchKeyword yes"
before=$(grep -c 'reload' "$RIG_DIR/milter-dkim.log")
kill -HUP "$PID_dkim"
for i in $(seq 50); do
	[ "$(grep -c 'reload' "$RIG_DIR/milter-dkim.log")" -gt "$before" ] &&
	    break
	sleep 0.1
done
tail -n +$((before + 1)) "$RIG_DIR/milter-dkim.log" | grep -i 'reload' |
    grep -qiv 'configuration reloaded'
ok $? "reload: a broken file is refused"
load 3
check broken-reload
milter_conf milter-dkim "$DKIM_CONF"

# Phase 3: kill -9 in the middle of a load, then restart.
load 20 &
LOAD=$!
sleep 5
kill -KILL "$PID_dkim"
wait "$PID_dkim" 2> /dev/null
sleep 2
start dkim "$MD" "$PORT_DKIM"
ok $? "kill: milter-dkim starts again on its socket and PID file"
is "$(cat "$RIG_DIR/milter-dkim.pid" 2> /dev/null)" "$PID_dkim" \
    "kill: the PID file names the new process"
wait "$LOAD"
check kill

for d in $DAEMONS; do
	d=milter-$d
	e=$(errors "$d")
	is "$e" "" "$d logged no error"
done
# milter-dmarc writes its history as it goes and the rest on SIGTERM:
# one row per message it saw (a message refused with 4xx after it was
# seen may add one)
kill -TERM "$PID_dmarc"
wait "$PID_dmarc" 2> /dev/null
if command -v sqlite3 > /dev/null; then
	rows=$(sqlite3 "$RIG_DIR/history.sqlite" \
	    "SELECT count(*) FROM messages" 2> /dev/null)
	[ -n "$rows" ] && [ "$rows" -ge "$QUEUED" ] &&
	    [ "$rows" -le $((QUEUED + REFUSED)) ]
	ok $? "milter-dmarc history: $rows rows for $QUEUED messages queued ($REFUSED refused with 4xx)"
else
	echo "# skip: no sqlite3 to count milter-dmarc's history"
fi
sed 's/^/# /' "$SUMMARY"
cp "$SUMMARY" "$(dirname "$BUILD")/soak.txt" 2> /dev/null
echo "1..$T"
exit $FAILED

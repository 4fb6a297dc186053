#!/bin/bash
# mta.sh - the milters behind a real Postfix, driven by smtp-source
#
# Usage: BUILD=build/plain bash t/bench/mta.sh	(run by t/bench.sh)
#
# The test rig's private Postfix (t/lib/rig.sh) with one smtpd listener
# per column, each with its own smtpd_milters (-o in master.cf), so the
# columns of a cell run one after the other against the same Postfix
# without a reload: no milter, ours (milter-dkim, milter-spf) and the
# incumbent (OpenDKIM, pyspf-milter).  Postfix's own load generator
# smtp-source sends 4 KB messages, one SMTP session per message, with 1
# and 8 sessions in parallel, over milter sockets of both kinds (inet on
# 127.0.0.1 and unix).  Cells: the shared runtime with no work
# (t/tools/testmilter, which adds two header fields: what the protocol
# itself costs), DKIM signing (the client 127.0.0.1 is
# internal), DKIM verifying (the same message signed in advance, the key
# served by a private nsd), SPF (mail from an address whose SPF record
# allows 127.0.0.1), and, on inet at 1 and 8 sessions, milter-dkim and
# milter-spf chained (and OpenDKIM with pyspf-milter), and DMARC:
# milter-dmarc against OpenDMARC, each reading the same trusted
# Authentication-Results (spf=pass and dkim=pass of another authserv-id,
# in the message) for a domain with p=reject, each finding the policy in
# the DNS and keeping its history (ours in SQLite, OpenDMARC's
# HistoryFile).  OpenDMARC asks the resolver of /etc/resolv.conf on port
# 53 only: it runs in its own mount namespace (unshare -m) where that
# file names an address of 127.0.0.0/8 picked at run time, on whose port
# 53 the same nsd answers.  ARC: milter-arc validating messages that
# carry chains of 1, 3 and 10 sets (sealed in advance with the ARC
# library, t/tools/arctool), and sealing (Mode sv, the client internal),
# against OpenARC when OPENARC names it (it is not packaged in Debian),
# in the same kind of namespace as OpenDMARC.  The null cell's incumbent
# is t/bench/nullmilter.c: testmilter's work on Debian's libmilter,
# which OpenDKIM, OpenARC and OpenDMARC are built on.
#
# milter_default_action is tempfail, so a milter that fails makes
# smtp-source stop with an error rather than look fast; then every
# delivered message is checked: a DKIM-Signature of the signing domain,
# "dkim=pass" in Authentication-Results, an SPF result of pass
# (Received-SPF or Authentication-Results), "dmarc=pass" under our
# authserv-id, "arc=pass" (validation) or our ARC-Seal (sealing).  A column whose messages did
# not all arrive checked is shown as "FAIL".
#
# Each column of a cell is measured ROUNDS times, the columns taking
# turns in alternating order (none ours theirs, theirs ours none, ...),
# and the median counts, so that a machine whose load drifts favours no
# column.  The rate is messages over the wall time of smtp-source (from
# the first connection to the last "250 queued"); the added latency per
# message is SESSIONS * (1/rate - 1/rate without milter).
#
# Output: a table, one row per cell, with messages per second of each
# column, ours/no-milter, ours/incumbent and the added latency, then the
# targets (every cell >= 0.85 of no milter and >= the incumbent; the
# chained cell >= 0.75).
#
# ENVIRONMENT
#	BENCH_MTA_N1, BENCH_MTA_N8	messages per measurement at 1 and 8
#					sessions (200, 600)
#	BENCH_MTA_ROUNDS		measurements per column (3)
#	BENCH_MTA_CELLS			only these cells (e.g. "dmarc-inet-1
#					dmarc-inet-8")
#	OPENDKIM, PYSPF_MILTER, OPENDMARC, OPENARC
#					the incumbents; missing: n/a columns
#					(OpenARC: openarc on PATH, if any)
#	SMTP_SOURCE			/usr/sbin/smtp-source
#	KEEP=1				keep the rig's directory
#
# Needs root (a private Postfix), postfix, nsd.  Everything listens on
# 127.0.0.1 or UNIX sockets in the rig's directory; all processes are
# stopped by PID on exit.
SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
cd "$SRCDIR" || exit 1
BUILD=${BUILD:-$SRCDIR/build/plain}
MD=$BUILD/bin/milter-dkim
MS=$BUILD/bin/milter-spf
MDM=$BUILD/bin/milter-dmarc
MA=$BUILD/bin/milter-arc
ARCTOOL=$BUILD/t/tools/arctool
DKIMTOOL=$BUILD/t/tools/dkimtool
OPENDKIM=${OPENDKIM:-/usr/sbin/opendkim}
PYSPF_MILTER=${PYSPF_MILTER:-/usr/bin/pyspf-milter}
OPENDMARC=${OPENDMARC:-/usr/sbin/opendmarc}
OPENARC=${OPENARC:-$(command -v openarc)}
SMTP_SOURCE=${SMTP_SOURCE:-/usr/sbin/smtp-source}
HZ=$(getconf CLK_TCK)
N1=${BENCH_MTA_N1:-200}
N8=${BENCH_MTA_N8:-600}
ROUNDS=${BENCH_MTA_ROUNDS:-3}
DATA=$SRCDIR/t/data/dkimd
DOMAIN=blue.example.jp
FROM=bench@$DOMAIN

say() { echo "bench-mta: $*" >&2; }

[ "$(id -u)" = 0 ] || { say "skipped: needs root for a private Postfix"; exit 0; }
for f in "$MD" "$MS" "$MDM" "$MA" "$DKIMTOOL" "$ARCTOOL"; do
	[ -x "$f" ] || { say "$f not built"; exit 1; }
done
command -v postfix >/dev/null || [ -x /usr/sbin/postfix ] ||
    { say "skipped: postfix is not installed"; exit 0; }
[ -x "$SMTP_SOURCE" ] || { say "skipped: no $SMTP_SOURCE"; exit 0; }
command -v nsd >/dev/null || { say "skipped: nsd is not installed"; exit 0; }

RIG_LIB=$SRCDIR/t/lib
export RIG_LIB
. t/lib/rig.sh
. t/data/dns/nsd.sh

# The cells: name, socket kind, sessions; the milters of each column are
# set up by setup_cell.
CELLS="null-inet-1 null-unix-1
sign-inet-1 sign-inet-8 sign-unix-1 sign-unix-8
verify-inet-1 verify-inet-8 verify-unix-1 verify-unix-8
spf-inet-1 spf-inet-8 spf-unix-1 spf-unix-8
chain-inet-1 chain-inet-8
dmarc-inet-1 dmarc-inet-8
arcv1-inet-1 arcv1-inet-8 arcv3-inet-8 arcv10-inet-8
arcseal-inet-1 arcseal-inet-8"
[ -n "${BENCH_MTA_CELLS:-}" ] && CELLS=$BENCH_MTA_CELLS
COLUMNS="none ours theirs"

# spawn LOG COMMAND... - start a daemon in its own session, umask 000
#	(so that Postfix's processes may connect to its UNIX socket)
spawn() {
	local log=$1
	shift
	( umask 000; exec perl -e "$RIG__SETSID" "$@" ) >"$log" 2>&1 </dev/null &
	rig__track $!
	PIDOF[$(basename "$log" .log)]=$!
}

# wait_sock SPEC - wait up to 10 s until inet:PORT@HOST or unix:PATH
#	accepts a connection
wait_sock() {
	local i
	for i in $(seq 100); do
		case $1 in
		inet:*) (exec 3<>"/dev/tcp/127.0.0.1/$(echo "$1" |
		    sed 's/^inet:\([0-9]*\)@.*/\1/')") 2>/dev/null && return 0 ;;
		unix:*) [ -S "${1#unix:}" ] && /usr/bin/python3 -c '
import socket, sys
socket.socket(socket.AF_UNIX).connect(sys.argv[1])' "${1#unix:}" \
		    2>/dev/null && return 0 ;;
		esac
		sleep 0.1
	done
	say "no milter at $1"
	return 1
}

# postfix_spec SPEC - the same socket as Postfix writes it
postfix_spec() {
	case $1 in
	inet:*) echo "$1" | sed 's/^inet:\([0-9]*\)@\(.*\)/inet:\2:\1/' ;;
	*) echo "$1" ;;
	esac
}

# new_spec KIND NAME - a fresh socket for a daemon
new_spec() {
	case $1 in
	inet) echo "inet:$("$RIG_LIB/freeport")@127.0.0.1" ;;
	unix) echo "unix:$RIG_DIR/$2.sock" ;;
	esac
}

# start_ours_dkim MODE KIND - milter-dkim signing (s) or verifying (v)
start_ours_dkim() {
	local name=ours-dkim-$1-$2 spec
	spec=$(new_spec "$2" "$name")
	{
		echo "Socket $spec"
		echo "Syslog no"
		echo "Mode $1"
		echo "AuthservID mx.rig.test"
		echo "Canonicalization relaxed/simple"
		echo "Nameservers 127.0.0.1:$NSD_PORT"
		if [ "$1" = s ]; then
			echo "InternalHosts 127.0.0.1"
			echo "Domain $DOMAIN"
			echo "Selector default"
			echo "KeyFile $RIG_DIR/rsa2048.pem"
		else
			echo "InternalHosts 192.0.2.255"
		fi
	} >"$RIG_DIR/$name.conf"
	spawn "$RIG_DIR/$name.log" "$MD" -f -c "$RIG_DIR/$name.conf"
	wait_sock "$spec" && SPEC[$name]=$spec
}

# start_theirs_dkim MODE KIND - OpenDKIM with equivalent settings
start_theirs_dkim() {
	local name=theirs-dkim-$1-$2 spec
	[ -x "$OPENDKIM" ] || return 0
	spec=$(new_spec "$2" "$name")
	{
		echo "Socket $spec"
		echo "Syslog no"
		echo "Background no"
		echo "UMask 000"
		echo "Mode $1"
		echo "AuthservID mx.rig.test"
		echo "Canonicalization relaxed/simple"
		echo "Nameservers 127.0.0.1@$NSD_PORT"
		echo "RequireSafeKeys no"
		echo "PidFile $RIG_DIR/$name.pid"
		if [ "$1" = s ]; then
			echo "InternalHosts 127.0.0.1"
			echo "Domain $DOMAIN"
			echo "Selector default"
			echo "KeyFile $RIG_DIR/rsa2048.pem"
		else
			echo "InternalHosts 192.0.2.255"
		fi
	} >"$RIG_DIR/$name.conf"
	spawn "$RIG_DIR/$name.log" "$OPENDKIM" -f -x "$RIG_DIR/$name.conf"
	wait_sock "$spec" && SPEC[$name]=$spec
}

# start_ours_spf KIND - milter-spf (127.0.0.1 is not internal here)
start_ours_spf() {
	local name=ours-spf-$1 spec
	spec=$(new_spec "$1" "$name")
	printf 'Socket %s\nSyslog no\nNameservers 127.0.0.1:%s\n%s\n%s\n' \
	    "$spec" "$NSD_PORT" "InternalHosts 192.0.2.255" \
	    "AuthservID mx.rig.test" >"$RIG_DIR/$name.conf"
	spawn "$RIG_DIR/$name.log" "$MS" -f -c "$RIG_DIR/$name.conf"
	wait_sock "$spec" && SPEC[$name]=$spec
}

# PYSPF_DNS - pyspf-milter with dnspython's resolver set to our nsd
#	(it has no setting for name servers; it reads /etc/resolv.conf)
PYSPF_DNS='
import sys, dns.resolver
r = dns.resolver.Resolver(configure=False)
r.nameservers = ["127.0.0.1"]
r.port = int(sys.argv[1])
dns.resolver.default_resolver = r
sys.argv = [sys.argv[2], sys.argv[3]]
exec(compile(open(sys.argv[0]).read(), sys.argv[0], "exec"))
'

# start_theirs_spf KIND - pyspf-milter, equivalent settings
start_theirs_spf() {
	local name=theirs-spf-$1 spec
	[ -x "$PYSPF_MILTER" ] || return 0
	spec=$(new_spec "$1" "$name")
	cat >"$RIG_DIR/$name.conf" <<-EOF
	debugLevel = 0
	Socket = $spec
	PidFile = $RIG_DIR/$name.pid
	UserID = root
	HELO_reject = Fail
	Mail_From_reject = Fail
	PermError_reject = False
	TempError_Defer = False
	skip_addresses = 192.0.2.255/32
	InternalHosts = 192.0.2.255/32
	UMask = 0
	Authserv_Id = mx.rig.test
	EOF
	spawn "$RIG_DIR/$name.log" /usr/bin/python3 -c "$PYSPF_DNS" \
	    "$NSD_PORT" "$PYSPF_MILTER" "$RIG_DIR/$name.conf"
	wait_sock "$spec" && SPEC[$name]=$spec
}

# start_ours_dmarc KIND - milter-dmarc trusting mx.upstream.test's results
start_ours_dmarc() {
	local name=ours-dmarc-$1 spec
	spec=$(new_spec "$1" "$name")
	{
		echo "Socket $spec"
		echo "Syslog no"
		echo "AuthservID mx.rig.test"
		echo "TrustedAuthservIDs mx.upstream.test"
		echo "IgnoreHosts 192.0.2.255"
		echo "RejectFailures true"
		echo "HistoryDatabase sqlite:$RIG_DIR/$name.sqlite"
		echo "Nameservers 127.0.0.1:$NSD_PORT"
	} >"$RIG_DIR/$name.conf"
	spawn "$RIG_DIR/$name.log" "$MDM" -f -c "$RIG_DIR/$name.conf"
	wait_sock "$spec" && SPEC[$name]=$spec
}

# incumbent_head SPEC NAME - the first lines of an OpenDMARC or OpenARC
#	configuration: its socket, in the foreground, no syslog, its pid
#	file, our authserv-id
incumbent_head() {
	echo "Socket $1"
	echo "Syslog false"
	echo "Background false"
	echo "UMask 000"
	echo "PidFile $RIG_DIR/$2.pid"
	echo "AuthservID mx.rig.test"
}

# start_theirs_dmarc KIND - OpenDMARC, the same settings, in a mount
#	namespace whose /etc/resolv.conf names nsd's port-53 address
start_theirs_dmarc() {
	local name=theirs-dmarc-$1 spec
	[ -x "$OPENDMARC" ] && [ -n "$NSD_ALSO" ] || return 0
	command -v unshare >/dev/null || return 0
	spec=$(new_spec "$1" "$name")
	echo 192.0.2.255 >"$RIG_DIR/$name.ignore"
	{
		incumbent_head "$spec" "$name"
		echo "TrustedAuthservIDs mx.upstream.test"
		echo "IgnoreHosts $RIG_DIR/$name.ignore"
		echo "RejectFailures true"
		echo "HistoryFile $RIG_DIR/$name.history"
	} >"$RIG_DIR/$name.conf"
	spawn_resolved "$name" "$OPENDMARC"
	wait_sock "$spec" && SPEC[$name]=$spec
}

# spawn_resolved NAME PROGRAM - PROGRAM -f -c $RIG_DIR/NAME.conf in its
#	own mount namespace, where /etc/resolv.conf names nsd's port-53
#	address (for incumbents that ask the system's resolver only)
spawn_resolved() {
	echo "nameserver $NSD_ALSO" >"$RIG_DIR/$1.resolv"
	spawn "$RIG_DIR/$1.log" unshare -m sh -c \
	    'mount --bind "$0" /etc/resolv.conf && exec "$1" -f -c "$2"' \
	    "$RIG_DIR/$1.resolv" "$2" "$RIG_DIR/$1.conf"
}

# start_ours_arc MODE KIND - milter-arc validating (v) or sealing (sv,
#	with 127.0.0.1 internal)
start_ours_arc() {
	local name=ours-arc-$1-$2 spec
	spec=$(new_spec "$2" "$name")
	{
		echo "Socket $spec"
		echo "Syslog no"
		echo "Mode $1"
		echo "AuthservID mx.rig.test"
		echo "Nameservers 127.0.0.1:$NSD_PORT"
		if [ "$1" = sv ]; then
			echo "InternalHosts 127.0.0.1"
			echo "Domain $DOMAIN"
			echo "Selector default"
			echo "KeyFile $RIG_DIR/rsa2048.pem"
		else
			echo "InternalHosts 192.0.2.255"
		fi
	} >"$RIG_DIR/$name.conf"
	spawn "$RIG_DIR/$name.log" "$MA" -f -c "$RIG_DIR/$name.conf"
	wait_sock "$spec" && SPEC[$name]=$spec
}

# start_theirs_arc MODE KIND - OpenARC (OPENARC: not packaged in
#	Debian, built from its source) with the same settings, finding the
#	keys in the DNS as spawn_resolved arranges; sealing is its Mode s
start_theirs_arc() {
	local name=theirs-arc-$1-$2 spec
	[ -n "$OPENARC" ] && [ -x "$OPENARC" ] && [ -n "$NSD_ALSO" ] || return 0
	command -v unshare >/dev/null || return 0
	spec=$(new_spec "$2" "$name")
	{
		incumbent_head "$spec" "$name"
		echo "RequireSafeKeys false"
		if [ "$1" = sv ]; then
			echo "Mode s"
			echo "Domain $DOMAIN"
			echo "Selector default"
			echo "KeyFile $RIG_DIR/rsa2048.pem"
		else
			echo "Mode v"
		fi
	} >"$RIG_DIR/$name.conf"
	spawn_resolved "$name" "$OPENARC"
	wait_sock "$spec" && SPEC[$name]=$spec
}

# milter_keys CELL COLUMN - the SPEC names of a column's milters (none
#	for no milter); fails when one of them is missing
milter_keys() {
	local what=${1%%-*} rest=${1#*-} kind who=$2 list= k
	kind=${rest%%-*}
	[ "$who" = none ] && return 0
	case $what in
	null) list="$who-null-$kind" ;;
	sign) list="$who-dkim-s-$kind" ;;
	verify) list="$who-dkim-v-$kind" ;;
	spf) list="$who-spf-$kind" ;;
	dmarc) list="$who-dmarc-$kind" ;;
	arcv*) list="$who-arc-v-$kind" ;;
	arcseal) list="$who-arc-sv-$kind" ;;
	chain) list="$who-dkim-s-$kind $who-spf-$kind" ;;
	esac
	for k in $list; do
		[ -n "${SPEC[$k]}" ] || return 1
	done
	echo $list
}

# milters CELL COLUMN - the smtpd_milters value of a column ("" for
#	none); fails when a milter of the column is missing
milters() {
	local keys k
	keys=$(milter_keys "$1" "$2") || return 1
	for k in $keys; do
		printf '%s,' "$(postfix_spec "${SPEC[$k]}")"
	done | sed 's/,$//'
}

# check_re CELL - the regular expression every delivered message of the
#	cell matches (header fields unfolded)
check_re() {
	case ${1%%-*} in
	null) echo '^X-Test-Milter: ' ;;
	sign) echo "^DKIM-Signature:.*[; ]d=$DOMAIN;" ;;
	verify) echo '^Authentication-Results: .*dkim=pass' ;;
	spf) echo '^(Received-SPF: Pass|Authentication-Results: .*spf=pass)' ;;
	chain) echo "^DKIM-Signature:.*[; ]d=$DOMAIN;" ;;
	dmarc) echo '^Authentication-Results: mx\.rig\.test;.*dmarc=pass' ;;
	arcv*) echo '^Authentication-Results: mx\.rig\.test;.*arc=pass' ;;
	arcseal) echo "^ARC-Seal:.*[; ]d=$DOMAIN;" ;;
	esac
}

# checked DIR REGEX [REGEX] - how many messages in Maildir DIR have a
#	header field matching each REGEX
checked() {
	perl -e '
		my ($dir, @re) = @ARGV;
		my $n = 0;
		for my $f (glob("$dir/new/* $dir/cur/*")) {
			open(my $fh, "<", $f) or next;
			local $/ = "";			# the header: first paragraph
			my $h = <$fh>;
			$h =~ s/\r?\n[ \t]+/ /g;	# unfold
			my $all = 1;
			for my $re (@re) {
				$all = 0 unless $h =~ /$re/m;
			}
			$n += $all;
		}
		print "$n\n";
	' "$@"
}

# delivered - how many messages all the mailboxes hold
delivered() {
	find "$RIG_MAIL" -path '*/new/*' -type f | wc -l
}

# wait_quiet - wait (up to 30 s) until every message accepted so far is
#	delivered, so that no delivery of an earlier run competes with the
#	next one for the CPU
wait_quiet() {
	local i
	for i in $(seq 300); do
		[ "$(delivered)" -ge "$ACCEPTED" ] && return 0
		sleep 0.1
	done
	say "only $(delivered) of $ACCEPTED messages delivered"
}

# busy_ms - CPU time the machine has spent busy (all cores), in ms
busy_ms() {
	awk -v hz="$HZ" '$1 == "cpu" {
		printf "%.0f\n", ($2 + $3 + $4 + $7 + $8) * 1000 / hz
		exit }' /proc/stat
}

# proc_ms PID... - CPU time of these processes (all their threads), ms
proc_ms() {
	local pid t=0 f
	for pid in "$@"; do
		f=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null) || continue
		set -- $f
		t=$((t + ${12} + ${13}))
	done
	echo $((t * 1000 / HZ))
}

# measure PORT N SESSIONS RCPT MSG PIDS - send N messages; set RATE to
#	msg/s, or to "FAIL" when smtp-source stopped (a message refused);
#	CPU to the machine's busy CPU time per message from the first
#	connection until the N messages are delivered, MCPU to that of the
#	milter processes PIDS (ms)
measure() {
	local t0 t1 c0 c1 m0 m1
	wait_quiet
	c0=$(busy_ms)
	m0=$(proc_ms $6)
	t0=$(date +%s%N)
	if ! "$SMTP_SOURCE" -s "$3" -m "$2" -F "$5" -f "$FROM" -t "$4" \
	    "127.0.0.1:$1" >"$RIG_DIR/smtp-source.out" 2>&1; then
		sed 's/^/bench-mta: /' "$RIG_DIR/smtp-source.out" | head -3 >&2
		RATE=FAIL CPU=FAIL MCPU=FAIL
		return
	fi
	t1=$(date +%s%N)
	ACCEPTED=$((ACCEPTED + $2))
	wait_quiet
	c1=$(busy_ms)
	m1=$(proc_ms $6)
	RATE=$(awk -v n="$2" -v ns=$((t1 - t0)) \
	    'BEGIN { printf "%.1f\n", n * 1e9 / ns }')
	CPU=$(awk -v n="$2" -v c=$((c1 - c0)) 'BEGIN { printf "%.3f\n", c / n }')
	MCPU=$(awk -v n="$2" -v c=$((m1 - m0)) 'BEGIN { printf "%.3f\n", c / n }')
}

# median VALUES... - the median of numbers; FAIL if any failed
median() {
	printf '%s\n' "$@" | awk '
		$1 == "FAIL" { fail = 1 }
		$1 != "FAIL" { v[++n] = $1 }
		END {
			if (fail || n == 0) { print "FAIL"; exit }
			# insertion sort: a handful of values
			for (i = 2; i <= n; i++) {
				x = v[i]
				for (j = i - 1; j >= 1 && v[j] > x; j--) v[j + 1] = v[j]
				v[j + 1] = x
			}
			print n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
		}'
}

# --- set up --------------------------------------------------------------
declare -A SPEC PORT RESULT CHECK PIDOF CPUR MCPUR
ACCEPTED=0
START=$(date +%s)
rig_init || exit 1
cp "$DATA/rsa2048.pem" "$RIG_DIR/" && chmod 600 "$RIG_DIR/rsa2048.pem"
{
	cat "$DATA/example.jp.zone"
	echo 'blue IN TXT "v=spf1 ip4:127.0.0.1 -all"'
	echo '_dmarc.blue IN TXT "v=DMARC1; p=reject"'
} >"$RIG_DIR/example.jp.zone"
# an address of 127.0.0.0/8 for OpenDMARC's port-53 resolver; without
# one (taken, say), its column is n/a
NSD_ALSO=127.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1)).$((RANDOM % 250 + 1))
if ! nsd_start example.jp "$RIG_DIR/example.jp.zone"; then
	say "nsd does not answer on $NSD_ALSO:53 too: OpenDMARC n/a"
	nsd_stop
	NSD_ALSO=
	nsd_start example.jp "$RIG_DIR/example.jp.zone" || exit 1
fi
trap 'nsd_stop; rig_cleanup' EXIT
trap 'nsd_stop; rig_cleanup; exit 1' HUP INT TERM

/usr/bin/python3 - "$RIG_DIR/msg.eml" "$FROM" <<'PY'
import sys
path, sender = sys.argv[1], sys.argv[2]
head = ("From: Bench <%s>\nTo: Alice <alice@rig.test>\n"
        "Subject: a message of 4 KB\n"
        "Date: Mon, 23 Nov 2026 12:00:00 +0000\n"
        "Message-ID: <bench.4k@blue.example.jp>\n"
        "MIME-Version: 1.0\nContent-Type: text/plain; charset=us-ascii\n\n"
        % sender)
line = "The quick brown fox jumps over the lazy dog; 0123456789 abcdefghij.\n"
with open(path, "w") as f:
    f.write(head + line * ((4096 - len(head)) // len(line)))
PY
"$DKIMTOOL" sign -d "$DOMAIN" -s default -k "$RIG_DIR/rsa2048.pem" \
    <"$RIG_DIR/msg.eml" >"$RIG_DIR/signed.eml" ||
    { say "dkimtool sign failed"; exit 1; }
{
	printf 'Authentication-Results: mx.upstream.test;\n'
	printf '\tspf=pass smtp.mailfrom=%s;\n' "$FROM"
	printf '\tdkim=pass header.d=%s header.s=default\n' "$DOMAIN"
	cat "$RIG_DIR/msg.eml"
} >"$RIG_DIR/dmarc.eml"
# chains of 1, 3 and 10 ARC sets, each hop adding its result and a set
sed -n 's/^default\._domainkey\.blue[[:space:]]*IN[[:space:]]*TXT[[:space:]]*/default._domainkey.blue.example.jp /p' \
    "$RIG_DIR/example.jp.zone" >"$RIG_DIR/arc.keys"
cp "$RIG_DIR/signed.eml" "$RIG_DIR/arc0.eml"
for i in $(seq 10); do
	"$ARCTOOL" seal -K "$RIG_DIR/rsa2048.pem" -d "$DOMAIN" -s default \
	    -a "hop$i.example" -k "$RIG_DIR/arc.keys" \
	    -r "spf=pass smtp.mailfrom=$DOMAIN" -w \
	    <"$RIG_DIR/arc$((i - 1)).eml" >"$RIG_DIR/arc$i.eml" ||
	    { say "arctool seal failed at hop $i"; exit 1; }
done
for i in 1 3 10; do
	"$ARCTOOL" verify -k "$RIG_DIR/arc.keys" <"$RIG_DIR/arc$i.eml" |
	    grep -q '^arc=pass' ||
	    { say "the chain of $i sets does not validate"; exit 1; }
done

# the null cell's incumbent: the same work on Debian's libmilter
NULLMILTER=$RIG_DIR/nullmilter
${CC:-cc} -O2 -o "$NULLMILTER" t/bench/nullmilter.c -lmilter -pthread \
    2>"$RIG_DIR/nullmilter.err" ||
    { say "nullmilter does not build (libmilter-dev?): null's incumbent n/a"
      NULLMILTER=; }
for kind in inet unix; do
	spec=$(new_spec "$kind" null)
	printf 'Socket %s\nSyslog no\n' "$spec" >"$RIG_DIR/null-$kind.conf"
	spawn "$RIG_DIR/ours-null-$kind.log" "$BUILD/t/tools/testmilter" -f \
	    -c "$RIG_DIR/null-$kind.conf"
	wait_sock "$spec" && SPEC[ours-null-$kind]=$spec
	if [ -n "$NULLMILTER" ]; then
		spec=$(new_spec "$kind" theirs-null)
		spawn "$RIG_DIR/theirs-null-$kind.log" "$NULLMILTER" "$spec"
		wait_sock "$spec" && SPEC[theirs-null-$kind]=$spec
	fi
	start_ours_dkim s "$kind"
	start_ours_dkim v "$kind"
	start_ours_spf "$kind"
	start_theirs_dkim s "$kind"
	start_theirs_dkim v "$kind"
	start_theirs_spf "$kind"
	if [ "$kind" = inet ]; then
		start_ours_dmarc "$kind"
		start_theirs_dmarc "$kind"
		start_ours_arc v "$kind"
		start_ours_arc sv "$kind"
		start_theirs_arc v "$kind"
		start_theirs_arc sv "$kind"
	fi
done

# One mailbox per cell and column: every message is checked where it lands.
boxes=
for cell in $CELLS; do
	for col in $COLUMNS; do
		boxes="$boxes $cell-$col@rig.test"
	done
done
RIG_MAILBOXES=$boxes RIG_MILTER_DEFAULT_ACTION=tempfail rig_postfix ||
    exit 1
# smtpd listeners, one per cell and column, each with its milters
for cell in $CELLS; do
	for col in $COLUMNS; do
		list=$(milters "$cell" "$col") || continue
		p=$("$RIG_LIB/freeport") || exit 1
		PORT[$cell-$col]=$p
		echo "127.0.0.1:$p inet n - n - - smtpd -o smtpd_milters=$list"
	done
done >>"$RIG_POSTFIX_DIR/master.cf"
rig__age "$RIG_POSTFIX_DIR/master.cf"
postfix -c "$RIG_POSTFIX_DIR" reload >/dev/null 2>&1
for key in "${!PORT[@]}"; do
	wait_sock "inet:${PORT[$key]}@127.0.0.1" || exit 1
done

# --- measure ---------------------------------------------------------------
for cell in $CELLS; do
	sessions=${cell##*-}
	n=$N1
	[ "$sessions" = 8 ] && n=$N8
	msg=$RIG_DIR/msg.eml
	[ "${cell%%-*}" = verify ] && msg=$RIG_DIR/signed.eml
	[ "${cell%%-*}" = dmarc ] && msg=$RIG_DIR/dmarc.eml
	case ${cell%%-*} in arcv*) w=${cell%%-*}; msg=$RIG_DIR/arc${w#arcv}.eml ;; esac
	# a few messages first: Postfix starts the processes of each listener
	for col in $COLUMNS; do
		[ -n "${PORT[$cell-$col]}" ] || continue
		"$SMTP_SOURCE" -s "$sessions" -m "$sessions" -F "$msg" -f "$FROM" \
		    -t "$cell-$col@rig.test" "127.0.0.1:${PORT[$cell-$col]}" \
		    >/dev/null 2>&1 && ACCEPTED=$((ACCEPTED + sessions))
	done
	order=$COLUMNS
	declare -A runs=() cpus=() mcpus=()
	for r in $(seq "$ROUNDS"); do
		for col in $order; do
			[ -n "${PORT[$cell-$col]}" ] || continue
			pids=
			for k in $(milter_keys "$cell" "$col"); do
				pids="$pids ${PIDOF[$k]}"
			done
			measure "${PORT[$cell-$col]}" "$n" "$sessions" \
			    "$cell-$col@rig.test" "$msg" "$pids"
			runs[$col]="${runs[$col]} $RATE"
			cpus[$col]="${cpus[$col]} $CPU"
			mcpus[$col]="${mcpus[$col]} $MCPU"
		done
		order=$(echo "$order" | tr ' ' '\n' | tac | tr '\n' ' ')
	done
	for col in $COLUMNS; do
		[ -n "${PORT[$cell-$col]}" ] || { RESULT[$cell-$col]=n/a; continue; }
		RESULT[$cell-$col]=$(median ${runs[$col]})
		CPUR[$cell-$col]=$(median ${cpus[$col]})
		MCPUR[$cell-$col]=$(median ${mcpus[$col]})
		want=$(( (ROUNDS * n) + sessions ))
		[ "${RESULT[$cell-$col]}" = FAIL ] && continue
		CHECK[$cell-$col]=$want
	done
	unset runs cpus mcpus
	say "$cell done"
done

# Every message delivered and checked (a slow delivery gets 30 s).
for key in "${!CHECK[@]}"; do
	cell=${key%-*}
	col=${key##*-}
	dir=$(rig_maildir "$key@rig.test")
	re=$(check_re "$cell")
	[ "$col" = none ] && re='^Received: '
	want=${CHECK[$key]}
	for i in $(seq 300); do
		[ "$(ls "$dir/new" 2>/dev/null | wc -l)" -ge "$want" ] && break
		sleep 0.1
	done
	if [ "${cell%%-*}" = chain ] && [ "$col" != none ]; then
		got=$(checked "$dir" "$re" "$(check_re spf)")
	else
		got=$(checked "$dir" "$re")
	fi
	if [ "$got" != "$want" ]; then
		say "$key: $got of $want messages delivered and checked"
		RESULT[$key]=FAIL
	fi
done

# --- report ----------------------------------------------------------------
{
	echo "Real-MTA benchmark: Postfix $(postconf -d -h mail_version 2>/dev/null)," \
	    "smtp-source, 4 KB messages, one SMTP session per message;" \
	    "msg/s = median of $ROUNDS runs of $N1 (1 session) or $N8" \
	    "(8 sessions) messages."
	echo "none: no milter; ours: milter-dkim / milter-spf (chain: both;" \
	    "null: testmilter, the shared runtime adding two header fields;" \
	    "dmarc: milter-dmarc; arcvN: milter-arc validating a chain of N" \
	    "sets; arcseal: milter-arc sealing);" \
	    "theirs: OpenDKIM $(dpkg-query -W -f='${Version}' opendkim \
	    2>/dev/null) / pyspf-milter $(dpkg-query -W -f='${Version}' \
	    pyspf-milter 2>/dev/null) (chain: both) / OpenDMARC" \
	    "$(dpkg-query -W -f='${Version}' opendmarc 2>/dev/null) /" \
	    "OpenARC ${OPENARC:-not installed (n/a)} / null: the same work" \
	    "on Debian's libmilter (t/bench/nullmilter.c)."
	echo "Every delivered message checked (signature, dkim=pass, spf=pass," \
	    "dmarc=pass, arc=pass, ARC-Seal);" \
	    "milter_default_action = tempfail."
	echo
	for cell in $CELLS; do
		printf '%s\t%s\t%s\t%s\n' "$cell" "${RESULT[$cell-none]}" \
		    "${RESULT[$cell-ours]}" "${RESULT[$cell-theirs]}"
	done | awk -F '\t' '
		function r(x) { return x ~ /^[0-9.]+$/ ? x + 0 : -1 }
		function ratio(a, b) {
			return r(a) > 0 && r(b) > 0 ? sprintf("%.2f", a / b) : "n/a"
		}
		function added(s, a, b) {
			if (r(a) <= 0 || r(b) <= 0)
				return "n/a"
			return sprintf("%+.1f", s * 1000 * (1 / a - 1 / b))
		}
		function fmt(x) { return r(x) >= 0 ? sprintf("%.0f", x) : x }
		BEGIN {
			f = "%-14s %8s %8s %8s %10s %12s %10s %10s\n"
			printf f, "cell", "none/s", "ours/s", "theirs/s",
			    "ours/none", "ours/theirs", "+ms ours", "+ms theirs"
		}
		{
			split($1, c, "-")
			printf f, $1, fmt($2), fmt($3), fmt($4), ratio($3, $2),
			    ratio($3, $4), added(c[3], $3, $2), added(c[3], $4, $2)
			min = c[1] == "chain" ? 0.75 : 0.85
			if (r($3) < 0 || r($2) < 0 || $3 / $2 < min)
				miss = miss " " $1 "(vs none)"
			if (r($4) > 0 && (r($3) < 0 || $3 < $4))
				miss = miss " " $1 "(vs theirs)"
		}
		END {
			verdict = miss == "" ? "met" : "MISSED:" miss
			printf "\ntargets (>= 0.85 of no milter, chained >= 0.75, " \
			    ">= the incumbent): %s\n", verdict
		}'
	echo "+ms: added latency per message, sessions * (1/rate - 1/rate(none))."
	echo
	echo "CPU per message (ms, all processes, from the first connection" \
	    "until delivered; median of the runs): the machine's (none, ours," \
	    "theirs), the milter processes' own (m.ours, m.theirs), what the" \
	    "rest (Postfix, smtp-source) spent beside ours (rest+), the" \
	    "machine's use of its $(nproc) cores during the ours runs (busy)," \
	    "and ceiling = none / (ours - m.ours): ours/none for a milter" \
	    "that costs no CPU itself, where the cell is CPU-bound."
	for cell in $CELLS; do
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$cell" \
		    "${CPUR[$cell-none]}" "${CPUR[$cell-ours]}" \
		    "${CPUR[$cell-theirs]}" "${MCPUR[$cell-ours]}" \
		    "${MCPUR[$cell-theirs]}" "${RESULT[$cell-ours]}"
	done | awk -F '\t' -v cores="$(nproc)" '
		function r(x) { return x ~ /^[0-9.]+$/ ? x + 0 : -1 }
		function fmt(x) { return r(x) >= 0 ? sprintf("%.2f", x) : \
		    (x == "" ? "n/a" : x) }
		BEGIN {
			f = "%-14s %7s %7s %7s %7s %8s %7s %6s %8s\n"
			printf f, "cell", "none", "ours", "theirs", "m.ours",
			    "m.theirs", "rest+", "busy", "ceiling"
		}
		{
			rest = busy = ceil = "n/a"
			if (r($2) > 0 && r($3) > 0 && r($5) >= 0) {
				rest = sprintf("%.2f", $3 - $5 - $2)
				if ($3 - $5 > 0)
					ceil = sprintf("%.2f", $2 / ($3 - $5))
			}
			if (r($3) > 0 && r($7) > 0)
				busy = sprintf("%.0f%%", $3 * $7 / 10 / cores)
			printf f, $1, fmt($2), fmt($3), fmt($4), fmt($5),
			    fmt($6), rest, busy, ceil
		}'
	echo "wall time: $(($(date +%s) - START)) s"
}

#!/bin/sh
# dns_faults.t - what each daemon writes, and how long it takes, when DNS fails
#
# Usage: BUILD=build/plain sh t/dns_faults.t	(in make check; `make faults`
#	prints the table)
#
# For every kind of DNS failure that t/lib/faultdns plays (normal
# answers, slow answers within and beyond DNSTimeout, no answer at all,
# SERVFAIL, REFUSED, truncated UDP with and without a TCP fallback, a
# 64 KB TXT record, garbage), starts that server, then milter-spf
# (checking a sender whose SPF record lives there) and milter-dkim
# (verifying a message signed with a key published there), sends one
# message through each with milterclient, and prints one table row per
# fault: the result each daemon wrote in Authentication-Results, its
# verdict, and the time the message took.  The daemons run with
# DNSTimeout 2, so "slow" answers take 1 s and "too slow" ones 3 s.
#
# Prints TAP too: each cell must end with a verdict (never a hang up or
# a crash), and the result must be the one the fault calls for under the
# default settings: pass whenever the answer can be had (slowly, over
# TCP, or large), and otherwise spf=temperror with the message accepted
# (TempError_Defer no) and a 451 from milter-dkim (On-DNSError tempfail).
#
# Every server listens on 127.0.0.1 on ports picked at run time and is
# stopped by PID on exit.
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
cd "$SRCDIR" || exit 1
BUILD=${BUILD:-$SRCDIR/build/plain}
MD=$BUILD/bin/milter-dkim
MS=$BUILD/bin/milter-spf
MC=$BUILD/t/tools/milterclient
DT=$BUILD/t/tools/dkimtool
T=0
FAILED=0
. t/lib/tap.sh
. t/lib/procs.sh

for f in "$MD" "$MS" "$MC" "$DT"; do
	need_exec "$f" || exit 0
done
perl -MNet::DNS -e 1 2> /dev/null || {
	echo "1..0 # SKIP Perl's Net::DNS (libnet-dns-perl) is not installed"
	exit 0
}

TMP=$(mktemp -d "${TMPDIR:-/tmp}/dns_faults.XXXXXX") || exit 1
PIDS=""
cleanup() { stop_procs $PIDS; PIDS=""; rm -rf "$TMP"; }
trap cleanup EXIT
trap 'cleanup; exit 1' HUP INT TERM

# The signed message and the zone that publishes its key and the SPF
# record of its sender.
$DT sign -d fault.test -s sel -k t/data/dkimd/rsa2048.pem \
    < t/data/dkimd/external.eml > "$TMP/signed.eml" || exit 1
rec=$($DT record t/data/dkimd/rsa2048.pem) || exit 1
{
	echo "fault.test. 60 IN TXT \"v=spf1 ip4:192.0.2.1 -all\""
	printf 'sel._domainkey.fault.test. 60 IN TXT'
	printf '%s\n' "$rec" | fold -w 200 | sed 's/.*/ "&"/' | tr -d '\n'
	echo
} > "$TMP/zone"

# start_dns MODE - faultdns in that mode; sets DNS_PORT
start_dns() {
	rm -f "$TMP/dns.port"
	perl t/lib/faultdns -z "$TMP/zone" -m "$1" -d "${2:-0}" \
	    -o "$TMP/dns.port" 2>> "$TMP/dns.log" &
	DNS_PID=$!
	PIDS="$PIDS $DNS_PID"
	wait_file "$TMP/dns.port" 50 || return 1
	DNS_PORT=$(cat "$TMP/dns.port")
}

# wait_file FILE TENTHS - until FILE is non-empty
wait_file() {
	local i=0
	while ! [ -s "$1" ] && [ $i -lt "$2" ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ -s "$1" ]
}

# start_milter NAME BIN CONF - a daemon on a free port; sets PORT_<NAME>
start_milter() {
	local port
	port=$(perl t/lib/freeport) || return 1
	printf '%s\nSocket inet:%s@127.0.0.1\n' "$3" "$port" > "$TMP/$1.conf"
	"$2" -f -c "$TMP/$1.conf" 2> "$TMP/$1.log" &
	PIDS="$PIDS $!"
	eval "PID_$1=$!"
	wait_port "$port" "$!" || return 1
	eval "PORT_$1=$port"
}

# ms - milliseconds since the epoch
ms() { date +%s%3N; }

# run NAME PORT ARGS... - one message; prints "verdict result ms"
run() {
	local name=$1 port=$2 t0 t1 out verdict res
	shift 2
	t0=$(ms)
	out=$($MC -s "inet:$port@127.0.0.1" -T 60 "$@" 2>&1)
	t1=$(ms)
	verdict=$(printf '%s\n' "$out" | tail -1 | awk '{print $1}')
	res=$(printf '%s\n' "$out" | grep -io "\(spf\|dkim\)=[a-z]*" |
	    head -1)
	if [ "$verdict" = REPLYCODE ]; then
		verdict=$(printf '%s\n' "$out" | tail -1 | awk '{print $2}')
		res=${res:-refused}
	fi
	echo "${verdict:-none} ${res:-no-result} $((t1 - t0))"
}

MODES="answer slow:1000 too-slow:3000 drop servfail refused tc-tcp tc-notcp big garbage"
n_modes=$(echo $MODES | wc -w)
echo "1..$((n_modes * 4))"
printf '%-13s  %-26s  %-26s\n' fault "milter-spf (result, ms)" \
    "milter-dkim (result, ms)" > "$TMP/table"
for m in $MODES; do
	mode=${m%%:*}
	delay=${m#*:}
	[ "$delay" = "$m" ] && delay=0
	[ "$mode" = too-slow ] && mode=slow
	start_dns "$mode" "$delay" || { ok 1 "faultdns $m starts"; continue; }
	ns="Nameservers 127.0.0.1@$DNS_PORT
DNSTimeout 2"
	start_milter spf "$MS" "$ns
AuthservID mx.test
HELO_reject No_Check" || { ok 1 "milter-spf starts ($m)"; continue; }
	start_milter dkim "$MD" "$ns
AuthservID mx.test
Mode v
" || { ok 1 "milter-dkim starts ($m)"; continue; }
	set -- $(run spf "$PORT_spf" -i 192.0.2.1 -f "a@fault.test" \
	    -r "b@mx.test" < t/data/dkimd/external.eml)
	sv=$1 sr=$2 st=$3
	set -- $(run dkim "$PORT_dkim" -i 192.0.2.1 -f "a@fault.test" \
	    -r "b@mx.test" < "$TMP/signed.eml")
	dv=$1 dr=$2 dt=$3
	printf '%-13s  %-26s  %-26s\n' "$m" "$sr $sv $st" "$dr $dv $dt" \
	    >> "$TMP/table"
	case $sv in ACCEPT|CONTINUE|REJECT|TEMPFAIL|[45][0-9][0-9]) r=0 ;; *) r=1 ;; esac
	ok $r "milter-spf answers under '$m' ($sv)"
	case $dv in ACCEPT|CONTINUE|REJECT|TEMPFAIL|[45][0-9][0-9]) r=0 ;; *) r=1 ;; esac
	ok $r "milter-dkim answers under '$m' ($dv)"
	# Defaults: milter-spf accepts on temperror (TempError_Defer no)
	# and milter-dkim defers (On-DNSError tempfail, as OpenDKIM).
	case $m in
	answer|slow:*|tc-tcp|big)
		want_s="spf=pass CONTINUE" want_d="dkim=pass CONTINUE" ;;
	*)	want_s="spf=temperror CONTINUE" want_d="refused 451" ;;
	esac
	is "$sr $sv" "$want_s" "milter-spf under '$m': $want_s"
	is "$dr $dv" "$want_d" "milter-dkim under '$m': $want_d"
	stop_procs $PIDS
	PIDS=""
done
sed 's/^/# /' "$TMP/table"
cp "$TMP/table" "$(dirname "$BUILD")/faults.txt" 2> /dev/null
exit $FAILED

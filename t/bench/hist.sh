#!/bin/bash
# hist.sh - milter-dmarc's history writes at a sustained 5,000 rows/s
#
# Usage: BUILD=build/plain bash t/bench/hist.sh	(run by t/bench.sh)
#
# t/tools/histbench hands rows to the history writer the way the milter
# does (dmarcd_hist_put, one per evaluated message) at BENCH_HIST_RATE
# rows a second (5000) for BENCH_HIST_SECONDS (10), into a new SQLite
# database and, when a PostgreSQL server is installed and this runs as
# root, into a PostgreSQL cluster made for the run (initdb in a
# temporary directory, a free port on 127.0.0.1, run as postgres,
# fsync on as a production server has it).  Each is run BENCH_HIST_ROUNDS
# times (3); the median run (by rows written while offering) is shown.
#
# Targets: the writer keeps up (rows written while offering at least
# 95 % of the rows offered: the rest is the batch in flight, written
# within the next second), nothing dropped, and the milter's side of it
# (the time dmarcd_hist_put takes) at 99 % under 1 ms.
#
# The PostgreSQL server is stopped by its PID file and its directory
# removed on exit, however the script ends.
SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
cd "$SRCDIR" || exit 1
BUILD=${BUILD:-$SRCDIR/build/plain}
HB=$BUILD/t/tools/histbench
RATE=${BENCH_HIST_RATE:-5000}
SECS=${BENCH_HIST_SECONDS:-10}
ROUNDS=${BENCH_HIST_ROUNDS:-3}
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2> /dev/null | sort -V | tail -1)

say() { echo "bench-hist: $*" >&2; }
[ -x "$HB" ] || { say "$HB not built"; exit 1; }
TMP=$(mktemp -d "${TMPDIR:-/tmp}/bench-hist.XXXXXX") || exit 1
PG_UP=
as_pg() { runuser -u postgres -- "$@"; }
cleanup() {
	[ -n "$PG_UP" ] && as_pg "$PGBIN/pg_ctl" -D "$TMP/pg" -m fast -w \
	    stop > /dev/null 2>&1
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'cleanup; exit 1' HUP INT TERM

# run NAME ARGS... - ROUNDS runs of histbench; prints the median line
run() {
	local name=$1 i line
	shift
	for i in $(seq "$ROUNDS"); do
		line=$("$@" 2> "$TMP/err")
		[ -n "$line" ] || line="failed: $(head -1 "$TMP/err")"
		printf '%s\n' "$line"
	done > "$TMP/$name.runs"
	sort -t'(' -k2 -n "$TMP/$name.runs" | sed -n "$(((ROUNDS + 1) / 2))p"
}

# verdict LINE - "met" or "MISSED: why"
verdict() {
	echo "$1" | awk '
		/^failed/ { print "MISSED: " $0; exit }
		{
			match($0, /\(([0-9]+) of ([0-9]+)\)/)
			split(substr($0, RSTART + 1, RLENGTH - 2), w, " of ")
			match($0, /dropped [0-9]+/)
			d = substr($0, RSTART + 8, RLENGTH - 8) + 0
			match($0, /p99 [0-9.]+ us/)
			p = substr($0, RSTART + 4, RLENGTH - 7) + 0
			why = ""
			if (w[1] < 0.95 * w[2]) why = why " fell behind"
			if (d > 0) why = why " dropped rows"
			if (p >= 1000) why = why " put p99 >= 1 ms"
			print why == "" ? "met" : "MISSED:" why
		}'
}

echo "History writes: $RATE rows/s offered for $SECS s through" \
    "dmarcd_hist_put (the milter's call); median of $ROUNDS runs."
rm -f "$TMP"/s*.sqlite*
line=$(run sqlite sh -c 'rm -f "$1"*; exec "$2" -s "$1" -r "$3" -t "$4"' \
    sh "$TMP/h.sqlite" "$HB" "$RATE" "$SECS")
echo "sqlite: $line"
echo "sqlite: target (keeps up, nothing dropped, put p99 < 1 ms): $(verdict "$line")"

if [ "$(id -u)" != 0 ] || [ -z "$PGBIN" ] || ! id postgres > /dev/null 2>&1
then
	echo "postgresql: n/a (needs root, a PostgreSQL server and its user)"
	exit 0
fi
PGPORT=$("$SRCDIR/t/lib/freeport") || exit 1
mkdir -p "$TMP/pg" "$TMP/pgsock"
chmod 755 "$TMP"
chown postgres "$TMP/pg" "$TMP/pgsock"
as_pg "$PGBIN/initdb" -D "$TMP/pg" -A trust -U postgres > "$TMP/initdb.log" \
    2>&1 || { echo "postgresql: n/a (initdb failed)"; exit 0; }
as_pg "$PGBIN/pg_ctl" -D "$TMP/pg" -l "$TMP/pg/log" -w -t 60 -o \
    "-p $PGPORT -k $TMP/pgsock -c listen_addresses=127.0.0.1" start \
    > /dev/null 2>&1 || { echo "postgresql: n/a (the server does not start)"; exit 0; }
PG_UP=1
psql -X -q -h 127.0.0.1 -p "$PGPORT" -U postgres -d postgres \
    -c "CREATE DATABASE hist" > /dev/null 2>&1
line=$(run pg sh -c 'psql -X -q -h 127.0.0.1 -p "$1" -U postgres -d hist \
    -c "DROP SCHEMA public CASCADE; CREATE SCHEMA public" > /dev/null 2>&1
    exec "$2" -p "postgresql://postgres@127.0.0.1:$1/hist" -r "$3" -t "$4"' \
    sh "$PGPORT" "$HB" "$RATE" "$SECS")
echo "postgresql $("$PGBIN/postgres" -V | awk '{ print $3 }'): $line"
echo "postgresql: target (keeps up, nothing dropped, put p99 < 1 ms): $(verdict "$line")"

#!/bin/bash
# report.sh - milter-dmarc-report over one million history rows
#
# Usage: BUILD=build/plain bash t/bench/report.sh	(run by t/bench.sh)
#
# Makes an SQLite history with the daemon's own schema (t/tools/histbench
# creates it through the history writer), fills it with
# BENCH_REPORT_ROWS rows (1,000,000) of one day with sqlite3: 2,000
# sender domains, 50,000 source addresses, one DKIM result each, mixed
# passes and failures; then runs `milter-dmarc-report -o DIR` for that
# day BENCH_REPORT_ROUNDS times (3), each into a new directory, and
# prints the median wall time and the largest resident size, against
# the targets: under 10 s and under 100 MB.
SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
cd "$SRCDIR" || exit 1
BUILD=${BUILD:-$SRCDIR/build/plain}
HB=$BUILD/t/tools/histbench
REPORT=$BUILD/bin/milter-dmarc-report
ROWS=${BENCH_REPORT_ROWS:-1000000}
ROUNDS=${BENCH_REPORT_ROUNDS:-3}
DAY=1796256000

say() { echo "bench-report: $*" >&2; }
for f in "$HB" "$REPORT"; do
	[ -x "$f" ] || { say "$f not built"; exit 1; }
done
command -v sqlite3 > /dev/null || { say "skipped: no sqlite3"; exit 0; }
[ -x /usr/bin/time ] || { say "skipped: no /usr/bin/time"; exit 0; }
TMP=$(mktemp -d "${TMPDIR:-/tmp}/bench-report.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
trap 'rm -rf "$TMP"; exit 1' HUP INT TERM

"$HB" -s "$TMP/h.sqlite" -r 100 -t 1 > /dev/null 2>&1 ||
    { say "histbench cannot make the history"; exit 1; }
sqlite3 "$TMP/h.sqlite" > /dev/null <<EOF || { say "sqlite3 failed"; exit 1; }
DELETE FROM signatures; DELETE FROM messages;
BEGIN;
WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < $ROWS)
INSERT INTO messages (received, qid, reporter, ip, from_domain, env_domain,
 policy_domain, discovery, p, sp, adkim, aspf, pct, rua, spf_domain,
 spf_scope, spf_result, dmarc_result, disposition, dkim_aligned,
 spf_aligned, np, testing, applied, action, dkim_results)
SELECT $DAY + n * 86399 / $ROWS, printf('Q%08X', n), 'mx.bench.test',
 printf('198.51.%d.%d', (n * 40503 % 50000) / 250, (n * 40503 % 50000) % 250 + 1),
 printf('sender%d.example', n * 7919 % 2000),
 printf('sender%d.example', n * 7919 % 2000),
 printf('sender%d.example', n * 7919 % 2000), 'treewalk', 'reject', 'reject',
 'r', 'r', 100, printf('mailto:dmarc@sender%d.example', n * 7919 % 2000),
 printf('sender%d.example', n * 7919 % 2000), 'mfrom',
 CASE WHEN n % 10 THEN 'pass' ELSE 'fail' END,
 CASE WHEN n % 13 THEN 'pass' ELSE 'fail' END,
 CASE WHEN n % 13 THEN 'none' ELSE 'reject' END, n % 13 != 0, n % 10 != 0,
 'reject', 0, 'reject', CASE WHEN n % 13 THEN 'accept' ELSE 'reject' END,
 printf('sender%d.example s1 %s', n * 7919 % 2000,
 CASE WHEN n % 13 THEN 'pass' ELSE 'fail' END) FROM c;
INSERT INTO signatures (message_id, domain, selector, result, aligned)
 SELECT id, from_domain, 's1', CASE dmarc_result WHEN 'pass' THEN 'pass'
 ELSE 'fail' END, 1 FROM messages;
COMMIT;
EOF
printf 'AuthservID mx.bench.test\nHistoryDatabase sqlite:%s\n' \
    "$TMP/h.sqlite" > "$TMP/r.conf"
for i in $(seq "$ROUNDS"); do
	mkdir "$TMP/out$i"
	/usr/bin/time -f '%e %M' -o "$TMP/time$i" "$REPORT" -c "$TMP/r.conf" \
	    -b $DAY -e $((DAY + 86399)) -o "$TMP/out$i" > /dev/null ||
	    { say "milter-dmarc-report failed"; exit 1; }
done
n=$(ls "$TMP/out1" | wc -l)
cat "$TMP"/time* | sort -n | awk -v rounds="$ROUNDS" -v rows="$ROWS" \
    -v n="$n" '
	{ t[NR] = $1; if ($2 > m) m = $2 }
	END {
		med = t[int((NR + 1) / 2)]
		f = "milter-dmarc-report: %d history rows, %d reports:"
		f = f " %.2f s (median of %d), %.0f MB at most\n"
		printf f, rows, n, med, rounds, m / 1024
		ok = med < 10 && m < 100 * 1024
		printf "target (under 10 s and 100 MB): %s\n",
		    ok ? "met" : "MISSED"
	}'

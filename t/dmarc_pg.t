#!/bin/sh
# dmarc_pg.t - milter-dmarc's history in a real PostgreSQL that the test
# starts (initdb in a temporary directory, a free port on 127.0.0.1, run
# as the postgres user), with nsd serving the DMARC records
#
# -n checks the connection without changing anything; the daemon creates
# the schema and writes a row per message; while the server is stopped,
# mail is still answered at once and the rows wait; once the server is
# back they are written; a database of schema version 1 is migrated with
# its rows kept; milter-dmarc-import stores received aggregate reports
# in it, once; milter-dmarc-report --html from it writes the same pages as
# from an SQLite history holding the same rows.  Needs root (to run
# PostgreSQL as postgres), nsd and PostgreSQL's server binaries.
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-$(pwd)/build/plain}
MILTER=$BUILD/bin/milter-dmarc
REPORT=$BUILD/bin/milter-dmarc-report
XSD=${TESTDATA:-$(pwd)/../shared/testdata}/dmarc/rfc9990-dmarc-xml-0.2.xsd
CLIENT=$BUILD/t/tools/milterclient
HB=$BUILD/t/tools/histbench
IMPORT=$BUILD/bin/milter-dmarc-import
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2> /dev/null | sort -V | tail -1)
PATH=$PATH:/usr/sbin

skip_all() { echo "1..0 # SKIP $1"; exit 0; }
[ "$(id -u)" = 0 ] || skip_all "needs root to run PostgreSQL as postgres"
[ -n "$PGBIN" ] && [ -x "$PGBIN/initdb" ] || skip_all "no PostgreSQL server"
id postgres > /dev/null 2>&1 || skip_all "no postgres user"
command -v nsd > /dev/null || skip_all "nsd is not installed"
command -v psql > /dev/null || skip_all "psql is not installed"
for f in "$MILTER" "$CLIENT"; do
	[ -x "$f" ] || skip_all "$f is not built"
done

T=0
FAILED=0
. t/lib/tap.sh
. t/data/dns/nsd.sh
TMP=$(mktemp -d "${TMPDIR:-/tmp}/dmarc_pg.XXXXXX") || exit 1
chmod 755 "$TMP"
PIDS=""
PG_UP=""

as_pg() { runuser -u postgres -- "$@"; }
pg_stop() {
	[ -n "$PG_UP" ] && as_pg "$PGBIN/pg_ctl" -D "$TMP/pg" -m fast -w stop \
	    > /dev/null 2>&1
	PG_UP=""
}
pg_start() {
	as_pg "$PGBIN/pg_ctl" -D "$TMP/pg" -l "$TMP/pg/log" -w -t 60 \
	    -o "-p $PGPORT -k $TMP/pgsock -c listen_addresses=127.0.0.1" \
	    start > /dev/null 2>&1 && PG_UP=1
}
cleanup()
{
	for p in $PIDS; do
		kill "$p" 2> /dev/null
	done
	for p in $PIDS; do
		wait "$p" 2> /dev/null
	done
	pg_stop
	nsd_stop
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'cleanup; exit 1' HUP INT TERM

mkdir "$TMP/pg" "$TMP/pgsock"
chown postgres "$TMP/pg" "$TMP/pgsock"
as_pg "$PGBIN/initdb" -D "$TMP/pg" -A trust -U postgres --no-sync \
    > "$TMP/initdb.log" 2>&1
ok $? "initdb makes a cluster in a temporary directory"
PGPORT=$(t/lib/freeport)
pg_start
ok $? "PostgreSQL starts on 127.0.0.1:$PGPORT"
q() { psql -X -q -t -A -h 127.0.0.1 -p "$PGPORT" -U postgres -d "$1" -c "$2" 2>&1; }
q postgres "CREATE DATABASE dmarc" > /dev/null
q postgres "CREATE DATABASE old" > /dev/null
q postgres "CREATE DATABASE batch" > /dev/null

nsd_start test t/data/dmarcd/dmarc.zone > "$TMP/nsd.out" 2>&1
ok $? "nsd starts"
# nsd_start sets its own traps: ours again, so that PostgreSQL is stopped
trap cleanup EXIT
trap 'cleanup; exit 1' HUP INT TERM
NS=127.0.0.1:$NSD_PORT

listening()
{
	perl -MIO::Socket::INET -e 'exit(IO::Socket::INET->new(
	    PeerAddr => "127.0.0.1", PeerPort => $ARGV[0], Proto => "tcp")
	    ? 0 : 1)' "$1"
}

# conf NAME DB - a configuration writing to database DB
conf()
{
	printf 'Syslog no\nAuthservID mx.test\nDNSTimeout 2\nNameservers %s\n' \
	    "$NS" > "$TMP/$1.conf"
	printf 'IgnoreHosts 127.0.0.9\nHistoryDatabase postgresql://postgres@127.0.0.1:%s/%s\n' \
	    "$PGPORT" "$2" >> "$TMP/$1.conf"
}

# start NAME - sets PORT_NAME, PID_NAME
start()
{
	_port=$(t/lib/freeport) || return 1
	"$MILTER" -f -c "$TMP/$1.conf" -p "inet:$_port@127.0.0.1" \
	    >> "$TMP/$1.log" 2>&1 &
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
	sed 's/^/# /' "$TMP/$1.log"
	return 1
}

# send NAME FROM - one message; prints the verdict line
send()
{
	eval "_port=\$PORT_$1"
	printf 'From: %s\nTo: u@rcpt.test\nSubject: pg\n\nHello.\n' "$2" |
	    "$CLIENT" -s "inet:$_port@127.0.0.1" -i 192.0.2.1 -H mx.client.test \
	    -f b@elsewhere.test -r u@rcpt.test -q PG -T 10 2>&1 | tail -1
}

# wait_rows DB N SECONDS - until messages has N rows
wait_rows()
{
	_i=0
	while [ $_i -lt $(($3 * 5)) ]; do
		[ "$(q "$1" "SELECT count(*) FROM messages" 2> /dev/null)" = "$2" ] &&
		    return 0
		sleep 0.2
		_i=$((_i + 1))
	done
	return 1
}

conf main dmarc
out=$("$MILTER" -n -c "$TMP/main.conf" 2>&1)
ok $? "-n: the PostgreSQL history loads"
unlike "$out" 'HistoryDatabase cannot' "  ... and -n can connect"
is "$(q dmarc "SELECT to_regclass('schema_version') IS NULL")" t \
    "  ... without changing the database"
conf bad dmarc
sed -i "s/:$PGPORT\//:1\//" "$TMP/bad.conf"
out=$("$MILTER" -n -c "$TMP/bad.conf" 2>&1)
like "$out" 'HistoryDatabase cannot be used' "-n: an unreachable server is named"

start main
ok $? "milter-dmarc starts with a PostgreSQL history"
for d in reject.test none.test quar.test; do
	send main "a@$d" > /dev/null
done
wait_rows dmarc 3 20
ok $? "three messages: three rows in PostgreSQL"
is "$(q dmarc "SELECT max(version) FROM schema_version")" 6 \
    "  ... the schema created at version 6"
is "$(q dmarc "SELECT to_regclass('received_reports') IS NOT NULL AND to_regclass('received_records') IS NOT NULL")" t \
    "  ... with the tables of received reports"
is "$(q dmarc "SELECT dmarc_result || ' ' || disposition FROM messages WHERE from_domain = 'reject.test'")" \
    "fail reject" "  ... with the result and the disposition"

# aggregate reports from the PostgreSQL history: the same tool, the
# counts made by the server
now=$(date +%s)
out=$("$REPORT" -c "$TMP/main.conf" -n -b $((now - 3600)) -e $((now + 60)) 2>&1)
ok $? "milter-dmarc-report reads the PostgreSQL history" ||
    printf '%s\n' "$out" | sed 's/^/# /'
is "$(printf '%s\n' "$out" | grep -c '^report ')" 3 "  ... a report for each of the three domains"
like "$out" '<domain>reject\.test</domain>' "  ... reject.test's policy published"
like "$out" '<source_ip>192\.0\.2\.1</source_ip>' "  ... the client's address as the record's source"
like "$out" '<disposition>none</disposition>' "  ... what was done: delivered (RejectFailures is off) ..."
like "$out" '<type>local_policy</type>' "  ... by local policy"
mkdir -p "$TMP/reports"
"$REPORT" -c "$TMP/main.conf" -o "$TMP/reports" -d quar.test \
    -b $((now - 3600)) -e $((now + 60)) > /dev/null 2>&1
f=$(ls "$TMP/reports" | grep '!quar\.test!')
ok $? "  ... -o writes quar.test's report alone ($f)"
if command -v xmllint > /dev/null && [ -f "$XSD" ]; then
	zcat "$TMP/reports/$f" > "$TMP/quar.xml"
	v=$(xmllint --noout --schema "$XSD" "$TMP/quar.xml" 2>&1)
	ok $? "  ... valid against RFC 9990's XSD" || echo "# $v"
else
	skip "  ... the XSD" "no xmllint or no XSD"
fi

# the suppression list in the same history
"$REPORT" -c "$TMP/main.conf" --suppress dmarc@reject.test --reason bounced
ok $? "--suppress with a PostgreSQL history"
is "$("$REPORT" -c "$TMP/main.conf" --list-suppressed | cut -f1,3)" \
    "$(printf 'dmarc@reject.test\tbounced')" "  ... --list-suppressed shows it"
out=$("$REPORT" -c "$TMP/main.conf" -n -d reject.test -b $((now - 3600)) -e $((now + 60)) 2>&1)
like "$out" 'suppressed: dmarc@reject\.test' "  ... and the report run knows it"
"$REPORT" -c "$TMP/main.conf" --unsuppress dmarc@reject.test
printf '%s\n' 'Content-Type: multipart/report; report-type=delivery-status; boundary="B"' \
    '' '--B' 'Content-Type: message/delivery-status' '' \
    'Reporting-MTA: dns; mx.test' '' \
    'Final-Recipient: rfc822; DMARC@reject.test' 'Action: failed' \
    'Status: 5.1.1' '' 'Final-Recipient: rfc822; a_b%c@victim.test' \
    'Action: failed' 'Status: 5.1.1' '' '--B--' > "$TMP/dsn"
out=$("$REPORT" -c "$TMP/main.conf" --bounce < "$TMP/dsn" 2>&1)
ok $? "--bounce with a PostgreSQL history" || echo "# $out"
is "$("$REPORT" -c "$TMP/main.conf" --list-suppressed | cut -f1)" \
    "dmarc@reject.test" "  ... suppresses the rua it names, not another address"

# batches of rows with DKIM results, as the writer sends them: each
# message's signatures under its own id (1,000 rows at 1,000 a second,
# then the one that opened the database: 1 + n % 2 signatures each)
"$HB" -p "postgresql://postgres@127.0.0.1:$PGPORT/batch" -r 1000 -t 1 \
    > "$TMP/hb.out" 2>&1
ok $? "1,001 rows written through the writer in batches" ||
    sed 's/^/# /' "$TMP/hb.out"
is "$(q batch "SELECT count(*) FROM messages")" 1001 "  ... 1,001 messages"
is "$(q batch "SELECT count(*) FROM signatures")" 1501 "  ... 1,501 signatures"
is "$(q batch "SELECT string_agg(s.domain || '/' || s.selector || '/' || s.result, ' ' ORDER BY s.domain) FROM messages m JOIN signatures s ON s.message_id = m.id WHERE m.qid = 'Q00000001'")" \
    "esp.example/k2/pass sender61.example/s1/pass" \
    "  ... each under its message (two for the second row)"
is "$(q batch "SELECT count(*) FROM messages m WHERE NOT EXISTS (SELECT 1 FROM signatures s WHERE s.message_id = m.id)")" 0 \
    "  ... no message without its signatures"

pg_stop
t0=$(date +%s)
v1=$(send main a@reject.test)
v2=$(send main a@none.test)
t1=$(date +%s)
is "$v1 $v2" "CONTINUE CONTINUE" "server stopped: mail is still answered"
ok $([ $((t1 - t0)) -le 5 ]; echo $?) "  ... at once ($((t1 - t0)) s for two messages)"
i=0
while ! grep -q 'rows kept to try again' "$TMP/main.log" && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
has "$TMP/main.log" 'history: .*rows kept to try again' "  ... the failure is logged, the rows kept"
pg_start
ok $? "PostgreSQL starts again"
wait_rows dmarc 5 60
ok $? "  ... and the two waiting rows are written"
has "$TMP/main.log" 'history: writing again' "  ... the recovery is logged"

# A database of schema version 1 with a row in it.
q old "CREATE TABLE schema_version (version INTEGER NOT NULL);
INSERT INTO schema_version VALUES (1);
CREATE TABLE messages (id BIGSERIAL PRIMARY KEY, received BIGINT NOT NULL,
 qid TEXT NOT NULL DEFAULT '', reporter TEXT NOT NULL DEFAULT '',
 ip TEXT NOT NULL DEFAULT '', from_domain TEXT NOT NULL DEFAULT '',
 env_domain TEXT NOT NULL DEFAULT '', policy_domain TEXT NOT NULL DEFAULT '',
 discovery TEXT NOT NULL DEFAULT 'treewalk', p TEXT, sp TEXT, adkim TEXT,
 aspf TEXT, pct INTEGER, rua TEXT, spf_domain TEXT, spf_scope TEXT,
 spf_result TEXT, dmarc_result TEXT NOT NULL, disposition TEXT NOT NULL,
 dkim_aligned INTEGER NOT NULL DEFAULT 0, spf_aligned INTEGER NOT NULL DEFAULT 0);
CREATE TABLE signatures (message_id BIGINT NOT NULL REFERENCES messages(id)
 ON DELETE CASCADE, domain TEXT NOT NULL, selector TEXT NOT NULL DEFAULT '',
 result TEXT NOT NULL, aligned INTEGER NOT NULL DEFAULT 0);
INSERT INTO messages (received, from_domain, dmarc_result, disposition)
 VALUES (1700000000, 'old.example', 'pass', 'none');" > /dev/null
conf old old
start old
send old a@reject.test > /dev/null
wait_rows old 2 20
ok $? "a version 1 database: the new row is written beside the old one"
is "$(q old "SELECT max(version) FROM schema_version")" 6 "  ... after migrating it to version 6"
is "$(q old "SELECT action FROM messages WHERE from_domain = 'old.example'")" \
    accept "  ... the old row gets the new columns' defaults"

# Aggregate reports received from other receivers (milter-dmarc-import)
if [ -x "$IMPORT" ]; then
	out=$("$IMPORT" -c "$TMP/main.conf" t/data/dmarc_import/google.xml 2>&1)
	ok $? "milter-dmarc-import into PostgreSQL: exit 0"
	is "$(q dmarc "SELECT r.org_name || ' ' || c.source_ip || ' ' || c.count || ' ' || c.dkim_results FROM received_reports r JOIN received_records c ON c.report = r.id ORDER BY c.count DESC LIMIT 1")" \
	    "google.com 192.0.2.25 12 example.net s2026 pass" "  ... the report and its records stored"
	out=$("$IMPORT" -c "$TMP/main.conf" t/data/dmarc_import/google.xml 2>&1)
	ok $? "  ... the same report again: exit 0"
	like "$out" 'already in the history; skipped' "  ... skipped, and said so"
	is "$(q dmarc "SELECT count(*) FROM received_reports") $(q dmarc "SELECT count(*) FROM received_records")" \
	    "1 2" "  ... nothing doubled"
	"$IMPORT" -c "$TMP/old.conf" t/data/dmarc_import/rfc9990.xml > /dev/null 2>&1
	ok $? "  ... into the database migrated from version 1"
	is "$(q old "SELECT count(*) FROM received_records")" 1 "  ... its record stored"

	# the HTML summary from PostgreSQL: the same pages as from an
	# SQLite history holding the same rows (the period of google.xml,
	# which the milter's own rows of today do not reach)
	printf 'Syslog no\nAuthservID mx.test\nHistoryDatabase sqlite:%s\n' \
	    "$TMP/h.sqlite" > "$TMP/sqlite.conf"
	"$IMPORT" -c "$TMP/sqlite.conf" t/data/dmarc_import/google.xml > /dev/null 2>&1
	for r in "1800000001 192.0.2.1 example.net pass accept 1 1" \
	    "1800000002 192.0.2.1 example.net pass accept 1 0" \
	    "1800090000 192.0.2.1 example.net pass accept 0 1" \
	    "1800090001 203.0.113.66 example.net fail reject 0 0" \
	    "1800000003 198.51.100.7 example.com fail quarantine 0 0" \
	    "1800172800 198.51.100.7 example.com pass accept 1 1"; do
		set -- $r
		v="$1, '$2', '$3', '$3', '$3', 'reject', '$4', 'none', '$5', $6, $7"
		c="received, ip, from_domain, env_domain, policy_domain, p, dmarc_result, disposition, action, dkim_aligned, spf_aligned"
		sqlite3 "$TMP/h.sqlite" "INSERT INTO messages ($c) VALUES ($v)"
		q dmarc "INSERT INTO messages ($c) VALUES ($v)" > /dev/null
	done
	mkdir "$TMP/html-pg" "$TMP/html-sqlite"
	out=$("$REPORT" -c "$TMP/main.conf" --html -o "$TMP/html-pg" \
	    -b 1800000000 -e 1800259199 2>&1)
	ok $? "--html from PostgreSQL: exit 0" || echo "# $out"
	like "$out" 'index\.html \(2 domains\)' "  ... two domains"
	"$REPORT" -c "$TMP/sqlite.conf" --html -o "$TMP/html-sqlite" \
	    -b 1800000000 -e 1800259199 > /dev/null 2>&1
	d=$(diff -r "$TMP/html-pg" "$TMP/html-sqlite" 2>&1)
	is "$d" "" "  ... the same pages as from SQLite with the same rows"
	grep -q '<tr><td>192\.0\.2\.1</td><td class="n">3</td><td class="n pass">3</td>' \
	    "$TMP/html-pg/domain-example.net.html"
	ok $? "  ... counting each message once (three from 192.0.2.1, two days)"
	grep -q '<tr><td>google\.com</td><td class="n">1</td><td class="n">15</td>' \
	    "$TMP/html-pg/domain-example.net.html"
	ok $? "  ... with the reports received"
else
	skip "milter-dmarc-import into PostgreSQL" "$IMPORT is not built"
fi

for v in main old; do
	eval "p=\$PID_$v"
	kill -TERM "$p"
	wait "$p"
	ok $? "milter-dmarc ($v) exits 0 on SIGTERM"
done
PIDS=""

[ $FAILED = 0 ] || for f in "$TMP"/*.log; do
	echo "# $f:"; sed 's/^/#   /' "$f"
done
echo "1..$T"
exit $FAILED

#!/bin/sh
# dmarc_report.t - milter-dmarc-report: aggregate reports from a history
#
# The report tool creates the schema of an empty history; rows are then
# added with sqlite3(1) as milter-dmarc writes them; the reports are
# named receiver!domain!begin!end!id.xml.gz, are gzip files, validate
# against RFC 9990's XSD with xmllint, and count the rows per source
# address and result set; -n writes nothing; -d limits to one domain;
# the period takes ISO 8601; milter-dmarc-import reads the reports back
# with the history's counts.
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-$(pwd)/build/plain}
REPORT=$BUILD/bin/milter-dmarc-report
XSD=${TESTDATA:-$(pwd)/../shared/testdata}/dmarc/rfc9990-dmarc-xml-0.2.xsd

if ! [ -x "$REPORT" ]; then
	echo "1..0 # SKIP $REPORT is not built"
	exit 0
fi
for c in sqlite3 gzip; do
	if ! command -v $c > /dev/null; then
		echo "1..0 # SKIP $c is not installed"
		exit 0
	fi
done

T=0
FAILED=0
. t/lib/tap.sh
TMP=$(mktemp -d "${TMPDIR:-/tmp}/dmarc_report.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
trap 'rm -rf "$TMP"; exit 1' HUP INT TERM

printf 'Syslog no\nAuthservID mx.example.net\nHistoryDatabase sqlite:%s\n' \
    "$TMP/h.sqlite" > "$TMP/conf"
mkdir "$TMP/out"

out=$("$REPORT" -c "$TMP/conf" -o "$TMP/out" -b 1800000000 -e 1800086399 2>&1)
ok $? "an empty history: exit 0"
like "$out" 'no history rows' "  ... saying there was nothing to report"
is "$(sqlite3 "$TMP/h.sqlite" "SELECT version FROM schema_version")" 6 \
    "  ... and the schema is created"

# row TIME IP FROM RESULT DISPOSITION ACTION DKIM_ALIGNED SPF_ALIGNED P
row()
{
	sqlite3 "$TMP/h.sqlite" "INSERT INTO messages (received, qid, reporter,
	    ip, from_domain, env_domain, policy_domain, discovery, p, sp,
	    adkim, aspf, pct, testing, rua, spf_domain, spf_scope, spf_result,
	    dmarc_result, disposition, applied, action, dkim_aligned,
	    spf_aligned) VALUES ($1, 'Q', 'mx.example.net', '$2', '$3', '$3',
	    '$3', 'treewalk', '$9', NULL, 'r', 'r', 100, 0,
	    'mailto:d@$3', '$3', 'mfrom', 'pass', '$4', '$5', '$9', '$6', $7,
	    $8); INSERT INTO signatures VALUES (last_insert_rowid(), '$3',
	    's1', '$( [ $7 = 1 ] && echo pass || echo fail)', $7)"
}
for i in 1 2 3; do
	row 180000000$i 192.0.2.1 reject.example pass pass accept 1 1 reject
done
row 1800000100 198.51.100.7 reject.example fail reject reject 0 0 reject
row 1800000200 198.51.100.7 none.example fail none accept 0 0 none
row 1800000300 198.51.100.7 none.example fail none accept 0 0 none
row 1700000000 192.0.2.1 reject.example pass pass accept 1 1 reject
# rows written since schema version 3 carry their DKIM results as text
sqlite3 "$TMP/h.sqlite" "UPDATE messages SET dkim_results =
    'none.example s1 fail' WHERE from_domain = 'none.example'"

out=$("$REPORT" -c "$TMP/conf" -o "$TMP/out" -b 1800000000 -e 1800086399 2>&1)
ok $? "two policy domains: exit 0"
ls "$TMP/out" > "$TMP/names"
is "$(wc -l < "$TMP/names" | tr -d ' ')" 2 "  ... two reports"
has "$TMP/names" '^mx\.example\.net!reject\.example!1800000000!1800086399![0-9a-f.]*\.xml\.gz$' \
    "  ... named receiver!domain!begin!end!id.xml.gz"
f=$TMP/out/$(grep reject "$TMP/names")
gzip -dc "$f" > "$TMP/reject.xml"
ok $? "  ... a gzip file"
if command -v xmllint > /dev/null && [ -f "$XSD" ]; then
	for x in reject none; do
		[ $x = none ] && gzip -dc "$TMP/out/$(grep none "$TMP/names")" \
		    > "$TMP/none.xml"
		v=$(xmllint --noout --schema "$XSD" "$TMP/$x.xml" 2>&1)
		ok $? "the $x.example report validates against RFC 9990's XSD"
		[ $? = 0 ] || printf '%s\n' "$v" | sed 's/^/# /'
	done
else
	skip "reject.example report validates" "no xmllint or no XSD"
	skip "none.example report validates" "no xmllint or no XSD"
fi
has "$TMP/reject.xml" '<feedback xmlns="urn:ietf:params:xml:ns:dmarc-2.0">' \
    "the report is in the dmarc-2.0 namespace"
has "$TMP/reject.xml" '<discovery_method>treewalk</discovery_method>' \
    "  ... with the discovery method"
has "$TMP/reject.xml" '<count>3</count>' "  ... three passing messages from 192.0.2.1 in one record"
has "$TMP/reject.xml" '<disposition>pass</disposition>' "  ... with the pass disposition"
has "$TMP/reject.xml" '<selector>s1</selector>' "  ... and the DKIM selector"
has "$TMP/reject.xml" '<disposition>reject</disposition>' "  ... and the rejected one"
hasnt "$TMP/reject.xml" '<count>4</count>' "  ... the row outside the period is left out"
n=$(grep -c '<record>' "$TMP/reject.xml")
is "$n" 2 "  ... two records"
gzip -dc "$TMP/out/$(grep none "$TMP/names")" > "$TMP/none.xml"
has "$TMP/none.xml" '<count>2</count>' "none.example: the two failures in one record"

# the reports read back by milter-dmarc-import, as another receiver's
# would be: per domain and source address, the counts of the history
IMPORT=$BUILD/bin/milter-dmarc-import
if [ -x "$IMPORT" ]; then
	printf 'Syslog no\nHistoryDatabase sqlite:%s\n' "$TMP/back.sqlite" \
	    > "$TMP/back.conf"
	"$IMPORT" -c "$TMP/back.conf" "$TMP"/out/*.xml.gz > "$TMP/import.out" 2>&1
	ok $? "our reports import with milter-dmarc-import" ||
	    sed 's/^/# /' "$TMP/import.out"
	is "$(sqlite3 "$TMP/back.sqlite" "SELECT r.domain || ' ' ||
	    c.source_ip || ' ' || c.disposition || ' ' || sum(c.count) FROM
	    received_records c JOIN received_reports r ON r.id = c.report
	    GROUP BY r.domain, c.source_ip, c.disposition ORDER BY 1")" \
	    "$(sqlite3 "$TMP/h.sqlite" "SELECT d || ' ' || ip || ' ' || dis ||
	    ' ' || count(*) FROM (SELECT policy_domain AS d, ip, CASE WHEN
	    dmarc_result = 'pass' THEN 'pass' ELSE disposition END AS dis
	    FROM messages WHERE received BETWEEN 1800000000 AND 1800086399)
	    GROUP BY d, ip, dis ORDER BY 1")" \
	    "  ... with the history's counts per domain, source and disposition"
	is "$(sqlite3 "$TMP/back.sqlite" "SELECT org_name || ' ' ||
	    begin_time || ' ' || end_time FROM received_reports GROUP BY 1")" \
	    "mx.example.net 1800000000 1800086399" \
	    "  ... and our name and the period"
else
	skip "our reports import" "$IMPORT is not built"
	skip "  ... with the history's counts" "$IMPORT is not built"
	skip "  ... and our name and the period" "$IMPORT is not built"
fi

rm -f "$TMP"/out/*
out=$("$REPORT" -c "$TMP/conf" -n -d none.example -b 2027-01-15T08:00:00Z \
    -e '2027-01-15 08:10:00' 2>&1)
like "$out" '^report mx\.example\.net!none\.example!1800000000!1800000600!' \
    "ISO 8601 times are UTC (2027-01-15T08:00:00Z is 1800000000)"
out=$("$REPORT" -c "$TMP/conf" -n -b 2027-01-16 2>&1)
like "$out" 'no history rows from 1800057600 to 1800143999' \
    "a bare date is midnight UTC; the period is one day by default"
out=$("$REPORT" -c "$TMP/conf" -n -d none.example -b 1800000000 \
    -e 1800086399 2>&1)
like "$out" '^report mx\.example\.net!none\.example!.* \(1 records\) for mailto:d@none\.example$' \
    "-n -d: names the one report and its rua"
like "$out" '<header_from>none\.example</header_from>' "-n: prints the XML"
is "$(ls "$TMP/out" | wc -l | tr -d ' ')" 0 "-n: writes nothing"

"$REPORT" -c "$TMP/conf" -b yesterday -o "$TMP/out" > /dev/null 2>&1
is $? 2 "a period that is not a time: usage error"

# --send: through a sendmail that keeps what it gets; external
# destinations verified in the DNS (nsd serves the "example" zone).
command -v nsd > /dev/null || PATH=$PATH:/usr/sbin
if command -v nsd > /dev/null; then
	. t/data/dns/nsd.sh
	cat > "$TMP/example.zone" <<'EOF'
$ORIGIN example.
$TTL 60
@	IN SOA	ns.example. hostmaster.example. 1 3600 600 86400 60
@	IN NS	ns.example.
ns	IN A	127.0.0.1
_dmarc.reject	IN TXT	"v=DMARC1; p=reject"
reject.example._report._dmarc.reports	IN TXT	"v=DMARC1"
EOF
	if nsd_start example "$TMP/example.zone" > "$TMP/nsd.out" 2>&1; then
		trap 'nsd_stop; rm -rf "$TMP"' EXIT
		cp "$TMP/conf" "$TMP/send.conf"
		printf 'Nameservers 127.0.0.1:%s\n' "$NSD_PORT" >> "$TMP/send.conf"
		cat > "$TMP/sendmail" <<EOF
#!/bin/sh
n=\$(ls "$TMP"/sent.* 2> /dev/null | wc -l)
echo "\$*" > "$TMP/args.\$n"
cat > "$TMP/sent.\$n"
EOF
		chmod +x "$TMP/sendmail"
		sqlite3 "$TMP/h.sqlite" "UPDATE messages SET rua =
		    'mailto:d@reject.example!10m, mailto:agg@reports.example, mailto:x@unauthorized.example'
		    WHERE from_domain = 'reject.example'"
		out=$("$REPORT" -c "$TMP/send.conf" --send -S "$TMP/sendmail" \
		    -d reject.example --begin 1800000000 --end 1800086399 2>&1)
		ok $? "--send: exit 0"
		is "$(ls "$TMP"/sent.* 2> /dev/null | wc -l | tr -d ' ')" 1 \
		    "  ... one message for the one report"
		has "$TMP/args.0" '^-t -i$' "  ... through sendmail -t -i"
		has "$TMP/sent.0" '^To: d@reject\.example, agg@reports\.example$' \
		    "  ... to the rua addresses: its own, and an external one that publishes _report._dmarc"
		like "$out" 'x@unauthorized\.example does not accept reports for reject\.example' \
		    "  ... not to an external one that does not"
		has "$TMP/sent.0" '^Subject: Report Domain: reject\.example Submitter: mx\.example\.net Report-ID: <' \
		    "  ... with RFC 9990's subject"
		has "$TMP/sent.0" '^Content-Type: application/gzip$' "  ... and the report attached"
		awk '/^Content-Transfer-Encoding: base64/ { on = 1; next }
		    on == 1 && /^$/ { on = 2; next }
		    on == 2 && /^--/ { exit } on == 2 { print }' \
		    "$TMP/sent.0" | base64 -d | gzip -dc > "$TMP/mailed.xml" 2> /dev/null
		has "$TMP/mailed.xml" '<policy_published>' "  ... which decodes to the XML report"
		if command -v xmllint > /dev/null && [ -f "$XSD" ]; then
			xmllint --noout --schema "$XSD" "$TMP/mailed.xml" > /dev/null 2>&1
			ok $? "  ... valid against the XSD"
		fi
		out=$("$REPORT" -c "$TMP/send.conf" --send -n -d reject.example \
		    --begin 1800000000 --end 1800086399 2>&1)
		like "$out" '^would send mx\.example\.net!reject\.example!.* to d@reject\.example, agg@reports\.example$' \
		    "--send -n: says whom it would send to"
		is "$(ls "$TMP"/sent.* | wc -l | tr -d ' ')" 1 "  ... and sends nothing"
		# the suppression list: a bounce of the external destination
		printf '%s\n' 'From: MAILER-DAEMON@mx.example.net' \
		    'Subject: Undelivered Mail Returned to Sender' \
		    'MIME-Version: 1.0' \
		    'Content-Type: multipart/report; report-type=delivery-status; boundary="B"' \
		    '' '--B' 'Content-Type: text/plain' '' \
		    'Final-Recipient: rfc822; d@reject.example' 'Action: failed' \
		    'Status: 5.1.1' '' '--B' \
		    'Content-Type: message/delivery-status' '' \
		    'Reporting-MTA: dns; mx.example.net' '' \
		    'Final-Recipient: rfc822; agg@reports.example' \
		    'Action: failed' 'Status: 5.1.1' '' \
		    'Final-Recipient: rfc822; x@unauthorized.example' \
		    'Action: failed' 'Status: 4.4.7' '' \
		    'Final-Recipient: rfc822; ceo@victim.example' \
		    'Action: failed' 'Status: 5.1.1' '' '--B--' > "$TMP/dsn"
		out=$("$REPORT" -c "$TMP/send.conf" --bounce < "$TMP/dsn" 2>&1)
		ok $? "--bounce: exit 0"
		is "$("$REPORT" -c "$TMP/send.conf" --list-suppressed | cut -f1)" \
		    "agg@reports.example" \
		    "  ... suppresses the 5.x.x failure of the delivery-status part alone"
		like "$out" 'ceo@victim\.example not suppressed: no rua of the history names it' \
		    "  ... and only a report destination: a forged notice cannot stop any address"
		out=$("$REPORT" -c "$TMP/send.conf" --send -S "$TMP/sendmail" \
		    -d reject.example --begin 1800000000 --end 1800086399 2>&1)
		has "$TMP/sent.1" '^To: d@reject\.example$' \
		    "--send: nothing more to a suppressed address"
		like "$out" 'agg@reports\.example is on the suppression list' \
		    "  ... and says so"
		"$REPORT" -c "$TMP/send.conf" --suppress D@Reject.Example \
		    --reason "asked us to stop"
		out=$("$REPORT" -c "$TMP/send.conf" -n -d reject.example \
		    --begin 1800000000 --end 1800086399 2>&1)
		like "$out" 'suppressed: d@reject\.example' \
		    "--suppress by hand (any case); -n names the suppressed address"
		"$REPORT" -c "$TMP/send.conf" --unsuppress agg@reports.example &&
		    "$REPORT" -c "$TMP/send.conf" --unsuppress d@reject.example
		is "$("$REPORT" -c "$TMP/send.conf" --list-suppressed)" "" \
		    "--unsuppress: the list is empty again"
	else
		skip "--send" "nsd does not start"
	fi
else
	skip "--send" "nsd is not installed"
fi

echo "1..$T"
exit $FAILED

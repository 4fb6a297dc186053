#!/bin/sh
# dmarc_html.t - milter-dmarc-report --html: a static HTML summary
#
# A history with messages of two policy domains and reports received
# from other receivers (stored by milter-dmarc-import): --html -o DIR
# writes index.html and one page per domain, with the domains, the
# source addresses and their counts, an inline SVG chart, a section
# about the received reports, every text escaped, well-formed
# (xmllint), with no script and no external resource; -d and the
# period limit what is shown.
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-$(pwd)/build/plain}
REPORT=$BUILD/bin/milter-dmarc-report
IMPORT=$BUILD/bin/milter-dmarc-import
DATA=t/data/dmarc_import

for f in "$REPORT" "$IMPORT"; do
	if ! [ -x "$f" ]; then
		echo "1..0 # SKIP $f is not built"
		exit 0
	fi
done
if ! command -v sqlite3 > /dev/null; then
	echo "1..0 # SKIP sqlite3 is not installed"
	exit 0
fi

T=0
FAILED=0
. t/lib/tap.sh
TMP=$(mktemp -d "${TMPDIR:-/tmp}/dmarc_html.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
trap 'rm -rf "$TMP"; exit 1' HUP INT TERM

printf 'Syslog no\nAuthservID mx.example.net\nHistoryDatabase sqlite:%s\n' \
    "$TMP/h.sqlite" > "$TMP/conf"
# reports received: example.net (google.com) and example.org, and one
# from an organization with markup in its name
"$IMPORT" -c "$TMP/conf" "$DATA/google.xml" "$DATA/rfc9990.xml" > /dev/null
ok $? "received reports imported"
sed -e 's/r-2027-01-15!42/evil-1/' \
    -e 's|Mail Receiver Ltd\.|Evil \&lt;b\&gt;\&amp;\&lt;/b\&gt; "Org"|' \
    "$DATA/rfc9990.xml" > "$TMP/evil.xml"
"$IMPORT" -c "$TMP/conf" "$TMP/evil.xml" > /dev/null
ok $? "  ... and one from an organization named with markup"

# row TIME IP DOMAIN RESULT ACTION DKIM_ALIGNED SPF_ALIGNED
row()
{
	sqlite3 "$TMP/h.sqlite" "INSERT INTO messages (received, ip,
	    from_domain, env_domain, policy_domain, p, dmarc_result,
	    disposition, action, dkim_aligned, spf_aligned) VALUES ($1, '$2',
	    '$3', '$3', '$3', 'reject', '$4', 'none', '$5', $6, $7)"
}
row 1800000001 192.0.2.1 example.net pass accept 1 1
row 1800000002 192.0.2.1 example.net pass accept 1 0
row 1800090000 192.0.2.1 example.net pass accept 0 1
row 1800090001 203.0.113.66 example.net fail reject 0 0
row 1800000003 198.51.100.7 example.com fail quarantine 0 0
row 1700000000 192.0.2.99 example.net pass accept 1 1

H=$TMP/html
mkdir "$H"
out=$("$REPORT" -c "$TMP/conf" --html -o "$H" --begin 2027-01-15 \
    --end 2027-01-17T23:59:59Z 2>&1)
ok $? "--html: exit 0"
like "$out" 'index\.html \(3 domains\)' "  ... three domains"
for f in index.html domain-example.net.html domain-example.org.html \
    domain-example.com.html; do
	[ -s "$H/$f" ]
	ok $? "  ... $f written"
done
has "$H/index.html" '<a href="domain-example\.net\.html">example\.net</a>' \
    "index.html links to the domain pages"
has "$H/index.html" '>example\.com</a></td><td class="n">1</td><td class="n">0</td><td class="n fail">1</td>' \
    "  ... with the messages, passes and failures of each"
P=$H/domain-example.net.html
has "$P" '<tr><td>192\.0\.2\.1</td><td class="n">3</td><td class="n pass">3</td><td class="n">0</td><td class="n">2</td><td class="n">2</td><td class="n">3</td>' \
    "a domain page: per source IP, messages, DMARC pass/fail, DKIM/SPF aligned, accepted"
has "$P" '<tr><td>203\.0\.113\.66</td><td class="n">1</td><td class="n">0</td><td class="n fail">1</td>.*<td class="n">1</td><td class="n">0</td></tr>' \
    "  ... the rejected one"
hasnt "$P" '192\.0\.2\.99' "  ... a message outside the period left out"
has "$P" '<svg xmlns="http://www.w3.org/2000/svg"' "  ... an inline SVG chart"
has "$P" '<title>2027-01-15: 2 pass, 0 fail</title>' "  ... with a bar per day"
has "$P" '<title>2027-01-16: 1 pass, 1 fail</title>' "  ... and the next day's"
has "$P" 'Reports received about your domain' "  ... the section of received reports"
has "$P" '<tr><td>google\.com</td><td class="n">1</td><td class="n">15</td><td class="n pass">12</td><td class="n fail">3</td>' \
    "  ... per reporting organization"
has "$P" '<tr><td>2001:db8::bad</td><td class="n">3</td>' "  ... per source IP reported"
P=$H/domain-example.org.html
has "$P" 'Evil &lt;b&gt;&amp;&lt;/b&gt; &quot;Org&quot;' "markup in a received report is escaped"
hasnt "$P" '<b>' "  ... and never markup"
if grep -il -e '<script' -e 'src=' -e 'href="http' -e 'url(' "$H"/*.html > /dev/null; then
	ok 1 "no script, no external resource"
else
	ok 0 "no script, no external resource"
fi
if command -v xmllint > /dev/null; then
	v=$(xmllint --noout "$H"/*.html 2>&1)
	ok $? "the pages are well-formed (xmllint, as XHTML)"
	[ -z "$v" ] || printf '%s\n' "$v" | head -10 | sed 's/^/# /'
	# libxml2's HTML parser knows HTML 4, not the SVG elements
	v=$(xmllint --html --noout "$H"/*.html 2>&1 | grep 'parser error' |
	    grep -Ev 'Tag (svg|g|rect|line|text|title) invalid')
	is "$v" "" "  ... and parse as HTML (xmllint --html)"
else
	skip "the pages are well-formed" "no xmllint"
	skip "the pages parse as HTML" "no xmllint"
fi

H2=$TMP/html2
mkdir "$H2"
out=$("$REPORT" -c "$TMP/conf" --html -o "$H2" -d example.com \
    -b 1800000000 -e 1800086399 2>&1)
ok $? "--html -d: exit 0"
is "$(ls "$H2" | tr '\n' ' ')" "domain-example.com.html index.html " \
    "  ... only that domain's page"
out=$("$REPORT" -c "$TMP/conf" --html -o "$H2" -b 1900000000 2>&1)
ok $? "--html over a period without data: exit 0"
has "$H2/index.html" 'No messages and no reports in this period' "  ... saying so"
# a report of 1002 source addresses: the table shows 1000
awk 'BEGIN {
	print "<feedback><report_metadata><org_name>big</org_name>"
	print "<report_id>big-1</report_id><date_range><begin>1800000000</begin>"
	print "<end>1800086399</end></date_range></report_metadata>"
	print "<policy_published><domain>big.example</domain></policy_published>"
	for (i = 0; i < 1002; i++)
		printf "<record><row><source_ip>10.0.%d.%d</source_ip><count>%d</count>" \
		    "<policy_evaluated><dkim>pass</dkim><spf>pass</spf></policy_evaluated>" \
		    "</row><identifiers><header_from>big.example</header_from>" \
		    "</identifiers></record>\n", i / 256, i % 256, i < 1000 ? 2 : 1
	print "</feedback>"
}' > "$TMP/big.xml"
"$IMPORT" -c "$TMP/conf" "$TMP/big.xml" > /dev/null
"$REPORT" -c "$TMP/conf" --html -o "$H2" -d big.example -b 1800000000 > /dev/null 2>&1
is "$(grep -c '<tr><td>10\.0\.' "$H2/domain-big.example.html")" 1000 \
    "a table of 1002 source addresses shows 1000"
has "$H2/domain-big.example.html" '<p>2 more source addresses \(2 messages\) not shown\.</p>' \
    "  ... and counts the others"
"$REPORT" -c "$TMP/conf" --html > /dev/null 2>&1
is $? 2 "--html without -o: usage error"

echo "1..$T"
exit $FAILED

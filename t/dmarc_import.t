#!/bin/sh
# dmarc_import.t - milter-dmarc-import: aggregate reports from other
# receivers into the history
#
# Reports as files (.xml, .xml.gz, .zip) and attached to mails (base64
# gzip and zip, quoted-printable XML, nested multiparts) are stored in
# received_reports and received_records; the same report again is
# skipped with a word on stderr and exit 0; hostile inputs (a gzip and
# a zip bomb, billion laughs, truncated gzip, malformed XML, a mail
# with one good and one bad report) are refused with a clear message
# and exit 3 and store nothing; a mail without a report exits 4; -n
# stores nothing.
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-$(pwd)/build/plain}
IMPORT=$BUILD/bin/milter-dmarc-import
DATA=t/data/dmarc_import

if ! [ -x "$IMPORT" ]; then
	echo "1..0 # SKIP $IMPORT is not built"
	exit 0
fi
for c in sqlite3 gzip zip base64; do
	if ! command -v $c > /dev/null; then
		echo "1..0 # SKIP $c is not installed"
		exit 0
	fi
done

T=0
FAILED=0
. t/lib/tap.sh
TMP=$(mktemp -d "${TMPDIR:-/tmp}/dmarc_import.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
trap 'rm -rf "$TMP"; exit 1' HUP INT TERM

printf 'Syslog no\nAuthservID mx.example.net\nHistoryDatabase sqlite:%s\n' \
    "$TMP/h.sqlite" > "$TMP/conf"
q() { sqlite3 "$TMP/h.sqlite" "$1"; }
reports() { q "SELECT count(*) FROM received_reports"; }
records() { q "SELECT count(*) FROM received_records"; }
# variant ID: the RFC 9990 example report under another report id
variant() { sed "s/r-2027-01-15!42/$1/" "$DATA/rfc9990.xml"; }
# mail BOUNDARY: a mail's header, the parts follow
mail_head()
{
	printf 'From: noreply@receiver.example\nTo: dmarc@example.org\n'
	printf 'Subject: Report Domain: example.org Submitter: receiver.example\n'
	printf 'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="%s"\n\n' "$1"
	printf 'This is a MIME message.\n\n--%s\nContent-Type: text/plain\n\nA report.\n\n' "$1"
}

# Files
out=$("$IMPORT" -c "$TMP/conf" "$DATA/google.xml" 2>&1)
ok $? "an XML file: exit 0"
like "$out" 'report 5717107811868587391 from google\.com for example\.net: 2 records stored' \
    "  ... says what it stored"
is "$(reports) $(records)" "1 2" "  ... one report and its two records in the history"
is "$(q "SELECT version FROM schema_version")" 6 "  ... in schema version 6"
is "$(q "SELECT org_name || '|' || email || '|' || domain || '|' || begin_time || '|' || end_time || '|' || p || '|' || pct FROM received_reports")" \
    "google.com|noreply-dmarc-support@google.com|example.net|1800000000|1800086399|reject|100" \
    "  ... org_name, email, domain, period and policy published"
is "$(q "SELECT source_ip || ' ' || count || ' ' || disposition || ' ' || dkim || ' ' || spf || ' ' || header_from || ' ' || dkim_results || ' ' || spf_results FROM received_records WHERE source_ip = '192.0.2.25'")" \
    "192.0.2.25 12 none pass pass example.net example.net s2026 pass example.net - pass" \
    "  ... a record: source, count, policy evaluated and auth results"
is "$(q "SELECT reasons FROM received_records WHERE source_ip = '2001:db8::bad'")" \
    "local_policy a & b ☺" "  ... entities and character references decoded"

variant gz-1 | gzip -9 > "$TMP/report.xml.gz"
variant zip-1 > "$TMP/report.xml"
(cd "$TMP" && zip -q report.zip report.xml)
out=$("$IMPORT" -c "$TMP/conf" "$TMP/report.xml.gz" "$TMP/report.zip" 2>&1)
ok $? "an .xml.gz and a .zip file: exit 0"
is "$(q "SELECT group_concat(report_id, ' ') FROM (SELECT report_id FROM received_reports WHERE org_name = 'Mail Receiver Ltd.' ORDER BY 1)")" \
    "gz-1 zip-1" "  ... both stored"

# Mails on standard input
{
	mail_head outer
	printf -- '--outer\nContent-Type: application/gzip; name="a.xml.gz"\n'
	printf 'Content-Transfer-Encoding: base64\n'
	printf 'Content-Disposition: attachment;\n filename="a.xml.gz"\n\n'
	variant mail-gz | gzip | base64
	printf -- '--outer--\n'
} > "$TMP/gz.eml"
{
	mail_head b1
	variant mail-zip > "$TMP/inner.xml"
	rm -f "$TMP/m.zip"
	(cd "$TMP" && zip -q m.zip inner.xml)
	printf -- '--b1\nContent-Type: application/octet-stream\n'
	printf 'Content-Transfer-Encoding: base64\n'
	printf 'Content-Disposition: attachment; filename=m.zip\n\n'
	base64 "$TMP/m.zip"
	printf -- '--b1--\n'
} > "$TMP/zip.eml"
{
	printf 'From: a@receiver.example\nMIME-Version: 1.0\n'
	printf 'Content-Type: text/xml\nContent-Transfer-Encoding: quoted-printable\n\n'
	# '=' as =3D, and a soft line break inside a tag
	variant mail-qp | sed -e 's/=/=3D/g' -e 's/<generator>/<gener=\nator>/'
} > "$TMP/qp.eml"
{
	mail_head outer
	printf -- '--outer\nContent-Type: multipart/mixed; boundary=inner\n\n'
	printf -- '--inner\nContent-Type: text/plain\n\nnothing\n'
	printf -- '--inner\nContent-Type: application/xml\n\n'
	variant mail-nested
	printf -- '--inner--\n\n--outer--\n'
} > "$TMP/nested.eml"
for k in gz zip qp nested; do
	out=$("$IMPORT" -c "$TMP/conf" < "$TMP/$k.eml" 2>&1)
	ok $? "a mail with a $k report: exit 0"
	is "$(q "SELECT count(*) FROM received_reports WHERE report_id = 'mail-$k'")" 1 \
	    "  ... the report stored"
done
is "$(q "SELECT count(*) FROM received_records c JOIN received_reports r ON r.id = c.report WHERE r.report_id = 'mail-zip' AND c.source_ip = '198.51.100.9' AND c.count = 5 AND c.dkim_results = 'other.example x pass'")" \
    1 "  ... with its record"
"$IMPORT" -c "$TMP/conf" -m "$TMP/gz.eml" > /dev/null 2>&1
ok $? "-m: a mail as a file (already stored): exit 0"

# The same report again
n="$(reports) $(records)"
out=$("$IMPORT" -c "$TMP/conf" "$DATA/google.xml" 2>&1)
ok $? "the same report again: exit 0"
like "$out" 'report 5717107811868587391 from google\.com is already in the history; skipped' \
    "  ... and says it is already there"
is "$(reports) $(records)" "$n" "  ... nothing doubled"

# Hostile inputs: exit 3, a message, nothing stored
head -c 60000000 /dev/zero | gzip -9 > "$TMP/bomb.xml.gz"
head -c 60000000 /dev/zero > "$TMP/zeros.xml"
(cd "$TMP" && zip -q -9 bomb.zip zeros.xml && rm zeros.xml)
cat > "$TMP/laughs.xml" <<'XML'
<?xml version="1.0"?>
<!DOCTYPE feedback [
 <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
 <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
 <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
]>
<feedback><report_metadata><org_name>&d;</org_name></report_metadata></feedback>
XML
variant trunc | gzip > "$TMP/full.gz"
head -c 200 "$TMP/full.gz" > "$TMP/truncated.xml.gz"
variant bad | sed 's|</row>|</rows>|' > "$TMP/bad.xml"
variant ent | sed 's|Mail Receiver Ltd\.|\&ext;|' > "$TMP/entity.xml"
printf '<?xml version="1.0"?>\n<html><body>hello</body></html>\n' > "$TMP/other.xml"
variant noip | sed 's|198\.51\.100\.9|not-an-address|' > "$TMP/noip.xml"
# a mail with a good report and a bad one: neither is stored
{
	mail_head x
	printf -- '--x\nContent-Type: application/xml\n\n'
	variant half-good
	printf -- '--x\nContent-Type: application/gzip\nContent-Transfer-Encoding: base64\n\n'
	base64 "$TMP/truncated.xml.gz"
	printf -- '--x--\n'
} > "$TMP/half.eml"
n="$(reports) $(records)"
for case in "bomb.xml.gz:inflates past the limit of 52428800 bytes" \
    "bomb.zip:inflates past the limit of 52428800 bytes" \
    "laughs.xml:a document type declaration \(DTDs are not accepted\)" \
    "truncated.xml.gz:truncated" \
    "bad.xml:</rows> ends <row>" \
    "entity.xml:an entity other than the five predefined ones" \
    "other.xml:the root element is <html>, not <feedback>" \
    "noip.xml:\"not-an-address\" is not an IP address" \
    "half.eml:truncated"; do
	f=${case%%:*}
	want=${case#*:}
	case $f in
	*.eml)	out=$("$IMPORT" -c "$TMP/conf" < "$TMP/$f" 2>&1) ;;
	*)	out=$("$IMPORT" -c "$TMP/conf" "$TMP/$f" 2>&1) ;;
	esac
	is $? 3 "$f: exit 3"
	like "$out" "$want.*; nothing stored$" "  ... $want"
done
is "$(reports) $(records)" "$n" "hostile inputs: nothing stored"
is "$(q "SELECT count(*) FROM received_reports WHERE report_id = 'half-good'")" 0 \
    "  ... not even the good report of a mail with a bad one"

printf 'From: a@example.org\nSubject: hello\n\nJust text.\n' > "$TMP/plain.eml"
out=$("$IMPORT" -c "$TMP/conf" < "$TMP/plain.eml" 2>&1)
is $? 4 "a mail without a report: exit 4"
like "$out" 'no report attached' "  ... saying so"

variant dry | gzip > "$TMP/dry.xml.gz"
out=$("$IMPORT" -n "$TMP/dry.xml.gz" 2>&1)
ok $? "-n: exit 0"
like "$out" 'report dry from Mail Receiver Ltd\. .* for example\.org, 1800057600 to 1800143999, 1 records' \
    "  ... prints the report"
is "$(q "SELECT count(*) FROM received_reports WHERE report_id = 'dry'")" 0 \
    "  ... and stores nothing"

printf 'Syslog no\n' > "$TMP/nohist.conf"
out=$("$IMPORT" -c "$TMP/nohist.conf" "$DATA/google.xml" 2>&1)
is $? 1 "no HistoryDatabase: exit 1"
like "$out" 'sets no HistoryDatabase' "  ... saying so"
"$IMPORT" -x > /dev/null 2>&1
is $? 2 "an unknown option: exit 2"

echo "1..$T"
exit $FAILED

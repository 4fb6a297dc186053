#!/bin/sh
# dmarc_milter.t - milter-dmarc over the milter protocol, with nsd serving
# DMARC and SPF records (t/data/dmarcd/dmarc.zone, the whole "test" TLD)
#
# Daemons: "plain" (defaults, but IgnoreHosts empty so that 192.0.2.1 is
# evaluated), "rej" (RejectFailures, HoldQuarantinedMessages,
# SPFSelfValidate, a history in SQLite and in a flat file), "test"
# (the same in TestMode), "silent" (a name server that never answers,
# RejectFailures).  milterclient sends each message and prints what the
# milter asked for.  Checks: pass by a trusted Authentication-Results
# field and by our own SPF check, fail with and without RejectFailures,
# dmarc=none for a domain without a record, the subdomain fallback,
# strict alignment, t=y, np= for a non-existent subdomain, hold for
# p=quarantine, the strictest of several From domains, an untrusted
# authserv-id ignored, forged results under our id deleted, IgnoreHosts,
# IgnoreAuthenticatedClients, temperror deferred, TestMode, the history
# rows, -n traps and explain.  Everything on 127.0.0.1, ports picked at
# run time, processes killed by PID.
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-$(pwd)/build/plain}
MILTER=$BUILD/bin/milter-dmarc
CLIENT=$BUILD/t/tools/milterclient

for f in "$MILTER" "$CLIENT"; do
	if ! [ -x "$f" ]; then
		echo "1..0 # SKIP $f is not built"
		exit 0
	fi
done
command -v nsd > /dev/null || PATH=$PATH:/usr/sbin
if ! command -v nsd > /dev/null; then
	echo "1..0 # SKIP nsd is not installed"
	exit 0
fi

T=0
FAILED=0
. t/lib/tap.sh
. t/data/dns/nsd.sh
TMP=$(mktemp -d "${TMPDIR:-/tmp}/dmarc_milter.XXXXXX") || exit 1
PIDS=""

cleanup()
{
	for p in $PIDS; do
		kill "$p" 2> /dev/null
	done
	for p in $PIDS; do
		wait "$p" 2> /dev/null
	done
	PIDS=""
	nsd_stop
	rm -rf "$TMP"
}

# An Ed25519 key for reject.test, published in a copy of the zone, for
# DKIMSelfValidate.
DKIMTOOL=$BUILD/t/tools/dkimtool
cp t/data/dmarcd/dmarc.zone "$TMP/dmarc.zone"
if [ -x "$DKIMTOOL" ] && "$DKIMTOOL" keygen ed25519 "$TMP/s1.pem" &&
    rec=$("$DKIMTOOL" record "$TMP/s1.pem"); then
	printf 's1._domainkey.reject\tIN TXT\t"%s"\n' "$rec" >> "$TMP/dmarc.zone"
	HAVE_KEY=1
fi
if ! nsd_start test "$TMP/dmarc.zone" > "$TMP/nsd.out" 2>&1; then
	trap cleanup EXIT
	ok 1 "nsd starts"
	sed 's/^/# /' "$TMP/nsd.out"
	echo "1..$T"
	exit 1
fi
trap cleanup EXIT
trap 'cleanup; exit 1' HUP INT TERM
ok 0 "nsd starts"
NS=127.0.0.1:$NSD_PORT

# A UDP socket that receives queries and never answers.
perl -MIO::Socket::INET -e '
	my $s = IO::Socket::INET->new(Proto => "udp",
	    LocalAddr => "127.0.0.1", LocalPort => 0) or die "$!\n";
	open(my $f, ">", "$ARGV[0].tmp") or die "$!\n";
	print $f $s->sockport, "\n";
	close $f;
	rename("$ARGV[0].tmp", $ARGV[0]);
	sleep 600;
' "$TMP/silent.port" &
PIDS="$PIDS $!"
i=0
while ! [ -s "$TMP/silent.port" ] && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
SILENT=$(cat "$TMP/silent.port" 2> /dev/null)

listening()
{
	perl -MIO::Socket::INET -e 'exit(IO::Socket::INET->new(
	    PeerAddr => "127.0.0.1", PeerPort => $ARGV[0], Proto => "tcp")
	    ? 0 : 1)' "$1"
}

# conf NAME NAMESERVERS [LINES] - write $TMP/NAME.conf (no Socket)
conf()
{
	{
		printf 'Syslog no\nDNSTimeout 2\n'
		[ -n "${NOID:-}" ] || printf 'AuthservID mx.test\n'
		printf 'Nameservers %s\n' "$2"
		printf '%s\n' "${3:-}"
	} > "$TMP/$1.conf"
}

# start NAME NAMESERVERS [LINES] - a milter-dmarc; sets PORT_NAME, PID_NAME
start()
{
	_try=0
	while [ $_try -lt 3 ]; do
		_try=$((_try + 1))
		_port=$(t/lib/freeport) || return 1
		conf "$1" "$2" "Socket inet:$_port@127.0.0.1
${3:-}"
		"$MILTER" -f -c "$TMP/$1.conf" >> "$TMP/$1.log" 2>&1 &
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
		kill $_pid 2> /dev/null
		wait $_pid 2> /dev/null
	done
	sed 's/^/# /' "$TMP/$1.log"
	return 1
}

start plain "$NS" "IgnoreHosts 127.0.0.9"
ok $? "milter-dmarc starts (defaults, IgnoreHosts elsewhere)"
start rej "$NS" "IgnoreHosts 127.0.0.9
DomainWhitelist list.example
RejectFailures yes
HoldQuarantinedMessages yes
SPFSelfValidate yes
IgnoreAuthenticatedClients yes
HistoryDatabase sqlite:$TMP/history.sqlite
HistoryFile $TMP/history.dat"
ok $? "milter-dmarc starts with RejectFailures, a history and SPFSelfValidate"
start test "$NS" "IgnoreHosts 127.0.0.9
RejectFailures yes
TestMode yes"
ok $? "milter-dmarc starts in TestMode"
start silent "127.0.0.1:${SILENT:-1}" "IgnoreHosts 127.0.0.9
RejectFailures yes
DNSTimeout 1"
ok $? "milter-dmarc starts with a name server that never answers"
start dflt "$NS" ""
ok $? "milter-dmarc starts with the default IgnoreHosts"
cat > "$TMP/fakesend" <<EOF
#!/bin/sh
n=\$(ls "$TMP"/report.* 2> /dev/null | wc -l)
cat > "$TMP/report.\$n"
EOF
chmod +x "$TMP/fakesend"
start ruf "$NS" "IgnoreHosts 127.0.0.9
FailureReports yes
ReportCommand $TMP/fakesend"
ok $? "milter-dmarc starts with FailureReports"
NOID=1 start mta "$NS" "IgnoreHosts 127.0.0.9"
ok $? "milter-dmarc starts without AuthservID"
start self "$NS" "IgnoreHosts 127.0.0.9
DKIMSelfValidate yes
RejectFailures yes"
ok $? "milter-dmarc starts with DKIMSelfValidate"
start arcself "$NS" "IgnoreHosts 127.0.0.9
ARCSelfValidate yes
DomainWhitelist arcseal.test
RejectFailures yes"
ok $? "milter-dmarc starts with ARCSelfValidate"

# msg FROM [EXTRA-HEADER] - a message on stdout
msg()
{
	printf 'From: %s\n' "$1"
	[ -n "${2:-}" ] && printf '%s\n' "$2"
	printf 'To: user@rcpt.test\nSubject: test\n'
	printf 'Date: Thu, 03 Dec 2026 08:00:00 +0000\n\nHello.\n'
}

# mc NAME FROM-FIELD [EXTRA-HEADER] [OPTIONS] - one message from
# 192.0.2.1, envelope sender from the environment (MAILFROM)
mc()
{
	_name=$1 _from=$2 _extra=${3:-}
	shift 2
	[ $# -gt 0 ] && shift
	eval "_port=\$PORT_$_name"
	msg "$_from" "$_extra" | "$CLIENT" -s "inet:$_port@127.0.0.1" \
	    -i "${IP:-192.0.2.1}" -H mx.client.test \
	    -f "${MAILFROM:-bounce@elsewhere.test}" -r user@rcpt.test \
	    -q QID7 "$@" 2>&1
}

DKIMOK='Authentication-Results: mx.test; dkim=pass header.d=reject.test header.s=s1'

out=$(mc plain 'a@reject.test' "$DKIMOK")
like "$out" '^INSHEADER 0 Authentication-Results: mx\.test;.*dmarc=pass \(p=reject sp=reject dis=none\) header\.from=reject\.test' \
    "an aligned DKIM pass from a trusted A-R field: dmarc=pass"
like "$out" '^CONTINUE$' "pass: accepted"

out=$(mc plain 'a@reject.test')
like "$out" 'dmarc=fail \(p=reject sp=reject dis=reject\) header\.from=reject\.test' \
    "no authentication: dmarc=fail, dis=reject"
like "$out" '^CONTINUE$' "fail without RejectFailures: accepted (as OpenDMARC)"

out=$(mc rej 'a@reject.test')
like "$out" '^INSHEADER 0 Authentication-Results: .*dmarc=fail' \
    "RejectFailures: the A-R field is written before the reject"
like "$out" '^REPLYCODE 550 5\.7\.1 rejected by DMARC policy for reject\.test$' \
    "RejectFailures: 550 5.7.1 naming the domain"

out=$(MAILFROM=bounce@reject.test mc rej 'a@reject.test')
like "$out" 'dmarc=pass' "SPFSelfValidate: our own SPF pass for reject.test aligns"
like "$out" '^CONTINUE$' "SPFSelfValidate pass: accepted"

out=$(mc plain 'a@norecord.test')
like "$out" 'dmarc=none header\.from=norecord\.test' \
    "no record: dmarc=none is written"

out=$(mc rej 'x@sub.reject.test')
like "$out" 'dmarc=fail .*header\.from=sub\.reject\.test' \
    "a subdomain without a record falls back to its organization's"
like "$out" '^REPLYCODE 550 5\.7\.1 rejected by DMARC policy for sub\.reject\.test$' \
    "  ... and is rejected by its p=reject"

out=$(mc rej 'x@nx.np.test')
like "$out" 'dmarc=fail \(p=none sp=none np=reject dis=reject\)' \
    "np=reject applies to a non-existent subdomain"

out=$(MAILFROM=b@mail.strict.test mc rej 'a@strict.test')
like "$out" 'dmarc=fail' "aspf=s: an SPF pass for a subdomain does not align"

out=$(mc rej 'a@testing.test')
like "$out" 'dmarc=fail \(p=reject sp=reject dis=quarantine\)' \
    "t=y: reject becomes quarantine"
like "$out" '^QUARANTINE DMARC quarantine policy of testing\.test$' \
    "HoldQuarantinedMessages: held (Postfix HOLD)"

out=$(mc rej 'a@quar.test')
like "$out" '^QUARANTINE ' "p=quarantine: held"

out=$(mc rej 'a@none.test, b@reject.test')
like "$out" 'dmarc=fail .*header\.from=none\.test;.*dmarc=fail .*header\.from=reject\.test' \
    "two From domains: both evaluated, one field"
like "$out" '^REPLYCODE 550 5\.7\.1 rejected by DMARC policy for reject\.test$' \
    "two From domains: the strictest outcome wins"

out=$(mc rej '"a\" <x@none.test>" <y@reject.test>')
like "$out" 'header\.from=reject\.test' \
    "a quoted-pair in the display name does not hide the address"
like "$out" '^REPLYCODE 550' "  ... which is rejected"

out=$(mc rej 'a@reject.test' 'Authentication-Results: other.example; dkim=pass header.d=reject.test')
like "$out" '^REPLYCODE 550' "a DKIM pass under an untrusted authserv-id does not count"

out=$(mc rej 'a@reject.test' 'Authentication-Results: mx.test; arc=pass arc.chain=other.example:list.example')
like "$out" '^CONTINUE$' "a passing ARC chain sealed by a DomainWhitelist domain overrides the reject"
like "$out" 'dmarc=fail.*\(p=reject sp=reject dis=reject; overridden: ARC sealed by list\.example\)' \
    "  ... the result stays fail, the override and the sealer are noted"
out=$(mc rej 'a@reject.test' 'Authentication-Results: mx.test; arc=pass arc.chain=evil.example')
like "$out" '^REPLYCODE 550' "an ARC chain of sealers not in DomainWhitelist changes nothing"
out=$(mc rej 'a@reject.test' 'Authentication-Results: mx.test; arc=fail arc.chain=list.example')
like "$out" '^REPLYCODE 550' "a failing ARC chain changes nothing"
out=$(mc rej 'a@reject.test' 'Authentication-Results: other.test; arc=pass arc.chain=list.example')
like "$out" '^REPLYCODE 550' "an arc=pass under an untrusted authserv-id changes nothing"
out=$(mc rej 'a@reject.test' 'ARC-Seal: i=1; a=rsa-sha256; cv=none; d=list.example; s=x; b=@@@;;;
ARC-Seal: garbage (((
ARC-Message-Signature: i=1; a=rsa-sha256; d=list.example; s=x; h=from; bh=; b=
ARC-Authentication-Results: i=1; mx.list.example; dmarc=pass')
like "$out" '^REPLYCODE 550' "unparseable ARC fields are ignored, never a crash (OpenDMARC 1.4.2 crashes)"

out=$(mc plain 'a@reject.test' 'Authentication-Results: mx.test; dmarc=pass header.from=reject.test')
like "$out" '^CHGHEADER 1 Authentication-Results: ?$' \
    "a forged dmarc= result under our authserv-id is deleted"
like "$out" 'INSHEADER 0 Authentication-Results: .*dmarc=fail' \
    "  ... and our own result replaces it"

out=$(mc plain 'a@reject.test' 'Authentication-Results: "mx.test/QID7"; dmarc=pass header.from=reject.test')
like "$out" '^CHGHEADER 1 Authentication-Results: ?$' \
    "a forged dmarc= result under our authserv-id with a job id is deleted"
out=$(mc plain 'a@reject.test' 'Authentication-Results: "mx.test/QID7"; dkim=pass header.d=reject.test header.s=s1')
unlike "$out" 'CHGHEADER' "a dkim= result under our id with a job id is kept"

out=$(mc plain 'a@reject.test' "$DKIMOK")
unlike "$out" 'CHGHEADER' "a dkim= result under our id (milter-dkim's) is kept"

out=$(IP=127.0.0.1 mc dflt 'a@reject.test')
like "$out" '^ACCEPT' "IgnoreHosts defaults to 127.0.0.1: not evaluated"
unlike "$out" 'INSHEADER' "  ... and no field added"

out=$(mc rej 'a@reject.test' '' -a alice)
unlike "$out" 'INSHEADER|REPLYCODE' "IgnoreAuthenticatedClients: SMTP AUTH sender not evaluated"

out=$(mc rej '')
like "$out" 'dmarc=permerror' "an empty From: dmarc=permerror"

out=$(mc silent 'a@reject.test' '' -T 20)
like "$out" 'dmarc=temperror' "DNS not answering: dmarc=temperror"
like "$out" '^REPLYCODE 451 4\.7\.5 ' "  ... deferred with RejectFailures"

# Without AuthservID, the MTA's name (macro j; milterclient sends
# mx.example.net) is ours, as in OpenDMARC and milter-dkim.
out=$(mc mta 'a@reject.test' 'Authentication-Results: mx.example.net; dkim=pass header.d=reject.test')
like "$out" '^INSHEADER 0 Authentication-Results: mx\.example\.net;.*dmarc=pass' \
    "no AuthservID: the MTA's name is the authserv-id, and its dkim= results are trusted"

# Failure reports.
out=$(mc ruf 'a@ruf.test')
like "$out" 'dmarc=fail' "FailureReports: a failing message from a domain with ruf="
# the report is sent by a thread of its own, after the answer
wait_line "$TMP/ruf.log" 'DMARC failure report for ruf\.test sent to'
has "$TMP/report.0" '^To: ruf@ruf\.test$' "  ... is reported to its ruf address"
has "$TMP/report.0" '^Content-Type: multipart/report; report-type=feedback-report;' \
    "  ... as an RFC 6591 report"
has "$TMP/report.0" '^Feedback-Type: auth-failure$' "  ... of an auth-failure"
has "$TMP/report.0" '^Reported-Domain: ruf\.test$' "  ... for the domain"
has "$TMP/report.0" '^Source-IP: 192\.0\.2\.1$' "  ... with the client address"
has "$TMP/report.0" '^From: a@ruf\.test$' "  ... and the message's header"
has "$TMP/ruf.log" 'not sent to x@elsewhere\.test: no ruf\.test\._report\._dmarc\.elsewhere\.test' \
    "  ... not to an external address without _report._dmarc"
mc ruf 'b@ruf.test' > /dev/null
ok $([ ! -f "$TMP/report.1" ]; echo $?) "  ... at most one a minute per address"
has "$TMP/ruf.log" 'not sent to ruf@ruf\.test: one in the last 60 s' "  ... which is logged"
mc ruf 'a@none.test' > /dev/null
ok $([ ! -f "$TMP/report.1" ]; echo $?) "no ruf=: no report"
is "$(grep -c 'DMARC failure report for [^ ]* sent to' "$TMP/ruf.log")" 1 \
    "  ... one report sent in all"

# Our own DKIM verification.
if [ -n "${HAVE_KEY:-}" ]; then
	msg 'a@reject.test' | "$DKIMTOOL" sign -d reject.test -s s1 \
	    -k "$TMP/s1.pem" > "$TMP/signed"
	out=$("$CLIENT" -s "inet:$PORT_self@127.0.0.1" -i 192.0.2.1 \
	    -H mx.client.test -f b@elsewhere.test -r user@rcpt.test -q QID8 \
	    < "$TMP/signed" 2>&1)
	like "$out" 'dmarc=pass' "DKIMSelfValidate: our own verification of an aligned signature passes"
	like "$out" '^CONTINUE$' "  ... accepted"
	sed 's/^Hello\.$/Hullo./' "$TMP/signed" > "$TMP/tampered"
	out=$("$CLIENT" -s "inet:$PORT_self@127.0.0.1" -i 192.0.2.1 \
	    -H mx.client.test -f b@elsewhere.test -r user@rcpt.test -q QID9 \
	    < "$TMP/tampered" 2>&1)
	like "$out" '^REPLYCODE 550 5\.7\.1 ' "DKIMSelfValidate: a body changed after signing fails, rejected"
	out=$(mc self 'a@reject.test' "$DKIMOK")
	like "$out" 'dmarc=pass' "DKIMSelfValidate: a trusted dkim= result still counts first"
else
	skip "DKIMSelfValidate pass" "no dkimtool or key"
	skip "DKIMSelfValidate accepted" "no dkimtool or key"
	skip "DKIMSelfValidate tampered" "no dkimtool or key"
	skip "DKIMSelfValidate trusted first" "no dkimtool or key"
fi

out=$(mc test 'a@reject.test')
like "$out" '^CONTINUE$' "TestMode: never rejects"
has "$TMP/test.log" 'QID7: DMARC header\.from=reject\.test: fail .*TestMode, would be rejected' \
    "TestMode: the log says what would have been done"

# The history: SIGTERM writes out what is queued.
kill -TERM "$PID_rej"
wait "$PID_rej"
ok $? "milter-dmarc (rej) exits 0 on SIGTERM"
if command -v sqlite3 > /dev/null; then
	rows=$(sqlite3 "$TMP/history.sqlite" "SELECT count(*) FROM messages")
	ok $([ "${rows:-0}" -ge 14 ]; echo $?) "SQLite history: a row per evaluated domain ($rows)"
	is "$(sqlite3 "$TMP/history.sqlite" "SELECT count(*) FROM messages WHERE disposition = 'reject' AND action = 'accept'")" 1 \
	    "SQLite history: the ARC override is a reject disposition not applied"
	is "$(sqlite3 "$TMP/history.sqlite" "SELECT version FROM schema_version")" 6 \
	    "SQLite history: schema version 6"
	is "$(sqlite3 "$TMP/history.sqlite" "SELECT dmarc_result || ' ' || disposition || ' ' || action FROM messages WHERE from_domain = 'sub.reject.test'")" \
	    "fail reject reject" "SQLite history: result, disposition and action"
	is "$(sqlite3 "$TMP/history.sqlite" "PRAGMA journal_mode")" wal \
	    "SQLite history: WAL"
else
	skip "SQLite history rows" "no sqlite3"
	skip "SQLite schema version" "no sqlite3"
	skip "SQLite result" "no sqlite3"
	skip "SQLite WAL" "no sqlite3"
fi
has "$TMP/history.dat" '^from sub\.reject\.test$' "HistoryFile: OpenDMARC's format"
has "$TMP/history.dat" '^pdomain reject\.test$' "HistoryFile: the policy domain"
n=$(grep -c '^job ' "$TMP/history.dat")
ok $([ "$n" = "$rows" ] || [ -z "$rows" ]; echo $?) "HistoryFile: as many jobs as SQLite rows ($n)"

# -n: the traps.
conf trap "$NS" "TrustedAuthservIDs other.example
RejectFailures yes
HistoryFile $TMP/no/such/dir/history"
out=$("$MILTER" -n -c "$TMP/trap.conf" 2>&1)
ok $? "-n: a configuration with traps still loads (exit 0)"
like "$out" 'TrustedAuthservIDs does not include mx\.test' \
    "-n: TrustedAuthservIDs without our authserv-id is named"
like "$out" 'RejectFailures is on, DKIMSelfValidate and SPFSelfValidate are off' \
    "-n: RejectFailures without our own DKIM or SPF input is named"
like "$out" 'HistoryFile cannot be written' "-n: an unwritable HistoryFile is named"
conf bad "$NS" "PolicyDiscovery guess"
out=$("$MILTER" -n -c "$TMP/bad.conf" 2>&1)
ok $([ $? -ne 0 ]; echo $?) "-n: a bad PolicyDiscovery fails"
like "$out" 'bad\.conf:[0-9]*: PolicyDiscovery' "  ... naming file and line"

# explain: the walk, question by question.
out=$("$MILTER" -c "$TMP/plain.conf" explain a.b.sub.reject.test 2>&1)
like "$out" '^  1\. _dmarc\.a\.b\.sub\.reject\.test TXT: no such domain' \
    "explain: the first question"
like "$out" '^  4\. _dmarc\.reject\.test TXT: ok: record: v=DMARC1; p=reject' \
    "explain: the fourth question finds the record"
like "$out" '^policy: reject$' "explain: the policy that applies"
like "$out" '^organizational domain: reject\.test$' "explain: the organizational domain"

for v in plain test silent dflt self mta ruf; do
	eval "p=\$PID_$v"
	kill -TERM "$p" 2> /dev/null
	wait "$p"
	ok $? "milter-dmarc ($v) exits 0 on SIGTERM"
done
bad=$(grep -l -E 'Sanitizer|runtime error' "$TMP"/*.log)
ok $([ -z "$bad" ]; echo $?) "no sanitizer report in the daemons' logs"

# ARCSelfValidate: our own validation of a chain sealed by a trusted
# sealer overrides a DMARC fail; a broken chain or a hostile set does not
ARCTOOL=$BUILD/t/tools/arctool
if [ -x "$ARCTOOL" ]; then
	msg 'a@reject.test' | "$ARCTOOL" seal -K t/data/dkimd/rsa2048.pem \
	    -d arcseal.test -s k -a relay.arcseal.test -r 'spf=pass' -w \
	    > "$TMP/sealed" 2> "$TMP/arctool.err"
	ok $? "arctool seals a message as arcseal.test"
	out=$("$CLIENT" -s "inet:$PORT_arcself@127.0.0.1" -i 192.0.2.1 \
	    -H mx.client.test -f bounce@elsewhere.test -r user@rcpt.test \
	    -q QID8 < "$TMP/sealed" 2>&1)
	like "$out" '^CONTINUE$' "ARCSelfValidate: a valid chain sealed by a DomainWhitelist domain overrides the reject"
	like "$out" 'overridden: ARC sealed by arcseal\.test' \
	    "and the A-R comment names the sealer"
	sed 's/^Hello\.$/Hello, changed./' "$TMP/sealed" > "$TMP/broken"
	out=$("$CLIENT" -s "inet:$PORT_arcself@127.0.0.1" -i 192.0.2.1 \
	    -H mx.client.test -f bounce@elsewhere.test -r user@rcpt.test \
	    -q QID9 < "$TMP/broken" 2>&1)
	like "$out" '^REPLYCODE 550' "ARCSelfValidate: a chain broken by a changed body overrides nothing"
	out=$(mc arcself 'a@reject.test' 'ARC-Seal: i=0; i=99999999999; ==; a; b=')
	like "$out" '^REPLYCODE 550' "ARCSelfValidate: a hostile ARC-Seal is a failed chain, nothing worse"
	kill -0 "$PID_arcself"
	ok $? "and milter-dmarc still runs"
else
	skip "ARCSelfValidate" "arctool is not built"
fi

[ $FAILED = 0 ] || for f in "$TMP"/*.log; do
	echo "# $f:"; sed 's/^/#   /' "$f"
done
echo "1..$T"
exit $FAILED

#!/bin/bash
# metrics.t - MetricsSocket: Prometheus text over HTTP, read by real clients
#
# Starts milter-spf and milter-dkim with MetricsSocket on free loopback
# ports, the SPF records served by nsd, drives them with milterclient
# (messages, a reload, a malformed packet, a hang-up), then scrapes each
# endpoint with curl and parses the text with python3-prometheus-client's
# parser (the one Prometheus' own Python client uses): the counters must
# match what was sent.  Also: MetricsSocket is off by default, a unix:
# MetricsSocket is refused by -n, and anything but GET /metrics is
# answered 404/405.
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-$(pwd)/build/plain}
MS=$BUILD/bin/milter-spf
MD=$BUILD/bin/milter-dkim
MC=$BUILD/t/tools/milterclient
T=0
FAILED=0
. t/lib/tap.sh
. t/lib/procs.sh
need_exec "$MS" "$MD" "$MC"
need_cmd curl
command -v nsd > /dev/null || PATH=$PATH:/usr/sbin
need_cmd nsd
/usr/bin/python3 -c 'import prometheus_client.parser' 2> /dev/null || {
	echo "1..0 # SKIP python3-prometheus-client is not installed"
	exit 0
}
. t/data/dns/nsd.sh
TMP=$(mktemp -d "${TMPDIR:-/tmp}/metrics.XXXXXX") || exit 1
cleanup() { stop_procs; nsd_stop; rm -rf "$TMP"; }
nsd_start spf.test t/data/spfd/spf.zone > "$TMP/nsd.out" 2>&1 || {
	echo "1..0 # SKIP nsd did not start"
	rm -rf "$TMP"
	exit 0
}
# after nsd_start, which sets its own EXIT trap
trap cleanup EXIT
trap 'cleanup; exit 1' HUP INT TERM

# scrape PORT - the metrics text of the daemon on PORT, parsed, as
#	"name{labels} value" lines (labels sorted), via the real parser
scrape() {
	curl -sf "http://127.0.0.1:$1/metrics" > "$TMP/scrape" || return 1
	/usr/bin/python3 - "$TMP/scrape" <<-'PY'
	import sys
	from prometheus_client.parser import text_string_to_metric_families
	for fam in text_string_to_metric_families(open(sys.argv[1]).read()):
	    for s in fam.samples:
	        labels = ",".join('%s="%s"' % kv for kv in sorted(s.labels.items()))
	        print("%s{%s} %g" % (s.name, labels, s.value))
	PY
}
# value NAME{LABELS} - one sample of the last scrape
value() { awk -v k="$1" '$1 == k { print $2 }' "$TMP/parsed"; }

PS=$(perl t/lib/freeport)
PM=$(perl t/lib/freeport)
cat > "$TMP/spf.conf" <<-EOF
	Socket inet:$PS@127.0.0.1
	MetricsSocket inet:$PM@127.0.0.1
	Syslog no
	AuthservID mx.test
	Nameservers 127.0.0.1@$NSD_PORT
	EOF
"$MS" -f -c "$TMP/spf.conf" 2> "$TMP/spf.log" &
PIDS="$PIDS $!"
SPF_PID=$!
wait_port "$PS" "$SPF_PID"
ok $? "milter-spf starts with MetricsSocket"
wait_port "$PM" "$SPF_PID"
ok $? "the metrics port listens"
has "$TMP/spf.log" "metrics on inet:$PM@127.0.0.1" "the start-up log names it"

printf 'From: <a@pass.spf.test>\nTo: <b@mx.test>\nSubject: m\n\nbody\n' \
    > "$TMP/msg"
$MC -s "inet:$PS@127.0.0.1" -i 192.0.2.1 -f a@pass.spf.test -r b@mx.test \
    -n 5 < "$TMP/msg" > "$TMP/out"
$MC -s "inet:$PS@127.0.0.1" -i 192.0.2.1 -f a@fail.spf.test -r b@mx.test \
    < "$TMP/msg" >> "$TMP/out"
kill -HUP "$SPF_PID"
for i in $(seq 50); do
	grep -q 'configuration reloaded' "$TMP/spf.log" && break
	sleep 0.1
done
# a malformed packet: negotiation, then a connect command that is cut short
printf '\0\0\0\15O\0\0\0\6\0\0\1\377\0\37\377\377\0\0\0\2Cx' \
    > /dev/tcp/127.0.0.1/"$PS"
# a hang-up in the middle of a negotiation
printf '\0\0\0\15O\0\0\0\6' > /dev/tcp/127.0.0.1/"$PS"
sleep 0.3

scrape "$PM" > "$TMP/parsed"
ok $? "curl gets the page and the Prometheus parser reads it"
like "$(grep '^milter_build_info' "$TMP/parsed")" 'daemon="milter-spf"' \
    "build_info names the daemon"
is "$(value 'milter_messages_total{verdict="continue"}')" 5 \
    "5 messages ended with continue"
is "$(value 'milter_refusals_total{step="rcpt",verdict="reject"}')" 1 \
    "the SPF fail is one refusal at RCPT"
is "$(value 'milter_results_total{method="spf",result="pass"}')" 5 \
    "the 5 Authentication-Results written count as spf=pass results"
is "$(value 'milter_reloads_total{outcome="ok"}')" 1 "one reload, ok"
is "$(value 'milter_reloads_total{outcome="failed"}')" 0 "no failed reload"
is "$(value 'milter_connections{}')" 0 "no connection open now"
ok "$(awk '$1 == "milter_protocol_errors_total{}" { exit !($2 >= 1) }' \
    "$TMP/parsed"; echo $?)" "the malformed packet is a protocol error"
ok "$(awk '$1 == "milter_hangups_total{}" { exit !($2 >= 1) }' \
    "$TMP/parsed"; echo $?)" "the hang-up is counted"
ok "$(awk '$1 == "milter_sessions_total{}" { exit !($2 >= 8) }' \
    "$TMP/parsed"; echo $?)" "every session is counted"
is "$(value 'milter_stage_seconds_count{stage="rcpt"}')" 6 \
    "the RCPT stage's latency histogram has 6 observations"
ok "$(awk '/^milter_dns_queries_total\{outcome="ok",type="TXT"\}/ {
    exit !($2 >= 1) }' "$TMP/parsed"; echo $?)" \
    "DNS TXT queries are counted by outcome"
ok "$(awk '$1 == "milter_dns_query_seconds_count{}" { exit !($2 >= 1) }' \
    "$TMP/parsed"; echo $?)" "and timed"

code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PM/x")
is "$code" 404 "another path is 404"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST \
    "http://127.0.0.1:$PM/metrics")
is "$code" 405 "POST is 405"

# milter-dkim: no MetricsSocket, nothing listens; unix: is refused.
PD=$(perl t/lib/freeport)
printf 'Socket inet:%s@127.0.0.1\nSyslog no\nMode v\n' "$PD" > "$TMP/d.conf"
"$MD" -f -c "$TMP/d.conf" 2> "$TMP/d.log" &
PIDS="$PIDS $!"
wait_port "$PD" "$!"
ok $? "milter-dkim starts without MetricsSocket"
hasnt "$TMP/d.log" 'metrics on' "and serves no metrics"
printf 'Socket inet:%s@127.0.0.1\nMetricsSocket unix:%s/m.sock\n' "$PD" \
    "$TMP" > "$TMP/u.conf"
out=$("$MD" -n -c "$TMP/u.conf" 2>&1)
ok $([ $? = 1 ]; echo $?) "-n refuses a unix: MetricsSocket"
like "$out" 'MetricsSocket: .*inet' "and says to give an inet address"
echo "1..$T"
exit $FAILED

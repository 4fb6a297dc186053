#!/bin/sh
# dmarc_diff.t - milter-dmarc against Debian's opendmarc 1.4.2: the same
# opendmarc.conf, the same messages, the same DNS data
#
# OpenDMARC asks the resolver of /etc/resolv.conf, on port 53.  So the
# script runs itself again in new mount and network namespaces (root
# and unshare(1) needed): there 127.0.0.1 is a private loopback, nsd
# serves t/data/dmarcd/dmarc.zone on 127.0.0.1:53, and /etc/resolv.conf
# is a bind-mounted file naming it.  Nothing outside the namespaces sees
# any of it.
#
# Both milters load one opendmarc.conf (RejectFailures, a trusted
# authserv-id, the public suffix list); milter-dmarc runs it twice, with
# its default tree walk and with PolicyDiscovery psl (-O), which is
# OpenDMARC's method.  For each message, the dmarc= result each writes
# and the verdict are compared.  They must agree, except in the cases
# listed in DIFFERENCES below (each with its reason, also given in
# milter-dmarc(8)); the script prints the count.
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-$(pwd)/build/plain}
MILTER=$BUILD/bin/milter-dmarc
CLIENT=$BUILD/t/tools/milterclient
OPENDMARC=${OPENDMARC:-/usr/sbin/opendmarc}
PSL=/usr/share/publicsuffix/public_suffix_list.dat
PATH=$PATH:/usr/sbin:/sbin

skip_all() { echo "1..0 # SKIP $1"; exit 0; }
[ "$(id -u)" = 0 ] || skip_all "needs root for private namespaces"
for f in "$MILTER" "$CLIENT" "$OPENDMARC"; do
	[ -x "$f" ] || skip_all "$f is not there"
done
for c in unshare nsd ip; do
	command -v $c > /dev/null || skip_all "$c is not installed"
done
[ -f "$PSL" ] || skip_all "no public suffix list at $PSL"

if [ -z "${DMARC_DIFF_NS:-}" ]; then
	DMARC_DIFF_NS=1 exec unshare -mn sh "$0" "$@"
fi

T=0
FAILED=0
. t/lib/tap.sh
. t/data/dns/nsd.sh
TMP=$(mktemp -d "${TMPDIR:-/tmp}/dmarc_diff.XXXXXX") || exit 1
# inside the namespace port 53 of the private loopback is ours
printf '#!/bin/sh\necho 53\n' > "$TMP/port53"
chmod 755 "$TMP/port53"
NSD_FREEPORT=$TMP/port53
PIDS=""
cleanup()
{
	for p in $PIDS; do
		kill "$p" 2> /dev/null
	done
	for p in $PIDS; do
		wait "$p" 2> /dev/null
	done
	nsd_stop
	rm -rf "$TMP"
}

ip link set lo up || skip_all "cannot bring up the private loopback"
echo "nameserver 127.0.0.1" > "$TMP/resolv.conf"
mount --bind "$TMP/resolv.conf" /etc/resolv.conf ||
    skip_all "cannot bind-mount /etc/resolv.conf"
if ! nsd_start test t/data/dmarcd/dmarc.zone > "$TMP/nsd.out" 2>&1; then
	sed 's/^/# /' "$TMP/nsd.out"
	cleanup
	skip_all "nsd does not start on 127.0.0.1:53 in the namespace"
fi
trap cleanup EXIT
trap 'cleanup; exit 1' HUP INT TERM

echo "127.0.0.9" > "$TMP/ignore"
cat > "$TMP/opendmarc.conf" <<EOF
# the same file for both milters
AuthservID		mx.test
TrustedAuthservIDs	mx.test
RejectFailures		true
IgnoreHosts		$TMP/ignore
PublicSuffixList	$PSL
Syslog			false
Background		false
HistoryFile		$TMP/history.dat
EOF

listening()
{
	perl -MIO::Socket::INET -e 'exit(IO::Socket::INET->new(
	    PeerAddr => "127.0.0.1", PeerPort => $ARGV[0], Proto => "tcp")
	    ? 0 : 1)' "$1"
}

# start NAME COMMAND... - a milter whose Socket is given as -p; sets PORT_NAME
start()
{
	_name=$1
	shift
	_port=$(t/lib/freeport) || return 1
	"$@" -f -c "$TMP/opendmarc.conf" -p "inet:$_port@127.0.0.1" \
	    >> "$TMP/$_name.log" 2>&1 &
	PIDS="$PIDS $!"
	_i=0
	while [ $_i -lt 50 ]; do
		listening "$_port" && { eval "PORT_$_name=$_port"; return 0; }
		sleep 0.1
		_i=$((_i + 1))
	done
	sed 's/^/# /' "$TMP/$_name.log"
	return 1
}
start opendmarc "$OPENDMARC"
ok $? "opendmarc starts with the opendmarc.conf"
start walk "$MILTER"
ok $? "milter-dmarc starts with the same file (tree walk)"
start psl "$MILTER" -O PolicyDiscovery=psl
ok $? "milter-dmarc starts with the same file and PolicyDiscovery psl"

# decision NAME MAILFROM FROM EXTRA - "dmarc=RESULT VERDICT"
decision()
{
	eval "_port=\$PORT_$1"
	{
		[ -n "$4" ] && printf '%s\n' "$4"
		printf 'From: %s\nTo: user@rcpt.test\nSubject: diff\n' "$3"
		printf 'Date: Thu, 03 Dec 2026 08:00:00 +0000\n'
		printf 'Message-ID: <%s@diff.test>\n\nHello.\n' "$$"
	} | "$CLIENT" -s "inet:$_port@127.0.0.1" -i 192.0.2.1 \
	    -H mx.client.test -f "$2" -r user@rcpt.test -q DIFF 2>&1 |
	    awk '
		/Authentication-Results:/ && match($0, /dmarc=[a-z]+/) {
			r = substr($0, RSTART, RLENGTH)
		}
		/^REPLYCODE/ { v = $2 }
		/^(CONTINUE|ACCEPT)/ { v = "accept" }
		/^(REJECT|TEMPFAIL|DISCARD)/ { v = $1 }
		END { printf "%s %s\n", (r == "" ? "dmarc=-" : r), v }'
}

AR='Authentication-Results: mx.test;'
# name|mail from|From field|extra header
cat > "$TMP/cases" <<EOF
dkim-aligned|b@elsewhere.test|a@reject.test|$AR dkim=pass header.d=reject.test
spf-aligned|b@reject.test|a@reject.test|$AR spf=pass smtp.mailfrom=b@reject.test
spf-aligned-domain|b@reject.test|a@reject.test|$AR spf=pass smtp.mailfrom=reject.test
spf-aligned-helo|b@reject.test|a@reject.test|$AR spf=pass smtp.helo=reject.test
unauthenticated|b@elsewhere.test|a@reject.test|
dkim-unaligned|b@elsewhere.test|a@reject.test|$AR dkim=pass header.d=elsewhere.test
dkim-fail|b@elsewhere.test|a@reject.test|$AR dkim=fail header.d=reject.test
relaxed-subdomain-signature|b@elsewhere.test|a@reject.test|$AR dkim=pass header.d=mail.reject.test
subdomain-inherits|b@elsewhere.test|a@sub.reject.test|
upper-case-from|b@elsewhere.test|A@REJECT.TEST|
p-none|b@elsewhere.test|a@none.test|
p-quarantine|b@elsewhere.test|a@quar.test|
strict-dkim|b@elsewhere.test|a@strict.test|$AR dkim=pass header.d=mail.strict.test
strict-dkim-exact|b@elsewhere.test|a@strict.test|$AR dkim=pass header.d=strict.test
untrusted-authserv-id|b@elsewhere.test|a@reject.test|Authentication-Results: other.test; dkim=pass header.d=reject.test
display-name-address|b@elsewhere.test|"a@none.test" <b@reject.test>|
display-name-quoted-pair|b@elsewhere.test|"a\\" <x@none.test>" <y@reject.test>|
no-record|b@elsewhere.test|a@norecord.test|
testing-t-y|b@elsewhere.test|a@testing.test|
np-nonexistent|b@elsewhere.test|a@nx.np.test|
two-from-domains|b@elsewhere.test|a@none.test, b@reject.test|
EOF

# What differs on purpose: name|mode|opendmarc|milter-dmarc|why.
# mode is walk, psl or any.  OpenDMARC writes no Authentication-Results
# field when it rejects ("dmarc=- 550"); milter-dmarc writes it first,
# so "dmarc=- 550" against "dmarc=fail 550" counts as agreement.
cat > "$TMP/differences" <<'EOF'
spf-aligned|any|dmarc=- 550|dmarc=pass accept|smtp.mailfrom=local@domain: OpenDMARC compares the whole address with the From domain; RFC 8601 allows an address there, and milter-dmarc takes its domain
subdomain-inherits|any|dmarc=none accept|dmarc=fail 550|OpenDMARC finds no Organizational Domain under a top-level domain its public suffix list lacks (.test here, as a new gTLD), so the subdomain escapes its organization's p=reject
np-nonexistent|any|dmarc=none accept|dmarc=fail 550|the same OpenDMARC fallback failure; milter-dmarc applies np= (RFC 9091, RFC 9989) to the non-existent subdomain
testing-t-y|walk|dmarc=- 550|dmarc=fail accept|RFC 9989 t=y makes reject a quarantine; OpenDMARC (RFC 7489) does not know t=
two-from-domains|any|dmarc=- accept|dmarc=fail 550|several From domains are each evaluated and the strictest wins; OpenDMARC ignores the message
EOF

agree=0
total=0
while IFS='|' read -r name mfrom from extra; do
	o=$(decision opendmarc "$mfrom" "$from" "$extra")
	for mode in walk psl; do
		m=$(decision $mode "$mfrom" "$from" "$extra")
		total=$((total + 1))
		if [ "$o" = "$m" ] || { [ "$o" = "dmarc=- 550" ] &&
		    [ "$m" = "dmarc=fail 550" ]; }; then
			agree=$((agree + 1))
			ok 0 "$name ($mode): both say $m"
			continue
		fi
		why=$(awk -F'|' -v n="$name" -v m="$mode" -v o="$o" -v d="$m" \
		    '$1 == n && ($2 == m || $2 == "any") && $3 == o && $4 == d \
		    { print $5 }' "$TMP/differences")
		if [ -n "$why" ]; then
			ok 0 "$name ($mode): opendmarc '$o', milter-dmarc '$m': $why"
		else
			ok 1 "$name ($mode): opendmarc '$o', milter-dmarc '$m'"
		fi
	done
done < "$TMP/cases"
echo "# $agree of $total decisions agree with opendmarc 1.4.2; the others are listed differences"

bad=$(grep -l -E 'Sanitizer|runtime error' "$TMP"/walk.log "$TMP"/psl.log)
ok $([ -z "$bad" ]; echo $?) "no sanitizer report in milter-dmarc's logs"
[ $FAILED = 0 ] || for f in "$TMP"/*.log; do
	echo "# $f:"; sed 's/^/#   /' "$f"
done
echo "1..$T"
exit $FAILED

#!/bin/sh
# contrib.t - the files in contrib/ work as their comments say:
# the example configuration and tables load cleanly (-n warns only that
# the keys are not published)
# once their /etc/milter-dkim/ paths point at a copy with real keys, and
# explain gives the decisions the comments promise; the systemd unit
# passes systemd-analyze verify; the Postfix lines name real parameters;
# and, in a private Postfix (t/lib/rig.sh, as root), milter-spf and
# milter-dkim chained as the Postfix lines suggest, with distinct
# AuthservIDs, both leave their Authentication-Results field in the
# delivered message, in either order.
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$SRCDIR/build/plain}
MD=$BUILD/bin/milter-dkim
C=$SRCDIR/contrib

T=0
FAILED=0
. "$SRCDIR/t/lib/tap.sh"
# diag TEXT: show TEXT as TAP comments
diag() {
	printf '%s\n' "$1" | sed 's/^/# /'
}

# The copy of the example lives below directories that root owns and no
# one else may write (t/lib/knowndir), so that its keys draw no
# RequireSafeKeys warning from where the checkout or TMPDIR lies.
tmp=$("$SRCDIR/t/lib/knowndir" -s contrib 2>&1) || {
	echo "1..0 # SKIP $tmp"
	exit 0
}
# cleanup - remove the scratch directory; stop nsd and the rig if they run
cleanup() {
	rm -rf "$tmp"
	[ -z "${NSD_DIR:-}" ] || nsd_stop
	[ -z "${RIG_DIR:-}" ] || rig_cleanup
}
trap 'cleanup' EXIT
trap 'cleanup; exit 130' HUP INT TERM

# The example, with its paths moved to $tmp and a key for each domain
# made as the KeyTable's comment says.
keys_ok=0
for d in example.com example.org example.net; do
	mkdir -p "$tmp/keys/$d"
	"$BUILD/bin/milter-dkim-genkey" -t ed25519 -d $d -s s2026 \
	    -D "$tmp/keys/$d" > /dev/null 2>&1 || keys_ok=1
done
for f in KeyTable SigningTable TrustedHosts; do
	sed "s#/etc/milter-dkim/#$tmp/#g" "$C/examples/$f" > "$tmp/$f"
done
sed "s#/etc/milter-dkim/#$tmp/#g" "$C/milter-dkim.conf.example" \
    > "$tmp/milter-dkim.conf"

if [ $keys_ok -ne 0 ]; then
	skip "the example configuration loads without a warning" \
	    "milter-dkim-genkey failed"
	skip "README.md: the explain transcript is what the example gives" \
	    "milter-dkim-genkey failed"
else
	# The keys are not published: -n says so, and nothing else.  It asks
	# a private nsd serving the example's domains without key records,
	# or, without nsd, a port where no server answers; never the
	# machine's own resolver.
	if command -v nsd > /dev/null && . "$SRCDIR/t/data/dns/nsd.sh" &&
	    for d in example.com example.org example.net; do
		printf '$ORIGIN %s.\n$TTL 60\n@ SOA ns hostmaster 1 3600 600 86400 60\n@ NS ns\nns A 127.0.0.1\n' \
		    $d > "$tmp/$d.zone"
	    done &&
	    nsd_start example.com "$tmp/example.com.zone" \
	    example.org "$tmp/example.org.zone" \
	    example.net "$tmp/example.net.zone"; then
		ns=127.0.0.1:$NSD_PORT
	else
		ns=127.0.0.1:$("$SRCDIR/t/lib/freeport")
	fi
	trap 'cleanup' EXIT
	trap 'cleanup; exit 130' HUP INT TERM
	out=$("$MD" -n -O DNSTimeout=2 -O "Nameservers=$ns" \
	    -c "$tmp/milter-dkim.conf" 2>&1)
	rc=$?
	rest=$(printf '%s\n' "$out" | grep -v "no key record is published at s2026\._domainkey\.\|cannot look up s2026\._domainkey\.")
	[ $rc -eq 0 ] && [ -z "$rest" ]
	ok $? "the example configuration loads without a warning"
	[ -z "$rest" ] || diag "$out"
	[ -z "${NSD_DIR:-}" ] || nsd_stop

	# explain SENDER IP [AUTH] WANT-RC WANT-LINE DESCRIPTION
	explain() {
		if [ $# -eq 6 ]; then
			got=$("$MD" -c "$tmp/milter-dkim.conf" explain "$1" \
			    "$2" "$3" 2>&1)
			rc=$?
			shift 3
		else
			got=$("$MD" -c "$tmp/milter-dkim.conf" explain "$1" \
			    "$2" 2>&1)
			rc=$?
			shift 2
		fi
		[ $rc -eq "$1" ] && printf '%s\n' "$got" | grep -qF -- "$2"
		ok $? "$3"
		[ $rc -eq "$1" ] || diag "exit $rc, want $1"
		printf '%s\n' "$got" | grep -qF -- "$2" || diag "$got"
	}
	explain user@example.com 127.0.0.1 0 \
	    "'*@example.com' matches: key 'example.com'" \
	    "example: the local host signs example.com with its key"
	explain user@sub.example.com 192.0.2.7 0 "d=example.com s=s2026" \
	    "example: a subdomain of example.com is signed as example.com"
	explain user@example.org 2001:db8:1::25 0 \
	    "key 'example.org'" \
	    "example: an IPv6 client of TrustedHosts signs example.org"
	explain someone@lists.example 192.0.2.7 0 \
	    "SigningTable entry '*' matches: key 'example.net'" \
	    "example: the catch-all signs other senders as example.net"
	explain user@example.org 192.0.2.130 1 \
	    "excluded by InternalHosts" \
	    "example: the excluded guest network is only verified"
	explain user@example.org 198.51.100.1 1 "result: verify" \
	    "example: an outside client is only verified"
	explain user@example.org 198.51.100.1 alice 0 \
	    "origin: client authenticated as 'alice'" \
	    "example: an authenticated user signs from anywhere"

	# The transcript in README.md, run on the example.
	want=$(sed -n '/^    \$ milter-dkim explain /,/^$/p' "$SRCDIR/README.md" |
	    sed '1d; /^$/d; s/^    //')
	cmd=$(sed -n 's/^    \$ milter-dkim explain //p' "$SRCDIR/README.md")
	got=$("$MD" -c "$tmp/milter-dkim.conf" explain $cmd 2>&1 |
	    sed "s#$tmp/#/etc/milter-dkim/#g")
	[ -n "$want" ] && [ "$got" = "$want" ]
	ok $? "README.md: the explain transcript is what the example gives"
	[ "$got" = "$want" ] || diag "got:
$got
want:
$want"
fi

# As shipped, the example points at /etc/milter-dkim/, which the
# administrator fills; without those files it is refused, naming one.
if [ -e /etc/milter-dkim/KeyTable ]; then
	skip "the example as shipped names its missing tables" \
	    "/etc/milter-dkim/ exists here"
else
	out=$("$MD" -n -c "$C/milter-dkim.conf.example" -O DNSTimeout=2 \
	    -O "Nameservers=127.0.0.1:$("$SRCDIR/t/lib/freeport")" 2>&1)
	rc=$?
	[ $rc -eq 1 ] && printf '%s\n' "$out" |
	    grep -q "/etc/milter-dkim/"
	ok $? "the example as shipped names its missing tables"
fi

# The systemd unit: no complaint but about the binary and manual pages
# not being installed on this host.
if command -v systemd-analyze >/dev/null 2>&1; then
	cp "$C/milter-dkim.service" "$tmp/milter-dkim.service"
	out=$(cd "$tmp" && systemd-analyze verify ./milter-dkim.service 2>&1 |
	    grep -v "is not executable\|Command 'man ")
	[ -z "$out" ]
	ok $? "systemd-analyze verify accepts milter-dkim.service"
	[ -z "$out" ] || diag "$out"
else
	skip "systemd-analyze verify accepts milter-dkim.service" \
	    "no systemd-analyze"
fi
grep -q '^ExecStart=.*/milter-dkim -f ' "$C/milter-dkim.service" &&
    grep -q '^ExecReload=/bin/kill -HUP \$MAINPID' "$C/milter-dkim.service"
ok $? "the unit keeps the daemon in the foreground and reloads with SIGHUP"

# milter-arc: the example loads once its key path points at a real key,
# and its unit passes systemd-analyze as milter-dkim's does.
MA=$BUILD/bin/milter-arc
if [ -x "$MA" ]; then
	mkdir -p "$tmp/arckeys" && chmod 700 "$tmp/arckeys"
	"$BUILD/bin/milter-dkim-genkey" -d example.net -s default \
	    -D "$tmp/arckeys" > /dev/null 2>&1
	sed "s#/etc/milter-arc/keys/example.net/default.private#$tmp/arckeys/default.private#" \
	    "$C/milter-arc.conf.example" > "$tmp/milter-arc.conf"
	# the key is published nowhere, and no resolver is asked: a closed
	# port stands for the name server, and only that may be reported
	out=$("$MA" -n -O Nameservers=127.0.0.1:9 -O DNSTimeout=1 \
	    -c "$tmp/milter-arc.conf" 2>&1)
	rc=$?
	rest=$(printf '%s\n' "$out" | grep -v "default\._domainkey\.example\.net")
	[ $rc -eq 0 ] && [ -z "$rest" ]
	ok $? "milter-arc.conf.example loads (-n) with a real key"
	[ -z "$rest" ] || diag "$out"
else
	skip "milter-arc.conf.example loads (-n) with a real key" \
	    "milter-arc not built"
fi
if command -v systemd-analyze >/dev/null 2>&1; then
	cp "$C/milter-arc.service" "$tmp/milter-arc.service"
	out=$(cd "$tmp" && systemd-analyze verify ./milter-arc.service 2>&1 |
	    grep -v "is not executable\|Command 'man ")
	[ -z "$out" ]
	ok $? "systemd-analyze verify accepts milter-arc.service"
	[ -z "$out" ] || diag "$out"
else
	skip "systemd-analyze verify accepts milter-arc.service" \
	    "no systemd-analyze"
fi
# milter-dmarc's unit and example: the unit verifies; the example
# loads, and -n warns only about the history directory (absent here).
if command -v systemd-analyze >/dev/null 2>&1; then
	cp "$C/milter-dmarc.service" "$tmp/milter-dmarc.service"
	out=$(cd "$tmp" && systemd-analyze verify ./milter-dmarc.service 2>&1 |
	    grep -v "is not executable\|Command 'man ")
	[ -z "$out" ]
	ok $? "systemd-analyze verify accepts milter-dmarc.service"
	[ -z "$out" ] || diag "$out"
else
	skip "systemd-analyze verify accepts milter-dmarc.service" \
	    "no systemd-analyze"
fi
if [ -x "$BUILD/bin/milter-dmarc" ]; then
	out=$("$BUILD/bin/milter-dmarc" -n -c "$C/milter-dmarc.conf.example" \
	    2>&1)
	rc=$?
	rest=$(printf '%s\n' "$out" | grep -v "HistoryDatabase cannot be used" |
	    grep -v '^$')
	[ $rc -eq 0 ] && [ -z "$rest" ]
	ok $? "milter-dmarc.conf.example loads; -n warns at most about the history directory"
	[ -z "$rest" ] || diag "$out"
else
	skip "milter-dmarc.conf.example loads" "milter-dmarc not built"
fi

# The Postfix lines: every parameter set is one Postfix knows.
if command -v postconf >/dev/null 2>&1; then
	names=$(sed -n 's/^\([a-z_]*\) *=.*/\1/p' "$C/postfix-main.cf.snippet")
	out=$(postconf -d $names 2>&1 | grep "unknown parameter")
	[ -n "$names" ] && [ -z "$out" ]
	ok $? "postfix-main.cf.snippet sets only known Postfix parameters"
	[ -z "$out" ] || diag "$out"
else
	skip "postfix-main.cf.snippet sets only known Postfix parameters" \
	    "no postconf"
fi

# milter-spf and milter-dkim in one Postfix, as the Postfix lines say.
# listening PORT: something accepts TCP connections on 127.0.0.1:PORT
listening() {
	perl -MIO::Socket::INET -e 'exit(IO::Socket::INET->new(
	    PeerAddr => "127.0.0.1", PeerPort => $ARGV[0], Proto => "tcp")
	    ? 0 : 1)' "$1"
}
# milter_conf PORT AUTHSERVID [LINE]: a milter configuration on stdout
milter_conf() {
	printf 'Socket inet:%s@127.0.0.1\nSyslog no\nAuthservID %s\n' "$1" "$2"
	printf 'Nameservers 127.0.0.1:%s\nDNSTimeout 2\n' "$RIG_DNS_PORT"
	[ -z "${3:-}" ] || printf '%s\n' "$3"
}
# chain_send MILTERS: send a message with smtpd_milters = MILTERS; print
# the Authentication-Results values of the delivered copy, one a line
chain_send() {
	rig_postconf "smtpd_milters = $1" > /dev/null || return 1
	printf 'From: someone@ext.test\nTo: alice@rig.test\nSubject: chain\n\nhi\n' |
	    rig_send sender@ext.test 127.0.0.2 alice@rig.test > /dev/null ||
	    return 1
	_f=$(rig_wait_mail alice@rig.test 10) || return 1
	rig_header Authentication-Results "$_f"
}
if [ "$(id -u)" != 0 ] || ! command -v nsd > /dev/null ||
    ! { command -v postfix > /dev/null || [ -x /usr/sbin/postfix ]; } ||
    [ ! -x "$BUILD/bin/milter-spf" ]; then
	for t in "a private Postfix starts with milter-spf and milter-dkim" \
	    "milters spf,dkim, distinct AuthservIDs: both results delivered" \
	    "milters dkim,spf, distinct AuthservIDs: both results delivered" \
	    "milter-dkim reloads with the host's one AuthservID (SIGHUP)" \
	    "milters spf,dkim, one AuthservID: neither removes the other's results" \
	    "milters dkim,spf, one AuthservID: neither removes the other's results"
	do
		skip "$t" "needs root, postfix, nsd and milter-spf"
	done
else
	RIG_LIB=$SRCDIR/t/lib
	export RIG_LIB
	. "$SRCDIR/t/lib/rig.sh"
	rig_init
	trap 'cleanup' EXIT
	trap 'cleanup; exit 130' HUP INT TERM
	rig_zone ext.test > /dev/null <<-'EOF'
	@	IN TXT "v=spf1 ip4:127.0.0.2 -all"
	EOF
	sp=$("$RIG_LIB/freeport") && dp=$("$RIG_LIB/freeport") &&
	    rig_nsd ext.test "$RIG_DIR/zones/ext.test.zone" > /dev/null 2>&1 &&
	    milter_conf "$sp" mx.rig.test > "$RIG_DIR/spf.conf" &&
	    milter_conf "$dp" dkim.mx.rig.test "AlwaysAddARHeader yes" \
	    > "$RIG_DIR/dkim.conf" &&
	    rig_spawn "$BUILD/bin/milter-spf" -f -c "$RIG_DIR/spf.conf" &&
	    rig_spawn "$BUILD/bin/milter-dkim" -f -c "$RIG_DIR/dkim.conf"
	dkim_pid=${RIG_SPAWNED:-}
	i=0
	while [ $i -lt 50 ] && ! { listening "$sp" && listening "$dp"; }; do
		sleep 0.1
		i=$((i + 1))
	done
	RIG_MAILBOXES=alice@rig.test RIG_MILTERS="inet:127.0.0.1:$sp" \
	    rig_postfix > /dev/null 2>&1 && listening "$sp" && listening "$dp"
	ok $? "a private Postfix starts with milter-spf and milter-dkim"
	for order in spf,dkim dkim,spf; do
		if [ $order = spf,dkim ]; then
			ar=$(chain_send "inet:127.0.0.1:$sp, inet:127.0.0.1:$dp")
		else
			ar=$(chain_send "inet:127.0.0.1:$dp, inet:127.0.0.1:$sp")
		fi
		printf '%s\n' "$ar" | grep -q '^mx\.rig\.test;.*spf=pass' &&
		    printf '%s\n' "$ar" | grep -q '^dkim\.mx\.rig\.test;.*dkim=none'
		st=$?
		ok $st "milters $order, distinct AuthservIDs: both results delivered"
		[ $st -eq 0 ] || diag "Authentication-Results: ${ar:-(none)}"
	done
	# the usual setup: one AuthservID for every milter on the host
	milter_conf "$dp" mx.rig.test "AlwaysAddARHeader yes" \
	    > "$RIG_DIR/dkim.conf"
	# reload - SIGHUP to the milter-dkim started above, by its PID; wait
	# for the log line that says it reloaded
	reload() {
		n=$(grep -c 'configuration reloaded' "$RIG_DIR/milter-dkim.log")
		kill -HUP "$dkim_pid" || return 1
		i=0
		while [ $i -lt 100 ]; do
			[ "$(grep -c 'configuration reloaded' \
			    "$RIG_DIR/milter-dkim.log")" -gt "$n" ] && return 0
			sleep 0.1
			i=$((i + 1))
		done
		return 1
	}
	reload
	ok $? "milter-dkim reloads with the host's one AuthservID (SIGHUP)"
	for order in spf,dkim dkim,spf; do
		if [ $order = spf,dkim ]; then
			ar=$(chain_send "inet:127.0.0.1:$sp, inet:127.0.0.1:$dp")
		else
			ar=$(chain_send "inet:127.0.0.1:$dp, inet:127.0.0.1:$sp")
		fi
		printf '%s\n' "$ar" | grep -q '^mx\.rig\.test;.*spf=pass' &&
		    printf '%s\n' "$ar" | grep -q '^mx\.rig\.test;.*dkim=none'
		st=$?
		ok $st "milters $order, one AuthservID: neither removes the other's results"
		[ $st -eq 0 ] || diag "Authentication-Results: ${ar:-(none)}"
	done
fi

echo "1..$T"
[ $FAILED -eq 0 ]

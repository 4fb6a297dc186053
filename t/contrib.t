#!/bin/sh
# contrib.t - the files in contrib/ work as their comments say:
# the example configuration and tables load cleanly (-n prints nothing)
# once their /etc/milter-dkim/ paths point at a copy with real keys, and
# explain gives the decisions the comments promise; the systemd unit
# passes systemd-analyze verify; the Postfix lines name real parameters.
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$SRCDIR/build/plain}
MD=$BUILD/bin/milter-dkim
C=$SRCDIR/contrib

n=0
failed=0
# ok STATUS NAME: one test point, passing when STATUS is 0
ok() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
	fi
}
# skip NAME WHY
skip() {
	n=$((n + 1))
	echo "ok $n - $1 # SKIP $2"
}
# diag TEXT: show TEXT as TAP comments
diag() {
	printf '%s\n' "$1" | sed 's/^/# /'
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

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
else
	out=$("$MD" -n -c "$tmp/milter-dkim.conf" 2>&1)
	rc=$?
	[ $rc -eq 0 ] && [ -z "$out" ]
	ok $? "the example configuration loads without a warning"
	[ -z "$out" ] || diag "$out"

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
fi

# As shipped, the example points at /etc/milter-dkim/, which the
# administrator fills; without those files it is refused, naming one.
if [ -e /etc/milter-dkim/KeyTable ]; then
	skip "the example as shipped names its missing tables" \
	    "/etc/milter-dkim/ exists here"
else
	out=$("$MD" -n -c "$C/milter-dkim.conf.example" 2>&1)
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

echo "1..$n"
[ $failed -eq 0 ]

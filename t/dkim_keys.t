#!/bin/bash
# dkim_keys.t - signing keys across privilege drops, reloads and symlinks
#
# 1. Started as root with UserID nobody and a key only root may read
#    (root-owned, mode 600), milter-dkim signs; after SIGHUP (the
#    configuration re-read as nobody) it still signs with the key it
#    read at start, and the log says why.  `-n` as root warns that the
#    key will not be readable by the UserID user.
# 2. RequireSafeKeys and symlinks: a key reached through a symlink that
#    lies in a directory others may write (not sticky) is refused as the
#    same file placed there directly is; a symlink from a safe directory
#    to a key in a safe directory keeps working.
#
# milterclient plays the MTA; no DNS is needed to sign.  Every process
# started here is killed by its PID on exit.

SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$SRCDIR/build/plain}
MD=$BUILD/bin/milter-dkim
MC=$BUILD/t/tools/milterclient
DATA=$SRCDIR/t/data/dkimd
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}

. "$SRCDIR/t/lib/procs.sh"
need_exec "$MD" "$MC"

T=0
FAILED=0
TMP=$(mktemp -d "${TMPDIR:-/tmp}/dkim_keys.XXXXXX") || exit 1

cleanup() {
	stop_procs
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'cleanup; exit 1' HUP INT TERM

. "$SRCDIR/t/lib/tap.sh"

chmod 755 "$TMP"
cp "$DATA/rsa2048.pem" "$TMP/key.pem"
chmod 600 "$TMP/key.pem"
printf '127.0.0.1\n::1\n' >"$TMP/TrustedHosts"
cat >"$TMP/SigningTable" <<EOF
*@blue.example.jp k
EOF
echo "k blue.example.jp:default:$TMP/key.pem" >"$TMP/KeyTable"

# ---- 2. RequireSafeKeys and symlinks (no daemon) ----
# -n looks the keys up: at a port where no one answers, never the
# machine's resolver
NOPORT=$("$SRCDIR/t/lib/freeport")
base() {	# base KEYTABLE: a configuration signing with that KeyTable
	cat <<EOF
Syslog			no
Nameservers		127.0.0.1:$NOPORT
DNSTimeout		1
InternalHosts		refile:$TMP/TrustedHosts
KeyTable		refile:$1
SigningTable		refile:$TMP/SigningTable
Mode			s
EOF
}
# explain_status CONF: 0 sign, 2 refuse for now (the key is not used)
explain_status() {
	"$MD" -c "$1" explain taro@blue.example.jp 127.0.0.1 >"$TMP/e.out" 2>&1
	echo $?
}
mkdir -p "$TMP/open" "$TMP/safe" "$TMP/safe2"
chmod 777 "$TMP/open"		# others may write, not sticky
cp -p "$TMP/key.pem" "$TMP/open/key.pem"
ln -s "$TMP/key.pem" "$TMP/open/link.pem"
cp -p "$TMP/key.pem" "$TMP/safe2/key.pem"
ln -s "$TMP/safe2/key.pem" "$TMP/safe/link.pem"
ln -s "$TMP/open" "$TMP/safe/opendir"
for n in direct:open/key.pem link:open/link.pem safe:safe/link.pem \
    viadir:safe/opendir/link.pem; do
	echo "k blue.example.jp:default:$TMP/${n#*:}" >"$TMP/KT-${n%%:*}"
	base "$TMP/KT-${n%%:*}" >"$TMP/${n%%:*}.conf"
done

"$MD" -n -c "$TMP/direct.conf" >"$TMP/n.out" 2>&1
has "$TMP/n.out" "key file .*open/key.pem is not safe: directory .*open is writable by others" \
    "RequireSafeKeys: a key placed in a directory others may write is refused"
is "$(explain_status "$TMP/direct.conf")" 2 \
    "RequireSafeKeys: and not used (explain: refuse for now)"
"$MD" -n -c "$TMP/link.conf" >"$TMP/n.out" 2>&1
has "$TMP/n.out" "key file .*open/link.pem is not safe: directory .*open is writable by others" \
    "RequireSafeKeys: a symlink in that directory to a safe key is refused too (anyone may replace the link)"
is "$(explain_status "$TMP/link.conf")" 2 \
    "RequireSafeKeys: and its key is not used"
"$MD" -n -c "$TMP/viadir.conf" >"$TMP/n.out" 2>&1
has "$TMP/n.out" "key file .*opendir/link.pem is not safe: directory .*open is writable by others" \
    "RequireSafeKeys: a path through a symlink to such a directory is refused"
"$MD" -n -c "$TMP/safe.conf" >"$TMP/n.out" 2>&1
hasnt "$TMP/n.out" "not safe|cannot load" \
    "RequireSafeKeys: a symlink between safe directories raises no warning"
is "$(explain_status "$TMP/safe.conf")" 0 \
    "RequireSafeKeys: and its key signs (symlinked keys keep working)"
# the file's own mode is judged on what was opened: the link's target
chmod 644 "$TMP/safe2/key.pem"
"$MD" -n -c "$TMP/safe.conf" >"$TMP/n.out" 2>&1
has "$TMP/n.out" "key file .*safe/link.pem is readable by others" \
    "RequireSafeKeys: a symlink to a key others may read is refused"
chmod 600 "$TMP/safe2/key.pem"

# ---- 1. SIGHUP after dropping privileges ----
nobody_can_read() {	# nobody_can_read FILE
	if command -v setpriv >/dev/null; then
		setpriv --reuid=nobody --regid=nogroup --clear-groups \
		    cat "$1" >/dev/null 2>&1
	else
		su -s /bin/sh nobody -c "cat '$1'" >/dev/null 2>&1
	fi
}
if [ "$(id -u)" != 0 ]; then
	skip "SIGHUP as UserID nobody keeps the key read as root" \
	    "needs root"
	echo "1..$T"
	exit $FAILED
fi
if ! id nobody >/dev/null 2>&1; then
	skip "SIGHUP as UserID nobody keeps the key read as root" \
	    "no user nobody"
	echo "1..$T"
	exit $FAILED
fi
PORT=$("$SRCDIR/t/lib/freeport")
{
	base "$TMP/KeyTable"
	echo "Socket			inet:$PORT@127.0.0.1"
	echo "UserID			nobody"
} >"$TMP/milter.conf"
chmod 644 "$TMP/milter.conf" "$TMP/KeyTable" "$TMP/SigningTable" \
    "$TMP/TrustedHosts"
if ! nobody_can_read "$TMP/milter.conf"; then
	skip "SIGHUP as UserID nobody keeps the key read as root" \
	    "nobody cannot reach $TMP (a directory above is closed)"
	echo "1..$T"
	exit $FAILED
fi
nobody_can_read "$TMP/key.pem"
ok $(($? == 0 ? 1 : 0)) "the key file is readable by root only"

"$MD" -n -c "$TMP/milter.conf" >"$TMP/n.out" 2>&1
ok $? "-n as root: the configuration is valid"
has "$TMP/n.out" "key file .*key.pem cannot be read by UserID nobody" \
    "-n as root: warns that the key will not be readable after the privilege drop"

"$MD" -f -c "$TMP/milter.conf" >"$TMP/milter.log" 2>&1 &
MPID=$!
PIDS="$MPID"
wait_port "$PORT" "$MPID" 100
ok $? "milter-dkim started as root, UserID nobody"
sign() {	# sign OUT
	"$MC" -T 20 -s "inet:$PORT@127.0.0.1" -i 127.0.0.1 \
	    <"$DATA/internal.eml" >"$1" 2>&1
}
sign "$TMP/s1.out"
has "$TMP/s1.out" '^INSHEADER 0 DKIM-Signature: v=1; a=rsa-sha256' \
    "before SIGHUP: the message is signed"
is "$(ps -o user= -p "$MPID" | tr -d ' ')" nobody "the daemon runs as nobody"

kill -HUP "$MPID"
for i in $(seq 100); do
	grep -Eq 'configuration reloaded|reload failed' "$TMP/milter.log" &&
	    break
	sleep 0.1
done
has "$TMP/milter.log" 'configuration reloaded' \
    "SIGHUP: the configuration (readable by nobody) is reloaded"
has "$TMP/milter.log" "key file .*key.pem cannot be read now \(Permission denied\); the key read before is kept" \
    "SIGHUP: the log says the unreadable key is kept, and why"
sign "$TMP/s2.out"
has "$TMP/s2.out" '^INSHEADER 0 DKIM-Signature: v=1; a=rsa-sha256' \
    "after SIGHUP: the message is still signed"
hasnt "$TMP/s2.out" '^(TEMPFAIL|REPLYCODE 451)' "after SIGHUP: no 451"

# a key file the running configuration did not read stays missing
cp -p "$TMP/key.pem" "$TMP/key2.pem"
echo "k2 blue.example.jp:other:$TMP/key2.pem" >>"$TMP/KeyTable"
kill -HUP "$MPID"
for i in $(seq 100); do
	[ "$(grep -c 'configuration reloaded' "$TMP/milter.log")" -ge 2 ] &&
	    break
	sleep 0.1
done
has "$TMP/milter.log" "key 'k2': cannot load key file .*key2.pem: Permission denied" \
    "second SIGHUP: a new key file is read as nobody, and fails"
hasnt "$TMP/milter.log" "key2.pem cannot be read now" \
    "second SIGHUP: no key is kept for it (the running configuration had none)"
sign "$TMP/s3.out"
has "$TMP/s3.out" '^INSHEADER 0 DKIM-Signature: v=1; a=rsa-sha256' \
    "second SIGHUP: the running key still signs"

kill -TERM "$MPID"
wait "$MPID"
ok $? "SIGTERM: exit 0"
PIDS=
hasnt "$TMP/milter.log" 'AddressSanitizer|LeakSanitizer|runtime error' \
    "no sanitizer report"

echo "1..$T"
exit $FAILED

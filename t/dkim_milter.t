#!/bin/bash
# dkim_milter.t - milter-dkim over the milter protocol, with a real nsd
#
# A private nsd on 127.0.0.1 serves the public keys of
# t/data/dkimd/example.jp.zone; milter-dkim runs in the foreground on a
# free TCP port and on a UNIX socket, with Nameservers pointing at nsd;
# milterclient plays the MTA.  Checked: signing of internal mail (RSA and
# Ed25519), verification of external mail (pass, fail, fed-back
# signatures), deletion of forged Authentication-Results, clients that
# hang up, a 100 KB header field, concurrent connections, DNS failure,
# `-n` and `explain` exit codes, and a clean exit on SIGTERM.
#
# Every process started here is killed by its PID on exit.

SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$SRCDIR/build/plain}
MD=$BUILD/bin/milter-dkim
MC=$BUILD/t/tools/milterclient
DT=$BUILD/t/tools/dkimtool
DATA=$SRCDIR/t/data/dkimd
APPLY=$DATA/apply.py
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}

. "$SRCDIR/t/lib/procs.sh"
need_exec "$MD" "$MC" "$DT"
need_cmd nsd

. "$SRCDIR/t/data/dns/nsd.sh"

T=0
FAILED=0
# The scratch directory's ancestors belong to root and no one else may
# write them (t/lib/knowndir; /tmp, sticky, when not root), so that the
# RequireSafeKeys checks below judge only the directories made here, and
# the UNIX socket's path is short whatever TMPDIR is.
TMP=$("$SRCDIR/t/lib/knowndir" -s dkim_milter 2>&1) || {
	echo "1..0 # SKIP $TMP"
	exit 0
}

cleanup() {
	stop_procs
	nsd_stop
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'cleanup; exit 1' HUP INT TERM

. "$SRCDIR/t/lib/tap.sh"
count() {	# count FILE REGEX
	grep -Ec -- "$2" "$1"
}

# Keys with safe modes, tables and the zone
cp "$DATA"/rsa2048.pem "$DATA"/ed25519.pem "$DATA"/red.pem "$TMP"/
chmod 600 "$TMP"/*.pem
cat >"$TMP/KeyTable" <<EOF
default._domainkey.blue.example.jp blue.example.jp:default:$TMP/rsa2048.pem
ed._domainkey.blue.example.jp blue.example.jp:ed:$TMP/ed25519.pem
EOF
cat >"$TMP/SigningTable" <<EOF
*@blue.example.jp default._domainkey.blue.example.jp
*@blue.example.jp ed._domainkey.blue.example.jp
EOF
printf '127.0.0.1\nlocalhost\n::1\n*.blue.example.jp\n' >"$TMP/TrustedHosts"
for k in default ed; do
	f=$TMP/rsa2048.pem
	[ $k = ed ] && f=$TMP/ed25519.pem
	echo "$k._domainkey.blue.example.jp $("$DT" record "$f")"
done >"$TMP/keys"
echo "red._domainkey.red.example.jp $("$DT" record "$TMP/red.pem")" \
    >>"$TMP/keys"

# The keys are published by a private nsd; every configuration names it,
# so that -n's comparison of each key with its record never asks the
# machine's resolver.
nsd_start example.jp "$DATA/example.jp.zone" || { echo "Bail out! nsd"; exit 1; }
trap cleanup EXIT
trap 'cleanup; exit 1' HUP INT TERM

# ---- configuration checks, no daemon needed ----
cat >"$TMP/good.conf" <<EOF
Nameservers		127.0.0.1:$NSD_PORT
DNSTimeout		2
Syslog			no
Domain			blue.example.jp
Canonicalization	relaxed/simple
ExternalIgnoreList	refile:$TMP/TrustedHosts
InternalHosts		refile:$TMP/TrustedHosts
KeyTable		refile:$TMP/KeyTable
SigningTable		refile:$TMP/SigningTable
Mode			sv
SignHeaders		Date,From,To,Subject,Message-ID
On-BadSignature		accept
RemoveOldSignatures	no
EOF
"$MD" -n -c "$TMP/good.conf" >"$TMP/n.out" 2>&1
ok $? "-n: the administrator's configuration is valid (exit 0)"
has "$TMP/n.out" "good.conf:4: Domain is ignored because a KeyTable is set" \
    "-n: warns that Domain is ignored, naming file:line"

printf 'Syslog no\nMode sv\nMode sx\n' >"$TMP/bad.conf"
"$MD" -n -c "$TMP/bad.conf" >"$TMP/n.out" 2>&1
ok $(($? == 1 ? 0 : 1)) "-n: a bad Mode exits 1"
has "$TMP/n.out" "bad.conf:3: Mode: 'sx'" "-n: the error names file:line"

printf 'Syslog no\nSigingTable refile:/x\n' >"$TMP/bad2.conf"
"$MD" -n -c "$TMP/bad2.conf" >"$TMP/n.out" 2>&1
ok $(($? == 1 ? 0 : 1)) "-n: an unknown keyword exits 1"
has "$TMP/n.out" "bad2.conf:2: unknown keyword 'SigingTable'; did you mean 'SigningTable'" \
    "-n: the unknown keyword is named with a suggestion"

printf 'Syslog no\nKeyTable refile:%s/nonexistent\n' "$TMP" >"$TMP/bad3.conf"
"$MD" -n -c "$TMP/bad3.conf" >"$TMP/n.out" 2>&1
ok $(($? == 1 ? 0 : 1)) "-n: a missing KeyTable file exits 1"
has "$TMP/n.out" "bad3.conf:2: KeyTable: .*nonexistent: No such file" \
    "-n: the missing file is named with the line that names it"

"$MD" -n -c "$TMP/nonexistent.conf" >"$TMP/n.out" 2>&1
ok $(($? == 1 ? 0 : 1)) "-n: a missing configuration file exits 1"

# explain: 0 sign, 1 verify, 2 error
"$MD" -c "$TMP/good.conf" explain taro@blue.example.jp 127.0.0.1 \
    >"$TMP/e.out" 2>&1
ok $? "explain: internal sender would be signed (exit 0)"
has "$TMP/e.out" "^result: sign" "explain: says 'result: sign'"
has "$TMP/e.out" "SigningTable:1: SigningTable entry '\*@blue.example.jp'" \
    "explain: names the SigningTable line"
"$MD" -c "$TMP/good.conf" explain taro@blue.example.jp 192.0.2.1 \
    >"$TMP/e.out" 2>&1
ok $(($? == 1 ? 0 : 1)) "explain: external client would be verified (exit 1)"
has "$TMP/e.out" "^result: verify" "explain: says 'result: verify'"
"$MD" -c "$TMP/good.conf" explain taro@blue.example.jp 192.0.2.1 taro \
    >"$TMP/e.out" 2>&1
ok $? "explain: with an SMTP AUTH user it would be signed (exit 0)"
"$MD" -c "$TMP/good.conf" explain taro@blue.example.jp \
    'localhost[192.0.2.1]' >"$TMP/e.out" 2>&1
ok $? "explain: a client given as host[addr], as Postfix logs it, is internal by its name 'localhost' (exit 0)"
has "$TMP/e.out" "192.0.2.1 \(localhost\) is internal" \
    "explain: names the client with its host name"
"$MD" -c "$TMP/good.conf" explain taro@blue.example.jp \
    'mx2.blue.example.jp[192.0.2.1]' >"$TMP/e.out" 2>&1
ok $(($? == 1 ? 0 : 1)) "explain: a host matching refile: '*.blue.example.jp' is excluded, as in OpenDKIM (exit 1)"
has "$TMP/e.out" "excluded by InternalHosts .*TrustedHosts:4: \*.blue.example.jp" \
    "explain: names the line that excluded it"
"$MD" -c "$TMP/good.conf" explain nobody 127.0.0.1 >"$TMP/e.out" 2>&1
ok $(($? == 2 ? 0 : 1)) "explain: a sender without @ is an error (exit 2)"
"$MD" -c "$TMP/good.conf" explain a@b >"$TMP/e.out" 2>&1
ok $(($? == 2 ? 0 : 1)) "explain: a missing client address is an error (exit 2)"
"$MD" -c "$TMP/bad.conf" explain a@b 127.0.0.1 >"$TMP/e.out" 2>&1
ok $(($? == 2 ? 0 : 1)) "explain: a bad configuration is an error (exit 2)"
printf '*@blue.example.jp nosuchkey\n' >"$TMP/SigningTableBad"
sed "s|refile:$TMP/SigningTable|refile:$TMP/SigningTableBad|" \
    "$TMP/good.conf" >"$TMP/missing.conf"
"$MD" -c "$TMP/missing.conf" explain taro@blue.example.jp 127.0.0.1 \
    >"$TMP/e.out" 2>&1
ok $(($? == 2 ? 0 : 1)) "explain: a SigningTable key the KeyTable lacks (exit 2)"
has "$TMP/e.out" "refuse for now" "explain: says it would refuse for now"

# a key file readable by others: a warning, and the key is not used
cp "$TMP/rsa2048.pem" "$TMP/open.pem"
chmod 644 "$TMP/open.pem"
sed "s|$TMP/rsa2048.pem|$TMP/open.pem|" "$TMP/KeyTable" >"$TMP/KeyTableOpen"
sed "s|refile:$TMP/KeyTable\$|refile:$TMP/KeyTableOpen|" "$TMP/good.conf" \
    >"$TMP/open.conf"
"$MD" -n -c "$TMP/open.conf" >"$TMP/n.out" 2>&1
ok $? "-n: a key file readable by others is not an error (exit 0)"
has "$TMP/n.out" "KeyTableOpen:1: key file .*open.pem is readable by others \(RequireSafeKeys: chmod 600 it; until then it is not used\)" \
    "-n: but a warning naming the KeyTable line"
"$MD" -c "$TMP/open.conf" explain taro@blue.example.jp 127.0.0.1 \
    >"$TMP/e.out" 2>&1
ok $(($? == 2 ? 0 : 1)) "explain: that key is not used: refused for now (exit 2)"
echo "RequireSafeKeys no" >>"$TMP/open.conf"
"$MD" -c "$TMP/open.conf" explain taro@blue.example.jp 127.0.0.1 \
    >"$TMP/e.out" 2>&1
ok $? "explain: with RequireSafeKeys no it signs (exit 0)"

# a key in a directory others may write: someone could replace it.
# $TMP (0755) and the directories above it are safe, so what is judged is
# only: shared (0777), private (0700) holding a shared (0777), and
# sticky (1777, as /tmp).
mkdir -p "$TMP/shared" "$TMP/private/shared" "$TMP/sticky"
chmod 777 "$TMP/shared" "$TMP/private/shared"
chmod 700 "$TMP/private"
chmod 1777 "$TMP/sticky"
for d in shared private/shared sticky; do
	n=${d//\//-}
	cp -p "$TMP/rsa2048.pem" "$TMP/$d/key.pem"
	sed "s|$TMP/rsa2048.pem|$TMP/$d/key.pem|" "$TMP/KeyTable" \
	    >"$TMP/KeyTable-$n"
	sed "s|refile:$TMP/KeyTable\$|refile:$TMP/KeyTable-$n|" \
	    "$TMP/good.conf" >"$TMP/$n.conf"
done
"$MD" -n -c "$TMP/shared.conf" >"$TMP/n.out" 2>&1
has "$TMP/n.out" "KeyTable-shared:1: key file .*shared/key.pem is not safe: directory .*shared is writable by others \(RequireSafeKeys: until that is fixed it is not used\)" \
    "-n: a key in a directory others may write is named, with the directory"
"$MD" -c "$TMP/shared.conf" explain taro@blue.example.jp 127.0.0.1 \
    >"$TMP/e.out" 2>&1
ok $(($? == 2 ? 0 : 1)) "explain: that key is not used either (exit 2)"
"$MD" -n -c "$TMP/private-shared.conf" >"$TMP/n.out" 2>&1
hasnt "$TMP/n.out" "not safe" \
    "-n: the same below a directory no one else may enter (mode 700): safe"
"$MD" -n -c "$TMP/sticky.conf" >"$TMP/n.out" 2>&1
hasnt "$TMP/n.out" "not safe" \
    "-n: a sticky directory (as /tmp) lets no one replace the key: no warning"
"$MD" -c "$TMP/sticky.conf" explain taro@blue.example.jp 127.0.0.1 \
    >"$TMP/e.out" 2>&1
ok $? "explain: a key below a sticky directory signs (exit 0)"

# ---- the daemon ----
PORT=$("$SRCDIR/t/lib/freeport")
cat >"$TMP/milter.conf" <<EOF
Socket			inet:$PORT@127.0.0.1
Syslog			no
AuthservID		mx.blue.example.jp
Canonicalization	relaxed/simple
InternalHosts		refile:$TMP/TrustedHosts
KeyTable		refile:$TMP/KeyTable
SigningTable		refile:$TMP/SigningTable
MultipleSignatures	yes
SignHeaders		Date,From,To,Subject,Message-ID
Nameservers		127.0.0.1:$NSD_PORT
DNSTimeout		2
MaximumHeaders		262144
LogWhy			yes
EOF
sed -e "s|^Socket.*|Socket unix:$TMP/milter.sock|" "$TMP/milter.conf" \
    >"$TMP/unix.conf"

"$MD" -f -c "$TMP/milter.conf" >"$TMP/milter.log" 2>&1 &
MPID=$!
PIDS="$MPID"
"$MD" -f -c "$TMP/unix.conf" >"$TMP/unix.log" 2>&1 &
UPID=$!
PIDS="$PIDS $UPID"
# started: each logs "listening on" once it serves, or exits
started() {	# started LOG PID
	local i
	for i in $(seq 100); do
		grep -q 'listening on' "$1" && return 0
		kill -0 "$2" 2>/dev/null || break
		sleep 0.1
	done
	sed 's/^/#   /' "$1"
	return 1
}
started "$TMP/milter.log" $MPID
ok $? "milter-dkim starts on inet:$PORT@127.0.0.1" ||
    { echo "Bail out! milter-dkim did not start"; exit 1; }
started "$TMP/unix.log" $UPID
ok $? "milter-dkim starts on unix:$TMP/milter.sock" ||
    { echo "Bail out! milter-dkim did not start"; exit 1; }
S=inet:$PORT@127.0.0.1

mc() {	# mc OUT MESSAGE [milterclient options]
	local out=$1 msg=$2
	shift 2
	"$MC" -T 20 "$@" <"$msg" >"$out" 2>&1
}

# 1. internal mail is signed, RSA and Ed25519
mc "$TMP/s.out" "$DATA/internal.eml" -s $S -i 127.0.0.1
ok $? "internal: milterclient got a verdict"
ok $(($(count "$TMP/s.out" '^INSHEADER 0 DKIM-Signature: v=1;') == 2 ? 0 : 1)) \
    "internal: two DKIM-Signature fields inserted at the top"
has "$TMP/s.out" 'DKIM-Signature: v=1; a=rsa-sha256; .*d=blue.example.jp;(\\n[[:space:]]| )s=default;' \
    "internal: an RSA signature, s=default"
has "$TMP/s.out" 'DKIM-Signature: v=1; a=ed25519-sha256; .*d=blue.example.jp;(\\n[[:space:]]| )s=ed;' \
    "internal: an Ed25519 signature, s=ed"
has "$TMP/s.out" '^(CONTINUE|ACCEPT)$' "internal: accepted"
hasnt "$TMP/s.out" 'Authentication-Results' "internal: no Authentication-Results"
"$APPLY" "$DATA/internal.eml" "$TMP/s.out" >"$TMP/signed.eml"
"$DT" verify -k "$TMP/keys" <"$TMP/signed.eml" >"$TMP/v.out" 2>&1
ok $(($(count "$TMP/v.out" '^pass d=blue.example.jp') == 2 ? 0 : 1)) \
    "internal: both signatures verify with the library (dkimtool)"
if /usr/bin/python3 -c 'import dkim' 2>/dev/null; then
	/usr/bin/python3 - "$TMP/signed.eml" "$TMP/keys" >"$TMP/py.out" 2>&1 <<'PY'
import sys, dkim
keys = {}
for line in open(sys.argv[2]):
    name, rec = line.rstrip("\n").split(" ", 1)
    keys[name.encode() + b"."] = rec.encode()
msg = open(sys.argv[1], "rb").read()
def dnsfunc(name, timeout=5):
    return keys.get(name if name.endswith(b".") else name + b".")
d = dkim.DKIM(msg)
n = 0
for i in range(2):
    n += d.verify(idx=i, dnsfunc=dnsfunc)
print("pass %d" % n)
PY
	has "$TMP/py.out" '^pass 2$' "internal: both signatures verify with python3-dkim"
fi

# 2. the same over the UNIX socket
mc "$TMP/u.out" "$DATA/internal.eml" -s "unix:$TMP/milter.sock" -i 127.0.0.1
ok $(($(count "$TMP/u.out" '^INSHEADER 0 DKIM-Signature: v=1;') == 2 ? 0 : 1)) \
    "unix socket: two signatures"

# 3. external mail, signed by red.example.jp
"$DT" sign -d red.example.jp -s red -k "$TMP/red.pem" -c relaxed/simple \
    <"$DATA/external.eml" >"$TMP/ext.eml"
mc "$TMP/x.out" "$TMP/ext.eml" -s $S -i 192.0.2.1
has "$TMP/x.out" '^INSHEADER 0 Authentication-Results: mx.blue.example.jp;' \
    "external: Authentication-Results inserted with our authserv-id"
has "$TMP/x.out" 'dkim=pass .*header.d=red.example.jp header.s=red.*header.b="?[A-Za-z0-9+/]{8}' \
    "external: dkim=pass header.d=red.example.jp header.s=red header.b="
hasnt "$TMP/x.out" 'DKIM-Signature' "external: not signed"
has "$TMP/x.out" '^(CONTINUE|ACCEPT)$' "external: accepted"

# 4. tampered
sed 's/noon/midnight/' "$TMP/ext.eml" >"$TMP/tampered.eml"
mc "$TMP/t.out" "$TMP/tampered.eml" -s $S -i 192.0.2.1
has "$TMP/t.out" 'dkim=fail .*body hash did not verify' \
    "tampered body: dkim=fail (body hash did not verify)"
has "$TMP/t.out" '^(CONTINUE|ACCEPT)$' "tampered: accepted (On-BadSignature accept)"

# 5. our own signatures fed back from outside
mc "$TMP/f.out" "$TMP/signed.eml" -s $S -i 192.0.2.1
ok $(($(grep -o 'dkim=pass' "$TMP/f.out" | wc -l) == 2 ? 0 : 1)) \
    "fed back: both of our signatures pass"
has "$TMP/f.out" 'header.s=default' "fed back: the RSA result is listed"
has "$TMP/f.out" 'header.s=ed' "fed back: the Ed25519 result is listed"

# 6. forged Authentication-Results claiming our authserv-id
{
	echo "Authentication-Results: mx.blue.example.jp; dkim=pass header.d=blue.example.jp"
	sed -n '1,3p' "$TMP/ext.eml"
	printf 'Authentication-Results: (spoof)\n\tMX.BLUE.EXAMPLE.JP; dkim=pass\n'
	echo "Authentication-Results: other.example; dkim=pass"
	sed -n '4,$p' "$TMP/ext.eml"
} >"$TMP/forged.eml"
mc "$TMP/g.out" "$TMP/forged.eml" -s $S -i 192.0.2.1
has "$TMP/g.out" '^CHGHEADER 2 Authentication-Results: ?$' \
    "forged: the second A-R (folded, upper case, comment) is deleted"
has "$TMP/g.out" '^CHGHEADER 1 Authentication-Results: ?$' \
    "forged: the first A-R is deleted"
hasnt "$TMP/g.out" '^CHGHEADER 3 ' "forged: the A-R of other.example is kept"
ok $(($(grep -n CHGHEADER "$TMP/g.out" | head -1 | cut -d: -f1) < \
    $(grep -n INSHEADER "$TMP/g.out" | head -1 | cut -d: -f1) ? 0 : 1)) \
    "forged: deletions come before the insertion, highest index first"
"$APPLY" "$TMP/forged.eml" "$TMP/g.out" >"$TMP/forged-result.eml"
ok $(($(grep -ci '^Authentication-Results: mx.blue.example.jp;' "$TMP/forged-result.eml") == 1 ? 0 : 1)) \
    "forged: after the edits one A-R claims our id: ours"
has "$TMP/forged-result.eml" 'other.example; dkim=pass' \
    "forged: other.example's A-R is still there"

# 7. clients that hang up mid-message
mc "$TMP/h1.out" "$TMP/ext.eml" -s $S -i 192.0.2.1 -x abort-after=header
has "$TMP/h1.out" '^HANGUP after header' "hang-up after the header"
mc "$TMP/h2.out" "$TMP/ext.eml" -s $S -i 192.0.2.1 -x abort-after=body
has "$TMP/h2.out" '^HANGUP after body' "hang-up after a body chunk"
mc "$TMP/h3.out" "$DATA/internal.eml" -s $S -i 127.0.0.1 -x abort-after=body
kill -0 $MPID 2>/dev/null
ok $? "the daemon is still running after the hang-ups"
mc "$TMP/h4.out" "$TMP/ext.eml" -s $S -i 192.0.2.1
has "$TMP/h4.out" 'dkim=pass' "and still serving: the next message passes"

# 8. a 100 KB header field
{
	printf 'X-Long: '
	head -c 102400 /dev/zero | tr '\0' 'x' | fold -w 70 | sed '2,$s/^/ /'
	echo
	cat "$TMP/ext.eml"
} >"$TMP/long.eml"
mc "$TMP/l.out" "$TMP/long.eml" -s $S -i 192.0.2.1
ok $? "100 KB header field: a verdict, no connection failure"
has "$TMP/l.out" 'dkim=pass' "100 KB header field: verified (dkim=pass)"

# 9. concurrency
mc "$TMP/c.out" "$DATA/internal.eml" -s $S -i 127.0.0.1 -n 40 -c 8
ok $? "40 messages over 8 concurrent connections: all got a verdict"

# 9b. IPv6 clients: ::1 is in TrustedHosts, 2001:db8::1 is not
mc "$TMP/v6.out" "$DATA/internal.eml" -s $S -i ::1
ok $(($(grep -c '^INSHEADER 0 DKIM-Signature' "$TMP/v6.out") == 2 ? 0 : 1)) \
    "IPv6 ::1: internal, signed"
mc "$TMP/v6x.out" "$TMP/ext.eml" -s $S -i 2001:db8::1
has "$TMP/v6x.out" 'dkim=pass' "IPv6 2001:db8::1: external, verified"

# 9c. a 50 MB body, signed with the daemon's memory flat
hwm() { awk '/^VmHWM/ { print $2 }' /proc/$MPID/status; }
{
	cat "$DATA/internal.eml"
	/usr/bin/python3 -c '
import sys
line = (b"0123456789abcdefghijklmnopqrstuvwxyz" * 2)[:70] + b"\n"
sys.stdout.buffer.write(line * (50 * 1024 * 1024 // len(line)))'
} >"$TMP/big.eml"
before=$(hwm)
mc "$TMP/big.out" "$TMP/big.eml" -s $S -i 127.0.0.1
ok $(($(grep -c '^INSHEADER 0 DKIM-Signature' "$TMP/big.out") == 2 ? 0 : 1)) \
    "50 MB body: signed"
after=$(hwm)
"$APPLY" "$TMP/big.eml" "$TMP/big.out" >"$TMP/big-signed.eml"
"$DT" verify -k "$TMP/keys" <"$TMP/big-signed.eml" >"$TMP/bigv.out" 2>&1
ok $(($(grep -c '^pass' "$TMP/bigv.out") == 2 ? 0 : 1)) \
    "50 MB body: both signatures verify"
rm -f "$TMP/big.eml" "$TMP/big-signed.eml"
case $BUILD in
*/san) echo "# 50 MB body: peak memory $before KB -> $after KB (not checked under ASan)" ;;
*)	ok $((after - before < 20480 ? 0 : 1)) \
	    "50 MB body: the daemon's peak memory grew by $((after - before)) KB (< 20 MB)" ;;
esac

# 10. reload (SIGHUP) with On-BadSignature reject, then quarantine
reload() {	# reload LINE: the original configuration plus LINE, SIGHUP
	local n i
	n=$(grep -c 'configuration reloaded' "$TMP/milter.log")
	{ cat "$TMP/milter.conf.orig"; echo "$1"; } >"$TMP/milter.conf"
	kill -HUP $MPID
	for i in $(seq 50); do
		[ "$(grep -c 'configuration reloaded' "$TMP/milter.log")" -gt "$n" ] \
		    && return 0
		sleep 0.1
	done
	return 1
}
cp "$TMP/milter.conf" "$TMP/milter.conf.orig"
reload "On-BadSignature reject"
ok $? "SIGHUP: the configuration is reloaded"
mc "$TMP/r.out" "$TMP/tampered.eml" -s $S -i 192.0.2.1
has "$TMP/r.out" '^REPLYCODE 550 5\.7\.20 ' \
    "On-BadSignature reject: the tampered message is refused with 550 5.7.20"
hasnt "$TMP/r.out" 'INSHEADER' "On-BadSignature reject: no edits"
# a second signature whose key does not exist (On-KeyNotFound accept)
# does not turn the rejection of the tampered message into an accept
"$DT" sign -d red.example.jp -s absentsel -k "$TMP/red.pem" \
    -c relaxed/simple <"$TMP/tampered.eml" >"$TMP/tampered2.eml"
mc "$TMP/r3.out" "$TMP/tampered2.eml" -s $S -i 192.0.2.1
has "$TMP/r3.out" '^REPLYCODE 550 5\.7\.20 No valid' \
    "tampered + a signature with a missing key: still refused (On-BadSignature)"
grep -q 'absentsel' "$TMP/milter.log"
ok $? "tampered + a signature with a missing key: both signatures logged"
mc "$TMP/r2.out" "$TMP/ext.eml" -s $S -i 192.0.2.1
has "$TMP/r2.out" 'dkim=pass' "On-BadSignature reject: a good message passes"
# 10b. padding the header past a limit does not get a message past the
# reject settings: it gets a result naming the limit and the configured
# action (10,000 short fields are under MaximumHeaders but over the
# field limit)
reload $'On-BadSignature reject\nOn-NoSignature reject'
ok $? "SIGHUP: On-BadSignature and On-NoSignature reject"
pad() {	# pad MESSAGE: 10,000 X-Pad fields, then the message
	awk 'BEGIN { for (i = 0; i < 10000; i++) print "X-Pad: x" }'
	cat "$1"
}
pad "$TMP/tampered.eml" >"$TMP/pad-tampered.eml"
pad "$DATA/external.eml" >"$TMP/pad-unsigned.eml"
n=$(grep -c 'more than 10000 fields' "$TMP/milter.log")
mc "$TMP/p1.out" "$TMP/pad-tampered.eml" -s $S -i 192.0.2.1
has "$TMP/p1.out" '^REPLYCODE 550 5\.7\.20 ' \
    "tampered + 10,000 X-Pad fields: refused with 550 5.7.20 (On-BadSignature)"
mc "$TMP/p2.out" "$TMP/pad-unsigned.eml" -s $S -i 192.0.2.1
has "$TMP/p2.out" '^REPLYCODE 550 5\.7\.20 ' \
    "unsigned + 10,000 X-Pad fields: refused with 550 5.7.20 (On-NoSignature)"
ok $(($(grep -c 'more than 10000 fields' "$TMP/milter.log") == n + 2 ? 0 : 1)) \
    "the log names the field limit for both"
hasnt "$TMP/milter.log" 'passed without DKIM processing' \
    "no message passed without DKIM processing"
reload "On-BadSignature accept"
mc "$TMP/p3.out" "$TMP/pad-tampered.eml" -s $S -i 192.0.2.1
has "$TMP/p3.out" 'INSHEADER 0 Authentication-Results: .*dkim=permerror.*more than 10000 fields' \
    "tampered + 10,000 X-Pad fields, On-BadSignature accept: dkim=permerror naming the limit"
rm -f "$TMP/pad-tampered.eml" "$TMP/pad-unsigned.eml"
reload "On-BadSignature quarantine"
mc "$TMP/q.out" "$TMP/tampered.eml" -s $S -i 192.0.2.1
has "$TMP/q.out" '^QUARANTINE ' \
    "On-BadSignature quarantine: the message is quarantined"
has "$TMP/q.out" 'dkim=fail' "On-BadSignature quarantine: with its result"
printf 'Mode sx\n' >>"$TMP/milter.conf"
n=$(grep -c 'reload failed' "$TMP/milter.log")
kill -HUP $MPID
for i in $(seq 100); do
	[ "$(grep -c 'reload failed' "$TMP/milter.log")" -gt "$n" ] && break
	sleep 0.1
done
has "$TMP/milter.log" 'reload failed, keeping the running configuration' \
    "a bad configuration on SIGHUP is refused"
mc "$TMP/q2.out" "$TMP/tampered.eml" -s $S -i 192.0.2.1
has "$TMP/q2.out" '^QUARANTINE ' "and the running configuration stays"
cp "$TMP/milter.conf.orig" "$TMP/milter.conf"

# 10b. connection reuse (Sendmail): SMTP sessions over one milter
# connection, SMFIC_QUIT_NC between them
reload "$(printf 'PeerList 198.51.100.7\nOn-NoSignature reject')"
ok $? "SIGHUP: PeerList and On-NoSignature reject"
mc "$TMP/reuse.out" "$DATA/external.eml" -s $S -i 198.51.100.7 -R 3
ok $? "connection reuse: milterclient got every verdict"
ok $(($(count "$TMP/reuse.out" '^ACCEPT at mail$') == 3 ? 0 : 1)) \
    "connection reuse: a PeerList client is accepted in each of 3 sessions"
mc "$TMP/reuse2.out" "$DATA/external.eml" -s $S -i 192.0.2.1 -R 2
ok $(($(count "$TMP/reuse2.out" '^REPLYCODE 550 5\.7\.20 ') == 2 ? 0 : 1)) \
    "connection reuse: an unsigned message is refused in each session"
mc "$TMP/reuse3.out" "$TMP/ext.eml" -s $S -i 192.0.2.1 -R 2
ok $(($(count "$TMP/reuse3.out" 'dkim=pass') == 2 ? 0 : 1)) \
    "connection reuse: each session's message gets its own result"
hasnt "$TMP/milter.log" 'is lost' \
    "connection reuse: no verdict lost at a step without reply"
reload ""
mc "$TMP/warm.out" "$TMP/ext.eml" -s $S -i 192.0.2.1	# DNS cache, for 11

# 11. DNS server stopped: On-DNSError default is tempfail
"$DT" sign -d red.example.jp -s fresh -k "$TMP/red.pem" -c relaxed/simple \
    <"$DATA/external.eml" >"$TMP/fresh.eml"
nsd_stop
mc "$TMP/d.out" "$TMP/fresh.eml" -s $S -i 192.0.2.1
has "$TMP/d.out" '^(TEMPFAIL|REPLYCODE 451 4\.4\.3 .*)$' \
    "DNS stopped: temporary failure 451 4.4.3 (On-DNSError default)"
hasnt "$TMP/d.out" 'INSHEADER' "DNS stopped: no edits on a refused message"
mc "$TMP/d2.out" "$TMP/ext.eml" -s $S -i 192.0.2.1
has "$TMP/d2.out" 'dkim=pass' "DNS stopped: a key already cached still verifies"

# 12. SIGTERM: clean exit (and no leak report under ASan)
for p in $MPID $UPID; do
	kill -TERM $p
	wait $p
	ok $? "SIGTERM: milter-dkim (pid $p) exits 0"
done
PIDS=
hasnt "$TMP/milter.log" 'AddressSanitizer|LeakSanitizer|runtime error' \
    "no sanitizer report in the TCP daemon's log"
hasnt "$TMP/unix.log" 'AddressSanitizer|LeakSanitizer|runtime error' \
    "no sanitizer report in the UNIX daemon's log"

echo "1..$T"
exit $FAILED

#!/bin/sh
# keytools.t - milter-dkim-genkey and milter-dkim-testkey.
#
# genkey: RSA 1024/2048/4096 and Ed25519 keys, file modes, no overwrite
# without -f, zone entry strings of at most 255 bytes that join to the
# printed value, and a message signed with the key verifies with the
# printed record (t/tools/dkimtool).  testkey: against a private nsd
# serving a zone built from genkey's .txt files (so the BIND syntax is
# read by a real server) plus broken records (t/data/keytools/head.zone),
# one test per diagnostic; the AD bit through a scripted server; and,
# when opendkim-testkey is installed, the same verdicts from it (pointed
# at the nsd through an unbound configuration, no system file changed).
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$SRCDIR/build/plain}
GENKEY=$BUILD/bin/milter-dkim-genkey
TESTKEY=$BUILD/bin/milter-dkim-testkey
DKIMTOOL=$BUILD/t/tools/dkimtool
DATA=$SRCDIR/t/data/keytools
. "$SRCDIR/t/data/dns/nsd.sh"

T=0
FAILED=0
. "$SRCDIR/t/lib/tap.sh"

# run CMD... - run a command; $rc, $out (stdout) and $err (stderr)
run() {
	"$@" >"$W/out" 2>"$W/err"
	rc=$?
	out=$(cat "$W/out")
	err=$(cat "$W/err")
}

# expect RC PATTERN NAME - the last run exited RC and its output (both
# streams) matches the grep pattern (empty: no pattern)
expect() {
	if [ "$rc" -eq "$1" ] && { [ -z "$2" ] ||
	    cat "$W/out" "$W/err" | grep -q -e "$2"; }; then
		ok 0 "$3"
	else
		ok 1 "$3"
		echo "# exit $rc, want $1 and /$2/; output:"
		cat "$W/out" "$W/err" | sed 's/^/#   /'
	fi
}

for f in "$GENKEY" "$TESTKEY" "$DKIMTOOL"; do
	if [ ! -x "$f" ]; then
		echo "1..0 # SKIP $f not built"
		exit 0
	fi
done
W=$(mktemp -d "${TMPDIR:-/tmp}/keytools.XXXXXX") || exit 1
silent=
secure=
cleanup() {
	[ -n "$silent" ] && kill "$silent" 2>/dev/null
	[ -n "$secure" ] && kill "$secure" 2>/dev/null
	nsd_stop
	rm -rf "$W"
}
trap cleanup EXIT
trap 'cleanup; exit 1' HUP INT TERM
mkdir "$W/keys"
K=$W/keys

# ---- milter-dkim-genkey: usage ----
run "$GENKEY" -h
expect 0 "^usage: milter-dkim-genkey" "genkey -h prints the usage and exits 0"
run "$GENKEY" -d example.com -x
expect 2 "usage:" "genkey: an unknown option is a usage error (2)"
run "$GENKEY" -d example.com stray
expect 2 "usage:" "genkey: an operand is a usage error (2)"

# ---- one key of each kind ----
# check_key SEL OPENSSL-PATTERN DESCRIPTION - after genkey -s SEL ran
check_key() {
	sel=$1
	[ "$rc" -eq 0 ]
	ok $? "$3: genkey exits 0"
	[ "$(stat -c %a "$K/$sel.private")" = 600 ] &&
	    [ "$(stat -c %a "$K/$sel.txt")" = 644 ]
	ok $? "$3: $sel.private has mode 0600, $sel.txt 0644"
	openssl pkey -in "$K/$sel.private" -noout -text 2>/dev/null |
	    head -1 | grep -q "$2"
	ok $? "$3: $sel.private is a PEM key: $2"
	value=$(sed -n 's/^Value: //p' "$W/out")
	echo "$value" >"$K/$sel.value"
	# the quoted strings of the zone entry: none over 255 bytes, and
	# joined they are the value printed in one piece
	grep -o '"[^"]*"' "$K/$sel.txt" | tr -d '"' >"$W/strings"
	longest=$(awk '{ if (length($0) > m) m = length($0) } END { print m }' \
	    "$W/strings")
	joined=$(tr -d '\n' <"$W/strings")
	[ "$longest" -le 255 ] && [ -n "$value" ] && [ "$joined" = "$value" ]
	ok $? "$3: zone strings at most 255 bytes ($longest), joined = printed value"
	sed -n '/^Zone file entry/,/^$/p' "$W/out" | sed '1d;$d' >"$W/zone"
	grep -q "^Name:  $sel._domainkey.example.com\$" "$W/out" &&
	    cmp -s "$W/zone" "$K/$sel.txt"
	ok $? "$3: stdout shows the name and the entry of $sel.txt"
	echo "$sel._domainkey.example.com $value" >"$K/$sel.keys"
	"$DKIMTOOL" sign -d example.com -s "$sel" -k "$K/$sel.private" \
	    <"$SRCDIR/t/data/dkim/plain.eml" >"$W/signed" &&
	    "$DKIMTOOL" verify -k "$K/$sel.keys" <"$W/signed" >"$W/verify"
	grep -q "^pass d=example.com s=$sel " "$W/verify"
	ok $? "$3: a message signed with $sel.private verifies with the printed record"
}

run "$GENKEY" -d example.com -D "$K" -s r1024 -b 1024
check_key r1024 "Private-Key: (1024 bit" "RSA 1024"
run "$GENKEY" -d example.com. -D "$K" -s r2048
check_key r2048 "Private-Key: (2048 bit" "RSA default (2048)"
run "$GENKEY" -d example.com -D "$K" -s r4096 -b 4096
check_key r4096 "Private-Key: (4096 bit" "RSA 4096"
run "$GENKEY" -d example.com -D "$K" -s ed -t ed25519
check_key ed "ED25519 Private-Key" "Ed25519"
grep -q '^"*v=DKIM1; k=ed25519; p=[A-Za-z0-9+/]\{43\}=$' "$K/ed.value"
ok $? "Ed25519 record: k=ed25519 and p= the 32 raw bytes in base64"
[ "$(grep -c '^	"' "$K/r4096.txt")" -ge 3 ] &&
    grep -q '^; DKIM key r4096 for example.com (rsa, 4096 bits)$' \
    "$K/r4096.txt"
ok $? "RSA 4096 entry: p= in several strings, comment names the domain"

# ---- no overwrite, -f, modes under any umask ----
cp "$K/r2048.private" "$W/r2048.saved"
run "$GENKEY" -d example.com -D "$K" -s r2048
expect 1 "r2048.private already exists (use -f" \
    "genkey refuses to overwrite an existing key (1)"
cmp -s "$K/r2048.private" "$W/r2048.saved"
ok $? "the refused run left the old key alone"
: >"$K/half.txt"
run "$GENKEY" -d example.com -D "$K" -s half
expect 1 "half.txt already exists" "an existing .txt is refused too"
[ ! -e "$K/half.private" ]
ok $? "and no .private was left behind"
cp "$K/r2048.private" "$K/again.private"
run "$GENKEY" -d example.com -D "$K" -s again -f
expect 0 "" "genkey -f replaces an existing key"
! cmp -s "$K/again.private" "$K/r2048.private" &&
    [ "$(stat -c %a "$K/again.private")" = 600 ] &&
    [ -z "$(find "$K" -name '*.tmp')" ]
ok $? "the replaced key is new, mode 0600, no temporary file left"
(umask 0; "$GENKEY" -d example.com -D "$K" -s lax -t ed25519 >/dev/null)
[ "$(stat -c %a "$K/lax.private")" = 600 ]
ok $? "under umask 0 the key is still created 0600"

# ---- bad arguments ----
run "$GENKEY" -d example.com -D "$K" -s b512 -b 512
expect 1 "bad key size \"512\"" "-b 512 is refused (1)"
run "$GENKEY" -d example.com -D "$K" -s b8192 -b 8192
expect 1 "bad key size" "-b 8192 is refused (1)"
run "$GENKEY" -d example.com -D "$K" -s bx -b 2k
expect 1 "bad key size" "-b 2k is refused (1)"
run "$GENKEY" -d example.com -D "$K" -s bt -t dsa
expect 1 "bad key type \"dsa\"" "-t dsa is refused (1)"
run "$GENKEY" -d example.com -D "$K" -s be -t ed25519 -b 2048
expect 1 "RSA keys only" "-b with -t ed25519 is refused (1)"
run "$GENKEY" -d example.com -D "$K" -s ../escape
expect 1 "bad selector" "a selector with a slash is refused"
[ ! -e "$W/escape.private" ]
ok $? "and nothing was written outside the directory"
run "$GENKEY" -d 'exa mple.com' -D "$K" -s bd
expect 1 "bad domain" "a domain with a space is refused"
run "$GENKEY" -d example.com -D "$W/nonexistent" -s nd
expect 1 "nonexistent/nd.private: No such file" \
    "a missing directory is reported with the path"
[ -z "$(ls "$K" | grep -E '^(b512|b8192|bx|bt|be|bd)\.')" ]
ok $? "refused runs wrote no files"
# the default domain: the host's, or a clear request for -d
run "$GENKEY" -D "$K" -s hostdom -t ed25519
if [ "$rc" -eq 0 ]; then
	grep -q '^; DKIM key hostdom for [a-z0-9.-]*\.[a-z0-9-]* (ed25519)$' \
	    "$K/hostdom.txt"
	ok $? "without -d the host's domain is used ($(hostname))"
else
	expect 1 "give it with -d domain" \
	    "without -d and no host domain ($(hostname)): asks for -d"
fi

# ---- the zone: genkey's entries, a 512-bit key, broken records ----
run "$GENKEY" -d example.com -D "$K" -s testing -T
expect 0 "t=y; " "genkey -T publishes t=y"
openssl genrsa -out "$K/weak.private" 512 2>/dev/null &&
    weak=$(openssl rsa -in "$K/weak.private" -pubout -outform DER \
    2>/dev/null | base64 -w0)
[ -n "$weak" ]
ok $? "openssl made a 512-bit key"
sha1=$(sed 's/^v=DKIM1; k=rsa; /v=DKIM1; k=rsa; h=sha1; /' "$K/r2048.value" |
    fold -w 200 | sed 's/.*/"&"/' | tr '\n' ' ')
{
	cat "$DATA/head.zone"
	cat "$K/r1024.txt" "$K/r2048.txt" "$K/r4096.txt" "$K/ed.txt" \
	    "$K/testing.txt"
	echo "weak._domainkey IN TXT \"v=DKIM1; k=rsa; p=$weak\""
	echo "sha1._domainkey IN TXT ( $sha1 )"
} >"$W/example.zone"
if ! command -v nsd >/dev/null 2>&1; then
	echo "# nsd is not installed: the DNS tests are skipped"
	echo "1..$T"
	[ "$FAILED" -eq 0 ]
	exit
fi
nsd_start example.com "$W/example.zone" || {
	echo "Bail out! nsd did not start"
	exit 1
}
trap cleanup EXIT
trap 'cleanup; exit 1' HUP INT TERM
NS=127.0.0.1:$NSD_PORT

# tk SEL [ARGS...] - testkey for SEL._domainkey.example.com at the nsd
tk() {
	sel=$1
	shift
	run "$TESTKEY" -d example.com -s "$sel" -n "$NS" "$@"
}

# ---- milter-dkim-testkey: usable keys ----
tk r2048 -k "$K/r2048.private"
expect 0 "r2048._domainkey.example.com: key OK" \
    "RSA 2048 with its key: key OK (0)"
[ -z "$err" ] && echo "$out" | grep -q "key not secure"
ok $? "no warning, and 'key not secure' reported (nsd sets no AD bit)"
tk r4096 -k "$K/r4096.private"
expect 0 "key OK" "RSA 4096 (three strings) with its key: OK"
tk ed -k "$K/ed.private"
expect 0 "key OK" "Ed25519 with its key: OK"
tk r1024 -k "$K/r1024.private"
expect 0 "warning: 1024-bit RSA key: 2048 bits are recommended" \
    "RSA 1024: OK with a warning"
tk testing -k "$K/testing.private"
expect 0 "warning: t=y: the key is in testing mode" "t=y: OK with a warning"
tk r2048
expect 0 "key OK" "without -k only the record is checked"
tk ed -v -k "$K/ed.private"
expect 0 "the private key in .*ed.private matches" "-v says the keys match"
echo "$out" | grep -q "record: v=DKIM1; k=ed25519; p=" &&
    echo "$out" | grep -q "Ed25519 key"
ok $? "-v shows the record and the key type"
cp "$K/r2048.private" "$K/open.private"
chmod 644 "$K/open.private"
tk r2048 -k "$K/open.private"
expect 0 "warning: .*open.private can be read or written by other users" \
    "a world-readable key file draws a warning"

# ---- unusable keys ----
tk nosuch
expect 1 "nosuch._domainkey.example.com: error: no key record: .*NXDOMAIN" \
    "missing selector: no key record (NXDOMAIN), the name queried shown"
tk nodata
expect 1 "error: no key record: .*NODATA" \
    "a name without TXT: no key record (NODATA)"
tk revoked
expect 1 "error: key revoked: p= is empty" "revoked key (empty p=)"
tk r2048 -k "$K/r1024.private"
expect 1 "error: the published key does not match the private key in" \
    "wrong private key: does not match"
tk ed -k "$K/lax.private"
expect 1 "does not match" "wrong Ed25519 private key: does not match"
tk r2048 -k "$K/ed.private"
expect 1 "error: key type mismatch: the record says k=rsa" \
    "Ed25519 private key for an RSA record: type mismatch"
tk weak
expect 1 "error: key too short: 512-bit RSA key" "512-bit key: too short (1)"
tk sha1
expect 1 "error: h= does not list sha256" "h=sha1 only: unusable"
tk syntax
expect 1 "error: syntax error at byte .*, in \"junk\": not tag=value" \
    "syntax error: the bad tag-spec is named"
tk dup
expect 1 "error: syntax error: tag k= appears more than once" \
    "duplicate tag: named"
tk version
expect 1 "error: v=DKIM1: when present, v= must be the first tag" \
    "v= not first"
tk keytype
expect 1 "error: k=dsa: unknown key type" "unknown k="
tk badb64
expect 1 "error: p= is not valid base64" "p= not base64"
tk service
expect 1 "error: s=tlsrpt: the key is not for email" "s= without email"
tk nop
expect 1 "error: no p= tag" "no p= tag"
tk multi
expect 1 "error: 2 TXT records" "several TXT records: error"
tk empty
expect 1 "error: no p= tag" "an empty record: no p= tag"
tk nul
expect 1 'error: syntax error at byte 9, in "\\000 k=rsa"' \
    "a NUL byte: syntax error, the byte shown escaped"
tk r2048 -k "$K/absent.private"
expect 1 "error: cannot read .*absent.private: No such file" \
    "an unreadable key file is an error"

# ---- DNS failures and usage ----
port=$("$SRCDIR/t/lib/freeport")
tk r2048 -n "127.0.0.1:$port" -W 1
expect 1 "error: DNS error: name server unreachable" \
    "no server on the port: unreachable (the port is refused), not a timeout"
run "$TESTKEY" -d other.test -s x -n "$NS"
expect 1 "error: DNS error: temporary DNS failure" \
    "a server that refuses (not its zone): DNS error"
run "$TESTKEY" -d example.com
expect 2 "usage:" "testkey without -s: usage error (2)"
run "$TESTKEY" -s x -d example.com -W 0
expect 2 "bad timeout" "testkey -W 0: usage error (2)"
run "$TESTKEY" -s x -d 'a..b'
expect 2 "bad selector or domain" "testkey with a bad domain: usage error (2)"
run "$TESTKEY" -s x -d example.com -n "not an address"
expect 2 "" "testkey with a bad -n: usage error (2)"

# ---- the AD bit: a scripted server that answers with AD set ----
/usr/bin/python3 - "$K/ed.value" >"$W/secure.port" <<'PY' &
import socket, struct, sys
txt = open(sys.argv[1]).read().strip().encode()
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1], flush=True)
s.settimeout(20)
while True:
    try:
        q, peer = s.recvfrom(4096)
    except OSError:
        break
    qid, flags = struct.unpack(">HH", q[:4])
    i = 12
    while q[i]:
        i += 1 + q[i]
    question = q[12:i + 5]
    rdata = bytes([len(txt)]) + txt
    r = struct.pack(">HHHHHH", qid, 0x8000 | (flags & 0x0100) | 0x0080 |
                    0x0020, 1, 1, 0, 0) + question
    r += struct.pack(">HHHIH", 0xc00c, 16, 1, 60, len(rdata)) + rdata
    s.sendto(r, peer)
PY
secure=$!
for i in 1 2 3 4 5 6 7 8 9 10; do
	[ -s "$W/secure.port" ] && break
	sleep 0.1
done
run "$TESTKEY" -d example.com -s ed -n "127.0.0.1:$(cat "$W/secure.port")" \
    -k "$K/ed.private"
expect 0 "ed._domainkey.example.com: key secure (DNSSEC-validated answer)" \
    "an answer with the AD bit: key secure"
kill "$secure" 2>/dev/null
wait "$secure" 2>/dev/null
secure=

# ---- the same verdicts from opendkim-testkey (RSA only) ----
if command -v opendkim-testkey >/dev/null 2>&1; then
	cat >"$W/unbound.conf" <<EOF
server:
	do-not-query-localhost: no
	module-config: "iterator"
stub-zone:
	name: "example.com"
	stub-addr: 127.0.0.1@$NSD_PORT
EOF
	echo "ResolverConfiguration $W/unbound.conf" >"$W/opendkim.conf"
	# odk SEL KEY - opendkim-testkey's exit status
	odk() {
		timeout 30 opendkim-testkey -x "$W/opendkim.conf" \
		    -d example.com -s "$1" -k "$2" >/dev/null 2>&1
	}
	odk r2048 "$K/r2048.private"
	ok $? "opendkim-testkey agrees: RSA 2048 key OK"
	odk r4096 "$K/r4096.private"
	ok $? "opendkim-testkey agrees: RSA 4096 (three strings) key OK"
	odk r2048 "$K/r1024.private"
	[ $? -ne 0 ]
	ok $? "opendkim-testkey agrees: wrong private key fails"
	odk revoked "$K/r2048.private"
	[ $? -ne 0 ]
	ok $? "opendkim-testkey agrees: revoked key fails"
	odk nosuch "$K/r2048.private"
	[ $? -ne 0 ]
	ok $? "opendkim-testkey agrees: missing record fails"
else
	echo "# opendkim-testkey is not installed: no cross-check"
fi

echo "1..$T"
[ "$FAILED" -eq 0 ]

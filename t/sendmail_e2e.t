#!/bin/bash
# sendmail_e2e.t - milter-dkim and milter-spf behind a real Sendmail 8.17
#
# Debian's Sendmail, unpacked privately by `make deps` (t/lib/sendmail.sh),
# with INPUT_MAIL_FILTER lines for milter-spf then milter-dkim on inet
# sockets, and nsd serving the keys and SPF records.  Mail from the
# internal client (127.0.0.1) is signed, and the signature verifies with
# our library and with python3-dkim; an outside client (127.0.0.2) gets
# dkim=pass and spf=pass for a good message, dkim=fail for a tampered
# one, a simple/simple signature over a header field written without a
# space after the colon passes (Sendmail keeps the leading space, as
# Postfix does), and a sender whose SPF record fails is refused with 550.
# Skips when Sendmail could not be unpacked, or without root, m4 or
# unshare.
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-$(pwd)/build/plain}
MD=$BUILD/bin/milter-dkim
MS=$BUILD/bin/milter-spf
DT=$BUILD/t/tools/dkimtool
RIG_LIB=$(pwd)/t/lib
export RIG_LIB
T=0
FAILED=0
. t/lib/tap.sh
. t/lib/procs.sh
need_exec "$MD" "$MS" "$DT"
[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root"; exit 0; }
command -v nsd > /dev/null || PATH=$PATH:/usr/sbin
need_cmd nsd m4 unshare
. t/lib/rig.sh
. t/lib/sendmail.sh
if ! sm_find; then
	echo "1..0 # SKIP Sendmail is not unpacked in build/sendmail (make deps does it, from Debian's archive)"
	exit 0
fi

echo "1..14"
rig_init || exit 1
KEY=$(pwd)/t/data/dkimd/rsa2048.pem
ED=$(pwd)/t/data/dkimd/ed25519.pem
rec=$($DT record "$KEY")
edrec=$($DT record "$ED")
txt() { printf '%s\n' "$1" | fold -w 200 | sed 's/.*/"&"/' | tr '\n' ' '; }
zsm=$(rig_zone sm.test <<-EOF
	sel._domainkey IN TXT $(txt "$rec")
	@ IN TXT "v=spf1 ip4:127.0.0.1 -all"
	EOF
)
zext=$(rig_zone ext.test <<-EOF
	ed._domainkey IN TXT $(txt "$edrec")
	sel._domainkey IN TXT $(txt "$rec")
	@ IN TXT "v=spf1 ip4:127.0.0.2 -all"
	fail IN TXT "v=spf1 -all"
	EOF
)
rig_nsd sm.test "$zsm" ext.test "$zext"
ok $? "nsd serves sm.test and ext.test"
{
	printf 'sel._domainkey.sm.test %s\n' "$rec"
	printf 'sel._domainkey.ext.test %s\n' "$rec"
	printf 'ed._domainkey.ext.test %s\n' "$edrec"
} > "$RIG_DIR/keys"

PORT_D=$("$RIG_LIB/freeport")
PORT_S=$("$RIG_LIB/freeport")
cat > "$RIG_DIR/dkim.conf" <<-EOF
	Socket inet:$PORT_D@127.0.0.1
	Syslog no
	Mode sv
	AuthservID mx.sm.test
	InternalHosts 127.0.0.1
	Nameservers 127.0.0.1@$RIG_DNS_PORT
	Domain sm.test
	Selector sel
	KeyFile $KEY
	RequireSafeKeys no
	EOF
cat > "$RIG_DIR/spf.conf" <<-EOF
	Socket inet:$PORT_S@127.0.0.1
	Syslog no
	AuthservID mx.sm.test
	Nameservers 127.0.0.1@$RIG_DNS_PORT
	HELO_reject No_Check
	EOF
rig_spawn "$MD" -f -c "$RIG_DIR/dkim.conf"
wait_port "$PORT_D" "$RIG_SPAWNED" 150
ok $? "milter-dkim starts"
rig_spawn "$MS" -f -c "$RIG_DIR/spf.conf"
wait_port "$PORT_S" "$RIG_SPAWNED" 150
ok $? "milter-spf starts"

SM_FILTERS="spf inet:$PORT_S@127.0.0.1 dkim inet:$PORT_D@127.0.0.1"
sm_start
ok $? "Sendmail starts with both milters" || { rig_log; exit 1; }
RIG_SMTP_PORT=$SM_PORT

# message FROM SUBJECT - a test message
message() {
	printf 'From: <%s>\nTo: <root@rig.test>\nSubject: %s\n' "$1" "$2"
	printf 'Date: Thu, 3 Dec 2026 12:00:00 +0000\n'
	printf 'Message-ID: <%s@sm.test>\n\nHello,\r\n\r\n  a body  line.\n' \
	    "$(echo "$2" | tr ' ' -)"
}

# 1. Internal mail is signed, and the signature verifies here and in
#    python3-dkim.
message alice@sm.test "internal" > "$RIG_DIR/m1"
r=$(rig_send alice@sm.test 127.0.0.1 root@rig.test < "$RIG_DIR/m1")
like "$r" '^250' "internal message accepted"
f=$(sm_wait_mail root 10)
has "$f" '^DKIM-Signature: .*d=sm.test' "signed by milter-dkim with d=sm.test"
like "$($DT verify -k "$RIG_DIR/keys" < "$f")" '^pass d=sm.test' \
    "the signature verifies with our library"
if /usr/bin/python3 -c 'import dkim' 2> /dev/null; then
	/usr/bin/python3 - "$f" "$RIG_DIR/keys" <<-'PY'
	import sys, dkim
	keys = {}
	for line in open(sys.argv[2]):
	    name, value = line.split(None, 1)
	    keys[name + "."] = value.strip().encode()
	def dnsfunc(name, timeout=5):
	    n = name.decode() if isinstance(name, bytes) else name
	    return keys.get(n if n.endswith(".") else n + ".", b"")
	msg = open(sys.argv[1], "rb").read()
	sys.exit(0 if dkim.verify(msg, dnsfunc=dnsfunc) else 1)
	PY
	ok $? "the signature verifies with python3-dkim"
else
	skip "the signature verifies with python3-dkim" "python3-dkim absent"
fi

# 2. Outside mail: a good signature and SPF pass.
message bob@ext.test "outside good" |
    $DT sign -d ext.test -s ed -k "$ED" > "$RIG_DIR/m2"
r=$(rig_send bob@ext.test 127.0.0.2 root@rig.test < "$RIG_DIR/m2")
like "$r" '^250' "outside message accepted"
f=$(sm_wait_mail root 10)
ar=$(rig_header Authentication-Results "$f")
like "$ar" 'mx\.sm\.test;.*dkim=pass.*header\.d=ext\.test' \
    "dkim=pass for the Ed25519 signature (through Sendmail)"
like "$ar" 'mx\.sm\.test;.*spf=pass.*smtp\.mailfrom=.*ext\.test' \
    "spf=pass from milter-spf"

# 3. Tampered body.
sed 's/a body  line/a changed line/' "$RIG_DIR/m2" > "$RIG_DIR/m3"
rig_send bob@ext.test 127.0.0.2 root@rig.test < "$RIG_DIR/m3" > /dev/null
f=$(sm_wait_mail root 10)
like "$(rig_header Authentication-Results "$f")" 'dkim=fail' \
    "a tampered body gives dkim=fail"

# 4. simple/simple over a field written without a space after the colon.
{
	printf 'Subject:no space here\n'
	message bob@ext.test "simple" | grep -v '^Subject:'
} | $DT sign -d ext.test -s sel -k "$KEY" -c simple/simple > "$RIG_DIR/m4"
rig_send bob@ext.test 127.0.0.2 root@rig.test < "$RIG_DIR/m4" > /dev/null
f=$(sm_wait_mail root 10)
like "$(rig_header Authentication-Results "$f")" 'dkim=pass' \
    "a simple/simple signature over 'Subject:no space' passes"

# 5. SPF fail is refused.
message x@fail.ext.test "spf fail" > "$RIG_DIR/m5"
r=$(rig_send x@fail.ext.test 127.0.0.2 root@rig.test < "$RIG_DIR/m5")
like "$r" '^55[0-9]' "a failing SPF sender is refused with 5xx"
exit $FAILED

#!/bin/sh
# dkim_e2e.t - milter-dkim behind a real Postfix, keys in a real DNS server
#
# Runs the rig (t/lib/rig.sh): nsd serving the zones sign.test (our
# domain: an RSA 2048 key and an Ed25519 key) and ext.test (an outside
# domain), milter-dkim started in the foreground on a TCP socket with a
# configuration written here, and a private Postfix that passes every
# message through it.  Then, each check on the header fields as delivered:
# - mail from the internal client 127.0.0.1 for sign.test is signed twice
#   (MultipleSignatures: rsa-sha256 and ed25519-sha256), and python3-dkim,
#   asking nsd, and dkimtool verify both signatures;
#   the same for header forms that only exact handling keeps (no space
#   after the colon, folding, an empty field, 8-bit text) and a 200 KB body;
# - mail from outside (127.0.0.2) signed by ext.test gets dkim=pass in our
#   Authentication-Results, with header.d, header.s, header.a and header.b;
#   so does the hard message signed RSA simple/simple and Ed25519 (one
#   result each); with its body changed, dkim=fail; mail from outside
#   with From: in our domain is not signed;
# - Authentication-Results claiming our authserv-id (in any case, behind
#   a comment) are removed, those of other authserv-ids are kept;
# - with On-BadSignature reject (loaded on SIGHUP) the changed message is
#   refused at SMTP with 550 and never delivered, except in an SMTP
#   session opened before the reload, which keeps the old configuration;
# - with nsd stopped, a signed message is refused with 451 (On-DNSError's
#   default), stays the client's, and is delivered when retried after nsd
#   is back.
# The RSA key record is longer than 255 bytes, so it is published as two
# character-strings, as it must be in DNS.  Needs root, postfix, nsd,
# openssl, perl's Net::DNS and Debian's python3-dkim.  KEEP=1 keeps the
# temporary directory (logs, mail) for diagnosis.
cd "$(dirname "$0")/.." || exit 1
RIG_LIB=$(pwd)/t/lib
export RIG_LIB
. t/lib/rig.sh

BUILD=${BUILD:-$(pwd)/build/plain}
MILTER=$BUILD/bin/milter-dkim
DKIMTOOL=$BUILD/t/tools/dkimtool
PYTHON=/usr/bin/python3
PYVERIFY=$(pwd)/t/data/e2e/pyverify.py
ASID=mx.rig.test			# our AuthservID
RCPT=alice@rig.test

T=0
FAILED=0
. t/lib/tap.sh

# skip_all - give up before the plan with REASON
skip_all()
{
	echo "1..0 # SKIP $*"
	exit 0
}

# bail - stop the test: the rig is not usable
bail()
{
	echo "Bail out! $*"
	for _f in milter-dkim.log maillog nsd/nsd.log; do
		[ -f "$RIG_DIR/$_f" ] && tail -n 15 "$RIG_DIR/$_f" |
		    sed "s|^|# $_f: |"
	done
	exit 1
}

# field - the values of header field NAME in FILE, one a line, unfolded,
#	white space runs squeezed to one space
field()
{
	rig_header "$1" "$2" | sed 's/[[:space:]][[:space:]]*/ /g'
}

# txt_record - a zone file TXT line for NAME with VALUE cut in 255-byte
#	character-strings
txt_record()
{
	printf '%s IN TXT ( ' "$1"
	printf '%s' "$2" | fold -w 255 | sed 's/.*/"&" /' | tr -d '\n'
	printf ')\n'
}

# txt_strings - the character-strings of the TXT record NAME, one a line,
#	as nsd serves them
txt_strings()
{
	perl -MNet::DNS -e '
		my $r = Net::DNS::Resolver->new(nameservers => ["127.0.0.1"],
		    port => $ARGV[0], recurse => 0, udp_timeout => 2,
		    retry => 1);
		my $p = $r->send($ARGV[1], "TXT") or die $r->errorstring, "\n";
		print "$_\n" for map { $_->txtdata } grep { $_->type eq "TXT" }
		    $p->answer;
	' "$RIG_DNS_PORT" "$1"
}

# message - write a message from FROM with SUBJECT to stdout
message()
{
	printf 'From: Someone <%s>\nTo: Alice <%s>\nSubject: %s\n' \
	    "$1" "$RCPT" "$2"
	printf 'Date: Mon, 23 Nov 2026 12:00:00 +0000\n'
	printf 'Message-ID: <%s@%s>\n' "$(echo "$2" | tr ' ' -)" "${1#*@}"
	printf 'MIME-Version: 1.0\nContent-Type: text/plain\n\n'
	printf 'Hello Alice,\n\nthis is "%s".\n\n-- \nSomeone\n' "$2"
}

# hard_message - a message from FROM with SUBJECT in header forms that
#	only exact handling keeps (no space after the colon, runs of
#	spaces, folding with tab and spaces, an empty field, 8-bit text)
#	and a body of about 200 KB (several milter body chunks) with
#	trailing white space and trailing empty lines
hard_message()
{
	printf 'From: Someone <%s>\nTo:%s\n' "$1" "$RCPT"
	printf 'Subject:   %s,   spaced  \n' "$2"
	printf 'X-Folded: first\n\tsecond\n   third\nX-Empty:\n'
	printf 'X-Eight-Bit: caf\303\251\n'
	printf 'Date: Mon, 23 Nov 2026 12:00:00 +0000\n'
	printf 'Message-ID: <%s@%s>\n\n' "$(echo "$2" | tr ' ' -)" "${1#*@}"
	awk 'BEGIN { for (i = 1; i <= 4000; i++) {
		printf "line %d ", i
		for (j = 0; j < i % 97; j++) printf "x"
		printf " \t \n" }
		printf "\n\n\n" }'
}
HARD_H=from:to:subject:x-folded:x-empty:x-eight-bit:date:message-id

# ext_signed - a message with SUBJECT signed by ext.test with SELECTOR
ext_signed()
{
	message someone@ext.test "$1" |
	    "$DKIMTOOL" sign -d ext.test -s "$2" -k "$K/$2.pem"
}

# send_get - send stdin from FROM via SOURCE; on 250, print the file it
#	was delivered to; else print the SMTP reply and fail
send_get()
{
	_r=$(rig_send "$1" "$2" "$RCPT") || { echo "$_r"; return 1; }
	rig_wait_mail "$RCPT" 10
}

# milter_conf - write the milter-dkim configuration, extra lines on stdin
milter_conf()
{
	{
		cat <<-EOF
		# milter-dkim configuration for the end-to-end test
		Socket			inet:$MILTER_PORT@127.0.0.1
		Syslog			no
		Mode			sv
		AuthservID		$ASID
		InternalHosts		127.0.0.1
		Nameservers		127.0.0.1:$RIG_DNS_PORT
		DNSTimeout		2
		Canonicalization	relaxed/simple
		KeyTable		file:$RIG_DIR/keytable
		SigningTable		refile:$RIG_DIR/signingtable
		MultipleSignatures	yes
		EOF
		cat
	} > "$RIG_DIR/milter-dkim.conf"
}

# held_session - hold an SMTP session from 127.0.0.2 open: after EHLO,
#	create $RIG_DIR/held.ready and wait for $RIG_DIR/held.go, then send
#	message FILE and print the server's reply
held_session()
{
	perl -MNet::SMTP -e '
		my ($port, $dir, $file, $rcpt) = @ARGV;
		my $s = Net::SMTP->new("127.0.0.1", Port => $port,
		    LocalAddr => "127.0.0.2", Hello => "client.test",
		    Timeout => 30) or die "no session\n";
		open(my $fh, ">", "$dir/held.ready") && close($fh);
		for (1 .. 100) { last if -e "$dir/held.go"; select(undef,
		    undef, undef, 0.1) }
		open($fh, "<", $file) or die "$file: $!\n";
		my $msg = do { local $/; <$fh> };
		$s->mail("someone\@ext.test") && $s->to($rcpt) &&
		    $s->data($msg);
		print $s->code, " ", $s->message;
		$s->quit;
	' "$RIG_SMTP_PORT" "$RIG_DIR" "$1" "$RCPT"
}

# reload - send SIGHUP to the milter and wait for its Nth reload
reload()
{
	kill -HUP "$MILTER_PID" || return 1
	_i=0
	while [ $_i -lt 50 ]; do
		[ "$(grep -cs 'configuration reloaded' \
		    "$RIG_DIR/milter-dkim.log")" -ge "$1" ] && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

if [ "$(id -u)" != 0 ]; then
	skip_all "needs root to run a private Postfix"
fi
for p in postfix nsd openssl; do
	command -v $p > /dev/null || [ -x /usr/sbin/$p ] ||
	    skip_all "$p is not installed"
done
[ -x "$MILTER" ] && [ -x "$DKIMTOOL" ] || skip_all "$BUILD is not built"
$PYTHON -c 'import dkim, dns.query, nacl' 2> /dev/null ||
    skip_all "python3-dkim, python3-dnspython or python3-nacl is missing"

echo "1..53"
start=$(date +%s)
rig_init || bail "rig_init failed"
K=$RIG_DIR/keys
mkdir -m 700 "$K"

# --- keys and DNS ---------------------------------------------------
# The RSA key in PKCS#1 PEM from openssl; the others from dkimtool.
openssl genrsa -traditional -out "$K/rsa.pem" 2048 2> /dev/null &&
    "$DKIMTOOL" keygen ed25519 "$K/ed.pem" &&
    "$DKIMTOOL" keygen rsa 2048 "$K/ext.pem" &&
    "$DKIMTOOL" keygen rsa 2048 "$K/ext2.pem" &&
    "$DKIMTOOL" keygen ed25519 "$K/exted.pem"
ok $? "keys: RSA 2048 (openssl) and Ed25519; outside: two RSA 2048, Ed25519"
chmod 600 "$K"/*.pem
: > "$RIG_DIR/keyfile"
for k in rsa ed ext ext2 exted; do
	case $k in
	ext*)	d=ext.test;;
	*)	d=sign.test;;
	esac
	rec=$("$DKIMTOOL" record "$K/$k.pem") || bail "no record for $k"
	echo "$k._domainkey.$d $rec" >> "$RIG_DIR/keyfile"
	txt_record "$k._domainkey" "$rec" >> "$RIG_DIR/$d.records"
done
like "$(cut -d' ' -f2- "$RIG_DIR/keyfile" | tr '\n' '|')" \
    '^v=DKIM1; k=rsa; p=[^|]{360,}\|v=DKIM1; k=ed25519; p=[A-Za-z0-9+/]{43}=\|' \
    "key records: k=rsa longer than 255 bytes, k=ed25519"
zs=$(rig_zone sign.test < "$RIG_DIR/sign.test.records")
ze=$(rig_zone ext.test < "$RIG_DIR/ext.test.records")
rig_nsd sign.test "$zs" ext.test "$ze" || bail "nsd did not start"
rsa_rec=$(grep '^rsa\._' "$RIG_DIR/keyfile" | cut -d' ' -f2-)
got=$(txt_strings rsa._domainkey.sign.test)
is "$(echo "$got" | awk '{ print length($0) }' | tr '\n' ' ')" \
    "255 $((${#rsa_rec} - 255)) " \
    "nsd serves the RSA key record as two strings, 255 bytes and the rest"
is "$(echo "$got" | tr -d '\n')" "$rsa_rec" \
    "the two strings join to the key record"

# --- milter-dkim and Postfix ------------------------------------------
cat > "$RIG_DIR/keytable" <<EOF
# name	domain:selector:key file
rsa	sign.test:rsa:$K/rsa.pem
ed	sign.test:ed:$K/ed.pem
EOF
cat > "$RIG_DIR/signingtable" <<EOF
# every sender of sign.test gets both signatures
*@sign.test	rsa
*@sign.test	ed
EOF
MILTER_PORT=$("$RIG_LIB/freeport") || bail "no free port"
milter_conf < /dev/null
out=$("$MILTER" -n -c "$RIG_DIR/milter-dkim.conf" 2>&1)
st=$?
is "$st:$out" "0:" "milter-dkim -n accepts the configuration, no warning"
rig_spawn "$MILTER" -f -c "$RIG_DIR/milter-dkim.conf"
MILTER_PID=$RIG_SPAWNED
i=0
while [ $i -lt 100 ] && ! grep -qs 'listening on' "$RIG_DIR/milter-dkim.log"
do
	rig__alive "$MILTER_PID" || break
	sleep 0.1
	i=$((i + 1))
done
grep -q "listening on inet:$MILTER_PORT@127.0.0.1" \
    "$RIG_DIR/milter-dkim.log"
ok $? "milter-dkim listens on 127.0.0.1:$MILTER_PORT" || bail "no milter"
RIG_MILTERS="inet:127.0.0.1:$MILTER_PORT"
RIG_MILTER_DEFAULT_ACTION=tempfail
RIG_MAILBOXES=$RCPT
export RIG_MILTERS RIG_MILTER_DEFAULT_ACTION RIG_MAILBOXES
rig_postfix || bail "postfix did not start"

# --- internal client: signed twice -----------------------------------
f=$(message someone@sign.test "from inside" |
    send_get someone@sign.test 127.0.0.1)
ok $? "internal message is accepted and delivered" || f=/dev/null
sigs=$(field DKIM-Signature "$f")
is "$(echo "$sigs" | grep -c .)" 2 "it carries two DKIM-Signature fields"
is "$(echo "$sigs" | sed -n 's/.*[ ;]a=\([a-z0-9-]*\);.*/\1/p' | sort |
    tr '\n' ' ')" "ed25519-sha256 rsa-sha256 " \
    "one is a=rsa-sha256, the other a=ed25519-sha256"
is "$(echo "$sigs" | sed -n 's/.* d=\([^;]*\);.* s=\([^;]*\);.*/d=\1 s=\2/p' |
    sort | tr '\n' ' ')" "d=sign.test s=ed d=sign.test s=rsa " \
    "with d=sign.test and the selectors of the KeyTable"
is "$(echo "$sigs" | while read -r s; do
	echo "$s" | sed 's/.* h=\([^;]*\);.*/\1/' | tr 'A-Z:' 'a-z\n' |
	    grep -c '^ *from$'
done | tr '\n' ' ')" "2 2 " "both sign From twice: it is oversigned (the default)"
out=$($PYTHON "$PYVERIFY" "$RIG_DNS_PORT" "$f" 2>&1)
is "$(echo "$out" | sort)" "pass a=ed25519-sha256 d=sign.test s=ed strings=1
pass a=rsa-sha256 d=sign.test s=rsa strings=2" \
    "python3-dkim verifies both, keys fetched from nsd"
out=$("$DKIMTOOL" verify -k "$RIG_DIR/keyfile" < "$f")
is "$(echo "$out" | cut -d' ' -f1-4 | sort)" \
    "pass d=sign.test s=ed a=ed25519-sha256
pass d=sign.test s=rsa a=rsa-sha256" "dkimtool verifies both"
is "$(field Authentication-Results "$f")" "" \
    "signed mail gets no Authentication-Results"

# --- internal client: hard header forms, large body ---------------------
f=$(hard_message someone@sign.test "hard from inside" |
    send_get someone@sign.test 127.0.0.1)
ok $? "internal message with hard header forms and 200 KB body delivered" ||
    f=/dev/null
is "$(field DKIM-Signature "$f" | grep -c .)" 2 "it is signed twice"
out=$($PYTHON "$PYVERIFY" "$RIG_DNS_PORT" "$f" 2>&1)
is "$(echo "$out" | cut -d' ' -f1-4 | sort)" \
    "pass a=ed25519-sha256 d=sign.test s=ed
pass a=rsa-sha256 d=sign.test s=rsa" "python3-dkim verifies both"
out=$("$DKIMTOOL" verify -k "$RIG_DIR/keyfile" < "$f")
is "$(echo "$out" | cut -d' ' -f1 | tr '\n' ' ')" "pass pass " \
    "dkimtool verifies both"

# --- outside client: verified ------------------------------------------
ext_signed "signed outside" ext > "$RIG_DIR/ext.eml" ||
    bail "dkimtool sign failed"
b=$(tr -d '\r\n\t ' < "$RIG_DIR/ext.eml" | sed -n 's/.*;b=\([^;]*\).*/\1/p')
f=$(send_get someone@ext.test 127.0.0.2 < "$RIG_DIR/ext.eml")
ok $? "outside signed message is accepted and delivered" || f=/dev/null
ar=$(field Authentication-Results "$f")
like "$ar" "^$ASID; dkim=pass \\(2048-bit key\\) header\\.d=ext\\.test header\\.s=ext header\\.a=rsa-sha256 header\\.b=([^ ;\"]{8,}|\"[^\"]{8,}\")$" \
    "Authentication-Results: dkim=pass with header.d, .s, .a and .b"
# quoted when it holds a "/", which RFC 2045's token excludes
hb=$(echo "$ar" | sed -n 's/.*header\.b=//p' | tr -d '"')
case $b in
"$hb"*)	ok 0 "header.b is a prefix of the signature's b= value";;
*)	ok 1 "header.b is a prefix of the signature's b= value"
	echo "#   header.b=$hb b=$b";;
esac
is "$(field DKIM-Signature "$f" | grep -c .)" 1 \
    "outside mail is not signed by us"

# --- outside client using our domain: not signed ------------------------
f=$(message someone@sign.test "our domain from outside" |
    send_get someone@sign.test 127.0.0.2)
ok $? "outside message From: our domain is delivered" || f=/dev/null
is "$(field DKIM-Signature "$f")" "" "it is not signed: the client is not internal"

# --- outside client: hard message, RSA simple/simple and Ed25519 --------
f=$(hard_message someone@ext.test "hard from outside" |
    "$DKIMTOOL" sign -c simple/simple -h "$HARD_H" -d ext.test -s ext \
    -k "$K/ext.pem" |
    "$DKIMTOOL" sign -c relaxed/relaxed -h "$HARD_H" -d ext.test -s exted \
    -k "$K/exted.pem" |
    send_get someone@ext.test 127.0.0.2)
ok $? "outside message with hard header forms and two signatures delivered" ||
    f=/dev/null
is "$(field Authentication-Results "$f" | sed 's/ header\.b=[^ ;]*//g')" \
    "$ASID; dkim=pass (256-bit key) header.d=ext.test header.s=exted header.a=ed25519-sha256; dkim=pass (2048-bit key) header.d=ext.test header.s=ext header.a=rsa-sha256" \
    "one Authentication-Results, dkim=pass for each (simple/simple, Ed25519)"

# --- outside client: body changed --------------------------------------
sed 's/^this is /this was /' "$RIG_DIR/ext.eml" > "$RIG_DIR/tampered.eml"
f=$(send_get someone@ext.test 127.0.0.2 < "$RIG_DIR/tampered.eml")
ok $? "tampered message is accepted (On-BadSignature accept)" || f=/dev/null
like "$(field Authentication-Results "$f")" \
    "^$ASID; dkim=fail \\(2048-bit key; [^)]*body[^)]*\\) header\\.d=ext\\.test header\\.s=ext header\\.a=rsa-sha256 header\\.b=" \
    "Authentication-Results: dkim=fail, the body hash named"

# --- forged Authentication-Results ---------------------------------------
{
	printf 'Authentication-Results: %s; dkim=pass header.d=paypal.example\n' \
	    "$ASID"
	printf 'Authentication-Results: other.example; spf=pass smtp.mailfrom=ext.test\n'
	printf 'Authentication-Results: MX.Rig.Test (x);\n\tdkim=pass header.d=bank.example\n'
	printf 'Authentication-Results: %s.example; dkim=pass header.d=x.example\n' \
	    "$ASID"
	ext_signed "forged results" ext
} > "$RIG_DIR/forged.eml"
f=$(send_get someone@ext.test 127.0.0.2 < "$RIG_DIR/forged.eml")
ok $? "message with forged results is accepted and delivered" || f=/dev/null
ars=$(field Authentication-Results "$f")
is "$(echo "$ars" | grep -ci "^${ASID}[ ;(]")" 1 \
    "exactly one Authentication-Results claims $ASID"
like "$(echo "$ars" | grep -i "^${ASID}[ ;(]")" \
    "^$ASID; dkim=pass \\(2048-bit key\\) header\\.d=ext\\.test header\\.s=ext " \
    "it is ours: dkim=pass for ext.test"
is "$(echo "$ars" | grep -c 'paypal\|bank')" 0 \
    "the forged ones are gone, the disguised one too"
is "$(echo "$ars" | grep -v "^$ASID;")" \
    "other.example; spf=pass smtp.mailfrom=ext.test
$ASID.example; dkim=pass header.d=x.example" \
    "results of other authserv-ids are kept, in order"
like "$(echo "$ars" | head -n 1)" "^$ASID; dkim=pass " \
    "ours is the topmost Authentication-Results"

# --- On-BadSignature reject ------------------------------------------------
# A session opened before the reload keeps the configuration it began with
# (Postfix connects to the milter when the SMTP client connects).
held_session "$RIG_DIR/tampered.eml" > "$RIG_DIR/held.out" 2>&1 &
held=$!
i=0
while [ $i -lt 100 ] && ! [ -f "$RIG_DIR/held.ready" ]; do
	sleep 0.1
	i=$((i + 1))
done
milter_conf <<EOF
On-BadSignature		reject
EOF
reload 1
ok $? "milter-dkim reloads on SIGHUP with On-BadSignature reject"
touch "$RIG_DIR/held.go"
wait $held
like "$(cat "$RIG_DIR/held.out")" '^250 ' \
    "a session opened before the reload is still served as before: 250"
f=$(rig_wait_mail "$RCPT" 10) || f=/dev/null
like "$(field Authentication-Results "$f")" "^$ASID; dkim=fail " \
    "and its tampered message is delivered with dkim=fail"
out=$(rig_send someone@ext.test 127.0.0.2 "$RCPT" < "$RIG_DIR/tampered.eml")
st=$?
is "$st:$out" "1:550 5.7.20 No valid DKIM signature found" \
    "tampered message is refused at SMTP with 550 5.7.20"
grep -q 'milter-reject: END-OF-MESSAGE .*5.7.20' "$RIG_DIR/maillog"
ok $? "Postfix logs the milter's reject"
f=$(send_get someone@ext.test 127.0.0.2 < "$RIG_DIR/ext.eml")
ok $? "a valid message still passes under reject"
like "$(field Authentication-Results "${f:-/dev/null}")" "^$ASID; dkim=pass " \
    "and is delivered with dkim=pass"
milter_conf < /dev/null
reload 2
ok $? "milter-dkim reloads the first configuration"
f=$(send_get someone@ext.test 127.0.0.2 < "$RIG_DIR/tampered.eml")
ok $? "tampered message is accepted again" || f=/dev/null
is "$(ls "$(rig_maildir "$RCPT")/new" | wc -l)" 0 \
    "nothing else arrived: the refused message was never delivered"

# --- DNS down ------------------------------------------------------------
nsd_pid=$(cat "$RIG_DIR/nsd.pid")
kill -TERM "$nsd_pid" && rig__wait_gone 5 "$nsd_pid"
ok $? "nsd is stopped"
# A selector never queried: no cached answer can help.
ext_signed "while DNS is down" ext2 > "$RIG_DIR/dnsdown.eml"
t0=$(date +%s)
out=$(rig_send someone@ext.test 127.0.0.2 "$RCPT" < "$RIG_DIR/dnsdown.eml")
st=$?
t1=$(date +%s)
is "$st:$out" "2:451 4.4.3 DNS error while verifying DKIM signature" \
    "with DNS down, a signed message gets 451 4.4.3 (On-DNSError)"
is "$(postqueue -c "$RIG_POSTFIX_DIR" -p)" "Mail queue is empty" \
    "the message is not queued: it stays with the client"
rig_spawn nsd -d -c "$RIG_DIR/nsd/nsd.conf"
i=0
while [ $i -lt 50 ] && ! rig_dig ext.test SOA 2> /dev/null | grep -q NOERROR
do
	sleep 0.1
	i=$((i + 1))
done
f=$(send_get someone@ext.test 127.0.0.2 < "$RIG_DIR/dnsdown.eml")
ok $? "when DNS is back, the client's retry is delivered" || f=/dev/null
like "$(field Authentication-Results "$f")" \
    "^$ASID; dkim=pass \\(2048-bit key\\) header\\.d=ext\\.test header\\.s=ext2 " \
    "with dkim=pass: the failure was not cached"
is "$(ls "$(rig_maildir "$RCPT")/new" | wc -l)" 0 "and it arrived once"

# --- the milter itself --------------------------------------------------------
rig__alive "$MILTER_PID"
ok $? "milter-dkim is still running"
kill -TERM "$MILTER_PID" && rig__wait_gone 10 "$MILTER_PID" &&
    grep -q 'milter-dkim stopped' "$RIG_DIR/milter-dkim.log"
ok $? "it stops cleanly on SIGTERM"
is "$(grep -c 'Sanitizer\|runtime error' "$RIG_DIR/milter-dkim.log")" 0 \
    "its log has no sanitizer or leak report"
echo "# $(($(date +%s) - start)) s in all; the reply with DNS down took" \
    "$((t1 - t0)) s"

if [ $FAILED != 0 ]; then
	sed 's/^/# milter-dkim: /' "$RIG_DIR/milter-dkim.log" | tail -n 30
	rig_log | tail -n 30 | sed 's/^/# maillog: /'
fi
exit $FAILED

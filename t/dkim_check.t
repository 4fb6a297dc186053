#!/bin/sh
# dkim_check.t - `milter-dkim -n` compares each signing key with the key
# record that DNS publishes for it: a matching record is silent, a
# different key, a missing record and an unusable record are named with
# the KeyTable line.  The records are served by a real nsd.
cd "$(dirname "$0")/.." || exit 1
: "${BUILD:=$PWD/build/plain}"
. t/data/dns/nsd.sh

# The keys' directory has known ancestors (t/lib/knowndir), so that no
# RequireSafeKeys warning about the place of the checkout or of TMPDIR
# mixes with the ones checked here.
W=$(t/lib/knowndir -s dkim_check 2>&1) || { echo "1..0 # SKIP $W"; exit 0; }
cleanup() { nsd_stop; rm -rf "$W"; }
trap cleanup EXIT INT TERM
T=0
FAILED=0
. t/lib/tap.sh

K=$BUILD/t/tools/dkimtool
for k in good other wrong gone broken; do
	"$K" keygen rsa 1024 "$W/$k.pem" >/dev/null 2>&1 || { echo "Bail out! keygen"; exit 1; }
	chmod 600 "$W/$k.pem"
done
rec() { "$K" record "$1" | sed 's/"/\\"/g'; }
# "wrong" publishes the public key of "other"; "gone" publishes nothing
{
	printf '$ORIGIN example.com.\n$TTL 300\n'
	printf '@ SOA ns hostmaster 1 3600 600 86400 300\n@ NS ns\nns A 127.0.0.1\n'
	printf 'good._domainkey TXT "%s"\n' "$(rec "$W/good.pem")"
	printf 'wrong._domainkey TXT "%s"\n' "$(rec "$W/other.pem")"
	printf 'broken._domainkey TXT "v=DKIM1; k=rsa; p=!!!"\n'
} > "$W/example.com.zone"
nsd_start example.com "$W/example.com.zone" || { echo "Bail out! nsd"; exit 1; }
trap cleanup EXIT INT TERM	# nsd_start set its own

cat > "$W/KeyTable" <<EOF2
good._domainkey.example.com example.com:good:$W/good.pem
wrong._domainkey.example.com example.com:wrong:$W/wrong.pem
gone._domainkey.example.com example.com:gone:$W/gone.pem
broken._domainkey.example.com example.com:broken:$W/broken.pem
EOF2
printf '*@example.com good._domainkey.example.com\n' > "$W/SigningTable"
cat > "$W/milter-dkim.conf" <<EOF2
KeyTable	file:$W/KeyTable
SigningTable	refile:$W/SigningTable
Nameservers	127.0.0.1:$NSD_PORT
DNSTimeout	2
Syslog		no
EOF2
out=$("$BUILD/bin/milter-dkim" -n -c "$W/milter-dkim.conf" 2>&1)
rc=$?
printf '%s\n' "$out" | sed 's/^/# /'
ok $rc "-n exits 0: key problems in DNS are warnings"
printf '%s\n' "$out" | grep -q "good\.pem\|'good\._domainkey" ; ok $((1 - $?)) "the key that matches its record is not mentioned"
printf '%s\n' "$out" | grep -q "not safe" ; ok $((1 - $?)) "no key is unsafe (RequireSafeKeys)"
printf '%s\n' "$out" | grep -q "KeyTable:2: key 'wrong._domainkey.example.com': the private key does not match the public key published at wrong._domainkey.example.com"
ok $? "a different published key is named with the KeyTable line"
printf '%s\n' "$out" | grep -q "KeyTable:3: key 'gone._domainkey.example.com': no key record is published at gone._domainkey.example.com"
ok $? "a missing record is named"
printf '%s\n' "$out" | grep -q "KeyTable:4: key 'broken._domainkey.example.com': the record at broken._domainkey.example.com is not a usable key"
ok $? "an unusable record is named"
nsd_stop
out=$("$BUILD/bin/milter-dkim" -n -c "$W/milter-dkim.conf" -O DNSTimeout=1 2>&1)
printf '%s\n' "$out" | grep -q "cannot look up good._domainkey.example.com"
ok $? "with the DNS server gone, the failed lookup is reported, not a mismatch"
echo "1..$T"
exit $FAILED

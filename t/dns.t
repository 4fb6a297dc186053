#!/bin/sh
# dns.t - the system backend of common/util/dns.c against a private nsd:
# records of each type, long TXT over TCP, NXDOMAIN, NODATA, CNAME,
# and a timeout against a UDP socket that never answers.
SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$SRCDIR/build/plain}
DNSQ=$BUILD/t/tools/dnsq
. "$SRCDIR/t/data/dns/nsd.sh"

T=0
FAILED=0
. "$SRCDIR/t/lib/tap.sh"

# expect NAME TYPE WANT-OUTPUT DESCRIPTION: dnsq output must equal WANT
expect() {
	got=$("$DNSQ" -t 2000 -s "127.0.0.1:$NSD_PORT" "$1" "$2" 2>&1)
	[ "$got" = "$3" ]
	ok $? "$4"
	[ "$got" = "$3" ] || printf '# got:\n%s\n# want:\n%s\n' "$got" "$3" |
	    sed 's/^/# /'
}

if ! command -v nsd >/dev/null 2>&1; then
	echo "1..0 # SKIP nsd is not installed"
	exit 0
fi
if [ ! -x "$DNSQ" ]; then
	echo "1..0 # SKIP $DNSQ not built"
	exit 0
fi
nsd_start example.com "$SRCDIR/t/data/dns/example.zone" \
    2.0.192.in-addr.arpa "$SRCDIR/t/data/dns/reverse.zone" || {
	echo "Bail out! nsd did not start"
	exit 1
}
silent=
fake=
trap 'kill $silent $fake 2>/dev/null; nsd_stop' EXIT

expect example.com A "status: OK
secure: 0
ttl: 3600
A 3600 192.0.2.1" "A record"
expect EXAMPLE.COM. AAAA "status: OK
secure: 0
ttl: 3600
AAAA 3600 2001:db8::1" "AAAA, name in upper case with trailing dot"
got=$("$DNSQ" -s "127.0.0.1:$NSD_PORT" example.com MX | sort)
[ "$got" = "MX 3600 10 mail.example.com
MX 3600 20 mail2.example.net
secure: 0
status: OK
ttl: 3600" ]
ok $? "two MX records"
expect multi.example.com TXT "status: OK
secure: 0
ttl: 3600
TXT 3600 strings=3 len=36 v=spf1 include:_spf.example.net ~all
TXT 3600 strings=1 len=13 second record" "TXT with several strings and records"
expect esc.example.com TXT 'status: OK
secure: 0
ttl: 3600
TXT 3600 strings=3 len=12 a\000b\013\010c"q"x;y' \
    "TXT with NUL, CR and LF bytes"
expect spf.example.com SPF "status: OK
secure: 0
ttl: 3600
SPF 3600 strings=1 len=11 v=spf1 -all" "SPF type 99"
got=$("$DNSQ" -s "127.0.0.1:$NSD_PORT" long.example.com TXT)
echo "$got" | grep -q "^TXT 3600 strings=8 len=1600 a\{200\}b\{200\}"
ok $? "1600-byte TXT in 8 strings (truncated over UDP, fetched over TCP)"
expect alias.example.com A "status: OK
secure: 0
ttl: 3600
A 3600 192.0.2.80" "CNAME chain in the answer is followed"
expect nothere.example.com A "status: NXDOMAIN" "NXDOMAIN"
expect mail.example.com TXT "status: NODATA" "NODATA"
expect x.example.com A "status: NODATA" "empty non-terminal is NODATA"
expect foo.wild.example.com TXT "status: OK
secure: 0
ttl: 3600
TXT 3600 strings=1 len=8 wildcard" "wildcard"
expect 1.2.0.192.in-addr.arpa PTR "status: OK
secure: 0
ttl: 3600
PTR 3600 example.com" "PTR"
expect other.test A "status: TEMPFAIL" "REFUSED for a zone nsd does not serve"
expect "a..b" A "status: BADNAME" "bad name"

# a UDP socket that never answers; the query must give up in time
/usr/bin/python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1], flush=True)
time.sleep(10)
' >"$NSD_DIR/silent.port" &
silent=$!
for i in 1 2 3 4 5 6 7 8 9 10; do
	[ -s "$NSD_DIR/silent.port" ] && break
	sleep 0.1
done
port=$(cat "$NSD_DIR/silent.port")
t0=$(date +%s%N)
got=$("$DNSQ" -t 300 -s "127.0.0.1:$port" example.com TXT)
t1=$(date +%s%N)
kill "$silent" 2>/dev/null
wait "$silent" 2>/dev/null
ms=$(((t1 - t0) / 1000000))
[ "$got" = "status: TIMEOUT" ]
ok $? "a silent server gives TIMEOUT"
[ "$ms" -lt 1000 ]
ok $? "within the 300 ms budget ($ms ms)"
got=$("$DNSQ" -t 2000 -s "127.0.0.1:$port 127.0.0.1:$NSD_PORT" example.com A |
    head -1)
[ "$got" = "status: OK" ]
ok $? "a silent first server is skipped for the next one"

# a scripted server: AD set in the reply only when the query carried it
# (for names secure.*), SERVFAIL for servfail.*, a wrong id for spoof.*
/usr/bin/python3 -c '
import socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1], flush=True)
s.settimeout(10)
while True:
    try:
        q, peer = s.recvfrom(4096)
    except OSError:
        break
    qid, flags = struct.unpack(">HH", q[:4])
    i, labels = 12, []
    while q[i]:
        labels.append(q[i + 1:i + 1 + q[i]].decode().lower())
        i += 1 + q[i]
    question, name = q[12:i + 5], ".".join(labels)
    rflags, an = 0x8000 | (flags & 0x0100) | 0x0080, 1
    if name.startswith("secure.") and flags & 0x0020:
        rflags |= 0x0020
    if name.startswith("servfail."):
        rflags, an = rflags | 2, 0
    if name.startswith("spoof."):
        qid ^= 1
    r = struct.pack(">HHHHHH", qid, rflags, 1, an, 0, 0) + question
    if an:
        r += struct.pack(">HHHIH", 0xc00c, 1, 1, 60, 4) + bytes([192, 0, 2, 7])
    s.sendto(r, peer)
' >"$NSD_DIR/fake.port" &
fake=$!
for i in 1 2 3 4 5 6 7 8 9 10; do
	[ -s "$NSD_DIR/fake.port" ] && break
	sleep 0.1
done
fport=$(cat "$NSD_DIR/fake.port")
got=$("$DNSQ" -t 1000 -s "127.0.0.1:$fport" secure.test A)
[ "$got" = "status: OK
secure: 1
ttl: 60
A 60 192.0.2.7" ]
ok $? "the query carries AD and the AD bit of the reply is reported"
got=$("$DNSQ" -t 1000 -s "127.0.0.1:$fport" plain.test A | sed -n 2p)
[ "$got" = "secure: 0" ]
ok $? "no AD bit in the reply: not secure"
got=$("$DNSQ" -t 1000 -s "127.0.0.1:$fport" servfail.test A)
[ "$got" = "status: TEMPFAIL" ]
ok $? "SERVFAIL is TEMPFAIL"
got=$("$DNSQ" -t 300 -s "127.0.0.1:$fport" spoof.test A)
[ "$got" = "status: TIMEOUT" ]
ok $? "a reply with the wrong id is dropped"
kill "$fake" 2>/dev/null
wait "$fake" 2>/dev/null

echo "1..$T"
[ "$FAILED" -eq 0 ]

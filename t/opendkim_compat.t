#!/bin/bash
# opendkim_compat.t - an OpenDKIM setup, unchanged, decides alike in both
#
# t/data/compat holds a typical administrator's OpenDKIM setup, written
# for /etc/opendkim: opendkim.conf (Domain, KeyTable, SigningTable and
# TrustedHosts as refile: tables, Mode sv), a KeyTable with the classic
# trap (red.example.jp's key entry signing as blue.example.jp), a
# SigningTable ending in a catch-all "*", TrustedHosts and a variant
# that also lists 0.0.0.0/0, and a Debian-style opendkim.conf.  The
# paths are rewritten to a temporary directory and the keys generated
# here (mode 0600).  For the runs, the test adds to the configuration
# only: Socket and PidFile (a free port, the temporary directory),
# Syslog no (so that milter-dkim logs to its standard error, kept in
# the test's log) and Nameservers (the private nsd that publishes the
# keys; Debian's OpenDKIM, built with libunbound, takes the port as
# ADDR@PORT, milter-dkim as ADDR:PORT).  Both daemons run in the foreground with -f.
#
# Checked:
#   - `milter-dkim -n` loads every file unchanged (and OpenDKIM's own
#     `-n` accepts them), naming each trap with file and line;
#   - for each sender (From:) and client, Debian's /usr/sbin/opendkim
#     and milter-dkim get the same message from milterclient, and agree
#     on signing (d=, s=, i=, the set of h= names) or verifying (the
#     result for the message's outside signature, news.example.net);
#     a difference fails unless it is one of the deliberate ones below;
#   - `milter-dkim explain` says "sign" (exit 0) exactly when the daemon
#     signed, and names the SigningTable line that decided.
# The client host name "mail.blue.example.jp" reaches the daemons as
# milterclient's -C, and explain as mail.blue.example.jp[192.0.2.10].  SMTP AUTH is sent as Postfix does,
# {auth_type} and {auth_authen}.
#
# "*.blue.example.jp" in a refile: InternalHosts excludes a client named
# mail.blue.example.jp in both (OpenDKIM's "!name" probe matches the
# pattern; milter-dkim keeps that meaning and -n names the line).
#
# Deliberate differences (the test asserts milter-dkim's behaviour):
#   - {auth_authen} alone counts as SMTP AUTH; OpenDKIM reads only
#     {auth_type};
#   - From is oversigned by default (OpenDKIM's default OversignHeaders
#     is empty; Debian's opendkim.conf sets From).
# Both refuse (RequireSafeKeys) a key under a directory others may write;
# OpenDKIM also refuses one below /tmp (sticky), so this test keeps its
# files in a directory made by t/lib/knowndir (as root, in /), whose
# ancestors are root's and writable by no one else; milter-dkim passes
# sticky directories.
#
# Skipped when opendkim or nsd is not installed.  Every process started
# here is killed by its PID on exit.

SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$SRCDIR/build/plain}
MD=$BUILD/bin/milter-dkim
GENKEY=$BUILD/bin/milter-dkim-genkey
MC=$BUILD/t/tools/milterclient
DT=$BUILD/t/tools/dkimtool
OPENDKIM=${OPENDKIM:-/usr/sbin/opendkim}
DATA=$SRCDIR/t/data/compat
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}

. "$SRCDIR/t/lib/procs.sh"
need_exec "$MD" "$GENKEY" "$MC" "$DT" "$OPENDKIM"
need_cmd nsd

. "$SRCDIR/t/data/dns/nsd.sh"

T=0
FAILED=0
# Both daemons (RequireSafeKeys) judge a key by the directories above
# it, and OpenDKIM also refuses one below a sticky directory such as /tmp:
# the files go in a directory whose ancestors belong to root and no one
# else may write (t/lib/knowndir), as keys go under /etc/opendkim on a
# real host, so that where the checkout or TMPDIR lies changes nothing
TMP=$("$SRCDIR/t/lib/knowndir" opendkim_compat 2>&1) || {
	echo "1..0 # SKIP $TMP"
	exit 0
}

cleanup() {
	stop_procs
	nsd_stop
	[ -n "$KEEP" ] || rm -rf "$TMP"
}
trap cleanup EXIT
trap 'cleanup; exit 1' HUP INT TERM

. "$SRCDIR/t/lib/tap.sh"

# ---- the administrator's files, under $TMP/etc and $TMP/run ----
mkdir -p "$TMP/etc/keys" "$TMP/run" "$TMP/zone"
rewrite() {	# rewrite FILE: /etc/opendkim and /run/opendkim to $TMP
	sed -e "s|/etc/opendkim/|$TMP/etc/|g" \
	    -e "s|/var/run/opendkim/|$TMP/run/|g" \
	    -e "s|/run/opendkim/|$TMP/run/|g" "$1"
}
for f in opendkim.conf debian.conf KeyTable KeyTable.file SigningTable \
    TrustedHosts TrustedHosts-all; do
	rewrite "$DATA/$f" >"$TMP/etc/$f"
done
for d in blue.example.jp green.example.jp; do
	mkdir -p "$TMP/etc/keys/$d"
	"$GENKEY" -d $d -s default -D "$TMP/etc/keys/$d" >/dev/null
done
mkdir -p "$TMP/etc/keys/news"
"$GENKEY" -d news.example.net -s ext -D "$TMP/etc/keys/news" >/dev/null
chmod 600 "$TMP"/etc/keys/*/*.private

# the zones: the public keys, and news.example.net, an outside signer
{
	printf '$ORIGIN example.jp.\n$TTL 3600\n'
	printf '@ IN SOA ns hostmaster 1 3600 600 86400 120\n@ IN NS ns\n'
	printf 'ns IN A 127.0.0.1\n'
	for d in blue green; do
		sed -n "s/^default\._domainkey/default._domainkey.$d/p; /^[[:space:]]/p" \
		    "$TMP/etc/keys/$d.example.jp/default.txt"
	done
} >"$TMP/zone/example.jp"
{
	printf '$ORIGIN example.net.\n$TTL 3600\n'
	printf '@ IN SOA ns hostmaster 1 3600 600 86400 120\n@ IN NS ns\n'
	printf 'ns IN A 127.0.0.1\n'
	sed -n "s/^ext\._domainkey/ext._domainkey.news/p; /^[[:space:]]/p" \
	    "$TMP/etc/keys/news/ext.txt"
} >"$TMP/zone/example.net"

nsd_start example.jp "$TMP/zone/example.jp" example.net "$TMP/zone/example.net" ||
    { echo "Bail out! nsd"; exit 1; }
trap cleanup EXIT
trap 'cleanup; exit 1' HUP INT TERM

# run_conf CONF NAME PORT NSSYNTAX: CONF with the lines a test run needs
run_conf() {
	sed -e "s|^Socket.*|Socket                  inet:$3@127.0.0.1|" \
	    -e "s|^PidFile.*|PidFile                 $TMP/run/$2.pid|" "$1"
	echo "Syslog                  no"
	echo "Nameservers             $4"
}
sed -e "s|refile:$TMP/etc/TrustedHosts\$|refile:$TMP/etc/TrustedHosts-all|" \
    "$TMP/etc/opendkim.conf" >"$TMP/etc/opendkim-all.conf"

# ---- -n: the files load unchanged, and the traps are named ----
C=$TMP/etc/opendkim.conf
# -n checks the published keys: -O points it at our nsd, the file as is
nscheck() {	# nscheck CONF OUT
	"$MD" -n -x "$1" -O "Nameservers=127.0.0.1:$NSD_PORT" >"$2" 2>&1
}
nscheck "$C" "$TMP/n.out"
ok $? "-n: the administrator's opendkim.conf loads unchanged (exit 0)"
has "$TMP/n.out" "etc/opendkim.conf:1: Domain is ignored because a KeyTable is set" \
    "-n: Domain (line 1) is ignored because KeyTable is set"
has "$TMP/n.out" "etc/KeyTable:2: key 'default._domainkey.red.example.jp' signs as d=blue.example.jp, not as red.example.jp" \
    "-n: KeyTable line 2 signs red.example.jp's mail as blue.example.jp"
hasnt "$TMP/n.out" "KeyTable:[13]:" \
    "-n: KeyTable lines 1 and 3 are consistent (and their keys are published)"
hasnt "$TMP/n.out" "every client is internal" "-n: no 0.0.0.0/0 warning without 0.0.0.0/0"
has "$TMP/n.out" "etc/opendkim.conf:4: InternalHosts: .*etc/TrustedHosts:4: \\*.blue.example.jp: in a refile: list, a pattern that begins with '\\*' excludes the hosts it matches" \
    "-n: the refile: pattern *.blue.example.jp, which excludes rather than includes, is named"
nscheck "$TMP/etc/opendkim-all.conf" "$TMP/n-all.out"
ok $? "-n: with TrustedHosts-all it still loads (exit 0)"
has "$TMP/n-all.out" "opendkim-all.conf:4: InternalHosts lists 0.0.0.0/0 or ::/0: every client is internal" \
    "-n: InternalHosts (line 4) with 0.0.0.0/0: every client is internal"
nscheck "$TMP/etc/debian.conf" "$TMP/n-deb.out"
ok $? "-n: the Debian-style opendkim.conf loads (exit 0)"
has "$TMP/n-deb.out" "debian.conf:10: TrustAnchorFile has no effect" \
    "-n: TrustAnchorFile (line 10) is named as having no effect"
has "$TMP/n-deb.out" "KeyTable.file:2: key 'default._domainkey.red.example.jp' signs as d=blue.example.jp" \
    "-n: the file: KeyTable's red/blue mismatch is named too"
hasnt "$TMP/n-deb.out" "debian.conf:([2-9]|11):" \
    "-n: no other line of the Debian-style file draws a warning"
for f in opendkim.conf opendkim-all.conf debian.conf; do
	"$OPENDKIM" -n -x "$TMP/etc/$f" >"$TMP/od-n.out" 2>&1
	ok $? "opendkim -n accepts $f too"
done

# ---- the daemons ----
# start_opendkim NAME CONF, start_ours NAME CONF: NAME_PORT is set
start_opendkim() {
	local port
	port=$("$SRCDIR/t/lib/freeport")
	run_conf "$2" "$1" "$port" "127.0.0.1@$NSD_PORT" >"$TMP/$1.conf"
	"$OPENDKIM" -f -x "$TMP/$1.conf" >"$TMP/$1.log" 2>&1 &
	PIDS="$PIDS $!"
	wait_port "$port" $! 100 || {
		sed 's/^/# opendkim: /' "$TMP/$1.log"
		echo "Bail out! opendkim did not start"
		exit 1
	}
	eval "${1}_PORT=$port"
}
start_ours() {
	local port
	port=$("$SRCDIR/t/lib/freeport")
	# the same Nameservers line as OpenDKIM's, addr@port
	run_conf "$2" "$1" "$port" "127.0.0.1@$NSD_PORT" >"$TMP/$1.conf"
	"$MD" -f -c "$TMP/$1.conf" >"$TMP/$1.log" 2>&1 &
	eval "${1}_PID=$!"
	PIDS="$PIDS $!"
	wait_port "$port" $! 100 || {
		sed 's/^/# milter-dkim: /' "$TMP/$1.log"
		echo "Bail out! milter-dkim did not start"
		exit 1
	}
	eval "${1}_PORT=$port"
}
start_opendkim od "$C"
start_ours md "$C"
start_opendkim odall "$TMP/etc/opendkim-all.conf"
start_ours mdall "$TMP/etc/opendkim-all.conf"

# tag LINE NAME: a tag's value in milterclient's DKIM-Signature line
tag() {
	local sig=${1#*DKIM-Signature:}
	sig=${sig//\\n/ }
	sig=${sig//\\t/ }
	sig=" ${sig//;/ ; }"
	[[ $sig =~ [[:space:]]$2=([^;]+) ]] && echo "${BASH_REMATCH[1]//[[:space:]]/}"
}

# summary OUT: what a daemon did, in one line
#   sign d=D s=S [i=I] h=NAMES	for each DKIM-Signature added (NAMES:
#				the signed fields, lower case, sorted, once)
#   verify dkim=R [header.d=D]	for an Authentication-Results added
#				(header.d when R is pass)
#   unchanged			neither
# followed by the verdict when it is not CONTINUE or ACCEPT
summary() {
	local line out= sig d s i h r
	while IFS= read -r line; do
		case $line in
		"INSHEADER "*"DKIM-Signature:"*|"ADDHEADER DKIM-Signature:"*)
			d=$(tag "$line" d) s=$(tag "$line" s) i=$(tag "$line" i)
			[ -n "$i" ] && i=" i=$i"
			h=$(tag "$line" h | tr 'A-Z:' 'a-z\n' | sort -u | paste -sd, -)
			out="$out sign d=$d s=$s$i h=$h" ;;
		"INSHEADER "*"Authentication-Results:"*|"ADDHEADER Authentication-Results:"*)
			r= d=
			[[ $line =~ dkim=([a-z]+) ]] && r=${BASH_REMATCH[1]}
			[[ $r = pass && $line =~ header\.d=([^[:space:];\\]+) ]] &&
			    d=" header.d=${BASH_REMATCH[1]}"
			out="$out verify dkim=$r$d" ;;
		CONTINUE|ACCEPT) ;;
		*) out="$out [$line]" ;;
		esac
	done <"$1"
	case $out in
	""|" ["*) out="unchanged$out" ;;
	esac
	echo "${out# }"
}

# authserv OUT: the authserv-id of the Authentication-Results added
authserv() {
	sed -n 's/^INSHEADER [0-9]* Authentication-Results: *\([^;]*\);.*/\1/p' "$1"
}

# ---- the cases ----
# senders: NAME|From: value|explain's sender ("-": no From)|SigningTable line
SENDERS='blue|user@blue.example.jp|user@blue.example.jp|1
red|user@red.example.jp|user@red.example.jp|2
green|user@green.example.jp|user@green.example.jp|3
sub|user@sub.blue.example.jp|user@sub.blue.example.jp|3
other|user@other.example|user@other.example|3
name|"Yamada, Taro" <taro@blue.example.jp>|taro@blue.example.jp|1
name-red|=?UTF-8?B?5bGx55Sw6Iqx5a2Q?= <hanako@red.example.jp>|hanako@red.example.jp|2
upper|User@BLUE.EXAMPLE.JP|User@BLUE.EXAMPLE.JP|1
tampered|user@blue.example.jp|user@blue.example.jp|1
nofrom|-|-|-'
# clients: NAME|address|host name ("-": milterclient's "[address]")|
# SMTP AUTH macros (milterclient options)
CLIENTS='127.0.0.1|127.0.0.1|-|
::1|::1|-|
192.0.2.10 (mail.blue.example.jp)|192.0.2.10|mail.blue.example.jp|
192.0.2.10 (unknown)|192.0.2.10|-|
198.51.100.7|198.51.100.7|-|
198.51.100.7 (SMTP AUTH)|198.51.100.7|-|-a user -m auth_type=PLAIN
198.51.100.7 ({auth_authen} only)|198.51.100.7|-|-a user'

# deliberate CLIENT-NAME: why the daemons differ on purpose, if they do
deliberate() {
	case $1 in
	*"{auth_authen} only"*)
		echo "on purpose: milter-dkim takes {auth_authen} (or {auth_type}) as SMTP AUTH, OpenDKIM only {auth_type}; Postfix and Sendmail send both" ;;
	esac
}

mkdir -p "$TMP/msg" "$TMP/out"
# each message carries a signature of news.example.net, an outside
# signer, so that a verifying daemon adds an Authentication-Results;
# "tampered" breaks it after signing (On-BadSignature accept)
while IFS='|' read -r sname from esender line; do
	if [ "$from" = - ]; then
		sed '/^From: /d' "$DATA/message.eml"
	else
		sed "s|@FROM@|$from|" "$DATA/message.eml"
	fi >"$TMP/msg/$sname.plain"
	"$DT" sign -d news.example.net -s ext -c relaxed/simple \
	    -k "$TMP/etc/keys/news/ext.private" \
	    <"$TMP/msg/$sname.plain" >"$TMP/msg/$sname.eml" ||
	    echo "# dkimtool could not sign the $sname message"
	[ $sname = tampered ] && sed -i 's/noon/midnight/' "$TMP/msg/$sname.eml"
done <<<"$SENDERS"

# compare N SENDER-LINE CLIENT-LINE OD-PORT MD-PORT MD-CONF
compare() {
	local n=$1 od=$4 md=$5 conf=$6 o m r why want todo=
	local sname from esender line cname ip host auth
	IFS='|' read -r sname from esender line <<<"$2"
	IFS='|' read -r cname ip host auth <<<"$3"
	local named=
	[ "$host" = - ] || named="-C $host"
	"$MC" -T 20 -s "inet:$od@127.0.0.1" -i "$ip" $named $auth \
	    <"$TMP/msg/$sname.eml" >"$TMP/out/$n.od" 2>&1
	"$MC" -T 20 -s "inet:$md@127.0.0.1" -i "$ip" $named $auth \
	    <"$TMP/msg/$sname.eml" >"$TMP/out/$n.md" 2>&1
	o=$(summary "$TMP/out/$n.od")
	m=$(summary "$TMP/out/$n.md")
	why=$(deliberate "$cname")
	if [ -n "$why" ] && [ "$from" != - ]; then
		# our documented behaviour: signed; OpenDKIM's: verified
		[[ $o == verify* && $m == sign* ]]
		r=$?
		ok $r "$sname via $cname: OpenDKIM: $o; milter-dkim: $m; $why"
	else
		[ "$o" = "$m" ] && [ -n "$o" ]
		r=$?
		ok $r "$sname via $cname: OpenDKIM: $o; milter-dkim: $m"
	fi
	[ $r -eq 0 ] || { sed 's/^/#   OpenDKIM: /' "$TMP/out/$n.od"
	    sed 's/^/#   milter-dkim: /' "$TMP/out/$n.md"; }
	echo "$sname|$cname|$o|$m" >>"$TMP/table"

	# explain agrees with the daemon (exit 0 iff signed), given the
	# client as Postfix logs it (host[addr]) and the SMTP AUTH user
	[ "$esender" = - ] && return
	local client=$ip
	[ "$host" = - ] || client="$host[$ip]"
	case $auth in -a*) set -- "$esender" "$client" user ;;
	*) set -- "$esender" "$client" ;; esac
	"$MD" -c "$conf" explain "$@" >"$TMP/out/$n.ex" 2>&1
	r=$?
	case $m in sign*) want=0 ;; *) want=1 ;; esac
	ok $((r == want ? 0 : 1)) "explain $*: exit $r, matching the daemon's ${m%% *}$todo"
	[ $r -eq $want ] || [ -n "$todo" ] || sed 's/^/#   /' "$TMP/out/$n.ex"
	if [ $r -eq 0 ]; then
		has "$TMP/out/$n.ex" "SigningTable:$line: SigningTable entry" \
		    "explain $*: SigningTable line $line decides"
	fi
}

N=0
while IFS= read -r sl; do
	while IFS= read -r cl; do
		N=$((N + 1))
		compare $N "$sl" "$cl" "$od_PORT" "$md_PORT" "$TMP/md.conf"
	done <<<"$CLIENTS"
done <<<"$SENDERS"

# with TrustedHosts-all (0.0.0.0/0), an outside client is internal
while IFS= read -r sl; do
	case $sl in blue\|*|other\|*|nofrom\|*) ;; *) continue ;; esac
	N=$((N + 1))
	compare $N "$sl" "198.51.100.7 (TrustedHosts-all)|198.51.100.7|-|" \
	    "$odall_PORT" "$mdall_PORT" "$TMP/mdall.conf"
done <<<"$SENDERS"

# details that are not decisions
o=$(tag "$(grep DKIM-Signature "$TMP/out/1.od")" h)
m=$(tag "$(grep DKIM-Signature "$TMP/out/1.md")" h)
[[ ${m,,} == *:from:*from* ]] && [[ ${o,,} != *from:*from* ]]
ok $? "h=: OpenDKIM h=$o, milter-dkim h=$m: on purpose, milter-dkim oversigns From by default (OpenDKIM's default OversignHeaders is empty; Debian's opendkim.conf sets From)"
o=$(authserv "$TMP/out/5.od")
m=$(authserv "$TMP/out/5.md")
[ -n "$o" ] && [ "$o" = "$m" ]
ok $? "authserv-id without AuthservID: OpenDKIM '$o' (the MTA's j macro), milter-dkim '$m'"

# a key under a directory others may write: RequireSafeKeys refuses it
mkdir -p "$TMP/open"
chmod 777 "$TMP/open"
cp -p "$TMP/etc/keys/blue.example.jp/default.private" "$TMP/open/blue.private"
sed "s|$TMP/etc/keys/blue.example.jp/default.private|$TMP/open/blue.private|" \
    "$TMP/etc/KeyTable" >"$TMP/etc/KeyTable-open"
sed "s|refile:$TMP/etc/KeyTable\$|refile:$TMP/etc/KeyTable-open|" "$C" \
    >"$TMP/etc/opendkim-open.conf"
start_opendkim odopen "$TMP/etc/opendkim-open.conf"
start_ours mdopen "$TMP/etc/opendkim-open.conf"
"$MC" -T 20 -s "inet:$odopen_PORT@127.0.0.1" -i 127.0.0.1 \
    <"$TMP/msg/blue.eml" >"$TMP/out/open.od" 2>&1
"$MC" -T 20 -s "inet:$mdopen_PORT@127.0.0.1" -i 127.0.0.1 \
    <"$TMP/msg/blue.eml" >"$TMP/out/open.md" 2>&1
o=$(summary "$TMP/out/open.od")
m=$(summary "$TMP/out/open.md")
# both refuse the key and defer the message: OpenDKIM with a bare
# temporary failure at end of header, milter-dkim with its 451 text
case $o in *TEMPFAIL*) ;; *) o="not deferred: $o" ;; esac
case $m in *"REPLYCODE 451 "*) ;; *) m="not deferred: $m" ;; esac
case "$o $m" in *"not deferred"*) false ;; *) true ;; esac
ok $? "key under a directory others may write, blue via 127.0.0.1: both refuse the key and defer: OpenDKIM: $o; milter-dkim: $m"

for n in md mdall mdopen; do
	eval "p=\$${n}_PID"
	kill -TERM "$p"
	wait "$p"
	r=$?
	ok $r "milter-dkim ($n) exits 0 on SIGTERM"
	PIDS=$(echo " $PIDS " | sed "s/ $p / /")
	hasnt "$TMP/$n.log" 'AddressSanitizer|LeakSanitizer|runtime error' \
	    "no sanitizer report from milter-dkim ($n)"
done

echo "1..$T"
exit $FAILED

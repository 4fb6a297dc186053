#!/bin/sh
# dmarc_conf.t - opendmarc.conf files load unchanged in milter-dmarc:
# Debian's /etc/opendmarc.conf, and the sample that ships with OpenDMARC
# 1.4.2 with every keyword uncommented (its file paths made real).
# -n exits 0, knows every keyword, and explains each one that has no
# effect here.
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-$(pwd)/build/plain}
MILTER=$BUILD/bin/milter-dmarc
SAMPLE=/usr/share/doc/opendmarc/opendmarc.conf.sample.gz

if ! [ -x "$MILTER" ]; then
	echo "1..0 # SKIP $MILTER is not built"
	exit 0
fi
T=0
FAILED=0
. t/lib/tap.sh
TMP=$(mktemp -d "${TMPDIR:-/tmp}/dmarc_conf.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT

if [ -f /etc/opendmarc.conf ]; then
	out=$("$MILTER" -n -c /etc/opendmarc.conf 2>&1)
	ok $? "Debian's /etc/opendmarc.conf loads (-n exits 0)"
	unlike "$out" 'unknown keyword|error' "  ... without an error"
else
	skip "/etc/opendmarc.conf loads" "opendmarc is not installed"
	skip "/etc/opendmarc.conf: no error" "opendmarc is not installed"
fi

if [ -f "$SAMPLE" ]; then
	echo 127.0.0.1 > "$TMP/ignore.hosts"
	echo list.example > "$TMP/whitelist.domains"
	gzip -dc "$SAMPLE" | sed -n 's/^# *\([A-Z][A-Za-z]*[ 	].*\)$/\1/p' |
	    sed -e "s#^IgnoreHosts .*#IgnoreHosts $TMP/ignore.hosts#" \
	    -e "s#^HistoryFile .*#HistoryFile $TMP/history.dat#" \
	    -e "s#^DomainWhitelistFile .*#DomainWhitelistFile $TMP/whitelist.domains#" \
	    -e "s#^PidFile .*#PidFile $TMP/pid#" \
	    -e 's#^UserID .*#UserID root#' > "$TMP/sample.conf"
	n=$(wc -l < "$TMP/sample.conf" | tr -d ' ')
	ok $([ "$n" -ge 40 ]; echo $?) "the OpenDMARC sample has $n keywords uncommented"
	out=$("$MILTER" -n -c "$TMP/sample.conf" 2>&1)
	ok $? "  ... and loads (-n exits 0)"
	unlike "$out" 'unknown keyword' "  ... every keyword is known"
	for kw in AutoRestart BaseDirectory ChangeRootDirectory DomainWhitelistSize \
	    EnableCoredumps; do
		like "$out" "$kw has no effect here: .+" "  ... $kw: accepted, the reason given"
	done
	like "$out" 'PublicSuffixList is not used with PolicyDiscovery treewalk' \
	    "  ... PublicSuffixList: not used by the tree walk, said so"
	out=$("$MILTER" -n -c "$TMP/sample.conf" -O PolicyDiscovery=psl 2>&1)
	like "$out" 'PublicSuffixList: cannot load path' \
	    "  ... with PolicyDiscovery psl the list must load (the sample's is 'path')"
else
	skip "OpenDMARC sample" "$SAMPLE is not installed"
fi

echo "1..$T"
exit $FAILED

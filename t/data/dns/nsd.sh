# nsd.sh - run a private nsd on 127.0.0.1 for a test script (sourced)
#
#	. "$SRCDIR/t/data/dns/nsd.sh"
#	nsd_start ORIGIN ZONEFILE [ORIGIN ZONEFILE...]  || exit 1
#	trap nsd_stop EXIT          (nsd_start already sets this trap)
#	... query 127.0.0.1:$NSD_PORT ...
#
# Response rate limiting is off: a benchmark or a peer that asks the same
# question hundreds of times a second must get every answer.
#
# nsd_start makes a temporary directory ($NSD_DIR) holding the
# configuration, the zone copies, the pid file and the log; picks a free
# port ($NSD_PORT, UDP and TCP); runs nsd in the foreground (-d) in the
# background of the script ($NSD_PID) and waits until it answers over UDP.
# nsd_stop kills that PID and removes the directory.  With NSD_ALSO set to
# an address of 127.0.0.0/8 of the caller's choosing, nsd also answers on
# port 53 of it, for a peer that can only ask port 53 (its own
# resolv.conf, bind-mounted in a private mount namespace).

NSD_PID=
NSD_DIR=
NSD_PORT=

# The one free-port helper (a port free for both UDP and TCP); a caller
# that has not set SRCDIR sources this file from the top directory.
NSD_FREEPORT=${SRCDIR:-$(pwd)}/t/lib/freeport

# nsd_ready - 0 once nsd answers a UDP query for the first zone's SOA
nsd_ready() {
	/usr/bin/python3 - "$NSD_PORT" "$1" <<'PY'
import socket, struct, sys
port, origin = int(sys.argv[1]), sys.argv[2].rstrip(".")
q = struct.pack(">HHHHHH", 0x4242, 0, 1, 0, 0, 0)
for label in origin.split("."):
    q += bytes([len(label)]) + label.encode()
q += b"\0" + struct.pack(">HH", 6, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.2)
s.sendto(q, ("127.0.0.1", port))
try:
    r = s.recv(4096)
except OSError:
    sys.exit(1)
sys.exit(0 if r[:2] == b"\x42\x42" and (r[3] & 15) == 0 else 1)
PY
}

# nsd_stop - kill our nsd and remove its directory
nsd_stop() {
	if [ -n "$NSD_PID" ]; then
		kill "$NSD_PID" 2>/dev/null
		wait "$NSD_PID" 2>/dev/null
		NSD_PID=
	fi
	if [ -n "$NSD_DIR" ]; then
		rm -rf "$NSD_DIR"
		NSD_DIR=
	fi
}

# nsd_start - ORIGIN ZONEFILE pairs; sets NSD_DIR, NSD_PORT, NSD_PID
nsd_start() {
	local first try i
	first=$1
	NSD_DIR=$(mktemp -d "${TMPDIR:-/tmp}/nsd.XXXXXX") || return 1
	trap nsd_stop EXIT
	trap 'nsd_stop; exit 1' HUP INT TERM
	chmod 755 "$NSD_DIR"
	: >"$NSD_DIR/zones.conf"
	i=0
	while [ $# -ge 2 ]; do
		i=$((i + 1))
		cp "$2" "$NSD_DIR/zone$i" || return 1
		printf 'zone:\n\tname: "%s"\n\tzonefile: "%s"\n' \
		    "$1" "$NSD_DIR/zone$i" >>"$NSD_DIR/zones.conf"
		shift 2
	done
	for try in 1 2 3; do
		NSD_PORT=$("$NSD_FREEPORT")
		[ -n "$NSD_PORT" ] || return 1
		cat >"$NSD_DIR/nsd.conf" <<CONF
server:
	ip-address: 127.0.0.1@$NSD_PORT${NSD_ALSO:+
	ip-address: $NSD_ALSO@53}
	do-ip6: no
	port: $NSD_PORT
	username: ""
	chroot: ""
	zonesdir: "$NSD_DIR"
	pidfile: "$NSD_DIR/nsd.pid"
	database: ""
	zonelistfile: "$NSD_DIR/zone.list"
	xfrdfile: "$NSD_DIR/xfrd.state"
	xfrdir: "$NSD_DIR"
	logfile: "$NSD_DIR/nsd.log"
	server-count: 1
	verbosity: 1
	hide-version: yes
	reuseport: no
	rrl-ratelimit: 0
remote-control:
	control-enable: no
CONF
		cat "$NSD_DIR/zones.conf" >>"$NSD_DIR/nsd.conf"
		nsd -d -c "$NSD_DIR/nsd.conf" >>"$NSD_DIR/nsd.log" 2>&1 &
		NSD_PID=$!
		for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 \
		    21 22 23 24 25; do
			if nsd_ready "$first"; then
				return 0
			fi
			kill -0 "$NSD_PID" 2>/dev/null || break
			sleep 0.2
		done
		kill "$NSD_PID" 2>/dev/null
		wait "$NSD_PID" 2>/dev/null
		NSD_PID=
	done
	echo "nsd did not start:" >&2
	cat "$NSD_DIR/nsd.log" >&2
	return 1
}

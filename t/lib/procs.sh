# procs.sh - what a test script needs, and the processes it starts (bash)
#
#	need_exec FILE...	"1..0 # SKIP" and exit 0 unless every FILE is
#				executable (not built, or not installed)
#	need_cmd CMD...		the same for commands looked up on PATH
#	PIDS			the processes to stop: add "$!" after each
#				start, e.g. PIDS="$PIDS $!"
#	stop_procs		kill and reap them (from the script's cleanup)
#	wait_port PORT PID [TRIES]
#				wait, 0.1 s a try (50 tries by default), until
#				127.0.0.1:PORT accepts; 1 if PID dies first
PIDS=

need_exec() {	# need_exec FILE...
	local f
	for f in "$@"; do
		if [ ! -x "$f" ]; then
			echo "1..0 # SKIP $f not built or not installed"
			exit 0
		fi
	done
}
need_cmd() {	# need_cmd CMD...
	local c
	for c in "$@"; do
		if ! command -v "$c" >/dev/null; then
			echo "1..0 # SKIP $c not installed"
			exit 0
		fi
	done
}
stop_procs() {
	local p
	for p in $PIDS; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	PIDS=
}
wait_port() {	# wait_port PORT PID [TRIES]
	local i
	for i in $(seq "${3:-50}"); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# lib.sh - helpers for t/bench.sh (sourced, bash)
#
# Daemon bookkeeping (start, wait for the socket, stop by PID), memory
# and CPU readings from /proc, one measured run of milterclient, and the
# result lines that t/bench/table.awk turns into the table.
#
# A result line (tab-separated, in $RESULTS):
#	test socket size conc impl rate p50 p99 peak_rss_kb errors cpu_ms
# cpu_ms is the daemon's CPU time (user + system, all threads) per
# message during the cell, to the clock tick (usually 10 ms per cell).
# impl is "ours" or "theirs"; rate, p50 and p99 are "n/a" for a cell
# that cannot be run (with the reason in the errors column).

BENCH_PIDS=

# bench_free_port - a TCP (and UDP) port free on 127.0.0.1
bench_free_port() {
	perl "$SRCDIR/t/lib/freeport"
}

# bench_wait_sock - wait until SPEC (inet:PORT@HOST or unix:/path)
#	accepts connections, while PID lives; 1 after 10 s
bench_wait_sock() {
	local spec=$1 pid=$2 i port path
	for i in $(seq 100); do
		case $spec in
		inet:*)
			port=${spec#inet:}
			port=${port%@*}
			(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null &&
			    return 0
			;;
		unix:*)
			path=${spec#unix:}
			[ -S "$path" ] && /usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])' "$path" 2>/dev/null && return 0
			;;
		esac
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# bench_spawn LOG COMMAND... - start a daemon in the foreground in the
#	background; sets BENCH_PID
bench_spawn() {
	local log=$1
	shift
	"$@" >"$log" 2>&1 </dev/null &
	BENCH_PID=$!
	BENCH_PIDS="$BENCH_PIDS $BENCH_PID"
}

# bench_stop PID - stop one daemon we started, wait for it
bench_stop() {
	local p=$1 i
	kill -TERM "$p" 2>/dev/null
	for i in $(seq 50); do
		kill -0 "$p" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	BENCH_PIDS=$(echo " $BENCH_PIDS " | sed "s/ $p / /")
}

# bench_stop_all - stop every daemon still running (trap)
bench_stop_all() {
	local p
	for p in $BENCH_PIDS; do
		bench_stop "$p"
	done
}

# bench_hwm PID - peak resident set (VmHWM) in kB
bench_hwm() {
	awk '/^VmHWM:/ { print $2 }' "/proc/$1/status" 2>/dev/null
}

# bench_rss PID - resident set (VmRSS) in kB
bench_rss() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null
}

# bench_hwm_reset PID - restart the VmHWM peak from the current RSS
#	(clear_refs 5); 1 when the kernel does not allow it
bench_hwm_reset() {
	echo 5 2>/dev/null >"/proc/$1/clear_refs"
}

# bench_cpu_ticks PID - user plus system CPU time of the whole process,
#	in clock ticks (fields 14 and 15 of /proc/PID/stat; the command
#	name in parentheses may hold spaces, so count after the last ")")
bench_cpu_ticks() {
	sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}

# bench_run OUT PID MESSAGE CONC COUNT SPEC [milterclient options] - one
#	measured run; prints "rate p50 p99 peak_kb errors cpu_ms" on OUT.  The
#	peak is VmHWM after the run, reset before it (or, if the reset is
#	refused, the highest VmRSS sampled every 50 ms).
bench_run() {
	local out=$1 pid=$2 msg=$3 conc=$4 count=$5 spec=$6 sampler= peak t0 t1
	shift 6
	if ! bench_hwm_reset "$pid"; then
		(
			m=0
			while kill -0 "$pid" 2>/dev/null; do
				r=$(bench_rss "$pid")
				[ "${r:-0}" -gt "$m" ] && m=$r && echo "$m" >"$out.peak"
				sleep 0.05
			done
		) &
		sampler=$!
	fi
	t0=$(bench_cpu_ticks "$pid")
	timeout "$BENCH_CELL_TIMEOUT" "$MC" -T 30 -N -t -c "$conc" -n "$count" \
	    -s "$spec" "$@" <"$msg" >"$out.mc" 2>&1
	t1=$(bench_cpu_ticks "$pid")
	if [ -n "$sampler" ]; then
		kill "$sampler" 2>/dev/null
		wait "$sampler" 2>/dev/null
		peak=$(cat "$out.peak" 2>/dev/null)
	else
		peak=$(bench_hwm "$pid")
	fi
	awk -v peak="${peak:-0}" -v ticks=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" \
	    -v n="$count" '
		/^TIMING/ {
			for (i = 2; i <= NF; i++) {
				split($i, kv, "=")
				v[kv[1]] = kv[2]
			}
			sub(/\/s$/, "", v["rate"])
			sub(/ms$/, "", v["p50"])
			sub(/ms$/, "", v["p99"])
			print v["rate"], v["p50"], v["p99"], peak, v["errors"],
			    sprintf("%.3f", ticks * 1000 / hz / n)
			found = 1
		}
		END { if (!found) print "n/a n/a n/a", peak, "failed", "n/a" }
	' "$out.mc" >"$out"
}

# bench_record TEST SOCKET SIZE CONC IMPL RUNFILE - add a result line
bench_record() {
	local rate p50 p99 peak err cpu
	read -r rate p50 p99 peak err cpu <"$6"
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" \
	    "$3" "$4" "$5" "$rate" "$p50" "$p99" "$peak" "$err" "$cpu" \
	    >>"$RESULTS"
}

# bench_na TEST SOCKET SIZE CONC IMPL WHY - record a cell not run
bench_na() {
	printf '%s\t%s\t%s\t%s\t%s\tn/a\tn/a\tn/a\t0\t%s\tn/a\n' "$1" "$2" \
	    "$3" "$4" "$5" "$6" >>"$RESULTS"
}

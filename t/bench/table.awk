# table.awk - the benchmark table from t/bench/lib.sh result lines
#
# Usage: awk -F '\t' -f t/bench/table.awk results.tsv
#
# Pairs the "ours" and "theirs" lines of each cell (test, socket, size,
# concurrency) and prints one row per cell, in the order the cells first
# appear: messages per second of each, their ratio (ours / theirs),
# latency p50/p99 in ms of each, peak RSS in MB of each, and the CPU
# time each daemon spent per message (ms, to the clock tick per cell).  A cell
# with errors gets a note after the row.

function mb(kb) { return kb > 0 ? sprintf("%.1f", kb / 1024) : "-" }
function lat(p50, p99) {
	return p50 == "n/a" || p50 == "" ? "n/a" : sprintf("%.2f/%.2f", p50, p99)
}
function ms(c) { return c == "n/a" || c == "" ? "-" : sprintf("%.2f", c) }
function rate(r) { return r == "n/a" || r == "" ? "n/a" : sprintf("%.0f", r) }

{
	key = $1 SUBSEP $2 SUBSEP $3 SUBSEP $4
	if (!(key in seen)) {
		seen[key] = 1
		order[++n] = key
	}
	r[key, $5] = $6
	p50[key, $5] = $7
	p99[key, $5] = $8
	rss[key, $5] = $9
	err[key, $5] = $10
	cpu[key, $5] = $11
}

END {
	fmt = "%-16s %-6s %-5s %4s %7s %8s %6s %13s %13s %11s %11s\n"
	printf fmt, "test", "socket", "size", "conc", "ours/s", "theirs/s",
	    "ratio", "ours p50/p99", "their p50/p99", "RSS MB o/t",
	    "CPU ms o/t"
	for (i = 1; i <= n; i++) {
		k = order[i]
		split(k, f, SUBSEP)
		ro = r[k, "ours"]
		rt = r[k, "theirs"]
		ratio = (ro != "n/a" && rt != "n/a" && ro != "" && rt != "" &&
		    rt > 0) ? sprintf("%.1f", ro / rt) : "n/a"
		printf fmt, f[1], f[2], f[3], f[4], rate(ro), rate(rt), ratio,
		    lat(p50[k, "ours"], p99[k, "ours"]),
		    lat(p50[k, "theirs"], p99[k, "theirs"]),
		    mb(rss[k, "ours"]) "/" mb(rss[k, "theirs"]),
		    ms(cpu[k, "ours"]) "/" ms(cpu[k, "theirs"])
		for (w = 1; w <= 2; w++) {
			who = w == 1 ? "ours" : "theirs"
			e = err[k, who]
			if (e != "" && e != "0")
				printf "    note: %s: %s\n", who, e
		}
	}
}

#!/bin/sh
# coverage.sh - which code the fuzz seed corpora reach, and which they miss
#
# Usage: sh t/fuzz/coverage.sh OUTDIR HARNESS...
#
# Each HARNESS is a replay binary built with clang's source-based
# coverage (make fuzz-coverage builds them).  Every harness is run over
# its seeds (t/fuzz/NAME/) and, when a fuzzing run left one, the corpus
# it grew (build/fuzz/corpus-NAME/); the profiles are merged and the
# report lists line and function coverage per file of common/, then
# names every function of common/ that no input reached.
set -eu
out=$1
shift
mkdir -p "$out"
rm -f "$out"/*.profraw
objs=""
for h in "$@"; do
	n=${h##*/fuzz_}
	dirs="t/fuzz/$n"
	[ -d "build/fuzz/corpus-$n" ] && dirs="$dirs build/fuzz/corpus-$n"
	# shellcheck disable=SC2086
	LLVM_PROFILE_FILE="$out/$n.profraw" "$h" $dirs > /dev/null
	objs="$objs -object $h"
done
llvm-profdata-14 merge -sparse -o "$out/all.profdata" "$out"/*.profraw
first=$1
# shellcheck disable=SC2086
llvm-cov-14 report -instr-profile "$out/all.profdata" $objs \
    -ignore-filename-regex='t/' | tee "$out/report.txt"
# shellcheck disable=SC2086
llvm-cov-14 export -summary-only=false -instr-profile "$out/all.profdata" \
    $objs > "$out/export.json"
python3 - "$out/export.json" <<'PY' | tee "$out/unreached.txt"
import json, sys
seen = {}
for d in json.load(open(sys.argv[1]))["data"]:
    for f in d["functions"]:
        files = [x for x in f["filenames"] if "/common/" in x or x.startswith("common/")]
        if not files:
            continue
        key = (files[0].split("common/", 1)[1], f["name"].split(":")[-1])
        seen[key] = seen.get(key, 0) + f["count"]
files = {}
for (path, name), c in seen.items():
    files.setdefault(path, []).append((name, c))
cold = sorted(p for p, fs in files.items() if all(c == 0 for _, c in fs))
print("files of common/ that no harness enters (%d):" % len(cold))
for p in cold:
    print("  " + p)
print("functions no seed reaches, in the files the harnesses enter:")
for p in sorted(set(files) - set(cold)):
    for name, c in sorted(files[p]):
        if c == 0:
            print("  %s: %s" % (p, name))
PY

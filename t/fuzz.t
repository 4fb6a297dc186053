#!/bin/sh
# fuzz.t - replay every fuzz harness over its seed corpus (t/fuzz/NAME/),
# so that an input that once crashed a parser stays in the test suite.
cd "$(dirname "$0")/.." || exit 1
: "${BUILD:=build/plain}"
n=0
fail=0
for h in "$BUILD"/t/fuzz/fuzz_*; do
	case "$h" in *.o|*.d) continue ;; esac
	[ -x "$h" ] || continue
	name=${h##*/fuzz_}
	n=$((n + 1))
	if [ ! -d "t/fuzz/$name" ]; then
		echo "not ok $n - $name: no seed corpus t/fuzz/$name/"
		fail=1
		continue
	fi
	count=$(ls "t/fuzz/$name" | wc -l)
	if out=$("$h" "t/fuzz/$name" 2>&1); then
		echo "ok $n - $name: $count seeds replayed"
	else
		echo "not ok $n - $name: replay failed"
		printf '%s\n' "$out" | tail -20 | sed 's/^/# /'
		fail=1
	fi
done
if [ "$n" -eq 0 ]; then
	echo "not ok 1 - no fuzz harness was built in $BUILD"
	n=1
fi
echo "1..$n"
exit $fail

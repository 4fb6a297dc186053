# tap.sh - TAP helpers for test scripts (sourced, bash)
#
#	ok STATUS NAME		one test point; STATUS 0 passes.  A NAME
#				containing "# TODO" does not fail the script
#	has FILE REGEX NAME	FILE has a line matching REGEX (grep -E)
#	hasnt FILE REGEX NAME	FILE has no such line
# The caller sets T=0 and FAILED=0, prints "1..$T" at the end and exits
# with $FAILED.  A failing has/hasnt shows the first lines of FILE.

ok() {	# ok STATUS NAME
	T=$((T + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $T - $2"
	else
		echo "not ok $T - $2"
		case $2 in *"# TODO"*) ;; *) FAILED=1 ;; esac
	fi
}
has() {	# has FILE REGEX NAME
	grep -Eq -- "$2" "$1"
	local r=$?
	ok $r "$3"
	[ $r -eq 0 ] || { echo "# $1:"; sed 's/^/#   /' "$1" | head -20; }
}
hasnt() {	# hasnt FILE REGEX NAME
	! grep -Eq -- "$2" "$1"
	local r=$?
	ok $r "$3"
	[ $r -eq 0 ] || { echo "# $1:"; sed 's/^/#   /' "$1" | head -20; }
}

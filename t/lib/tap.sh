# tap.sh - TAP helpers for test scripts (sourced by sh or bash)
#
#	ok STATUS NAME		one test point; STATUS 0 passes.  A NAME
#				containing "# TODO" does not fail the script.
#				Returns STATUS's verdict (0 or 1)
#	skip NAME WHY		a skipped point
#	is GOT WANT NAME	GOT equals WANT
#	like GOT REGEX NAME	GOT has a line matching REGEX (grep -E)
#	unlike GOT REGEX NAME	GOT has no such line
#	has FILE REGEX NAME	FILE has a line matching REGEX
#	hasnt FILE REGEX NAME	FILE has no such line
#	wait_line FILE REGEX [SECONDS]
#				wait until FILE has a line matching REGEX
#				(a log line, a file a helper writes), at most
#				SECONDS (10); no test point, 1 on time-out
# The caller sets T=0 and FAILED=0, prints "1..$T" at the end and exits
# with $FAILED.  A failing check shows what it got as TAP comments.

ok() {	# ok STATUS NAME
	T=$((T + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $T - $2"
		return 0
	fi
	echo "not ok $T - $2"
	case $2 in *"# TODO"*) ;; *) FAILED=1 ;; esac
	return 1
}
skip() {	# skip NAME WHY
	T=$((T + 1))
	echo "ok $T - $1 # SKIP $2"
}
is() {	# is GOT WANT NAME
	[ "$1" = "$2" ]
	ok $? "$3" && return 0
	printf '%s\n' "got:" "$1" "want:" "$2" | sed 's/^/#   /'
	return 1
}
like() {	# like GOT REGEX NAME
	printf '%s\n' "$1" | grep -Eq -- "$2"
	ok $? "$3" && return 0
	printf '%s\n' "got:" "$1" "want: /$2/" | sed 's/^/#   /'
	return 1
}
unlike() {	# unlike GOT REGEX NAME
	! printf '%s\n' "$1" | grep -Eq -- "$2"
	ok $? "$3" && return 0
	printf '%s\n' "got:" "$1" "unwanted: /$2/" | sed 's/^/#   /'
	return 1
}
has() {	# has FILE REGEX NAME
	grep -Eq -- "$2" "$1"
	ok $? "$3" && return 0
	echo "# $1:"
	sed 's/^/#   /' "$1" | head -20
	return 1
}
hasnt() {	# hasnt FILE REGEX NAME
	! grep -Eq -- "$2" "$1"
	ok $? "$3" && return 0
	echo "# $1:"
	sed 's/^/#   /' "$1" | head -20
	return 1
}
wait_line() {	# wait_line FILE REGEX [SECONDS]
	_wl=$(( ${3:-10} * 20 ))
	while [ "$_wl" -gt 0 ]; do
		grep -Eq -- "$2" "$1" 2> /dev/null && return 0
		sleep 0.05
		_wl=$((_wl - 1))
	done
	return 1
}

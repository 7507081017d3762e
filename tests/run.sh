#!/bin/sh
# Runs each test program given as an argument, each under a timeout, and
# prints one line per test and the summary "N passed, N failed, N skipped".
#
# A test that leaves a segment behind fails, even if it passed otherwise:
# the runner compares the kernel's segments before and after, names the
# leaked ones and removes them so that later tests start clean.
#
# Environment: SHMKIT (the command under test), VALGRIND=1 (run every test
# and the commands it starts under valgrind), TEST_TIMEOUT (seconds).

passed=0 failed=0 skipped=0
timeout=${TEST_TIMEOUT:-180}
wrap=
if [ "$VALGRIND" = 1 ]; then
	command -v valgrind >/dev/null || { echo "run.sh: VALGRIND=1 but no valgrind" >&2; exit 2; }
	timeout=${TEST_TIMEOUT:-900}
	wrap="valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect --vgdb=no --trace-children=yes --trace-children-skip=/usr/*,/bin/*,/sbin/*"
fi
export SHMKIT=${SHMKIT:-build/shmkit}

segments() {
	awk 'NR > 1 { print $2 }' /proc/sysvipc/shm | sort
}

log=$(mktemp) before=$(mktemp) after=$(mktemp)
trap 'rm -f "$log" "$before" "$after"' EXIT

for t in "$@"; do
	name=${t##*/}
	segments >"$before"
	timeout -s TERM -k 10 "$timeout" $wrap "$t" >"$log" 2>&1
	rc=$?
	segments >"$after"
	leaked=$(comm -13 "$before" "$after")
	if [ -n "$leaked" ]; then
		for id in $leaked; do ipcrm -m "$id" 2>/dev/null; done
		echo "FAIL $name: left segment(s) behind: $(echo $leaked)"
		cat "$log" | sed 's/^/    /'
		failed=$((failed + 1))
		continue
	fi
	case $rc in
	0)	echo "PASS $name"; passed=$((passed + 1)) ;;
	77)	echo "SKIP $name: $(grep '^skip:' "$log" | head -1 | sed 's/^skip: //')"
		skipped=$((skipped + 1)) ;;
	124|137) echo "FAIL $name: timed out after ${timeout}s"
		sed 's/^/    /' "$log"; failed=$((failed + 1)) ;;
	*)	echo "FAIL $name (exit $rc)"
		sed 's/^/    /' "$log"; failed=$((failed + 1)) ;;
	esac
done

case ${SHMKIT_TEST_SCALE:-1} in
1|1.0) ;;
*) echo "(long streams ran scaled by SHMKIT_TEST_SCALE=$SHMKIT_TEST_SCALE)" ;;
esac
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]

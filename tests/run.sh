#!/bin/sh
# Runs each test program given as an argument, each under a timeout, and
# prints one line per test and the summary "N passed, N failed, N skipped".
#
# A test that leaves a segment behind fails, even if it passed otherwise.
# Where we may (root), each test runs in an IPC namespace of its own: it
# starts with no segments, so whatever is left at its end is exactly what
# it leaked, and the kernel frees it with the namespace; nothing can touch
# the host's segments or another run's. Elsewhere the runner compares the
# host's segments before and after, and reports what appeared.
#
# Environment: SHMKIT (the command under test), VALGRIND=1 (run every test
# and the commands it starts under valgrind), EMU (a cross build's
# emulator, e.g. "qemu-aarch64 -L /usr/aarch64-linux-gnu": every test runs
# under it; the Makefile points SHMKIT at scripts that run the command and
# the examples under it too), TEST_TIMEOUT (seconds), SHMKIT_TEST_SCALE
# (read by the tests with long streams).

passed=0 failed=0 skipped=0
timeout=${TEST_TIMEOUT:-180}
wrap=
supp=
if [ "$VALGRIND" = 1 ]; then
	command -v valgrind >/dev/null || { echo "run.sh: VALGRIND=1 but no valgrind" >&2; exit 2; }
	timeout=${TEST_TIMEOUT:-900}
	# leaks in libraries we use, not ours: see the file. A copy anyone
	# can read: tests run commands as uid 65534, valgrind follows them
	# there and must read it as that user, and the tree may sit in a
	# directory only root may enter (a checkout under mktemp -d did)
	supp=$(mktemp /tmp/shmkit-valgrind.XXXXXX) &&
		cp "$(dirname "$0")/valgrind.supp" "$supp" && chmod 644 "$supp" ||
		{ echo "run.sh: cannot copy valgrind.supp to /tmp" >&2; exit 2; }
	trap 'rm -f "$supp"' EXIT
	wrap="valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect --vgdb=no --suppressions=$supp --trace-children=yes --trace-children-skip=/usr/*,/bin/*,/sbin/*"
fi
if [ -n "$EMU" ]; then
	[ -z "$wrap" ] || { echo "run.sh: VALGRIND=1 and EMU do not go together" >&2; exit 2; }
	command -v ${EMU%% *} >/dev/null || { echo "run.sh: EMU=$EMU, but no ${EMU%% *}" >&2; exit 2; }
	wrap=$EMU
fi
export SHMKIT=${SHMKIT:-build/shmkit}

isolate=
if unshare --ipc true 2>/dev/null; then
	isolate="unshare --ipc"
else
	echo "(not allowed to make IPC namespaces: tests share the host's segments)"
fi

segments() {
	awk 'NR > 1 { print $2 }' /proc/sysvipc/shm | sort
}

log=$(mktemp) before=$(mktemp) after=$(mktemp)
# Per-user note directories (src/look.h) that are empty at the end: a
# directory, never a link, is all rmdir removes.
trap 'rm -f "$log" "$before" "$after" $supp; rmdir /dev/shm/shmkit-looks-* 2>/dev/null' EXIT

for t in "$@"; do
	name=${t##*/}
	leaked=
	if [ -n "$isolate" ]; then
		timeout -s TERM -k 10 "$timeout" $isolate "$(dirname "$0")/in_ns.sh" $wrap "$t" >"$log" 2>&1
		rc=$?
		leaked=$(sed -n 's/^leaked: *//p' "$log")
	else
		segments >"$before"
		timeout -s TERM -k 10 "$timeout" $wrap "$t" >"$log" 2>&1
		rc=$?
		segments >"$after"
		leaked=$(comm -13 "$before" "$after" | tr '\n' ' ')
	fi
	if [ -n "$leaked" ]; then
		echo "FAIL $name: left segment(s) behind: $leaked"
		sed 's/^/    /' "$log"
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

[ -n "$EMU" ] && echo "(each test ran under $EMU)"
case ${SHMKIT_TEST_SCALE:-1} in
1|1.0) ;;
*) echo "(long streams ran scaled by SHMKIT_TEST_SCALE=$SHMKIT_TEST_SCALE)" ;;
esac
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]

#!/bin/sh
# Builds the fuzz targets with clang and libFuzzer into build/fuzz/, then
# runs each for a bounded time on the committed seed corpus (read only:
# new inputs go to a temporary directory), and prints its execution count.
# Exits non-zero on any crash, leak, timeout or leftover segment; what the
# fuzzer saved for a failure is kept in build/fuzz/artifacts/.
#
#   fuzz/run.sh [TARGET...]      targets: chan topic inbox parse (default: all four)
#
# Environment:
#   FUZZ_SECONDS   seconds per target (default 60)
#   FUZZ_MERGE=1   afterwards, merge what was found and adds coverage into
#                  fuzz/corpus/TARGET (minimised with -merge=1); otherwise
#                  the committed corpus is never written to
#   FUZZ_KEEP=DIR  keep the inputs found in DIR/TARGET (default: a
#                  temporary directory, removed at the end)
#   FUZZ_ARGS      more libFuzzer options, e.g. -seed=1
#   CLANG          the compiler (default clang)
#
# Needs clang's libFuzzer runtime (Debian: clang, or libclang-rt-14-dev).
# Where we may (root), each target runs in an IPC namespace of its own
# (like tests/run.sh), so it never meets the host's segments and leaves
# none behind whatever happens; elsewhere the segments before and after
# are compared, and the target's own cleanup (atexit, and a reaper child
# for a crash or kill) removes its channel or topic.
set -eu
cd "$(dirname "$0")/.."

CLANG=${CLANG:-clang}
SECONDS_PER=${FUZZ_SECONDS:-60}
OUT=build/fuzz
TARGETS=${*:-chan topic inbox parse}
FLAGS="-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
	-g -O1 -std=c11 -D_DEFAULT_SOURCE -Wall -Wextra -Werror -Wshadow -Iinclude -Isrc -Icommon"

mkdir -p "$OUT/artifacts"
for t in $TARGETS; do
	case $t in
	chan|topic|inbox) extra= ;;
	parse) extra="cli/util.c cli/text.c cli/fmt.c" ;;
	*) echo "fuzz/run.sh: unknown target '$t' (chan, topic, inbox, parse)" >&2; exit 2 ;;
	esac
	echo "  CC     $OUT/${t}_fuzz"
	# shellcheck disable=SC2086
	$CLANG $FLAGS -o "$OUT/${t}_fuzz" "fuzz/${t}_fuzz.c" src/*.c $extra || {
		echo "fuzz/run.sh: cannot build $t (libFuzzer's runtime: Debian's libclang-rt-dev)" >&2
		exit 2
	}
done

isolate=
if unshare --ipc true 2>/dev/null; then
	isolate="unshare --ipc"
fi

segments() {
	awk 'NR > 1 { print $2 }' /proc/sysvipc/shm | sort
}

# Runs a command in an IPC namespace of its own, where we may
# (tests/in_ns.sh reports leaks and drops its look notes).
in_ns() {
	if [ -n "$isolate" ]; then
		$isolate "$(dirname "$0")/../tests/in_ns.sh" "$@"
	else
		"$@"
	fi
}

work=$(mktemp -d)
trap 'rm -rf "$work"; rmdir /dev/shm/shmkit-looks-* 2>/dev/null || true' EXIT

status=0
for t in $TARGETS; do
	case $t in
	chan) opts="-max_len=4400" ;;
	topic) opts="-max_len=1536" ;;
	inbox) opts="-max_len=2048" ;;
	parse) opts="-max_len=512 -close_fd_mask=2" ;;
	esac
	seeds=fuzz/corpus/$t
	[ -d "$seeds" ] && [ -n "$(ls "$seeds")" ] || { echo "fuzz/run.sh: no seeds in $seeds" >&2; exit 2; }
	found=${FUZZ_KEEP:+$FUZZ_KEEP/$t}
	found=${found:-$work/$t}
	mkdir -p "$found"
	log=${FUZZ_KEEP:+$FUZZ_KEEP/$t.log}
	log=${log:-$work/$t.log}
	echo "fuzzing $t for ${SECONDS_PER}s (seeds: $(ls "$seeds" | wc -l) in $seeds)"
	segments >"$work/before"
	set +e
	# shellcheck disable=SC2086
	in_ns nice -n 10 "$OUT/${t}_fuzz" "$found" "$seeds" \
		-max_total_time="$SECONDS_PER" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$OUT/artifacts/$t-" \
		$opts ${FUZZ_ARGS:-} >"$log" 2>&1
	rc=$?
	set -e
	segments >"$work/after"
	leaked=$(sed -n 's/^leaked: *//p' "$log")
	[ -z "$isolate" ] && leaked=$(comm -13 "$work/before" "$work/after" | tr '\n' ' ')
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	cov=$(grep -E '^#[0-9]+.*(cov|ft):' "$log" | tail -1 | sed -n 's/.*\(cov: [0-9]*\).*\(ft: [0-9]*\).*/\1 \2/p')
	echo "$t: ${execs:-?} executions, ${rate:-?} exec/s, ${cov:-no coverage line}, exit $rc"
	if [ "$rc" -ne 0 ]; then
		echo "FAIL $t: the fuzzer found a problem (exit $rc); the log's end:"
		tail -n 60 "$log" | sed 's/^/    /'
		find "$OUT/artifacts" -name "$t-*" -newer "$work/before" | sed 's/^/    saved: /'
		status=1
	fi
	if [ -n "$leaked" ]; then
		echo "FAIL $t: left segment(s) behind: $leaked"
		status=1
	fi
	if [ "${FUZZ_MERGE:-0}" = 1 ] && [ "$rc" -eq 0 ]; then
		n0=$(ls "$seeds" | wc -l)
		in_ns "$OUT/${t}_fuzz" -merge=1 $opts "$seeds" "$found" \
			>"$work/$t.merge" 2>&1 || { echo "merge failed:"; tail "$work/$t.merge"; status=1; }
		echo "$t: merged, $n0 -> $(ls "$seeds" | wc -l) corpus files"
	fi
done
exit $status

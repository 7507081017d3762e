#!/bin/sh
# Checks model/chan.pml, the channel ring protocol of src/chan.c, with spin:
# every configuration is an exhaustive search (no bitstate, no hash
# compaction), memory-bounded. Each mutant is the model with one safeguard
# of the C code removed, and must be caught: a mutant that passes means
# the model has gone blind to it.
#
#   model/check.sh           the standard set (about half a minute, 2 cores)
#   model/check.sh --full    adds larger and slower runs (minutes)
#
# Environment: MODEL_JOBS (parallel runs, default 2), MODEL_MEM_MB (memory
# bound per run, default 1024). Needs spin and a C compiler (CC, default
# gcc). Works in a temporary directory, removed afterwards unless a run
# failed: then it is kept, with the trails, and the command to replay one
# is printed.
#
# Exit status: 0 if every configuration behaved as expected, 1 if not,
# 2 if the tools are missing.
set -u

here=$(cd "$(dirname "$0")" && pwd)
JOBS=${MODEL_JOBS:-2}
MEM=${MODEL_MEM_MB:-1024}
CC=${CC:-gcc}

# name | expected outcome | spin -D options | what it checks
# outcomes: pass; deadlock (an invalid end state: a side blocked forever,
# here always in futex_wait); assert (an assertion violated)
table() {
	cat <<'EOF'
crash-producer|pass|-DTSO -DN=2 -DCRASH_P|producer killed at any step, restarted; safety + no lost wake-up
crash-consumer|pass|-DTSO -DN=2 -DCRASH_C|consumer killed at any step, restarted; safety + no lost wake-up
nocrash-eos|pass|-DTSO -DN=4 -DLIVE|no crash; LTL <> eos: end of stream always reached
nocrash|pass|-DTSO -DN=4|no crash; safety + no lost wake-up
mutant-no-wake-mb|deadlock|-DTSO -DN=4 -DNO_WAKE_MB|wake_peer without its full barrier (S2)
mutant-no-sleep-mb|deadlock|-DTSO -DN=4 -DNO_SLEEP_MB|sleep_once without its full barrier (S1)
mutant-seq-late|deadlock|-DTSO -DN=4 -DSEQ_LATE|sleep_once reads wake_seq after its re-check
mutant-close-no-wake|deadlock|-DTSO -DN=4 -DCLOSE_NO_WAKE|close without waking the other side
mutant-no-end-word|assert|-DTSO -DN=4 -DNO_END_WORD|commit without the empty word past the record
mutant-tail-first|assert|-DTSO -DN=4 -DTAIL_FIRST|commit stores the tail before the header
mutant-release-early|assert|-DTSO -DN=4 -DRELEASE_EARLY|consumer releases before reading the payload
mutant-no-walk|assert|-DTSO -DN=2 -DCRASH_P -DNO_WALK|restarted producer trusts the stored tail (no committed_end)
mutant-open-strict|assert|-DTSO -DN=2 -DCRASH_C -DOPEN_STRICT|consumer open refuses a tail behind the head (finding 1)
mutant-open-no-kick-p|deadlock|-DTSO -DN=2 -DCRASH_P -DOPEN_NO_KICK|open does not wake the other side (finding 2), producer killed
mutant-open-no-kick-c|deadlock|-DTSO -DN=2 -DCRASH_C -DOPEN_NO_KICK|the same, consumer killed
EOF
	if [ "$FULL" = 1 ]; then
		cat <<'EOF'
full-crash-producer-n3|pass|-DTSO -DN=3 -DCRASH_P|producer crash, three messages
full-crash-consumer-n3|pass|-DTSO -DN=3 -DCRASH_C|consumer crash, three messages
full-crash-producer-twice|pass|-DTSO -DN=2 -DCRASH_P -DMAXCRASH=2|producer killed twice
full-crash-producer-eos|pass|-DTSO -DN=2 -DCRASH_P -DLIVE -DFAIR|producer crash; <> eos under weak fairness
full-crash-consumer-eos|pass|-DTSO -DN=2 -DCRASH_C -DLIVE -DFAIR|consumer crash; <> eos under weak fairness
full-lax-no-kick|pass|-DTSO -DN=2 -DCRASH_P -DOPEN_NO_KICK -DLAX_SLICE|without the kick, only the 20 ms slice saves the sleeper
EOF
	fi
}

# One configuration, in its own directory: spin -a, compile pan, run it,
# and write a one-line result (outcome|states|seconds|detail).
run_one() {
	name=$1 tmp=$2
	line=$(table | grep "^$name|")
	defs=$(echo "$line" | cut -d'|' -f3)
	d=$tmp/$name
	mkdir -p "$d" && cp "$here/chan.pml" "$d/" || exit 1
	cd "$d" || exit 1
	start=$(date +%s.%N)
	cflags="-DMEMLIM=$MEM -DCOLLAPSE"
	pflags="-m100000 -w22"
	case " $defs " in
	*" -DLIVE "*)
		pflags="$pflags -a -N eos" ;;
	*)
		# safety: assertions and invalid end states, no never claim
		cflags="$cflags -DSAFETY -DNOCLAIM" ;;
	esac
	case " $defs " in
	*" -DFAIR "*) cflags="$cflags -DNFAIR=3"; pflags="$pflags -f" ;;
	esac
	# compiling pan with optimisation costs more than it saves, except
	# for the long runs of --full
	case "$name" in
	full-*) opt=${MODEL_OPT:--O2} ;;
	*) opt=${MODEL_OPT:--O0} ;;
	esac
	if ! spin -a $defs chan.pml >spin.out 2>&1; then
		echo "error|0|0|spin -a failed: $(tail -1 spin.out)" >result
		return
	fi
	if ! $CC $opt -w $cflags -o pan pan.c >cc.out 2>&1; then
		echo "error|0|0|compiling pan failed: $(tail -1 cc.out)" >result
		return
	fi
	./pan $pflags >pan.out 2>&1
	secs=$(echo "$start $(date +%s.%N)" | awk '{ printf "%.1f", $2 - $1 }')
	states=$(awk '/states, stored/ { print $1; exit }' pan.out)
	errors=$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' pan.out | head -1)
	if grep -q "max search depth too small\|out of memory\|ran out of memory\|MEMLIM" pan.out ||
	   [ -z "$errors" ]; then
		outcome=incomplete
		detail=$(grep -m1 "error\|memory" pan.out)
	elif [ "$errors" = 0 ]; then
		outcome=pass
		detail=
	else
		detail=$(grep -m1 "^pan:1:" pan.out)
		case "$detail" in
		*"invalid end state"*) outcome=deadlock ;;
		*"assertion violated"*) outcome=assert ;;
		*"acceptance cycle"*) outcome=cycle ;;
		*) outcome=error ;;
		esac
	fi
	echo "$outcome|${states:-?}|$secs|$detail" >result
	rm -f pan pan.c pan.h pan.m pan.b pan.t pan.p _spin_nvr.tmp
}

FULL=${FULL:-0}
case "${1:-}" in
--one) run_one "$2" "$3"; exit 0 ;;
--full) FULL=1 ;;
"") ;;
*) echo "usage: $0 [--full]" >&2; exit 2 ;;
esac

for tool in spin "$CC"; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "check.sh: $tool not found (Debian: apt-get install spin gcc)" >&2
		exit 2
	fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/shmkit-model.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' INT TERM
t0=$(date +%s.%N)
export FULL
table | cut -d'|' -f1 | xargs -P "$JOBS" -I{} sh "$here/check.sh" --one {} "$tmp"

status=0
echo "spin model of src/chan.c: $(spin -V | head -1)"
table | while IFS='|' read -r name expect defs what; do
	outcome=error states=? secs=? detail="no result"
	[ -r "$tmp/$name/result" ] &&
		IFS='|' read -r outcome states secs detail <"$tmp/$name/result"
	if [ "$outcome" = "$expect" ]; then
		verdict=ok
	else
		verdict=FAIL
	fi
	case "$expect" in
	pass) want="passes" ;;
	*) want="caught ($expect)" ;;
	esac
	printf '%-4s %-26s %-16s %10s states %6ss  %s\n' "$verdict" "$name" \
		"$outcome" "$states" "$secs" "$what"
	if [ "$verdict" = FAIL ]; then
		echo "     expected: $want; got: ${detail:-$outcome}"
		echo "     replay: cd $tmp/$name && spin -t -p $defs chan.pml"
	fi
	[ "$verdict" = ok ] || echo fail >>"$tmp/failed"
done
if [ -e "$tmp/failed" ]; then
	status=1
	echo "check.sh: $(wc -l <"$tmp/failed") configuration(s) did not behave as expected; kept $tmp"
else
	rm -rf "$tmp"
fi
echo "total $(echo "$t0 $(date +%s.%N)" | awk '{ printf "%.1f", $2 - $1 }')s"
exit $status

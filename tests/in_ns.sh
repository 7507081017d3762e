#!/bin/sh
# Runs "$@" inside the private IPC namespace it was started in (by
# tests/run.sh and fuzz/run.sh, under 'unshare --ipc'), then says what the
# command left: "leaked: SHMID..." for each segment still there, and drops
# the notes its looks left for this namespace in every user's directory
# (see src/look.h). Only real directories are entered: a link there is
# someone's bait, and rm must not reach through it. Exits with the
# command's status.
"$@"
rc=$?
left=$(awk 'NR > 1 { printf " %s", $2 }' /proc/sysvipc/shm)
[ -n "$left" ] && echo "leaked:$left"
ns=ipc-$(stat -L -c %i /proc/self/ns/ipc)
for d in /dev/shm/shmkit-looks-*; do
	[ -d "$d" ] && [ ! -L "$d" ] && rm -rf "${d:?}/$ns"
done
exit $rc

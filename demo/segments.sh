#!/bin/sh
# make demo: shmkit doing its job on this machine, in a few seconds.
# Creates a named segment, has one process write into it and another read
# it, shows what ipcs shows and what shmkit adds, then cleans up.
set -u
B=${1:-build}
SHMKIT=$B/shmkit
NOTE=$B/examples/note
NAME=demo-$$

if [ -t 1 ]; then bold=$(printf '\033[1m') plain=$(printf '\033[0m'); else bold= plain=; fi
step() { printf '\n%s$ %s%s\n' "$bold" "$*" "$plain"; }
cleanup() { $SHMKIT rm --force -n "$NAME" >/dev/null 2>&1; }
trap cleanup EXIT INT TERM

step "shmkit mk -n $NAME -s 64K     # create a named segment, print its shmid"
$SHMKIT mk -n "$NAME" -s 64K || exit 1

step "note $NAME write 'hello through shared memory' 3 &   # attach, write, stay 3 s"
$NOTE "$NAME" write "hello through shared memory" 3 &
writer=$!
sleep 0.5

step "note $NAME read                 # another process attaches and reads"
$NOTE "$NAME" read || exit 1

step "ipcs -m                         # what the kernel's tool shows"
ipcs -m

step "shmkit ls                       # shmkit adds names, attached pids, states"
$SHMKIT ls

step "shmkit stat -n $NAME"
$SHMKIT stat -n "$NAME"

wait "$writer"
step "shmkit rm -n $NAME              # the writer has detached: remove it"
$SHMKIT rm -n "$NAME" && echo "removed"
trap - EXIT
step "shmkit stat -n $NAME            # gone: a clear one-line error, exit 1"
$SHMKIT stat -n "$NAME" 2>&1
echo
echo "demo done: nothing left behind."

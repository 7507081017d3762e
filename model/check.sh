#!/bin/sh
# Checks model/chan.pml, the channel ring protocol of src/chan.c,
# model/owner.pml, a side changing hands (configurations named owner-*),
# model/topic.pml, the topic protocol of src/topic.h (topic-*),
# model/waitset.pml, a wait set's sleep and wake-up (ws-*), and
# model/inbox.pml, an inbox's shared sleep block and lanes_used
# (inbox-*), with spin; readahead-* are chan.pml with the consumer's
# read-ahead (-DAHEAD):
# every configuration is an exhaustive search (no bitstate, no hash
# compaction), memory-bounded. Each mutant is the model with one safeguard
# of the C code removed, and must be caught: a mutant that passes means
# the model has gone blind to it.
#
#   model/check.sh           the standard set (under a minute, 2 cores)
#   model/check.sh --full    adds larger and slower runs, and the weak
#                            model's annotations shown unneeded (long)
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
small|pass|-DTSO -DSMALL -DN=5|8-word ring, small messages: the fast path on a cached head
short|pass|-DTSO -DN=4 -DSHORT|each commit smaller than its reservation
spurious|pass|-DTSO -DN=4 -DSPURIOUS|futex_wait may return at any moment (safety)
close-reopen|pass|-DTSO -DN=4 -DCLOSE_C=2|consumer closes, producer gets -EPIPE, a new consumer reads on
wmm|pass|-DWMM -DN=2|C11 / Armv8 ordering (-DWMM), no crash
mutant-no-wake-mb|deadlock|-DTSO -DN=4 -DNO_WAKE_MB|wake_peer without its full barrier (S2)
mutant-no-sleep-mb|deadlock|-DTSO -DN=4 -DNO_SLEEP_MB|sleep_once without its full barrier (S1)
mutant-seq-late|deadlock|-DTSO -DN=4 -DSEQ_LATE|sleep_once reads wake_seq after its re-check
mutant-close-no-wake|deadlock|-DTSO -DN=4 -DCLOSE_NO_WAKE|close without waking the other side
mutant-no-end-word|assert|-DTSO -DN=4 -DNO_END_WORD|commit without the empty word past the record
mutant-no-end-word-fast|assert|-DTSO -DSMALL -DN=5 -DNO_END_WORD_FAST|the same, only for records reserved on the fast path
mutant-tail-first|assert|-DTSO -DN=4 -DTAIL_FIRST|commit stores the tail before the header
mutant-release-early|assert|-DTSO -DN=4 -DRELEASE_EARLY|consumer releases before reading the payload
mutant-no-walk|assert|-DTSO -DN=2 -DCRASH_P -DNO_WALK|restarted producer trusts the stored tail (no committed_end)
mutant-no-last-look|assert|-DTSO -DN=2 -DCRASH_P -DNO_LAST_LOOK|no last look at the data after -EPEERDEAD
mutant-open-strict|assert|-DTSO -DN=2 -DCRASH_C -DOPEN_STRICT|consumer open refuses a tail behind the head (finding 1)
mutant-open-no-kick-c|deadlock|-DTSO -DN=2 -DCRASH_C -DOPEN_NO_KICK|open does not wake the other side (finding 2), consumer killed
weak-p1h|assert|-DWMM -DN=2 -DW_P1H=1|P1: the header's store_release made relaxed
weak-p1t|assert|-DWMM -DN=2 -DW_P1T=1|P1: the tail's store_release made relaxed
weak-c1h|assert|-DWMM -DN=2 -DW_C1H=1|C1: the header's load_acquire made relaxed
weak-c1t|assert|-DWMM -DN=2 -DW_C1T=1|C1: the tail's load_acquire made relaxed
weak-c2|assert|-DWMM -DN=2 -DW_C2=1|C2: release's store_release of the head made relaxed
rewind|pass|-DTSO -DN=4 -DREWIND|the producer may pad to the ring's end whenever it finds the ring empty (maybe_rewind)
mutant-rewind-busy|assert|-DTSO -DN=4 -DREWIND -DREWIND_BUSY|a rewinding pad without the empty-ring test
zero-ahead|pass|-DTSO -DN=4 -DZERO_AHEAD|the producer zeroes the free words ahead of each reservation (zero_ahead), up to its cached head
mutant-zero-no-limit|assert|-DTSO -DN=4 -DZERO_AHEAD -DZERO_NO_LIMIT|zeroing ahead past the cached head (peer + CAP)
readahead|pass|-DTSO -DAHEAD -DHOLD=3 -DN=3|read-ahead: two records held with a pad between, a wait for a third (its timeout), released oldest first
readahead-wmm|pass|-DWMM -DAHEAD -DN=2|read-ahead, C11 / Armv8: two records held (no ring reuse at N=2)
readahead-crash-consumer|pass|-DTSO -DAHEAD -DN=2 -DCRASH_C|read-ahead, consumer killed: a successor gets every held record again, in order
readahead-release-all|assert|-DTSO -DAHEAD -DN=4 -DRELEASE_ALL|release publishes the head past every held record (ahead), not the oldest
readahead-pad-at-once|assert|-DTSO -DAHEAD -DN=4 -DPAD_AT_ONCE|a pad after a held record handed back at once, as at the head
readahead-no-next-held|assert|-DTSO -DAHEAD -DN=3 -DNO_NEXT_HELD|release with more held as before read-ahead: no next_held, no pad passed
owner|pass|-DWMM|owner.pml: a side closed and two openers racing for it (C11 / Armv8)
owner-kill|pass|-DWMM -DKILL|owner.pml: the same, the owner killed instead
owner-weak-o0|assert|-DWMM -DW_O0=1|O0: close's store_release(owner, 0) made relaxed
owner-weak-ol-o1|assert|-DWMM -DW_OL=1 -DW_O1=1|claim's owner load and its CAS (O1) both relaxed
owner-split-cas|assert|-DTSO -DSPLIT_CAS|claim's compare-and-swap done as two steps
topic-block|pass|-DTSO -DBLOCK -DPW=1 -DNOJOIN|topic.pml: block policy, one subscriber, sleeping on both sides
topic-overwrite|pass|-DTSO -DOVERWRITE -DNOJOIN|topic.pml: overwrite policy, one subscriber, 2-word payload
topic-no-validate|assert|-DTSO -DOVERWRITE -DNOJOIN -DNO_VALIDATE|T2 without the second seq load: a torn copy delivered
topic-no-w2-mb|deadlock|-DTSO -DOVERWRITE -DNOJOIN -DPW=1 -DN=2 -DIDLE -DNO_W2_MB|W2's full barrier after the flag's load (publisher idle, not closed)
topic-mutant-no-last-look|assert|-DTSO -DBLOCK -DPW=1 -DNOJOIN -DKILL_PUB -DNO_LAST_LOOK|publisher killed; pub_gone without its last look: a completed message never delivered
topic-mutant-gone-one-look|assert|-DTSO -DBLOCK -DPW=1 -DNOJOIN -DKILL_PUB -DGONE_ONE_LOOK|pub_gone without its second look (before 8f8982e): a clean close read as a death
ws|pass|-DTSO -DIDLE=1 -DK=1|waitset.pml: a wait set on two channels, one closing, one left idle open
ws-no-sleep-mb|deadlock|-DTSO -DIDLE=3 -DNO_SLEEP_MB|sleep_all without its full barrier between the flags and the re-check
ws-wait-first|deadlock|-DTSO -DIDLE=3 -DK=1 -DWAIT_FIRST|the sleep on the first member's word alone (a fallback without slices)
ws-weak-sq|deadlock|-DWMM -DIDLE=3 -DW_SQ=1|sleep_all's seq load relaxed: the flag's store overtakes it, a late waker takes the flag
inbox|pass|-DTSO -DK=1|inbox.pml: two lanes, one joining, a message each, both producers left idle
inbox-stale-used|deadlock|-DTSO -DK=1 -DSTALE_USED|the re-check with lanes_used as read before the flag: a joining lane's message missed
inbox-used-late|deadlock|-DTSO -DK=1 -DUSED_LATE=2|a joining producer raises lanes_used after its first message, not before
inbox-seq-after-flag|deadlock|-DTSO -DK=1 -DSEQ_POS=1|wake_seq read after the flag: the join's kick takes the flag, one message a lane
EOF
	if [ "$FULL" = 1 ]; then
		cat <<'EOF'
full-mutant-open-no-kick-p|deadlock|-DTSO -DN=2 -DCRASH_P -DOPEN_NO_KICK|the same as mutant-open-no-kick-c, the producer killed
full-zero-ahead-crash-consumer|pass|-DTSO -DN=2 -DCRASH_C -DZERO_AHEAD|zeroing ahead, consumer killed: its successor reads what it had not released
full-zero-ahead-wmm|pass|-DWMM -DN=2 -DZERO_AHEAD|zeroing ahead, C11 / Armv8 ordering
full-readahead-zero-ahead|pass|-DTSO -DAHEAD -DTINY -DN=4 -DZERO_AHEAD|read-ahead with zeroing ahead: held records are never zeroed
full-rewind-crash-producer|pass|-DTSO -DN=2 -DCRASH_P -DREWIND|rewinding, producer killed at any step, restarted
full-nocrash|pass|-DTSO -DN=4|no crash, safety only: what nocrash-eos checks, with invalid end states named as such
full-crash-producer-n3|pass|-DTSO -DN=3 -DCRASH_P|producer crash, three messages
full-crash-consumer-n3|pass|-DTSO -DN=3 -DCRASH_C|consumer crash, three messages
full-crash-producer-twice|pass|-DTSO -DN=2 -DCRASH_P -DMAXCRASH=2|producer killed twice
full-crash-consumer-twice|pass|-DTSO -DN=2 -DCRASH_C -DMAXCRASH=2|consumer killed twice
full-crash-producer-eos|pass|-DTSO -DN=2 -DCRASH_P -DLIVE -DFAIR|producer crash; <> eos under weak fairness
full-crash-consumer-eos|pass|-DTSO -DN=2 -DCRASH_C -DLIVE -DFAIR|consumer crash; <> eos under weak fairness
full-lax-no-kick|pass|-DTSO -DN=2 -DCRASH_P -DOPEN_NO_KICK -DLAX_SLICE|without the kick, only the 20 ms slice saves the sleeper
full-small-crash-producer|pass|-DTSO -DSMALL -DN=3 -DCRASH_P|8-word ring, producer crash
full-wmm-n3|pass|-DWMM -DN=3|C11 / Armv8 ordering, three messages
full-wmm-small|pass|-DWMM -DSMALL -DN=4|C11 / Armv8 ordering, 8-word ring
full-wmm-crash-producer|pass|-DWMM -DN=2 -DCRASH_P|C11 / Armv8 ordering, producer crash
full-wmm-crash-consumer|pass|-DWMM -DN=2 -DCRASH_C|C11 / Armv8 ordering, consumer crash
full-wmm-close-reopen|pass|-DWMM -DN=3 -DCLOSE_C=1|C11 / Armv8 ordering, close and reopen
full-wmm-no-wake-mb|deadlock|-DWMM -DN=2 -DNO_WAKE_MB|S2's barrier, under the weak model too
full-wmm-no-sleep-mb|deadlock|-DWMM -DN=2 -DNO_SLEEP_MB|S1's barrier, under the weak model too
full-unneeded-p2|pass|-DWMM -DN=3 -DW_P2=1|P2 relaxed: blind here (a control dependency); C11 needs it
full-unneeded-c1r|pass|-DWMM -DN=3 -DW_C1R=1|C1's second header load relaxed: the tail's acquire orders it
full-unneeded-c1w|pass|-DWMM -DN=3 -DW_C1W=1|within_tail relaxed: the header's acquire orders it
full-unneeded-c2p|pass|-DWMM -DN=3 -DW_C2P=1|a pad's head store relaxed: nothing of the pad is read
full-unneeded-go|pass|-DWMM -DN=3 -DW_GO=1|peer_gone's owner load relaxed: the closed load acquires
full-unneeded-gc|pass|-DWMM -DN=3 -DW_GC=1|peer_gone's closed load relaxed: the owner load acquires
full-unneeded-pco|pass|-DWMM -DN=3 -DW_PCO=1|peer_closed's owner load relaxed: after S1's barrier
full-unneeded-pcc|pass|-DWMM -DN=3 -DW_PCC=1|peer_closed's closed load relaxed: after S1's barrier
full-unneeded-sq|pass|-DWMM -DN=3 -DW_SQ=1|sleep_once's wake_seq load relaxed: passes only because mem.pml never lets a store pass a load (waitset.pml's ws-weak-sq shows the acquire is needed)
full-unneeded-s3|pass|-DWMM -DN=3 -DW_S3=1|S3's exchange relaxed: S2's barrier precedes it
full-unneeded-s4|pass|-DWMM -DN=3 -DW_S4=1|S4's fetch_add relaxed: a barrier precedes it
full-unneeded-s5|pass|-DWMM -DN=3 -DW_S5=1|S5's store relaxed: kick_peer's barrier precedes it
full-unneeded-cc|pass|-DWMM -DN=3 -DCLOSE_C=1 -DW_CC=1|close's closed store relaxed: the owner store releases
full-unneeded-opc|pass|-DWMM -DN=3 -DCLOSE_C=1 -DW_OPC=1|open's closed=0 store relaxed
full-unneeded-opm-c|pass|-DWMM -DN=2 -DCRASH_C -DW_OPM=1|consumer open's load of its own position relaxed
full-unneeded-opt-c|pass|-DWMM -DN=2 -DCRASH_C -DW_OPT=1|consumer open's load of the tail relaxed
full-unneeded-opm-p|pass|-DWMM -DN=2 -DCRASH_P -DW_OPM=1|producer open's load of its own position relaxed
full-unneeded-opt-p|pass|-DWMM -DN=2 -DCRASH_P -DW_OPT=1|producer open's load of the head relaxed: blind, as P2
full-unneeded-cel|pass|-DWMM -DN=2 -DCRASH_P -DW_CEL=1|committed_end's ring loads relaxed
full-unneeded-cet|pass|-DWMM -DN=2 -DCRASH_P -DW_CET=1|committed_end's tail store relaxed
full-readahead-n4|pass|-DTSO -DAHEAD -DHOLD=3 -DN=4|read-ahead, four messages: on into the second lap
full-readahead-n6|pass|-DTSO -DAHEAD -DN=6|read-ahead, six messages: both pad sizes, each passed by a release
full-readahead-small|pass|-DTSO -DAHEAD -DHOLD=3 -DSMALL -DN=5|read-ahead, small messages: three records held, the fast path with records held
full-readahead-eos|pass|-DTSO -DAHEAD -DHOLD=3 -DN=3 -DLIVE|read-ahead; LTL <> eos
full-readahead-crash-consumer-n3|pass|-DTSO -DAHEAD -DHOLD=3 -DN=3 -DCRASH_C|read-ahead, consumer killed, three messages
full-readahead-crash-consumer-twice|pass|-DTSO -DAHEAD -DN=2 -DCRASH_C -DMAXCRASH=2|read-ahead, consumer killed twice
full-readahead-crash-producer|pass|-DTSO -DAHEAD -DHOLD=3 -DN=2 -DCRASH_P|read-ahead, producer killed: -EPEERDEAD with records held
full-readahead-wmm-n3|pass|-DWMM -DAHEAD -DN=3|read-ahead, C11 / Armv8, three messages: a release passes a pad and a record, the ring reused
full-readahead-wmm-tiny|pass|-DWMM -DAHEAD -DTINY -DN=3|read-ahead, C11 / Armv8, 4-word ring, messages of 1 and 0 words
full-readahead-wmm-crash-consumer|pass|-DWMM -DAHEAD -DN=2 -DCRASH_C|read-ahead, C11 / Armv8, consumer killed
full-readahead-weak-c2|assert|-DWMM -DAHEAD -DN=3 -DW_C2=1|C2 relaxed with records held: the producer writes the oldest before it is read
full-owner-tso|pass|-DTSO|owner.pml on x86-TSO
full-owner-tso-kill|pass|-DTSO -DKILL|owner.pml on x86-TSO, the owner killed
full-owner-unneeded-cc|pass|-DWMM -DW_CC=1|close's closed store relaxed: O0 releases after it
full-owner-unneeded-ol|pass|-DWMM -DW_OL=1|claim's owner load relaxed: the CAS acquires
full-owner-unneeded-o1|pass|-DWMM -DW_O1=1|O1 relaxed: the owner load before it acquires
full-owner-unneeded-opm|pass|-DWMM -DW_OPM=1|open's load of its position relaxed: the claim acquired
full-owner-unneeded-opc|pass|-DWMM -DW_OPC=1|open's closed = 0 relaxed: the CAS is on memory before it
full-owner-kill-ol-o1|pass|-DWMM -DKILL -DW_OL=1 -DW_O1=1|both relaxed, owner killed: the /proc lookup orders it
full-topic-join|pass|-DTSO -DBLOCK -DALONE|topic.pml: a subscriber joins a publisher running free (J1, J2)
full-topic-join-overwrite|pass|-DTSO -DOVERWRITE -DALONE|the same, overwrite policy
full-topic-two|pass|-DTSO -DBLOCK -DPW=1 -DN=3|two subscribers, one joining, both sleeping (no wrap)
full-topic-two-idle|pass|-DTSO -DOVERWRITE -DPW=1 -DN=2 -DIDLE|two subscribers on the shared flag, the publisher idle (no close to wake them)
full-topic-idle|pass|-DTSO -DBLOCK -DNOJOIN -DIDLE|block policy, the publisher idle after the last message (no close)
full-topic-two-overwrite|pass|-DTSO -DOVERWRITE -DPW=1 -DN=3|the same, overwrite policy
full-topic-wmm-block|pass|-DWMM -DBLOCK -DPW=1 -DNOJOIN|C11 / Armv8, block policy, one subscriber
full-topic-wmm-overwrite|pass|-DWMM -DOVERWRITE -DNOJOIN|C11 / Armv8, overwrite policy, one subscriber
full-topic-wmm-join|pass|-DWMM -DBLOCK -DPW=1 -DALONE|C11 / Armv8, a subscriber joins, sleeping on both sides
full-topic-wmm-join-acq|pass|-DWMM -DBLOCK -DPW=1 -DALONE -DN=7 -DPOLL -DSCAN_DOWN -DJ2_ACQ|C11 / Armv8, joins, 7 messages, no sleeping; J2's joins load an acquire
full-topic-wmm-join-rlx|assert|-DWMM -DBLOCK -DPW=1 -DALONE -DN=7 -DPOLL -DSCAN_DOWN|finding: the same with J2's load(joins) relaxed, as the text has it
full-topic-kill|pass|-DTSO -DBLOCK -DPW=1 -DNOJOIN -DKILL_SUB|a subscriber killed at any step; the publisher evicts it
full-topic-mutant-no-evict|assert|-DTSO -DBLOCK -DPW=1 -DNOJOIN -DKILL_SUB -DNO_EVICT|the publisher never evicts a dead subscriber: its slices end forever
full-topic-leave|deadlock|-DTSO -DBLOCK -DPW=1 -DALONE -DLEAVE|finding: a leaver wakes no publisher held back by it
full-topic-leave-wake|pass|-DTSO -DBLOCK -DPW=1 -DALONE -DLEAVE -DLEAVE_WAKE|leaving with W3's wake after the owner store
full-topic-h0|deadlock|-DTSO -DBLOCK -DPW=1 -DALONE -DH=0|finding: H=0, the publisher sleeps on the joiner's pos before J1 stores it
full-topic-h0-wake|pass|-DTSO -DBLOCK -DPW=1 -DALONE -DH=0 -DJ1_WAKE|H=0 with W3's wake at the end of J1
full-topic-h3-lim3|pass|-DTSO -DBLOCK -DPW=1 -DALONE -DH=3 -DJ1LIM=3|H = nslots - 1 with J1's test at nslots - 1: no loss
full-topic-mutant-no-j2|assert|-DTSO -DBLOCK -DPW=1 -DALONE -DN=7 -DNO_J2|J2 dropped: the publisher trusts its cached minimum
full-topic-mutant-h3|assert|-DTSO -DBLOCK -DPW=1 -DALONE -DH=3|H = nslots - 1: J1's test never passes (repeat bound)
full-topic-mutant-h4|assert|-DTSO -DBLOCK -DPW=1 -DALONE -DH=4 -DJ1LIM=4|H = nslots, J1's test at nslots: a lost message
full-topic-mutant-no-j1-check|assert|-DTSO -DBLOCK -DPW=1 -DALONE -DN=8 -DNO_J1_CHECK|J1 without its look at published after joins
full-topic-mutant-no-w1-mb|deadlock|-DTSO -DBLOCK -DNOJOIN -DNO_W1_MB|W1 without its full barrier
full-topic-mutant-no-w3-mb|deadlock|-DTSO -DBLOCK -DPW=1 -DNOJOIN -DNO_W3_MB|W3 (subscriber) without its full barrier
full-topic-mutant-sub-clears|deadlock|-DTSO -DOVERWRITE -DPW=1 -DN=2 -DIDLE -DSUB_CLEARS|a subscriber clears the shared subs_sleeping flag
full-topic-mutant-close-no-wake|deadlock|-DTSO -DBLOCK -DPW=1 -DNOJOIN -DCLOSE_NO_WAKE|close without waking the subscribers
full-topic-weak-t1s|assert|-DWMM -DOVERWRITE -DNOJOIN -DW_T1S=1|T1: the even seq's store_release made relaxed
full-topic-weak-t1f|assert|-DWMM -DOVERWRITE -DNOJOIN -DW_T1F=1|T1: the release fence dropped
full-topic-weak-t2|assert|-DWMM -DBLOCK -DPW=1 -DNOJOIN -DW_T2=1|T2: the seq's load_acquire made relaxed
full-topic-weak-t2f|assert|-DWMM -DOVERWRITE -DNOJOIN -DW_T2F=1|T2: the acquire fence before the second seq load dropped
full-topic-weak-t3|assert|-DWMM -DBLOCK -DPW=1 -DNOJOIN -DW_T3=1|T3: the pos store_release made relaxed
full-topic-mutant-no-w3p-mb|deadlock|-DTSO -DBLOCK -DPW=1 -DNOJOIN -DNO_W3P_MB|W3 (publisher's sleep) without its full barrier
full-topic-weak-cl|assert|-DWMM -DBLOCK -DPW=1 -DNOJOIN -DW_CL=1|end of stream: closed's load_acquire made relaxed
full-topic-unneeded-t1p|pass|-DWMM -DBLOCK -DPW=1 -DNOJOIN -DW_T1P=1|T1: published's store_release relaxed
full-topic-unneeded-t4|pass|-DWMM -DBLOCK -DPW=1 -DNOJOIN -DW_T4=1|T4's pos load relaxed: blind (a control dependency), as P2
full-topic-kill-pub|pass|-DTSO -DBLOCK -DPW=1 -DNOJOIN -DKILL_PUB|the publisher killed at any step: all it completed, then -SHMKIT_EPEERDEAD
full-topic-kill-pub-overwrite|pass|-DTSO -DOVERWRITE -DNOJOIN -DKILL_PUB|the same, overwrite policy, 2-word payload
full-topic-kill-pub-join|pass|-DTSO -DBLOCK -DPW=1 -DALONE -DJ1_WAKE -DKILL_PUB|the publisher killed while a subscriber joins
full-topic-takeover|deadlock|-DTSO -DBLOCK -DPW=1 -DNOJOIN -DTAKEOVER|finding 7 (fixed): without the kick at open, no sleeper its predecessor owed a wake is woken
full-topic-takeover-idle|deadlock|-DTSO -DOVERWRITE -DPW=1 -DNOJOIN -DTAKEOVER -DIDLE|the same, overwrite policy, the successor idle at the end (finding 7)
full-topic-takeover-lax|pass|-DTSO -DBLOCK -DPW=1 -DNOJOIN -DTAKEOVER -DLAX_SLICE|without the kick, only the 20 ms slice saves a sleep begun before the death
full-topic-takeover-idle-lax|pass|-DTSO -DOVERWRITE -DPW=1 -DNOJOIN -DTAKEOVER -DIDLE -DLAX_SLICE|the same, overwrite policy, idle
full-topic-takeover-kick|pass|-DTSO -DBLOCK -DPW=1 -DNOJOIN -DTAKEOVER -DOPEN_KICK|the code: shmkit_pub_open kicks the subscribers (wake_subs(p, 1))
full-topic-takeover-idle-kick|pass|-DTSO -DOVERWRITE -DPW=1 -DNOJOIN -DTAKEOVER -DIDLE -DOPEN_KICK|the same, overwrite policy, the successor idle at the end
full-topic-takeover-overwrite|pass|-DTSO -DOVERWRITE -DNOJOIN -DTAKEOVER -DOPEN_KICK|overwrite policy, 2-word payload, a successor (its close wakes every sleeper)
full-topic-takeover-join-overwrite|pass|-DTSO -DOVERWRITE -DPW=1 -DALONE -DJ1_WAKE -DTAKEOVER -DOPEN_KICK|a subscriber joins across a death and a takeover, overwrite policy
full-topic-takeover-join-n4|pass|-DTSO -DBLOCK -DPW=1 -DALONE -DJ1_WAKE -DTAKEOVER -DOPEN_KICK -DN=4|the same, block policy, 4 messages (no wrap)
full-topic-mutant-no-step-over|assert|-DTSO -DOVERWRITE -DNOJOIN -DTAKEOVER -DOPEN_KICK -DNO_STEP_OVER|pub_open without its step over: a message number reused
full-topic-mutant-no-step-over-block|assert|-DTSO -DBLOCK -DPW=1 -DNOJOIN -DTAKEOVER -DOPEN_KICK -DNO_STEP_OVER|the same, block policy
full-topic-mutant-last-look-pub|assert|-DTSO -DBLOCK -DPW=1 -DNOJOIN -DKILL_PUB -DLAST_LOOK_PUB|pub_gone's last look at published, not the slot: the uncounted message lost
full-topic-wmm-kill-pub|pass|-DWMM -DBLOCK -DPW=1 -DNOJOIN -DKILL_PUB|C11 / Armv8, the publisher killed
full-topic-wmm-kill-pub-overwrite|pass|-DWMM -DOVERWRITE -DNOJOIN -DKILL_PUB|C11 / Armv8, the publisher killed, overwrite policy
full-topic-wmm-takeover-overwrite|pass|-DWMM -DOVERWRITE -DPW=1 -DNOJOIN -DTAKEOVER -DOPEN_KICK|C11 / Armv8, a successor, overwrite policy
full-topic-weak-gc-go|assert|-DWMM -DOVERWRITE -DNOJOIN -DKILL_PUB -DW_GC=1 -DW_GO=1|pub_gone's closed and owner loads both relaxed: end of stream before the last message
full-topic-unneeded-gc|pass|-DWMM -DOVERWRITE -DNOJOIN -DKILL_PUB -DW_GC=1|pub_gone's closed load relaxed: blind (the owner load's acquire), C11 needs it
full-topic-unneeded-go|pass|-DWMM -DOVERWRITE -DNOJOIN -DKILL_PUB -DW_GO=1|pub_gone's owner load relaxed: closed's acquire, and /proc, order what follows
full-topic-weak-gc2|assert|-DWMM -DOVERWRITE -DPW=1 -DNOJOIN -DTAKEOVER -DOPEN_KICK -DN=4 -DW_GC2=1|pub_gone's second look at closed relaxed: a successor's close seen, its messages not
full-topic-unneeded-go2|pass|-DWMM -DOVERWRITE -DPW=1 -DNOJOIN -DTAKEOVER -DOPEN_KICK -DN=4 -DW_GO2=1|pub_gone's second look at the owner word relaxed: a stale one only says dead again
full-topic-unneeded-open|pass|-DWMM -DOVERWRITE -DPW=1 -DNOJOIN -DTAKEOVER -DOPEN_KICK -DN=4 -DW_OPP=1 -DW_OPS=1 -DW_OPW=1 -DW_OPC=1|pub_open's loads and stores after the claim, all relaxed: the CAS acquires
full-ws-close|pass|-DTSO|two channels, 2 messages each, both closing
full-ws-idle-close|pass|-DTSO -DIDLE=1|2 messages each, one closing, one left idle
full-ws-idle|pass|-DTSO -DIDLE=3|2 messages each, both left idle: no close hides a lost wake-up
full-ws-spurious|pass|-DTSO -DIDLE=1 -DK=1 -DSPURIOUS|futex waits may return at any moment (safety)
full-ws-eos|pass|-DTSO -DIDLE=1 -DK=1 -DLIVE|LTL <> end: the wait set's thread always finishes
full-ws-n3|pass|-DTSO -DNM=3 -DIDLE=7 -DK=1|three members, all left idle
full-ws-wmm|pass|-DWMM -DIDLE=1 -DK=1|C11 / Armv8, one closing, one left idle
full-ws-wmm-k2|pass|-DWMM -DIDLE=3 -DKREST=1|C11 / Armv8, both left idle, 2 messages on the first member
full-ws-shared|pass|-DTSO -DSHARED_MEMBER -DK=1|a channel and a topic subscription (shared flag, wake all), both closing
full-ws-shared-idle|pass|-DTSO -DSHARED_MEMBER -DIDLE=2 -DK=1|the same, the topic's publisher left idle
full-ws-shared-two|pass|-DTSO -DSHARED_MEMBER -DSECOND_SUB -DIDLE=2 -DK=1|a second subscriber of the topic sleeps on the shared flag too
full-ws-shared-clears-alone|pass|-DTSO -DSHARED_MEMBER -DIDLE=2 -DK=1 -DSHARED_CLEARS|the shared flag cleared by its only sleeper: blind, the mutant needs two
full-ws-mutant-shared-clears|deadlock|-DTSO -DSHARED_MEMBER -DSECOND_SUB -DIDLE=2 -DK=1 -DSHARED_CLEARS|the wait set clears the shared flag: the other subscriber's wake is lost
full-ws-mutant-wmm-no-sleep-mb|deadlock|-DWMM -DIDLE=3 -DNO_SLEEP_MB|sleep_all's barrier, under the weak model too
full-ws-mutant-flag-late|deadlock|-DTSO -DIDLE=3 -DFLAG_LATE|the flags raised after the re-check
full-ws-mutant-wmm-flag-late|deadlock|-DWMM -DIDLE=3 -DFLAG_LATE|the same, under the weak model
full-ws-mutant-no-wake-mb|deadlock|-DTSO -DIDLE=3 -DNO_WAKE_MB|the waker without S2's barrier
full-ws-mutant-wmm-no-wake-mb|deadlock|-DWMM -DIDLE=3 -DNO_WAKE_MB|the same, under the weak model
full-ws-mutant-seq-after-flag|deadlock|-DTSO -DIDLE=3 -DSEQ_POS=1|each sequence read after its flag is raised: a late waker takes the new flag
full-ws-mutant-wmm-seq-after-flag|deadlock|-DWMM -DIDLE=3 -DSEQ_POS=1|each sequence read after its flag, under the weak model
full-ws-mutant-seq-after-mb|deadlock|-DTSO -DIDLE=3 -DSEQ_POS=2|the sequences read after the barrier, before the re-check
full-ws-mutant-seq-late|deadlock|-DTSO -DIDLE=3 -DSEQ_POS=3|the sequences read after the re-check
full-inbox-k2|pass|-DTSO|two messages a lane
full-inbox-no-kick|pass|-DTSO -DNO_JOIN_KICK|two messages a lane, the joining lane's open without its kick
full-inbox-close|pass|-DTSO -DKREST=1 -DCLOSE|the producers close their lanes (close_as kicks the consumer)
full-inbox-spurious|pass|-DTSO -DKREST=1 -DSPURIOUS|futex_wait may return at any moment (safety)
full-inbox-count|pass|-DTSO -DCOUNT|wakes <= sleeps: each announcement gets at most one wake
full-inbox-n3|pass|-DTSO -DNL=3 -DK=1|three lanes, two joining (their CASes race), a message each
full-inbox-n3-k2|pass|-DTSO -DNL=3 -DKREST=1|three lanes, two messages on the first
full-inbox-wmm-k1|pass|-DWMM -DK=1|C11 / Armv8, a message a lane
full-inbox-wmm|pass|-DWMM|C11 / Armv8, two messages a lane
full-inbox-wmm-count|pass|-DWMM -DKREST=1 -DCOUNT|C11 / Armv8, wakes <= sleeps
full-inbox-used-after-publish|pass|-DTSO -DKREST=1 -DUSED_LATE=1|lanes_used raised after the first publish, before its wake_peer: enough
full-inbox-wmm-used-after-publish|pass|-DWMM -DKREST=1 -DUSED_LATE=1|the same, under the weak model
full-inbox-mutant-wmm-used-late|deadlock|-DWMM -DK=1 -DUSED_LATE=2|lanes_used raised after the first message, under the weak model
full-inbox-mutant-wmm-stale-used|deadlock|-DWMM -DK=1 -DSTALE_USED|the re-check with a stale lanes_used, under the weak model
full-inbox-mutant-stale-used-no-kick|deadlock|-DTSO -DK=1 -DSTALE_USED -DNO_JOIN_KICK|the same under x86, without the join's kick
full-inbox-mutant-no-sleep-mb|deadlock|-DTSO -DK=1 -DNO_SLEEP_MB|the consumer without its barrier between the flag and the re-check
full-inbox-mutant-wmm-no-sleep-mb|deadlock|-DWMM -DK=1 -DNO_SLEEP_MB|the same, under the weak model
full-inbox-mutant-no-wake-mb|deadlock|-DTSO -DK=1 -DNO_WAKE_MB|a producer without S2's barrier
full-inbox-mutant-wmm-no-wake-mb|deadlock|-DWMM -DK=1 -DNO_WAKE_MB|the same, under the weak model
full-inbox-wake-store|pass|-DTSO -DWAKE_STORE|the flag cleared by a plain store, not S3's exchange: no wake-up lost
full-inbox-wake-store-n3|pass|-DTSO -DNL=3 -DK=1 -DWAKE_STORE|the same, three producers racing for the flag
full-inbox-wmm-wake-store|pass|-DWMM -DKREST=1 -DWAKE_STORE|the same, under the weak model
full-inbox-mutant-wake-store-count|assert|-DTSO -DK=1 -DWAKE_STORE -DCOUNT|the plain store: two producers wake for one sleep, wakes > sleeps
full-inbox-mutant-wmm-wake-store-count|assert|-DWMM -DK=1 -DWAKE_STORE -DCOUNT|the same, under the weak model
full-inbox-mutant-seq-after-flag-no-kick|deadlock|-DTSO -DK=1 -DSEQ_POS=1 -DNO_JOIN_KICK -DJOINED=2|the same, both lanes taken before: another lane's late waker takes the flag
full-inbox-mutant-wmm-seq-after-flag|deadlock|-DWMM -DK=1 -DSEQ_POS=1|wake_seq read after the flag, under the weak model
full-inbox-weak-sq|deadlock|-DWMM -DK=1 -DW_SQ=1|the consumer's wake_seq load relaxed: the flag's store overtakes it
full-inbox-unneeded-lu|pass|-DWMM -DKREST=1 -DW_LU=1|find_ready's lanes_used load relaxed: blind (the lane's header is not modelled)
EOF
	fi
}

# Which model a configuration checks, by the name's prefix
model_of() {
	case "$1" in
	owner*|full-owner*) echo owner.pml ;;
	topic*|full-topic*) echo topic.pml ;;
	ws*|full-ws*) echo waitset.pml ;;
	inbox*|full-inbox*) echo inbox.pml ;;
	*) echo chan.pml ;;
	esac
}

# One configuration, in its own directory: spin -a, compile pan, run it,
# and write a one-line result (outcome|states|seconds|detail).
run_one() {
	name=$1 tmp=$2
	line=$(table | grep "^$name|")
	defs=$(echo "$line" | cut -d'|' -f3)
	d=$tmp/$name
	mkdir -p "$d" && cp "$here/chan.pml" "$here/owner.pml" "$here/topic.pml" "$here/waitset.pml" \
		"$here/inbox.pml" "$here/mem.pml" "$d/" || exit 1
	cd "$d" || exit 1
	start=$(date +%s.%N)
	# the weak model's crash runs (--full) store some 18 million states,
	# compressed (COLLAPSE); the standard set's largest, 2.5 million, fits
	# in 0.5 GB as they are, and compressing them took a quarter more
	# time (make model: 62 s against 47 s, Intel Xeon, 2026-12-01)
	case "$name" in
	full-*) cflags="-DMEMLIM=$((MEM * 4)) -DCOLLAPSE"; pflags="-m200000 -w24" ;;
	*) cflags="-DMEMLIM=$((MEM * 2))"; pflags="-m100000 -w22" ;;
	esac
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

	if ! spin -a $defs "$(model_of "$name")" >spin.out 2>&1; then
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
		echo "     replay: cd $tmp/$name && spin -t -p $defs $(model_of "$name")"
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

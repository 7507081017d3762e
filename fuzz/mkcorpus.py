#!/usr/bin/env python3
"""Writes the crafted seed corpus: fuzz/corpus/chan/seed-*,
fuzz/corpus/topic/seed-*, fuzz/corpus/inbox/seed-* and fuzz/corpus/parse/seed-*.
The input formats are described at the top of fuzz/chan_fuzz.c,
fuzz/topic_fuzz.c, fuzz/inbox_fuzz.c and fuzz/parse_fuzz.c. Run from anywhere; it rewrites only the seed-* files
(entries found by the fuzzer and merged in are left alone).

    python3 fuzz/mkcorpus.py
"""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# chan.h, header.h
CHAN_MAGIC = 0x4E414843
CHAN_VERSION = 2
CHAN_HDR_SIZE = 896
CAP = 4096
MAX_MSG = CAP // 2
REC_PAD = 0xFFFFFFFF
REC_MARK = 0x31434552
HDR_MAGIC = 0x4B4D4853
U64 = (1 << 64) - 1

# chan_fuzz.c: flags
FL_MAGIC, FL_VERSION, FL_CAPACITY, FL_HDRSIZE = 1, 2, 4, 8
FL_OWNERS, FL_SEGHDR, FL_CONS_FIRST, FL_WAIT_NONE = 16, 32, 64, 128

# chan_fuzz.c: ops
SEND, RESERVE, COMMIT, RECV, PEEK, RELEASE, REOPEN, POKE = range(8)
NOPS = 16
# channel offsets (from the channel header) of the positions, for pokes
TAIL_OFF = 128          # hot[PROD].pos
HEAD_OFF = 256          # hot[CONS].pos
PROD_OWNER_OFF = 384    # cold[PROD].owner
CONS_OWNER_OFF = 512    # cold[CONS].owner


def op(code, param=0, high=0):
    """One call: high is the op byte's top 5 bits (poke: xor with high + 1)."""
    return bytes([code | (high << 3)]) + struct.pack('<H', param & 0xFFFF)


def poke(off, xor):
    """Xor the byte at channel offset off with xor (1..32)."""
    assert 1 <= xor <= 32
    return op(POKE, off, xor - 1)


def rec(length, payload=None, mark=REC_MARK):
    if payload is None:
        payload = bytes((i * 7 + 1) & 0xFF for i in range(length))
    body = struct.pack('<II', length, mark) + payload
    return body + b'\0' * (-len(body) % 8)


def pad_rec():
    return struct.pack('<II', REC_PAD, REC_MARK)


def chan(ops=(), flags=0, segbyte=0, magic=CHAN_MAGIC, version=CHAN_VERSION,
         hdr_size=CHAN_HDR_SIZE, capacity=CAP, max_msg=MAX_MSG, tail=0, head=0,
         owners=(0, 0), closed=(0, 0), sleeping=(0, 0), ring=b'', ring_at=0):
    ops = list(ops)
    assert len(ops) <= NOPS
    # the rest of the script: receive whatever is there
    ops += [op(RECV, 0xFFF)] * (NOPS - len(ops))
    out = bytes([flags, segbyte]) + b''.join(ops)
    out += struct.pack('<IHHIIQQ', magic, version, hdr_size, 0, 0, capacity, max_msg)
    for pos in (tail, head):
        out += struct.pack('<QQQ', pos & U64, 0, 0)
    for i in range(2):
        out += struct.pack('<QIIQQ', owners[i], closed[i], 0, 0, 0)
    for i in range(2):
        out += struct.pack('<II', sleeping[i], 0)
    assert len(out) == 50 + 160
    if ring or ring_at:
        image = bytearray(CAP)
        image[ring_at:ring_at + len(ring)] = ring
        # only as much of the ring as holds anything: the rest reads as zero
        used = ring_at + len(ring)
        out += bytes(image[:used])
    return out


def chan_seeds():
    s = {}
    three = rec(3) + rec(5) + rec(0)
    s['fresh-ops'] = chan([op(SEND, 5), op(RECV, 100), op(RESERVE, 100), op(COMMIT, 50),
                           op(PEEK), op(RELEASE), op(SEND, MAX_MSG), op(SEND, MAX_MSG + 1),
                           op(RECV, 10), op(RECV, 0xFFF), op(SEND, 0), op(PEEK), op(PEEK),
                           op(RELEASE), op(RELEASE), op(COMMIT, 0)])
    s['valid-stream'] = chan(tail=len(three), ring=three)
    s['valid-stream-none'] = chan([op(PEEK), op(RELEASE), op(RECV, 2), op(PEEK), op(RECV, 5)],
                                  flags=FL_WAIT_NONE, tail=len(three), ring=three)
    # a stream that wraps: a pad at 4080, then a record at 0
    s['wrap-pad'] = chan(head=CAP - 16, tail=CAP + 16,
                         ring=rec(3) + b'\0' * (CAP - 16 - 16) + pad_rec())
    s['near-end-send'] = chan([op(SEND, 100), op(RECV, 0xFFF), op(SEND, 100), op(RECV, 0xFFF),
                               op(RESERVE, 2000), op(COMMIT, 2000)],
                              head=CAP - 16, tail=CAP - 16)
    # a record whose length runs past the ring's end
    s['len-past-end'] = chan(head=CAP - 8, tail=CAP - 8 + 112,
                             ring=struct.pack('<II', 100, REC_MARK), ring_at=CAP - 8)
    s['len-over-max'] = chan(tail=rec_len(MAX_MSG + 1), ring=rec(MAX_MSG + 1))
    # positions beyond the ring: refused at open, or met mid-stream via a poke
    s['tail-beyond-cap'] = chan(tail=CAP + 8)
    s['head-beyond-tail'] = chan(head=2 * CAP)
    s['tail-poked-beyond'] = chan([op(SEND, 5), op(RECV, 0xFFF), poke(TAIL_OFF + 1, 32),
                                   op(RECV, 0xFFF), op(SEND, 5), op(REOPEN, 1), op(RECV, 0xFFF)])
    s['head-poked-beyond'] = chan([op(SEND, MAX_MSG), poke(HEAD_OFF + 1, 32),
                                   op(SEND, MAX_MSG), op(SEND, MAX_MSG), op(REOPEN, 0)])
    s['misaligned-tail'] = chan([op(SEND, 5), poke(TAIL_OFF, 4), op(RECV, 0xFFF)])
    # wrapped counters: positions just below 2^64 that run through zero
    s['wrap-counters'] = chan([op(SEND, 5), op(SEND, 7), op(RECV, 0xFFF), op(RECV, 0xFFF),
                               op(SEND, 9), op(PEEK), op(RELEASE)],
                              head=-16, tail=-16)
    s['tail-far-ahead'] = chan(tail=1 << 63)
    s['tail-behind-head'] = chan(head=16, tail=8)
    # a tail lagging the head by less than a ring: no data yet (EAGAIN)
    s['tail-lags'] = chan([poke(TAIL_OFF, 24), op(RECV, 0xFFF), op(PEEK), op(SEND, 1)],
                          head=16, tail=16)
    # the layout
    s['wrong-magic'] = chan(flags=FL_MAGIC, magic=0x12345678)
    s['wrong-version'] = chan(flags=FL_VERSION, version=99)
    s['wrong-capacity'] = chan(flags=FL_CAPACITY, capacity=3 * 4096)
    s['huge-capacity'] = chan(flags=FL_CAPACITY, capacity=1 << 40, max_msg=1 << 39)
    s['wrong-max-msg'] = chan(flags=FL_CAPACITY, max_msg=CAP)
    s['wrong-hdr-size'] = chan(flags=FL_HDRSIZE, hdr_size=128)
    s['seghdr-version'] = chan(flags=FL_SEGHDR, segbyte=0)
    s['seghdr-name'] = chan(flags=FL_SEGHDR, segbyte=40 - 4)
    s['seghdr-flags'] = chan(flags=FL_SEGHDR, segbyte=8 - 4)
    # a pad where a ring starts: never written
    s['pad-at-0'] = chan(tail=CAP, ring=pad_rec())
    # a header without its mark while the tail says it was published
    s['no-mark-tail-data'] = chan(tail=16, ring=rec(3, mark=0))
    # a producer that died between a record's header and its tail store
    s['died-before-tail'] = chan([op(SEND, 4), op(RECV, 0xFFF)], flags=FL_CONS_FIRST,
                                 tail=16, ring=rec(5) + rec(6))
    # a ring of marked records and a tail that never moves (writer gone):
    # a ring of them at most, then corruption; never the same bytes again
    s['marked-ring-stuck-tail'] = chan(ring=rec(MAX_MSG - 8) + rec(MAX_MSG - 8))
    # the ring full: the producer must wait (EAGAIN)
    s['full-ring'] = chan([op(SEND, 1), op(RESERVE, 8), op(RECV, 0xFFF), op(SEND, 1)],
                          tail=CAP, ring=rec(MAX_MSG - 8) + rec(MAX_MSG - 8))
    # owners: a dead one is taken over
    s['dead-owners'] = chan(flags=FL_OWNERS, owners=(0x7FFFFFF0 | (12345 << 32), 1))
    # an owner word that changes under an open handle: a peer that died
    s['peer-dead'] = chan([op(RECV, 0xFFF), poke(PROD_OWNER_OFF + 2, 32), op(RECV, 0xFFF),
                           op(SEND, 3), poke(CONS_OWNER_OFF + 2, 32), op(SEND, MAX_MSG),
                           op(SEND, MAX_MSG), op(SEND, MAX_MSG), op(REOPEN, 0), op(REOPEN, 1),
                           op(SEND, 1), op(RECV, 0xFFF)])
    # sides that close: end of stream after draining, EPIPE for the producer
    s['close-producer'] = chan([op(REOPEN, 2), op(RECV, 0xFFF), op(RECV, 0xFFF),
                                op(RECV, 0xFFF), op(RECV, 0xFFF), op(PEEK), op(REOPEN, 0),
                                op(SEND, 3), op(RECV, 0xFFF)],
                               tail=len(three), ring=three)
    s['close-consumer'] = chan([op(REOPEN, 3), op(SEND, 3), op(RESERVE, 3), op(REOPEN, 1),
                                op(SEND, 3), op(RECV, 0xFFF)], closed=(1, 1))
    s['sleepers'] = chan([op(SEND, 5), op(RECV, 0xFFF), op(SEND, 6), op(PEEK), op(RELEASE)],
                         sleeping=(1, 1))
    # misuse: commit without a reservation, release without a peek, too much
    s['misuse'] = chan([op(COMMIT, 0), op(RELEASE), op(RESERVE, 10), op(COMMIT, 11),
                        op(COMMIT, 10), op(COMMIT, 0), op(RESERVE, 2049), op(RESERVE, 4),
                        op(SEND, 2049), op(COMMIT, 4)])
    # a message larger than the receive buffer: left in place
    s['recv-small'] = chan([op(RECV, 2), op(PEEK), op(RECV, 3), op(RECV, 5), op(RELEASE)],
                           tail=len(three), ring=three)
    return s


def rec_len(length):
    return 8 + (length + 7) // 8 * 8


def fnv_key(name):
    h = 2166136261
    for b in b'shmkit:' + name.encode():
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    return h or 0x5348


def seg_header(name, data_size, version=1, hdr_size=128, key=None, pid=1234):
    key = fnv_key(name) if key is None else key
    nm = name.encode()[:64].ljust(64, b'\0')
    return struct.pack('<IHHIIQiIQ', HDR_MAGIC, version, hdr_size, 2, key, data_size, pid,
                       0, 99) + nm + b'\0' * 24


def parse_seeds():
    s = {}

    def t(sel, name, text, variant=0):
        s[name] = bytes([sel | (variant << 4)]) + (text.encode() if isinstance(text, str) else text)

    for i, v in enumerate(['1', '0x1', '0', '4294967295', '4294967296', '0xffffffff', '0x',
                           '-1', ' 1', '0X1aB', '099']):
        t(0, 'key-%d' % i, v)
    for i, v in enumerate(['chan', 'a' * 63, 'a' * 64, 'bad name', 'caf\xe9', '.-_', '']):
        t(1, 'name-%d' % i, v)
    t(2, 'resolve-path', '/tmp', 1)
    t(2, 'resolve-missing', '/nonexistent/x', 2)
    t(2, 'resolve-proj256', '/tmp', 15)
    t(2, 'resolve-key', '0x1234', 0)
    t(3, 'sysvipc-head', '       key      shmid perms                  size  cpid  lpid '
         'nattch   uid   gid  cuid  cgid      atime      dtime      ctime                   '
         'rss                  swap\n')
    t(3, 'sysvipc-row', '  1398101811          3  1600                  8192  1234  1234      '
         '1     0     0     0     0 1700000000 1700000001 1700000002                  8192       '
         '            0\n')
    t(3, 'sysvipc-neg', '-1 2147483648 99999999999 -5 1 1 1 1 1 1 1 1 1 1')
    t(4, 'maps-sysv', '7f0000000000-7f0000002000 rw-s 00000000 00:01 32768      '
         '/SYSV4e414843 (deleted)')
    t(4, 'maps-file', '55d0c0a00000-55d0c0a02000 r--p 00000000 08:01 1234 /usr/bin/cat')
    t(4, 'maps-anon', '7ffd1c000000-7ffd1c021000 rw-p 00000000 00:00 0 [stack]')
    t(4, 'maps-bigino', '7f0000000000-7f0000002000 rw-s 00000000 00:01 4294967296 /SYSV00000001')
    for i, v in enumerate(['4096', '64K', '1m', '2G', '1T', '0', '16777216T',
                           '18446744073709551615', '18446744073709551616', '1x', 'K', '1KB']):
        t(5, 'size-%d' % i, v)
    for i, v in enumerate(['0600', '777', '1000', '', '8', '0000000000000000000001']):
        t(6, 'mode-%d' % i, v)
    for i, v in enumerate(['0', '2147483647', '2147483648', '-1', '12a', '99999999999999999999']):
        t(7, 'shmid-%d' % i, v)
    t(8, 'target-k', '0x1234', 0)
    t(8, 'target-p', '/tmp:7', 1)
    t(8, 'target-p-empty', '/tmp:', 1)
    t(8, 'target-p-256', '/tmp:256', 1)
    t(8, 'target-p-hex', '/tmp:0x1f', 1)
    t(8, 'target-n', 'chan', 2)
    t(8, 'target-n-bad', 'a b', 2)
    seg = 4096 - 128 + CAP + 128
    t(9, 'hdr-valid', struct.pack('<QI', seg, fnv_key('chan')) + seg_header('chan', seg - 128))
    t(9, 'hdr-removed', struct.pack('<QI', seg, 0) + seg_header('chan', seg - 128))
    t(9, 'hdr-version', struct.pack('<QI', seg, 0) + seg_header('chan', 100, version=2))
    t(9, 'hdr-too-big', struct.pack('<QI', seg, 0) + seg_header('chan', seg))
    t(9, 'hdr-wrong-key', struct.pack('<QI', seg, 0) + seg_header('chan', 8, key=5))
    t(9, 'hdr-small-seg', struct.pack('<QI', 127, 0) + seg_header('chan', 0))
    t(9, 'hdr-no-nul', struct.pack('<QI', seg, 0) + seg_header('a' * 64, 0))
    for i, v in enumerate(['123', '123 \n', '18446744073709551615', '18446744073709551616',
                           '12a', '', ' 1']):
        t(10, 'u64-%d' % i, v)
    for i, v in enumerate([0, 1023, 1024, 1536, 10 << 20, U64, 119, 7199, 172799, 1 << 63]):
        t(11, 'fmt-%d' % i, struct.pack('<Q', v), i % 3 * 4)
    for i, v in enumerate(['0', '0.5', '1.2345', '86400', '86400.0004', '86400.0005', '86401',
                           ' 1', '0x10', '1e3', '-1', '', '1.', '.5', '0.' + '9' * 40]):
        t(12, 'seconds-%d' % i, v)
    for i, (v, cap) in enumerate([(b'plain', 0), (b'\x1b]0;pwned\x07', 0), (b'\x1b[2J', 5),
                                  (b'caf\xc3\xa9', 0), (b'caf\xc3\xa9', 5), (b'\xc2\x9b\xff\\', 0),
                                  (b'\xed\xa0\x80\xf4\x90\x80\x80', 0), (b'a\\x1b', 3)]):
        t(13, 'safe-%d' % i, v, cap)
    return s


# topic.h, topic_fuzz.c: the topic the target makes (max_msg asked 240)
TOPIC_MAGIC = 0x43504F54
TOPIC_VERSION = 1
TOPIC_HDR_SIZE = 448
T_NSLOTS = 4
T_SLOT = 256
T_MAX_MSG = T_SLOT - 16
T_SUBS = 4
T_HISTORY = 2
T_SLOTS_OFF = 8192      # with 4 KiB pages
BLOCK, OVERWRITE = 1, 2
DEAD = 0x7FFFFFF0 | (12345 << 32)   # an owner word no process has

# topic_fuzz.c: flags
TFL_OVERWRITE, TFL_SHAPE, TFL_IDENT, TFL_OWNERS = 1, 2, 4, 8
TFL_SEGHDR, TFL_SUBS_FIRST, TFL_OLDEST, TFL_ONE_SUB = 16, 32, 64, 128

# topic_fuzz.c: ops
(T_SEND, T_RESERVE, T_COMMIT, T_RECV, T_PEEK, T_RELEASE, T_SUBRE, T_PUBRE, T_INFO, T_POKE,
 T_BURST, T_DRAIN, T_WAIT, T_MISUSE, T_POKEW, T_FAKE) = range(16)
T_NOPS = 24
# topic offsets (from the topic header), for pokes
T_PUBLISHED_OFF = 128
T_OWNER_OFF = 256
T_CLOSED_OFF = 264
T_ENTRY0_POS_OFF = 4096 - 128   # the subscriber table's first pos


def top(code, param=0, high=0):
    """One call: high is the op byte's top 4 bits (k = high & 1)."""
    return bytes([code | (high << 4)]) + struct.pack('<H', param & 0xFFFF)


def recv(k=0, cap=0x1FF):
    return top(T_RECV, cap, k)


def burst(count, length=10):
    assert 1 <= count <= 16 and 0 <= length <= 0xFF
    return top(T_BURST, ((count - 1) << 12) | length)


def drain(k=0, count=16, cap=0x1FF):
    return top(T_DRAIN, ((count - 1) << 12) | cap, k)


def poke_word(off, value):
    """Set the word at topic offset off to value: 0-7 or 2^64 - 1 - (0-7)."""
    assert off % 8 == 0
    high = value if value < 8 else 8 | (U64 - value)
    assert 0 <= high < 16
    return top(T_POKEW, off // 8, high)


def slot(seq, length, payload=None):
    if payload is None:
        payload = bytes((i * 5 + 3) & 0xFF for i in range(min(length, T_MAX_MSG)))
    return struct.pack('<QII', seq & U64, length, 0) + payload.ljust(T_MAX_MSG, b'\0')[:T_MAX_MSG]


def msg_slots(msgs, length=8):
    """Slots holding whole messages msgs (numbers), each in its own slot."""
    image = [None] * T_NSLOTS
    for k in msgs:
        image[k % T_NSLOTS] = slot(2 * k + 2, length)
    return image


def entry(pos=0, owner=0, msgs=0, lost=0):
    return struct.pack('<QQQQQQQQ', pos & U64, msgs, 0, lost, owner, 0, 0, 0)


def topic(ops=(), flags=0, segbyte=0, magic=TOPIC_MAGIC, version=TOPIC_VERSION,
          hdr_size=TOPIC_HDR_SIZE, policy=BLOCK, max_subs=T_SUBS, nslots=T_NSLOTS,
          slot_size=T_SLOT, max_msg=T_MAX_MSG, history=T_HISTORY, slots_offset=T_SLOTS_OFF,
          published=0, owner=0, closed=0, sleeping=(0, 0), table=(), slots=()):
    ops = list(ops)
    assert len(ops) <= T_NOPS
    # the rest of the script: each subscriber receives whatever is there
    ops += [recv(i % 2) for i in range(T_NOPS - len(ops))]
    out = bytes([flags, segbyte]) + b''.join(ops)
    out += struct.pack('<IHHIIQQQQQ', magic, version, hdr_size, policy, max_subs, nslots,
                       slot_size, max_msg, history, slots_offset)
    out += struct.pack('<QQQQIIQQQIIII', published & U64, 0, 0, owner, closed, 0, 0, 0, 0,
                       sleeping[0], 0, sleeping[1], 0)
    table = list(table) + [entry()] * (T_SUBS - len(table))
    out += b''.join(table)
    assert len(out) == 2 + 3 * T_NOPS + 136 + 64 * T_SUBS
    # only as many slots as hold anything: the rest reads as zero
    slots = list(slots)
    while slots and slots[-1] is None:
        slots.pop()
    out += b''.join(s if s is not None else b'\0' * T_SLOT for s in slots)
    return out


def topic_seeds():
    s = {}
    ops = [top(T_SEND, 5), recv(0), recv(1), top(T_RESERVE, 100), top(T_COMMIT, 50),
           top(T_PEEK, 0, 0), top(T_RELEASE, 0, 0), top(T_PEEK, 0, 1), top(T_PEEK, 0, 1),
           top(T_RELEASE, 0, 1), top(T_SEND, T_MAX_MSG), top(T_SEND, T_MAX_MSG + 1),
           recv(0, 10), recv(0), top(T_INFO, 7), drain(1), top(T_SEND, 0), recv(0, 0),
           top(T_COMMIT, 0), top(T_RELEASE), top(T_PUBRE), top(T_SUBRE, 1, 1), top(T_SEND, 7),
           drain(1)]
    for name, fl in (('block', 0), ('overwrite', TFL_OVERWRITE)):
        s['fresh-' + name] = topic(ops, flags=fl)
        # both subscribers at 0; the publisher runs a ring ahead of one
        s['lag-' + name] = topic([burst(8), drain(0), burst(8), recv(1), top(T_INFO, 7),
                                  drain(1), burst(8), drain(0), drain(1), top(T_INFO, 7),
                                  burst(16, 0), drain(0, 16, 0), drain(1, 2), top(T_INFO, 1)],
                                 flags=fl)
        # counters about to run through 2^64 (the slots' words first)
        s['wrap-counters-' + name] = topic([burst(6), drain(0), recv(1), top(T_SUBRE, 1, 1),
                                            drain(1), burst(6), drain(0), drain(1)],
                                           flags=fl, published=-3)
        s['wrap-seq-' + name] = topic([burst(4), drain(0), drain(1), top(T_INFO, 7)],
                                      flags=fl, published=(1 << 63) - 2)
        # messages 2-4 held, history 2: from the oldest, 3 and 4
        s['history-' + name] = topic([drain(0), top(T_SUBRE, 1, 1), drain(1), top(T_SUBRE, 0, 1),
                                      top(T_SEND, 3), drain(1)],
                                     flags=fl | TFL_OLDEST, published=5,
                                     slots=msg_slots([2, 3, 4]))
        # a held message: the block publisher waits for it, overwrite takes it
        s['peek-held-' + name] = topic([top(T_SEND, 5), top(T_PEEK), burst(8, 20)] +
                                       ([top(T_PEEK)] if fl == 0 else []) +
                                       [top(T_RELEASE), burst(2), drain(0)],
                                       flags=fl | TFL_ONE_SUB)
        # the slot of the oldest message already holds a later one
        s['slot-overwritten-' + name] = topic([recv(0), recv(0), top(T_SEND, 1), recv(0)],
                                              flags=fl | TFL_OLDEST | TFL_ONE_SUB, published=6,
                                              slots=[slot(18, 4), None, None, None])
        s['len-over-max-' + name] = topic([top(T_PEEK), recv(0), top(T_SEND, 1), recv(0)],
                                          flags=fl | TFL_OLDEST | TFL_ONE_SUB, published=1,
                                          slots=[slot(2, 1000)])
        # a subscriber entry claims to have read what was never published
        s['sub-ahead-' + name] = topic([top(T_SEND, 1), top(T_SEND, 2), recv(0)],
                                       flags=fl | TFL_OWNERS, published=8,
                                       table=[entry(), entry(), entry(100, DEAD)])
        # a message faked ahead of published: read before it is published
        s['fake-ahead-' + name] = topic([top(T_SEND, 4), top(T_FAKE, 8), recv(0), recv(0),
                                         recv(0), top(T_SEND, 5), top(T_SEND, 6), recv(1)],
                                        flags=fl, published=20)
    # dead subscribers a ring behind hold a block publisher once
    s['dead-subs-block'] = topic([top(T_SEND, 1), top(T_INFO, 7), top(T_SEND, 2), top(T_SEND, 3),
                                  top(T_INFO, 7), drain(0), drain(1)],
                                 flags=TFL_OWNERS, published=8,
                                 table=[entry(2, DEAD), entry(8, DEAD), entry(2, DEAD),
                                        entry(8, DEAD)])
    # a publisher that died writing message 3; one that died before published
    s['odd-slot'] = topic([drain(0), top(T_SEND, 9), drain(0)],
                          flags=TFL_OWNERS | TFL_OLDEST | TFL_ONE_SUB, published=3, owner=DEAD,
                          slots=msg_slots([1, 2])[:3] + [slot(7, 5)])
    s['step-over'] = topic([drain(0), top(T_SEND, 9), drain(0), top(T_PUBRE), top(T_INFO, 7)],
                           flags=TFL_OWNERS | TFL_OLDEST | TFL_ONE_SUB | TFL_SUBS_FIRST,
                           published=3, owner=DEAD, slots=msg_slots([1, 2, 3, 4]))
    # the publisher closes, aborts, dies: end of stream once all is read
    s['pub-close-eof'] = topic([top(T_SEND, 3), top(T_PUBRE, 2), drain(0), top(T_PEEK),
                                top(T_PUBRE), top(T_SEND, 4), recv(0), top(T_PUBRE, 6), recv(0),
                                top(T_INFO, 7), recv(1), top(T_PUBRE), recv(1)])
    s['pub-dead'] = topic([top(T_PUBRE, 2), poke_word(T_OWNER_OFF, U64 - 1),
                           poke_word(T_CLOSED_OFF, 0), recv(0), top(T_INFO, 0), top(T_PUBRE),
                           top(T_SEND, 2), recv(0)])
    s['second-pub'] = topic([top(T_PUBRE, 8), top(T_SEND, 1), top(T_PUBRE, 2), top(T_PUBRE, 8),
                             top(T_PUBRE), top(T_PUBRE, 8), recv(0)])
    s['closed-at-start'] = topic([recv(0), top(T_SEND, 2), recv(0)], closed=2)
    # layouts: the identity, then shapes valid and not
    s['ident-valid'] = topic([top(T_SEND, 1)], flags=TFL_IDENT)
    s['ident-magic'] = topic(flags=TFL_IDENT, magic=0x12345678)
    s['ident-version'] = topic(flags=TFL_IDENT, version=2)
    s['ident-hdr-size'] = topic(flags=TFL_IDENT, hdr_size=128)
    shape = dict(flags=TFL_SHAPE)
    s['shape-8x128'] = topic([burst(12, 112), burst(1, 113), drain(0), drain(1)], nslots=8,
                             slot_size=128, max_msg=112, history=6, **shape)
    s['shape-16x64-overwrite'] = topic([burst(16, 48), recv(1), drain(0), drain(1)],
                                       policy=OVERWRITE, nslots=16, slot_size=64, max_msg=48,
                                       history=14, **shape)
    s['shape-one-sub'] = topic([top(T_SUBRE, 0, 1), top(T_INFO, 7)], max_subs=1, **shape)
    s['shape-subs-32'] = topic([top(T_INFO, 7), top(T_SEND, 1)], max_subs=32, **shape)
    for name, kw in (('nslots-3', dict(nslots=3)), ('nslots-huge', dict(nslots=1 << 21)),
                     ('slot-size-100', dict(slot_size=100)), ('max-msg', dict(max_msg=200)),
                     ('history-3', dict(history=3)), ('max-subs-0', dict(max_subs=0)),
                     ('max-subs-2000', dict(max_subs=2000)),
                     ('max-subs-33', dict(max_subs=33)),
                     ('offset-4097', dict(slots_offset=4097)),
                     ('offset-in-table', dict(slots_offset=4096)),
                     ('offset-huge', dict(slots_offset=1 << 63)),
                     ('slots-past-end', dict(nslots=8)),
                     ('slot-size-huge', dict(slot_size=1 << 40, max_msg=(1 << 40) - 16)),
                     ('policy-3', dict(policy=3))):
        s['shape-' + name] = topic(**dict(shape, **kw))
    for name, b in (('version', 0), ('flags', 4), ('key', 8), ('data-size', 12),
                    ('pid', 23), ('name', 36)):
        s['seghdr-' + name] = topic(flags=TFL_SEGHDR, segbyte=b)
    # wrong calls, reservations kept and dropped
    s['misuse'] = topic([top(T_MISUSE, i) for i in range(12)] +
                        [top(T_COMMIT, 0), top(T_RELEASE), top(T_RESERVE, 10),
                         top(T_RESERVE, 300), top(T_COMMIT, 11), top(T_COMMIT, 10),
                         top(T_COMMIT, 0), top(T_SEND, 300), top(T_RESERVE, 4),
                         top(T_SEND, 300), top(T_COMMIT, 4), recv(0)])
    s['info-caps'] = topic([top(T_INFO, c) for c in range(8)] + [top(T_INFO, 8), top(T_INFO, 9)],
                           flags=TFL_OWNERS,
                           table=[entry(0, DEAD), entry(5, DEAD), entry(), entry(3, DEAD)],
                           published=4)
    s['recv-small'] = topic([top(T_SEND, 100), recv(0, 10), top(T_RELEASE), top(T_PEEK),
                             recv(0, 50), top(T_RELEASE), recv(0, 99), recv(0, 100),
                             top(T_SEND, 0), recv(0, 0)], flags=TFL_ONE_SUB)
    s['set-wait'] = topic([top(T_WAIT, 1 | (p << 1)) for p in range(4)] +
                          [top(T_WAIT, p << 1, k) for p in range(4) for k in range(2)] +
                          [top(T_SEND, 1), recv(0), recv(1)])
    s['sleepers'] = topic([top(T_SEND, 5), recv(0), recv(1), top(T_SEND, 6), top(T_PEEK),
                           top(T_RELEASE)], sleeping=(1, 1))
    # subscribers that leave and join again while the publisher runs
    s['rejoin'] = topic([burst(3), top(T_SUBRE, 1, 0), burst(4), top(T_SUBRE, 0, 1),
                         top(T_SUBRE, 1, 1), burst(4), drain(0), top(T_SUBRE, 0, 0), burst(4),
                         drain(1), top(T_SUBRE, 2, 1), burst(4), drain(0), top(T_SUBRE, 1, 1),
                         top(T_INFO, 7)], flags=TFL_SUBS_FIRST)
    # pokes behind the handles: a byte, a word, a faked message
    s['pokes'] = topic([top(T_SEND, 5), top(T_POKE, T_PUBLISHED_OFF, 3), recv(0),
                        poke_word(T_ENTRY0_POS_OFF, 7), recv(0), top(T_SEND, 6),
                        top(T_FAKE, 8 | 16, 2), recv(1), top(T_FAKE, 9, 15), recv(1),
                        top(T_INFO, 7), top(T_POKE, 2, 0), top(T_SUBRE, 0, 1), top(T_PUBRE)])
    return s


# inbox.h, inbox_fuzz.c: 4 rings of 4096 bytes (an inbox's 4 lanes, a service's 2)
INBOX_MAGIC = 0x58424E49
INBOX_VERSION = 1
INBOX_HDR_SIZE = 384
I_CAP = 4096
I_MAX = I_CAP // 2
I_SVC_MAX = I_MAX - 16
REPLIES = 1

# inbox_fuzz.c: flags
(IFL_SERVICE, IFL_SHAPE, IFL_IDENT, IFL_OWNERS, IFL_LANEHDR, IFL_SEGHDR, IFL_CONS_FIRST,
 IFL_NO_CONS) = (1 << i for i in range(8))

# inbox_fuzz.c: ops
(I_JOIN, I_SEND, I_RESERVE, I_COMMIT, I_CLOSE, I_REOPEN, I_RECV, I_PEEK, I_RELEASE, I_REPLY,
 I_CRECV, I_INFO, I_POKE, I_POKEW, I_BURST, I_DRAIN) = range(16)
I_NOPS = 24
ZC = 0x8000             # reply, client recv: zero copy
# offsets from the inbox header (the bytes after the segment header), for pokes
I_CLOSED_OFF = 136      # closed, lanes_used: one word
I_LANES_OFF = 3968      # lane 0's channel header


def iop(code, param=0, k=0, hi=None):
    """One call: k picks producer (client) k; hi, if given, is the op's top nibble."""
    return bytes([code | ((k if hi is None else hi) << 4)]) + struct.pack('<H', param & 0xFFFF)


def ipoke_word(off, value):
    """The word at offset off (from the inbox header) becomes value: 0-15 or 2^64-1-(0-15)."""
    assert off % 8 == 0
    if value < 16:
        return iop(I_POKEW, off // 8, hi=value)
    return iop(I_POKEW, 0x8000 | off // 8, hi=U64 - value)


def iring(magic=CHAN_MAGIC, version=CHAN_VERSION, hdr_size=CHAN_HDR_SIZE, capacity=I_CAP,
          max_msg=I_MAX, tail=0, head=0, owners=(0, 0), closed=(0, 0), sleeping=(0, 0),
          epoch=0, at=0, data=b''):
    out = struct.pack('<IHHQQ', magic, version, hdr_size, capacity, max_msg)
    out += struct.pack('<QQQQ', tail & U64, 0, head & U64, 0)
    out += struct.pack('<QIQI', owners[0], closed[0], owners[1], closed[1])
    out += struct.pack('<IIIIQHH', sleeping[0], 0, sleeping[1], 0, epoch, at, len(data))
    assert len(out) == 108
    return out, data


def srec(length, ident=1, epoch=1, payload=None):
    """A service record: the library's 16-byte header, then the payload."""
    if payload is None:
        payload = bytes((i * 7 + 1) & 0xFF for i in range(length))
    return rec(16 + length, struct.pack('<QII', ident, epoch, 0) + payload)


def inbox(ops=(), flags=0, segbyte=0, magic=INBOX_MAGIC, version=INBOX_VERSION,
          hdr_size=INBOX_HDR_SIZE, lanes=None, iflags=None, lane_cap=I_CAP, owner=0, closed=0,
          lanes_used=0, sleeping=0, wake_seq=0, rings=()):
    svc = flags & IFL_SERVICE
    lanes = (2 if svc else 4) if lanes is None else lanes
    iflags = (REPLIES if svc else 0) if iflags is None else iflags
    ops = list(ops)
    assert len(ops) <= I_NOPS
    # the rest of the script: read whatever is there (a service's clients too)
    rest = ([iop(I_DRAIN, 0xFFFF), iop(I_REPLY, 8), iop(I_CRECV, 0xFFF, 0),
             iop(I_CRECV, 0xFFF, 1)] if svc else [iop(I_DRAIN, 0xFFFF)])
    ops += [rest[i % len(rest)] for i in range(I_NOPS - len(ops))]
    out = bytes([flags, segbyte]) + b''.join(ops)
    out += struct.pack('<IHHIIQ', magic, version, hdr_size, lanes, iflags, lane_cap)
    out += struct.pack('<QIIQII', owner, closed, lanes_used, 0, sleeping, wake_seq)
    rings = list(rings) + [iring()] * (4 - len(rings))
    out += b''.join(r[0] for r in rings)
    assert len(out) == 2 + 3 * I_NOPS + 56 + 4 * 108
    return out + b''.join(r[1] for r in rings)


def inbox_seeds():
    s = {}
    # the calls on a sound inbox, every message checked (the target's strict mode)
    s['fresh-ops'] = inbox([iop(I_SEND, 5, 0), iop(I_SEND, 100, 1), iop(I_RECV, 0xFFF),
                            iop(I_RECV, 0xFFF), iop(I_RESERVE, 100, 0), iop(I_COMMIT, 50, 0),
                            iop(I_PEEK), iop(I_PEEK), iop(I_RELEASE), iop(I_RELEASE),
                            iop(I_SEND, 300, 1), iop(I_RECV, 10), iop(I_RECV, 0xFFF),
                            iop(I_SEND, I_MAX + 1, 0), iop(I_SEND, 0, 0), iop(I_JOIN, 0, 2),
                            iop(I_SEND, 7, 2), iop(I_CLOSE, 0, 1), iop(I_JOIN, 0, 3),
                            iop(I_SEND, 9, 3), iop(I_DRAIN, 0xFFFF), iop(I_INFO, 7),
                            iop(I_REPLY, 0, 0), iop(I_CRECV)])
    s['fair-burst'] = inbox([iop(I_BURST, 0xF0FF, 0), iop(I_SEND, 3, 1), iop(I_RECV, 0xFFF),
                             iop(I_RECV, 0xFFF), iop(I_CRECV), iop(I_DRAIN, 0xFFFF)])
    s['consumer-first'] = inbox([iop(I_SEND, 5, 1), iop(I_CRECV), iop(I_RECV, 0xFFF)],
                                flags=IFL_CONS_FIRST)
    s['no-consumer'] = inbox([iop(I_BURST, 0xF0FF, 0), iop(I_BURST, 0xF0FF, 0),
                              iop(I_REPLY, 0, 0), iop(I_REOPEN), iop(I_DRAIN, 0xFFFF),
                              iop(I_BURST, 0x30FF, 0)], flags=IFL_NO_CONS)
    # the consumer closes holding a message: its successor gets it again
    s['reopen-held'] = inbox([iop(I_SEND, 40, 0), iop(I_SEND, 41, 1), iop(I_PEEK),
                              iop(I_REOPEN), iop(I_PEEK), iop(I_RECV, 10), iop(I_REOPEN),
                              iop(I_RECV, 0xFFF), iop(I_RELEASE), iop(I_RECV, 0xFFF)])
    s['consumer-gone'] = inbox([iop(I_SEND, 4, 0), iop(I_REOPEN, 2), iop(I_SEND, 5, 0),
                                iop(I_REPLY, 0, 0), iop(I_RESERVE, 8, 1), iop(I_REOPEN, 2),
                                iop(I_REOPEN), iop(I_COMMIT, 8, 1), iop(I_SEND, 6, 0)])
    s['fill-and-wrap'] = inbox([iop(I_BURST, 0xF0FF, 0)] * 3 + [iop(I_DRAIN, 0xFFFF)] +
                               [iop(I_BURST, 0xF0F0, 0)] * 3 + [iop(I_DRAIN, 0xFFFF)] * 2 +
                               [iop(I_RESERVE, I_MAX, 0), iop(I_COMMIT, I_MAX, 0),
                                iop(I_RECV, 0xFFF)])
    s['abort-rejoin'] = inbox([iop(I_SEND, 8, 0), iop(I_RESERVE, 30, 0), iop(I_CLOSE, 1, 0),
                               iop(I_JOIN, 0, 0), iop(I_SEND, 9, 0), iop(I_JOIN, 1, 1),
                               iop(I_COMMIT, 1, 1), iop(I_SEND, 2, 1)])
    s['waitset'] = inbox([iop(I_CRECV), iop(I_SEND, 1, 1), iop(I_CRECV), iop(I_RECV, 0xFFF),
                          iop(I_CRECV)])
    s['lanes-used-huge'] = inbox([iop(I_SEND, 5, 1), iop(I_RECV, 0xFFF), iop(I_JOIN, 0, 3),
                                  iop(I_SEND, 6, 3), iop(I_RECV, 0xFFF)],
                                 lanes_used=0xFFFFFFFF)
    s['lanes-used-poked'] = inbox([iop(I_SEND, 5, 1), ipoke_word(I_CLOSED_OFF, 0),
                                   iop(I_RECV, 0xFFF), iop(I_JOIN, 0, 2), iop(I_RECV, 0xFFF),
                                   ipoke_word(I_CLOSED_OFF, U64), iop(I_SEND, 1, 0),
                                   iop(I_RECV, 0xFFF), iop(I_INFO, 7)])
    s['sleep-flag'] = inbox([iop(I_SEND, 5, 0), iop(I_SEND, 5, 1), iop(I_INFO, 7)], sleeping=1,
                            wake_seq=0xFFFFFFFF)
    s['info-caps'] = inbox([iop(I_INFO, c) for c in range(8)] + [iop(I_INFO, 8)] +
                           [iop(I_SEND, 1, 0), iop(I_INFO, 1), iop(I_INFO, 2)])
    # shapes from the input: sound ones, and impossible ones
    shape = IFL_SHAPE
    s['shape-2-lanes'] = inbox([iop(I_JOIN, 0, 2), iop(I_SEND, 5, 1), iop(I_INFO, 7)],
                               flags=shape, lanes=2)
    s['shape-8k-lanes'] = inbox([iop(I_SEND, 4000, 0), iop(I_RESERVE, 4096, 1),
                                 iop(I_COMMIT, 4096, 1), iop(I_PEEK), iop(I_RELEASE),
                                 iop(I_RECV, 100)], flags=shape, lanes=2, lane_cap=8192)
    s['shape-16k-lane'] = inbox([iop(I_SEND, 4095, 0), iop(I_PEEK)], flags=shape, lanes=1,
                                lane_cap=16384)
    for name, kw in (('lanes-0', dict(lanes=0)), ('lanes-1025', dict(lanes=1025)),
                     ('lanes-5', dict(lanes=5)), ('cap-3-pages', dict(lane_cap=3 * 4096)),
                     ('cap-2048', dict(lane_cap=2048)), ('cap-2g', dict(lane_cap=1 << 31)),
                     ('flags-2', dict(iflags=2)), ('replies-too-big', dict(iflags=REPLIES)),
                     ('service-in-inbox', dict(iflags=REPLIES, lanes=2))):
        s['shape-' + name] = inbox([iop(I_INFO, 7), iop(I_SEND, 1, 0)], flags=shape, **kw)
    s['ident-magic'] = inbox(flags=IFL_IDENT, magic=0x12345678)
    s['ident-version'] = inbox(flags=IFL_IDENT, version=2)
    s['ident-hdr-size'] = inbox(flags=IFL_IDENT, hdr_size=128)
    for name, b in (('version', 0), ('flags', 4), ('name', 36)):
        s['seghdr-' + name] = inbox([iop(I_INFO, 7)], flags=IFL_SEGHDR, segbyte=b)
    # lanes with a past: records, dead owners, spoiled headers and positions
    three = rec(3) + rec(5) + rec(0)
    s['records'] = inbox([iop(I_RECV, 0xFFF), iop(I_PEEK), iop(I_RELEASE), iop(I_SEND, 2, 1)],
                         rings=[iring(), iring(tail=len(three), data=three)])
    s['dead-producer'] = inbox([iop(I_JOIN, 0, 2), iop(I_SEND, 4, 2), iop(I_DRAIN, 0xFFFF)],
                               flags=IFL_OWNERS | IFL_NO_CONS,
                               rings=[iring(owners=(DEAD, 0), tail=16, data=three)])
    s['dead-consumer'] = inbox([iop(I_REOPEN), iop(I_DRAIN, 0xFFFF)],
                               flags=IFL_OWNERS | IFL_NO_CONS, owner=DEAD,
                               rings=[iring(owners=(0, DEAD), tail=len(three), data=three)])
    s['len-over-max'] = inbox([iop(I_SEND, 3, 0), iop(I_DRAIN, 0xFFFF), iop(I_SEND, 4, 0),
                               iop(I_RECV, 0xFFF)],
                              rings=[iring(), iring(), iring(tail=16, data=rec(3000)[:16])])
    s['tail-beyond'] = inbox([iop(I_SEND, 3, 1), iop(I_DRAIN, 0xFFFF), iop(I_JOIN, 0, 2),
                              iop(I_REOPEN), iop(I_DRAIN, 0xFFFF)],
                             rings=[iring(tail=2 * I_CAP)])
    good = iring()
    s['lanehdr-magic'] = inbox([iop(I_SEND, 3, 0), iop(I_SEND, 3, 1), iop(I_DRAIN, 0xFFFF),
                                iop(I_JOIN, 0, 2), iop(I_JOIN, 0, 3)],
                               flags=IFL_LANEHDR, rings=[good, iring(magic=0), good, good])
    s['lanehdr-capacity'] = inbox([iop(I_JOIN, 0, 2), iop(I_JOIN, 0, 3), iop(I_DRAIN, 0xFFFF)],
                                  flags=IFL_LANEHDR,
                                  rings=[good, good, good, iring(capacity=8192)])
    s['wrap-pad'] = inbox([iop(I_SEND, 100, 0), iop(I_RECV, 0xFFF), iop(I_SEND, 100, 0),
                           iop(I_PEEK), iop(I_RELEASE)],
                          rings=[iring(tail=I_CAP - 16, head=I_CAP - 16)])
    s['pokes'] = inbox([iop(I_SEND, 30, 0), iop(I_POKE, I_LANES_OFF + 4096, hi=3),
                        iop(I_RECV, 0xFFF), iop(I_SEND, 31, 1),
                        ipoke_word(I_LANES_OFF + 8192 + 128, 15), iop(I_RECV, 0xFFF),
                        iop(I_REOPEN), iop(I_DRAIN, 0xFFFF), iop(I_JOIN, 0, 2), iop(I_INFO, 7)])

    # services
    svc = IFL_SERVICE
    s['svc-fresh'] = inbox([iop(I_SEND, 5, 0), iop(I_SEND, 10, 1), iop(I_RECV, 0xFFF),
                            iop(I_REPLY, 8), iop(I_CRECV, 0xFFF, 0), iop(I_PEEK),
                            iop(I_REPLY, ZC | 30), iop(I_RELEASE), iop(I_CRECV, ZC, 1),
                            iop(I_JOIN, 0, 2), iop(I_RESERVE, 50, 0), iop(I_COMMIT, 20, 0),
                            iop(I_RECV, 5), iop(I_RECV, 0xFFF), iop(I_REPLY, I_SVC_MAX + 1),
                            iop(I_REPLY, I_SVC_MAX), iop(I_CRECV, 10, 0), iop(I_CRECV, 0xFFF, 0),
                            iop(I_INFO, 7)], flags=svc)
    # a reply on its way as the lane changes hands: the next client never sees it
    s['svc-stale-reply'] = inbox([iop(I_SEND, 5, 0), iop(I_RECV, 0xFFF), iop(I_REPLY, 8),
                                  iop(I_CLOSE, 0, 0), iop(I_JOIN, 0, 2), iop(I_CRECV, 0xFFF, 2),
                                  iop(I_REPLY, 9), iop(I_SEND, 6, 2), iop(I_RECV, 0xFFF),
                                  iop(I_REPLY, 10), iop(I_CRECV, 0xFFF, 2)], flags=svc)
    s['svc-server-reopen'] = inbox([iop(I_SEND, 5, 0), iop(I_PEEK), iop(I_REOPEN),
                                    iop(I_RECV, 0xFFF), iop(I_REPLY, 4), iop(I_CRECV, 0xFFF, 0)],
                                   flags=svc)
    s['svc-server-gone'] = inbox([iop(I_SEND, 5, 0), iop(I_RECV, 0xFFF), iop(I_REPLY, 4),
                                  iop(I_REOPEN, 2), iop(I_CRECV, 0xFFF, 0),
                                  iop(I_CRECV, 0xFFF, 0), iop(I_SEND, 1, 0), iop(I_REOPEN),
                                  iop(I_SEND, 2, 0)], flags=svc)
    s['svc-no-server'] = inbox([iop(I_SEND, 5, 0), iop(I_CRECV, 0xFFF, 0), iop(I_REOPEN)],
                               flags=svc | IFL_NO_CONS)
    s['svc-fill-replies'] = inbox([iop(I_SEND, 1, 0), iop(I_RECV, 0xFFF)] +
                                  [iop(I_REPLY, 1000)] * 6 + [iop(I_CRECV, 0xFFF, 0)] * 4,
                                  flags=svc)
    short = rec(4, b'tiny')
    s['svc-short-request'] = inbox([iop(I_RECV, 0xFFF), iop(I_RECV, 0xFFF), iop(I_SEND, 3, 1),
                                    iop(I_RECV, 0xFFF)], flags=svc,
                                   rings=[iring(tail=len(short), data=short)])
    s['svc-epoch-wrap'] = inbox([iop(I_SEND, 5, 0), iop(I_RECV, 0xFFF), iop(I_REPLY, 3),
                                 iop(I_CRECV, 0xFFF, 0)], flags=svc | IFL_CONS_FIRST,
                                rings=[iring(epoch=0xFFFFFFFF)])
    s['svc-reply-ring-bad'] = inbox([iop(I_SEND, 5, 0), iop(I_SEND, 5, 1), iop(I_RECV, 0xFFF),
                                     iop(I_RECV, 0xFFF), iop(I_REPLY, 3)],
                                    flags=svc | IFL_LANEHDR,
                                    rings=[good, iring(max_msg=I_CAP), good, good])
    old_reply = srec(6, ident=3, epoch=7)
    s['svc-dead-client'] = inbox([iop(I_CRECV, 0xFFF, 0), iop(I_SEND, 2, 0), iop(I_RECV, 0xFFF),
                                  iop(I_REPLY, 2), iop(I_CRECV, 0xFFF, 0)],
                                 flags=svc | IFL_OWNERS | IFL_NO_CONS,
                                 rings=[iring(owners=(DEAD, 0), epoch=7),
                                        iring(owners=(0, DEAD), tail=len(old_reply),
                                              data=old_reply)])
    s['svc-shape-8k'] = inbox([iop(I_SEND, 4000, 0), iop(I_RECV, 0xFFF), iop(I_REPLY, 4000),
                               iop(I_CRECV, ZC, 0)], flags=svc | shape, lanes=1,
                              lane_cap=8192)
    s['svc-inbox-shape'] = inbox([iop(I_INFO, 7)], flags=svc | shape, lanes=4, iflags=0)
    s['svc-pokes'] = inbox([iop(I_SEND, 5, 0), ipoke_word(I_LANES_OFF + 2048, 0),
                            iop(I_RECV, 0xFFF), iop(I_REPLY, 3), iop(I_CRECV, 0xFFF, 0),
                            iop(I_POKE, I_LANES_OFF + 4096 + 4096 + 4096, hi=1),
                            iop(I_CRECV, 0xFFF, 0), iop(I_CLOSE, 0, 0), iop(I_JOIN, 0, 0)],
                           flags=svc)
    return s


def write(dirname, seeds):
    path = os.path.join(HERE, 'corpus', dirname)
    os.makedirs(path, exist_ok=True)
    for f in os.listdir(path):
        if f.startswith('seed-'):
            os.unlink(os.path.join(path, f))
    for name, data in sorted(seeds.items()):
        with open(os.path.join(path, 'seed-' + name), 'wb') as f:
            f.write(data)
    return len(seeds)


def main():
    n = write('chan', chan_seeds())
    t = write('topic', topic_seeds())
    b = write('inbox', inbox_seeds())
    m = write('parse', parse_seeds())
    print('wrote %d channel, %d topic, %d inbox and %d parser seeds under %s'
          % (n, t, b, m, os.path.join(HERE, 'corpus')))
    return 0


if __name__ == '__main__':
    sys.exit(main())

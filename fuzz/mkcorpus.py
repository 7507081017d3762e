#!/usr/bin/env python3
"""Writes the crafted seed corpus: fuzz/corpus/chan/seed-* and
fuzz/corpus/parse/seed-*. The input formats are described at the top of
fuzz/chan_fuzz.c and fuzz/parse_fuzz.c. Run from anywhere; it rewrites only
the seed-* files (entries found by the fuzzer and merged in are left alone).

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
    m = write('parse', parse_seeds())
    print('wrote %d channel and %d parser seeds under %s' % (n, m, os.path.join(HERE, 'corpus')))
    return 0


if __name__ == '__main__':
    sys.exit(main())

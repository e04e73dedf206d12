"""SPMF sequence text: the writers (parallel, and one pass on one thread) and the strict reader."""

from __future__ import annotations

import numba
import numpy as np

from medmgen.spelling import digits, put, spelling, store8

_S56 = np.uint64(56)
_LOW56 = np.uint64((1 << 56) - 1)
_END_SET = np.uint64(45 | 49 << 8 | 32 << 16)  # "-1 " (little-endian bytes of one 8-byte store)
_END_SEQ = np.uint64(45 | 50 << 8 | 10 << 16)  # "-2\n"


@numba.njit(cache=True, nogil=True)
def _word_table(top: int) -> np.ndarray:
    """:func:`~medmgen.spelling.spelling`'s words with each id's width in the top byte: one
    gather per id."""
    words, width = spelling(top)
    return words | (width.astype(np.uint64) << _S56)


@numba.njit(cache=True, nogil=True, inline="always")
def _put_sequence(buf: np.ndarray, w: int, s: int, seq_off: np.ndarray, set_off: np.ndarray, items: np.ndarray,
                  times: np.ndarray, table: np.ndarray, own_tail: bool) -> int:
    """Sequence ``s`` as SPMF text at ``buf[w:]``; returns the position after it.

    Ids and ``-1`` are 8-byte stores whose spill the sequence's next bytes cover; with
    ``own_tail`` (a writer that owns what follows) its ending spills past it too, else the
    last ``-1 -2`` and the newline are single bytes, so parallel writers never overlap.
    """
    m = table.shape[0]
    t0, t1 = seq_off[s], seq_off[s + 1]
    for t in range(t0, t1):
        if times.shape[0]:
            buf[w] = 60
            w = put(buf, w + 1, times[t])
            buf[w] = 62
            buf[w + 1] = 32
            w += 2
        for x in range(set_off[t], set_off[t + 1]):
            v = items[x]
            if v < m:
                word = table[v]
                store8(buf, w, word & _LOW56)
                w += int(word >> _S56)
            else:
                w = put(buf, w, v)
                buf[w] = 32
                w += 1
        if own_tail or t < t1 - 1:
            store8(buf, w, _END_SET)
        else:
            buf[w] = 45
            buf[w + 1] = 49
            buf[w + 2] = 32
        w += 3
    if own_tail:
        store8(buf, w, _END_SEQ)
    else:
        buf[w] = 45
        buf[w + 1] = 50
        buf[w + 2] = 10
    return w + 3


@numba.njit(cache=True, parallel=True, nogil=True)
def spmf_bytes(seq_off: np.ndarray, set_off: np.ndarray, items: np.ndarray, times: np.ndarray, lo: int,
               hi: int) -> np.ndarray:
    """SPMF text of sequences ``lo..hi-1``: ``5 -1 8 9 -1 2 -1 -2`` and a newline per sequence.

    With a non-empty ``times`` (one per itemset) each itemset starts with ``<t>``
    (SPMF's timestamped format): ``<0> 5 -1 <3> 8 9 -1 -2``. Each sequence's bytes are
    sized, then written at their offset, in parallel over sequences (same bytes for any
    thread count); :func:`spmf_text` writes the same bytes on one thread in one pass.
    """
    timed = times.shape[0] > 0
    top = 0
    for x in range(set_off[seq_off[lo]], set_off[seq_off[hi]]):
        top = max(top, items[x])
    table = _word_table(top)
    m = table.shape[0]
    start = np.zeros(hi - lo + 1, np.int64)
    for s in numba.prange(lo, hi):
        size = 3
        for t in range(seq_off[s], seq_off[s + 1]):
            for x in range(set_off[t], set_off[t + 1]):
                v = items[x]
                size += int(table[v] >> _S56) if v < m else digits(v) + 1
            size += 3
            if timed:
                size += digits(times[t]) + 3
        start[s - lo + 1] = size
    for i in range(hi - lo):
        start[i + 1] += start[i]
    buf = np.empty(start[hi - lo], np.uint8)
    for s in numba.prange(lo, hi):
        _put_sequence(buf, start[s - lo], s, seq_off, set_off, items, times, table, False)
    return buf


@numba.njit(cache=True, nogil=True)
def spmf_text(seq_off: np.ndarray, set_off: np.ndarray, items: np.ndarray, times: np.ndarray, lo: int,
              hi: int) -> np.ndarray:
    """:func:`spmf_bytes`' text on one thread, in one pass into a buffer sized from the
    largest id (and time) instead of a sizing pass (a view of the written bytes)."""
    a, z = set_off[seq_off[lo]], set_off[seq_off[hi]]
    top = 0
    for x in range(a, z):
        top = max(top, items[x])
    n_sets = seq_off[hi] - seq_off[lo]
    stamp = 0
    if times.shape[0]:
        latest = 0
        for t in range(seq_off[lo], seq_off[hi]):
            latest = max(latest, times[t])
        stamp = digits(latest) + 3
    table = _word_table(top)
    buf = np.empty((z - a) * (digits(top) + 1) + n_sets * (3 + stamp) + (hi - lo) * 3 + 8, np.uint8)
    w = 0
    for s in range(lo, hi):
        w = _put_sequence(buf, w, s, seq_off, set_off, items, times, table, True)
    return buf[:w]


@numba.njit(cache=True, inline="always")
def _set_in_order(items: np.ndarray, a: int, b: int) -> bool:
    """Sort ``items[a:b]`` in place (insertion sort when short or already sorted); False
    when an item repeats."""
    ordered = True
    for x in range(a + 1, b):
        if items[x] <= items[x - 1]:
            ordered = False
            break
    if ordered:
        return True
    if b - a > 32:
        items[a:b].sort()
    else:
        for x in range(a + 1, b):
            v = items[x]
            y = x
            while y > a and items[y - 1] > v:
                items[y] = items[y - 1]
                y -= 1
            items[y] = v
    repeated = False
    for x in range(a + 1, b):
        repeated |= items[x] == items[x - 1]
    return not repeated


@numba.njit(cache=True)
def parse_spmf(data: np.ndarray):
    """Parse SPMF sequence text into CSR arrays, or report the first malformed line.

    One sequence a line; lines that are empty or start with ``#``, ``%`` or ``@`` are
    skipped. A timestamp ``<t>`` (SPMF's timestamped format; read, checked, not kept) goes
    before an itemset's first item, followed by a space; a file has one on every itemset or
    on none. Returns ``(error, line, seq_off, set_off, items)``: ``error`` 0 when the text
    is valid, else 1 a token that is not an integer, 2 an item id < 1 or > 2**31 - 1
    (other than -1/-2), 3 an empty itemset, 4 -2 before the last itemset ended with -1 (or
    no itemset), 5 a line that does not end with -2, 6 text after -2, 7 an item repeated
    within an itemset, 8 a malformed timestamp (not ``<digits>`` then a space, or above
    10**18), 9 a negative timestamp, 10 a timestamp that does not start an itemset,
    11 timestamps on some itemsets only, 12 a time earlier than the previous itemset's;
    ``line`` is 1-based. Items of an itemset are stored sorted.
    """
    n = data.shape[0]
    seq_off = np.zeros(n // 3 + 2, np.int64)
    set_off = np.zeros(n // 3 + 2, np.int64)
    items = np.empty(n // 2 + 1, np.int32)
    n_seq = 0
    n_set = 0
    w = 0
    line = 1
    timed = -1  # unknown until the first itemset ends; then 0 or 1 for the whole file
    i = 0
    while i < n:
        c = data[i]
        if c == 10 or c == 13 or c == 32 or c == 9:
            if c == 10:
                line += 1
            i += 1
            continue
        if c == 35 or c == 37 or c == 64:
            while i < n and data[i] != 10:
                i += 1
            continue
        ended = False
        stamped = False  # the open itemset has a timestamp
        last = -1  # the previous itemset's time in this sequence
        while i < n and data[i] != 10:
            c = data[i]
            if c == 32 or c == 9 or c == 13:
                i += 1
                continue
            if ended:
                return 6, line, seq_off[:1], set_off[:1], items[:0]
            if c == 60:  # a timestamp <t>
                i += 1
                if i < n and data[i] == 45:
                    return 9, line, seq_off[:1], set_off[:1], items[:0]
                t = 0
                nd = 0
                while i < n and 48 <= data[i] <= 57:
                    if t <= 10**18:
                        t = t * 10 + (data[i] - 48)
                    nd += 1
                    i += 1
                if nd == 0 or t > 10**18 or i + 1 >= n or data[i] != 62 or (data[i + 1] != 32 and data[i + 1] != 9):
                    return 8, line, seq_off[:1], set_off[:1], items[:0]
                if stamped or w != set_off[n_set]:
                    return 10, line, seq_off[:1], set_off[:1], items[:0]
                if t < last:
                    return 12, line, seq_off[:1], set_off[:1], items[:0]
                last = t
                stamped = True
                i += 2
                continue
            neg = c == 45
            if neg:
                i += 1
            v = 0
            nd = 0
            while i < n and 48 <= data[i] <= 57:
                if v < 2**32:
                    v = v * 10 + (data[i] - 48)
                nd += 1
                i += 1
            if nd == 0 or (i < n and data[i] != 32 and data[i] != 9 and data[i] != 10 and data[i] != 13):
                return 1, line, seq_off[:1], set_off[:1], items[:0]
            if neg and v == 1:
                start = set_off[n_set]
                if w == start:
                    return 3, line, seq_off[:1], set_off[:1], items[:0]
                if not _set_in_order(items, start, w):
                    return 7, line, seq_off[:1], set_off[:1], items[:0]
                if timed != int(stamped):
                    if timed >= 0:
                        return 11, line, seq_off[:1], set_off[:1], items[:0]
                    timed = int(stamped)
                stamped = False
                n_set += 1
                set_off[n_set] = w
            elif neg and v == 2:
                if stamped:
                    return 10, line, seq_off[:1], set_off[:1], items[:0]
                if w != set_off[n_set] or n_set == seq_off[n_seq]:
                    return 4, line, seq_off[:1], set_off[:1], items[:0]
                n_seq += 1
                seq_off[n_seq] = n_set
                ended = True
            elif neg or v < 1 or v > 2**31 - 1:
                return 2, line, seq_off[:1], set_off[:1], items[:0]
            else:
                items[w] = v
                w += 1
        if not ended:
            return 5, line, seq_off[:1], set_off[:1], items[:0]
    return 0, line, seq_off[: n_seq + 1].copy(), set_off[: n_set + 1].copy(), items[:w].copy()

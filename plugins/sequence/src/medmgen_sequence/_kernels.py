"""Every numba kernel of the sequence modality.

Data layout (CSR): sequence ``s`` owns itemsets ``seq_off[s]:seq_off[s+1]``; itemset ``t``
owns items ``set_off[t]:set_off[t+1]`` of ``items`` (sorted, distinct). Offsets are
global for a whole block.

Randomness is counter-based: a value is a hash of an explicit 64-bit key (from
:func:`medmgen.seeds.state_words`) and its coordinates (sequence index, position, slot).
Kernels never hold generator state, so a chunk's output depends only on the key and the
global indices it covers, never on chunking or worker count. The parallel kernels keep the
GIL: a Python thread running beside numba's thread team (it is on every core) slows both.
"""

from __future__ import annotations

import numba
import numpy as np

from medmgen.spelling import digits, put, spelling, store8

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53
UNBOUNDED = 2**30  # max_gap meaning "no limit"


@numba.njit(cache=True, inline="always")
def mix(z: np.uint64) -> np.uint64:
    """splitmix64 finaliser of ``z + golden``."""
    z = z + _GOLDEN
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@numba.njit(cache=True, inline="always")
def _unit(h: np.uint64) -> float:
    return float(h >> _S11) * _TO_UNIT


@numba.njit(cache=True, inline="always")
def uniform(key: np.uint64, a: int, b: int, c: int) -> float:
    """A uniform in [0, 1) addressed by ``key`` and three coordinates."""
    return _unit(mix(mix(mix(key ^ np.uint64(a)) ^ np.uint64(b)) ^ np.uint64(c)))


@numba.njit(cache=True, inline="always")
def _draw(cdf: np.ndarray, u: float) -> int:
    """Index ``k`` with ``cdf[k-1] <= u < cdf[k]`` (inverse-CDF draw)."""
    lo, hi = 0, cdf.shape[0] - 1
    while lo < hi:
        mid = (lo + hi) >> 1
        if u < cdf[mid]:
            hi = mid
        else:
            lo = mid + 1
    return lo


@numba.njit(cache=True)
def guide_table(cdf: np.ndarray, bits: int) -> np.ndarray:
    """``guide[g] = _draw(cdf, g / 2**bits)``: where a draw of ``u`` in ``[g, g + 1) / 2**bits``
    starts looking (empty for an empty ``cdf``)."""
    size = 1 << bits if cdf.shape[0] else 0
    out = np.empty(size, np.int32)
    for g in range(size):
        out[g] = _draw(cdf, g / size)
    return out


@numba.njit(cache=True, inline="always")
def _draw_guided(cdf: np.ndarray, guide: np.ndarray, u: float) -> int:
    """:func:`_draw` from the guide's start (a power-of-two table, so ``u * len`` is exact):
    the same index, in a step or two instead of a binary search."""
    k = guide[int(u * guide.shape[0])]
    while u >= cdf[k]:
        k += 1
    return k


@numba.njit(cache=True)
def draw_counts(key: np.uint64, lo: int, hi: int, stream: int, cdf: np.ndarray) -> np.ndarray:
    """Counts ``1..len(cdf)`` for records ``lo..hi-1``, drawn from ``cdf``."""
    out = np.empty(hi - lo, np.int32)
    for s in range(lo, hi):
        out[s - lo] = 1 + _draw(cdf, uniform(key, s, stream, 0))
    return out


@numba.njit(cache=True, inline="always")
def _feistel(key: np.uint64, x: np.uint64, half: int) -> np.uint64:
    """A keyed bijection of ``[0, 4**half)``: six Feistel rounds over two ``half``-bit halves."""
    mask = (np.uint64(1) << np.uint64(half)) - np.uint64(1)
    left = x >> np.uint64(half)
    right = x & mask
    for r in range(6):
        f = mix(key ^ (right + (np.uint64(r) << np.uint64(40)))) & mask
        left, right = right, left ^ f
    return (left << np.uint64(half)) | right


@numba.njit(cache=True)
def permutation_prefix(key: np.uint64, n: int, count: int, allowed: np.ndarray) -> np.ndarray:
    """The first ``count`` values of a keyed pseudo-random permutation of ``0..n-1``.

    Cycle-walking a Feistel bijection of the smallest ``4**half >= n``: prefixes are
    nested, so the sample of ``count + 1`` contains the sample of ``count``. With a
    non-empty boolean ``allowed``, values where it is false are skipped (fewer than
    ``count`` come back when fewer are allowed).
    """
    half = 1
    while (1 << (2 * half)) < n:
        half += 1
    out = np.empty(count, np.int64)
    m = 0
    i = 0
    while m < count and i < n:
        x = _feistel(key, np.uint64(i), half)
        while x >= np.uint64(n):
            x = _feistel(key, x, half)
        i += 1
        if allowed.shape[0] == 0 or allowed[x]:
            out[m] = np.int64(x)
            m += 1
    return out[:m]


@numba.njit(cache=True, inline="always")
def _geometric(u: float, mean: float) -> int:
    """A gap ``>= 1`` with the given mean (geometric distribution) from a uniform."""
    if mean <= 1.0:
        return 1
    return 1 + int(np.log(1.0 - u) / np.log(1.0 - 1.0 / mean))


@numba.njit(cache=True)
def sequence_times(tkey: np.uint64, s: int, length: int, kind: int, interval: int, burst: float, pause: int,
                   out: np.ndarray) -> None:
    """Times of sequence ``s``'s itemsets into ``out[:length]``: 0 first, then kind 1 regular,
    2 geometric gaps of mean ``interval``, 3 bursts (gap 1; a new burst with probability
    ``1/burst`` after a geometric pause of mean ``pause``); kind 0 leaves zeros."""
    t = 0
    hs = mix(tkey ^ np.uint64(s))
    for p in range(length):
        if p > 0 and kind != 0:
            if kind == 1:
                t += interval
            else:
                hp = mix(hs ^ np.uint64(p))
                u = _unit(mix(hp))
                if kind == 2:
                    t += _geometric(u, interval)
                elif u * burst < 1.0:
                    t += _geometric(_unit(mix(hp ^ np.uint64(1))), pause)
                else:
                    t += 1
        out[p] = t


@numba.njit(cache=True)
def sequence_starts(key: np.uint64, n: int, arrival: int) -> np.ndarray:
    """Start time of each of ``n`` sequences: 0, then geometric gaps of mean ``arrival`` (0: all start at 0)."""
    out = np.zeros(n, np.int64)
    if arrival == 0:
        return out
    for s in range(1, n):
        out[s] = out[s - 1] + _geometric(uniform(key, s, 0, 0), arrival)
    return out


@numba.njit(cache=True)
def draw_times(tkey: np.uint64, seq_off: np.ndarray, kind: int, interval: int, burst: float,
               pause: int) -> np.ndarray:
    """Times of every itemset of the sequences in ``seq_off`` (global offsets, sequence 0 first)."""
    out = np.zeros(seq_off[-1], np.int64)
    for s in range(seq_off.shape[0] - 1):
        sequence_times(tkey, s, seq_off[s + 1] - seq_off[s], kind, interval, burst, pause, out[seq_off[s]:])
    return out


@numba.njit(cache=True)
def window_feasible(tkey: np.uint64, lengths: np.ndarray, k: int, min_gap: int, window: int, kind: int,
                    interval: int, burst: float, pause: int) -> np.ndarray:
    """Which sequences (lengthened to the span if shorter) can hold ``k`` itemsets ``min_gap``
    apart within ``window`` time units."""
    need = 1 + (k - 1) * min_gap
    longest = need
    for s in range(lengths.shape[0]):
        longest = max(longest, lengths[s])
    buf = np.empty(longest, np.int64)
    out = np.zeros(lengths.shape[0], np.bool_)
    for s in range(lengths.shape[0]):
        length = max(lengths[s], need)
        sequence_times(tkey, s, length, kind, interval, burst, pause, buf)
        for p in range(length - need + 1):
            if buf[p + need - 1] - buf[p] <= window:
                out[s] = True
                break
    return out


@numba.njit(cache=True)
def embed_positions(key: np.uint64, hosts: np.ndarray, lengths: np.ndarray, k: int, min_gap: int, max_gap: int,
                    window: int, tkey: np.uint64, kind: int, interval: int, burst: float,
                    pause: int) -> np.ndarray:
    """Positions ``p_1 < ... < p_k`` in each host honouring the gaps and the time window.

    ``p_1`` is uniform over the starts that leave room for the rest (and, with
    ``window >= 0``, fit the window); each next gap is uniform over ``min_gap..max_gap``
    cut to what still leaves room. Hosts must be long enough and window-feasible.
    """
    out = np.empty((hosts.shape[0], k), np.int32)
    longest = 1
    for h in range(hosts.shape[0]):
        longest = max(longest, lengths[h])
    times = np.zeros(longest, np.int64)
    tail = (k - 1) * min_gap
    for h in range(hosts.shape[0]):
        s = hosts[h]
        length = lengths[h]
        room = length - 1 - tail
        u = uniform(key, s, 0, 0)
        if window < 0:
            p = int(u * (room + 1))
        else:
            sequence_times(tkey, s, length, kind, interval, burst, pause, times)
            fits = 0
            for q in range(room + 1):
                fits += times[q + tail] - times[q] <= window
            pick = int(u * fits)
            p = 0
            for q in range(room + 1):
                if times[q + tail] - times[q] <= window:
                    if pick == 0:
                        p = q
                        break
                    pick -= 1
        first = p
        out[h, 0] = p
        for i in range(1, k):
            rest = (k - 1 - i) * min_gap
            hi = min(max_gap, length - 1 - p - rest)
            if window >= 0:
                while hi > min_gap and times[p + hi + rest] - times[first] > window:
                    hi -= 1
            p += min_gap + int(uniform(key, s, i, 0) * (hi - min_gap + 1))
            out[h, i] = p
    return out


@numba.njit(cache=True)
def _plants(i_lo: int, i_hi: int, seq_off: np.ndarray, host_off: np.ndarray, host_seq: np.ndarray,
            host_pos: np.ndarray, pat_off: np.ndarray, pat_set_off: np.ndarray,
            pat_items: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Planted items of the itemsets of records ``i_lo..i_hi-1``, sorted and distinct per itemset
    (arguments as in :func:`fill_sequences`). Returns CSR ``(off, items)`` over the range's
    itemsets: itemset ``seq_off[i_lo] + t`` owns ``items[off[t]:off[t+1]]``."""
    t_lo = seq_off[i_lo]
    nt = seq_off[i_hi] - t_lo
    off = np.zeros(nt + 1, np.int64)
    n_pat = pat_off.shape[0] - 1
    first = np.empty(n_pat, np.int64)
    last = np.empty(n_pat, np.int64)
    bases = np.empty(n_pat, np.int64)  # where pattern j's positions start in host_pos
    base = 0
    for j in range(n_pat):
        k = pat_off[j + 1] - pat_off[j]
        hosts = host_seq[host_off[j]:host_off[j + 1]]
        first[j] = np.searchsorted(hosts, i_lo)
        last[j] = np.searchsorted(hosts, i_hi)
        bases[j] = base
        base += k * hosts.shape[0]
        for h in range(first[j], last[j]):
            s0 = seq_off[hosts[h]] - t_lo
            for i in range(k):
                t = s0 + host_pos[bases[j] + h * k + i]
                off[t + 1] += pat_set_off[pat_off[j] + i + 1] - pat_set_off[pat_off[j] + i]
    for t in range(nt):
        off[t + 1] += off[t]
    items = np.empty(off[nt], np.int32)
    fill = off[:-1].copy()
    for j in range(n_pat):
        k = pat_off[j + 1] - pat_off[j]
        hosts = host_seq[host_off[j]:host_off[j + 1]]
        for h in range(first[j], last[j]):
            s0 = seq_off[hosts[h]] - t_lo
            for i in range(k):
                t = s0 + host_pos[bases[j] + h * k + i]
                for x in range(pat_set_off[pat_off[j] + i], pat_set_off[pat_off[j] + i + 1]):
                    items[fill[t]] = pat_items[x]
                    fill[t] += 1
    w = 0  # sort and dedupe each itemset's planted items, compacting in place
    for t in range(nt):
        a, b = off[t], off[t + 1]
        off[t] = w
        if b - a > 1:
            _sort(items, a, b)
        for x in range(a, b):
            if x == a or items[x] != items[x - 1]:
                items[w] = items[x]
                w += 1
    off[nt] = w
    return off, items[:w]


@numba.njit(cache=True, inline="always")
def _sort(buf: np.ndarray, a: int, b: int) -> None:
    """Sort ``buf[a:b]`` in place: up to 8 values by odd-even transposition (compare-exchanges
    without branches, the common itemset), more by insertion."""
    if b - a <= 8:
        for r in range(b - a):
            for i in range(a + (r & 1), b - 1, 2):
                x, y = buf[i], buf[i + 1]
                buf[i], buf[i + 1] = min(x, y), max(x, y)
        return
    for r in range(a + 1, b):
        v = buf[r]
        x = r - 1
        while x >= a and buf[x] > v:
            buf[x + 1] = buf[x]
            x -= 1
        buf[x + 1] = v


@numba.njit(cache=True, inline="always")
def _size(hp: np.uint64, size_cdf: np.ndarray, size_guide: np.ndarray, n_items: int, planted: int) -> int:
    """Items of the itemset with hash ``hp`` holding ``planted`` distinct planted items."""
    return planted + min(1 + _draw_guided(size_cdf, size_guide, _unit(mix(hp))), n_items - planted)


@numba.njit(cache=True, inline="always")
def _fill_itemset(hp: np.uint64, size: int, pop_cdf: np.ndarray, pop_guide: np.ndarray, n_items: int,
                  plant: np.ndarray, a: int, b: int, out: np.ndarray, w: int) -> None:
    """Itemset with hash ``hp`` into ``out[w:w+size]``, sorted: the planted ``plant[a:b]`` (sorted,
    distinct) and ``z = size - (b - a)`` distinct background ids other than those, drawn
    (uniform when ``pop_cdf`` is empty, else from it) in up to ``32 * z`` attempts; if that
    is not enough, the smallest unused ids complete the itemset."""
    m = b - a
    for q in range(m):
        out[w + q] = plant[a + q]
    z = size - m
    attempt = 1
    while m < size and attempt <= 32 * z:
        u = _unit(mix(hp ^ np.uint64(attempt)))
        attempt += 1
        if pop_cdf.shape[0] == 0:
            item = 1 + int(u * n_items)
        else:
            item = 1 + _draw_guided(pop_cdf, pop_guide, u)
        if not _holds(out, w, m, item):
            out[w + m] = item
            m += 1
    item = 0
    while m < size:
        item += 1
        if not _holds(out, w, m, item):
            out[w + m] = item
            m += 1
    _sort(out, w, w + size)


@numba.njit(cache=True, inline="always")
def _holds(out: np.ndarray, w: int, m: int, item: int) -> bool:
    """Whether ``item`` is among ``out[w:w + m]``."""
    for r in range(m):  # noqa: SIM110 (a plain loop: numba compiles it, not a generator)
        if out[w + r] == item:
            return True
    return False


PLANT_BLOCK = 4096  # records whose planted items are gathered at once (their tables stay in cache)


@numba.njit(cache=True)
def _size_range(key: np.uint64, lo: int, lengths: np.ndarray, seq_off: np.ndarray, size_cdf: np.ndarray,
                size_guide: np.ndarray, n_items: int, plants: tuple, i_lo: int, i_hi: int, sizes: np.ndarray) -> None:
    """``sizes[t + 1]``: items of each itemset ``t`` of records ``i_lo..i_hi-1``."""
    for b_lo in range(i_lo, i_hi, PLANT_BLOCK):
        b_hi = min(i_hi, b_lo + PLANT_BLOCK)
        off, _ = _plants(b_lo, b_hi, seq_off, *plants)
        t_lo = seq_off[b_lo]
        for i in range(b_lo, b_hi):
            hs = mix(key ^ np.uint64(lo + i))
            t = seq_off[i]
            for p in range(lengths[i]):
                sizes[t + p + 1] = _size(mix(hs ^ np.uint64(p + 1)), size_cdf, size_guide, n_items,
                                         off[t + p - t_lo + 1] - off[t + p - t_lo])


@numba.njit(cache=True)
def _fill_range(key: np.uint64, lo: int, lengths: np.ndarray, seq_off: np.ndarray, set_off: np.ndarray,
                pop_cdf: np.ndarray, pop_guide: np.ndarray, n_items: int, plants: tuple, i_lo: int, i_hi: int,
                items: np.ndarray) -> None:
    """Itemsets of records ``i_lo..i_hi-1`` into ``items`` at ``set_off``."""
    for b_lo in range(i_lo, i_hi, PLANT_BLOCK):
        b_hi = min(i_hi, b_lo + PLANT_BLOCK)
        off, plant = _plants(b_lo, b_hi, seq_off, *plants)
        t_lo = seq_off[b_lo]
        for i in range(b_lo, b_hi):
            hs = mix(key ^ np.uint64(lo + i))
            for p in range(lengths[i]):
                t = seq_off[i] + p
                _fill_itemset(mix(hs ^ np.uint64(p + 1)), set_off[t + 1] - set_off[t], pop_cdf, pop_guide, n_items,
                              plant, off[t - t_lo], off[t - t_lo + 1], items, set_off[t])


@numba.njit(cache=True, parallel=True)
def fill_sequences(key: np.uint64, lo: int, lengths: np.ndarray, size_cdf: np.ndarray, size_guide: np.ndarray,
                   pop_cdf: np.ndarray, pop_guide: np.ndarray, n_items: int, host_off: np.ndarray,
                   host_seq: np.ndarray, host_pos: np.ndarray, pat_off: np.ndarray, pat_set_off: np.ndarray,
                   pat_items: np.ndarray, chunk: int):
    """Itemsets of records ``lo..lo+len(lengths)-1``: background items plus planted ones.

    Pattern ``j`` (itemsets ``pat_off[j]:pat_off[j+1]`` of the CSR ``pat_set_off`` ->
    ``pat_items``) is planted in the records ``host_seq[host_off[j]:host_off[j+1]]`` (sorted,
    counted from record ``lo``); its ``i``-th itemset goes to position
    ``host_pos[b_j + h * k_j + i]`` of its ``h``-th host, where ``k_j`` is its length and
    ``b_j`` the sum of ``k * hosts`` over the patterns before it.

    An itemset at ``(s, p)`` holds its distinct planted items and ``z`` distinct background
    ids other than those: ``z`` drawn from ``size_cdf`` (cut at what the alphabet has left),
    the ids uniform when ``pop_cdf`` is empty, else from it (each cdf with its
    :func:`guide_table`). Each chunk of ``chunk`` records gathers its own planted items;
    chunks run in parallel (``prange``), sizes first, then items at their final offsets,
    so the arrays depend neither on ``chunk`` nor on the thread count. Returns ``seq_off``,
    ``set_off`` and ``items`` (offsets from 0).
    """
    n = lengths.shape[0]
    seq_off = np.zeros(n + 1, np.int64)
    for i in range(n):
        seq_off[i + 1] = seq_off[i] + lengths[i]
    n_sets = seq_off[n]
    n_chunks = (n + chunk - 1) // chunk
    plants = (host_off, host_seq, host_pos, pat_off, pat_set_off, pat_items)
    set_off = np.zeros(n_sets + 1, np.int64)  # sizes, then offsets
    for c in numba.prange(n_chunks):
        _size_range(key, lo, lengths, seq_off, size_cdf, size_guide, n_items, plants, c * chunk,
                    min(n, (c + 1) * chunk), set_off)
    for t in range(n_sets):
        set_off[t + 1] += set_off[t]
    items = np.empty(set_off[n_sets], np.int32)
    for c in numba.prange(n_chunks):
        _fill_range(key, lo, lengths, seq_off, set_off, pop_cdf, pop_guide, n_items, plants, c * chunk,
                    min(n, (c + 1) * chunk), items)
    return seq_off, set_off, items


@numba.njit(cache=True, inline="always")
def _subset(pat: np.ndarray, a: int, b: int, items: np.ndarray, c: int, d: int) -> bool:
    """Is the sorted ``pat[a:b]`` a subset of the sorted ``items[c:d]``?"""
    while a < b:
        if c >= d:
            return False
        if items[c] < pat[a]:
            c += 1
        elif items[c] == pat[a]:
            a += 1
            c += 1
        else:
            return False
    return True


@numba.njit(cache=True)
def _embeds(pat_items: np.ndarray, pat_set_off: np.ndarray, i0: int, i1: int, items: np.ndarray,
            set_off: np.ndarray, base: int, start: int, stop: int, fixed: int, min_gap: int, max_gap: int,
            prev: np.ndarray, cur: np.ndarray, pref: np.ndarray) -> bool:
    """Can pattern itemsets ``i0..i1-1`` embed in positions ``start..stop-1`` of the sequence
    whose first itemset is ``base`` (first itemset at ``fixed`` when ``fixed >= 0``)?

    Dynamic programme: ``cur[r]`` says whether an embedding of the itemsets so far can end
    at position ``start + r``; a prefix sum of the previous row tests the gap range.
    """
    n = stop - start
    for i in range(i0, i1):
        a, b = pat_set_off[i], pat_set_off[i + 1]
        if i > i0:
            pref[0] = 0
            for r in range(n):
                pref[r + 1] = pref[r] + prev[r]
        any_reach = False
        for r in range(n):
            p = start + r
            if i == i0:
                reach = fixed < 0 or p == fixed
            else:
                hi = r - min_gap
                lo = max(0, r - max_gap)
                reach = hi >= lo and pref[hi + 1] - pref[lo] > 0
            if reach:
                reach = _subset(pat_items, a, b, items, set_off[base + p], set_off[base + p + 1])
            cur[r] = reach
            any_reach = any_reach or reach
        if not any_reach:
            return False
        prev[:n] = cur[:n]
    return True


@numba.njit(cache=True, inline="always")
def _embeds_greedy(pat_items: np.ndarray, pat_set_off: np.ndarray, i0: int, i1: int, items: np.ndarray,
                   set_off: np.ndarray, base: int, length: int, min_gap: int) -> bool:
    """:func:`_embeds` without a maximum gap: each itemset at its leftmost position at least
    ``min_gap`` after the previous one (leftmost matches are never later than those of any
    embedding, so this finds one whenever one exists)."""
    p = 0
    for i in range(i0, i1):
        while p < length and not _subset(pat_items, pat_set_off[i], pat_set_off[i + 1], items, set_off[base + p],
                                         set_off[base + p + 1]):
            p += 1
        if p >= length:
            return False
        p += min_gap
    return True


def _ctz_table(debruijn: int) -> np.ndarray:
    """Bit index by the top 6 bits of ``debruijn << index`` (a de Bruijn sequence: all distinct)."""
    out = np.zeros(64, np.int64)
    for bit in range(64):
        out[((debruijn << bit) & 0xFFFFFFFFFFFFFFFF) >> 58] = bit
    return out


_DEBRUIJN = np.uint64(0x03F79D71B4CB0A89)
_CTZ = _ctz_table(0x03F79D71B4CB0A89)


@numba.njit(cache=True, inline="always")
def _lowest(mask: np.uint64) -> int:
    """Index of the lowest set bit of a non-zero ``mask``."""
    return _CTZ[((mask & (~mask + np.uint64(1))) * _DEBRUIJN) >> np.uint64(58)]


@numba.njit(cache=True, inline="always")
def _embeds_bits(pat_items: np.ndarray, pat_set_off: np.ndarray, i0: int, i1: int, where: np.ndarray,
                 min_gap: int) -> bool:
    """:func:`_embeds_greedy` on position masks, for sequences of at most 64 itemsets: bit ``p``
    of ``where[item]`` says itemset ``p`` holds the item, so the leftmost position at or
    after ``p`` holding a whole pattern itemset is the lowest bit of an AND."""
    p = 0
    for i in range(i0, i1):
        if p >= 64:
            return False
        cand = ~np.uint64(0) << np.uint64(p)
        for x in range(pat_set_off[i], pat_set_off[i + 1]):
            cand &= where[pat_items[x]]
        if cand == 0:
            return False
        p = _lowest(cand) + min_gap
    return True


@numba.njit(cache=True)
def _count_range(seq_off: np.ndarray, set_off: np.ndarray, items: np.ndarray, times: np.ndarray, n_items: int,
                 pat_off: np.ndarray, pat_set_off: np.ndarray, pat_items: np.ndarray, min_gap: np.ndarray,
                 max_gap: np.ndarray, window: np.ndarray, bin_a: np.ndarray, bin_b: np.ndarray, anc_off: np.ndarray,
                 anc_pat: np.ndarray, s_lo: int, s_hi: int, out: np.ndarray) -> None:
    """:func:`count_support` over sequences ``s_lo..s_hi-1``, added into ``out``."""
    mark = np.zeros(n_items + 1, np.int64)
    longest = 1
    widest = 1
    for s in range(s_lo, s_hi):
        longest = max(longest, seq_off[s + 1] - seq_off[s])
        widest = max(widest, set_off[seq_off[s + 1]] - set_off[seq_off[s]])
    prev = np.empty(longest, np.bool_)
    cur = np.empty(longest, np.bool_)
    pref = np.empty(longest + 1, np.int64)
    distinct = np.empty(widest, np.int64)
    where = np.zeros(n_items + 1, np.uint64)  # positions of each item in the sequence (up to 64 itemsets)
    for s in range(s_lo, s_hi):
        t0, t1 = seq_off[s], seq_off[s + 1]
        length = t1 - t0
        short = length <= 64
        m = 0
        for t in range(t0, t1):
            bit = np.uint64(1) << np.uint64(t - t0) if short else np.uint64(0)
            for x in range(set_off[t], set_off[t + 1]):
                it = items[x]
                if mark[it] != s + 1:
                    mark[it] = s + 1
                    distinct[m] = it
                    m += 1
                    where[it] = 0
                where[it] |= bit
        for u in range(m):
            for jj in range(anc_off[distinct[u]], anc_off[distinct[u] + 1]):
                j = anc_pat[jj]
                i0, i1 = pat_off[j], pat_off[j + 1]
                ok = True
                for x in range(pat_set_off[i0], pat_set_off[i1]):
                    if mark[pat_items[x]] != s + 1:
                        ok = False
                        break
                if not ok:
                    continue
                if window[j] < 0 and max_gap[j] >= UNBOUNDED and short:
                    found = _embeds_bits(pat_items, pat_set_off, i0, i1, where, min_gap[j])
                elif window[j] < 0 and max_gap[j] >= UNBOUNDED:
                    found = _embeds_greedy(pat_items, pat_set_off, i0, i1, items, set_off, t0, length, min_gap[j])
                elif window[j] < 0:
                    found = _embeds(pat_items, pat_set_off, i0, i1, items, set_off, t0, 0, length, -1, min_gap[j],
                                    max_gap[j], prev, cur, pref)
                else:
                    found = False
                    for p0 in range(length):
                        if not _subset(pat_items, pat_set_off[i0], pat_set_off[i0 + 1], items, set_off[t0 + p0],
                                       set_off[t0 + p0 + 1]):
                            continue
                        stop = p0 + 1
                        while stop < length and times[t0 + stop] - times[t0 + p0] <= window[j]:
                            stop += 1
                        if _embeds(pat_items, pat_set_off, i0, i1, items, set_off, t0, p0, stop, p0, min_gap[j],
                                   max_gap[j], prev, cur, pref):
                            found = True
                            break
                if found:
                    out[j, 0 if s < bin_a[j] else (1 if s < bin_b[j] else 2)] += 1


@numba.njit(cache=True, parallel=True)
def count_support(seq_off: np.ndarray, set_off: np.ndarray, items: np.ndarray, times: np.ndarray, n_items: int,
                  pat_off: np.ndarray, pat_set_off: np.ndarray, pat_items: np.ndarray, min_gap: np.ndarray,
                  max_gap: np.ndarray, window: np.ndarray, bin_a: np.ndarray, bin_b: np.ndarray,
                  lanes: int) -> np.ndarray:
    """Sequences supporting each pattern, in three record bins: shape (patterns, 3).

    Pattern ``j`` owns itemsets ``pat_off[j]:pat_off[j+1]`` of the CSR (``pat_set_off``,
    ``pat_items``). A sequence supports it when an embedding exists with every consecutive
    distance in ``min_gap[j]..max_gap[j]`` and, when ``window[j] >= 0``, at most
    ``window[j]`` between the times of the first and last matched itemsets (``times`` per
    itemset). Sequence ``s`` counts in bin 0 if ``s < bin_a[j]``, 1 if ``s < bin_b[j]``, else 2.
    ``lanes`` contiguous ranges of sequences are counted in parallel and the integer counts
    summed, so the result does not depend on ``lanes`` or the thread count.
    """
    n_pat = pat_off.shape[0] - 1
    out = np.zeros((n_pat, 3), np.int64)
    # each pattern is looked at only in sequences holding its anchor (its first item)
    anc_off = np.zeros(n_items + 2, np.int64)
    for j in range(n_pat):
        anc_off[pat_items[pat_set_off[pat_off[j]]] + 1] += 1
    for it in range(n_items + 1):
        anc_off[it + 1] += anc_off[it]
    anc_pat = np.empty(n_pat, np.int64)
    fill = anc_off[:-1].copy()
    for j in range(n_pat):
        it = pat_items[pat_set_off[pat_off[j]]]
        anc_pat[fill[it]] = j
        fill[it] += 1
    n = seq_off.shape[0] - 1
    lanes = max(1, min(lanes, n))
    part = np.zeros((lanes, n_pat, 3), np.int64)
    for lane in numba.prange(lanes):
        _count_range(seq_off, set_off, items, times, n_items, pat_off, pat_set_off, pat_items, min_gap, max_gap,
                     window, bin_a, bin_b, anc_off, anc_pat, n * lane // lanes, n * (lane + 1) // lanes, part[lane])
    for lane in range(lanes):
        out += part[lane]
    return out


@numba.njit(cache=True)
def _item_range(seq_off: np.ndarray, set_off: np.ndarray, items: np.ndarray, s_lo: int, s_hi: int,
                out: np.ndarray) -> None:
    mark = np.zeros(out.shape[0], np.int64)
    for s in range(s_lo, s_hi):
        for x in range(set_off[seq_off[s]], set_off[seq_off[s + 1]]):
            it = items[x]
            if mark[it] != s + 1:
                mark[it] = s + 1
                out[it] += 1


@numba.njit(cache=True, parallel=True)
def item_supports(seq_off: np.ndarray, set_off: np.ndarray, items: np.ndarray, n_items: int, lanes: int) -> np.ndarray:
    """Number of sequences containing each item id (index 0 unused), ``lanes`` ranges of sequences in parallel."""
    n = seq_off.shape[0] - 1
    lanes = max(1, min(lanes, n))
    part = np.zeros((lanes, n_items + 1), np.int64)
    for lane in numba.prange(lanes):
        _item_range(seq_off, set_off, items, n * lane // lanes, n * (lane + 1) // lanes, part[lane])
    out = np.zeros(n_items + 1, np.int64)
    for lane in range(lanes):
        out += part[lane]
    return out


@numba.njit(cache=True)
def _pair_range(seq_off: np.ndarray, set_off: np.ndarray, items: np.ndarray, index: np.ndarray, tile_lo: int,
                tile_hi: int, s_lo: int, s_hi: int, out: np.ndarray) -> None:
    n_frequent = out.shape[1]
    first = np.full(n_frequent, -1, np.int64)
    last = np.full(n_frequent, -1, np.int64)
    seen = np.empty(n_frequent, np.int64)
    for s in range(s_lo, s_hi):
        m = 0
        for t in range(seq_off[s], seq_off[s + 1]):
            pos = t - seq_off[s]
            for x in range(set_off[t], set_off[t + 1]):
                f = index[items[x]]
                if f < 0:
                    continue
                if first[f] < 0:
                    first[f] = pos
                    seen[m] = f
                    m += 1
                last[f] = pos
        for u in range(m):
            a = seen[u]
            if a < tile_lo or a >= tile_hi:
                continue
            row = out[a - tile_lo]
            fa = first[a]
            for v in range(m):
                row[seen[v]] += fa < last[seen[v]]  # no branch: counted when a comes strictly first
        for u in range(m):
            first[seen[u]] = -1
            last[seen[u]] = -1


@numba.njit(cache=True, parallel=True)
def pair_supports(seq_off: np.ndarray, set_off: np.ndarray, items: np.ndarray, index: np.ndarray,
                  tile_lo: int, tile_hi: int, n_frequent: int, lanes: int) -> np.ndarray:
    """Support of every 2-sequence ``<{a}, {b}>`` (a strictly before b) over frequent items.

    ``index[item]`` is the item's rank among frequent items or -1. Rows are first items
    of rank ``tile_lo..tile_hi-1``, columns every frequent item. ``lanes`` ranges of
    sequences in parallel (``int32`` counters: fewer than 2**31 records), their integer
    counts summed (the same for any ``lanes``).
    """
    n = seq_off.shape[0] - 1
    lanes = max(1, min(lanes, n))
    part = np.zeros((lanes, tile_hi - tile_lo, n_frequent), np.int32)
    for lane in numba.prange(lanes):
        _pair_range(seq_off, set_off, items, index, tile_lo, tile_hi, n * lane // lanes, n * (lane + 1) // lanes,
                    part[lane])
    out = part[0].astype(np.int64)
    for lane in range(1, lanes):
        out += part[lane]
    return out


@numba.njit(cache=True, parallel=True, nogil=True)
def spmf_bytes(seq_off: np.ndarray, set_off: np.ndarray, items: np.ndarray, times: np.ndarray, lo: int,
               hi: int) -> np.ndarray:
    """SPMF text of sequences ``lo..hi-1``: ``5 -1 8 9 -1 2 -1 -2`` and a newline per sequence.

    With a non-empty ``times`` (one per itemset) each itemset starts with ``<t>``
    (SPMF's timestamped format): ``<0> 5 -1 <3> 8 9 -1 -2``. Each sequence's bytes are
    sized, then written at their offset, in parallel over sequences (same bytes for any
    thread count). An id from the word table is one 8-byte store whose spill the
    itemset's ``-1`` covers, inside the same sequence.
    """
    timed = times.shape[0] > 0
    top = 0
    for x in range(set_off[seq_off[lo]], set_off[seq_off[hi]]):
        top = max(top, items[x])
    words, width = spelling(top)
    m = width.shape[0]
    start = np.zeros(hi - lo + 1, np.int64)
    for s in numba.prange(lo, hi):
        size = 3
        for t in range(seq_off[s], seq_off[s + 1]):
            for x in range(set_off[t], set_off[t + 1]):
                v = items[x]
                size += width[v] if v < m else digits(v) + 1
            size += 3
            if timed:
                size += digits(times[t]) + 3
        start[s - lo + 1] = size
    for i in range(hi - lo):
        start[i + 1] += start[i]
    buf = np.empty(start[hi - lo], np.uint8)
    for s in numba.prange(lo, hi):
        w = start[s - lo]
        for t in range(seq_off[s], seq_off[s + 1]):
            if timed:
                buf[w] = 60
                w = put(buf, w + 1, times[t])
                buf[w] = 62
                buf[w + 1] = 32
                w += 2
            for x in range(set_off[t], set_off[t + 1]):
                v = items[x]
                if v < m:
                    store8(buf, w, words[v])
                    w += width[v]
                else:
                    w = put(buf, w, v)
                    buf[w] = 32
                    w += 1
            buf[w] = 45
            buf[w + 1] = 49
            buf[w + 2] = 32
            w += 3
        buf[w] = 45
        buf[w + 1] = 50
        buf[w + 2] = 10
    return buf


@numba.njit(cache=True)
def parse_spmf(data: np.ndarray):
    """Parse SPMF sequence text into CSR arrays, or report the first malformed line.

    Lines that are empty or start with ``#``, ``%`` or ``@`` are skipped, and so are
    timestamps ``<t>`` (SPMF's timestamped format). Returns
    ``(error, line, seq_off, set_off, items)``: ``error`` 0 when the text is valid, else
    1 a token that is not an integer, 2 an item id < 1 or > 2**31 - 1 (other than -1/-2),
    3 an empty itemset, 4 -2 before the last itemset ended with -1 (or no itemset),
    5 a line that does not end with -2, 6 text after -2; ``line`` is 1-based. Items of an
    itemset are stored sorted and distinct.
    """
    n = data.shape[0]
    seq_off = np.zeros(n // 3 + 2, np.int64)
    set_off = np.zeros(n // 3 + 2, np.int64)
    items = np.empty(n // 2 + 1, np.int32)
    n_seq = 0
    n_set = 0
    w = 0
    line = 1
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
        while i < n and data[i] != 10:
            c = data[i]
            if c == 32 or c == 9 or c == 13:
                i += 1
                continue
            if ended:
                return 6, line, seq_off[:1], set_off[:1], items[:0]
            if c == 60:  # a timestamp <t>: skipped
                i += 1
                while i < n and 48 <= data[i] <= 57:
                    i += 1
                if i >= n or data[i] != 62:
                    return 1, line, seq_off[:1], set_off[:1], items[:0]
                i += 1
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
                items[start:w].sort()
                k = start
                for x in range(start, w):
                    if x == start or items[x] != items[k - 1]:
                        items[k] = items[x]
                        k += 1
                w = k
                n_set += 1
                set_off[n_set] = w
            elif neg and v == 2:
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


@numba.njit(cache=True)
def add_lengths(offsets: np.ndarray, hist: np.ndarray) -> np.ndarray:
    """``hist`` (grown when a length exceeds it) plus the count of each ``offsets[i+1] - offsets[i]``."""
    top = hist.shape[0] - 1
    for i in range(offsets.shape[0] - 1):
        top = max(top, offsets[i + 1] - offsets[i])
    if top >= hist.shape[0]:
        grown = np.zeros(top + 1, np.int64)
        grown[:hist.shape[0]] = hist
        hist = grown
    for i in range(offsets.shape[0] - 1):
        hist[offsets[i + 1] - offsets[i]] += 1
    return hist


@numba.njit(cache=True)
def add_items(values: np.ndarray, freq: np.ndarray) -> None:
    """``freq[v] += 1`` for each value ``v`` below ``len(freq)`` (others are ignored)."""
    for v in values:
        if 0 <= v < freq.shape[0]:
            freq[v] += 1

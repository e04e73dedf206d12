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
            host_pos: np.ndarray, pat_off: np.ndarray, pat_set_off: np.ndarray, pat_items: np.ndarray,
            overlaps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Planted items of the itemsets of records ``i_lo..i_hi-1``, distinct per itemset
    (arguments as in :func:`fill_sequences`; ``overlaps`` from :func:`_overlaps`). Returns CSR
    ``(off, items)`` over the range's itemsets: itemset ``seq_off[i_lo] + t`` owns
    ``items[off[t]:off[t+1]]``; ``items`` has 8 spare entries at its end (:func:`_fill_range`
    reads 8 at a time). Only itemsets where an item may repeat are sorted (the fill sorts)."""
    t_lo = seq_off[i_lo]
    nt = seq_off[i_hi] - t_lo
    off = np.zeros(nt + 1, np.int64)
    n_pat = pat_off.shape[0] - 1
    first = np.empty(n_pat, np.int64)
    last = np.empty(n_pat, np.int64)
    bases = np.empty(n_pat, np.int64)  # where pattern j's positions start in host_pos
    base = 0
    gathered = 0
    for j in range(n_pat):
        hosts = host_seq[host_off[j]:host_off[j + 1]]
        first[j] = np.searchsorted(hosts, i_lo)
        last[j] = np.searchsorted(hosts, i_hi)
        bases[j] = base
        base += (pat_off[j + 1] - pat_off[j]) * hosts.shape[0]
        gathered += (pat_off[j + 1] - pat_off[j]) * (last[j] - first[j])
    shared = np.empty(gathered, np.int64)  # itemsets where an item may repeat (repeated entries)
    n_shared = 0
    for j in range(n_pat):
        k = pat_off[j + 1] - pat_off[j]
        hosts = host_seq[host_off[j]:host_off[j + 1]]
        for h in range(first[j], last[j]):
            s0 = seq_off[hosts[h]] - t_lo
            for i in range(k):
                t = s0 + host_pos[bases[j] + h * k + i]
                was = off[t + 1]
                shared[n_shared] = t
                n_shared += (was != 0) & overlaps[pat_off[j] + i]
                off[t + 1] = was + pat_set_off[pat_off[j] + i + 1] - pat_set_off[pat_off[j] + i]
    for t in range(nt):
        off[t + 1] += off[t]
    items = np.empty(off[nt] + 8, np.int32)
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
    repeated = False  # pattern itemsets are distinct: only overlapping ones in one itemset can repeat an item
    for q in range(n_shared):
        a, b = off[shared[q]], off[shared[q] + 1]
        _sort(items, a, b)
        for x in range(a + 1, b):
            repeated |= items[x] == items[x - 1]
    if not repeated:
        return off, items
    w = 0  # drop repeated items, compacting in place
    for t in range(nt):
        a, b = off[t], off[t + 1]
        off[t] = w
        for x in range(a, b):
            if x == a or items[x] != items[x - 1]:
                items[w] = items[x]
                w += 1
    off[nt] = w
    return off, items[:w + 8]


@numba.njit(cache=True)
def _overlaps(pat_set_off: np.ndarray, pat_items: np.ndarray) -> np.ndarray:
    """Which pattern itemsets share an item with another one (only those can repeat an item in an itemset)."""
    owner = np.empty(pat_items.shape[0], np.int64)
    for x in range(pat_set_off.shape[0] - 1):
        owner[pat_set_off[x]:pat_set_off[x + 1]] = x
    order = np.argsort(pat_items, kind="mergesort")
    out = np.zeros(pat_set_off.shape[0] - 1, np.bool_)
    for q in range(1, order.shape[0]):
        if pat_items[order[q]] == pat_items[order[q - 1]]:
            out[owner[order[q]]] = True
            out[owner[order[q - 1]]] = True
    return out


@numba.njit(cache=True, inline="always")
def _sort(buf: np.ndarray, a: int, b: int) -> None:
    """Sort ``buf[a:b]`` in place: up to 8 values by odd-even transposition (compare-exchanges
    without branches), more by insertion."""
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
def _ce(x: int, y: int) -> tuple[int, int]:
    """A compare-exchange: ``(min, max)``."""
    return min(x, y), max(x, y)


@numba.njit(cache=True, inline="always")
def _sort4(x0: int, x1: int, x2: int, x3: int) -> tuple[int, int, int, int]:
    """Four values sorted by a five-comparator network (no branches)."""
    x0, x1 = _ce(x0, x1)
    x2, x3 = _ce(x2, x3)
    x0, x2 = _ce(x0, x2)
    x1, x3 = _ce(x1, x3)
    x1, x2 = _ce(x1, x2)
    return x0, x1, x2, x3


@numba.njit(cache=True, inline="always")
def _merge44(x0: int, x1: int, x2: int, x3: int, y0: int, y1: int, y2: int,
             y3: int) -> tuple[int, int, int, int, int, int, int, int]:
    """Two sorted runs of four merged into eight sorted values (Batcher's odd-even merge, no branches)."""
    x0, y0 = _ce(x0, y0)
    x1, y1 = _ce(x1, y1)
    x2, y2 = _ce(x2, y2)
    x3, y3 = _ce(x3, y3)
    x2, y0 = _ce(x2, y0)
    x3, y1 = _ce(x3, y1)
    x1, x2 = _ce(x1, x2)
    x3, y0 = _ce(x3, y0)
    y1, y2 = _ce(y1, y2)
    return x0, x1, x2, x3, y0, y1, y2, y3


@numba.njit(cache=True)
def _fill_itemset(hp: np.uint64, size: int, pop_cdf: np.ndarray, pop_guide: np.ndarray, n_items: int,
                  drawable: np.ndarray, plant: np.ndarray, a: int, b: int, out: np.ndarray, w: int) -> None:
    """Itemset with hash ``hp`` into ``out[w:w+size]``, sorted: the planted ``plant[a:b]``
    (distinct) and ``z = size - (b - a)`` distinct background ids other than those, drawn
    (uniform when ``pop_cdf`` is empty, else from it) in up to ``32 * z`` attempts; if that
    is not enough, the smallest unused ids that may be drawn (``drawable[id]``, or any id when
    ``drawable`` is empty) complete the itemset. The definition; :func:`_fill_range`
    takes a shortcut when the first ``z`` attempts give distinct new ids (the same itemset)."""
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
        if (drawable.shape[0] == 0 or drawable[item]) and not _holds(out, w, m, item):
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
SENTINEL = 2**31 - 1  # pads a short itemset to 4 or 8 values for the sorting networks (above any id)


@numba.njit(cache=True)
def _size_range(key: np.uint64, lo: int, lengths: np.ndarray, seq_off: np.ndarray, size_cdf: np.ndarray,
                size_guide: np.ndarray, i_lo: int, i_hi: int, sizes: np.ndarray) -> int:
    """``sizes[t + 1]``: background items drawn for each itemset ``t`` of records ``i_lo..i_hi-1``
    (before the cap at what the alphabet leaves); returns their sum."""
    total = 0
    for i in range(i_lo, i_hi):
        hs = mix(key ^ np.uint64(lo + i))
        t = seq_off[i]
        for p in range(lengths[i]):
            z = 1 + _draw_guided(size_cdf, size_guide, _unit(mix(mix(hs ^ np.uint64(p + 1)))))
            sizes[t + p + 1] = z
            total += z
    return total


@numba.njit(cache=True)
def _fill_range(key: np.uint64, lo: int, lengths: np.ndarray, seq_off: np.ndarray, set_off: np.ndarray,
                pop_cdf: np.ndarray, pop_guide: np.ndarray, n_items: int, drawable: np.ndarray, plants: tuple,
                i_lo: int, i_hi: int, items: np.ndarray, w: int, limit: int) -> int:
    """Itemsets of records ``i_lo..i_hi-1`` into ``items`` from ``w`` on (never at or past ``limit``);
    ``set_off[t + 1]`` (the drawn background size on entry) becomes where itemset ``t`` ends.
    Returns the end.

    An itemset of up to 8 items takes the first ``z`` attempts of :func:`_fill_itemset` at
    once (4 when it has at most 4 items: no unpredictable loop end), sorted by networks with
    :data:`SENTINEL` pads, and written 8 values at a time; only when two of them are equal (or
    the itemset is larger, or near ``limit``) is it drawn again by :func:`_fill_itemset` (the
    same itemset then), once its block is done: a call in the loop would slow it.
    """
    uniform = pop_cdf.shape[0] == 0
    below = n_items <= SENTINEL - 8  # every id sorts before the pads
    n_drawable = n_items if drawable.shape[0] == 0 else int(drawable.sum())
    for b_lo in range(i_lo, i_hi, PLANT_BLOCK):
        b_hi = min(i_hi, b_lo + PLANT_BLOCK)
        off, plant = _plants(b_lo, b_hi, seq_off, *plants)
        t_lo = seq_off[b_lo]
        redo = np.empty(seq_off[b_hi] - t_lo, np.int64)
        r = 0
        w0 = w
        for i in range(b_lo, b_hi):
            hs = mix(key ^ np.uint64(lo + i))
            for p in range(lengths[i]):
                t = seq_off[i] + p
                a = off[t - t_lo]
                m = off[t - t_lo + 1] - a
                m_drawable = m
                if drawable.shape[0]:  # planted ids that may also be drawn leave fewer to draw
                    m_drawable = 0
                    for x in range(a, a + m):
                        m_drawable += drawable[plant[x]]
                size = m + min(set_off[t + 1], n_drawable - m_drawable)
                clash = True
                if size <= 4 and w + 16 <= limit and below:
                    hp = mix(hs ^ np.uint64(p + 1))
                    for q in range(4):
                        items[w + q] = plant[a + q]
                    for q in range(4):
                        u = _unit(mix(hp ^ np.uint64(q + 1)))
                        items[w + m + q] = 1 + (int(u * n_items) if uniform else _draw_guided(pop_cdf, pop_guide, u))
                    for q in range(4):
                        items[w + size + q] = SENTINEL - q
                    x0, x1, x2, x3 = _sort4(items[w], items[w + 1], items[w + 2], items[w + 3])
                    clash = (x0 == x1) | (x1 == x2) | (x2 == x3)
                    items[w], items[w + 1], items[w + 2], items[w + 3] = x0, x1, x2, x3
                elif size <= 8 and w + 16 <= limit and below:
                    hp = mix(hs ^ np.uint64(p + 1))
                    for q in range(8):
                        items[w + q] = plant[a + q]
                    for q in range(size - m):
                        u = _unit(mix(hp ^ np.uint64(q + 1)))
                        items[w + m + q] = 1 + (int(u * n_items) if uniform else _draw_guided(pop_cdf, pop_guide, u))
                    for q in range(8):
                        items[w + size + q] = SENTINEL - q
                    x0, x1, x2, x3 = _sort4(items[w], items[w + 1], items[w + 2], items[w + 3])
                    y0, y1, y2, y3 = _sort4(items[w + 4], items[w + 5], items[w + 6], items[w + 7])
                    x0, x1, x2, x3, y0, y1, y2, y3 = _merge44(x0, x1, x2, x3, y0, y1, y2, y3)
                    clash = ((x0 == x1) | (x1 == x2) | (x2 == x3) | (x3 == y0) | (y0 == y1) | (y1 == y2)
                             | (y2 == y3))
                    items[w], items[w + 1], items[w + 2], items[w + 3] = x0, x1, x2, x3
                    items[w + 4], items[w + 5], items[w + 6], items[w + 7] = y0, y1, y2, y3
                redo[r] = t
                r += clash
                w += size
                set_off[t + 1] = w
        for q in range(r):
            t = redo[q]
            i = np.searchsorted(seq_off, t, side="right") - 1
            hp = mix(mix(key ^ np.uint64(lo + i)) ^ np.uint64(t - seq_off[i] + 1))
            begin = set_off[t] if t > t_lo else w0
            _fill_itemset(hp, set_off[t + 1] - begin, pop_cdf, pop_guide, n_items, drawable, plant, off[t - t_lo],
                          off[t - t_lo + 1], items, begin)
    return w


@numba.njit(cache=True, parallel=True)
def fill_sequences(key: np.uint64, lo: int, lengths: np.ndarray, size_cdf: np.ndarray, size_guide: np.ndarray,
                   pop_cdf: np.ndarray, pop_guide: np.ndarray, n_items: int, drawable: np.ndarray,
                   host_off: np.ndarray, host_seq: np.ndarray, host_pos: np.ndarray, pat_off: np.ndarray,
                   pat_set_off: np.ndarray, pat_items: np.ndarray, chunk: int):
    """Itemsets of records ``lo..lo+len(lengths)-1``: background items plus planted ones.

    Pattern ``j`` (itemsets ``pat_off[j]:pat_off[j+1]`` of the CSR ``pat_set_off`` ->
    ``pat_items``) is planted in the records ``host_seq[host_off[j]:host_off[j+1]]`` (sorted,
    counted from record ``lo``); its ``i``-th itemset goes to position
    ``host_pos[b_j + h * k_j + i]`` of its ``h``-th host, where ``k_j`` is its length and
    ``b_j`` the sum of ``k * hosts`` over the patterns before it.

    An itemset at ``(s, p)`` holds its distinct planted items and ``z`` distinct background
    ids other than those: ``z`` drawn from ``size_cdf`` (cut at what the alphabet has left:
    the ids with ``drawable[id]`` other than the planted ones; every id when ``drawable`` is
    empty), the ids uniform when ``pop_cdf`` is empty, else from it (each cdf with its
    :func:`guide_table`), see :func:`_fill_itemset`: an id of weight 0 is never drawn. Chunks
    of ``chunk`` records run in parallel (``prange``): background sizes first, which with the
    chunk's planted items give each chunk room for its items; then each chunk fills its room,
    gathering its own planted items; then the chunks are closed up (repeated planted items and
    the cap leave gaps). The arrays depend neither on ``chunk`` nor on the thread count.
    Returns ``seq_off``, ``set_off`` and ``items`` (offsets from 0).
    """
    n = lengths.shape[0]
    seq_off = np.zeros(n + 1, np.int64)
    for i in range(n):
        seq_off[i + 1] = seq_off[i] + lengths[i]
    n_sets = seq_off[n]
    n_chunks = (n + chunk - 1) // chunk
    set_off = np.empty(n_sets + 1, np.int64)  # drawn background sizes, then ends
    set_off[0] = 0
    start = np.zeros(n_chunks + 1, np.int64)
    for c in numba.prange(n_chunks):
        start[c + 1] = _size_range(key, lo, lengths, seq_off, size_cdf, size_guide, c * chunk,
                                   min(n, (c + 1) * chunk), set_off)
    for j in range(pat_off.shape[0] - 1):
        hosts = host_seq[host_off[j]:host_off[j + 1]]
        width = pat_set_off[pat_off[j + 1]] - pat_set_off[pat_off[j]]
        for c in range(n_chunks):
            start[c + 1] += width * (np.searchsorted(hosts, min(n, (c + 1) * chunk))
                                     - np.searchsorted(hosts, c * chunk))
    for c in range(n_chunks):
        start[c + 1] += start[c]
    items = np.empty(start[n_chunks] + 8, np.int32)  # 8 spare: an itemset is written 8 values at a time
    plants = (host_off, host_seq, host_pos, pat_off, pat_set_off, pat_items, _overlaps(pat_set_off, pat_items))
    end = np.empty(n_chunks, np.int64)
    for c in numba.prange(n_chunks):
        end[c] = _fill_range(key, lo, lengths, seq_off, set_off, pop_cdf, pop_guide, n_items, drawable, plants,
                             c * chunk, min(n, (c + 1) * chunk), items, start[c], start[c + 1])
    w = 0
    for c in range(n_chunks):
        shift = start[c] - w
        if shift:
            for x in range(start[c], end[c]):
                items[x - shift] = items[x]
            for t in range(seq_off[c * chunk], seq_off[min(n, (c + 1) * chunk)]):
                set_off[t + 1] -= shift
        w += end[c] - start[c]
    return seq_off, set_off, items[:w]
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
def _embeds_bits(pat_code: np.ndarray, pat_set_off: np.ndarray, i0: int, i1: int, where: np.ndarray,
                 min_gap: int) -> bool:
    """:func:`_embeds_greedy` on position masks, for sequences of at most 64 itemsets: bit ``p``
    of ``where[code]`` says itemset ``p`` holds the item coded ``code`` (``pat_code``: the
    pattern items' codes), so the leftmost position at or after ``p`` holding a whole
    pattern itemset is the lowest bit of an AND; an absent item's mask is 0."""
    p = 0
    for i in range(i0, i1):
        if p >= 64:
            return False
        cand = ~np.uint64(0) << np.uint64(p)
        for x in range(pat_set_off[i], pat_set_off[i + 1]):
            cand &= where[pat_code[x]]
        if cand == 0:
            return False
        p = _lowest(cand) + min_gap
    return True


@numba.njit(cache=True, inline="always")
def _embeds_fixed(prog: np.ndarray, gap: np.ndarray, where: np.ndarray) -> bool:
    """:func:`_embeds_bits` for a pattern padded in front to a shape all patterns share:
    ``prog[i, q]`` codes (padding: a code whose mask is all ones), ``gap[i]`` the minimum
    gap after itemset ``i`` (0 for padding). The same loops for every pattern, and no
    early exit: no branch the processor can mispredict."""
    ok = True
    p = 0
    for i in range(prog.shape[0]):
        cand = (~np.uint64(0) << np.uint64(min(p, 63))) if p < 64 else np.uint64(0)
        for q in range(prog.shape[1]):
            cand &= where[prog[i, q]]
        ok &= cand != 0
        p = _lowest(cand) + gap[i]
    return ok


@numba.njit(cache=True, inline="always")
def _compact(set_off: np.ndarray, items: np.ndarray, code: np.ndarray, t0: int, t1: int, start: np.ndarray,
             held: np.ndarray, at: np.ndarray) -> int:
    """The items of itemsets ``t0..t1-1`` with ``code[item] >= 0``, in order: ``held[u]`` the
    code, ``at[u]`` the itemset's position ``t - t0``; returns how many.

    ``start`` is zero scratch longer than the items (left zero): it counts the itemsets
    starting at each item, so positions are a running sum, with no branch on itemset ends.
    """
    x0 = set_off[t0]
    for t in range(t0 + 1, t1):
        start[set_off[t] - x0] += 1
    m = 0
    p = 0
    for x in range(x0, set_off[t1]):
        p += start[x - x0]
        c = code[items[x]]
        held[m] = c
        at[m] = p
        m += c >= 0
    for t in range(t0 + 1, t1):
        start[set_off[t] - x0] = 0
    return m


@numba.njit(cache=True)
def _ledger_range(seq_off: np.ndarray, set_off: np.ndarray, items: np.ndarray, times: np.ndarray, code: np.ndarray,
                  rank: np.ndarray, pat_off: np.ndarray, pat_set_off: np.ndarray, pat_items: np.ndarray,
                  pat_code: np.ndarray, min_gap: np.ndarray, max_gap: np.ndarray, window: np.ndarray,
                  bin_a: np.ndarray, bin_b: np.ndarray, anc_off: np.ndarray, anc_pat: np.ndarray, prog: np.ndarray,
                  prog_gap: np.ndarray, tile_lo: int, tile_hi: int, s_lo: int, s_hi: int, out: np.ndarray,
                  pairs: np.ndarray, sup: np.ndarray) -> None:
    """:func:`ledger_counts` over sequences ``s_lo..s_hi-1``, added into ``out``, ``pairs``, ``sup``."""
    n_codes = rank.shape[0]
    slot = np.full(n_codes, -1, np.int64)  # each coded item's place among the sequence's distinct ones, or -1
    where = np.zeros(n_codes + 1, np.uint64)  # itemsets holding each coded item (up to 64 itemsets), else 0
    where[n_codes] = ~np.uint64(0)  # the padding of ``prog``
    fixed = prog.shape[1] > 0
    longest = 1
    widest = 1
    for s in range(s_lo, s_hi):
        longest = max(longest, seq_off[s + 1] - seq_off[s])
        widest = max(widest, set_off[seq_off[s + 1]] - set_off[seq_off[s]])
    prev = np.empty(longest, np.bool_)
    cur = np.empty(longest, np.bool_)
    pref = np.empty(longest + 1, np.int64)
    start = np.zeros(widest + 1, np.int64)
    held = np.empty(widest + 1, np.int64)
    at = np.empty(widest + 1, np.int64)
    distinct = np.empty(widest + 1, np.int64)  # the sequence's distinct coded items, by first itemset,
    d_rank = np.empty(widest + 1, np.int64)  # their ranks, first and last itemsets
    d_first = np.empty(widest + 1, np.int64)
    d_last = np.empty(widest + 1, np.int64)
    again = np.empty(widest + 1, np.int64)
    counting = pat_off.shape[0] > 1
    mining = tile_hi > tile_lo
    tile = np.zeros((tile_hi - tile_lo, pairs.shape[1]), np.uint16)  # half the cache of int32: flushed into
    flush = 0  # ``pairs`` before a counter could pass 65,535
    unranked = False  # some coded items are pattern items without a rank
    for c in range(n_codes):
        unranked |= rank[c] < 0
    for s in range(s_lo, s_hi):
        t0, t1 = seq_off[s], seq_off[s + 1]
        length = t1 - t0
        short = counting and length <= 64
        m = _compact(set_off, items, code, t0, t1, start, held, at)
        d = 0
        for u in range(m):
            c = held[u]
            if slot[c] < 0:
                slot[c] = d
                distinct[d] = c
                d_rank[d] = rank[c]
                d_first[d] = at[u]
                d += 1
            d_last[slot[c]] = at[u]
            if short:
                where[c] |= np.uint64(1) << np.uint64(at[u])
        for u in range(d if counting else 0):
            for jj in range(anc_off[distinct[u]], anc_off[distinct[u] + 1]):
                j = anc_pat[jj]
                i0, i1 = pat_off[j], pat_off[j + 1]
                simple = window[j] < 0 and max_gap[j] >= UNBOUNDED
                if short and simple and fixed:
                    found = _embeds_fixed(prog[j], prog_gap[j], where)
                elif short and simple:
                    found = _embeds_bits(pat_code, pat_set_off, i0, i1, where, min_gap[j])
                else:
                    ok = True
                    for x in range(pat_set_off[i0], pat_set_off[i1]):
                        if slot[pat_code[x]] < 0:
                            ok = False
                            break
                    if not ok:
                        continue
                    if simple:
                        found = _embeds_greedy(pat_items, pat_set_off, i0, i1, items, set_off, t0, length,
                                               min_gap[j])
                    elif window[j] < 0:
                        found = _embeds(pat_items, pat_set_off, i0, i1, items, set_off, t0, 0, length, -1,
                                        min_gap[j], max_gap[j], prev, cur, pref)
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
        for u in range(d):
            slot[distinct[u]] = -1
            where[distinct[u]] = 0
        if not mining:
            continue
        if flush == 65_535:
            pairs += tile
            tile[:] = 0
            flush = 0
        flush += 1
        e = d
        if unranked:  # keep the ranked ones
            e = 0
            for u in range(d):
                d_rank[e] = d_rank[u]
                d_first[e] = d_first[u]
                d_last[e] = d_last[u]
                e += d_rank[u] >= 0
        r = 0  # those seen in more than one itemset
        for u in range(e):
            sup[d_rank[u]] += 1
            again[r] = u
            r += d_last[u] > d_first[u]
        # a before b in first-itemset order: counted when a's first itemset is before b's last (no branch)
        for u in range(e):
            if d_rank[u] < tile_lo or d_rank[u] >= tile_hi:
                continue
            row = tile[d_rank[u] - tile_lo]
            fa = d_first[u]
            for v in range(u + 1, e):
                row[d_rank[v]] += fa < d_last[v]
        # b before a (or a twice) only when b comes again after a's first itemset
        for i in range(r):
            b, lb = d_rank[again[i]], d_last[again[i]]
            for u in range(again[i], e):
                if d_rank[u] >= tile_lo and d_rank[u] < tile_hi:
                    tile[d_rank[u] - tile_lo, b] += d_first[u] < lb
    pairs += tile


@numba.njit(cache=True, parallel=True)
def ledger_counts(seq_off: np.ndarray, set_off: np.ndarray, items: np.ndarray, times: np.ndarray, n_items: int,
                  pat_off: np.ndarray, pat_set_off: np.ndarray, pat_items: np.ndarray, min_gap: np.ndarray,
                  max_gap: np.ndarray, window: np.ndarray, bin_a: np.ndarray, bin_b: np.ndarray, index: np.ndarray,
                  tile_lo: int, tile_hi: int, n_frequent: int,
                  lanes: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The results of :func:`count_support` and of :func:`pair_item_supports` (pattern
    supports, pair supports, item supports) from one pass over the data.

    Only pattern items and items of ``index >= 0`` are looked at: given dense codes, they
    are gathered with their itemset positions once per sequence. ``lanes`` contiguous
    ranges of sequences in parallel, their integer counts summed: the same for any ``lanes``.
    """
    n_pat = pat_off.shape[0] - 1
    code = np.full(n_items + 1, -1, np.int32)
    pat_code = np.empty(pat_items.shape[0], np.int32)
    n_codes = 0
    for x in range(pat_items.shape[0]):
        if code[pat_items[x]] < 0:
            code[pat_items[x]] = n_codes
            n_codes += 1
        pat_code[x] = code[pat_items[x]]
    for it in range(index.shape[0]):
        if index[it] >= 0 and code[it] < 0:
            code[it] = n_codes
            n_codes += 1
    rank = np.full(n_codes, -1, np.int64)
    for it in range(index.shape[0]):
        if index[it] >= 0:
            rank[code[it]] = index[it]
    # each pattern is looked at only in sequences holding its anchor (its first item)
    anc_off = np.zeros(n_codes + 1, np.int64)
    for j in range(n_pat):
        anc_off[pat_code[pat_set_off[pat_off[j]]] + 1] += 1
    for c in range(n_codes):
        anc_off[c + 1] += anc_off[c]
    anc_pat = np.empty(n_pat, np.int64)
    fill = anc_off[:-1].copy()
    for j in range(n_pat):
        c = pat_code[pat_set_off[pat_off[j]]]
        anc_pat[fill[c]] = j
        fill[c] += 1
    # patterns without max_gap or window, padded in front to one shape when it is small
    simple = (window < 0) & (max_gap >= UNBOUNDED)
    n_sets, width = 0, 0
    for j in range(n_pat):
        if simple[j]:
            n_sets = max(n_sets, pat_off[j + 1] - pat_off[j])
            for i in range(pat_off[j], pat_off[j + 1]):
                width = max(width, pat_set_off[i + 1] - pat_set_off[i])
    if n_sets * width > 16:
        n_sets, width = 0, 0
    prog = np.full((n_pat, n_sets, width), n_codes, np.int32)
    prog_gap = np.zeros((n_pat, n_sets), np.int64)
    for j in range(n_pat if width else 0):
        if simple[j]:
            pad = n_sets - (pat_off[j + 1] - pat_off[j])
            for i in range(pat_off[j], pat_off[j + 1]):
                prog_gap[j, pad + i - pat_off[j]] = min_gap[j]
                for x in range(pat_set_off[i], pat_set_off[i + 1]):
                    prog[j, pad + i - pat_off[j], x - pat_set_off[i]] = pat_code[x]
    n = seq_off.shape[0] - 1
    lanes = max(1, min(lanes, n))
    out = np.zeros((lanes, n_pat, 3), np.int64)
    pairs = np.zeros((lanes, tile_hi - tile_lo, n_frequent), np.int32)  # fewer than 2**31 records
    sup = np.zeros((lanes, n_frequent), np.int64)
    for lane in numba.prange(lanes):
        _ledger_range(seq_off, set_off, items, times, code, rank, pat_off, pat_set_off, pat_items, pat_code,
                      min_gap, max_gap, window, bin_a, bin_b, anc_off, anc_pat, prog, prog_gap, tile_lo, tile_hi,
                      n * lane // lanes, n * (lane + 1) // lanes, out[lane], pairs[lane], sup[lane])
    total = pairs[0].astype(np.int64)
    for lane in range(1, lanes):
        total += pairs[lane]
    return out.sum(axis=0), total, sup.sum(axis=0)


@numba.njit(cache=True)
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
    return ledger_counts(seq_off, set_off, items, times, n_items, pat_off, pat_set_off, pat_items, min_gap, max_gap,
                         window, bin_a, bin_b, np.empty(0, np.int64), 0, 0, 0, lanes)[0]


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
def pair_item_supports(seq_off: np.ndarray, set_off: np.ndarray, items: np.ndarray, index: np.ndarray,
                       tile_lo: int, tile_hi: int, n_frequent: int, lanes: int) -> tuple[np.ndarray, np.ndarray]:
    """Support of every 2-sequence ``<{a}, {b}>`` (a in an itemset strictly before b) over
    frequent items, and of each frequent item.

    ``index[item]`` is the item's rank among frequent items or -1 (every item id in
    ``items`` below ``index.shape[0]``). Rows are first items of rank ``tile_lo..tile_hi-1``,
    columns every frequent item; ``lanes`` ranges of sequences in parallel.
    """
    none = np.empty(0, np.int64)
    return ledger_counts(seq_off, set_off, items, none, index.shape[0] - 1, np.zeros(1, np.int64), none,
                         np.empty(0, np.int32), none, none, none, none, none, index, tile_lo, tile_hi, n_frequent,
                         lanes)[1:]


@numba.njit(cache=True)
def pair_supports(seq_off: np.ndarray, set_off: np.ndarray, items: np.ndarray, index: np.ndarray,
                  tile_lo: int, tile_hi: int, n_frequent: int, lanes: int) -> np.ndarray:
    """The pair counts of :func:`pair_item_supports`."""
    return pair_item_supports(seq_off, set_off, items, index, tile_lo, tile_hi, n_frequent, lanes)[0]


@numba.njit(cache=True, parallel=True)
def item_counts(items: np.ndarray, n_items: int, lanes: int) -> np.ndarray:
    """Occurrences of each item id (at least its support), ``lanes`` ranges of ``items`` in parallel."""
    n = items.shape[0]
    lanes = max(1, min(lanes, n))
    part = np.zeros((lanes, n_items + 1), np.int64)
    for lane in numba.prange(lanes):
        row = part[lane]
        for x in range(n * lane // lanes, n * (lane + 1) // lanes):
            row[items[x]] += 1
    return part.sum(axis=0)


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

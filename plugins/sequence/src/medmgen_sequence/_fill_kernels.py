"""The itemset kernel: each sequence's itemsets, background ids drawn around the planted
ones (data layout and counter-based randomness: :mod:`medmgen_sequence._kernels`)."""

from __future__ import annotations

import numba
import numpy as np

from medmgen_sequence._kernels import _draw_guided, _unit, mix


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

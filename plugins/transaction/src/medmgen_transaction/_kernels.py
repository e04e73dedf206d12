"""Every numba kernel of the transaction modality.

Transactions are CSR arrays: ``offsets`` (int64, ``n + 1``) and ``items`` (int32, ids
sorted within each transaction). Kernels draw no randomness of their own: they take a
uint64 seed word (from :func:`medmgen.seeds.state_words`) and run splitmix64 streams
derived from it, one stream per record or per (pattern, chunk), so a record's content
depends only on its own stream and its planted items.
"""

from __future__ import annotations

import numba
import numpy as np

from medmgen.spelling import digits, put, spelling, store8

_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_UNIT = 1.0 / 9007199254740992.0  # 2**-53

njit = numba.njit(cache=True, nogil=True)


@njit
def mix64(z: np.uint64) -> np.uint64:
    """The splitmix64 finaliser."""
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


@njit
def substream(seed: np.uint64, index: int) -> np.uint64:
    """The starting state of stream ``index`` under ``seed`` (hashed, so streams do not overlap)."""
    return mix64(seed ^ mix64(np.uint64(index) * _GAMMA + _GAMMA))


@njit
def next_unit(state: np.uint64) -> tuple[np.uint64, float]:
    """Advance a splitmix64 state; return it and a uniform double in [0, 1)."""
    state = state + _GAMMA
    return state, float(mix64(state) >> np.uint64(11)) * _UNIT


@njit
def alias_draw(x: float, prob: np.ndarray, alias: np.ndarray) -> int:
    """An index drawn from a Vose alias table with one uniform ``x``."""
    n = prob.size
    t = x * n
    i = int(t)
    if i >= n:
        i = n - 1
    return i if t - i < prob[i] else alias[i]


@njit
def build_alias(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vose's alias table of non-negative ``weights`` (positive sum)."""
    n = weights.size
    p = weights * (n / weights.sum())
    prob = np.zeros(n, dtype=np.float64)
    alias = np.arange(n, dtype=np.int64)
    small = np.empty(n, dtype=np.int64)
    large = np.empty(n, dtype=np.int64)
    ns = 0
    nl = 0
    for i in range(n):
        if p[i] < 1.0:
            small[ns] = i
            ns += 1
        else:
            large[nl] = i
            nl += 1
    while ns > 0 and nl > 0:
        ns -= 1
        s = small[ns]
        nl -= 1
        g = large[nl]
        prob[s] = p[s]
        alias[s] = g
        p[g] = (p[g] + p[s]) - 1.0
        if p[g] < 1.0:
            small[ns] = g
            ns += 1
        else:
            large[nl] = g
            nl += 1
    for k in range(nl):
        prob[large[k]] = 1.0
    for k in range(ns):
        if p[small[k]] > 0.0:
            prob[small[k]] = 1.0
    return prob, alias


@njit
def split_counts(full: int, total: int, sizes: np.ndarray, seed: np.uint64) -> tuple[np.ndarray, np.ndarray]:
    """Spread ``total`` carriers of a pattern over chunks of ``sizes`` records, exactly.

    Carriers are drawn one by one without replacement (a Fenwick tree over the records
    left in each chunk), so the split is multivariate hypergeometric and nested: the
    first ``k`` draws are the same for every ``total >= k``. The first ``full`` carriers
    take the whole pattern, the rest its head (a rule's antecedent alone).
    """
    nc = sizes.size
    tree = np.zeros(nc + 1, dtype=np.int64)
    for c in range(nc):
        i = c + 1
        while i <= nc:
            tree[i] += sizes[c]
            i += i & -i
    remaining = sizes.sum()
    top = 1
    while top * 2 <= nc:
        top *= 2
    cf = np.zeros(nc, dtype=np.int64)
    ct = np.zeros(nc, dtype=np.int64)
    state = seed
    for k in range(total):
        state, x = next_unit(state)
        r = int(x * remaining)
        if r >= remaining:
            r = remaining - 1
        pos = 0
        mask = top
        while mask > 0:
            nxt = pos + mask
            if nxt <= nc and tree[nxt] <= r:
                pos = nxt
                r -= tree[nxt]
            mask >>= 1
        i = pos + 1
        while i <= nc:
            tree[i] -= 1
            i += i & -i
        remaining -= 1
        ct[pos] += 1
        if k < full:
            cf[pos] += 1
    return cf, ct


@njit
def plant_chunk(
    rows: int,
    unit_offsets: np.ndarray,
    unit_items: np.ndarray,
    head_len: np.ndarray,
    full: np.ndarray,
    total: np.ndarray,
    seed: np.uint64,
) -> tuple[np.ndarray, np.ndarray]:
    """The planted items of each record of one chunk (CSR, unsorted, may repeat ids).

    Unit ``u`` goes into ``total[u]`` distinct records drawn by rejection from its own
    stream (nested in ``total[u]``); the first ``full[u]`` get all its items, the rest
    its first ``head_len[u]`` items.
    """
    n_units = unit_offsets.size - 1
    stamp = np.zeros(rows, dtype=np.int64)
    pos = np.empty(total.sum(), dtype=np.int64)
    counts = np.zeros(rows + 1, dtype=np.int64)
    k = 0
    for u in range(n_units):
        state = substream(seed, u)
        size = unit_offsets[u + 1] - unit_offsets[u]
        for i in range(total[u]):
            while True:
                state, x = next_unit(state)
                r = int(x * rows)
                if r >= rows:
                    r = rows - 1
                if stamp[r] != u + 1:
                    break
            stamp[r] = u + 1
            pos[k] = r
            k += 1
            counts[r + 1] += size if i < full[u] else head_len[u]
    offsets = np.cumsum(counts)
    out = np.empty(offsets[rows], dtype=np.int32)
    fill = offsets[:rows].copy()
    k = 0
    for u in range(n_units):
        for i in range(total[u]):
            r = pos[k]
            k += 1
            stop = unit_offsets[u + 1] if i < full[u] else unit_offsets[u] + head_len[u]
            for j in range(unit_offsets[u], stop):
                out[fill[r]] = unit_items[j]
                fill[r] += 1
    return offsets, out


@njit
def fill_chunk(
    rows: int,
    seed: np.uint64,
    len_prob: np.ndarray,
    len_alias: np.ndarray,
    len_values: np.ndarray,
    pop_prob: np.ndarray,
    pop_alias: np.ndarray,
    positive: np.ndarray,
    planted_offsets: np.ndarray,
    planted_items: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """One chunk of transactions: planted items plus background up to the drawn length.

    Record ``r`` draws its length ``L`` from its own stream, keeps its distinct planted
    items (``d`` of them), then adds ``max(L - d, 0)`` distinct background ids drawn from
    the popularity alias table (id ``i + 1`` for entry ``i``), at most as many as ids of
    positive weight are left. Items are sorted within each transaction (:func:`sort_into`).
    """
    n_items = pop_prob.size
    n_positive = 0
    for i in range(1, n_items + 1):
        if positive[i]:
            n_positive += 1
    stamp = np.zeros(n_items + 1, dtype=np.int32)
    states = np.empty(rows, dtype=np.uint64)
    want = np.empty(rows, dtype=np.int64)
    counts = np.zeros(rows + 1, dtype=np.int64)
    for r in range(rows):
        state, x = next_unit(substream(seed, r))
        length = len_values[alias_draw(x, len_prob, len_alias)]
        d = 0
        dp = 0
        for j in range(planted_offsets[r], planted_offsets[r + 1]):
            it = planted_items[j]
            if stamp[it] != r + 1:
                stamp[it] = r + 1
                d += 1
                if positive[it]:
                    dp += 1
        b = length - d if length > d else 0
        if b > n_positive - dp:
            b = n_positive - dp
        states[r] = state
        want[r] = b
        counts[r + 1] = d + b
    offsets = np.cumsum(counts)
    out = np.empty(offsets[rows], dtype=np.int32)
    row = np.empty(n_items + 1, dtype=np.int32)
    for r in range(rows):
        mark = rows + r + 1
        k = 0
        for j in range(planted_offsets[r], planted_offsets[r + 1]):
            it = planted_items[j]
            if stamp[it] != mark:
                stamp[it] = mark
                row[k] = it
                k += 1
        state = states[r]
        for _ in range(want[r]):
            while True:
                state, x = next_unit(state)
                it = alias_draw(x, pop_prob, pop_alias) + 1
                if stamp[it] != mark:
                    break
            stamp[it] = mark
            row[k] = it
            k += 1
        sort_into(row, k, out, offsets[r])
    return offsets, out


# sort_into ranks rows up to this long without branches; longer ones go through np.sort.
RANK_SORT_MAX = 48


@njit
def sort_into(row: np.ndarray, k: int, out: np.ndarray, at: int) -> None:
    """``out[at:at + k]`` = the distinct values ``row[:k]``, ascending.

    Short rows by rank (each value's count of smaller ones: compares without branches,
    where an insertion sort mispredicts about once a value).
    """
    if k > RANK_SORT_MAX:
        out[at:at + k] = np.sort(row[:k])
        return
    for a in range(k):
        v = row[a]
        rank = 0
        for b in range(k):
            rank += row[b] < v
        out[at + rank] = v


# tally counts pairs over a segment of at most this many transactions in uint16, then adds them up.
PAIR_SEGMENT = 65_535


@njit
def tally(
    offsets: np.ndarray,
    items: np.ndarray,
    start: int,
    stop: int,
    set_offsets: np.ndarray,
    set_items: np.ndarray,
    dense: np.ndarray,
    item_counts: np.ndarray,
    set_counts: np.ndarray,
    pair_out: np.ndarray,
) -> None:
    """One pass over transactions ``[start, stop)`` (ids ascending in each) adding three counts.

    - ``item_counts[id]`` (size ``n_items + 1``): occurrences of each id.
    - ``set_counts[s]``: transactions holding set ``s`` entirely. A set is checked when the
      scan reaches its largest id, so only in transactions holding that id, and every other
      member has been seen by then.
    - ``pair_out``: co-occurrences of the ids with ``dense[id] >= 0``; ``dense[id]`` is the
      id's index among ``f`` counted ids (increasing with the id), or -1. ``pair_out`` is the
      upper triangle row by row, pair ``a < b`` at ``a * (2f - a - 1) // 2 + b - a - 1``.
      Pairs are counted in a uint16 triangle (a quarter of an int32 square: it stays in
      cache), added to ``pair_out`` every :data:`PAIR_SEGMENT` transactions.
    """
    n_items = item_counts.size - 1
    n_sets = set_offsets.size - 1
    last = np.empty(n_sets, dtype=np.int64)
    by_last = np.zeros(n_items + 2, dtype=np.int64)
    for s in range(n_sets):
        last[s] = set_items[set_offsets[s]:set_offsets[s + 1]].max()
        by_last[last[s] + 1] += 1
    by_last = np.cumsum(by_last)
    order = np.empty(n_sets, dtype=np.int64)
    fill = by_last[: n_items + 1].copy()
    for s in range(n_sets):
        order[fill[last[s]]] = s
        fill[last[s]] += 1
    f = 0
    for x in dense:
        if x >= f:
            f = x + 1
    row_base = np.empty(f, dtype=np.int64)
    for a in range(f):
        row_base[a] = a * (2 * f - a - 1) // 2 - a - 1
    scratch = np.zeros(pair_out.size, dtype=np.uint16)
    buf = np.empty(f, dtype=np.uint64)
    stamp = np.zeros(n_items + 1, dtype=np.int64)
    seg = start
    while seg < stop:
        seg_stop = min(stop, seg + PAIR_SEGMENT)
        for t in range(seg, seg_stop):
            k = 0
            for j in range(offsets[t], offsets[t + 1]):
                x = items[j]
                item_counts[x] += 1
                stamp[x] = t + 1
                d = dense[x]
                if d >= 0:
                    buf[k] = d
                    k += 1
                for q in range(by_last[x], by_last[x + 1]):
                    s = order[q]
                    held = 1
                    for m in range(set_offsets[s], set_offsets[s + 1]):  # no early exit: no mispredicts
                        held &= stamp[set_items[m]] == t + 1
                    set_counts[s] += held
            for a in range(k):
                row = np.uint64(row_base[buf[a]])  # -1 for a = 0: uint64 arithmetic wraps back
                for b in range(a + 1, k):
                    scratch[row + buf[b]] += np.uint16(1)
        for x in range(pair_out.size):
            pair_out[x] += scratch[x]
            scratch[x] = 0
        seg = seg_stop


@njit
def spmf_text(offsets: np.ndarray, items: np.ndarray, start: int, stop: int) -> np.ndarray:
    """SPMF/FIMI text of transactions ``[start, stop)``: ids separated by spaces, one line each.

    An id from the table is one 8-byte store (its spelling, a space, and bytes the next
    write covers), so the buffer is sized by the longest id, with 8 bytes to spare, and
    the text is its first bytes.
    """
    top = 0
    for j in range(offsets[start], offsets[stop]):
        if items[j] > top:
            top = items[j]
    words, width = spelling(top)
    m = width.size
    buf = np.empty((offsets[stop] - offsets[start]) * (digits(top) + 1) + (stop - start) + 8, dtype=np.uint8)
    w = 0
    for t in range(start, stop):
        lo = offsets[t]
        hi = offsets[t + 1]
        for j in range(lo, hi):
            v = items[j]
            if v < m:
                store8(buf, w, words[v])
                w += width[v]
            else:
                w = put(buf, w, v)
                buf[w] = 32
                w += 1
        if hi == lo:
            w += 1
        buf[w - 1] = 10
    return buf[:w]


@njit
def quantities_chunk(
    offsets: np.ndarray,
    items: np.ndarray,
    seed: np.uint64,
    low: int,
    high: int,
    n_items: int,
    set_offsets: np.ndarray,
    set_items: np.ndarray,
    set_quantity: np.ndarray,
) -> np.ndarray:
    """A quantity per item occurrence of one chunk.

    Uniform in ``low..high`` from the record's own stream; then, for every set ``s``
    the transaction holds entirely, its items get ``set_quantity[s]`` instead (the
    largest one when several sets share an item). Cost is records x sets.
    """
    rows = offsets.size - 1
    out = np.empty(items.size, dtype=np.int32)
    where = np.full(n_items + 1, -1, dtype=np.int64)
    boosted = np.zeros(n_items + 1, dtype=np.int64)
    span = high - low + 1
    for r in range(rows):
        state = substream(seed, r)
        for j in range(offsets[r], offsets[r + 1]):
            state, x = next_unit(state)
            k = int(x * span)
            if k >= span:
                k = span - 1
            out[j] = low + k
            where[items[j]] = j
        for s in range(set_offsets.size - 1):
            whole = True
            for m in range(set_offsets[s], set_offsets[s + 1]):
                if where[set_items[m]] < offsets[r]:
                    whole = False
                    break
            if not whole:
                continue
            for m in range(set_offsets[s], set_offsets[s + 1]):
                j = where[set_items[m]]
                if boosted[set_items[m]] != r + 1:
                    boosted[set_items[m]] = r + 1
                    out[j] = set_quantity[s]
                elif out[j] < set_quantity[s]:
                    out[j] = set_quantity[s]
    return out


@njit
def set_utilities(
    offsets: np.ndarray,
    items: np.ndarray,
    quantities: np.ndarray,
    profits: np.ndarray,
    start: int,
    stop: int,
    n_items: int,
    set_offsets: np.ndarray,
    set_items: np.ndarray,
) -> np.ndarray:
    """Utility of each set in ``[start, stop)``: over transactions holding it entirely,
    the sum of quantity x ``profits[id]`` of its items."""
    n_sets = set_offsets.size - 1
    where = np.full(n_items + 1, -1, dtype=np.int64)
    out = np.zeros(n_sets, dtype=np.int64)
    for t in range(start, stop):
        for j in range(offsets[t], offsets[t + 1]):
            where[items[j]] = j
        for s in range(n_sets):
            total = 0
            for m in range(set_offsets[s], set_offsets[s + 1]):
                j = where[set_items[m]]
                if j < offsets[t]:
                    total = -1
                    break
                total += quantities[j] * profits[set_items[m]]
            if total > 0:
                out[s] += total
    return out


@njit
def spmf_utility_text(offsets: np.ndarray, items: np.ndarray, quantities: np.ndarray, profits: np.ndarray,
                      start: int, stop: int) -> np.ndarray:
    """SPMF utility format of ``[start, stop)``: ``ids:transaction utility:item utilities``."""
    size = 0
    for t in range(start, stop):
        tu = 0
        for j in range(offsets[t], offsets[t + 1]):
            u = quantities[j] * profits[items[j]]
            tu += u
            size += digits(items[j]) + digits(u) + 2
        size += digits(tu) + 1
        if offsets[t + 1] == offsets[t]:
            size += 2
    buf = np.empty(size, dtype=np.uint8)
    w = 0
    for t in range(start, stop):
        lo = offsets[t]
        hi = offsets[t + 1]
        tu = 0
        for j in range(lo, hi):
            tu += quantities[j] * profits[items[j]]
            w = put(buf, w, items[j])
            buf[w] = 32 if j < hi - 1 else 58
            w += 1
        if hi == lo:
            buf[w] = 58
            w += 1
        w = put(buf, w, tu)
        buf[w] = 58
        w += 1
        for j in range(lo, hi):
            w = put(buf, w, quantities[j] * profits[items[j]])
            buf[w] = 32 if j < hi - 1 else 10
            w += 1
        if hi == lo:
            buf[w] = 10
            w += 1
    return buf


@njit
def add_histograms(offsets: np.ndarray, values: np.ndarray, lengths: np.ndarray, ids: np.ndarray) -> None:
    """Add each list's length (lists on ``offsets``) to ``lengths`` and each of ``values[offsets[0]:offsets[-1]]``
    to ``ids``; both are large enough (longest list, largest value)."""
    for r in range(offsets.size - 1):
        lengths[offsets[r + 1] - offsets[r]] += 1
    for j in range(offsets[0], offsets[-1]):
        ids[values[j]] += 1

"""The exact ledger's kernels: support counting (gaps, windows, drift bins) and the
accidental-pattern miner, over the CSR layout of :mod:`medmgen_sequence._kernels`."""

from __future__ import annotations

import numba
import numpy as np

from medmgen_sequence._kernels import UNBOUNDED


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

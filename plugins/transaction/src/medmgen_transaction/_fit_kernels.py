"""Numba kernels of the FIMI reader (:mod:`.fimi`) and the fit statistics (:mod:`.fit`).

Transactions are CSR arrays: ``offsets`` (int64, n + 1) and ``items`` (int32, sorted
within each transaction). Itemsets of one size ``m`` are the rows of an int32 matrix of
*local* item indices (0..k-1, the frequent items in ascending id order), rows sorted
lexicographically. No kernel draws random numbers.
"""

from __future__ import annotations

import numba
import numpy as np

# Error codes of ``scan_fimi``; the reader turns them into messages.
OK = 0
BAD_TOKEN = 1
TOO_LARGE = 2
ZERO_ID = 3

_MAX_ID = 2**31 - 2  # so a 0-based file can be shifted to 1-based int32 ids
_NL, _SP, _TAB, _CR = 10, 32, 9, 13
_ZERO, _NINE = 48, 57
_HASH, _PERCENT, _AT = 35, 37, 64


@numba.njit(cache=True)
def _is_space(c: int) -> bool:
    return c in (_SP, _TAB, _CR)


@numba.njit(cache=True)
def _is_comment_start(c: int) -> bool:
    return c in (_HASH, _PERCENT, _AT)


@numba.njit(cache=True)
def scan_fimi(buf: np.ndarray, allow_zero: bool) -> tuple[int, int, int, int, int, int]:
    """Validate FIMI/SPMF bytes and size the output.

    Returns ``(transactions, tokens, error, line, start, end)``: ``error`` is one of the
    codes above, ``line`` the 1-based line of the first problem and ``buf[start:end]``
    its token. A line whose first non-blank byte is ``#``, ``%`` or ``@`` is a comment
    (not a transaction); a blank line is an empty transaction; the last line needs no
    newline.
    """
    n = buf.shape[0]
    transactions = 0
    tokens = 0
    line = 1
    i = 0
    while i < n:
        j = i
        while j < n and _is_space(buf[j]):
            j += 1
        if j < n and _is_comment_start(buf[j]):
            while j < n and buf[j] != _NL:
                j += 1
        else:
            while j < n and buf[j] != _NL:
                if _is_space(buf[j]):
                    j += 1
                    continue
                start = j
                value = 0
                while j < n and buf[j] != _NL and not _is_space(buf[j]):
                    c = buf[j]
                    if c < _ZERO or c > _NINE:
                        while j < n and buf[j] != _NL and not _is_space(buf[j]):
                            j += 1
                        return transactions, tokens, BAD_TOKEN, line, start, j
                    value = value * 10 + (c - _ZERO)
                    if value > _MAX_ID:
                        while j < n and buf[j] != _NL and not _is_space(buf[j]):
                            j += 1
                        return transactions, tokens, TOO_LARGE, line, start, j
                    j += 1
                if value == 0 and not allow_zero:
                    return transactions, tokens, ZERO_ID, line, start, j
                tokens += 1
            transactions += 1
        i = j + 1
        line += 1
    return transactions, tokens, OK, 0, 0, 0


@numba.njit(cache=True)
def parse_fimi(buf: np.ndarray, transactions: int, tokens: int) -> tuple[np.ndarray, np.ndarray]:
    """Fill CSR arrays from bytes ``scan_fimi`` accepted; each transaction sorted, repeats dropped."""
    offsets = np.zeros(transactions + 1, dtype=np.int64)
    items = np.empty(tokens, dtype=np.int32)
    n = buf.shape[0]
    t = 0
    pos = 0
    i = 0
    while i < n:
        j = i
        while j < n and _is_space(buf[j]):
            j += 1
        if j < n and _is_comment_start(buf[j]):
            while j < n and buf[j] != _NL:
                j += 1
        else:
            begin = pos
            while j < n and buf[j] != _NL:
                if _is_space(buf[j]):
                    j += 1
                    continue
                value = 0
                while j < n and buf[j] != _NL and not _is_space(buf[j]):
                    value = value * 10 + (buf[j] - _ZERO)
                    j += 1
                items[pos] = value
                pos += 1
            if pos - begin > 1:
                items[begin:pos].sort()
                w = begin + 1
                for r in range(begin + 1, pos):
                    if items[r] != items[w - 1]:
                        items[w] = items[r]
                        w += 1
                pos = w
            t += 1
            offsets[t] = pos
        i = j + 1
    return offsets, items[:pos].copy()


@numba.njit(cache=True)
def pair_counts(offsets: np.ndarray, items: np.ndarray, local: np.ndarray, k: int) -> np.ndarray:
    """``counts[a, b]`` (a < b) = transactions holding local items a and b; ``local[id] = -1`` skips an id."""
    counts = np.zeros((k, k), dtype=np.int64)
    buf = np.empty(k, dtype=np.int64)
    for t in range(offsets.shape[0] - 1):
        m = 0
        for p in range(offsets[t], offsets[t + 1]):
            a = local[items[p]]
            if a >= 0:
                buf[m] = a
                m += 1
        for x in range(m):
            for y in range(x + 1, m):
                a, b = buf[x], buf[y]
                if a < b:
                    counts[a, b] += 1
                else:
                    counts[b, a] += 1
    return counts


@numba.njit(cache=True)
def item_bitsets(offsets: np.ndarray, items: np.ndarray, local: np.ndarray, k: int) -> np.ndarray:
    """One bit per transaction for each local item: ``bits[a, t // 64] >> (t % 64) & 1``."""
    n = offsets.shape[0] - 1
    words = (n + 63) // 64
    bits = np.zeros((k, words), dtype=np.uint64)
    for t in range(n):
        w = t // 64
        bit = np.uint64(1) << np.uint64(t % 64)
        for p in range(offsets[t], offsets[t + 1]):
            a = local[items[p]]
            if a >= 0:
                bits[a, w] |= bit
    return bits


@numba.njit(cache=True)
def _popcount(x: np.uint64) -> int:
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return int((x * np.uint64(0x0101010101010101)) >> np.uint64(56))


@numba.njit(cache=True)
def itemset_counts(bits: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Support count of each row (an itemset of local items) from the item bitsets."""
    c, m = rows.shape
    words = bits.shape[1]
    out = np.zeros(c, dtype=np.int64)
    for r in range(c):
        total = 0
        for w in range(words):
            x = bits[rows[r, 0], w]
            for j in range(1, m):
                x &= bits[rows[r, j], w]
            total += _popcount(x)
        out[r] = total
    return out


@numba.njit(cache=True)
def _compare_rows(a: np.ndarray, ia: int, b: np.ndarray, ib: int) -> int:
    for j in range(a.shape[1]):
        if a[ia, j] != b[ib, j]:
            return -1 if a[ia, j] < b[ib, j] else 1
    return 0


@numba.njit(cache=True)
def _find_row(rows: np.ndarray, key: np.ndarray) -> int:
    """Index of ``key[0]`` in lexicographically sorted ``rows``, or -1."""
    lo, hi = 0, rows.shape[0]
    while lo < hi:
        mid = (lo + hi) // 2
        c = _compare_rows(rows, mid, key, 0)
        if c == 0:
            return mid
        if c < 0:
            lo = mid + 1
        else:
            hi = mid
    return -1


@numba.njit(cache=True)
def apriori_candidates(rows: np.ndarray) -> np.ndarray:
    """Size m + 1 candidates from frequent size-m itemsets (sorted rows): prefix join, subset prune."""
    f, m = rows.shape
    count = 0
    cap = 16
    out = np.empty((cap, m + 1), dtype=np.int32)
    key = np.empty((1, m), dtype=np.int32)
    for a in range(f):
        b = a + 1
        while b < f:
            same = True
            for j in range(m - 1):
                if rows[a, j] != rows[b, j]:
                    same = False
                    break
            if not same:
                break
            keep = True
            for drop in range(m - 1):
                w = 0
                for j in range(m):
                    if j != drop:
                        key[0, w] = rows[a, j]
                        w += 1
                key[0, m - 1] = rows[b, m - 1]
                if _find_row(rows, key) < 0:
                    keep = False
                    break
            if keep:
                if count == cap:
                    cap *= 2
                    grown = np.empty((cap, m + 1), dtype=np.int32)
                    grown[:count] = out[:count]
                    out = grown
                out[count, :m] = rows[a]
                out[count, m] = rows[b, m - 1]
                count += 1
            b += 1
    return out[:count].copy()


@numba.njit(cache=True)
def mark_subsets(rows: np.ndarray, counts: np.ndarray, sup_rows: np.ndarray, sup_counts: np.ndarray,
                 closed: np.ndarray, maximal: np.ndarray) -> None:
    """Clear ``maximal`` of each size-m row with a frequent size m + 1 superset, and ``closed`` if counts match."""
    m = rows.shape[1]
    key = np.empty((1, m), dtype=np.int32)
    for s in range(sup_rows.shape[0]):
        for drop in range(m + 1):
            w = 0
            for j in range(m + 1):
                if j != drop:
                    key[0, w] = sup_rows[s, j]
                    w += 1
            i = _find_row(rows, key)
            if i >= 0:
                maximal[i] = False
                if counts[i] == sup_counts[s]:
                    closed[i] = False


@numba.njit(cache=True)
def count_itemsets_csr(offsets: np.ndarray, items: np.ndarray, set_offsets: np.ndarray, set_items: np.ndarray,
                       max_id: int) -> np.ndarray:
    """Transactions containing each non-empty itemset (CSR of sorted ids), indexed by its first item.

    ``max_id`` bounds every id in ``items`` and ``set_items``; cost is about the total
    transaction length times the itemsets sharing a first item.
    """
    n_sets = set_offsets.shape[0] - 1
    first = np.full(max_id + 1, -1, dtype=np.int64)
    nxt = np.full(n_sets, -1, dtype=np.int64)
    for s in range(n_sets - 1, -1, -1):
        a = set_items[set_offsets[s]]
        nxt[s] = first[a]
        first[a] = s
    stamp = np.full(max_id + 1, -1, dtype=np.int64)
    out = np.zeros(n_sets, dtype=np.int64)
    for t in range(offsets.shape[0] - 1):
        for p in range(offsets[t], offsets[t + 1]):
            stamp[items[p]] = t
        for p in range(offsets[t], offsets[t + 1]):
            s = first[items[p]]
            while s >= 0:
                ok = True
                for q in range(set_offsets[s] + 1, set_offsets[s + 1]):
                    if stamp[set_items[q]] != t:
                        ok = False
                        break
                if ok:
                    out[s] += 1
                s = nxt[s]
    return out

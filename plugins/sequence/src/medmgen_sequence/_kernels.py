"""The sequence modality's shared numba kernels: counter-based randomness, counts, host
permutations, times and pattern positions, and the evaluators' histograms. The itemset
kernel is in :mod:`._fill_kernels`, the ledger's in :mod:`._ledger_kernels`, the SPMF
writer and reader in :mod:`._spmf_kernels`.

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


@numba.njit(cache=True, parallel=True)
def sorted_prefixes(keys: np.ndarray, sizes: np.ndarray, counts: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """:func:`permutation_prefix` for many ``(key, n, count)`` at once (no ``allowed``), each
    sorted and shifted by its ``start``, concatenated in order: in parallel over the tasks."""
    off = np.zeros(keys.shape[0] + 1, np.int64)
    for t in range(keys.shape[0]):
        off[t + 1] = off[t] + counts[t]
    out = np.empty(off[-1], np.int64)
    none = np.empty(0, np.bool_)
    for t in numba.prange(keys.shape[0]):
        part = np.sort(permutation_prefix(keys[t], sizes[t], counts[t], none))
        out[off[t]:off[t + 1]] = part + starts[t]
    return out


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


@numba.njit(cache=True, parallel=True)
def embed_all(keys: np.ndarray, host_off: np.ndarray, hosts: np.ndarray, lengths: np.ndarray, ks: np.ndarray,
              min_gaps: np.ndarray, max_gaps: np.ndarray, windows: np.ndarray, tkey: np.uint64, kind: int,
              interval: int, burst: float, pause: int) -> np.ndarray:
    """Positions ``p_1 < ... < p_k`` of every pattern ``j`` in each of its hosts (``hosts[host_off[j]:
    host_off[j+1]]``, their lengths at ``lengths[host]``), honouring its gaps and time window;
    host by ``ks[j]`` blocks raveled and concatenated in order, in parallel over the patterns.

    ``p_1`` is uniform over the starts that leave room for the rest (and, with
    ``windows[j] >= 0``, fit the window); each next gap is uniform over ``min_gap..max_gap``
    cut to what still leaves room. Hosts must be long enough and window-feasible.
    """
    n_pat = keys.shape[0]
    off = np.zeros(n_pat + 1, np.int64)
    for j in range(n_pat):
        off[j + 1] = off[j] + (host_off[j + 1] - host_off[j]) * ks[j]
    out = np.empty(off[-1], np.int32)
    for j in numba.prange(n_pat):
        mine = hosts[host_off[j]:host_off[j + 1]]
        if mine.shape[0]:
            _embed_into(keys[j], mine, lengths[mine], ks[j], min_gaps[j], max_gaps[j], windows[j], tkey, kind,
                        interval, burst, pause, out[off[j]:off[j + 1]].reshape((mine.shape[0], ks[j])))
    return out


@numba.njit(cache=True)
def _embed_into(key: np.uint64, hosts: np.ndarray, lengths: np.ndarray, k: int, min_gap: int, max_gap: int,
                window: int, tkey: np.uint64, kind: int, interval: int, burst: float, pause: int,
                out: np.ndarray) -> None:
    """One pattern's positions (see :func:`embed_all`) into ``out`` (hosts by k)."""
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

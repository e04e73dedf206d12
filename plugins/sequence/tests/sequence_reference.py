"""Plain-Python references for the sequence plugin's tests, written apart from the kernels.

Nothing here imports the plugin: the point is an independent second opinion.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

MASK = (1 << 64) - 1


def mix(z: int) -> int:
    """splitmix64 finaliser of z + golden ratio, on Python ints."""
    z = (z + 0x9E3779B97F4A7C15) & MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def unit(h: int) -> float:
    return (h >> 11) / 2.0**53


def draw(cdf: Sequence[float], u: float) -> int:
    """Smallest index whose cumulative probability exceeds u."""
    for i, c in enumerate(cdf):
        if u < c:
            return i
    return len(cdf) - 1


def supports(seq: Sequence[Sequence[int]], pattern: Sequence[Sequence[int]], min_gap: int = 1,
             max_gap: int | None = None, max_window: int | None = None,
             times: Sequence[int] | None = None) -> bool:
    """Does the sequence contain the pattern with every consecutive gap in min_gap..max_gap
    (and the first and last matched itemsets at most max_window apart in ``times``)?

    Depth-first search over all placements: deliberately simple, exponential at worst.
    """
    sets = [set(s) for s in seq]

    def place(i: int, first: int | None, prev: int | None) -> bool:
        if i == len(pattern):
            return max_window is None or times[prev] - times[first] <= max_window
        if prev is None:
            candidates = range(len(sets))
        else:
            hi = len(sets) - 1 if max_gap is None else min(len(sets) - 1, prev + max_gap)
            candidates = range(prev + min_gap, hi + 1)
        return any(set(pattern[i]) <= sets[p] and place(i + 1, p if first is None else first, p)
                   for p in candidates)

    return place(0, None, None)


def support_count(db: Iterable[Sequence[Sequence[int]]], pattern: Sequence[Sequence[int]], min_gap: int = 1,
                  max_gap: int | None = None, max_window: int | None = None,
                  times: Iterable[Sequence[int]] | None = None) -> int:
    times = times if times is not None else [None] * len(db)
    return sum(supports(seq, pattern, min_gap, max_gap, max_window, t) for seq, t in zip(db, times))


def pair_counts(db: Iterable[Sequence[Sequence[int]]]) -> dict[tuple[int, int], int]:
    """Support of every <{a}, {b}> with a in an earlier itemset than b."""
    out: dict[tuple[int, int], int] = {}
    for seq in db:
        found = set()
        for i, first in enumerate(seq):
            for later in seq[i + 1:]:
                found.update((a, b) for a in first for b in later)
        for pair in found:
            out[pair] = out.get(pair, 0) + 1
    return out


def spmf_line(seq: Sequence[Sequence[int]], times: Sequence[int] | None = None) -> str:
    if times is None:
        return "".join(" ".join(map(str, s)) + " -1 " for s in seq) + "-2\n"
    return "".join(f"<{t}> " + " ".join(map(str, s)) + " -1 " for s, t in zip(seq, times)) + "-2\n"


def from_csr(seq_off, set_off, items) -> list[list[list[int]]]:
    """CSR arrays back to nested lists."""
    return [[list(map(int, items[set_off[t]:set_off[t + 1]])) for t in range(seq_off[s], seq_off[s + 1])]
            for s in range(len(seq_off) - 1)]


def read_spmf(text: str) -> list[list[list[int]]]:
    """An SPMF sequence file (no timestamps) back to nested lists: itemsets end at -1, sequences at -2."""
    db = []
    for line in text.splitlines():
        seq, itemset = [], []
        for word in line.split():
            if word == "-2":
                break
            if word == "-1":
                seq.append(itemset)
                itemset = []
            else:
                itemset.append(int(word))
        db.append(seq)
    return db

"""From a block spec to sequences: the planned patterns, the background and the planting.

Every random value is addressed by (key, coordinates), see :mod:`medmgen_sequence._kernels`:

- stream ``(DATA, 0)``: sequence lengths and background itemsets;
- stream ``(DATA, 1, j, i)``: pattern ``j``'s hosts in segment ``i`` (one segment, or
  the before/ramp/after pieces of a drift): the first ``round(aim * size)`` values of a
  keyed pseudo-random permutation of the segment's sequences, a random subset of exactly
  that size (each chunk receives a multivariate-hypergeometric share), nested in the
  count, which lets the feedback loop move support monotonically;
- stream ``(DATA, 2, j)``: pattern ``j``'s positions in each host;
- stream ``(DATA, 3)``: itemset times within a sequence;
- stream ``(DATA, 4)``: sequence start times (``timestamps.arrival``).

A host shorter than the pattern's span ``1 + (length - 1) * min_gap`` is lengthened to it.
With ``max_window``, only sequences that can hold the pattern within the window are
hosts (the permutation skips the others).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from medmgen.errors import InputError, Problem
from medmgen.interfaces import BlockContext
from medmgen.seeds import DATA, PLAN, state_words
from medmgen_sequence import _fill_kernels as fk
from medmgen_sequence import _kernels as k
from medmgen_sequence.io import SequenceData
from medmgen_sequence.kinds import SequentialPattern
from medmgen_sequence.mining import pattern_arrays
from medmgen_sequence.spec import CountDist, Popularity, SequenceBlock, span

TIME_KINDS = {"none": 0, "regular": 1, "poisson": 2, "bursty": 3}
RAMP_STEPS = 16  # a gradual drift's ramp is planted as this many equal steps (fewer if narrower)


def count_cdf(dist: CountDist, limit: int | None = None) -> np.ndarray:
    """Cumulative probabilities of counts ``1..longest``, cut at ``limit`` (last entry exactly 1)."""
    if dist.distribution == "empirical":
        w = np.asarray(dist.weights, dtype=np.float64)
    else:
        lam = dist.mean - 1.0
        kk = np.arange(dist.max, dtype=np.float64)
        if lam == 0.0:
            w = (kk == 0).astype(np.float64)
        else:
            w = np.exp(kk * math.log(lam) - lam - np.array([math.lgamma(x + 1.0) for x in kk]))
    if limit is not None and w.size > limit:
        w = w[:limit]
    if not w.sum() > 0:
        w = np.ones(1)
    cdf = np.cumsum(w) / w.sum()
    cdf[-1] = 1.0
    return cdf


def popularity_cdf(pop: Popularity, items: int) -> np.ndarray:
    """Cumulative item probabilities; empty for uniform (the kernel draws ids directly)."""
    if pop.distribution == "uniform":
        return np.empty(0, np.float64)
    if pop.distribution == "zipf":
        w = np.arange(1, items + 1, dtype=np.float64) ** -pop.exponent
    else:
        w = np.asarray(pop.weights, dtype=np.float64)
    cdf = np.cumsum(w) / w.sum()
    cdf[np.flatnonzero(w)[-1]:] = 1.0  # ids after the last positive weight are never drawn, whatever the rounding
    return cdf


def drawable(pop: Popularity, items: int) -> np.ndarray:
    """``out[id]``: whether the background may draw ``id`` (its weight is positive); empty when
    every id may be drawn (uniform, zipf, empirical without zeros)."""
    if pop.distribution != "empirical" or min(pop.weights) > 0:
        return np.empty(0, np.bool_)
    out = np.zeros(items + 1, np.bool_)
    out[1:] = np.asarray(pop.weights, dtype=np.float64) > 0
    return out


def guide(cdf: np.ndarray) -> np.ndarray:
    """The :func:`~medmgen_sequence._kernels.guide_table` of a cdf: about four starts per entry
    (at most 2**20)."""
    return k.guide_table(cdf, min(20, 2 + max(1, int(cdf.shape[0])).bit_length()))


def plan_patterns(block: SequenceBlock, ctx: BlockContext) -> list[SequentialPattern]:
    """The explicit patterns, then ``random_sequential_patterns`` drawn from stream ``PLAN``."""
    out = []
    for j, p in enumerate(block.sequential_patterns):
        target = sum((hi - lo) * sup for lo, hi, sup in schedule(block, j)) / block.records
        out.append(SequentialPattern(id=f"{ctx.block}/sequential_pattern/{len(out)}", block=ctx.block,
                                     sequence=[sorted(s) for s in p.sequence], min_gap=p.min_gap,
                                     max_gap=p.max_gap, max_window=p.max_window,
                                     target_support=round(target, 12)))
    r = block.random_sequential_patterns
    rng = ctx.rng(PLAN)
    for _ in range(r.count):
        length = int(rng.integers(r.length[0], r.length[1] + 1))
        sizes = rng.integers(r.itemset_size[0], r.itemset_size[1] + 1, size=length)
        ids = rng.choice(block.items, size=int(sizes.sum()), replace=False) + 1
        cuts = np.cumsum(sizes)[:-1]
        seq = [sorted(int(x) for x in part) for part in np.split(ids, cuts)]
        support = round(float(rng.uniform(r.support[0], r.support[1])), 6)
        out.append(SequentialPattern(id=f"{ctx.block}/sequential_pattern/{len(out)}", block=ctx.block,
                                     sequence=seq, min_gap=r.min_gap, max_gap=r.max_gap, max_window=r.max_window,
                                     target_support=support))
    if any(p.max_window is not None for p in out):
        _check_windows(block, out, ctx)
    return out


def _check_windows(block: SequenceBlock, patterns: Sequence[SequentialPattern], ctx: BlockContext) -> None:
    """A pattern with ``max_window`` goes only to sequences whose (seeded) times can hold it
    there: each segment's target must fit in those, else one input error per pattern."""
    lengths = k.draw_counts(_key(ctx, 0), 0, block.records, 0, count_cdf(block.itemsets))
    tkey, *times = time_args(block, ctx)
    explicit = len(block.sequential_patterns)
    problems = []
    for j, p in enumerate(patterns):
        if p.max_window is None:
            continue
        allowed = k.window_feasible(tkey, lengths, len(p.sequence), p.min_gap, p.max_window, *times)
        for lo, hi, sup in schedule(block, j, p.target_support):
            room = int(allowed[lo:hi].sum())
            if round(sup * (hi - lo)) > room:
                key = f"sequential_patterns[{j}]" if j < explicit else "random_sequential_patterns"
                problems.append(Problem(
                    f"blocks.{ctx.block}.{key}.max_window",
                    f"the timestamps let only {room} of {hi - lo} sequences hold {p.id} within max_window",
                    f"support <= {room / (hi - lo):.4g} (records {lo}..{hi - 1}) or a larger max_window",
                    f"support {sup:g}"))
                break
    if problems:
        raise InputError(ctx.source, problems)


def schedule(block: SequenceBlock, j: int, support: float | None = None,
             ends: tuple[float, float] | None = None) -> list[tuple[int, int, float]]:
    """Pattern ``j``'s segments ``(lo, hi, target support)``: one, or before/ramp steps/after a drift.

    Explicit patterns (``j`` below their count) take their spec; drawn ones one segment at ``support``.
    ``ends`` replaces a drift's supports before and after (the ramp steps interpolate between them).
    """
    n = block.records
    spec = block.sequential_patterns[j] if j < len(block.sequential_patterns) else None
    if spec is None or spec.drift is None:
        return [(0, n, spec.support if spec is not None else float(support or 0.0))]
    d = spec.drift
    first, last = ends or (spec.support, d.support)
    out = [(0, d.at, first)]
    steps = min(RAMP_STEPS, d.width)
    for i in range(steps):
        lo, hi = d.at + d.width * i // steps, d.at + d.width * (i + 1) // steps
        out.append((lo, hi, first + (last - first) * (i + 0.5) / steps))
    out.append((d.at + d.width, n, last))
    return [seg for seg in out if seg[1] > seg[0]]


def time_args(block: SequenceBlock, ctx: BlockContext) -> tuple:
    """``(key, kind, interval, burst, pause)`` for the time kernels."""
    t = block.timestamps
    return _key(ctx, 3), TIME_KINDS[t.kind], t.interval, float(t.burst), t.pause


def _key(ctx: BlockContext, *index: int) -> np.uint64:
    return np.uint64(state_words(ctx.seed_sequence(DATA, *index), 1)[0])


def hosts_of(block: SequenceBlock, ctx: BlockContext, j: int, p: SequentialPattern, aim: float,
             lengths: np.ndarray, ends: tuple[float, float] | None = None) -> np.ndarray:
    """The sequences (sorted) that carry pattern ``j`` when its whole-block target is ``aim``.

    Each segment gets exactly ``round(segment aim * segment size)`` hosts. A drift's segments
    aim at ``ends`` (before, after; the ramp steps in between), the feedback loop's aims for
    its segments, each steered by its own error; without ``ends``, every segment's target
    moves by the same ``aim - target``. :func:`all_hosts` gives the same for many patterns.
    """
    allowed = np.empty(0, np.bool_)
    if p.max_window is not None:
        tkey, *times = time_args(block, ctx)
        allowed = k.window_feasible(tkey, lengths, len(p.sequence), p.min_gap, p.max_window, *times)
    parts = [np.empty(0, np.int64)]
    for i, lo, hi, count in _segments(block, j, p, aim, ends):
        window = allowed[lo:hi] if allowed.size else allowed
        parts.append(k.permutation_prefix(_key(ctx, 1, j, i), hi - lo, count, window) + lo)
    return np.sort(np.concatenate(parts))


def all_hosts(block: SequenceBlock, ctx: BlockContext, patterns: Sequence[SequentialPattern],
              aims: Sequence[float], lengths: np.ndarray,
              ends: Sequence[tuple[float, float] | None]) -> list[np.ndarray]:
    """:func:`hosts_of` each pattern: the segments of patterns without ``max_window`` drawn
    in one parallel kernel (:func:`~._kernels.sorted_prefixes`; a segment's hosts follow
    the previous segment's), the others one by one."""
    hosts: list[np.ndarray] = []
    tasks: list[tuple[np.uint64, int, int, int]] = []
    owned: list[tuple[int, int]] = []  # (pattern, first task)
    for j, (p, aim) in enumerate(zip(patterns, aims)):
        if p.max_window is not None:
            hosts.append(hosts_of(block, ctx, j, p, aim, lengths, ends[j]))
            continue
        owned.append((j, len(tasks)))
        tasks += [(_key(ctx, 1, j, i), hi - lo, count, lo) for i, lo, hi, count in _segments(block, j, p, aim, ends[j])]
        hosts.append(np.empty(0, np.int64))
    if tasks:
        keys, sizes, counts, starts = zip(*tasks)
        flat = k.sorted_prefixes(np.array(keys, np.uint64), np.array(sizes, np.int64),
                                 np.array(counts, np.int64), np.array(starts, np.int64))
        cut = np.zeros(len(tasks) + 1, np.int64)
        np.cumsum(counts, out=cut[1:])
        for (j, first), (_, last) in zip(owned, [*owned[1:], (-1, len(tasks))]):
            hosts[j] = flat[cut[first]:cut[last]]
    return hosts


def _segments(block: SequenceBlock, j: int, p: SequentialPattern, aim: float,
              ends: tuple[float, float] | None) -> list[tuple[int, int, int, int]]:
    """Pattern ``j``'s segments that get hosts: ``(i, lo, hi, count)``, see :func:`hosts_of`."""
    shift = aim - (p.target_support or 0.0) if ends is None else 0.0
    out = []
    for i, (lo, hi, sup) in enumerate(schedule(block, j, p.target_support, ends)):
        count = round(min(1.0, max(0.0, sup + shift)) * (hi - lo))
        if count:
            out.append((i, lo, hi, count))
    return out


def build(block: SequenceBlock, patterns: Sequence[SequentialPattern], aims: Sequence[float] | None,
          ctx: BlockContext, ends: Sequence[tuple[float, float] | None] = ()) -> tuple[SequenceData, list[int]]:
    """Background sequences with each pattern planted for its aim (``None``: nothing planted);
    ``ends[j]``: drifting pattern ``j``'s aims before and after the change (see :func:`hosts_of`).

    Returns the data and how many sequences received each pattern.
    """
    n = block.records
    bg = _key(ctx, 0)
    lengths = k.draw_counts(bg, 0, n, 0, count_cdf(block.itemsets))
    if aims is None:
        hosts = [np.empty(0, np.int64) for _ in patterns]
    else:
        hosts = all_hosts(block, ctx, patterns, aims, lengths, list(ends) + [None] * (len(patterns) - len(ends)))
    tkey, tkind, interval, burst, pause = time_args(block, ctx)
    for p, h in zip(patterns, hosts):
        lengths[h] = np.maximum(lengths[h], span(len(p.sequence), p.min_gap))
    host_off = np.zeros(len(hosts) + 1, np.int64)
    np.cumsum([h.size for h in hosts], out=host_off[1:])
    host_seq = np.concatenate([np.empty(0, np.int64), *hosts])
    pat_off, pat_set_off, pat_items, min_gaps, max_gaps, windows = pattern_arrays(patterns)
    positions = k.embed_all(np.array([_key(ctx, 2, j) if h.size else 0 for j, h in enumerate(hosts)], np.uint64),
                            host_off, host_seq, lengths, np.diff(pat_off), min_gaps, max_gaps, windows,
                            tkey, tkind, interval, burst, pause)
    plants = (host_off, host_seq, positions, pat_off, pat_set_off, pat_items)
    size_cdf = count_cdf(block.itemset_size, block.items)
    pop_cdf = popularity_cdf(block.popularity, block.items)
    task = ctx.progress.task(f"{ctx.block}: sequences", n)
    seq_off, set_off, items = fk.fill_sequences(bg, 0, lengths, size_cdf, guide(size_cdf), pop_cdf, guide(pop_cdf),
                                               block.items, drawable(block.popularity, block.items), *plants,
                                               block.chunk)
    task.advance(n)
    data = SequenceData(seq_off=seq_off, set_off=set_off, items=items)
    if tkind:
        times = k.draw_times(tkey, data.seq_off, tkind, interval, burst, pause)
        if block.timestamps.arrival:
            times += np.repeat(start_times(block, ctx), np.diff(data.seq_off))
        data = SequenceData(seq_off=data.seq_off, set_off=data.set_off, items=data.items, times=times)
    return data, [int(h.size) for h in hosts]


def start_times(block: SequenceBlock, ctx: BlockContext) -> np.ndarray:
    """Each sequence's start time (stream ``(DATA, 4)``); all zero without ``timestamps.arrival``."""
    return k.sequence_starts(_key(ctx, 4), block.records, block.timestamps.arrival)


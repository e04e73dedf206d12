"""The ``[blocks.NAME]`` keys of a sequence block (``modality = "sequence"``)."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

import attrs
from attrs import frozen

from medmgen.errors import Problem
from medmgen.fields import setting, source_law_problems, unless_source
from medmgen.interfaces import BlockSpec

DEFAULT_RECORDS = 1000
DEFAULT_ITEMS = 1000
MAX_ITEMS = 10_000_000  # largest item id: popularity tables (and a fitted spec) hold one weight an id


@frozen(kw_only=True)
class CountDist:
    """A distribution of counts ``1..max`` (itemsets per sequence, items per itemset).

    ``mean`` and ``max`` belong to ``poisson``; with ``empirical`` they follow from ``weights``
    (null unless given, and then only the values the weights imply).
    """

    distribution: str = setting("poisson", doc="'poisson': 1 + Poisson(mean - 1), truncated at max; "
                                "'empirical': count k+1 with probability weights[k].",
                                choices=("poisson", "empirical"))
    mean: float | None = setting(attrs.Factory(lambda d: 1.0 if d.distribution == "poisson" else None,
                                               takes_self=True), doc="Mean count (poisson; default 1.0).", ge=1)
    max: int | None = setting(attrs.Factory(lambda d: 64 if d.distribution == "poisson" else None, takes_self=True),
                              doc="Largest count (poisson; default 64; empirical: len(weights)).", ge=1)
    weights: list[float] = setting(factory=list, doc="Relative frequency of counts 1, 2, ... (empirical).", ge=0)

    def longest(self) -> int:
        """The largest count this distribution can draw."""
        return len(self.weights) if self.distribution == "empirical" else int(self.max or 0)

    def check(self) -> Sequence[Problem]:
        out = []
        if self.distribution == "poisson":
            if self.weights:
                out.append(Problem("weights", "weights belong to distribution = 'empirical'", "no weights",
                                   self.weights))
            if self.mean is not None and self.max is not None and self.max >= 1 and self.mean > self.max:
                # (a max below 1 is already out of range)
                out.append(Problem("mean", "mean larger than max", f"<= {self.max}", self.mean))
            return out
        total = sum(self.weights)
        if not total > 0:
            out.append(Problem("weights", "empirical needs weights with a positive sum", "[w1, w2, ...]",
                               self.weights))
            return out
        if self.max is not None and self.max >= 1 and self.max != len(self.weights):
            out.append(Problem("max", "empirical counts end at the last weight (leave max out)",
                               f"{len(self.weights)} or no value", self.max))
        implied = sum(k * w for k, w in enumerate(self.weights, 1)) / total
        if self.mean is not None and not math.isclose(self.mean, implied, rel_tol=1e-9):
            out.append(Problem("mean", "empirical counts have the weights' mean (leave mean out)",
                               f"{implied:.6g} or no value", self.mean))
        return out


@frozen(kw_only=True)
class Popularity:
    """How background items are drawn from ``1..items``."""

    distribution: str = setting("uniform", doc="'uniform'; 'zipf': item i has weight i^-exponent; "
                                "'empirical': item i has weight weights[i-1].",
                                choices=("uniform", "zipf", "empirical"))
    exponent: float = setting(1.0, doc="Zipf exponent.", gt=0)
    weights: list[float] = setting(factory=list, doc="One weight per item (empirical).", ge=0)

    def check(self) -> Sequence[Problem]:
        if self.distribution != "empirical" and self.weights:
            return [Problem("weights", "weights belong to distribution = 'empirical'", "no weights",
                            f"{len(self.weights)} weights")]
        if self.distribution == "empirical" and not sum(self.weights) > 0:
            return [Problem("weights", "empirical needs weights with a positive sum", "one weight per item",
                            self.weights)]
        return []


@frozen(kw_only=True)
class Timestamps:
    """``timestamps``: one integer time per itemset, 0 at a sequence's first itemset."""

    kind: str = setting("none", doc="'none'; 'regular': every gap is interval; 'poisson': geometric gaps of mean "
                        "interval (a discrete Poisson process); 'bursty': bursts of mean burst itemsets one "
                        "time unit apart, separated by geometric pauses of mean pause.",
                        choices=("none", "regular", "poisson", "bursty"))
    interval: int = setting(1, doc="Gap between itemsets (regular) or its mean (poisson).", ge=1, le=10**9)
    burst: float = setting(4.0, doc="Mean itemsets per burst (bursty).", ge=1, le=10**6)
    pause: int = setting(100, doc="Mean time between bursts (bursty).", ge=1, le=10**9)
    arrival: int = setting(0, doc="Mean time between the starts of consecutive sequences (geometric gaps, so "
                           "record order is time order); 0: every sequence starts at time 0.", ge=0, le=10**9)

    def fastest(self) -> int:
        """The smallest possible gap between consecutive itemsets."""
        return self.interval if self.kind == "regular" else 1


@frozen(kw_only=True)
class Drift:
    """``drift``: the pattern's support changes at a record index."""

    at: int | None = setting(None, doc="Record index where the change starts (this or at_time).", ge=0)
    at_time: int | None = setting(None, doc="Time where the change starts: at the first sequence starting then "
                                  "or later (needs timestamps.arrival > 0).", ge=0)
    support: float = setting(doc="Target support after the change.", gt=0, le=1)
    kind: str = setting("abrupt", doc="'abrupt': from record at on; 'gradual': a linear ramp over width records.",
                        choices=("abrupt", "gradual"))
    width: int = setting(0, doc="Records the gradual ramp spans (gradual).", ge=0)


@frozen(kw_only=True)
class SequentialPatternSpec:
    """One ``[[blocks.NAME.sequential_patterns]]`` entry."""

    sequence: list[list[int]] = setting(doc="The itemsets of the pattern, in order.")
    support: float = setting(doc="Target support: fraction of sequences that contain the pattern.", gt=0, le=1)
    min_gap: int = setting(1, doc="Least distance in itemset positions between consecutive matched itemsets.",
                           ge=1)
    max_gap: int | None = setting(None, doc="Largest distance between consecutive matched itemsets "
                                  "(omitted: unbounded).", ge=1)
    max_window: int | None = setting(None, doc="Largest time between the first and last matched itemsets "
                                     "(needs timestamps; omitted: unbounded).", ge=0)
    drift: Drift | None = setting(None, doc="A change of the pattern's support at a record index.")


@frozen(kw_only=True)
class RandomSequentialPatterns:
    """``[blocks.NAME.random_sequential_patterns]``: patterns drawn from the seed."""

    count: int = setting(0, doc="How many patterns to draw.", ge=0)
    length: list[int] = setting(factory=lambda: [2, 4], doc="Itemsets per pattern, inclusive range.", ge=1)
    itemset_size: list[int] = setting(factory=lambda: [1, 2], doc="Items per pattern itemset, inclusive range.",
                                      ge=1)
    support: list[float] = setting(factory=lambda: [0.005, 0.02], doc="Target support, range.", gt=0, le=1)
    min_gap: int = setting(1, doc="min_gap of every drawn pattern.", ge=1)
    max_gap: int | None = setting(None, doc="max_gap of every drawn pattern (omitted: unbounded).", ge=1)
    max_window: int | None = setting(None, doc="max_window of every drawn pattern (omitted: unbounded).", ge=0)


LEARNED = ("itemsets", "itemset_size", "popularity")  # the keys a source replaces


@frozen(kw_only=True)
class SequenceBlock(BlockSpec):
    """A block of sequences of itemsets (one sequence per customer or session)."""

    records: int | None = setting(None, doc="Number of sequences (default 1000, or the source file's count).",
                                  ge=1, lt=2**31)
    items: int | None = setting(None, doc="Alphabet size; item ids are 1..items (default 1000, or the source "
                                "file's largest id; at most 10,000,000: popularity tables hold one entry an id).", ge=1,
                                le=MAX_ITEMS)
    source: str | None = setting(None, doc="SPMF sequence file (relative to the spec) whose itemsets per sequence, "
                                 "items per itemset and item popularity replace itemsets, itemset_size and "
                                 "popularity.")
    itemsets: CountDist | None = setting(unless_source(lambda: CountDist(mean=8.0)),
                                         doc="Itemsets per sequence (none with source: learned from it).")
    itemset_size: CountDist | None = setting(unless_source(lambda: CountDist(mean=2.5)),
                                             doc="Background items per itemset, cut at items "
                                             "(planted items are added to these; none with source).")
    popularity: Popularity | None = setting(unless_source(Popularity),
                                            doc="Background item popularity (none with source).")
    timestamps: Timestamps = setting(factory=Timestamps, doc="Per-itemset times (kind 'none': no times).")
    chunk: int = setting(65536, doc="Sequences per parallel work unit (never changes the output).",
                         ge=1)
    sequential_patterns: list[SequentialPatternSpec] = setting(factory=list,
                                                               doc="Planted sequential patterns, explicit.")
    random_sequential_patterns: RandomSequentialPatterns = setting(
        factory=RandomSequentialPatterns, doc="Planted sequential patterns drawn from the seed.")

    def n_records(self) -> int | None:
        """Sequences to make, when known without reading the source file."""
        return self.records if self.records is not None or self.source else DEFAULT_RECORDS

    def n_items(self) -> int | None:
        """The alphabet size, when known without reading the source file."""
        return self.items if self.items is not None or self.source else DEFAULT_ITEMS

    def check(self) -> Sequence[Problem]:
        return list(self._problems())

    def _problems(self) -> Iterator[Problem]:
        # with source: checked once the file is read; a bad max or weights is reported on its own
        longest = None if self.itemsets is None or self.itemsets.longest() < 1 else self.itemsets.longest()
        items = self.n_items()
        if self.timestamps.arrival and self.timestamps.kind == "none":
            yield Problem("timestamps.arrival", "arrival needs timestamps", "timestamps.kind other than 'none'",
                          self.timestamps.arrival)
        pop = self.popularity
        if pop is not None and pop.distribution == "empirical" and items and len(pop.weights) != items:
            yield Problem("popularity.weights", "need one weight per item", f"{items} weights",
                          len(pop.weights))
        for i, p in enumerate(self.sequential_patterns):
            path = f"sequential_patterns[{i}]"
            if not p.sequence:
                yield Problem(f"{path}.sequence", "empty pattern", "at least one itemset", p.sequence)
            for j, itemset in enumerate(p.sequence):
                if not itemset:
                    yield Problem(f"{path}.sequence[{j}]", "empty itemset", "at least one item id", itemset)
                for k, item in enumerate(itemset):
                    if item < 1 or (items and item > items):
                        yield Problem(f"{path}.sequence[{j}][{k}]", "item id outside 1..items",
                                      f"1..{items or 'items'}", item)
                if len(set(itemset)) != len(itemset):
                    yield Problem(f"{path}.sequence[{j}]", "repeated item in an itemset", "distinct ids", itemset)
            yield from _gap_problems(path, p.min_gap, p.max_gap, len(p.sequence), longest)
            yield from self._window_problems(path, p.min_gap, p.max_window, len(p.sequence))
            if p.drift is not None:
                yield from self._drift_problems(f"{path}.drift", p.drift)
        yield from _nesting_problems(self.sequential_patterns, self.n_records())
        yield from source_law_problems(self, LEARNED)
        r = self.random_sequential_patterns
        path = "random_sequential_patterns"
        for key, pair in (("length", r.length), ("itemset_size", r.itemset_size), ("support", r.support)):
            if len(pair) != 2 or pair[0] > pair[1]:
                yield Problem(f"{path}.{key}", "not an inclusive range", "[low, high] with low <= high", pair)
        if r.count and len(r.length) == 2 and len(r.itemset_size) == 2:
            if items and r.length[1] * r.itemset_size[1] > items:
                yield Problem(path, "a drawn pattern uses distinct items: too few items",
                              f"length[1] * itemset_size[1] <= {items}", r.length[1] * r.itemset_size[1])
            yield from _gap_problems(path, r.min_gap, r.max_gap, r.length[1], longest, "length[1]")
            yield from self._window_problems(path, r.min_gap, r.max_window, r.length[1], "length[1]")

    def _window_problems(self, path: str, min_gap: int, window: int | None, length: int,
                         length_key: str = "sequence") -> Iterator[Problem]:
        if window is None:
            return
        if self.timestamps.kind == "none":
            yield Problem(f"{path}.max_window", "max_window needs timestamps", "timestamps.kind other than 'none'",
                          window)
        elif length and window >= 0 and (length - 1) * min_gap * self.timestamps.fastest() > window:
            shortest = (length - 1) * min_gap * self.timestamps.fastest()
            yield Problem(f"{path}.max_window", f"shorter than the pattern's shortest time span ({length_key} "
                          f"of {length} itemsets, min_gap {min_gap}, time gaps of at least "
                          f"{self.timestamps.fastest()})", f">= {shortest}", window)

    def _drift_problems(self, path: str, d: Drift) -> Iterator[Problem]:
        records = self.n_records()
        if (d.at is None) == (d.at_time is None):
            yield Problem(path, "give exactly one of at (record index) and at_time", "at or at_time",
                          {"at": d.at, "at_time": d.at_time})
        elif d.at_time is not None and (self.timestamps.kind == "none" or not self.timestamps.arrival):
            yield Problem(f"{path}.at_time", "at_time needs sequences with start times",
                          "timestamps with a kind and arrival > 0", d.at_time)
        if records and d.at is not None and (d.at >= records or d.at + d.width > records):
            yield Problem(f"{path}.at", "the change must start and end within the records",
                          f"at < {records} and at + width <= {records}", d.at + d.width)
        if d.kind == "abrupt" and 0 in (d.at, d.at_time):
            key = "at" if d.at == 0 else "at_time"
            yield Problem(f"{path}.{key}", "an abrupt change at the first record leaves the pattern's own support "
                          "unused", ">= 1 (or the drift's support as the pattern's, without drift)", 0)
        if d.kind == "gradual" and d.width < 1:
            yield Problem(f"{path}.width", "a gradual drift needs a ramp", ">= 1", d.width)
        if d.kind == "abrupt" and d.width:
            yield Problem(f"{path}.width", "an abrupt drift has no ramp", "0 (or kind = 'gradual')", d.width)


def span(length: int, min_gap: int) -> int:
    """Fewest itemset positions an embedding of ``length`` itemsets with ``min_gap`` occupies."""
    return 1 + (length - 1) * min_gap


def _gap_problems(path: str, min_gap: int, max_gap: int | None, length: int, longest: int | None,
                  length_key: str = "sequence") -> Iterator[Problem]:
    if max_gap is not None and max_gap >= 1 and min_gap > max_gap:  # (a max_gap below 1 is out of range)
        yield Problem(f"{path}.min_gap", "min_gap larger than max_gap", f"<= {max_gap}", min_gap)
    need = span(length, min_gap)
    if length and longest is not None and need > longest:
        yield Problem(f"{path}.{length_key}", "the pattern cannot fit: with min_gap it spans more itemsets "
                      "than the longest sequence allowed (itemsets.max)", f"1 + (length - 1) * min_gap <= {longest}",
                      need)


def _contains(big: SequentialPatternSpec, small: SequentialPatternSpec) -> bool:
    """Does every sequence holding ``big`` (with its gaps and window) hold ``small`` (with its own)?

    Yes when ``small``'s itemsets are subsets of ``big``'s, in order, through a mapping whose every
    step keeps ``small``'s gaps whatever ``big``'s embedding (``s`` itemsets of ``big`` apart lie
    ``s * big.min_gap .. s * big.max_gap`` positions apart), and ``small``'s window is no tighter.
    """
    if small.max_window is not None and (big.max_window is None or big.max_window > small.max_window):
        return False

    def step_ok(steps: int) -> bool:
        if steps * big.min_gap < small.min_gap:
            return False
        return small.max_gap is None or (big.max_gap is not None and steps * big.max_gap <= small.max_gap)

    outer = [set(x) for x in big.sequence]
    reach = [set(small.sequence[0]) <= x for x in outer] if small.sequence else []
    for itemset in small.sequence[1:]:
        reach = [set(itemset) <= outer[j] and any(reach[i] and step_ok(j - i) for i in range(j))
                 for j in range(len(outer))]
    return any(reach)


def _segments(p: SequentialPatternSpec, n: int) -> list[tuple[int, int, float, str]]:
    """``(start, end, least target support, key)`` of each stretch of records ``p`` is planted at a
    fixed rate (a gradual ramp counts at its lower end); ``key`` names the spec value."""
    d = p.drift
    if d is None:
        return [(0, n, p.support, "support")]
    assert d.at is not None
    return [(0, d.at, p.support, "support"), (d.at, d.at + d.width, min(p.support, d.support), "drift"),
            (d.at + d.width, n, d.support, "drift.support")]


def _least_share(p: SequentialPatternSpec, n: int, start: int, end: int) -> float:
    """The least support ``p``'s targets give records ``start..end-1``."""
    total = sum(rate * max(0, min(end, b) - max(start, a)) for a, b, rate, _ in _segments(p, n))
    return total / (end - start)


def _nesting_problems(patterns: Sequence[SequentialPatternSpec], records: int | None) -> Iterator[Problem]:
    """A pattern held by every sequence holding another (explicit) one cannot be asked a lower
    support than it over any stretch of records planted at one rate (per drift segment)."""
    n = records or 1

    def known(p: SequentialPatternSpec) -> bool:  # drift segments known before the data is made?
        d = p.drift
        return d is None or (records is not None and d.at is not None and d.at + d.width <= records)

    for i, small in enumerate(patterns):
        if not known(small) or not small.sequence:
            continue
        for a, b, want, key in _segments(small, n):
            if key == "drift" or b <= a:
                continue  # the ramp is judged as a whole, not per record
            for j, big in enumerate(patterns):
                if i == j or not known(big) or not _contains(big, small):
                    continue
                least = _least_share(big, n, a, b)
                if want < least - 1e-9:
                    where = "" if (a, b) == (0, n) else f" over records {a}..{b - 1}"
                    yield Problem(f"sequential_patterns[{i}].{key}",
                                  f"below that of sequential_patterns[{j}]{where}, which contains this pattern",
                                  f">= {least:.6g}", want)
                    break

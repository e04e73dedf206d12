"""The ``[blocks.NAME]`` keys of a sequence block (``modality = "sequence"``)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import attrs
from attrs import frozen

from medmgen.converter import converter
from medmgen.errors import Problem
from medmgen.fields import setting
from medmgen.interfaces import BlockSpec

DEFAULT_RECORDS = 1000
DEFAULT_ITEMS = 1000


@frozen(kw_only=True)
class CountDist:
    """A distribution of counts ``1..max`` (itemsets per sequence, items per itemset)."""

    distribution: str = setting("poisson", doc="'poisson': 1 + Poisson(mean - 1), truncated at max; "
                                "'empirical': count k+1 with probability weights[k].",
                                choices=("poisson", "empirical"))
    mean: float = setting(1.0, doc="Mean count (poisson).", ge=1)
    max: int = setting(64, doc="Largest count (poisson); empirical uses len(weights).", ge=1)
    weights: list[float] = setting(factory=list, doc="Relative frequency of counts 1, 2, ... (empirical).", ge=0)

    def longest(self) -> int:
        """The largest count this distribution can draw."""
        return len(self.weights) if self.distribution == "empirical" else self.max

    def check(self) -> Sequence[Problem]:
        out = []
        if self.distribution == "poisson" and self.mean > self.max:
            out.append(Problem("mean", "mean larger than max", f"<= {self.max}", self.mean))
        if self.distribution == "empirical" and not sum(self.weights) > 0:
            out.append(Problem("weights", "empirical needs weights with a positive sum", "[w1, w2, ...]",
                               self.weights))
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


@frozen(kw_only=True)
class SequenceBlock(BlockSpec):
    """A block of sequences of itemsets (one sequence per customer or session)."""

    records: int | None = setting(None, doc="Number of sequences (default 1000, or the source file's count).",
                                  ge=1, lt=2**31)
    items: int | None = setting(None, doc="Alphabet size; item ids are 1..items (default 1000, or the source "
                                "file's largest id; at most 10,000,000: popularity tables hold one entry an id).", ge=1,
                                le=10_000_000)
    source: str | None = setting(None, doc="SPMF sequence file (relative to the spec) whose itemsets per sequence, "
                                 "items per itemset and item popularity replace itemsets, itemset_size and "
                                 "popularity.")
    itemsets: CountDist = setting(factory=lambda: CountDist(mean=8.0),
                                  doc="Itemsets per sequence.")
    itemset_size: CountDist = setting(factory=lambda: CountDist(mean=2.5),
                                      doc="Background items per itemset, cut at items "
                                      "(planted items are added to these).")
    popularity: Popularity = setting(factory=Popularity, doc="Background item popularity.")
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
        longest = self.itemsets.longest()
        items = self.n_items()
        if self.timestamps.arrival and self.timestamps.kind == "none":
            yield Problem("timestamps.arrival", "arrival needs timestamps", "timestamps.kind other than 'none'",
                          self.timestamps.arrival)
        if self.popularity.distribution == "empirical" and items and len(self.popularity.weights) != items:
            yield Problem("popularity.weights", "need one weight per item", f"{items} weights",
                          len(self.popularity.weights))
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
        yield from _nesting_problems(self.sequential_patterns)
        if self.source:
            for key in ("itemsets", "itemset_size", "popularity"):
                if getattr(self, key) != getattr(attrs.fields(SequenceBlock), key).default.factory():
                    given = {k: v for k, v in converter.unstructure(getattr(self, key)).items() if v not in (None, [])}
                    yield Problem(key, "learned from source; leave it out", "no value", given)
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
        elif length and (length - 1) * min_gap * self.timestamps.fastest() > window:
            yield Problem(f"{path}.{length_key}", "the pattern cannot fit in max_window even with the shortest "
                          "time gaps", f"(length - 1) * min_gap * {self.timestamps.fastest()} <= {window}",
                          (length - 1) * min_gap * self.timestamps.fastest())

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
        if d.kind == "gradual" and d.width < 1:
            yield Problem(f"{path}.width", "a gradual drift needs a ramp", ">= 1", d.width)
        if d.kind == "abrupt" and d.width:
            yield Problem(f"{path}.width", "an abrupt drift has no ramp", "0 (or kind = 'gradual')", d.width)


def span(length: int, min_gap: int) -> int:
    """Fewest itemset positions an embedding of ``length`` itemsets with ``min_gap`` occupies."""
    return 1 + (length - 1) * min_gap


def _gap_problems(path: str, min_gap: int, max_gap: int | None, length: int, longest: int,
                  length_key: str = "sequence") -> Iterator[Problem]:
    if max_gap is not None and min_gap > max_gap:
        yield Problem(f"{path}.min_gap", "min_gap larger than max_gap", f"<= {max_gap}", min_gap)
    need = span(length, min_gap)
    if length and need > longest:
        yield Problem(f"{path}.{length_key}", "the pattern cannot fit: with min_gap it spans more itemsets "
                      "than the longest sequence allowed (itemsets.max)", f"1 + (length - 1) * min_gap <= {longest}",
                      need)


def _contains(outer: list[list[int]], inner: list[list[int]]) -> bool:
    """Does every sequence holding ``outer`` hold ``inner`` (ungapped): its itemsets are
    subsets of ``outer``'s, in order."""
    j = 0
    for itemset in outer:
        if j < len(inner) and set(inner[j]) <= set(itemset):
            j += 1
    return j == len(inner)


def _nesting_problems(patterns: Sequence[SequentialPatternSpec]) -> Iterator[Problem]:
    """A pattern without gap, window or drift inside another (explicit) one is held by every
    sequence holding the other, so its support cannot be below the other's."""
    for i, small in enumerate(patterns):
        if small.min_gap != 1 or small.max_gap is not None or small.max_window is not None or small.drift:
            continue
        for j, big in enumerate(patterns):
            if i != j and not big.drift and small.support < big.support and _contains(big.sequence, small.sequence):
                yield Problem(f"sequential_patterns[{i}].support",
                              f"below that of sequential_patterns[{j}], which contains this pattern",
                              f">= {big.support}", small.support)
                break

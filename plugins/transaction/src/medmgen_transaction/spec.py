"""Config classes of a ``[blocks.NAME]`` table with ``modality = "transaction"``.

Range checks come from :func:`medmgen.fields.setting`; cross-field checks (ids inside
``1..items``, nested patterns, whether the planted items fit in the transactions) are
in :meth:`TransactionBlock.check`, every problem with its key path.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import attrs
import numpy as np
from attrs import frozen

from medmgen.errors import Problem
from medmgen.fields import setting, source_law_problems, unless_source
from medmgen.interfaces import BlockSpec

DEFAULT_RECORDS = 100_000
DEFAULT_ITEMS = 1_000
DEFAULT_MEAN_LENGTH = 10.0
DEFAULT_ZIPF_EXPONENT = 1.0
# Nested targets may differ by float rounding only (e.g. 0.3 vs 0.1 + 0.2).
_EPS = 1e-12


MAX_ITEMS = 10_000_000  # largest item id: popularity and a real file's histograms hold one entry an id

@frozen(kw_only=True)
class LengthSpec:
    """``length``: how many items a transaction has before planted items are added."""

    distribution: str = setting("poisson", doc="'poisson' (1 + Poisson(mean - 1)), 'geometric' (on 1, 2, ...) "
                                "or 'empirical' (values, weights).", choices=("poisson", "geometric", "empirical"))
    mean: float | None = setting(None, doc="Mean length for poisson and geometric (default 10.0).", ge=1, le=10_000)
    values: list[int] = setting(factory=list, doc="Empirical lengths (each >= 1).", ge=1)
    weights: list[float] = setting(factory=list, doc="Empirical weights, one per value.", ge=0)

    def check(self) -> Sequence[Problem]:
        out = []
        if self.distribution == "empirical":
            if self.mean is not None:
                out.append(Problem("mean", "only for poisson and geometric", "no mean with 'empirical'", self.mean))
            if not self.values:
                out.append(Problem("values", "empirical lengths need values", "a non-empty list", self.values))
            if len(self.weights) != len(self.values):
                out.append(Problem("weights", "one weight per value", f"{len(self.values)} weights",
                                   len(self.weights)))
            elif self.values and not sum(self.weights) > 0:
                out.append(Problem("weights", "weights sum to zero", "a positive weight", self.weights))
        elif self.values or self.weights:
            out.append(Problem("values", "only for 'empirical'", "no values/weights with " + self.distribution,
                               self.values or self.weights))
        return out

    def mean_length(self) -> float:
        if self.distribution == "empirical":
            w = np.asarray(self.weights, dtype=np.float64)
            return float(np.dot(np.asarray(self.values, dtype=np.float64), w) / w.sum())
        return DEFAULT_MEAN_LENGTH if self.mean is None else self.mean


@frozen(kw_only=True)
class PopularitySpec:
    """``popularity``: how background items are chosen."""

    distribution: str = setting("uniform", doc="'uniform', 'zipf' (weight of id i is 1 / i**exponent) or "
                                "'empirical' (weights).", choices=("uniform", "zipf", "empirical"))
    exponent: float | None = setting(None, doc="Zipf exponent (default 1.0).", gt=0, le=10)
    weights: list[float] = setting(factory=list, doc="Empirical weights, one per item id 1..items.", ge=0)

    def check(self) -> Sequence[Problem]:
        out = []
        if self.exponent is not None and self.distribution != "zipf":
            out.append(Problem("exponent", "only for 'zipf'", "no exponent with " + self.distribution,
                               self.exponent))
        if self.distribution == "empirical":
            if not sum(self.weights) > 0:
                out.append(Problem("weights", "empirical popularity needs a positive weight",
                                   "one weight per item id", len(self.weights)))
        elif self.weights:
            out.append(Problem("weights", "only for 'empirical'", "no weights with " + self.distribution,
                               len(self.weights)))
        return out


@frozen(kw_only=True)
class TimestampSpec:
    """``timestamps``: an int64 ``timestamp`` column, Poisson arrivals."""

    start: int = setting(0, doc="Timestamp origin.", ge=-(2**62), le=2**62)
    mean_gap: float = setting(1.0, doc="Mean exponential gap between arrivals; timestamp = start + floor(time).",
                              gt=0, le=1e12)


@frozen(kw_only=True)
class ItemsetSpec:
    """``[[itemsets]]``: one explicit planted itemset."""

    items: list[int] = setting(doc="Item ids (1..items), distinct.", ge=1)
    support: float = setting(doc="Target support, a fraction of the transactions.", gt=0, le=1)


@frozen(kw_only=True)
class RandomItemsetsSpec:
    """``[random_itemsets]``: many planted itemsets drawn from the seed."""

    count: int = setting(0, doc="How many.", ge=0, le=10_000)
    size: list[int] = setting(factory=lambda: [2, 5], doc="Inclusive size range [min, max].", ge=1)
    support: list[float] = setting(factory=lambda: [0.005, 0.03], doc="Inclusive target support range.",
                                   gt=0, le=1)
    overlap: float = setting(0.0, doc="Fraction of each itemset's items taken from earlier random itemsets' items.",
                             ge=0, lt=1)

    def check(self) -> Sequence[Problem]:
        out = []
        for key in ("size", "support"):
            pair = getattr(self, key)
            if len(pair) != 2:
                out.append(Problem(key, "not a [min, max] pair", "two numbers", pair))
            elif pair[0] > pair[1]:
                out.append(Problem(key, "range reversed", "min <= max", pair))
        return out

    def fresh_items_needed(self) -> int:
        """Item ids that the drawing may need outside earlier random itemsets, worst case over sizes."""
        if self.count == 0 or len(self.size) != 2 or not 1 <= self.size[0] <= self.size[1]:
            return 0
        lo, hi = self.size
        sizes = np.arange(lo, hi + 1)
        total = hi
        early = min(self.count, hi + 1)
        for j in range(1, early):
            total += int(np.max(sizes - np.minimum(np.minimum(_overlap_count(self.overlap, sizes), sizes - 1),
                                                   lo + j - 1)))
        per_late = int(np.max(sizes - np.minimum(_overlap_count(self.overlap, sizes), sizes - 1)))
        return total + per_late * max(0, self.count - early)


def _overlap_count(overlap: float, size: np.ndarray) -> np.ndarray:
    return np.floor(overlap * size + 0.5).astype(np.int64)


@frozen(kw_only=True)
class RuleSpec:
    """``[[rules]]``: an association rule planted at a support and a confidence."""

    antecedent: list[int] = setting(doc="Item ids of the left-hand side.", ge=1)
    consequent: list[int] = setting(doc="Item ids of the right-hand side (disjoint from antecedent).", ge=1)
    support: float = setting(doc="Target support of antecedent ∪ consequent.", gt=0, le=1)
    confidence: float = setting(doc="Target support(antecedent ∪ consequent) / support(antecedent).", gt=0, le=1)


@frozen(kw_only=True)
class UtilitySpec:
    """``utility``: unit profits per item and quantities per occurrence (high-utility mining)."""

    profit: list[int] = setting(factory=lambda: [1, 10], doc="Inclusive range of each item's unit profit "
                                "(external utility), drawn once per item id from the seed.", ge=1, le=1_000_000)
    quantity: list[int] = setting(factory=lambda: [1, 5], doc="Inclusive range of each occurrence's quantity "
                                  "(internal utility), uniform.", ge=1, le=1_000_000)

    def check(self) -> Sequence[Problem]:
        out = []
        for key in ("profit", "quantity"):
            pair = getattr(self, key)
            if len(pair) != 2:
                out.append(Problem(key, "not a [min, max] pair", "two integers", pair))
            elif pair[0] > pair[1]:
                out.append(Problem(key, "range reversed", "min <= max", pair))
        return out


@frozen(kw_only=True)
class HighUtilitySpec:
    """``[[high_utility]]``: an itemset planted at a support with a large quantity per item."""

    items: list[int] = setting(doc="Item ids (1..items), distinct.", ge=1)
    support: float = setting(doc="Target support, a fraction of the transactions.", gt=0, le=1)
    quantity: int = setting(10, doc="Quantity of each of its items in every transaction holding them all.",
                            ge=1, le=1_000_000)


LEARNED = ("length", "popularity")  # the keys a source replaces


@frozen(kw_only=True)
class TransactionBlock(BlockSpec):
    """A block of transactions over item ids ``1..items``."""

    records: int | None = setting(None, doc="Transactions (default 100000, or the source file's count).",
                                  ge=1, le=2**40)
    items: int | None = setting(None, doc="Item ids are 1..items (default 1000, or the source file's largest id).",
                                ge=1, le=MAX_ITEMS)
    source: str | None = setting(None, doc="FIMI/SPMF file to learn length and popularity from (replaces "
                                 "'length' and 'popularity'; relative to the spec file).")
    length: LengthSpec | None = setting(unless_source(lambda: LengthSpec(mean=DEFAULT_MEAN_LENGTH)),
                                        doc="Transaction length distribution (before planted items are added; "
                                        "none with source: learned from it).")
    popularity: PopularitySpec | None = setting(unless_source(PopularitySpec),
                                                doc="Background item popularity (none with source).")
    timestamps: TimestampSpec | None = setting(None, doc="Add an int64 'timestamp' column (Poisson arrivals).")
    chunk: int = setting(65_536, doc="Transactions per partition, the unit of seeding (output depends on it, "
                         "not on the number of workers).", ge=1, le=2**24)
    itemsets: list[ItemsetSpec] = setting(factory=list, doc="Explicit planted itemsets.")
    random_itemsets: RandomItemsetsSpec = setting(factory=RandomItemsetsSpec,
                                                  doc="Planted itemsets drawn from the seed.")
    rules: list[RuleSpec] = setting(factory=list, doc="Planted association rules.")
    utility: UtilitySpec | None = setting(None, doc="Add unit profits and quantities (SPMF utility format).")
    high_utility: list[HighUtilitySpec] = setting(factory=list, doc="Planted high-utility itemsets (needs "
                                                  "'utility').")

    def n_items(self) -> int | None:
        """The alphabet size if known without reading the source file."""
        if self.items is not None:
            return self.items
        return None if self.source is not None else DEFAULT_ITEMS

    def check(self) -> Sequence[Problem]:
        out = list(_id_problems(self))
        if self.high_utility and self.utility is None:
            out.append(Problem("high_utility", "high-utility itemsets need a [utility] table", "a utility table",
                               None))
        out += _nesting_problems(explicit_sets(self))
        n = self.n_items()
        free = None if n is None else n - len(explicit_ids(self))
        need = self.random_itemsets.fresh_items_needed()
        if free is not None and need > free:
            out.append(Problem("random_itemsets.count", "not enough item ids for the random itemsets",
                               f"at most {free} ids besides the explicit patterns' (worst case over sizes)", need))
        laws = source_law_problems(self, LEARNED)
        if self.source is not None or laws:  # the laws below are the source's, or missing
            return out + laws
        pop = self.popularity
        if pop.distribution == "empirical" and n is not None and len(pop.weights) != n:
            out.append(Problem("popularity.weights", "one weight per item id 1..items", f"{n} weights",
                               len(pop.weights)))
        mean = self.length.mean_length() if not self.length.check() else None
        load = planted_load(explicit_sets(self)) + self.random_itemsets_min_load()
        if mean is not None and load > mean:
            out.append(load_problem(load, mean))
        return out

    def random_itemsets_min_load(self) -> float:
        """A lower bound of the planted items per transaction the random itemsets add."""
        r = self.random_itemsets
        if r.count == 0 or len(r.size) != 2 or len(r.support) != 2 or r.size[0] > r.size[1]:
            return 0.0
        return r.support[0] * (r.size[0] + r.count - 1)


def load_problem(load: float, mean: float) -> Problem:
    return Problem("", "planted items cannot fit: transactions would carry more planted items on average "
                   "than their mean length (sum over item ids of the largest target support of a pattern "
                   "holding the id)", f"<= {mean:g}", round(load, 4))


def explicit_ids(block: TransactionBlock) -> set[int]:
    ids: set[int] = set()
    for s in block.itemsets:
        ids.update(s.items)
    for r in block.rules:
        ids.update(r.antecedent)
        ids.update(r.consequent)
    for h in block.high_utility:
        ids.update(h.items)
    return ids


@frozen(kw_only=True)
class PlantedSet:
    """An item set with the support it must reach, and where it comes from in the spec."""

    items: frozenset[int]
    support: float
    path: str
    what: str = attrs.field(default="")


def explicit_sets(block: TransactionBlock) -> list[PlantedSet]:
    """Every set the explicit patterns fix a support for: itemsets, rules' A ∪ C and A."""
    out = [PlantedSet(items=frozenset(s.items), support=s.support, path=f"itemsets[{i}].support",
                      what=f"itemsets[{i}]") for i, s in enumerate(block.itemsets)]
    for i, r in enumerate(block.rules):
        out.append(PlantedSet(items=frozenset(r.antecedent) | frozenset(r.consequent), support=r.support,
                              path=f"rules[{i}].support", what=f"rules[{i}] (antecedent ∪ consequent)"))
        out.append(PlantedSet(items=frozenset(r.antecedent), support=min(1.0, r.support / r.confidence),
                              path=f"rules[{i}].confidence", what=f"rules[{i}].antecedent"))
    out += [PlantedSet(items=frozenset(h.items), support=h.support, path=f"high_utility[{i}].support",
                       what=f"high_utility[{i}]") for i, h in enumerate(block.high_utility)]
    return out


def planted_load(sets: Sequence[PlantedSet]) -> float:
    """Least planted items per transaction: each id is in >= the largest support of a set holding it."""
    best: dict[int, float] = {}
    for s in sets:
        for i in s.items:
            best[i] = max(best.get(i, 0.0), s.support)
    return sum(best.values())


def _nesting_problems(sets: Sequence[PlantedSet]) -> Iterator[Problem]:
    for a, sa in enumerate(sets):
        for b, sb in enumerate(sets):
            if a == b or not sa.items or not sa.items <= sb.items:
                continue
            if sa.path.split(".")[0] == sb.path.split(".")[0]:
                continue
            if sa.items == sb.items and a > b:
                yield Problem(sa.path.rsplit(".", 1)[0], f"same items as {sb.what}", "distinct patterns",
                              sorted(sa.items))
            elif sa.items < sb.items and sa.support < sb.support - _EPS:
                yield Problem(sa.path, f"support below that of {sb.what}, a superset of these items (every "
                              f"transaction carrying {sb.what} contains them)", f">= {sb.support:g}", sa.support)


def _id_problems(block: TransactionBlock) -> Iterator[Problem]:
    n = block.n_items()
    lists = [(f"itemsets[{i}].items", s.items) for i, s in enumerate(block.itemsets)]
    lists += [(f"high_utility[{i}].items", h.items) for i, h in enumerate(block.high_utility)]
    for i, r in enumerate(block.rules):
        lists += [(f"rules[{i}].antecedent", r.antecedent), (f"rules[{i}].consequent", r.consequent)]
        if set(r.antecedent) & set(r.consequent):
            yield Problem(f"rules[{i}].consequent", "shares ids with the antecedent", "disjoint sets",
                          sorted(set(r.antecedent) & set(r.consequent)))
        if r.confidence < r.support - _EPS:
            yield Problem(f"rules[{i}].confidence", "below the rule's support, so support(antecedent) = "
                          "support / confidence would exceed 1", f">= {r.support:g}", r.confidence)
    for path, ids in lists:
        if not ids:
            yield Problem(path, "empty", "at least one item id", ids)
        if len(set(ids)) != len(ids):
            yield Problem(path, "repeated item id", "distinct ids", ids)
        if n is not None:
            bad = [i for i in ids if i > n]  # ids below 1 are reported per element (items[k])
            if bad:
                yield Problem(path, "id outside 1..items", f"1..{n}", bad[0] if len(bad) == 1 else bad)
    size = block.random_itemsets.size
    if n is not None and block.random_itemsets.count and len(size) == 2 and size[1] > n:
        yield Problem("random_itemsets.size", "larger than the number of items", f"<= {n}", size[1])

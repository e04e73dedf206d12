"""The transaction generators: ``planted`` (default) and the ``independent`` baseline."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import attrs
import numpy as np

from medmgen.converter import structure
from medmgen.errors import InputError, Problem
from medmgen.fields import check_instance
from medmgen.interfaces import BlockContext, BlockResult, Generator
from medmgen.ledger import Pattern
from medmgen.seeds import DATA, PLAN, state_words
from medmgen_transaction import _kernels as K
from medmgen_transaction.background import Background, build
from medmgen_transaction.chunks import (
    BACKGROUND,
    CACHE_BYTES,
    PLACE,
    QUANTITY,
    SPLIT,
    Chunk,
    Quantities,
    Recipe,
    Times,
    arrival_clocks,
    chunk_sizes,
    ordered_map,
)
from medmgen_transaction.counting import Counts, PairCounter, PairTotals, SetCounter, csr, mine_unplanted, tally
from medmgen_transaction.data import FilesAhead, TransactionData, chunk_text
from medmgen_transaction.kinds import HighUtilityItemset, Itemset, Rule
from medmgen_transaction.planting import Units, background_chance, make_plan, planted_sets, units_for
from medmgen_transaction.spec import DEFAULT_ITEMS, LengthSpec, PopularitySpec, TransactionBlock

# At most this many ids get their pairs counted in the generator's counting sweep.
SWEEP_PAIR_ITEMS = 2048


def _word(ctx: BlockContext, kind: int, index: int) -> np.uint64:
    return np.uint64(state_words(ctx.seed_sequence(DATA, kind, index), 1)[0])


def _no_units() -> Units:
    empty = np.zeros(0, dtype=np.int64)
    return Units(offsets=np.zeros(1, dtype=np.int64), items=np.zeros(0, dtype=np.int32), head_len=empty,
                 full=empty, total=empty)


class _TransactionGenerator(Generator):
    """Shared by both generators: background, chunked generation, exact counting, the miner."""

    modality = "transaction"
    config = TransactionBlock
    plants: ClassVar[bool] = True

    def __init__(self) -> None:
        self._backgrounds: dict[tuple[str, int], Background] = {}

    def background(self, block: TransactionBlock, ctx: BlockContext) -> Background:
        """The block's background; with ``source``, learned from the file (once per block)."""
        key = (ctx.block, id(block))
        if key not in self._backgrounds:
            self._backgrounds[key] = _load_background(block, ctx)
        return self._backgrounds[key]

    def plan(self, block: TransactionBlock, ctx: BlockContext) -> list[Pattern]:
        bg = self.background(block, ctx)
        return make_plan(block, bg.items, bg.mean_length, ctx, ctx.source)

    def generate(self, block: TransactionBlock, plan: Sequence[Pattern], ctx: BlockContext) -> BlockResult:
        bg = self.background(block, ctx)
        if self.plants:  # a rule's antecedent ids appear only where patterns put them: its confidence is exact
            bg = bg.without({i for p in plan if isinstance(p, Rule) for i in p.antecedent})
        units = units_for(plan, bg.records, ctx, bg.pop_weights, bg.mean_length) if self.plants else _no_units()
        return measure(make_recipe(block, bg, units, plan, ctx), plan, ctx)


class PlantedGenerator(_TransactionGenerator):
    """Background baskets with itemsets and rules planted at exact carrier counts."""

    name = "planted"
    default = True
    description = "Planted itemsets and rules at exact support over a Poisson/Zipf/empirical background."

    @classmethod
    def fit_block(cls, source: Path) -> dict[str, Any]:
        from medmgen_transaction.fit import fit_block

        return fit_block(source)


class IndependentGenerator(_TransactionGenerator):
    """Baseline: the same background with items drawn independently; nothing is planted.

    The spec's patterns are still counted, so the ledger shows them weakened or destroyed.
    Its output does not depend on the controller's aims, so later passes reuse the first.
    """

    name = "independent"
    plants = False
    description = "Independent items (SPMF-style baseline): same background, nothing planted."

    def __init__(self) -> None:
        super().__init__()
        self._results: dict[tuple[str, int, int], BlockResult] = {}

    def generate(self, block: TransactionBlock, plan: Sequence[Pattern], ctx: BlockContext) -> BlockResult:
        key = (ctx.block, ctx.root_seed, id(block))
        if key not in self._results:
            self._results[key] = super().generate(block, plan, ctx)
        return self._results[key]


def _load_background(block: TransactionBlock, ctx: BlockContext) -> Background:
    if block.source is None:
        return build(block.records, block.items or DEFAULT_ITEMS, block.length, block.popularity)
    from medmgen_transaction.fit import background_from_file

    where = f"blocks.{ctx.block}"
    path = ctx.resolve(block.source)
    if not path.is_file():
        raise InputError.one(ctx.source, f"{where}.source", "file not found", expected="a FIMI/SPMF file",
                             got=str(path))
    fitted = background_from_file(path)
    problems: list[Problem] = []
    if block.items is not None and block.items < fitted["items"]:
        problems.append(Problem(f"{where}.items", "smaller than the source file's largest id",
                                f">= {fitted['items']}", block.items))
    length, errs = structure(fitted["length"], LengthSpec, f"{where}.source")
    popularity, errs2 = structure(fitted["popularity"], PopularitySpec, f"{where}.source")
    problems += errs + errs2
    if not problems:
        assert length is not None and popularity is not None
        items = block.items or fitted["items"]
        weights = list(popularity.weights) + [0] * (items - len(popularity.weights))
        resolved = attrs.evolve(block, source=None, records=block.records or fitted["records"], items=items,
                                length=length, popularity=attrs.evolve(popularity, weights=weights))
        problems += check_instance(resolved, where)
    if problems:
        raise InputError(ctx.source, problems)
    return build(resolved.records, items, length, resolved.popularity)


def make_recipe(block: TransactionBlock, bg: Background, units: Units, plan: Sequence[Pattern],
                ctx: BlockContext) -> Recipe:
    """The block's recipe: carriers split over chunks, chunk seeds, arrival clocks, unit profits."""
    sizes = chunk_sizes(bg.records, block.chunk)
    n_units = units.full.size
    full = np.zeros((sizes.size, n_units), dtype=np.int64)
    total = np.zeros((sizes.size, n_units), dtype=np.int64)
    words = _words(ctx, SPLIT, n_units)
    split = ordered_map(lambda u: K.split_counts(int(units.full[u]), int(units.total[u]), sizes, words[u]), n_units,
                        max(1, ctx.workers))
    for u, (full_u, total_u) in enumerate(split):  # units are independent: split on the thread pool
        full[:, u], total[:, u] = full_u, total_u
    times = None
    if block.timestamps is not None:
        spec = block.timestamps
        times = Times(start=spec.start, mean_gap=spec.mean_gap,
                      clocks=arrival_clocks(ctx.root_seed, ctx.block, sizes, spec.mean_gap))
    return Recipe(root_seed=ctx.root_seed, block=ctx.block, background=bg, units=units, sizes=sizes, full=full,
                  total=total, place=_words(ctx, PLACE, sizes.size), fill=_words(ctx, BACKGROUND, sizes.size),
                  times=times, quantities=_quantities(block, bg, plan, ctx, sizes.size), workers=max(1, ctx.workers))


def _words(ctx: BlockContext, kind: int, n: int) -> np.ndarray:
    return np.array([_word(ctx, kind, c) for c in range(n)], dtype=np.uint64)


def _quantities(block: TransactionBlock, bg: Background, plan: Sequence[Pattern], ctx: BlockContext,
                chunks: int) -> Quantities | None:
    """Unit profits (PLAN stream, one per id) and the per-chunk quantity seeds."""
    spec = block.utility
    if spec is None:
        return None
    profits = np.zeros(bg.items + 1, dtype=np.int64)
    profits[1:] = ctx.rng(PLAN, 1).integers(spec.profit[0], spec.profit[1] + 1, size=bg.items)
    boosted = [p for p in plan if isinstance(p, HighUtilityItemset)]
    set_offsets, set_items = csr([p.items for p in boosted])
    return Quantities(low=spec.quantity[0], high=spec.quantity[1], seeds=_words(ctx, QUANTITY, chunks),
                      set_offsets=set_offsets, set_items=set_items,
                      set_quantity=np.array([p.item_quantity for p in boosted], dtype=np.int64), profits=profits)


def measure(recipe: Recipe, plan: Sequence[Pattern], ctx: BlockContext) -> BlockResult:
    """One sweep over the chunks counts items, every planted pattern (exactly), high utilities
    and candidate pairs (one kernel pass a chunk); then the miner searches for unplanted
    frequent itemsets. When a package is being written (``ctx.data_dir``), the sweep also
    writes the block's files into it as the chunks come (:class:`data.FilesAhead`)."""
    bg, n = recipe.background, recipe.records
    sets: list[list[int]] = []
    for p in plan:
        if isinstance(p, Itemset):
            sets.append(p.items)
        elif isinstance(p, Rule):
            sets += [p.antecedent + p.consequent, p.antecedent]
    counter = SetCounter.of(sets, bg.items)
    high = [p for p in plan if isinstance(p, HighUtilityItemset)]
    high_offsets, high_items = csr([p.items for p in high])
    targets = [p.target_support for p in plan if isinstance(p, Itemset | Rule)]
    pairs = _pair_candidates(bg, plan, min(targets)) if targets else None

    ahead = None if ctx.data_dir is None else FilesAhead(recipe, ctx.data_dir, ctx.block, f"pass{ctx.iteration}")

    def count(ch: Chunk) -> tuple[Chunk, Counts, np.ndarray | None, list[np.ndarray] | None]:
        utilities = None
        if high and ch.quantities is not None and recipe.quantities is not None:
            utilities = K.set_utilities(ch.offsets, ch.items, ch.quantities, recipe.quantities.profits, 0, ch.rows,
                                        bg.items, high_offsets, high_items)
        text = None if ahead is None else chunk_text(recipe, ch)  # formatted here, on the sweep's workers
        return ch, tally(ch, bg.items, counter, pairs, pair_totals), utilities, text

    task = ctx.progress.task(f"{ctx.block}: transactions (pass {ctx.iteration + 1})", total=n)
    item_counts = np.zeros(bg.items + 1, dtype=np.int64)
    support_counts = np.zeros(len(sets), dtype=np.int64)
    utility_sums = np.zeros(len(high), dtype=np.int64)
    pair_totals = None if pairs is None else PairTotals(pairs.ids.size * (pairs.ids.size - 1) // 2)
    kept: list[Chunk] = []
    kept_bytes = 0
    for c, (chunk, tallied, utilities_c, text) in enumerate(recipe.scan(count)):
        kept_bytes += chunk.nbytes
        if kept_bytes <= CACHE_BYTES and len(kept) == c:
            kept.append(chunk)
        if ahead is not None:
            assert text is not None
            ahead.add(chunk, text)
        item_counts += tallied.items
        support_counts += tallied.sets
        if utilities_c is not None:
            utility_sums += utilities_c
        task.advance(int(recipe.sizes[c]))
    pair_counts = None if pair_totals is None else pair_totals.total()
    counts = iter(support_counts.tolist())
    utilities = iter(utility_sums.tolist() if recipe.quantities is not None else [])
    realized: list[Pattern] = []
    for p in plan:
        if isinstance(p, HighUtilityItemset):
            realized.append(attrs.evolve(p, realized_support=next(counts) / n, realized_utility=next(utilities)))
        elif isinstance(p, Itemset):
            realized.append(attrs.evolve(p, realized_support=next(counts) / n))
        elif isinstance(p, Rule):
            both, head = next(counts), next(counts)
            conf = both / head if head else 0.0
            realized.append(attrs.evolve(p, realized_support=both / n, realized_confidence=conf))
    occurrences = int(item_counts.sum())
    metrics: dict[str, Any] = {"records": n, "items": bg.items, "item_occurrences": occurrences,
                               "mean_length": round(float(occurrences) / n, 6)}
    accidental: list[Pattern] = []
    if ahead is not None:
        ahead.finish()  # the files close on their threads while the miner runs
    data = TransactionData(recipe=recipe, kept=tuple(kept), ahead=ahead)
    if targets:
        mined = mine_unplanted(data, n, bg.items, item_counts, min(targets),
                               [s.items for s in planted_sets(plan)],
                               None if pairs is None or pair_counts is None else (pairs, pair_counts))
        accidental = [Itemset(id=f"{ctx.block}/accidental/{i}", block=ctx.block, items=list(s), target_support=0.0,
                              realized_support=c / n) for i, (s, c) in enumerate(mined.found)]
        metrics |= {"accidental_itemsets": len(accidental), "accidental_min_support": min(targets),
                    "accidental_scope": "itemsets of 2 or more items that no planted itemset or rule contains",
                    "accidental_search_complete": mined.complete, "frequent_items": mined.frequent_items,
                    "accidental_search_sweeps": mined.sweeps}
        if mined.note:
            metrics["accidental_search_note"] = mined.note
    return BlockResult(data=data, patterns=realized, accidental=accidental, metrics=metrics)


def _pair_candidates(bg: Background, plan: Sequence[Pattern], min_support: float) -> PairCounter | None:
    """Ids whose pairs the counting sweep counts ahead of the miner: every planted id and every id
    the background alone puts in at least half the smallest target's share of transactions.

    Only a shortcut: when an id outside them turns out frequent, the miner sweeps again.
    """
    chance = background_chance(bg.pop_weights, bg.mean_length, 0.0)
    ids = set(np.flatnonzero(chance >= 0.5 * min_support).tolist())
    for s in planted_sets(plan):
        ids |= s.items
    ids.discard(0)
    if len(ids) > SWEEP_PAIR_ITEMS:
        return None
    return PairCounter.of(np.array(sorted(ids), dtype=np.int64), bg.items)

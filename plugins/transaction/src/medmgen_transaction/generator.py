"""The transaction generators: ``planted`` (default) and the ``independent`` baseline."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
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
from medmgen_transaction.counting import count_supports, csr, map_ranges, mine_unplanted
from medmgen_transaction.data import TransactionData
from medmgen_transaction.kinds import HighUtilityItemset, Itemset, Rule
from medmgen_transaction.planting import Units, make_plan, planted_sets, units_for
from medmgen_transaction.spec import DEFAULT_ITEMS, LengthSpec, PopularitySpec, TransactionBlock

# Sub-streams of the DATA stage: (DATA, kind, index).
_BACKGROUND, _SPLIT, _PLACE, _TIME, _QUANTITY = 0, 1, 2, 3, 4
_SOURCE = "spec"


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
        return make_plan(block, bg.items, bg.mean_length, ctx, _SOURCE)

    def generate(self, block: TransactionBlock, plan: Sequence[Pattern], ctx: BlockContext) -> BlockResult:
        bg = self.background(block, ctx)
        units = units_for(plan, bg.records, ctx, bg.pop_weights, bg.mean_length) if self.plants else _no_units()
        data = add_utilities(generate_data(block, bg, units, ctx), block, bg, plan, ctx)
        return measure(data, bg, plan, ctx)


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
        raise InputError.one(_SOURCE, f"{where}.source", "file not found", expected="a FIMI/SPMF file",
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
        raise InputError(_SOURCE, problems)
    return build(resolved.records, items, length, resolved.popularity)


def chunk_sizes(records: int, chunk: int) -> np.ndarray:
    sizes = np.full((records + chunk - 1) // chunk, chunk, dtype=np.int64)
    sizes[-1] = records - chunk * (sizes.size - 1)
    return sizes


def generate_data(block: TransactionBlock, bg: Background, units: Units, ctx: BlockContext) -> TransactionData:
    """All chunks of the block: carriers split over chunks, then each chunk planted and filled."""
    sizes = chunk_sizes(bg.records, block.chunk)
    n_units = units.full.size
    full = np.zeros((n_units, sizes.size), dtype=np.int64)
    total = np.zeros((n_units, sizes.size), dtype=np.int64)
    for u in range(n_units):
        full[u], total[u] = K.split_counts(int(units.full[u]), int(units.total[u]), sizes, _word(ctx, _SPLIT, u))
    place = [_word(ctx, _PLACE, c) for c in range(sizes.size)]
    fill = [_word(ctx, _BACKGROUND, c) for c in range(sizes.size)]

    def one_chunk(c: int) -> tuple[np.ndarray, np.ndarray]:
        rows = int(sizes[c])
        p_off, p_items = K.plant_chunk(rows, units.offsets, units.items, units.head_len,
                                       np.ascontiguousarray(full[:, c]), np.ascontiguousarray(total[:, c]), place[c])
        return K.fill_chunk(rows, fill[c], bg.len_prob, bg.len_alias, bg.len_values, bg.pop_prob, bg.pop_alias,
                            bg.positive, p_off, p_items)

    task = ctx.progress.task(f"{ctx.block}: transactions (pass {ctx.iteration + 1})", total=bg.records)
    parts = []
    with ThreadPoolExecutor(max_workers=max(1, ctx.workers)) as pool:
        for c, part in enumerate(pool.map(one_chunk, range(sizes.size))):
            parts.append(part)
            task.advance(int(sizes[c]))
    lengths = np.concatenate([np.diff(off) for off, _ in parts])
    offsets = np.zeros(bg.records + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    items = np.concatenate([it for _, it in parts])
    return TransactionData(offsets=offsets, items=items, timestamps=_timestamps(block, sizes, ctx),
                           chunk=block.chunk)


def add_utilities(data: TransactionData, block: TransactionBlock, bg: Background, plan: Sequence[Pattern],
                  ctx: BlockContext) -> TransactionData:
    """Unit profits (PLAN stream, one per id) and per-occurrence quantities (per chunk)."""
    spec = block.utility
    if spec is None:
        return data
    profits = np.zeros(bg.items + 1, dtype=np.int64)
    profits[1:] = ctx.rng(PLAN, 1).integers(spec.profit[0], spec.profit[1] + 1, size=bg.items)
    boosted = [p for p in plan if isinstance(p, HighUtilityItemset)]
    set_offsets, set_items = csr([p.items for p in boosted])
    set_quantity = np.array([p.item_quantity for p in boosted], dtype=np.int64)
    sizes = chunk_sizes(bg.records, block.chunk)
    starts = np.concatenate(([0], np.cumsum(sizes)))

    def one_chunk(c: int) -> np.ndarray:
        a, b = int(starts[c]), int(starts[c + 1])
        off = data.offsets[a:b + 1] - data.offsets[a]
        return K.quantities_chunk(off, data.items[data.offsets[a]:data.offsets[b]], _word(ctx, _QUANTITY, c),
                                  spec.quantity[0], spec.quantity[1], bg.items, set_offsets, set_items, set_quantity)

    with ThreadPoolExecutor(max_workers=max(1, ctx.workers)) as pool:
        quantities = np.concatenate(list(pool.map(one_chunk, range(sizes.size))))
    return attrs.evolve(data, quantities=quantities, profits=profits)


def _timestamps(block: TransactionBlock, sizes: np.ndarray, ctx: BlockContext) -> np.ndarray | None:
    """``start + floor(T)``, ``T`` the arrival times of a Poisson process (exponential gaps)."""
    spec = block.timestamps
    if spec is None:
        return None
    out = []
    clock = 0.0
    for c, rows in enumerate(sizes.tolist()):
        times = clock + np.cumsum(ctx.rng(DATA, _TIME, c).exponential(spec.mean_gap, rows))
        clock = float(times[-1])
        out.append(spec.start + np.floor(times).astype(np.int64))
    return np.concatenate(out)


def measure(data: TransactionData, bg: Background, plan: Sequence[Pattern], ctx: BlockContext) -> BlockResult:
    """Count every planted pattern exactly and search for unplanted frequent itemsets."""
    n = data.records
    item_counts = np.bincount(data.items, minlength=bg.items + 1)
    sets: list[list[int]] = []
    for p in plan:
        if isinstance(p, Itemset):
            sets.append(p.items)
        elif isinstance(p, Rule):
            sets += [p.antecedent + p.consequent, p.antecedent]
    counts = iter(count_supports(data.offsets, data.items, bg.items, item_counts, sets, ctx.workers).tolist())
    utilities = iter(_utilities(data, bg, [p for p in plan if isinstance(p, HighUtilityItemset)], ctx))
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
    targets = [p.target_support for p in plan if isinstance(p, Itemset | Rule)]
    metrics: dict[str, Any] = {"records": n, "items": bg.items, "item_occurrences": int(data.items.size),
                               "mean_length": round(float(data.items.size) / n, 6)}
    accidental: list[Pattern] = []
    if targets:
        mined = mine_unplanted(data.offsets, data.items, bg.items, item_counts, min(targets),
                               [s.items for s in planted_sets(plan)], ctx.workers)
        accidental = [Itemset(id=f"{ctx.block}/accidental/{i}", block=ctx.block, items=list(s), target_support=0.0,
                              realized_support=c / n) for i, (s, c) in enumerate(mined.found)]
        metrics |= {"accidental_itemsets": len(accidental), "accidental_min_support": min(targets),
                    "accidental_search_complete": mined.complete, "frequent_items": mined.frequent_items}
        if mined.note:
            metrics["accidental_search_note"] = mined.note
    return BlockResult(data=data, patterns=realized, accidental=accidental, metrics=metrics)


def _utilities(data: TransactionData, bg: Background, sets: Sequence[HighUtilityItemset],
               ctx: BlockContext) -> list[int]:
    if not sets or data.quantities is None or data.profits is None:
        return []
    set_offsets, set_items = csr([p.items for p in sets])
    parts = map_ranges(lambda a, b: K.set_utilities(data.offsets, data.items, data.quantities, data.profits, a, b,
                                                    bg.items, set_offsets, set_items), data.records, ctx.workers)
    return [int(u) for u in np.sum(parts, axis=0)]

"""The sequence generators: ``planted`` (default) and the ``independent`` baseline."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from attrs import evolve

from medmgen.converter import structure
from medmgen.errors import InputError, Problem
from medmgen.fields import check_instance
from medmgen.interfaces import BlockContext, BlockResult, Generator
from medmgen.ledger import Drift
from medmgen_sequence import mining, planting
from medmgen_sequence.fit import fit_spmf
from medmgen_sequence.io import Draft, SequenceData
from medmgen_sequence.kinds import SequentialPattern
from medmgen_sequence.spec import CountDist, Popularity, SequenceBlock
from medmgen_sequence.threads import numba_threads


class PlantedSequences(Generator):
    """Background sequences of itemsets with sequential patterns planted at exact counts."""

    modality, name, config, default = "sequence", "planted", SequenceBlock, True
    description = "Sequences of itemsets; sequential patterns (with gaps) planted in exactly round(aim*N) sequences."

    def __init__(self) -> None:
        self._resolved: tuple[SequenceBlock, SequenceBlock] | None = None
        self._drafts: dict[str, list[Draft]] = {}  # block -> every pass's files, written ahead

    def resolve(self, block: SequenceBlock, ctx: BlockContext) -> SequenceBlock:
        """The block with defaults filled in and, with ``source``, the file's distributions (read once)."""
        if self._resolved is not None and self._resolved[0] == block:
            return self._resolved[1]
        if block.source is None:
            out = evolve(block, records=block.n_records(), items=block.n_items())
        else:
            out = _from_source(block, ctx)
        out = _drift_times(out, ctx)
        self._resolved = (block, out)
        return out

    def plan(self, block: SequenceBlock, ctx: BlockContext) -> list[SequentialPattern]:
        block = self.resolve(block, ctx)
        _warn_empty_segments(block, ctx)
        return planting.plan_patterns(block, ctx)

    def aims(self, plan: Sequence[SequentialPattern], ctx: BlockContext) -> list[float] | None:
        """Each pattern's whole-block support target on this pass (``None``: plant nothing)."""
        return [ctx.aim(p) or 0.0 for p in plan]

    @staticmethod
    def drift_aims(block: SequenceBlock, ctx: BlockContext) -> list[tuple[float, float] | None]:
        """Each drifting pattern's aims before and after its change on this pass (the feedback
        loop's for its drift record's ``#before``/``#after`` segments, else their targets)."""
        out: list[tuple[float, float] | None] = []
        for j, p in enumerate(block.sequential_patterns):
            key = _drift_id(ctx.block, j)
            out.append(None if p.drift is None else (ctx.effective.get(f"{key}#before", p.support),
                                                     ctx.effective.get(f"{key}#after", p.drift.support)))
        return out

    def generate(self, block: SequenceBlock, plan: Sequence[SequentialPattern], ctx: BlockContext) -> BlockResult:
        block = self.resolve(block, ctx)
        with numba_threads(ctx.workers):
            data, n_hosts = planting.build(block, plan, self.aims(plan, ctx), ctx, self.drift_aims(block, ctx))
            data = evolve(data, workers=ctx.workers)
            drafts = self._drafts.setdefault(ctx.block, [])
            for draft in drafts:  # a later pass supersedes them (a chosen earlier pass re-encodes)
                draft.cancel()
            if ctx.data_dir is not None:  # a package is being written: write its files now,
                # overlapping the ledger's counting below
                drafts += data.write_ahead(ctx.data_dir, ctx.block, f"pass{ctx.iteration}", drafts)
            return _result(block, plan, n_hosts, data, ctx)

    def records(self, block: SequenceBlock) -> int | None:
        return block.n_records()

    @classmethod
    def fit_block(cls, source: Path) -> dict[str, Any]:
        """Empirical itemsets-per-sequence, items-per-itemset and item popularity of an SPMF file."""
        return {"modality": cls.modality, "generator": cls.name, **fit_spmf(Path(source))}


class IndependentSequences(PlantedSequences):
    """The same background with nothing planted (an SPMF-style random generator); still counts the spec's patterns."""

    name, default = "independent", False
    description = "Same background as 'planted', nothing planted; the spec's patterns are only counted."

    def __init__(self) -> None:
        super().__init__()
        self._last: tuple[Any, BlockResult] | None = None

    def aims(self, plan: Sequence[SequentialPattern], ctx: BlockContext) -> list[float] | None:
        return None

    def generate(self, block: SequenceBlock, plan: Sequence[SequentialPattern], ctx: BlockContext) -> BlockResult:
        key = (block, tuple(p.id for p in plan), ctx.block, ctx.root_seed)
        if self._last is None or self._last[0] != key:  # the output ignores the feedback aims
            self._last = (key, super().generate(block, plan, ctx))
        return self._last[1]


def _from_source(block: SequenceBlock, ctx: BlockContext) -> SequenceBlock:
    where = f"blocks.{ctx.block}"
    path = ctx.resolve(str(block.source))
    if not path.is_file():
        raise InputError.one(ctx.source, f"{where}.source", "file not found", expected="an SPMF sequence file",
                             got=str(path))
    fitted = fit_spmf(path)
    problems: list[Problem] = []
    items = block.items or fitted["items"]
    if items < fitted["items"]:
        problems.append(Problem(f"{where}.items", "smaller than the source file's largest id",
                                f">= {fitted['items']}", items))
    weights = fitted["popularity"]["weights"] + [0.0] * max(0, items - fitted["items"])
    dists = {}
    for key, schema in (("itemsets", CountDist), ("itemset_size", CountDist)):
        dists[key], errs = structure(fitted[key], schema, f"{where}.source")
        problems.extend(errs)
    if not problems:
        out = evolve(block, source=None, records=block.records or fitted["records"], items=items,
                     popularity=Popularity(distribution="empirical", weights=weights), **dists)
        problems.extend(check_instance(out, where))
    if problems:
        raise InputError(ctx.source, problems)
    return out


def _drift_times(block: SequenceBlock, ctx: BlockContext) -> SequenceBlock:
    """Turn each drift's ``at_time`` into a record index (``at_time`` is kept for the ledger)."""
    timed = [i for i, p in enumerate(block.sequential_patterns) if p.drift is not None and p.drift.at is None]
    if not timed:
        return block
    start = planting.start_times(block, ctx)
    patterns = list(block.sequential_patterns)
    problems = []
    for i in timed:
        d = patterns[i].drift
        at = int(np.searchsorted(start, d.at_time, side="left"))
        if at >= block.records or at + d.width > block.records:
            problems.append(Problem(f"blocks.{ctx.block}.sequential_patterns[{i}].drift.at_time",
                                    "the change must start and end within the records (too late for the "
                                    f"sequences' start times; the last starts at {int(start[-1])})",
                                    f"a time whose record index + width <= {block.records}", d.at_time))
        patterns[i] = evolve(patterns[i], drift=evolve(d, at=at))
    if problems:
        raise InputError(ctx.source, problems)
    return evolve(block, sequential_patterns=patterns)


def _result(block: SequenceBlock, plan: Sequence[SequentialPattern], n_hosts: Sequence[int], data: SequenceData,
            ctx: BlockContext) -> BlockResult:
    n = block.records
    drifts = [block.sequential_patterns[j].drift if j < len(block.sequential_patterns) else None
              for j in range(len(plan))]
    bins = [(n, n) if d is None else (d.at, d.at + d.width) for d in drifts]
    counts, extra, search = mining.ledger(data, plan, block.items, bins, ctx.block)  # one pass for both
    realized: list[Any] = [evolve(p, realized_support=int(c.sum()) / n, planted=int(h))
                           for p, c, h in zip(plan, counts, n_hosts)]
    for j, (p, d, c) in enumerate(zip(plan, drifts, counts)):
        if d is not None:
            realized.append(Drift(
                id=_drift_id(ctx.block, j), block=ctx.block, pattern=p.id, shape=d.kind, at=d.at,
                at_time=d.at_time, width=d.width,
                target_before=block.sequential_patterns[j].support, target_after=d.support,
                realized_before=_share(c[0], d.at), realized_during=_share(c[1], d.width),
                realized_after=_share(c[2], n - d.at - d.width)))
    n_sets = int(data.seq_off[-1])
    metrics = {
        "sequences": data.records,
        "itemsets": n_sets,
        "items": int(data.items.shape[0]),
        "mean_itemsets_per_sequence": n_sets / data.records,
        "mean_items_per_itemset": int(data.items.shape[0]) / max(1, n_sets),
        "accidental": len(extra),
        "accidental_scope": "2-sequences <{a}, {b}> (a in an earlier itemset than b, no gap limit) that no planted "
                            "pattern contains; a longer unplanned pattern shows through its 2-sequences, patterns "
                            "of one itemset are not looked for",
        **search.metrics(),
    }
    notes = _floor_notes(realized[:len(plan)]) + _segment_floor_notes(block, realized[len(plan):], ctx)
    if notes:
        metrics["notes"] = notes
    return BlockResult(data=data, patterns=realized, accidental=extra, metrics=metrics)


def _floor_notes(patterns: Sequence[SequentialPattern]) -> list[str]:
    """Why a pattern misses its target whatever the feedback loop does: with nothing planted,
    the background alone holds it in more sequences than the target."""
    return [_floor_note(p.id, p.realized_support, p.target_support, "")
            for p in patterns if p.planted == 0 and p.target_support is not None
            and p.realized_support is not None and p.realized_support > p.target_support]


def _floor_note(key: str, realized: float, target: float, where: str) -> str:
    return (f"{key}: background support {realized:.4g} exceeds the target {target:.4g} with nothing planted"
            f"{where}; raise `items`, flatten `popularity` or raise the support")


def _segment_floor_notes(block: SequenceBlock, drifts: Sequence[Drift], ctx: BlockContext) -> list[str]:
    """:func:`_floor_notes` for a drift's segments before and after the change: the feedback
    loop's aim for the segment (``<drift id>#before``/``#after``) plants nothing there."""
    out = []
    for r in drifts:
        ends = _ends(r.at, r.width, block.records, r.target_before, r.target_after)
        for (seg, lo, hi, target), realized in zip(ends, (r.realized_before, r.realized_after)):
            aim = ctx.effective.get(f"{r.id}#{seg}", target)
            if hi > lo and round(max(0.0, aim) * (hi - lo)) == 0 and realized is not None and realized > target:
                out.append(_floor_note(f"{r.id}#{seg}", realized, target, f" in records {lo:,}..{hi - 1:,}"))
    return out


def _warn_empty_segments(block: SequenceBlock, ctx: BlockContext) -> None:
    """Warn of a drift segment whose target rounds to no host (``support x records`` under
    one half): nothing can be planted there, and the pattern is reported absent from it."""
    for j, p in enumerate(block.sequential_patterns):
        d = p.drift
        if d is None:
            continue
        for seg, lo, hi, target in _ends(d.at, d.width, block.records, p.support, d.support):
            if hi > lo and round(target * (hi - lo)) == 0:
                warnings.warn(f"{ctx.source}:blocks.{ctx.block}.sequential_patterns[{j}].drift: the segment {seg} "
                              f"the change (records {lo:,}..{hi - 1:,}) has support x records = "
                              f"{target * (hi - lo):.3g}, so no record carries the pattern there; raise the support "
                              "or move the change", stacklevel=2)


def _ends(at: int, width: int, records: int, before: float, after: float) -> tuple[tuple[str, int, int, float], ...]:
    """A drift's segments before and after the change: ``(name, first record, end, target)``."""
    return ("before", 0, at, before), ("after", at + width, records, after)


def _drift_id(block: str, j: int) -> str:
    """The id of explicit pattern ``j``'s drift record (keys its segments' aims too)."""
    return f"{block}/drift/{j}"


def _share(count: int, records: int) -> float | None:
    return int(count) / records if records else None

"""The ``tabular_constraints`` repairer: every output row satisfies the block's constraints."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import attrs
import numpy as np
import pyarrow as pa
from attrs import frozen

from medmgen import seeds
from medmgen.errors import InputError
from medmgen.interfaces import BlockContext, BlockResult, Repairer, RepairReport
from medmgen_tabular import constraints as cons_mod
from medmgen_tabular.spec import Constraint

ROUNDS = 5
REPAIR_STREAM = 1 << 20


def repair_rng(ctx: BlockContext, chunk: int = 0) -> np.random.Generator:
    """The repair stream of chunk ``chunk``; chunk 0 is also the whole table's, so a block of one chunk is
    repaired identically whether it streams or sits in memory."""
    return ctx.rng(seeds.REPAIR, REPAIR_STREAM, *((chunk,) if chunk else ()))


@frozen(kw_only=True, eq=False)
class Repaired:
    """One table (a whole block or one chunk) after repair: ``table`` holds only the ``keep`` rows."""

    table: pa.Table
    keep: np.ndarray  # of the rows before dropping, those still compliant
    replaced: np.ndarray  # rows rejected and regenerated
    unrepaired: pa.Table  # the repaired rows before dropping (same positions as the input)
    violations: int  # input rows breaking at least one constraint
    rejected: int


def new_stats(cons: Sequence[Constraint]) -> list[dict[str, Any]]:
    """Per-constraint counters, in spec order; ``resample`` constraints also count the values ``resampled`` and,
    for a range, ``clipped`` (the fallback when no compliant value exists in the table or the source)."""
    out = []
    for i, c in enumerate(cons):
        s = {"constraint": i, "kind": c.kind, "action": c.resolved_action(), "violations": 0, "repaired": 0,
             "rejected": 0}
        if c.resolved_action() == "resample":
            s |= {"resampled": 0, "clipped": 0} if c.kind == "range" else {"resampled": 0}
        out.append(s)
    return out


def repair_table(table: pa.Table, cons: Sequence[Constraint], ref: pa.Table | None, rng: np.random.Generator,
                 regenerate: Callable[[int, int], pa.Table] | None, identifiers: Sequence[str],
                 stats: list[dict[str, Any]], call: int = 0) -> Repaired:
    """Repair ``table`` (counting into ``stats``); reject-and-regenerate call ``r`` uses regenerate round
    ``call + r``. Raises :class:`~medmgen_tabular.constraints.Unsatisfiable`."""
    first = [cons_mod.violations(table, c, ref) for c in cons]
    for s, m in zip(stats, first):
        s["violations"] += int(m.sum())
    any_bad = np.logical_or.reduce(first) if first else np.zeros(table.num_rows, dtype=bool)
    fixing = [i for i, c in enumerate(cons) if c.resolved_action() != "reject"]

    def fix(t: pa.Table, count: bool) -> pa.Table:
        for i in fixing:
            c = cons[i]
            m = cons_mod.violations(t, c, ref)
            if not m.any():
                continue
            action = c.resolved_action()
            if action == "clip":
                t = cons_mod.clip_rows(t, c, m)
            elif action == "resample":
                try:
                    t, taken = cons_mod.resample_rows(t, c, m, rng, ref)
                except cons_mod.Unsatisfiable as exc:
                    raise cons_mod.Unsatisfiable(str(exc), i) from None
                if count:
                    stats[i]["resampled" if taken == "resample" else "clipped"] += int(m.sum())
            else:
                t = cons_mod.recompute_rows(t, c, m, rng)
            if count:
                stats[i]["repaired"] += int(m.sum())
        return t

    def screen(t: pa.Table) -> pa.Table:
        """Fresh rows, repaired the same way, kept only when they break nothing."""
        t = fix(t, False)
        return t.filter(pa.array(~np.logical_or.reduce([cons_mod.violations(t, c, ref) for c in cons])))

    rejected = 0
    replaced = np.zeros(table.num_rows, dtype=bool)
    for round_ in range(ROUNDS):
        table = fix(table, True)
        masks = [cons_mod.violations(table, c, ref) for c in cons]
        bad = np.logical_or.reduce(masks)
        if not bad.any():
            break
        table, n = cons_mod.reject_rows(table, bad, screen, regenerate, identifiers, rng, call + round_)
        rejected += n
        replaced |= bad
        for s, m in zip(stats, masks):
            s["rejected"] += int(m.sum())
    left = [cons_mod.violations(table, c, ref) for c in cons]
    keep = ~np.logical_or.reduce(left)
    if not keep.all():
        for s, m in zip(stats, left):
            s["dropped"] = s.get("dropped", 0) + int(m.sum())
    return Repaired(table=table if keep.all() else table.filter(pa.array(keep)), keep=keep, replaced=replaced,
                    unrepaired=table, violations=int(any_bad.sum()), rejected=rejected)


class TabularConstraints(Repairer):
    """Repairs by clip / resample / recompute, or rejects rows and regenerates them from the model.

    Each round applies the per-column repairs in spec order, then replaces every row
    that still breaks a constraint (``reject`` constraints, or a repair that undid
    another) by fresh rows from the model that, repaired the same way, break nothing.
    Rows still broken after ``ROUNDS`` rounds are dropped and counted, so compliance
    is always 100%. The block's ``recount`` then updates its ledger patterns from the
    repaired table: rows replaced, or changed in a pattern's columns, stop counting as
    planted truth.

    A block still kept as its sampling recipe (fitted, no ``f1`` targets) whose
    constraints are all row-local (:data:`~medmgen_tabular.constraints.ROW_LOCAL`) is
    repaired chunk by chunk instead: one counting sweep here, and the same repair
    applied again to each chunk as it is written or read, so it never sits in memory
    whole. ``unique`` (a value seen in any earlier chunk) and ``custom`` constraints
    (a third party's repair may look at the whole table) keep the in-memory path.
    """

    name = "tabular_constraints"
    modalities = ("tabular",)

    def applies(self, block: Any) -> bool:
        return bool(getattr(block, "constraints", ()))

    def repair(self, block: Any, result: BlockResult, ctx: BlockContext) -> tuple[BlockResult, RepairReport]:
        data = result.data
        if streamable(data, block.constraints):
            return self._repair_chunks(block, result, ctx)
        table: pa.Table = data.table
        cons = list(block.constraints)
        stats = new_stats(cons)
        try:
            done = repair_table(table, cons, getattr(data, "reference", None), repair_rng(ctx),
                                getattr(data, "regenerate", None), getattr(data, "identifiers", ()), stats)
        except cons_mod.Unsatisfiable as exc:
            raise InputError.one(ctx.source, f"blocks.{ctx.block}.constraints{exc.where}", str(exc)) from None
        patterns = result.patterns
        recount = getattr(data, "recount", None)
        if recount is not None:
            changed = cons_mod.changed_cells(table, done.unrepaired)
            tainted = {name: (done.replaced | m)[done.keep] for name, m in changed.items()}
            patterns = recount(done.table, np.flatnonzero(done.keep), tainted, patterns)
        report = RepairReport(repairer=self.name, checked=table.num_rows, violations=done.violations,
                              repaired=sum(s["repaired"] for s in stats), rejected=done.rejected,
                              details={"constraints": stats, "rows_out": done.table.num_rows})
        return attrs.evolve(result, data=attrs.evolve(data, table=done.table), patterns=patterns), report

    def _repair_chunks(self, block: Any, result: BlockResult, ctx: BlockContext) -> tuple[BlockResult, RepairReport]:
        """The streaming path: count every chunk's repair now; the data repairs each chunk again when read."""
        from medmgen_tabular.generator import ShareCounter

        data = result.data
        cons = list(block.constraints)
        ref, regenerate, identifiers = data.reference, data.regenerate, data.identifiers
        source, key = ctx.source, f"blocks.{ctx.block}.constraints"

        def one(chunk: pa.Table, index: int, stats: list[dict[str, Any]]) -> Repaired:
            try:
                return repair_table(chunk, cons, ref, repair_rng(ctx, index), regenerate,
                                    identifiers, stats, index * ROUNDS)
            except cons_mod.Unsatisfiable as exc:
                raise InputError.one(source, key + exc.where, str(exc)) from None

        stats = new_stats(cons)
        counter = ShareCounter(result.patterns)
        checked = violations = rejected = kept = 0
        for index, chunk in enumerate(data.recipe.chunks()):
            done = one(chunk, index, stats)
            checked += chunk.num_rows
            violations += done.violations
            rejected += done.rejected
            kept += done.table.num_rows
            counter.add(done.table)
        recipe = attrs.evolve(data.recipe, repair=lambda t, i: one(t, i, new_stats(cons)).table, kept=kept)
        report = RepairReport(repairer=self.name, checked=checked, violations=violations,
                              repaired=sum(s["repaired"] for s in stats), rejected=rejected,
                              details={"constraints": stats, "rows_out": kept})
        return (attrs.evolve(result, data=attrs.evolve(data, recipe=recipe), patterns=counter.patterns(kept)),
                report)


def streamable(data: Any, cons: Sequence[Constraint]) -> bool:
    """Whether a block can be repaired chunk by chunk: a recipe not yet materialised, row-local constraints."""
    recipe = getattr(data, "recipe", None)
    return (recipe is not None and recipe.repair is None and not data.materialised
            and all(c.kind in cons_mod.ROW_LOCAL for c in cons))

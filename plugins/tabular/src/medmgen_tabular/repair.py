"""The ``tabular_constraints`` repairer: every output row satisfies the block's constraints."""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np
import pyarrow as pa

from medmgen import seeds
from medmgen.errors import InputError
from medmgen.interfaces import BlockContext, BlockResult, Repairer, RepairReport
from medmgen_tabular import constraints as cons_mod

ROUNDS = 5


class TabularConstraints(Repairer):
    """Repairs by clip / resample / recompute, or rejects rows and regenerates them from the model.

    Each round applies the per-column repairs in spec order, then replaces every row
    that still breaks a constraint (``reject`` constraints, or a repair that undid
    another) by fresh rows from the model that, repaired the same way, break nothing.
    Rows still broken after ``ROUNDS`` rounds are dropped and counted, so compliance
    is always 100%. The block's ``recount`` then updates its ledger patterns from the
    repaired table: rows replaced, or changed in a pattern's columns, stop counting as
    planted truth.
    """

    name = "tabular_constraints"
    modalities = ("tabular",)

    def applies(self, block: Any) -> bool:
        return bool(getattr(block, "constraints", ()))

    def repair(self, block: Any, result: BlockResult, ctx: BlockContext) -> tuple[BlockResult, RepairReport]:
        data = result.data
        table: pa.Table = data.table
        ref = getattr(data, "reference", None)
        cons = list(block.constraints)
        rng = ctx.rng(seeds.REPAIR, 1 << 20)
        stats = [{"constraint": i, "kind": c.kind, "action": c.resolved_action(), "violations": 0, "repaired": 0,
                  "rejected": 0} for i, c in enumerate(cons)]
        first = [cons_mod.violations(table, c, ref) for c in cons]
        for s, m in zip(stats, first):
            s["violations"] = int(m.sum())
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
                    t = cons_mod.resample_rows(t, c, m, rng)
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
            try:
                table = fix(table, True)
            except cons_mod.Unsatisfiable as exc:
                raise InputError.one(ctx.source, f"blocks.{ctx.block}.constraints", str(exc)) from None
            masks = [cons_mod.violations(table, c, ref) for c in cons]
            bad = np.logical_or.reduce(masks)
            if not bad.any():
                break
            try:
                table, n = cons_mod.reject_rows(table, bad, screen, getattr(data, "regenerate", None),
                                                getattr(data, "identifiers", ()), rng, round_)
            except cons_mod.Unsatisfiable as exc:
                raise InputError.one(ctx.source, f"blocks.{ctx.block}.constraints", str(exc)) from None
            rejected += n
            replaced |= bad
            for s, m in zip(stats, masks):
                s["rejected"] += int(m.sum())
        changed = cons_mod.changed_cells(data.table, table)
        left = [cons_mod.violations(table, c, ref) for c in cons]
        keep = ~np.logical_or.reduce(left)
        if not keep.all():
            for s, m in zip(stats, left):
                s["dropped"] = int(m.sum())
            table = table.filter(pa.array(keep))
        patterns = result.patterns
        recount = getattr(data, "recount", None)
        if recount is not None:
            tainted = {name: (replaced | m)[keep] for name, m in changed.items()}
            patterns = recount(table, np.flatnonzero(keep), tainted, patterns)
        report = RepairReport(repairer=self.name, checked=data.table.num_rows, violations=int(any_bad.sum()),
                              repaired=sum(s["repaired"] for s in stats), rejected=rejected,
                              details={"constraints": stats, "rows_out": table.num_rows})
        return attrs.evolve(result, data=attrs.evolve(data, table=table), patterns=patterns), report

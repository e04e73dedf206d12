"""Evaluators: ``tabular_fidelity`` (1-way and 2-way TVD against the source), ``tabular_class_shares``
and ``tabular_class_f1``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from medmgen.interfaces import Evaluation, Evaluator, Threshold
from medmgen_tabular import fidelity, model
from medmgen_tabular.generator import FIDELITY_BINS, read_cached
from medmgen_tabular.io import TABLE_SUFFIXES, encode
from medmgen_tabular.kinds import ClassF1, ClassShare


def codes_against(levels: pa.Array, values: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Level index of each value; a value the source never had gets index ``len(levels)``."""
    idx = pc.index_in(values, value_set=levels, skip_nulls=False)
    return idx.fill_null(len(levels)).to_numpy(zero_copy_only=False).astype(np.int64)


class TabularFidelity(Evaluator):
    """Mean and max TVD over all 1-way and 2-way marginals of the non-identifier columns.

    The real table is the block's ``source``, or ``medmgen evaluate DIR --against FILE``
    (then every tabular block is compared with that file, on the columns both share).
    Columns with more than 100 distinct source values are compared in 100
    equal-mass bins of the source; a synthetic value the source never had counts
    in a bin of its own. The synthetic block is read a batch at a time (counts are
    summed), so a streamed block is never held whole.
    """

    name = "tabular_fidelity"
    takes_against = f"a table ({', '.join(TABLE_SUFFIXES)}) for tabular blocks"

    def applies(self, evaluation: Evaluation) -> bool:
        return bool(self._blocks(evaluation))

    def _blocks(self, evaluation: Evaluation) -> dict[str, Any]:
        return {name: b for name, b in evaluation.spec.blocks.items()
                if b.modality == "tabular" and (getattr(b, "source", "") or _table_against(evaluation))
                and name in evaluation.tables}

    def evaluate(self, evaluation: Evaluation) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, block in self._blocks(evaluation).items():
            against = _table_against(evaluation)
            source = against or evaluation.spec.directory / block.source
            real_table = read_cached(source.resolve())
            synth = evaluation.tables[name]
            names = set(synth.schema().names)
            max_levels = getattr(block, "max_levels", 100_000)
            columns = [c for c in encode(real_table, max_levels, str(source), warn=False)
                       if not c.identifier and c.name in names]
            if not columns:
                continue
            if against:
                evaluation.use_against(name)
            maps, real, sizes = [], [], []
            for c in columns:
                bins = model.level_bins(c, FIDELITY_BINS)
                k = int(bins.max()) + 1
                maps.append(np.concatenate([bins, [k]]))
                real.append(bins[c.codes])
                sizes.append(k + 1)
            tally = fidelity.Tally(real, sizes)
            for batch in synth.batches("", [c.name for c in columns]):
                tally.add([m[codes_against(c.levels, batch.column(c.name))] for m, c in zip(maps, columns)])
            for key, value in tally.summary().items():
                out[f"{name}.{key}"] = value
        return out


class ClassShares(Evaluator):
    """Each ``class_share`` pattern's realized share; judges ``max_class_share_deviation``.

    The deviation itself is the core ``spec_error`` evaluator's
    ``max_class_share_deviation``; declaring the threshold here, with ``feedback``,
    makes the controller run passes until every class share is within it.
    """

    name = "tabular_class_shares"
    thresholds = (
        Threshold(name="max_class_share_deviation", metric="spec_error.max_class_share_deviation", default=0.005,
                  doc="Largest |realized - target| class share of a fitted tabular block's class_targets.",
                  feedback=True),
    )

    def applies(self, evaluation: Evaluation) -> bool:
        return any(isinstance(p, ClassShare) for p in evaluation.ledger.patterns)

    def evaluate(self, evaluation: Evaluation) -> dict[str, Any]:
        return {f"{p.block}.{p.column}={p.value}": p.realized_share for p in evaluation.ledger.patterns
                if isinstance(p, ClassShare)}


class ClassF1Scores(Evaluator):
    """Each ``class_f1`` pattern's realized F1; judges ``max_f1_deviation``.

    The deviation itself is the core ``spec_error`` evaluator's ``max_f1_deviation``;
    declaring the threshold here, with ``feedback``, makes the controller run passes
    until every class's F1 is within it.
    """

    name = "tabular_class_f1"
    thresholds = (
        Threshold(name="max_f1_deviation", metric="spec_error.max_f1_deviation", default=0.01,
                  doc="Largest |realized - target| per-class F1 of a fitted tabular block's f1 class_targets "
                      "(judge classifier trained on the output, tested on the source's held-out rows).",
                  feedback=True),
    )

    def applies(self, evaluation: Evaluation) -> bool:
        return any(isinstance(p, ClassF1) for p in evaluation.ledger.patterns)

    def evaluate(self, evaluation: Evaluation) -> dict[str, Any]:
        return {f"{p.block}.{p.column}={p.value}": p.realized_f1 for p in evaluation.ledger.patterns
                if isinstance(p, ClassF1)}


def _table_against(evaluation: Evaluation) -> Path | None:
    """``--against`` when it is a table (an SPMF or edge-list file is another modality's)."""
    against = evaluation.against
    return Path(against) if against is not None and str(against).lower().endswith(TABLE_SUFFIXES) else None

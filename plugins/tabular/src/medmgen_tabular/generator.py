"""Generators that fit a real table: ``copula`` (default), ``bayesnet`` and ``independent``."""

from __future__ import annotations

import abc
import functools
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa

from medmgen import seeds
from medmgen.errors import InputError, Problem
from medmgen.interfaces import BlockContext, BlockResult, Generator
from medmgen.ledger import Pattern
from medmgen_tabular import constraints, fidelity, model
from medmgen_tabular.data import TabularData
from medmgen_tabular.io import Column, encode, fresh_ids, read_table, source_mtime
from medmgen_tabular.spec import BayesNetBlock, CopulaBlock, FittedBlock

FIDELITY_BINS = 100


@functools.lru_cache(maxsize=4)
def _read_keyed(key: tuple[str, int, int]) -> pa.Table:
    return read_table(Path(key[0]))


def read_cached(path: Path) -> pa.Table:
    """The table at ``path``, read once per (path, mtime, size)."""
    if not path.is_file():
        return read_table(path)  # raises the file-not-found InputError
    return _read_keyed(source_mtime(path))


def load_source(block: FittedBlock, ctx: BlockContext) -> pa.Table:
    path = ctx.resolve(block.source)
    if not path.is_file():
        raise InputError.one(ctx.source, f"blocks.{ctx.block}.source", "file not found", "a CSV or Parquet file",
                             str(path))
    return read_cached(path)


def check_columns(block: Any, names: Sequence[str], ctx: BlockContext) -> None:
    """Every column a constraint (or the target) names exists; else one error listing them all."""
    known = set(names)
    expected = "one of " + ", ".join(names)
    path = f"blocks.{ctx.block}"
    problems = []
    target = getattr(block, "target", "")
    if target and target not in known:
        problems.append(Problem(f"{path}.target", "no such column in the source", expected, target))
    for i, c in enumerate(block.constraints):
        for key, col in c.named_columns():
            if col not in known:
                problems.append(Problem(f"{path}.constraints[{i}].{key}", "no such column", expected, col))
    if problems:
        raise InputError(ctx.source, problems)


class FittedGenerator(Generator):
    """Shared fit-sample-decode logic; subclasses choose the model."""

    modality = "tabular"
    config: ClassVar[type[FittedBlock]] = FittedBlock

    @abc.abstractmethod
    def fit(self, block: Any, columns: Sequence[Column]) -> Any:
        """The fitted model: anything with ``sample(state, n) -> level indices``."""

    @classmethod
    def fit_block(cls, source: Path) -> dict[str, Any]:
        """A block that fits ``source`` (read once here, so a bad file fails now)."""
        table = read_table(Path(source))
        return {"modality": cls.modality, "generator": cls.name, "source": str(source), "records": table.num_rows}

    def plan(self, block: Any, ctx: BlockContext) -> list[Pattern]:
        table = load_source(block, ctx)
        check_columns(block, table.column_names, ctx)
        return []

    def generate(self, block: Any, plan: Sequence[Pattern], ctx: BlockContext) -> BlockResult:
        source = str(ctx.resolve(block.source))
        table = load_source(block, ctx)
        columns = encode(table, block.max_levels, source)
        modelled = [c for c in columns if not c.identifier]
        fitted = self.fit(block, modelled)
        records = block.records or table.num_rows
        task = ctx.progress.task(f"{ctx.block}: sampling {self.name}", records)
        codes = model.sample_chunks(fitted.sample, records, block.chunk_rows,
                                    lambda i: seeds.state_words(ctx.seed_sequence(seeds.DATA, i), 1),
                                    len(modelled), task.advance, ctx.workers)
        out = _assemble(columns, modelled, codes, records)
        metrics: dict[str, Any] = {"generator": self.name, "source_rows": table.num_rows, "rows": records,
                                   "identifiers": [c.name for c in columns if c.identifier]}
        metrics |= _fidelity(modelled, codes)
        source_bad = constraints.count_source_violations(table, block.constraints)
        if any(source_bad):
            lines = ", ".join(f"constraints[{i}] ({block.constraints[i].kind}): {n} rows"
                              for i, n in enumerate(source_bad) if n)
            warnings.warn(f"{source}: source rows violate constraints of block {ctx.block!r}: {lines}",
                          stacklevel=2)
        if block.constraints:
            metrics["source_violations"] = source_bad

        def regenerate(n: int, round_: int) -> pa.Table:
            state = seeds.state_words(ctx.seed_sequence(seeds.REPAIR, round_), 1)
            return _assemble(columns, modelled, fitted.sample(state, n), n)

        data = TabularData(table=out, csv=block.csv, regenerate=regenerate, reference=table,
                           identifiers=tuple(c.name for c in columns if c.identifier))
        return BlockResult(data=data, metrics=metrics)


def _assemble(columns: Sequence[Column], modelled: Sequence[Column], codes: np.ndarray, records: int) -> pa.Table:
    sampled = dict(zip([c.name for c in modelled], model.decode(modelled, codes)))
    arrays = [sampled[c.name] if not c.identifier else fresh_ids(c, records) for c in columns]
    return pa.table(arrays, names=[c.name for c in columns])


def _fidelity(modelled: Sequence[Column], codes: np.ndarray) -> dict[str, float]:
    maps = [model.level_bins(c, FIDELITY_BINS) for c in modelled]
    real = [m[c.codes] for m, c in zip(maps, modelled)]
    synth = [m[np.ascontiguousarray(codes[:, j])] for j, m in enumerate(maps)]
    return fidelity.summary(real, synth, [int(m.max()) + 1 for m in maps])


class CopulaGenerator(FittedGenerator):
    """Empirical marginals (missing values as a level) joined by a Gaussian copula."""

    name = "copula"
    config = CopulaBlock
    default = True
    description = "Fit a real table: empirical marginals + Gaussian copula (numba sampling)."

    def fit(self, block: Any, columns: Sequence[Column]) -> Any:
        names = [c.name for c in columns]
        target = names.index(block.target) if block.target in names else None
        return model.fit_copula(columns, target=target, reorder_levels=block.reorder_levels)


class IndependentGenerator(FittedGenerator):
    """Baseline: each column drawn from its empirical marginal, independently."""

    name = "independent"
    description = "Baseline: independent empirical marginals of a real table."

    def fit(self, block: Any, columns: Sequence[Column]) -> Any:
        return model.fit_copula(columns, independent=True)


class BayesNetGenerator(FittedGenerator):
    """Chow-Liu tree over discretised columns (tree-augmented naive Bayes with a target), ancestral sampling."""

    name = "bayesnet"
    config = BayesNetBlock
    description = "Fit a real table: Chow-Liu tree Bayesian network over discretised columns."

    def fit(self, block: Any, columns: Sequence[Column]) -> Any:
        names = [c.name for c in columns]
        return model.fit_tree(columns, block.max_bins, names.index(block.target) if block.target in names else None)

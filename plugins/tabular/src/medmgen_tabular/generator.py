"""Generators that fit a real table: ``copula`` (default), ``bayesnet`` and ``independent``."""

from __future__ import annotations

import abc
import functools
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from attrs import evolve

from medmgen import seeds
from medmgen.errors import InputError, Problem
from medmgen.interfaces import BlockContext, BlockResult, Generator
from medmgen.ledger import Event, Pattern
from medmgen_tabular import classf1, constraints, fidelity, model, stream
from medmgen_tabular.data import TabularData
from medmgen_tabular.io import Column, encode, read_table, source_mtime
from medmgen_tabular.kinds import ClassF1, ClassShare
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
        if not block.class_targets:
            return []
        levels = level_texts(table.column(block.target))
        path = f"blocks.{ctx.block}.class_targets"
        problems = [Problem(f"{path}[{i}].value", "not a value of the target column",
                            "one of " + ", ".join(v for v in levels if v is not None)[:200], t.value)
                    for i, t in enumerate(block.class_targets) if class_key(t.value) not in levels]
        total = sum(t.share or 0.0 for t in block.class_targets)
        if (not problems and len(block.class_targets) == len(levels) and abs(total - 1.0) > 1e-9
                and all(t.f1 is None for t in block.class_targets)):
            problems.append(Problem(path, "every class has a share, so the shares must add up to 1", "1",
                                    round(total, 6)))
        if self.name == "bayesnet" and len(levels) > block.max_bins:
            problems.append(Problem(f"blocks.{ctx.block}.target", "class_targets need a target with at most "
                                    "max_bins distinct values", f"<= {block.max_bins}", len(levels)))
        fit_part = table
        if any(t.f1 is not None for t in block.class_targets):
            mask = classf1.holdout_mask(table.num_rows, block.holdout, block.holdout_seed)
            if not 0 < mask.sum() < table.num_rows - 1:
                problems.append(Problem(f"blocks.{ctx.block}.holdout", "f1 class targets need held-out rows and "
                                        "at least two rows to fit", f"1..{table.num_rows - 2} of "
                                        f"{table.num_rows} rows", int(mask.sum())))
            fit_part = table.filter(pa.array(~mask))
        if problems:
            raise InputError(ctx.source, problems)
        texts = fit_part.column(block.target).cast(pa.string())
        out: list[Pattern] = []
        for i, t in enumerate(block.class_targets):
            key = class_key(t.value)
            if t.f1 is None:
                out.append(ClassShare(id=f"{ctx.block}/class_share/{i}", block=ctx.block, column=block.target,
                                      value=key, target_share=t.share))
                continue
            share = t.share
            if share is None:
                share = (pc.sum(pc.equal(texts, key).fill_null(False)).as_py() or 0) / max(fit_part.num_rows, 1)
            out.append(ClassF1(id=f"{ctx.block}/class_f1/{i}", block=ctx.block, column=block.target, value=key,
                               target_f1=t.f1, base_share=round(float(share), 9)))
        return out

    def generate(self, block: Any, plan: Sequence[Pattern], ctx: BlockContext) -> BlockResult:
        source = str(ctx.resolve(block.source))
        table = load_source(block, ctx)
        records = block.records or table.num_rows
        shares = [p for p in plan if isinstance(p, ClassShare)]
        f1s = [p for p in plan if isinstance(p, ClassF1)]
        holdout = None
        if f1s:
            mask = classf1.holdout_mask(table.num_rows, block.holdout, block.holdout_seed)
            holdout, table = table.filter(pa.array(mask)), table.filter(pa.array(~mask))
        columns = encode(table, block.max_levels, source)
        modelled = [c for c in columns if not c.identifier]
        identifiers = tuple(c.name for c in columns if c.identifier)
        problems = constraints.feasibility(block.constraints, table, identifiers)
        if problems:
            raise InputError(ctx.source, [evolve(p, path=f"blocks.{ctx.block}.{p.path}") for p in problems])
        fitted = self.fit(block, modelled)
        if shares or f1s:
            names = [c.name for c in modelled]
            if block.target not in names:
                raise InputError.one(ctx.source, f"blocks.{ctx.block}.target", "class_targets need a target that "
                                     "is not an identifier column (all values distinct)", "a class column",
                                     block.target)
            j = names.index(block.target)
            aims = {p.value: float(ctx.aim(p)) for p in shares}
            aims |= {p.value: classf1.share_for_aim(p.base_share, float(ctx.aim(p)), p.target_f1, block.f1_step,
                                                 block.f1_max_shift)
                     for p in f1s}
            weights = class_weights(modelled[j], aims)
            fitted = model.with_level_weights(fitted, j, weights)
        task = ctx.progress.task(f"{ctx.block}: sampling {self.name}", records)
        recipe = stream.Recipe(columns=tuple(columns), modelled=tuple(modelled), sample=fitted.sample,
                               state_for=lambda i: seeds.state_words(ctx.seed_sequence(seeds.DATA, i), 1),
                               records=records, chunk_rows=block.chunk_rows, workers=ctx.workers)
        tally, maps = _tally(modelled)
        metrics: dict[str, Any] = {"generator": self.name, "source_rows": table.num_rows, "rows": records,
                                   "identifiers": [c.name for c in columns if c.identifier]}
        source_bad = constraints.count_source_violations(table, block.constraints)
        if any(source_bad):
            lines = ", ".join(f"constraints[{i}] ({block.constraints[i].kind}): {n} rows"
                              for i, n in enumerate(source_bad) if n)
            warnings.warn(f"{source}: source rows violate constraints of block {ctx.block!r}: {lines}",
                          stacklevel=2)

        def regenerate(n: int, round_: int) -> pa.Table:
            state = seeds.state_words(ctx.seed_sequence(seeds.REPAIR, round_), 1)
            return stream.assemble(columns, modelled, fitted.sample(state, n), n)

        if not f1s and all(c.kind in constraints.ROW_LOCAL for c in block.constraints):
            # nothing needs the whole table: keep the recipe (constraints are repaired chunk by chunk), count per chunk
            levels = [np.zeros(len(c.counts), dtype=np.int64) for c in modelled]
            for codes in recipe.codes():
                tally.add(_binned(maps, codes))
                for j, acc in enumerate(levels):
                    acc += np.bincount(codes[:, j], minlength=len(acc))
                task.advance(len(codes))
            metrics |= model_fidelity(tally, block) | ({"source_violations": source_bad} if block.constraints else {})
            names = [c.name for c in modelled]
            counted = [_count_share(p, modelled[names.index(p.column)], levels[names.index(p.column)], records)
                       for p in shares]
            data = TabularData(recipe=recipe, csv=block.csv, chunk_rows=block.chunk_rows, regenerate=regenerate,
                               reference=table, identifiers=identifiers, recount=recount_shares)
            return BlockResult(data=data, patterns=counted, metrics=metrics)
        codes = model.sample_chunks(fitted.sample, records, block.chunk_rows, recipe.state_for, len(modelled),
                                    task.advance, ctx.workers)
        out = stream.assemble(columns, modelled, codes, records)
        tally.add(_binned(maps, codes))
        metrics |= model_fidelity(tally, block)
        if holdout is not None:
            metrics |= {"source_rows": table.num_rows + holdout.num_rows, "fit_rows": table.num_rows,
                        "holdout_rows": holdout.num_rows, "f1_class_shares": {p.value: aims[p.value] for p in f1s}}
        if block.constraints:
            metrics["source_violations"] = source_bad
        recount: Any = recount_shares
        patterns = count_shares(out, shares)
        if holdout is not None:
            judged = [c.name for c in modelled if c.name != block.target]
            patterns = classf1.count_f1(out, holdout, block.target, judged, [*patterns, *f1s], block.f1_max_iter)

            def recount(t: pa.Table, origin: np.ndarray, tainted: Mapping[str, np.ndarray],
                        ps: list[Pattern]) -> list[Pattern]:
                return classf1.recount_f1(t, holdout, block.target, judged, recount_shares(t, origin, tainted, ps),
                                          block.f1_max_iter)

        data = TabularData(table=out, csv=block.csv, chunk_rows=block.chunk_rows, regenerate=regenerate,
                           reference=table, identifiers=identifiers, recount=recount)
        return BlockResult(data=data, patterns=patterns, metrics=metrics)


def model_fidelity(tally: fidelity.Tally, block: Any) -> dict[str, float]:
    """TVD of the model's sample against the source. With constraints that is not the written output (the
    repair changes rows), so the keys become ``model_<key>_before_repair``; the output's own TVD is the
    ``tabular_fidelity`` evaluator's."""
    summary = tally.summary()
    if not block.constraints:
        return summary
    return {f"model_{k}_before_repair": v for k, v in summary.items()}


def class_key(value: Any) -> str:
    """A class value as text, the way Arrow casts a column's values to text (1.0 -> "1")."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def level_texts(column: pa.ChunkedArray) -> list[str | None]:
    """The column's distinct values as text, sorted as :func:`medmgen_tabular.io.encode` sorts its levels."""
    return pc.unique(column).sort().cast(pa.string()).to_pylist()


def class_weights(column: Column, aims: dict[str, float]) -> np.ndarray:
    """Level probabilities: aimed classes get their aim, the others share the rest as in the source."""
    texts = column.levels.cast(pa.string()).to_pylist()
    aimed = np.array([t in aims for t in texts])
    p = column.counts.astype(np.float64) / column.counts.sum()
    w = np.where(aimed, [aims.get(t, 0.0) for t in texts], 0.0)
    rest = max(0.0, 1.0 - float(w.sum()))
    if (~aimed).any() and p[~aimed].sum() > 0:
        w[~aimed] = p[~aimed] / p[~aimed].sum() * rest
    return w / w.sum() if w.sum() > 0 else p


def _share_rows(table: pa.Table, p: Pattern) -> int:
    text = table.column(p.column).cast(pa.string())
    return int(pc.sum(pc.equal(text, p.value).fill_null(False)).as_py() or 0)


def _with_rows(p: Pattern, rows: int, total: int) -> Pattern:
    return evolve(p, realized_share=round(rows / max(total, 1), 9), rows=rows)


def count_shares(table: pa.Table, shares: Sequence[Pattern]) -> list[Pattern]:
    """Each ``class_share`` pattern with its share counted from ``table``."""
    return [_with_rows(p, _share_rows(table, p), table.num_rows) for p in shares]


def recount_shares(table: pa.Table, origin: np.ndarray, tainted: Mapping[str, np.ndarray],
                   patterns: list[Pattern]) -> list[Pattern]:
    """Class shares after a repair: counted again, with an event when a share moved."""
    counter = ShareCounter(patterns)
    counter.add(table)
    return counter.patterns(table.num_rows)


class ShareCounter:
    """Class shares of a repaired block counted chunk by chunk (:func:`recount_shares` without the whole table)."""

    def __init__(self, patterns: Sequence[Pattern]) -> None:
        self._patterns = list(patterns)
        self._rows = {p.id: 0 for p in patterns if isinstance(p, ClassShare)}

    def add(self, table: pa.Table) -> None:
        for p in self._patterns:
            if p.id in self._rows:
                self._rows[p.id] += _share_rows(table, p)

    def patterns(self, total: int) -> list[Pattern]:
        """Every pattern, shares recounted over ``total`` rows, with an event when a share moved."""
        out = []
        for p in self._patterns:
            q = _with_rows(p, self._rows[p.id], total) if p.id in self._rows else p
            if q is not p and q.realized() != p.realized():
                q = q.with_event(Event(stage="repair", action="class share recounted after constraint repair",
                                       before=p.realized(), after=q.realized()))
            out.append(q)
        return out


def _count_share(p: Pattern, column: Column, counts: np.ndarray, records: int) -> Pattern:
    """A ``class_share`` pattern with its share counted from per-level row counts of its column."""
    texts = column.levels.cast(pa.string()).to_pylist()
    rows = int(sum(n for t, n in zip(texts, counts) if t == p.value))
    return evolve(p, realized_share=round(rows / max(records, 1), 9), rows=rows)


def _tally(modelled: Sequence[Column]) -> tuple[fidelity.Tally, list[np.ndarray]]:
    """Source counts in ``FIDELITY_BINS`` bins per column, ready to count synthetic chunks; the level -> bin maps."""
    maps = [model.level_bins(c, FIDELITY_BINS) for c in modelled]
    return fidelity.Tally([m[c.codes] for m, c in zip(maps, modelled)], [int(m.max()) + 1 for m in maps]), maps


def _binned(maps: Sequence[np.ndarray], codes: np.ndarray) -> list[np.ndarray]:
    """Fidelity bins of one chunk's level indices, per column."""
    return [m[np.ascontiguousarray(codes[:, j])] for j, m in enumerate(maps)]


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

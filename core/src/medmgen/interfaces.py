"""The classes plugins subclass and register through the hooks in :mod:`medmgen.hookspecs`.

The core calls their methods; no per-record work goes through pluggy. Each class
states its name and what it handles as class attributes, so registries and the
``medmgen plugins`` listing can describe it without instantiating anything heavy.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, Protocol

import attrs
import numpy as np
import pyarrow as pa
from attrs import frozen

from medmgen import seeds
from medmgen.block_tables import LazyTables, as_lazy_tables
from medmgen.errors import InputError, Problem
from medmgen.fields import setting
from medmgen.ledger import Pattern, at_limit
from medmgen.progress import NullProgress, Progress


# --------------------------------------------------------------------------- spec
@frozen(kw_only=True)
class BlockSpec:
    """Keys every ``[blocks.NAME]`` table has; a generator's config class extends it."""

    modality: str = setting(doc="Which modality plugin handles this block.")
    generator: str = setting("", doc="Which of the modality's generators; default: the modality's default.")

    def check(self) -> Sequence[Problem]:
        """Cross-field problems, paths relative to the block. Override in subclasses."""
        return ()


@frozen(kw_only=True)
class Section:
    """A top-level spec table that a plugin adds (``[privacy]``, ``[feedback]``, ...)."""

    name: str
    schema: type
    doc: str = ""


# ------------------------------------------------------------------ generation
class BlockData(Protocol):
    """What a generator produces for one block."""

    def tables(self) -> Mapping[str, pa.Table]:
        """Arrow tables by part: ``""`` is ``<block>.parquet``, ``"edges"`` is ``<block>.edges.parquet``."""
        ...

    def write_extra(self, directory: Path, block: str) -> Sequence[Path]:
        """Write the modality's other files (SPMF text, ...) into ``directory``."""
        ...


# Optional methods of BlockData, looked up with getattr:
#   rows() -> Mapping[str, int]          rows per part without materialising tables()
#   schema(part) -> pa.Schema            the part's columns without making rows
#   batches(part) -> Iterator[pa.RecordBatch]
#                                        the part's rows in order, a chunk at a time, without
#                                        materialising (evaluators read it via BlockTables;
#                                        it needs rows() to stream)
#   write_parquet(directory, block)      write the Parquet parts itself (e.g. chunk by chunk,
#                                        so memory stays bounded); then tables() is only called
#                                        when an evaluator or the Python API asks for a table.


@frozen
class TableData:
    """A block that is one Arrow table and nothing else."""

    table: pa.Table

    def tables(self) -> Mapping[str, pa.Table]:
        return {"": self.table}

    def write_extra(self, directory: Path, block: str) -> Sequence[Path]:
        return ()


@frozen(kw_only=True)
class BlockContext:
    """Everything a generator may use besides its block spec.

    ``source`` names the spec file, for errors found while generating
    (``InputError.one(ctx.source, f"blocks.{ctx.block}.source", ...)``).

    ``effective`` maps a pattern id to the target the feedback controller currently
    asks the generator to aim for (equal to the spec's target on the first pass), and
    ``id#quantity`` to the aim of a further quantity (:meth:`medmgen.ledger.Pattern.quantities`).
    A record the generator only makes while generating (a drift, with ``<drift id>#before``
    and ``#after``) has its keys from the second pass on: read them with
    ``effective.get(key, target)``.

    ``data_dir`` is the ``data/`` directory of the package being built when ``generate``
    writes one (else None). A generator may write its block's files there during a pass,
    under names starting with ``.``, and give them their final names in ``write_parquet``
    (a rename); the core removes any ``.``-file left there before hashing the package.
    """

    block: str
    root_seed: int
    spec_dir: Path
    source: str = "spec"
    iteration: int = 0
    effective: Mapping[str, float] = attrs.field(factory=dict)
    workers: int = 1
    progress: Progress = attrs.field(factory=NullProgress)
    data_dir: Path | None = None

    def rng(self, stage: int, *index: int) -> np.random.Generator:
        return seeds.rng(self.root_seed, self.block, stage, *index)

    def seed_sequence(self, stage: int, *index: int) -> np.random.SeedSequence:
        return seeds.stream(self.root_seed, self.block, stage, *index)

    def aim(self, pattern: Pattern, quantity: str | None = None) -> float | None:
        """The target to aim for this pass: the controller's, else the pattern's own.

        ``quantity`` picks one of the pattern's further planted quantities (``also``,
        e.g. a rule's ``"support"``); the default is its main one.
        """
        if quantity is None or quantity == pattern.quantity:
            return self.effective.get(pattern.id, pattern.target())
        for q, key, target, _ in pattern.quantities():
            if q == quantity:
                return self.effective.get(key, target)
        return None

    def resolve(self, path: str) -> Path:
        """A path from the spec, relative to the spec file's directory."""
        p = Path(path).expanduser()
        return p if p.is_absolute() else self.spec_dir / p


@frozen(kw_only=True)
class BlockResult:
    """One pass of a generator: the data, the plan with realized values, extra metrics."""

    data: Any
    patterns: list[Pattern] = attrs.field(factory=list)
    accidental: list[Pattern] = attrs.field(factory=list)
    metrics: dict[str, Any] = attrs.field(factory=dict)


class Generator(abc.ABC):
    """A modality kernel that plants ledger patterns into base data.

    Subclasses set ``modality``, ``name`` and ``config`` (a frozen attrs subclass of
    :class:`BlockSpec`), and ``default = True`` for the modality's default generator.
    ``steers = False`` says the output ignores ``ctx.aim`` (a baseline): the core then
    generates the block once instead of on every feedback pass.
    """

    modality: ClassVar[str]
    name: ClassVar[str]
    config: ClassVar[type[BlockSpec]]
    default: ClassVar[bool] = False
    steers: ClassVar[bool] = True
    description: ClassVar[str] = ""

    def plan(self, block: Any, ctx: BlockContext) -> list[Pattern]:
        """The patterns to plant, with targets and no realized values yet."""
        return []

    @abc.abstractmethod
    def generate(self, block: Any, plan: Sequence[Pattern], ctx: BlockContext) -> BlockResult:
        """Make the block's data and count every planted pattern's realized value."""

    @classmethod
    def fit_block(cls, source: Path) -> dict[str, Any]:
        """Learn a ``[blocks.NAME]`` table from a real data file (``medmgen fit``).

        Generators that can fit to real data override this; the returned mapping must
        validate as ``config``.
        """
        raise NotImplementedError(f"{cls.modality}/{cls.name} cannot fit to real data")

    def records(self, block: Any) -> int | None:
        """How many records the block will have (for progress and summaries)."""
        return getattr(block, "records", None)


# --------------------------------------------------------------------- repair
@frozen(kw_only=True)
class RepairReport:
    """What one repairer did to one block."""

    repairer: str
    checked: int = 0
    violations: int = 0
    repaired: int = 0
    rejected: int = 0
    details: dict[str, Any] = attrs.field(factory=dict)


class Repairer(abc.ABC):
    """Checks constraints on a block and fixes or rejects what violates them.

    It must update each affected pattern in the result (status, realized value and
    a :class:`medmgen.ledger.Event`), so no ground truth disappears without a word.
    """

    name: ClassVar[str]
    modalities: ClassVar[tuple[str, ...]] = ("*",)

    def applies(self, block: Any) -> bool:
        return True

    @abc.abstractmethod
    def repair(self, block: Any, result: BlockResult, ctx: BlockContext) -> tuple[BlockResult, RepairReport]:
        """Return the repaired result and a report of what was done."""


# ----------------------------------------------------------------- evaluation
@frozen(kw_only=True)
class Threshold:
    """A ``[thresholds]`` key an evaluator judges: ``metric`` must be ``<=`` (or ``>=``) ``default``."""

    name: str
    metric: str
    default: float
    op: str = "<="
    doc: str = ""
    feedback: bool = False

    def holds(self, value: float | None, limit: float) -> bool:
        """Whether ``value`` meets ``limit``; a value equal to it up to float rounding does
        (``0.05 - 0.049`` is ``0.0010000000000000009``, a deviation of exactly 0.001)."""
        if value is None or at_limit(value, limit):
            return True
        return value <= limit if self.op == "<=" else value >= limit


@frozen(kw_only=True)
class Evaluation:
    """What evaluators see: the resolved spec, the ledger, each block's tables, a real file.

    ``against`` is the ``medmgen evaluate --against`` file. An evaluator that compares a block
    with it takes it through :meth:`use_against` (or :meth:`real_files`), which records the
    block in ``against_used``; when the evaluators are done and no block took the file, the
    core reports it as an input error rather than ignoring it.
    """

    spec: Any
    ledger: Any
    # block -> BlockTables: ``[part]`` is the whole table; ``batches``/``head``/``rows`` stream.
    tables: LazyTables = attrs.field(converter=as_lazy_tables)
    against: Path | None = None
    iteration: int | None = None
    # block -> its generator's metrics (the report's ``metrics.blocks``), e.g. ``accidental_found``
    block_metrics: Mapping[str, Mapping[str, Any]] = attrs.field(factory=dict)
    # the blocks compared with ``against`` so far (filled by :meth:`use_against`)
    against_used: set[str] = attrs.field(factory=set, eq=False)

    def use_against(self, block: str) -> Path:
        """The ``--against`` file, recorded as the real data ``block`` is compared with."""
        if self.against is None:
            raise ValueError("no --against file to use")
        self.against_used.add(block)
        return Path(self.against)

    def real_files(self, modality: str, against: Path | None) -> Iterator[tuple[str, Path]]:
        """``(block, real file)`` of each ``modality`` block with data: ``against`` (the
        ``--against`` file, when the calling evaluator's modality claims it; each block it is
        yielded for is recorded in ``against_used``), else the block's ``source``, relative to
        the spec's directory as generators read it. Blocks with neither are left out; a file
        that is not there is an input error naming the key."""
        for name, block in self.spec.blocks.items():
            tables = self.tables.get(name)
            if getattr(block, "modality", None) != modality or tables is None or "" not in tables:
                continue
            source = getattr(block, "source", None)
            if against is not None:
                path, where = Path(against), "--against"
                self.against_used.add(name)
            elif source:
                path, where = Path(source).expanduser(), f"blocks.{name}.source"
                path = path if path.is_absolute() else Path(self.spec.directory) / path
            else:
                continue
            if not path.is_file():
                raise InputError.one(str(path), "", f"the real file to compare block {name!r} with is not found "
                                     f"({where})")
            yield name, path


class Evaluator(abc.ABC):
    """Computes metrics for a dataset; may declare thresholds that judge them.

    ``in_loop = True`` evaluators are cheap and run on every feedback iteration; the
    rest run once on the final data. ``takes_against`` says which ``--against`` file the
    evaluator compares with (e.g. ``"a table (CSV, Parquet) for tabular blocks"``; empty:
    none), for the error when no evaluator takes the file given.
    """

    name: ClassVar[str]
    thresholds: ClassVar[tuple[Threshold, ...]] = ()
    in_loop: ClassVar[bool] = False
    takes_against: ClassVar[str] = ""

    def applies(self, evaluation: Evaluation) -> bool:
        return True

    @abc.abstractmethod
    def evaluate(self, evaluation: Evaluation) -> dict[str, Any]:
        """A mapping of metric name to value (JSON-serialisable; numbers are compared and plotted)."""

    def figures(self, evaluation: Evaluation, metrics: Mapping[str, Any]) -> list[tuple[str, str]]:
        """``(title, html)`` sections for ``report.html`` (inline SVG from :mod:`medmgen.plots`).

        Must be deterministic: no timestamps, no random ids.
        """
        return []

    def tables(self, evaluation: Evaluation, metrics: Mapping[str, Any]) -> dict[str, pa.Table]:
        """Per-record results saved in the package as ``evaluation/<evaluator>/<name>.parquet``."""
        return {}


# -------------------------------------------------------------------- privacy
@frozen(kw_only=True)
class PrivacyStep:
    """One ``[[privacy.steps]]`` entry; a mechanism's config class extends it."""

    mechanism: str = setting(doc="Name of a registered privacy mechanism.")
    block: str = setting(doc="The block the mechanism is applied to.")


class Mechanism(abc.ABC):
    """A differential-privacy mechanism with a zCDP cost known before it runs."""

    name: ClassVar[str]
    config: ClassVar[type[PrivacyStep]] = PrivacyStep

    @abc.abstractmethod
    def rho(self, step: Any) -> float:
        """The zCDP cost of one application, computed from the step's parameters alone."""

    @abc.abstractmethod
    def apply(self, step: Any, result: BlockResult, ctx: BlockContext) -> BlockResult:
        """Privatise the block; update affected patterns in the result's ledger."""

"""A small plugin used by the core's tests: two generators, a repairer, a mechanism.

It is installed for the tests the way any plugin is, through a ``medmgen`` entry point
(see ``conftest.py``), so the CLI and the registry find it with no special path.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
from attrs import evolve, frozen

from medmgen import hookimpl
from medmgen.errors import InputError, Problem
from medmgen.fields import setting
from medmgen.interfaces import (
    BlockResult,
    BlockSpec,
    Evaluator,
    Generator,
    Mechanism,
    PrivacyStep,
    Repairer,
    RepairReport,
)
from medmgen.ledger import Event, Pattern
from medmgen.seeds import DATA


@frozen(kw_only=True)
class Rate(Pattern):
    kind = "rate"
    quantity, target_field, realized_field = "support", "target_support", "realized_support"
    target_support: float
    realized_support: float | None = None


@frozen(kw_only=True)
class ToyBlock(BlockSpec):
    records: int = setting(1000, doc="Rows.", ge=1, le=10_000_000)
    rates: list[float] = setting(factory=lambda: [0.3], doc="Target rate of each flag column.", gt=0, le=1)
    cap: float = setting(1.0, doc="Repair caps each rate at this value.", gt=0, le=1)
    pause: float = setting(0.0, doc="Seconds to sleep while writing (tests interruption).", ge=0)
    fail: bool = setting(False, doc="Raise inside generate (tests plugin errors).")
    source: str | None = setting(None, doc="A text file of rates, one per line (replaces rates).")

    def check(self):
        return [Problem("rates", "needs at least one rate", "a non-empty array", self.rates)] if not self.rates else []


@frozen
class ToyData:
    flags: np.ndarray
    pause: float = 0.0

    def tables(self):
        return {"": pa.table({f"f{i}": self.flags[:, i] for i in range(self.flags.shape[1])})}

    def write_extra(self, directory: Path, block: str):
        path = directory / f"{block}.txt"
        with path.open("w") as f:
            f.write("\n".join("".join("1" if v else "0" for v in row) for row in self.flags))
            f.flush()
            os.fsync(f.fileno())
        if self.pause:
            time.sleep(self.pause)
        return [path]


def _plan(block, ctx):
    rates = block.rates
    if block.source is not None:
        path = ctx.resolve(block.source)
        if not path.is_file():
            raise InputError.one(ctx.source, f"blocks.{ctx.block}.source", "file not found", "a file", block.source)
        rates = [float(line) for line in path.read_text().split()]
    return [Rate(id=f"{ctx.block}/rate/{i}", block=ctx.block, target_support=r) for i, r in enumerate(rates)]


def _result(block, plan, flags):
    realized = [evolve(p, realized_support=float(flags[:, i].mean())) for i, p in enumerate(plan)]
    return BlockResult(data=ToyData(flags, block.pause), patterns=realized)


class Exact(Generator):
    """Exactly round(aim * N) ones per column."""

    modality, name, config, default = "toy", "exact", ToyBlock, True

    def plan(self, block, ctx):
        return _plan(block, ctx)

    def generate(self, block, plan, ctx):
        if block.fail:
            raise RuntimeError("toy failure")
        rng = ctx.rng(DATA)
        cols = [rng.permutation(np.arange(block.records) < round(ctx.aim(p) * block.records)) for p in plan]
        return _result(block, plan, np.stack(cols, axis=1))


class Noisy(Generator):
    """Independent Bernoulli(aim) flags: realized misses the target unless fed back."""

    modality, name, config = "toy", "noisy", ToyBlock

    def plan(self, block, ctx):
        return _plan(block, ctx)

    def generate(self, block, plan, ctx):
        u = ctx.rng(DATA).random((block.records, len(plan)))
        aims = np.array([ctx.aim(p) for p in plan])
        return _result(block, plan, u < aims)


class Frozen(Noisy):
    """Noisy flags that ignore the controller's aims (a baseline that does not steer)."""

    name, steers = "frozen", False
    calls = 0

    def generate(self, block, plan, ctx):
        type(self).calls += 1
        u = ctx.rng(DATA).random((block.records, len(plan)))
        return _result(block, plan, u < np.array([p.target() for p in plan]))


class Cap(Repairer):
    """Clears flags above ``cap``; records what it did to each pattern."""

    name = "toy_cap"
    modalities = ("toy",)

    def applies(self, block):
        return block.cap < 1.0

    def repair(self, block, result, ctx):
        flags = result.data.flags.copy()
        limit = round(block.cap * block.records)
        patterns, cleared = [], 0
        for i, p in enumerate(result.patterns):
            on = np.flatnonzero(flags[:, i])
            if len(on) > limit:
                flags[on[limit:], i] = False
                cleared += len(on) - limit
                after = float(flags[:, i].mean())
                p = evolve(p, realized_support=after).with_event(
                    Event(stage="repair", action="toy_cap cleared flags", before=p.realized(), after=after))
            patterns.append(p)
        report = RepairReport(repairer=self.name, checked=flags.size, violations=cleared, repaired=cleared)
        return evolve(result, data=ToyData(flags, block.pause), patterns=patterns), report


@frozen(kw_only=True)
class NoiseStep(PrivacyStep):
    rho: float = setting(0.1, doc="zCDP cost.", gt=0)


class ToyNoise(Mechanism):
    """Declares a cost; applying it marks every pattern of the block as weakened."""

    name, config = "toy_noise", NoiseStep

    def rho(self, step):
        return step.rho

    def apply(self, step, result, ctx):
        pats = [p.with_event(Event(stage="privacy", action="toy_noise"), status="weakened") for p in result.patterns]
        return evolve(result, patterns=pats)


class FlagCounts(Evaluator):
    """Ones per column; also saves the per-row count of set flags as a table."""

    name = "toy_counts"

    def applies(self, evaluation):
        return any(b.modality == "toy" for b in evaluation.spec.blocks.values())

    def evaluate(self, evaluation):
        return {name: int(sum(c.to_numpy().sum() for c in t[""].columns))
                for name, t in evaluation.tables.items() if evaluation.spec.blocks[name].modality == "toy"}

    def tables(self, evaluation, metrics):
        out = {}
        for name, parts in evaluation.tables.items():
            if evaluation.spec.blocks[name].modality == "toy":
                out[name] = pa.table({"ones": sum(c.to_numpy().astype(np.int64) for c in parts[""].columns)})
        return out


@hookimpl
def medmgen_evaluators():
    return [FlagCounts]


@hookimpl
def medmgen_generators():
    return [Exact, Noisy, Frozen]


@hookimpl
def medmgen_ledger_kinds():
    return [Rate]


@hookimpl
def medmgen_repairers():
    return [Cap]


@hookimpl
def medmgen_privacy():
    return [ToyNoise]

"""Run a spec: plan, then generate -> repair -> privacy -> evaluate under the feedback loop."""

from __future__ import annotations

import math
import resource
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs
import numpy as np
from attrs import frozen

from medmgen import feedback
from medmgen.block_tables import LazyTables
from medmgen.errors import InputError, MedmgenError, PluginError
from medmgen.interfaces import BlockContext, BlockResult, Evaluation, Generator, Threshold
from medmgen.ledger import STATUSES, Ledger, Pattern, carry_statuses, status_for
from medmgen.plugins import Registry
from medmgen.privacy import check_budget
from medmgen.progress import NullProgress, Progress
from medmgen.spec import Spec
from medmgen.workers import set_threads

REPORT_FORMAT = "medmgen.report/1"


@frozen(kw_only=True)
class RunResult:
    """A generated dataset in memory: data per block, ledger, report and cost."""

    spec: Spec
    ledger: Ledger
    blocks: dict[str, BlockResult]
    report: dict[str, Any]
    figures: list[tuple[str, str, str]] = attrs.field(factory=list)
    files: dict[str, Any] = attrs.field(factory=dict)

    @property
    def passed(self) -> bool:
        return bool(self.report["passed"])


class _Cost:
    def __init__(self) -> None:
        self.stages: dict[str, dict[str, float]] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            entry = self.stages.setdefault(name, {"wall_s": 0.0, "peak_rss_mb": 0.0})
            entry["wall_s"] = round(entry["wall_s"] + time.perf_counter() - start, 4)
            entry["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


@contextmanager
def _plugin_call(what: str) -> Iterator[None]:
    try:
        yield
    except MedmgenError:
        raise
    except Exception as exc:
        raise PluginError(f"{what} failed: {type(exc).__name__}: {exc}") from exc


def evaluate_all(
    registry: Registry, evaluation: Evaluation, in_loop_only: bool = False, figures: list | None = None,
    files: dict | None = None,
) -> dict[str, dict[str, Any]]:
    """Run the registered evaluators; collect report figures and per-record tables if asked.

    An ``evaluation.against`` file that no evaluator compared a block with is an input error
    (see :func:`check_against_used`), raised before anything is printed or written.
    """
    metrics = {}
    for name, cls in sorted(registry.evaluators.items()):
        if in_loop_only and not cls.in_loop:
            continue
        ev = cls()
        with _plugin_call(f"evaluator {name!r}"):
            if ev.applies(evaluation):
                metrics[name] = _finite(ev.evaluate(evaluation))
                if figures is not None:
                    figures.extend((name, title, body) for title, body in ev.figures(evaluation, metrics[name]))
                if files is not None:
                    for key, table in ev.tables(evaluation, metrics[name]).items():
                        files[f"evaluation/{name}/{key}.parquet"] = table
    if not in_loop_only:
        check_against_used(registry, evaluation)
    return metrics


def check_against_used(registry: Registry, evaluation: Evaluation) -> None:
    """Raise an :class:`InputError` when ``evaluation.against`` is set but no evaluator took it
    (``against_used`` is empty): the file, what the installed evaluators take, what the package holds."""
    if evaluation.against is None or evaluation.against_used:
        return
    by_form: dict[str, list[str]] = {}
    for name, cls in sorted(registry.evaluators.items()):
        if cls.takes_against:
            by_form.setdefault(cls.takes_against, []).append(name)
    takes = [f"{form} [{', '.join(names)}]" for form, names in sorted(by_form.items())]
    held = sorted({getattr(b, "modality", "?") for b in evaluation.spec.blocks.values()})
    raise InputError.one(
        str(evaluation.against), "--against",
        "no evaluator compares this package's blocks with this file: nothing was compared",
        "one of: " + "; ".join(takes) if takes else "none: no installed evaluator compares with a real file",
        "blocks of modality " + ", ".join(held) if held else "no blocks")


def _finite(value: Any) -> Any:
    """``value`` with every NaN or infinite float (a metric that cannot be computed, such as
    a distance between empty histograms) replaced by None: JSON has no NaN. Applied to each
    evaluator's metrics (before thresholds) and to the whole report."""
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _lookup(metrics: Mapping[str, Mapping[str, Any]], dotted: str) -> Any:
    ev, _, key = dotted.partition(".")
    return metrics.get(ev, {}).get(key)


def check_thresholds(
    spec: Spec, registry: Registry, metrics: Mapping[str, Mapping[str, Any]], feedback_only: bool = False
) -> list[dict[str, Any]]:
    known: dict[str, Threshold] = registry.thresholds()
    checks = []
    for name, limit in sorted(spec.thresholds.items()):
        t = known.get(name)
        if t is None or (feedback_only and not t.feedback):
            continue
        value = _lookup(metrics, t.metric)
        checks.append({"name": name, "metric": t.metric, "op": t.op, "limit": limit,
                       "value": value, "held": t.holds(value, limit), "measured": value is not None})
    return checks


def _miss(checks: list[dict[str, Any]]) -> tuple[float, ...]:
    """How far a pass is from its feedback thresholds: every value/limit ratio, worst first
    (compared in order, so a tie on the worst is broken by the next; lower is better)."""
    ratios = []
    for c in checks:
        value, limit = c["value"], c["limit"]
        if value is None:
            continue
        if c["op"] == "<=":
            ratio = value / limit if limit > 0 else (0.0 if value <= 0 else float("inf"))
        else:
            ratio = limit / value if value > 0 else float("inf")
        ratios.append(ratio)
    return tuple(sorted(ratios, reverse=True))


def _spread(patterns: list[Pattern], tolerances: Mapping[str, float]) -> tuple[float, ...]:
    """Every judged quantity's deviation over its tolerance, worst first: breaks a tie of
    :func:`_miss` (one quantity stuck off target on every pass) by how close the others are."""
    ratios = [abs(r - t) / tolerances[q] for p in patterns for q, _, t, r in p.quantities()
              if t is not None and r is not None and tolerances.get(q, 0) > 0]
    return tuple(sorted(ratios, reverse=True))


def _final_status(p: Pattern, tolerances: Mapping[str, float]) -> Pattern:
    computed = status_for(p, tolerances)
    worst = max(p.status, computed, key=STATUSES.index)
    return p if worst == p.status else attrs.evolve(p, status=worst)


def plan_all(spec: Spec, registry: Registry, *, workers: int = 1, progress: Progress | None = None,
             ) -> tuple[dict[str, Generator], dict[str, list[Pattern]]]:
    """Each block's generator and plan (source files read, random patterns drawn, feasibility
    checked): what ``medmgen validate`` runs after parsing, and the first step of :func:`run`."""
    gens: dict[str, Generator] = {}
    plans: dict[str, list[Pattern]] = {}
    errors: list[InputError] = []
    for name, block in spec.blocks.items():
        cls = registry.generator(block.modality, block.generator)
        assert cls is not None
        gens[name] = cls()
        ctx = BlockContext(block=name, root_seed=spec.dataset.seed, spec_dir=spec.directory, source=spec.source,
                           workers=workers, progress=progress or NullProgress())
        try:  # every block's problems (a missing source here, a bad pattern there) at once
            with _plugin_call(f"generator {cls.modality}/{cls.name} planning block {name!r}"):
                plans[name] = list(gens[name].plan(block, ctx))
        except InputError as exc:
            errors.append(exc)
    if errors:
        raise InputError.combine(errors)
    _check_unique_ids([p for plan in plans.values() for p in plan], spec.source)
    return gens, plans


def run(
    spec: Spec,
    registry: Registry,
    *,
    workers: int = 1,
    progress: Progress | None = None,
    data_dir: Path | None = None,
) -> RunResult:
    """Generate every block of ``spec`` under the feedback loop and evaluate the result.

    ``data_dir``: where the package's data files will go (``BlockContext.data_dir``).
    """
    progress = progress or NullProgress()
    set_threads(workers)
    cost = _Cost()
    check_budget(spec, registry.mechanisms, spec.source)
    root = spec.dataset.seed
    with cost.stage("plan"):
        gens, plans = plan_all(spec, registry, workers=workers, progress=progress)
    all_planned = [p for plan in plans.values() for p in plan]
    controller = feedback.Controller.start(all_planned, spec.feedback.gain)
    effective = dict(controller.effective)
    iterations: list[dict[str, Any]] = []
    max_iter = spec.feedback.max_iterations
    results: dict[str, BlockResult] = {}
    ledger = Ledger(seed=root)
    best: tuple[tuple[tuple[float, ...], tuple[float, ...]], int, dict[str, BlockResult], Ledger] | None = None
    tolerances = spec.tolerances()
    held = False
    # where each block may write its files while it is made (never for a block changed afterwards)
    block_dirs = {name: data_dir if _untouched(spec, registry, name, block) else None
                  for name, block in spec.blocks.items()}
    for it in range(max_iter):
        previous, results = results, {}
        for name, block in spec.blocks.items():
            if it > 0 and not gens[name].steers:
                results[name] = previous[name]  # same seeds, same aims ignored: same output
                continue
            ctx = BlockContext(block=name, root_seed=root, spec_dir=spec.directory, source=spec.source,
                               iteration=it, effective=effective, workers=workers, progress=progress,
                               data_dir=block_dirs[name])
            gen = gens[name]
            task = progress.task(f"{name}: pass {it + 1}", total=1)
            with cost.stage("generate"), _plugin_call(f"generator {gen.modality}/{gen.name} on block {name!r}"):
                result = gen.generate(block, plans[name], ctx)
            task.advance(1)
            with cost.stage("repair"):
                result = _repair(registry, name, block, result, ctx)
            with cost.stage("privacy"):
                result = _privatise(spec, registry, name, result, ctx)
            results[name] = result
        ledger = Ledger(seed=root, patterns=[p for r in results.values() for p in r.patterns],
                        accidental=[p for r in results.values() for p in r.accidental])
        with cost.stage("evaluate"):
            loop_metrics = evaluate_all(registry, Evaluation(spec=spec, ledger=ledger, tables={}, iteration=it,
                                                             block_metrics=_block_metrics(results)), True)
        checks = check_thresholds(spec, registry, loop_metrics, feedback_only=True)
        held = all(c["held"] for c in checks)
        iterations.append({
            "iteration": it,
            "max_deviation": feedback.max_deviation_by_quantity(ledger.patterns),
            "held": held,
        })
        miss = (_miss(checks), _spread(ledger.patterns, tolerances))
        closer = best is None or miss < best[0]
        if closer:
            best = (miss, it, results, ledger)
        if held or it == max_iter - 1 or not effective or not any(g.steers for g in gens.values()):
            break
        aims = controller.adjust(ledger.patterns)
        if aims == effective:  # every aim pinned at its bound: the same seeds and aims would repeat this pass
            break
        if not closer and _worst_pinned(checks, loop_metrics, aims, effective):
            break  # the checks cannot hold, and the other patterns stopped coming closer
        effective = aims
    if not held and best is not None:  # thresholds never held: keep the pass that came closest
        _, chosen, results, ledger = best
    else:
        chosen = len(iterations) - 1

    ledger = attrs.evolve(ledger, patterns=carry_statuses([_final_status(p, tolerances) for p in ledger.patterns]))
    tables = LazyTables({name: r.data for name, r in results.items()})
    block_metrics = _block_metrics(results)
    with cost.stage("evaluate"):
        figures: list[tuple[str, str, str]] = []
        files: dict[str, Any] = {}
        metrics = evaluate_all(registry, Evaluation(spec=spec, ledger=ledger, tables=tables,
                                                    block_metrics=block_metrics), figures=figures, files=files)
    if block_metrics:
        metrics.setdefault("blocks", {}).update(block_metrics)
    checks = check_thresholds(spec, registry, metrics)
    report = {
        "format": REPORT_FORMAT,
        "dataset": spec.dataset.name,
        "seed": root,
        "passed": all(c["held"] for c in checks),
        "thresholds": checks,
        "iterations": iterations,
        "chosen_iteration": chosen,
        "metrics": metrics,
        "blocks": {name: {"modality": b.modality, "generator": b.generator,
                          "rows": {part or "main": n for part, n in tables[name].row_counts().items()}}
                   for name, b in spec.blocks.items()},
        "cost": {"stages": cost.stages},
    }
    return RunResult(spec=spec, ledger=ledger, blocks=results, report=_finite(report), figures=figures, files=files)


def _block_metrics(results: Mapping[str, BlockResult]) -> dict[str, dict[str, Any]]:
    """Each block's generator metrics (the report's ``metrics.blocks``), for the evaluators."""
    return {name: r.metrics for name, r in results.items() if r.metrics}


def worst_key(metrics: Mapping[str, Any], metric: str) -> str | None:
    """The key an evaluator names beside a metric (``<metric>_at``, e.g. the pattern or drift
    segment of ``spec_error.max_support_deviation``), or None."""
    evaluator, _, name = metric.partition(".")
    value = metrics.get(evaluator, {}).get(f"{name}_at")
    return value if isinstance(value, str) else None


def _worst_pinned(checks: list[dict[str, Any]], metrics: Mapping[str, Any], aims: Mapping[str, float],
                  effective: Mapping[str, float]) -> bool:
    """Whether every failing check's :func:`worst_key` (a pattern id, or a drift segment's
    ``<id>#after``) has an aim the controller left where it was, clipped at its bound (a
    target under the background's floor: nothing planted, still above it)."""
    worst = [worst_key(metrics, c["metric"]) for c in checks if not c["held"]]
    return bool(worst) and all(k in aims and aims[k] == effective.get(k) for k in worst)


def _check_unique_ids(patterns: list[Pattern], source: str) -> None:
    seen: set[str] = set()
    for p in patterns:
        if p.id in seen:
            raise InputError.one(source, f"blocks.{p.block}", "two planted patterns share an id", "unique ids", p.id)
        seen.add(p.id)


def _untouched(spec: Spec, registry: Registry, name: str, block: Any) -> bool:
    """No repairer or privacy step changes the block's data after its generator: only then
    may the generator write its files while it makes the data (``BlockContext.data_dir``)."""
    if any(step.block == name for step in spec.privacy_steps):
        return False
    return not any(("*" in cls.modalities or block.modality in cls.modalities) and cls().applies(block)
                   for cls in registry.repairers.values())


def _repair(registry: Registry, name: str, block: Any, result: BlockResult, ctx: BlockContext) -> BlockResult:
    reports = []
    for rname, cls in sorted(registry.repairers.items()):
        if "*" not in cls.modalities and block.modality not in cls.modalities:
            continue
        rep = cls()
        with _plugin_call(f"repairer {rname!r} on block {name!r}"):
            if not rep.applies(block):
                continue
            result, report = rep.repair(block, result, ctx)
        reports.append(attrs.asdict(report))
    if not reports:
        return result
    return attrs.evolve(result, metrics={**result.metrics, "repairs": reports})


def _privatise(spec: Spec, registry: Registry, name: str, result: BlockResult, ctx: BlockContext) -> BlockResult:
    for i, step in enumerate(spec.privacy_steps):
        if step.block != name:
            continue
        mech = registry.mechanisms[step.mechanism]()
        with _plugin_call(f"privacy mechanism {step.mechanism!r} (privacy.steps[{i}])"):
            result = mech.apply(step, result, ctx)
    return result

"""Generator ``planted``: numeric/categorical columns with planted class rules, clusters and anomalies.

Order of work: base noise (seeded per fixed-size chunk) -> clusters -> context shift ->
anomalies -> labels from the rules -> label noise -> missing cells. Every realized
value in the ledger is then counted from the final table, and counted again after the
block's constraints are repaired (:func:`recount_planted`).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
from attrs import evolve

from medmgen import seeds
from medmgen.interfaces import BlockContext, BlockResult, Generator
from medmgen.ledger import Event, Pattern
from medmgen_tabular.data import TabularData
from medmgen_tabular.kinds import Anomaly, ClassRule, Cluster
from medmgen_tabular.spec import Condition, PlantedBlock, datetime_span

_OPS = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal, "==": np.equal,
        "!=": np.not_equal}


def rule_text(when: Sequence[Condition]) -> str:
    return " and ".join(c.text() for c in when)


def matches(columns: dict[str, np.ndarray], when: Sequence[Condition]) -> np.ndarray:
    """Rows where every condition holds (a missing value never matches)."""
    n = len(next(iter(columns.values())))
    ok = np.ones(n, dtype=bool)
    for c in when:
        with np.errstate(invalid="ignore"):
            ok &= _OPS[c.op](columns[c.column], c.value)
    return ok


def exact_counts(fractions: Sequence[float], total: int) -> np.ndarray:
    """Integer parts summing to ``total`` (largest remainder)."""
    raw = np.asarray(fractions, dtype=np.float64) * total
    out = np.floor(raw).astype(np.int64)
    rest = total - int(out.sum())
    out[np.argsort(-(raw - out), kind="stable")[:rest]] += 1
    return out


def spaced_centres(k: int, dims: int, separation: float, rng: np.random.Generator) -> np.ndarray:
    """``k`` random centres scaled so the closest two are exactly ``separation`` apart."""
    if k == 1:
        return np.zeros((1, dims))
    centres = rng.standard_normal((k, dims))
    gaps = np.linalg.norm(centres[:, None, :] - centres[None, :, :], axis=2)
    closest = gaps[np.triu_indices(k, 1)].min()
    return centres * (separation / closest)


class PlantedGenerator(Generator):
    """Ground truth for classification, clustering and anomaly-detection benchmarks."""

    modality = "tabular"
    name = "planted"
    config = PlantedBlock
    description = "Numeric/categorical table with planted class rules, clusters and anomalies."

    def plan(self, block: PlantedBlock, ctx: BlockContext) -> list[Pattern]:
        out: list[Pattern] = []
        target = 1.0 - block.label_noise
        for i, r in enumerate(block.class_rules):
            out.append(ClassRule(id=f"{ctx.block}/class_rule/{i}", block=ctx.block, rule=rule_text(r.when),
                                 columns=sorted({c.column for c in r.when}), label=r.label, target_accuracy=target,
                                 target_coverage=r.coverage))
        return out

    def generate(self, block: PlantedBlock, plan: Sequence[Pattern], ctx: BlockContext) -> BlockResult:
        n = block.records
        rng = ctx.rng(seeds.PLAN, 1)
        x = self._base(block, ctx)
        cats = self._categoricals(block, ctx)
        num = block.numeric_names()
        cols: dict[str, np.ndarray] = {name: x[:, j] for j, name in enumerate(num)}
        cols |= {name: cats[:, j].astype(np.float64) for j, name in enumerate(block.categorical_names())}
        clusters = self._clusters(block, cols, rng, ctx)
        anomalies = self._anomalies(block, cols, rng, ctx)
        labels, rules = self._labels(block, cols, rng)
        used = {c for p in plan if isinstance(p, ClassRule) for c in p.columns}
        used |= set(block.cluster_columns()) if block.clusters.count else set()
        used |= set(block.anomaly_columns()) if block.anomalies.rate > 0 else set()
        if block.anomalies.rate > 0 and "contextual" in block.anomalies.types:
            used |= {block.anomalies.context, block.context_column()}
        stamps = self._datetimes(block, ctx)
        masks = self._missing(block, [c for c in [*cols, *block.datetime_names()] if c not in used], rng)
        arrays, names = [], []
        categorical = set(block.categorical_names())
        for name, values in cols.items():
            mask = masks.get(name)
            if name in categorical:
                arrays.append(pa.array(values.astype(np.int64), mask=mask))
            else:
                arrays.append(pa.array(values, mask=mask))
            names.append(name)
        for j, name in enumerate(block.datetime_names()):
            arrays.append(pa.array(stamps[:, j], type=pa.timestamp("us"), mask=masks.get(name)))
            names.append(name)
        if block.class_rules:
            arrays.append(pa.array(labels))
            names.append(block.label)
        table = pa.table(arrays, names=names)
        patterns = self._count_rules(block, plan, rules, table)
        clusters = _count_clusters(clusters, anomalies, table)
        metrics: dict[str, Any] = {"generator": self.name, "rows": n}
        if block.class_rules:
            values, counts = np.unique(labels, return_counts=True)
            metrics["class_fractions"] = {str(int(v)): round(int(c) / n, 6) for v, c in zip(values, counts)}

        def recount(out: pa.Table, origin: np.ndarray, tainted: Mapping[str, np.ndarray],
                    found: list[Pattern]) -> list[Pattern]:
            return recount_planted(out, origin, tainted, found, lambda t, ps: self._count_rules(block, ps, rules, t))

        data = TabularData(table=table, csv=block.csv, recount=recount)
        return BlockResult(data=data, patterns=patterns + clusters + anomalies, metrics=metrics)

    # ---------------------------------------------------------------- pieces
    def _base(self, block: PlantedBlock, ctx: BlockContext) -> np.ndarray:
        """Correlated standard normals, one seed stream per fixed-size chunk."""
        p, n = block.numeric, block.records
        corr = np.full((p, p), block.correlation) + (1.0 - block.correlation) * np.eye(p)
        chol = np.linalg.cholesky(corr) if p else np.zeros((0, 0))
        out = np.empty((n, p))
        for i, start in enumerate(range(0, n, block.chunk_rows)):
            m = min(block.chunk_rows, n - start)
            out[start:start + m] = ctx.rng(seeds.DATA, i).standard_normal((m, p)) @ chol.T
        return out

    def _categoricals(self, block: PlantedBlock, ctx: BlockContext) -> np.ndarray:
        n, levels = block.records, np.asarray(block.categorical, dtype=np.int64)
        out = np.empty((n, len(levels)), dtype=np.int64)
        for i, start in enumerate(range(0, n, block.chunk_rows)):
            m = min(block.chunk_rows, n - start)
            out[start:start + m] = ctx.rng(seeds.DATA, i, 1).integers(0, levels, size=(m, len(levels)))
        return out

    def _datetimes(self, block: PlantedBlock, ctx: BlockContext) -> np.ndarray:
        """Uniform datetimes (microseconds) between start and end, one seed stream per chunk."""
        lo, hi = datetime_span(block.start, block.end)
        n, k = block.records, block.datetimes
        out = np.empty((n, k), dtype=np.int64)
        for i, start in enumerate(range(0, n, block.chunk_rows)):
            m = min(block.chunk_rows, n - start)
            out[start:start + m] = ctx.rng(seeds.DATA, i, 2).integers(lo, hi, size=(m, k), endpoint=True)
        return out

    def _clusters(self, block: PlantedBlock, cols: dict[str, np.ndarray], rng: np.random.Generator,
                  ctx: BlockContext) -> list[Pattern]:
        spec = block.clusters
        if not spec.count:
            return []
        names = block.cluster_columns()
        k, n = spec.count, block.records
        sizes = spec.sizes or [1.0 / k] * k
        assign = rng.permutation(np.repeat(np.arange(k), exact_counts(sizes, n)))
        centres = spaced_centres(k, len(names), spec.separation * spec.spread, rng)
        for j, name in enumerate(names):
            cols[name] = centres[assign, j] + spec.spread * cols[name]
        return [Cluster(id=f"{ctx.block}/cluster/{c}", block=ctx.block, cluster=c, columns=names,
                        centre=[round(float(v), 9) for v in centres[c]], spread=spec.spread,
                        target_size=float(sizes[c]), rows=np.flatnonzero(assign == c).tolist())
                for c in range(k)]

    def _anomalies(self, block: PlantedBlock, cols: dict[str, np.ndarray], rng: np.random.Generator,
                   ctx: BlockContext) -> list[Pattern]:
        spec = block.anomalies
        names = block.anomaly_columns()
        n = block.records
        contextual = "contextual" in spec.types and spec.rate > 0
        target = block.context_column() if contextual else ""
        if contextual:
            cols[target] = cols[target] + spec.context_shift * cols[spec.context]
        total = round(spec.rate * n)
        if not total:
            return []
        per_type = exact_counts([1.0 / len(spec.types)] * len(spec.types), total)
        free = rng.permutation(n)
        taken = 0
        x = np.column_stack([cols[c] for c in names])
        centre = x.mean(axis=0)
        radius = float(np.linalg.norm(x - centre, axis=1).max())
        out: list[Pattern] = []
        for t, count in zip(spec.types, per_type):
            if t == "collective":
                # count // group_size groups (at least one), sizes differing by at most one: exactly count rows
                groups = max(1, int(count) // spec.group_size)
                sizes = exact_counts([1.0 / groups] * groups, int(count))
                for g, size in enumerate(sizes):
                    rows = np.sort(free[taken:taken + int(size)])
                    taken += int(size)
                    point = centre + _unit(rng, len(names)) * radius * 1.1
                    x[rows] = point + 0.01 * rng.standard_normal((len(rows), len(names)))
                    out.append(Anomaly(id=f"{ctx.block}/anomaly/collective/{g}", block=ctx.block, anomaly=t,
                                       rows=rows.tolist(), columns=names,
                                       reason=f"{len(rows)} near-identical rows (sd 0.01) around a point "
                                              f"{radius * 1.1:.3g} from the data centre, beyond every normal row"))
                continue
            rows = np.sort(free[taken:taken + int(count)])
            taken += int(count)
            if not len(rows):
                continue
            if t == "global":
                scale = radius * rng.uniform(1.5, 2.5, size=len(rows))
                x[rows] = centre + _units(rng, len(rows), len(names)) * scale[:, None]
                reason = f"placed 1.5-2.5 times farther from the data centre than any normal row ({radius:.3g})"
            else:
                own = cols[spec.context][rows]
                levels = int(block.categorical[block.categorical_names().index(spec.context)])
                other = (own + rng.integers(1, levels, size=len(rows))) % levels
                cols[target][rows] += spec.context_shift * (other - own)
                reason = (f"{target} is typical for another level of {spec.context} (mean shifted by "
                          f"{spec.context_shift:g} per level) but not for the row's own level")
            out.append(Anomaly(id=f"{ctx.block}/anomaly/{t}", block=ctx.block, anomaly=t, rows=rows.tolist(),
                               columns=names if t == "global" else [target, spec.context], reason=reason))
        for j, c in enumerate(names):
            if not (contextual and c == target):
                cols[c] = x[:, j]
            else:  # the contextual shift went to cols directly; keep global/collective edits of this column
                edited = np.zeros(n, dtype=bool)
                for a in out:
                    if a.anomaly != "contextual":
                        edited[a.rows] = True
                cols[c] = np.where(edited, x[:, j], cols[c])
        return out

    def _labels(self, block: PlantedBlock, cols: dict[str, np.ndarray],
                rng: np.random.Generator) -> tuple[np.ndarray, list[list[Condition]]]:
        """Labels from the rules (first match wins), then exact label noise; also each rule's final conditions."""
        n = block.records
        labels = np.full(n, block.default_label, dtype=np.int64)
        free = np.ones(n, dtype=bool)
        groups, rules = [], []
        for r in block.class_rules:
            when = list(r.when)
            j = r.tuned()
            if j is not None:
                when[j] = evolve(when[j], value=_threshold(cols, when, j, free, round(r.coverage * n)))
            rules.append(when)
            hit = matches(cols, when) & free
            labels[hit] = r.label
            free &= ~hit
            groups.append(hit)
        classes = np.unique([block.default_label, *(r.label for r in block.class_rules)])
        if block.label_noise > 0 and len(classes) > 1:
            for g in [*groups, free]:
                rows = np.flatnonzero(g)
                flip = rng.permutation(rows)[: round(block.label_noise * len(rows))]
                shift = rng.integers(1, len(classes), size=len(flip))  # uniform over the other classes
                labels[flip] = classes[(np.searchsorted(classes, labels[flip]) + shift) % len(classes)]
        return labels, rules

    def _missing(self, block: PlantedBlock, names: list[str], rng: np.random.Generator) -> dict[str, np.ndarray]:
        if block.missing <= 0:
            return {}
        if not names:
            warnings.warn(f"missing = {block.missing}: every column is used by a planted pattern (rules, "
                          "clusters, anomalies), so no cell is left empty", stacklevel=2)
        return {c: rng.random(block.records) < block.missing for c in names}

    def _count_rules(self, block: PlantedBlock, plan: Sequence[Pattern], rules: list[list[Condition]],
                     table: pa.Table) -> list[Pattern]:
        """Coverage and accuracy of each rule, counted from the final table."""
        if not block.class_rules:
            return []
        cols = {c: table.column(c).to_numpy(zero_copy_only=False).astype(np.float64)
                for c in table.column_names if c != block.label}
        labels = table.column(block.label).to_numpy()
        free = np.ones(table.num_rows, dtype=bool)
        out = []
        for p, when in zip(plan, rules):
            hit = matches(cols, when) & free
            free &= ~hit
            covered = int(hit.sum())
            acc = float((labels[hit] == p.label).mean()) if covered else 0.0
            out.append(evolve(p, rule=rule_text(when), realized_accuracy=round(acc, 9),
                              realized_coverage=round(covered / len(labels), 9), rows_covered=covered))
        return out


def _threshold(cols: dict[str, np.ndarray], when: list[Condition], j: int, free: np.ndarray, k: int) -> float:
    """The value for condition ``j`` that makes the rule cover ``k`` of the ``free`` rows (fewer if it cannot).

    Candidate values are sorted so that the rows to include come first; the threshold
    is the midpoint between the ``k``-th and the next, or just outside the range.
    """
    c = when[j]
    pool = free & matches(cols, [w for i, w in enumerate(when) if i != j]) if len(when) > 1 else free
    x = cols[c.column][pool]
    x = np.sort(x[~np.isnan(x)])
    above = c.op in (">", ">=")
    if above:
        x = x[::-1]
    if len(x) == 0:
        return c.value
    k = min(k, len(x))
    outward = 1.0 if above else -1.0  # direction away from the included rows
    if k == 0:
        return float(x[0] + outward)
    if k == len(x):
        return float(x[-1] - outward)
    return round(float((x[k - 1] + x[k]) / 2.0), 9)


def _count_clusters(clusters: list[Pattern], anomalies: list[Pattern], table: pa.Table) -> list[Pattern]:
    """Each cluster's rows minus those turned into anomalies; size and centre counted from the table."""
    odd = np.array(sorted({r for a in anomalies for r in a.rows}), dtype=np.int64)
    out = []
    for c in clusters:
        rows = np.setdiff1d(np.asarray(c.rows, dtype=np.int64), odd)
        x = np.column_stack([table.column(name).to_numpy() for name in c.columns])[rows]
        centre = [round(float(v), 9) for v in x.mean(axis=0)] if len(rows) else None
        out.append(evolve(c, rows=rows.tolist(), realized_size=round(len(rows) / table.num_rows, 9),
                          realized_centre=centre))
    return out


def recount_planted(table: pa.Table, origin: np.ndarray, tainted: Mapping[str, np.ndarray],
                    patterns: list[Pattern],
                    count_rules: Callable[[pa.Table, list[Pattern]], list[Pattern]]) -> list[Pattern]:
    """The planted patterns after a constraint repair.

    Output row ``i`` sat at ``origin[i]``; a row ``tainted`` in one of a pattern's
    columns (replaced, or that value changed) no longer counts as a member of that
    cluster or as that planted anomaly. A pattern
    that lost rows is ``weakened`` (``destroyed`` when none are left), with an event;
    class rules are counted again on the repaired table.
    """
    where = np.full(int(origin.max()) + 1 if len(origin) else 0, -1, dtype=np.int64)
    where[origin] = np.arange(len(origin))
    rules = count_rules(table, [p for p in patterns if isinstance(p, ClassRule)])
    after = {p.id: p for p in rules}
    out: list[Pattern] = []
    for p in patterns:
        if isinstance(p, ClassRule):
            q = after[p.id]
            if (q.realized_accuracy, q.realized_coverage) != (p.realized_accuracy, p.realized_coverage):
                q = q.with_event(Event(stage="repair", action="rule counted again after constraint repair "
                                       f"(coverage {p.realized_coverage} -> {q.realized_coverage}); before/after: "
                                       "accuracy", before=p.realized_accuracy, after=q.realized_accuracy))
            out.append(q)
            continue
        if not isinstance(p, Cluster | Anomaly):
            out.append(p)
            continue
        old = np.asarray(p.rows, dtype=np.int64)
        pos = where[old[old < len(where)]]
        pos = np.sort(pos[pos >= 0])
        hit = np.logical_or.reduce([tainted[c][pos] for c in p.columns]) if len(pos) else np.zeros(0, dtype=bool)
        rows = pos[~hit]
        q = evolve(p, rows=rows.tolist())
        if isinstance(q, Cluster):
            q = _count_clusters([q], [], table)[0]
        if len(rows) < len(old):
            status = "destroyed" if len(rows) == 0 else "weakened"
            q = q.with_event(Event(stage="repair", action=f"{len(old) - len(rows)} rows replaced, changed or "
                                   "dropped by constraint repair", before=float(len(old)), after=float(len(rows))),
                             status=status)
        out.append(q)
    return out


def _unit(rng: np.random.Generator, dims: int) -> np.ndarray:
    v = rng.standard_normal(dims)
    return v / np.linalg.norm(v)


def _units(rng: np.random.Generator, n: int, dims: int) -> np.ndarray:
    v = rng.standard_normal((n, dims))
    return v / np.linalg.norm(v, axis=1, keepdims=True)

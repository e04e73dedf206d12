"""Config classes of ``[blocks.NAME]`` tables with ``modality = "tabular"``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from attrs import frozen

from medmgen.errors import Problem
from medmgen.fields import setting
from medmgen.interfaces import BlockSpec
from medmgen_tabular import custom
from medmgen_tabular.expression import parse_expression

CONSTRAINT_KINDS = ("range", "inequality", "fixed_combinations", "formula", "unique", "not_null",
                    "allowed_values", "custom")
ACTIONS = ("auto", "clip", "resample", "recompute", "reject")
# what each kind does with "auto", and which actions it accepts
DEFAULT_ACTION = {"range": "clip", "inequality": "reject", "fixed_combinations": "resample", "formula": "recompute",
                  "unique": "recompute", "not_null": "resample", "allowed_values": "resample", "custom": "reject"}
ALLOWED_ACTIONS = {"range": ("clip", "resample", "reject"), "inequality": ("reject",),
                   "fixed_combinations": ("resample", "reject"), "formula": ("recompute", "reject"),
                   "unique": ("recompute",), "not_null": ("resample", "reject"),
                   "allowed_values": ("resample", "reject"), "custom": ("recompute", "reject")}


@frozen(kw_only=True)
class Constraint:
    """One ``[[blocks.NAME.constraints]]`` entry; which keys apply depends on ``kind``."""

    kind: str = setting(doc="What must hold of every output row.", choices=CONSTRAINT_KINDS)
    column: str = setting("", doc="The constrained column (range, formula result, unique, not_null, "
                                  "allowed_values).")
    columns: list[str] = setting(factory=list, doc="fixed_combinations: columns whose joint values must be "
                                                   "a combination seen in the source.")
    low: float | None = setting(None, doc="range: smallest allowed value (inclusive).")
    high: float | None = setting(None, doc="range: largest allowed value (inclusive).")
    left: str = setting("", doc="inequality: the column that must be smaller.")
    right: str = setting("", doc="inequality: the column that must be larger.")
    strict: bool = setting(True, doc="inequality: left < right (true) or left <= right (false).")
    expression: str = setting("", doc="formula: column = expression, columns and numbers joined by + and - "
                                      "with spaces around them, e.g. \"a + b - 2\".")
    values: list[Any] = setting(factory=list, doc="allowed_values: the values the column may take.")
    name: str = setting("", doc="custom: the registered name of a third-party constraint class (entry point "
                                "group medmgen_tabular.constraints).")
    params: dict[str, Any] = setting(factory=dict, doc="custom: settings passed to the constraint class.")
    action: str = setting("auto", doc="How violations are repaired: clip, resample (a compliant value of the "
                                      "same column; fixed_combinations: the other columns redrawn from the "
                                      "source's combinations with the row's value of the most varied column), "
                                      "recompute (formula, unique, custom: the class's own "
                                      "repair), reject (the row is replaced by a compliant generated row); auto "
                                      "picks per kind (custom: reject).", choices=ACTIONS)

    def resolved_action(self) -> str:
        return DEFAULT_ACTION[self.kind] if self.action == "auto" else self.action

    def named_columns(self) -> list[tuple[str, str]]:
        """``(key, column)`` pairs of every column this constraint names."""
        out = [("column", self.column)] if self.column else []
        out += [(f"columns[{i}]", c) for i, c in enumerate(self.columns)]
        out += [(k, getattr(self, k)) for k in ("left", "right") if getattr(self, k)]
        if self.kind == "formula":
            terms, _ = parse_expression(self.expression)
            out += [("expression", c) for c, _ in terms]
        if self.kind == "custom" and not custom.problems(self):
            out += [("params", c) for c in custom.instance(self).columns()]
        return out

    def check(self) -> Sequence[Problem]:
        p: list[Problem] = []
        needs = {"range": ("column",), "formula": ("column", "expression"), "unique": ("column",),
                 "not_null": ("column",), "allowed_values": ("column",), "inequality": ("left", "right")}
        for key in needs.get(self.kind, ()):
            if not getattr(self, key):
                p.append(Problem(key, f"required for kind {self.kind!r}", "a column name", getattr(self, key)))
        if self.kind == "range":
            if self.low is None and self.high is None:
                p.append(Problem("low", "a range needs low, high or both", "a number", None))
            elif self.low is not None and self.high is not None and self.low > self.high:
                p.append(Problem("high", "range can never be met: high < low", f">= {self.low}", self.high))
        if self.kind == "inequality" and self.left and self.left == self.right:
            p.append(Problem("right", "inequality can never be met: a column compared with itself",
                             f"a column other than {self.left!r}", self.right))
        if self.kind == "fixed_combinations" and len(self.columns) < 2:
            p.append(Problem("columns", "fixed_combinations needs two or more columns", ">= 2 names", self.columns))
        if self.kind == "allowed_values":
            if not self.values:
                p.append(Problem("values", "allowed_values can never be met with no values", "a non-empty list",
                                 self.values))
            for i, v in enumerate(self.values):
                if isinstance(v, bool) or not isinstance(v, int | float | str):
                    p.append(Problem(f"values[{i}]", "wrong type", "a number or a string", v))
        if self.kind == "formula" and self.expression:
            terms, error = parse_expression(self.expression)
            if error:
                p.append(Problem("expression", error, "columns and numbers joined by + or -", self.expression))
            elif self.column in [c for c, _ in terms]:
                p.append(Problem("expression", "formula can never be met: the column is in its own expression",
                                 f"an expression without {self.column!r}", self.expression))
        if self.kind == "custom":
            p += custom.problems(self)
        if self.action != "auto" and self.action not in ALLOWED_ACTIONS[self.kind]:
            p.append(Problem("action", f"not an action of kind {self.kind!r}",
                             "auto or one of " + ", ".join(ALLOWED_ACTIONS[self.kind]), self.action))
        return p


@frozen(kw_only=True)
class TabularBlock(BlockSpec):
    """Keys every tabular block has."""

    constraints: list[Constraint] = setting(factory=list, doc="Rules every output row satisfies after repair.")
    csv: bool = setting(False, doc="Also write data/<block>.csv beside the Parquet file.")
    chunk_rows: int = setting(65_536, doc="Rows per sampling chunk; each chunk has its own seed stream, so the "
                                          "output does not depend on the worker count.", ge=1024, le=4_194_304)


@frozen(kw_only=True)
class ClassTarget:
    """``[[blocks.NAME.class_targets]]``: the share, or the per-class F1, of the class ``value`` of ``target``."""

    value: Any = setting(doc="A value of the target column (compared as text: 1 and \"1\" are the same class).")
    share: float | None = setting(None, doc="Fraction of output rows in this class; with f1, only the share the "
                                            "first pass draws the class at (default: its share in the source).",
                                  gt=0, lt=1)
    f1: float | None = setting(None, doc="Per-class F1 target: the F1 of this class of a fixed classifier trained "
                                         "on the output and tested on the source's held-out rows.", gt=0, le=1)

    def check(self) -> Sequence[Problem]:
        p = []
        if isinstance(self.value, bool) or not isinstance(self.value, int | float | str):
            p.append(Problem("value", "wrong type", "a number or a string", self.value))
        if self.share is None and self.f1 is None:
            p.append(Problem("share", "a class target needs share, f1 or both", "a number in (0, 1)", None))
        return p


@frozen(kw_only=True)
class FittedBlock(TabularBlock):
    """A synthetic copy of a real table (CSV or Parquet)."""

    source: str = setting(doc="The real table to fit: .csv, .csv.gz or .parquet, relative to the spec file.")
    records: int = setting(0, doc="Rows to generate; 0 means as many as the source has.", ge=0)
    target: str = setting("", doc="Optional column that utility metrics predict (the Bayesian network's root).")
    max_levels: int = setting(100_000, doc="A text column with more distinct values than this is treated as an "
                                           "identifier (with a warning).", ge=2)
    class_targets: list[ClassTarget] = setting(factory=list, doc="Shares of classes of target in the output; the "
                                                                 "feedback loop reweights class sampling until each "
                                                                 "holds within max_class_share_deviation (f1 "
                                                                 "targets: max_f1_deviation).")
    holdout: float = setting(0.2, doc="With f1 class targets: fraction of source rows held out from fitting to "
                                      "test the judge classifier on.", gt=0, lt=1)
    holdout_seed: int = setting(0, doc="Seed of the holdout split: the first round(holdout * rows) rows of "
                                       "numpy.random.default_rng(holdout_seed).permutation(rows).", ge=0)
    f1_step: float = setting(2.0, doc="With f1 class targets: logit(share) = logit(base share) + f1_step * "
                                      "(logit(aimed F1) - logit(target F1)).", gt=0, le=100)
    f1_max_shift: float = setting(1.5, doc="With f1 class targets: the most the logit of a class's share moves "
                                           "from its base share (odds times at most exp(f1_max_shift)).", gt=0, le=10)
    f1_max_iter: int = setting(50, doc="Boosting iterations of the judge classifier "
                                       "(HistGradientBoostingClassifier, random_state 0, one thread).", ge=5, le=1000)

    def check(self) -> Sequence[Problem]:
        p: list[Problem] = []
        if self.class_targets and not self.target:
            p.append(Problem("target", "class_targets need the target column", "a column name", self.target))
        seen: set[str] = set()
        for i, t in enumerate(self.class_targets):
            if str(t.value) in seen:
                p.append(Problem(f"class_targets[{i}].value", "a class named twice", "distinct values", t.value))
            seen.add(str(t.value))
        total = sum(t.share for t in self.class_targets if t.share is not None and t.f1 is None)
        if total > 1.0 + 1e-9:
            p.append(Problem("class_targets", "class shares add up to more than 1", "<= 1", round(total, 6)))
        return p


@frozen(kw_only=True)
class CopulaBlock(FittedBlock):
    """Empirical marginals + Gaussian copula."""

    reorder_levels: int = setting(20, doc="Columns with at most this many distinct values have their levels "
                                          "ranked by the mean normal score of target (else of the first principal "
                                          "component) before the copula is fitted; 0 keeps the natural order.",
                                  ge=0, le=4096)


@frozen(kw_only=True)
class BayesNetBlock(FittedBlock):
    """Chow-Liu tree over discretised columns."""

    max_bins: int = setting(100, doc="Columns with more distinct values are cut into this many quantile bins "
                                     "for the tree; values inside a bin follow the bin's empirical distribution.",
                            ge=2, le=4096)


OPS = ("<", "<=", ">", ">=", "==", "!=")


def datetime_span(start: str, end: str) -> tuple[int, int] | Problem:
    """``(start, end)`` in microseconds since the epoch, or the problem with them."""
    try:
        a, b = (int(np.datetime64(v, "us").astype(np.int64)) for v in (start, end))
    except ValueError as exc:
        return Problem("start", f"not an ISO 8601 datetime: {exc}", "e.g. 2024-01-01T00:00:00", f"{start} / {end}")
    if b <= a:
        return Problem("end", "end must be after start", f"> {start}", end)
    return a, b


@frozen(kw_only=True)
class Condition:
    """``column op value``, e.g. ``{column = "x0", op = ">", value = 0.5}``."""

    column: str = setting(doc="A column of the block: x0, x1, ... (numeric) or c0, c1, ... (categorical).")
    op: str = setting(doc="Comparison.", choices=OPS)
    value: float = setting(0.0, doc="The number compared with (a level number for categorical columns); "
                                    "ignored in the condition a rule's coverage sets.")

    def text(self) -> str:
        v = int(self.value) if float(self.value).is_integer() else self.value
        return f"{self.column} {self.op} {v}"


@frozen(kw_only=True)
class ClassRuleSpec:
    """``[[blocks.NAME.class_rules]]``: rows where every condition holds get ``label``."""

    label: int = setting(doc="The class these rows get (rules are tried in order; the first match wins).", ge=0)
    when: list[Condition] = setting(doc="Conditions joined by AND.")
    coverage: float | None = setting(None, doc="Fraction of all rows the rule should cover (sets class imbalance): "
                                               "the threshold of its last <, <=, > or >= condition is chosen from "
                                               "the data.", gt=0, lt=1)

    def tuned(self) -> int | None:
        """Index of the condition whose threshold ``coverage`` sets."""
        if self.coverage is None:
            return None
        found = [i for i, c in enumerate(self.when) if c.op in ("<", "<=", ">", ">=")]
        return found[-1] if found else None

    def check(self) -> Sequence[Problem]:
        if not self.when:
            return [Problem("when", "a rule needs at least one condition", ">= 1", 0)]
        if self.coverage is not None and self.tuned() is None:
            return [Problem("coverage", "coverage needs a <, <=, > or >= condition to tune", "such a condition",
                            [c.op for c in self.when])]
        return []


@frozen(kw_only=True)
class ClusterSpec:
    """``[blocks.NAME.clusters]``: a Gaussian mixture over chosen numeric columns."""

    count: int = setting(0, doc="Number of clusters (0: none).", ge=0, le=1000)
    columns: list[str] = setting(factory=list, doc="Numeric columns that carry the mixture; default all.")
    sizes: list[float] = setting(factory=list, doc="Fraction of rows per cluster (sums to 1); default equal.",
                                 gt=0, le=1)
    separation: float = setting(6.0, doc="Smallest distance between two centres, in units of spread.", gt=0)
    spread: float = setting(1.0, doc="Standard deviation of every cluster along each column.", gt=0)

    def check(self) -> Sequence[Problem]:
        p = []
        if self.sizes and len(self.sizes) != self.count:
            p.append(Problem("sizes", "one size per cluster", f"{self.count} numbers", len(self.sizes)))
        if self.sizes and abs(sum(self.sizes) - 1.0) > 1e-6:
            p.append(Problem("sizes", "sizes must sum to 1", "1", round(sum(self.sizes), 6)))
        return p


ANOMALY_TYPES = ("global", "contextual", "collective")


@frozen(kw_only=True)
class AnomalySpec:
    """``[blocks.NAME.anomalies]``: anomalous rows planted at a rate."""

    rate: float = setting(0.0, doc="Fraction of rows that are anomalous (split evenly over types).", ge=0, le=0.5)
    types: list[str] = setting(factory=lambda: ["global"], doc="Which anomaly types to plant.",
                               choices=ANOMALY_TYPES)
    columns: list[str] = setting(factory=list, doc="Numeric columns the anomalies live in; default the cluster "
                                                   "columns, else all numeric columns.")
    context: str = setting("c0", doc="contextual: the categorical column whose level shifts the mean of "
                                     "context_column by context_shift per level.")
    context_column: str = setting("", doc="contextual: the numeric column that depends on the context; default "
                                          "the first numeric column no cluster uses, else the first anomaly column.")
    context_shift: float = setting(4.0, doc="contextual: mean shift per context level.", gt=0)
    group_size: int = setting(10, doc="collective: rows per anomalous group.", ge=2)


@frozen(kw_only=True)
class PlantedBlock(TabularBlock):
    """A table with planted class rules, clusters and anomalies (ground truth in the ledger)."""

    records: int = setting(10_000, doc="Rows.", ge=10)
    numeric: int = setting(4, doc="Numeric columns x0, x1, ... (standard normal before planting).", ge=0, le=1000)
    categorical: list[int] = setting(factory=list, doc="Levels of each categorical column c0, c1, ... "
                                                       "(values 0..levels-1, uniform).", ge=2, le=100_000)
    datetimes: int = setting(0, doc="Datetime columns t0, t1, ... (microseconds, uniform between start and end).",
                             ge=0, le=100)
    start: str = setting("2024-01-01T00:00:00", doc="Earliest datetime (ISO 8601).")
    end: str = setting("2025-01-01T00:00:00", doc="Latest datetime (ISO 8601, after start).")
    correlation: float = setting(0.0, doc="Correlation between every two numeric columns.", ge=0, lt=1)
    missing: float = setting(0.0, doc="Fraction of cells left empty in columns no pattern uses.", ge=0, lt=1)
    label: str = setting("label", doc="Name of the class column (written when there are class rules).")
    default_label: int = setting(0, doc="Class of rows that match no rule.", ge=0)
    label_noise: float = setting(0.0, doc="Fraction of labels flipped to another class (exactly, per rule).",
                                 ge=0, le=0.5)
    class_rules: list[ClassRuleSpec] = setting(factory=list, doc="Rules that make the labels.")
    clusters: ClusterSpec = setting(factory=ClusterSpec, doc="Planted clusters.")
    anomalies: AnomalySpec = setting(factory=AnomalySpec, doc="Planted anomalies.")

    def numeric_names(self) -> list[str]:
        return [f"x{i}" for i in range(self.numeric)]

    def categorical_names(self) -> list[str]:
        return [f"c{i}" for i in range(len(self.categorical))]

    def datetime_names(self) -> list[str]:
        return [f"t{i}" for i in range(self.datetimes)]

    def cluster_columns(self) -> list[str]:
        return self.clusters.columns or self.numeric_names()

    def anomaly_columns(self) -> list[str]:
        if self.anomalies.columns:
            return self.anomalies.columns
        return self.cluster_columns() if self.clusters.count else self.numeric_names()

    def context_column(self) -> str:
        if self.anomalies.context_column:
            return self.anomalies.context_column
        taken = set(self.cluster_columns()) if self.clusters.count else set()
        free = [c for c in self.numeric_names() if c not in taken]
        return free[0] if free else (self.anomaly_columns() or [""])[0]

    def check(self) -> Sequence[Problem]:
        p: list[Problem] = []
        num, cat = self.numeric_names(), self.categorical_names()
        allc = num + cat
        for i, r in enumerate(self.class_rules):
            for j, c in enumerate(r.when):
                if c.column not in allc:
                    p.append(Problem(f"class_rules[{i}].when[{j}].column", "no such column",
                                     "one of " + ", ".join(allc), c.column))
        for key, names in (("clusters.columns", self.clusters.columns), ("anomalies.columns", self.anomalies.columns)):
            for j, c in enumerate(names):
                if c not in num:
                    p.append(Problem(f"{key}[{j}]", "not a numeric column", "one of " + ", ".join(num), c))
        if self.clusters.count and not self.cluster_columns():
            p.append(Problem("clusters.columns", "clusters need numeric columns", "numeric >= 1", self.numeric))
        if self.anomalies.rate > 0:
            if not self.anomaly_columns():
                p.append(Problem("anomalies.columns", "anomalies need numeric columns", "numeric >= 1", self.numeric))
            if "contextual" in self.anomalies.types and self.anomalies.context not in cat:
                p.append(Problem("anomalies.context", "contextual anomalies need a categorical context column",
                                 "one of " + (", ".join(cat) or "(add categorical = [...])"), self.anomalies.context))
        if self.anomalies.context_column and self.anomalies.context_column not in num:
            p.append(Problem("anomalies.context_column", "not a numeric column", "one of " + ", ".join(num),
                             self.anomalies.context_column))
        span = datetime_span(self.start, self.end)
        if isinstance(span, Problem):
            p.append(span)
        if self.label in allc + self.datetime_names():
            p.append(Problem("label", "the class column's name is taken by a feature column", "another name",
                             self.label))
        columns = allc + self.datetime_names() + ([self.label] if self.class_rules else [])
        for i, c in enumerate(self.constraints):
            if c.kind == "fixed_combinations":
                p.append(Problem(f"constraints[{i}].kind", "fixed_combinations needs a source table; a planted "
                                 "block has none", "another kind", c.kind))
                continue
            for key, col in c.named_columns():
                if col not in columns:
                    p.append(Problem(f"constraints[{i}].{key}", "no such column", "one of " + ", ".join(columns),
                                     col))
        return p

"""Ledger kinds of the tabular plugin: ``class_rule``, ``cluster``, ``anomaly``, ``class_share``, ``class_f1``.

Realized values are counted from the written table. Labels, cluster sizes and anomaly
counts are planted exactly; ``class_share`` has the steerable quantity ``class_share``
that the core's feedback controller moves towards its target, ``class_f1`` the quantity ``f1``.
"""

from __future__ import annotations

from attrs import frozen

from medmgen.ledger import Pattern


@frozen(kw_only=True)
class ClassRule(Pattern):
    """Rows matching ``rule`` (and no earlier rule) get ``label``, up to label noise."""

    kind = "class_rule"
    rule: str
    columns: list[str]
    label: int
    target_accuracy: float
    target_coverage: float | None = None
    realized_accuracy: float | None = None
    realized_coverage: float | None = None
    rows_covered: int | None = None


@frozen(kw_only=True)
class Cluster(Pattern):
    """One mixture component over ``columns``: its rows and its centre."""

    kind = "cluster"
    cluster: int
    columns: list[str]
    centre: list[float]
    spread: float
    target_size: float
    rows: list[int]
    realized_size: float | None = None
    realized_centre: list[float] | None = None


@frozen(kw_only=True)
class Anomaly(Pattern):
    """Planted anomalous rows of one type (``global``, ``contextual``, ``collective``) and why."""

    kind = "anomaly"
    anomaly: str
    rows: list[int]
    columns: list[str]
    reason: str


@frozen(kw_only=True)
class ClassShare(Pattern):
    """The fraction of output rows whose ``column`` equals ``value`` (a class of a fitted block's target)."""

    kind = "class_share"
    quantity = "class_share"
    target_field = "target_share"
    realized_field = "realized_share"
    value_bounds = (0.0, 1.0)
    column: str
    value: str
    target_share: float
    realized_share: float | None = None
    rows: int | None = None


@frozen(kw_only=True)
class ClassF1(Pattern):
    """Per-class F1 of a fixed classifier trained on the output and tested on the source's held-out rows."""

    kind = "class_f1"
    quantity = "f1"
    target_field = "target_f1"
    realized_field = "realized_f1"
    value_bounds = (0.0, 1.0)
    column: str
    value: str
    target_f1: float
    base_share: float
    realized_f1: float | None = None

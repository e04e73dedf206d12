"""Ledger kinds of the sequence modality."""

from __future__ import annotations

from attrs import frozen

from medmgen.ledger import Pattern


@frozen(kw_only=True)
class SequentialPattern(Pattern):
    """A sequential pattern: itemsets in order, with gap constraints, and its support.

    A sequence supports it when there are positions ``p_1 < ... < p_k`` with itemset ``i``
    of the pattern a subset of the sequence's itemset at ``p_i`` and
    ``min_gap <= p_{i+1} - p_i <= max_gap`` (``max_gap`` null: unbounded) and, with
    ``max_window``, the times of itemsets ``p_k`` and ``p_1`` at most that far apart.
    ``planted`` is how many sequences received an embedding (null for accidental ones).
    """

    kind = "sequential_pattern"
    quantity, target_field, realized_field = "support", "target_support", "realized_support"

    sequence: list[list[int]]
    min_gap: int = 1
    max_gap: int | None = None
    max_window: int | None = None
    target_support: float | None = None
    realized_support: float | None = None
    planted: int | None = None

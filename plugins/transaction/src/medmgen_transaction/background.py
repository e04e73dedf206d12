"""The background of a block: record count, alphabet, and alias tables for length and popularity."""

from __future__ import annotations

import math

import attrs
import numpy as np
from attrs import frozen

from medmgen_transaction import _kernels as K
from medmgen_transaction.spec import DEFAULT_RECORDS, DEFAULT_ZIPF_EXPONENT, LengthSpec, PopularitySpec

# Poisson and geometric lengths are tabulated up to where the tail mass is below this.
_TAIL = 1e-16


@frozen(kw_only=True)
class Background:
    """Everything the fill kernel needs besides the planted items."""

    records: int
    items: int
    mean_length: float
    len_values: np.ndarray = attrs.field(eq=False)
    len_prob: np.ndarray = attrs.field(eq=False)
    len_alias: np.ndarray = attrs.field(eq=False)
    pop_prob: np.ndarray = attrs.field(eq=False)
    pop_alias: np.ndarray = attrs.field(eq=False)
    positive: np.ndarray = attrs.field(eq=False)
    pop_weights: np.ndarray = attrs.field(eq=False)  # index = id, sums to 1

    def without(self, ids: set[int]) -> Background:
        """The same background never drawing ``ids`` (unchanged if that would leave no id)."""
        weights = self.pop_weights[1:].copy()
        weights[[i - 1 for i in ids if 1 <= i <= self.items]] = 0.0
        if not ids or weights.sum() <= 0.0:
            return self
        pop_prob, pop_alias = K.build_alias(weights)
        positive = np.zeros(self.items + 1, dtype=np.bool_)
        positive[1:] = weights > 0
        return attrs.evolve(self, pop_prob=pop_prob, pop_alias=pop_alias, positive=positive,
                            pop_weights=np.concatenate(([0.0], weights / weights.sum())))


def length_table(spec: LengthSpec) -> tuple[np.ndarray, np.ndarray]:
    """Lengths and their probabilities (Poisson and geometric tabulated to a 1e-16 tail)."""
    mean = spec.mean_length()
    if spec.distribution == "empirical":
        values = np.asarray(spec.values, dtype=np.int64)
        weights = np.asarray(spec.weights, dtype=np.float64)
    elif spec.distribution == "poisson":
        lam = mean - 1.0
        top = math.ceil(lam + 20.0 * math.sqrt(lam) + 40.0)
        k = np.arange(top + 1, dtype=np.float64)
        log_fact = np.concatenate(([0.0], np.cumsum(np.log(k[1:]))))
        weights = np.exp(k * math.log(lam) - lam - log_fact) if lam > 0 else (k == 0).astype(np.float64)
        values = np.arange(1, top + 2, dtype=np.int64)
    else:
        p = 1.0 / mean
        top = 1 if p >= 1.0 else math.ceil(math.log(_TAIL) / math.log1p(-p))
        k = np.arange(top, dtype=np.float64)
        weights = p * np.exp(k * math.log1p(-p)) if p < 1.0 else np.ones(1)
        values = np.arange(1, top + 1, dtype=np.int64)
    return values, weights / weights.sum()


def popularity_weights(spec: PopularitySpec, items: int) -> np.ndarray:
    """One weight per item id ``1..items`` (entry ``i`` is id ``i + 1``)."""
    if spec.distribution == "uniform":
        return np.ones(items, dtype=np.float64)
    if spec.distribution == "zipf":
        exponent = DEFAULT_ZIPF_EXPONENT if spec.exponent is None else spec.exponent
        return np.arange(1, items + 1, dtype=np.float64) ** -exponent
    w = np.zeros(items, dtype=np.float64)
    given = np.asarray(spec.weights[:items], dtype=np.float64)
    w[: given.size] = given
    return w


def build(records: int | None, items: int, length: LengthSpec, popularity: PopularitySpec) -> Background:
    values, probs = length_table(length)
    len_prob, len_alias = K.build_alias(probs)
    weights = popularity_weights(popularity, items)
    pop_prob, pop_alias = K.build_alias(weights)
    positive = np.zeros(items + 1, dtype=np.bool_)
    positive[1:] = weights > 0
    return Background(
        records=DEFAULT_RECORDS if records is None else records,
        items=items,
        mean_length=float(np.dot(values, probs)),
        len_values=values,
        len_prob=len_prob,
        len_alias=len_alias,
        pop_prob=pop_prob,
        pop_alias=pop_alias,
        positive=positive,
        pop_weights=np.concatenate(([0.0], weights / weights.sum())),
    )

"""Per-class F1 targets: the holdout split, the fixed judge classifier, and the aim-to-share map.

A block with an ``f1`` class target holds out ``holdout`` of the source rows, chosen as
the first ``round(holdout * rows)`` of ``numpy.random.default_rng(holdout_seed).permutation(rows)``;
the model is fitted on the other rows only. Each pass, a
``HistGradientBoostingClassifier(max_iter=f1_max_iter, random_state=0)`` (one thread) is
trained on the generated rows and tested on the holdout; each class's realized F1 is
recorded in its ``class_f1`` pattern, and the controller's aimed F1 sets the class's
sampling share on the logit scale (:func:`share_for_aim`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from attrs import evolve

from medmgen.ledger import Event, Pattern
from medmgen_tabular.kinds import ClassF1

SHARE_BOUNDS = (0.005, 0.995)
AIM_BOUNDS = (0.001, 0.999)


def holdout_mask(rows: int, fraction: float, seed: int) -> np.ndarray:
    """True for the source rows held out from fitting: the first ``round(fraction * rows)`` of a seeded permutation."""
    mask = np.zeros(rows, dtype=bool)
    mask[np.random.default_rng(seed).permutation(rows)[: round(fraction * rows)]] = True
    return mask


def share_for_aim(base: float, aim: float, target: float, step: float, max_shift: float) -> float:
    """``sigmoid(logit(base) + clip(step * (logit(aim) - logit(target)), -max_shift, max_shift))``,
    clipped to ``SHARE_BOUNDS``.

    On the first pass ``aim == target`` and the class is drawn at ``base``; when the
    realized F1 stays below target the controller raises the aim and the class's share
    grows, and the other way round. The class's odds move by at most ``exp(max_shift)``
    from the base odds, so a target no share reaches cannot run the share to 0 or 1
    (F1 is not monotone in the share: past its best share it falls).
    """
    lo, hi = SHARE_BOUNDS
    shift = min(max_shift, max(-max_shift, step * (_logit(aim) - _logit(target))))
    z = _logit(min(hi, max(lo, base))) + shift
    return min(hi, max(lo, 1.0 / (1.0 + math.exp(-z))))


def _logit(p: float) -> float:
    p = min(AIM_BOUNDS[1], max(AIM_BOUNDS[0], p))
    return math.log(p / (1.0 - p))


def features(table: pa.Table, names: Sequence[str], reference: pa.Table) -> np.ndarray:
    """The columns ``names`` as a float matrix: numbers (and datetimes) as they are, missing as NaN,
    anything else as the index of its value among ``reference``'s sorted distinct values (unseen: NaN)."""
    out = np.empty((table.num_rows, len(names)), dtype=np.float64)
    for j, name in enumerate(names):
        col = table.column(name)
        t = col.type
        if pa.types.is_timestamp(t) or pa.types.is_date(t):
            col, t = pc.cast(col, pa.int64()), pa.int64()
        if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t):
            out[:, j] = pc.cast(col, pa.float64()).to_numpy(zero_copy_only=False)
        else:
            levels = pc.unique(reference.column(name).cast(pa.string())).drop_null().sort()
            idx = pc.index_in(col.cast(pa.string()), value_set=levels)
            out[:, j] = pc.cast(idx, pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False)
    return out


def class_texts(table: pa.Table, target: str) -> np.ndarray:
    """The target column as text (missing as the empty string), the classes the judge predicts."""
    return table.column(target).cast(pa.string()).fill_null("").to_numpy()


def judge_f1(train: pa.Table, holdout: pa.Table, target: str, names: Sequence[str], classes: Sequence[str],
             max_iter: int) -> list[float]:
    """Per-class F1 on ``holdout`` of the fixed classifier trained on ``train``'s columns ``names``
    (0 for a class never predicted)."""
    from sklearn.ensemble import HistGradientBoostingClassifier  # heavy: import on use
    from sklearn.metrics import f1_score
    from threadpoolctl import threadpool_limits

    y = class_texts(train, target)
    truth = class_texts(holdout, target)
    if len(set(y)) < 2:
        pred = np.full(len(truth), y[0] if len(y) else "", dtype=object)
    else:
        clf = HistGradientBoostingClassifier(max_iter=max_iter, random_state=0)
        with threadpool_limits(1):
            clf.fit(features(train, names, holdout), y)
            pred = clf.predict(features(holdout, names, holdout))
    scores = f1_score(truth.astype(str), pred.astype(str), labels=list(classes), average=None, zero_division=0.0)
    return [round(float(s), 9) for s in scores]


def count_f1(table: pa.Table, holdout: pa.Table, target: str, names: Sequence[str], patterns: Sequence[Pattern],
             max_iter: int) -> list[Pattern]:
    """Each ``class_f1`` pattern with its F1 measured on ``table`` (the block's output)."""
    f1s = [p for p in patterns if isinstance(p, ClassF1)]
    if not f1s:
        return list(patterns)
    classes = [p.value for p in f1s]
    scores = dict(zip(classes, judge_f1(table, holdout, target, names, classes, max_iter)))
    return [evolve(p, realized_f1=scores[p.value]) if isinstance(p, ClassF1) else p for p in patterns]


def recount_f1(table: pa.Table, holdout: pa.Table, target: str, names: Sequence[str], patterns: Sequence[Pattern],
               max_iter: int) -> list[Pattern]:
    """``class_f1`` after a constraint repair: measured again, with an event when an F1 moved."""
    after = {p.id: p for p in count_f1(table, holdout, target, names, patterns, max_iter)}
    out: list[Pattern] = []
    for p in patterns:
        q = after[p.id]
        if isinstance(p, ClassF1) and q.realized() != p.realized():
            q = q.with_event(Event(stage="repair", action="class F1 measured again after constraint repair",
                                   before=p.realized(), after=q.realized()))
        out.append(q)
    return out


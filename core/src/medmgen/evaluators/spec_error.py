"""Spec error: how far each planted pattern's realized value is from its target."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from medmgen.interfaces import Evaluation, Evaluator, Threshold


class SpecError(Evaluator):
    """Per quantity (support, confidence, mixing, ...): max and mean |realized - target|, and
    ``max_<quantity>_deviation_at``, the key of the largest (``id``, or ``id#quantity`` such as
    a drift's ``<id>#after`` segment). Records about a pattern (drifts) are judged but not
    counted as planted patterns (``patterns``, ``kept``, ...)."""

    name = "spec_error"
    in_loop = True
    thresholds = (
        Threshold(name="max_support_deviation", metric="spec_error.max_support_deviation", default=0.001,
                  doc="Largest |realized - target| support over planted patterns (absolute).", feedback=True),
        Threshold(name="max_confidence_deviation", metric="spec_error.max_confidence_deviation", default=0.01,
                  doc="Largest |realized - target| rule confidence (absolute).", feedback=True),
        Threshold(name="max_mixing_deviation", metric="spec_error.max_mixing_deviation", default=0.01,
                  doc="Largest |realized - target| community mixing (absolute).", feedback=True),
    )

    def evaluate(self, evaluation: Evaluation) -> dict[str, Any]:
        ledger = evaluation.ledger
        devs: dict[str, list[tuple[float, str]]] = {}
        for p in ledger.patterns:
            for q, key, t, r in p.quantities():
                if t is not None and r is not None:
                    devs.setdefault(q, []).append((abs(r - t), key))
        planted = ledger.planted()
        out: dict[str, Any] = {"patterns": len(planted), "accidental": len(ledger.accidental)}
        statuses = Counter(p.status for p in planted)
        for status in ("kept", "weakened", "destroyed"):
            out[status] = statuses.get(status, 0)
        for q, values in sorted(devs.items()):
            worst = max(values, key=lambda v: v[0])  # the first of equals: ledger order
            out[f"max_{q}_deviation"] = worst[0]
            out[f"max_{q}_deviation_at"] = worst[1]
            out[f"mean_{q}_deviation"] = sum(d for d, _ in values) / len(values)
        out.update(recovery(ledger, evaluation.block_metrics))
        return out


def recovery(ledger: Any, block_metrics: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, float]:
    """Recall and precision of planted supports (a rule's A ∪ C too) for a miner run at the smallest target.

    Recall: share of planted patterns whose realized support reaches their block's smallest
    planted target (a miner run on that block at that threshold finds them). Precision: those
    found over everything such miners report, i.e. plus the unplanned patterns each
    modality's own miner finds at its block's threshold: the ledger's ``accidental`` list, or
    the block's ``accidental_found`` (``block_metrics``) when the list holds only the most
    frequent of them. ``precision_complete`` is false when a block's search stopped short
    (``accidental_search_complete`` false with no count of all it would find): precision is
    then an upper bound. ``min_target_support`` is the smallest of those thresholds;
    ``min_realized_support`` the smallest realized planted support (a miner run there finds
    every planted pattern: a target rounded to whole records can be realized just under it).
    """
    planted: dict[str, list[tuple[float, float | None]]] = {}
    for p in ledger.planted():
        for q, _, t, r in p.quantities():
            if q == "support" and t is not None:
                planted.setdefault(p.block, []).append((t, r))
    if not planted:
        return {}
    floors = {block: min(t for t, _ in pats) for block, pats in planted.items()}
    found = sum(1 for block, pats in planted.items() for _, r in pats if (r or 0.0) >= floors[block])
    total = sum(len(pats) for pats in planted.values())
    listed = Counter(p.block for p in ledger.accidental)
    block_metrics = block_metrics or {}
    unplanned = sum(max(listed[b], int(block_metrics.get(b, {}).get("accidental_found") or 0))
                    for b in set(listed) | set(block_metrics))
    stopped = [b for b, m in block_metrics.items() if b in planted and m.get("accidental_search_complete") is False
               and not int(m.get("accidental_found") or 0) > listed[b]]  # not a mere cap on the list
    realized = [r for pats in planted.values() for _, r in pats if r is not None]
    return {"min_target_support": min(floors.values()), "recall": found / total,
            "precision": found / (found + unplanned) if found else 0.0, "precision_complete": not stopped,
            **({"min_realized_support": min(realized)} if realized else {})}

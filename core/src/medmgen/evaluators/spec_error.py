"""Spec error: how far each planted pattern's realized value is from its target."""

from __future__ import annotations

from collections import Counter
from typing import Any

from medmgen.interfaces import Evaluation, Evaluator, Threshold


class SpecError(Evaluator):
    """Per quantity (support, confidence, mixing, ...): max and mean |realized - target|."""

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
        devs: dict[str, list[float]] = {}
        for p in ledger.patterns:
            for q, d in p.deviations().items():
                devs.setdefault(q, []).append(d)
        out: dict[str, Any] = {"patterns": len(ledger.patterns), "accidental": len(ledger.accidental)}
        statuses = Counter(p.status for p in ledger.patterns)
        for status in ("kept", "weakened", "destroyed"):
            out[status] = statuses.get(status, 0)
        for q, values in sorted(devs.items()):
            out[f"max_{q}_deviation"] = max(values)
            out[f"mean_{q}_deviation"] = sum(values) / len(values)
        out.update(recovery(ledger))
        return out


def recovery(ledger: Any) -> dict[str, float]:
    """Recall and precision of planted supports (a rule's A ∪ C too) for a miner run at the smallest target.

    Recall: share of planted patterns whose realized support reaches the smallest planted
    target (a miner at that threshold finds them). Precision: those found over everything
    such a miner reports, i.e. plus the ledger's ``accidental`` list, which each modality's
    own miner fills with unplanned patterns at that threshold.
    """
    planted = [(t, r) for p in ledger.patterns for q, _, t, r in p.quantities() if q == "support" and t is not None]
    if not planted:
        return {}
    floor = min(t for t, _ in planted)
    found = sum(1 for _, r in planted if (r or 0.0) >= floor)
    return {"min_target_support": floor, "recall": found / len(planted),
            "precision": found / (found + len(ledger.accidental)) if found else 0.0}

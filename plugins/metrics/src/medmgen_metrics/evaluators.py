"""The three evaluator classes: names, thresholds and which blocks they judge.

This module stays cheap to import (every ``medmgen`` command loads it through the
plugin hook): pandas, scipy, scikit-learn and matplotlib are imported by the metric
modules, and those only inside ``evaluate``, ``figures`` and ``tables``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from medmgen.interfaces import Evaluation, Evaluator, Threshold
from medmgen_metrics.sources import TAKES_AGAINST, tabular_blocks


class Fidelity(Evaluator):
    """Marginals, pairs, correlations, MMD, propensity and coverage of tabular blocks vs real data."""

    name = "fidelity"
    takes_against = TAKES_AGAINST
    thresholds = (
        Threshold(name="max_mean_2way_tvd", metric="fidelity.tvd_2way_mean", default=0.15,
                  doc="Mean total-variation distance over all 2-way marginals, synthetic vs real (0..1)."),
        Threshold(name="max_propensity_auc", metric="fidelity.propensity_auc", default=0.99,
                  doc="ROC-AUC of a classifier telling synthetic from real rows (0.5 = indistinguishable)."),
        Threshold(name="min_category_coverage", metric="fidelity.category_coverage", default=0.5, op=">=",
                  doc="Mean share of real categories present in the synthetic table (mode collapse)."),
    )

    def __init__(self) -> None:
        self._pairs: dict[str, Any] = {}
        self._extra: dict[str, dict[str, Any]] = {}

    def applies(self, evaluation: Evaluation) -> bool:
        return bool(tabular_blocks(evaluation))

    def evaluate(self, evaluation: Evaluation) -> dict[str, Any]:
        from medmgen_metrics import fidelity
        from medmgen_metrics.tables import prepare, worst

        per_block = {}
        for block in tabular_blocks(evaluation):
            pair = prepare(evaluation, block)
            self._pairs[block] = pair
            per_block[block], self._extra[block] = fidelity.block_metrics(pair)
        return {**worst(per_block, fidelity.HEADLINE), "blocks": per_block}

    def figures(self, evaluation: Evaluation, metrics: Mapping[str, Any]) -> list[tuple[str, str]]:
        from medmgen_metrics import figures

        out = []
        for block, pair in self._pairs.items():
            if not len(pair.synthetic):
                continue
            out.append((f"{block}: marginals, real vs synthetic", figures.marginals(pair)))
            extra = self._extra[block]
            if extra and len(pair.columns) > 1:
                out.append((f"{block}: column associations, real vs synthetic",
                            figures.heatmaps(pair.names, extra["association_real"], extra["association_synthetic"])))
        return out


class Utility(Evaluator):
    """Train on synthetic, test on real (TSTR) against train-on-real (TRTR) and on both combined."""

    name = "utility"
    takes_against = TAKES_AGAINST
    thresholds = (
        Threshold(name="min_tstr_f1_ratio", metric="utility.tstr_f1_ratio", default=0.5, op=">=",
                  doc="Macro F1 on real holdout rows of a model trained on synthetic rows, over the same "
                      "model trained on real rows (classification targets)."),
        Threshold(name="min_tstr_r2_ratio", metric="utility.tstr_r2_ratio", default=0.3, op=">=",
                  doc="R² of train-on-synthetic over R² of train-on-real (numeric targets)."),
    )

    def _blocks(self, evaluation: Evaluation) -> list[str]:
        return [b for b in tabular_blocks(evaluation) if getattr(evaluation.spec.blocks[b], "target", "")]

    def applies(self, evaluation: Evaluation) -> bool:
        return bool(self._blocks(evaluation))

    def evaluate(self, evaluation: Evaluation) -> dict[str, Any]:
        from medmgen_metrics import utility
        from medmgen_metrics.tables import prepare, worst

        per_block = {}
        for block in self._blocks(evaluation):
            pair = prepare(evaluation, block)
            target = evaluation.spec.blocks[block].target
            per_block[block] = utility.block_metrics(pair) if pair.target else {
                "skipped": f"target column {target!r} is an identifier" if target in pair.identifiers
                else f"target column {target!r} is not in both tables"}
        return {**worst(per_block, utility.HEADLINE), "blocks": per_block}

    def figures(self, evaluation: Evaluation, metrics: Mapping[str, Any]) -> list[tuple[str, str]]:
        from medmgen_metrics import figures, utility

        out = []
        for block, m in metrics.get("blocks", {}).items():
            if "task" not in m:
                continue
            keys = ("accuracy", "macro_f1", "roc_auc") if m["task"] == "classification" else ("r2",)
            groups = {s.upper() if s != "combined" else "train on both":
                      {k: m[s][k] for k in keys if k in m[s]} for s in utility.SETTINGS if s in m}
            if groups:
                out.append((f"{block}: predicting {m['target']!r} on real holdout rows",
                            figures.grouped_bars(f"{m['target']}: trained on synthetic (TSTR), real (TRTR), both",
                                                 groups, "score on real holdout")))
        return out


class PrivacyRisk(Evaluator):
    """Exact copies, distances to closest records, membership inference and Anonymeter-style attacks."""

    name = "privacy_risk"
    takes_against = TAKES_AGAINST
    thresholds = (
        Threshold(name="max_exact_copy_excess", metric="privacy_risk.exact_copy_excess", default=0.05,
                  doc="Share of synthetic rows that equal a real training row, beyond the share of real holdout "
                      "rows that do (duplicates a fresh real sample would also have)."),
        Threshold(name="max_mia_auc", metric="privacy_risk.mia_auc", default=0.7,
                  doc="ROC-AUC of the distance-based membership-inference attack (0.5 = no better than chance)."),
        Threshold(name="max_dcr_train_share", metric="privacy_risk.dcr_train_share", default=0.7,
                  doc="Share of synthetic rows closer to a training row than to a holdout row (0.5 ideal)."),
    )

    def __init__(self) -> None:
        self._extra: dict[str, dict[str, Any]] = {}

    def applies(self, evaluation: Evaluation) -> bool:
        return bool(tabular_blocks(evaluation))

    def evaluate(self, evaluation: Evaluation) -> dict[str, Any]:
        from medmgen_metrics import privacy
        from medmgen_metrics.tables import prepare, worst

        per_block = {}
        for block in tabular_blocks(evaluation):
            per_block[block], self._extra[block] = privacy.block_metrics(prepare(evaluation, block))
        return {**worst(per_block, privacy.HEADLINE), "blocks": per_block}

    def figures(self, evaluation: Evaluation, metrics: Mapping[str, Any]) -> list[tuple[str, str]]:
        from medmgen_metrics import figures

        out: list[tuple[str, str]] = []
        for block, extra in self._extra.items():
            if not extra:
                continue
            out.append((f"{block}: distance to closest real record", figures.dcr_histogram(extra["dcr"],
                                                                                          extra["dcr_baseline"])))
            auc = metrics["blocks"][block]["mia_auc"]
            out.append((f"{block}: membership-inference attack", figures.roc(extra["fpr"], extra["tpr"], auc)))
        return out

    def tables(self, evaluation: Evaluation, metrics: Mapping[str, Any]) -> dict[str, pa.Table]:
        """``records``: one row per real record the membership attack scored, in every block."""
        from medmgen_metrics import privacy

        found = {block: extra["records"] for block, extra in self._extra.items() if extra}
        return {"records": privacy.records_table(found)} if found else {}

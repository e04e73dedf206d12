"""``utility`` metrics: do models trained on synthetic rows work on real rows (TSTR)?"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.metrics import accuracy_score, f1_score, mean_absolute_error, r2_score, roc_auc_score

from medmgen_metrics.tables import Pair, sample

HEADLINE = {"tstr_f1_ratio": False, "tstr_macro_f1": False, "tstr_r2_ratio": False, "tstr_r2": False}
SETTINGS = ("tstr", "trtr", "combined")


def _classify(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, y_test: np.ndarray,
              classes: np.ndarray, labels: Mapping[int, str], mask: np.ndarray, seed: int) -> dict[str, Any]:
    """Accuracy, macro F1, F1 per class and ROC-AUC of a gradient-boosted classifier."""
    present = np.unique(y_train)
    if len(present) < 2:  # a constant training target: every prediction is that class
        pred = np.full(len(y_test), present[0] if len(present) else classes[0])
        proba = (pred[:, None] == classes[None, :]).astype(np.float64)
    else:
        model = HistGradientBoostingClassifier(categorical_features=mask if mask.any() else None,
                                               early_stopping=False, max_iter=100, random_state=seed)
        model.fit(x_train, y_train)
        pred = model.predict(x_test)
        proba = np.zeros((len(x_test), len(classes)))
        proba[:, np.searchsorted(classes, model.classes_)] = model.predict_proba(x_test)
    out: dict[str, Any] = {"accuracy": float(accuracy_score(y_test, pred)),
                           "macro_f1": float(f1_score(y_test, pred, labels=classes, average="macro",
                                                      zero_division=0))}
    per = f1_score(y_test, pred, labels=classes, average=None, zero_division=0)
    out["f1_per_class"] = {labels[int(c)]: round(float(v), 6) for c, v in zip(classes, per)}
    seen = np.unique(y_test)
    if len(seen) == 2 and len(classes) == 2:
        out["roc_auc"] = float(roc_auc_score(y_test, proba[:, 1]))
    elif len(seen) > 2 and len(seen) == len(classes):
        norm = proba / np.maximum(proba.sum(axis=1, keepdims=True), 1e-12)
        out["roc_auc"] = float(roc_auc_score(y_test, norm, multi_class="ovr", labels=classes))
    return {k: round(v, 6) if isinstance(v, float) else v for k, v in out.items()}


def _regress(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, y_test: np.ndarray,
             mask: np.ndarray, seed: int) -> dict[str, Any]:
    """R² and mean absolute error of a gradient-boosted regressor."""
    model = HistGradientBoostingRegressor(categorical_features=mask if mask.any() else None,
                                          early_stopping=False, max_iter=100, random_state=seed)
    model.fit(x_train, y_train)
    pred = model.predict(x_test)
    return {"r2": round(float(r2_score(y_test, pred)), 6), "mae": round(float(mean_absolute_error(y_test, pred)), 6)}


def block_metrics(pair: Pair) -> dict[str, Any]:
    """TSTR, TRTR and train-on-combined scores of one block's target column."""
    cfg, target = pair.cfg, pair.target
    if not len(pair.synthetic) or len(pair.train) < 2:
        return {"target": target, "skipped": "the synthetic table or the real training rows are empty"}
    col = pair.column(target)
    train = sample(pair.train, cfg.max_rows, pair.rng(4))
    synth = pair.sample(cfg.max_rows, 4)
    test = pair.holdout
    data = {}
    for name, frame in (("train", train), ("synth", synth), ("test", test)):
        x, mask = pair.model_matrix(frame, exclude=target)
        y = col.codes(frame[target]) if col.categorical else col.comparable(frame[target])
        keep = np.ones(len(y), dtype=bool) if col.categorical else ~np.isnan(y)
        data[name] = (x[keep], y[keep])
    sets = {"tstr": data["synth"], "trtr": data["train"],
            "combined": (np.vstack([data["train"][0], data["synth"][0]]), np.r_[data["train"][1], data["synth"][1]])}
    out: dict[str, Any] = {"target": target, "task": "classification" if col.categorical else "regression",
                           "model": "HistGradientBoosting" + ("Classifier" if col.categorical else "Regressor"),
                           "rows": {"synthetic_train": len(data["synth"][1]), "real_train": len(data["train"][1]),
                                    "real_test": len(data["test"][1])},
                           "test_rows": pair.holdout_source}
    x_test, y_test = data["test"]
    if not len(y_test):
        return out
    for setting, (x, y) in sets.items():
        if not len(y):
            continue
        if col.categorical:
            classes = np.unique(np.r_[data["train"][1], data["synth"][1], y_test])
            names = {int(c): col.label(int(c)) for c in classes}
            scores = _classify(x, y, x_test, y_test, classes, names, mask, cfg.seed)
        else:
            scores = _regress(x, y, x_test, y_test, mask, cfg.seed)
        out[setting] = scores
        for k, v in scores.items():
            if isinstance(v, float):
                out[f"{setting}_{k}"] = v
    if col.categorical and "tstr" in out:
        ref = out["trtr"]["macro_f1"]
        out["tstr_f1_ratio"] = round(out["tstr"]["macro_f1"] / ref, 6) if ref > 0 else 0.0
    elif "tstr" in out:
        ref = out["trtr"]["r2"]
        out["tstr_r2_ratio"] = round(out["tstr"]["r2"] / ref, 6) if ref > 0 else 0.0
    return out

"""Class rebalancing on UCI Adult: ``class_targets`` through the feedback loop vs random oversampling.

The split is the plugin's documented holdout rule: the first 20 % of
``numpy.random.default_rng(0).permutation(rows)`` is the test set, the rest is the
training set. Share targets: fits the training set (written to a temporary CSV),
generates 48,842 rows with ``income>50K`` at share 0.5 (and without a target share).
F1 targets (``--f1 GENERATOR=F ...``): ``class_targets = [{value = 1, f1 = F}]`` on the whole file, which holds
out exactly the test set from fitting (``holdout = 0.2``, ``holdout_seed = 0``). Every
result trains ``HistGradientBoostingClassifier(random_state=0)``, tested on the real
test set: per-class F1 and ROC-AUC. The anchor is the usual baseline for imbalance,
random oversampling of the real minority rows to the same share (for an F1 target:
to the share the loop ended at). Prints one row per variant and the ratios of medmgen
to the anchor.

    OMP_NUM_THREADS=1 python benchmarks/bench_tabular_rebalance.py
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import f1_score, roc_auc_score

import medmgen
import medmgen.builtins
import medmgen_tabular.plugin
from medmgen.plugins import load_registry

ADULT = Path(__file__).resolve().parents[2] / "shared" / "data" / "adult" / "adult.csv.gz"
TARGET = "income>50K"


def scores(train: pd.DataFrame, test: pd.DataFrame) -> dict[str, float]:
    x, y = train.drop(columns=[TARGET]), train[TARGET]
    clf = HistGradientBoostingClassifier(random_state=0).fit(x, y)
    xt, yt = test.drop(columns=[TARGET]), test[TARGET]
    pred = clf.predict(xt)
    f1 = f1_score(yt, pred, average=None, labels=[0, 1])
    return {"share_1": round(float(y.mean()), 4), "f1_0": round(float(f1[0]), 3), "f1_1": round(float(f1[1]), 3),
            "auc": round(float(roc_auc_score(yt, clf.predict_proba(xt)[:, 1])), 3)}


def oversample(train: pd.DataFrame, share: float, n: int) -> pd.DataFrame:
    """Anchor: ``n`` real rows with the minority class drawn with replacement to ``share``."""
    rng = np.random.default_rng(0)
    pos, neg = train[train[TARGET] == 1], train[train[TARGET] == 0]
    k = round(share * n)
    return pd.concat([pos.iloc[rng.integers(0, len(pos), k)], neg.iloc[rng.integers(0, len(neg), n - k)]])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--share", type=float, default=0.5)
    ap.add_argument("--f1", nargs="*", default=["bayesnet=0.69", "copula=0.61", "bayesnet=0.72"],
                    help="F1 variants as GENERATOR=TARGET (class 1 F1); 0.72 is above what any share reaches")
    args = ap.parse_args()
    df = pd.read_csv(ADULT)
    idx = np.random.default_rng(0).permutation(len(df))
    cut = round(0.2 * len(df))
    test, train = df.iloc[idx[:cut]], df.iloc[idx[cut:]]
    n = len(df)
    registry = load_registry(entry_points=False, extra=[("core", medmgen.builtins),
                                                        ("tabular", medmgen_tabular.plugin)])
    rows = [{"variant": "real train (imbalanced), reference", **scores(train, test)},
            {"variant": f"random oversampling to {args.share}, anchor", **scores(oversample(train, args.share, n),
                                                                                  test)}]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "train.csv"
        train.to_csv(path, index=False)
        for generator in ("bayesnet", "copula"):
            for targets in ([], [{"value": 1, "share": args.share}]):
                block = {"modality": "tabular", "generator": generator, "source": str(path), "target": TARGET,
                         "records": n, "class_targets": targets}
                spec = {"dataset": {"seed": 7}, "blocks": {"people": block},
                        "thresholds": {"max_class_share_deviation": 0.0001},
                        "feedback": {"gain": 0.5, "max_iterations": 12}}
                t = time.perf_counter()
                ds = medmgen.generate(spec, registry=registry)
                seconds = time.perf_counter() - t
                label = f"medmgen {generator}" + (f", class_targets {args.share}" if targets else "")
                rows.append({"variant": label, **scores(ds.to_pandas("people"), test),
                             "passes": len(ds.report["iterations"]), "seconds": round(seconds, 2)})
        for variant in args.f1:
            generator, f1 = variant.split("=")
            block = {"modality": "tabular", "generator": generator, "source": str(ADULT), "target": TARGET,
                     "class_targets": [{"value": 1, "f1": float(f1)}]}
            spec = {"dataset": {"seed": 7}, "blocks": {"people": block}, "feedback": {"max_iterations": 12}}
            t = time.perf_counter()
            ds = medmgen.generate(spec, registry=registry)
            seconds = time.perf_counter() - t
            out = ds.to_pandas("people")
            (p,) = ds.ledger.patterns
            row = scores(out, test)
            rows.append({"variant": f"medmgen {generator}, class 1 f1 {f1}", **row,
                         "judge_f1_1": p.realized_f1, "passed": ds.passed, "passes": len(ds.report["iterations"]),
                         "seconds": round(seconds, 2)})
            rows.append({"variant": f"random oversampling to {row['share_1']}, anchor of {generator} f1",
                         **scores(oversample(train, row["share_1"], n), test)})
    out = pd.DataFrame(rows)
    print(out.to_string(index=False))
    anchor = rows[1]
    for i, r in enumerate(rows[2:], start=2):
        if "class_targets" in r["variant"] or " f1 " in r["variant"]:
            a = rows[i + 1] if " f1 " in r["variant"] else anchor
            print(f"{r['variant']}: minority F1 {r['f1_1']} vs anchor {a['f1_1']} "
                  f"(ratio {r['f1_1'] / a['f1_1']:.2f}), AUC ratio {r['auc'] / a['auc']:.2f}")


if __name__ == "__main__":
    main()

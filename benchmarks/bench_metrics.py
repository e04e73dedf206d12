"""Evaluation-suite benchmark on UCI Adult: medmgen-metrics beside SDMetrics, same data, same run.

Real table: ``shared/data/adult/adult.csv.gz`` (48,842 rows, 14 integer-coded columns),
split 80/20 with seed 0 into training rows and a holdout. Two synthetic tables of
48,842 rows: ``independent`` (each column resampled from the training rows on its own,
the usual independent-marginals baseline) and ``copy`` (the training rows, resampled
with replacement: a generator that memorises).

Our side, in this process after a warm-up on 1,000 rows: the ``fidelity``,
``utility`` and ``privacy_risk`` evaluators with default ``[evaluation]`` settings
(10,000-row samples for neighbours, propensity and attacks), figures included.

Anchor, in its own venv through a subprocess (``--anchor-python``, default
``/work/venv-sdv/bin/python``, which has SDMetrics 0.32): the SDMetrics
``QualityReport`` (column shapes + column pair trends, every column declared
categorical so that all 91 pairs use ContingencySimilarity = 1 - TVD) and
``DCROverfittingProtection`` (share of synthetic rows closer to training than to
holdout rows, subsample of as many rows as the holdout has). Prints times, ratios and the cross-checks: our
mean 1-way / 2-way TVD against 1 - SDMetrics' TVComplement / ContingencySimilarity.

Also the cost every ``medmgen`` command pays for the plugin: the median time to import
``medmgen_metrics.plugin`` in a fresh interpreter, beside importing it together with the
metric modules (pandas, scipy, scikit-learn), as the plugin did before they were deferred.

    OMP_NUM_THREADS=1 python benchmarks/bench_metrics.py [--anchor-python PATH] [--no-anchor]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from medmgen_metrics import fidelity, figures, privacy, utility
from medmgen_metrics.spec import EvaluationSection
from medmgen_metrics.tables import make_pair

ROOT = Path(__file__).resolve().parents[1]
ADULT = ROOT.parent / "shared" / "data" / "adult" / "adult.csv.gz"
TARGET = "income>50K"
PLUGIN_IMPORT = "import medmgen_metrics.plugin"
EAGER_IMPORT = PLUGIN_IMPORT + ", medmgen_metrics.fidelity, medmgen_metrics.utility, medmgen_metrics.privacy"
IMPORT_RUNS = 5

ANCHOR_CODE = r"""
import json, sys, time, warnings
from itertools import combinations
warnings.filterwarnings("ignore")
import pandas as pd
from sdmetrics.column_pairs import ContingencySimilarity
from sdmetrics.reports.single_table import QualityReport
from sdmetrics.single_column import TVComplement
from sdmetrics.single_table import DCROverfittingProtection
train, holdout, synth = (pd.read_csv(p) for p in sys.argv[1:4])
real = pd.concat([train, holdout], ignore_index=True)
meta = {"columns": {c: {"sdtype": "categorical"} for c in real.columns}}
t = time.perf_counter()
one = [1 - TVComplement.compute(real[c], synth[c]) for c in real.columns]
two = [1 - ContingencySimilarity.compute(real[[a, b]], synth[[a, b]]) for a, b in combinations(real.columns, 2)]
tvd_s = time.perf_counter() - t
t = time.perf_counter()
report = QualityReport()
report.generate(real, synth, meta, verbose=False)
quality_s = time.perf_counter() - t
t = time.perf_counter()
n = min(10000, len(holdout))
dcr = DCROverfittingProtection.compute_breakdown(train, synth, holdout, {"tables": {"adult": meta}}, "adult",
                                                 num_rows_subsample=n)
dcr_s = time.perf_counter() - t
print(json.dumps({"tvd_s": tvd_s, "quality_s": quality_s, "dcr_s": dcr_s, "tvd_1way_mean": sum(one) / len(one),
                  "tvd_2way_mean": sum(two) / len(two), "pairs": len(two),
                  "quality_score": report.get_score(),
                  "closer_to_training": dcr["synthetic_data_percentages"]["closer_to_training"]}))
"""


def synthetic_tables(train: pd.DataFrame, n: int) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(0)
    independent = pd.DataFrame({c: train[c].to_numpy()[rng.integers(0, len(train), n)] for c in train.columns})
    copy = train.iloc[rng.integers(0, len(train), n)].reset_index(drop=True)
    return {"independent": independent, "copy": copy}


def import_seconds(statement: str, runs: int = IMPORT_RUNS) -> float:
    """Median wall time of an import statement in a fresh interpreter."""
    code = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    times = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
             for _ in range(runs)]
    return float(np.median(times))


def ours(train: pd.DataFrame, holdout: pd.DataFrame, synth: pd.DataFrame) -> dict:
    """Time our three evaluators (figures included) on one synthetic table."""
    cfg = EvaluationSection()
    out: dict = {}
    t = time.perf_counter()
    fid_pair = make_pair(pd.concat([train, holdout]), synth, holdout, cfg)  # fidelity: against all real rows
    rc, sc = fid_pair.codes(fid_pair.real), fid_pair.codes(synth)
    levels = [c.levels for c in fid_pair.columns]
    _ = [fidelity.tvd(rc[:, i], sc[:, i], k) for i, k in enumerate(levels)], fidelity.tvd_2way(rc, sc, levels)
    out["tvd_s"] = time.perf_counter() - t
    t = time.perf_counter()
    fid, extra = fidelity.block_metrics(fid_pair)
    figures.marginals(fid_pair)
    figures.heatmaps(fid_pair.names, extra["association_real"], extra["association_synthetic"])
    out["fidelity_s"] = time.perf_counter() - t
    t = time.perf_counter()
    pair = make_pair(train, synth, holdout, cfg, target=TARGET)  # utility and privacy: train vs holdout
    uti = utility.block_metrics(pair)
    out["utility_s"] = time.perf_counter() - t
    t = time.perf_counter()
    pri, pextra = privacy.block_metrics(pair)
    figures.dcr_histogram(pextra["dcr"], pextra["dcr_baseline"])
    figures.roc(pextra["fpr"], pextra["tpr"], pri["mia_auc"])
    out["privacy_s"] = time.perf_counter() - t
    out["total_s"] = out["fidelity_s"] + out["utility_s"] + out["privacy_s"]
    out |= {k: fid[k] for k in ("tvd_mean", "tvd_2way_mean", "tvd_2way_pairs", "propensity_auc", "mmd")}
    out |= {k: uti[k] for k in ("tstr_macro_f1", "trtr_macro_f1", "tstr_f1_ratio")}
    out |= {k: pri[k] for k in ("exact_copy_rate", "exact_copy_excess", "dcr_train_share", "mia_auc")}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--anchor-python", default="/work/venv-sdv/bin/python")
    ap.add_argument("--no-anchor", action="store_true")
    args = ap.parse_args()
    real = pd.read_csv(ADULT)
    order = np.random.default_rng(0).permutation(len(real))
    cut = round(0.8 * len(real))
    train, holdout = real.iloc[np.sort(order[:cut])], real.iloc[np.sort(order[cut:])]
    tables = synthetic_tables(train, len(real))
    small = tables["independent"].iloc[:1000]
    ours(train.iloc[:1000], holdout.iloc[:250], small)  # warm-up: imports, sklearn, matplotlib
    results: dict = {"rows_real": len(real), "rows_train": len(train), "rows_holdout": len(holdout),
                     "import_s": {"plugin": import_seconds(PLUGIN_IMPORT), "eager": import_seconds(EAGER_IMPORT)}}
    with tempfile.TemporaryDirectory() as tmp:
        paths = {"train": Path(tmp) / "train.csv", "holdout": Path(tmp) / "holdout.csv"}
        train.to_csv(paths["train"], index=False)
        holdout.to_csv(paths["holdout"], index=False)
        for name, synth in tables.items():
            row = {"ours": ours(train, holdout, synth)}
            anchor_ok = not args.no_anchor and Path(args.anchor_python).exists()
            if anchor_ok:
                sp = Path(tmp) / f"{name}.csv"
                synth.to_csv(sp, index=False)
                t = time.perf_counter()
                proc = subprocess.run([args.anchor_python, "-c", ANCHOR_CODE, str(paths["train"]),
                                       str(paths["holdout"]), str(sp)], capture_output=True, text=True,
                                      env={**os.environ, "OMP_NUM_THREADS": "1"})
                if proc.returncode == 0:
                    row["sdmetrics"] = json.loads(proc.stdout.strip().splitlines()[-1])
                    row["sdmetrics"]["process_s"] = time.perf_counter() - t
                else:
                    print(f"anchor failed: {proc.stderr[-2000:]}", file=sys.stderr)
            else:
                print(f"anchor not run ({args.anchor_python} missing or --no-anchor)", file=sys.stderr)
            results[name] = row
    results["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    report(results)
    out = ROOT / "benchmarks" / "results" / "bench_metrics.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=1, sort_keys=True))
    print(f"written {out}")


def report(results: dict) -> None:
    print(f"UCI Adult: {results['rows_real']} rows ({results['rows_train']} train / {results['rows_holdout']} "
          f"holdout), peak RSS of our process {results['peak_rss_mb']:.0f} MB")
    imp = results["import_s"]
    print(f"import medmgen_metrics.plugin (median of {IMPORT_RUNS}, fresh interpreter): {imp['plugin']:.2f} s; with "
          f"the metric modules (eager) {imp['eager']:.2f} s; eager / ours = {imp['eager'] / imp['plugin']:.1f}")
    for name in ("independent", "copy"):
        row = results[name]
        o, a = row["ours"], row.get("sdmetrics")
        print(f"\n[{name}] ours: 1-way + 2-way TVD {o['tvd_s']:.1f} s, fidelity {o['fidelity_s']:.1f} s, "
              f"utility {o['utility_s']:.1f} s, privacy {o['privacy_s']:.1f} s, total {o['total_s']:.1f} s")
        print(f"  2-way TVD {o['tvd_2way_mean']:.4f} ({o['tvd_2way_pairs']} pairs), 1-way {o['tvd_mean']:.4f}, "
              f"propensity AUC {o['propensity_auc']:.3f}, TSTR/TRTR F1 {o['tstr_f1_ratio']:.3f}, "
              f"exact copies {o['exact_copy_rate']:.3f}, DCR train share {o['dcr_train_share']:.3f}, "
              f"MIA AUC {o['mia_auc']:.3f}")
        if a:
            print(f"  SDMetrics: 1-way + 2-way TVD {a['tvd_s']:.1f} s, QualityReport {a['quality_s']:.1f} s (score "
                  f"{a['quality_score']:.3f}), DCROverfittingProtection {a['dcr_s']:.1f} s; 2-way TVD "
                  f"{a['tvd_2way_mean']:.4f} ({a['pairs']} pairs), 1-way {a['tvd_1way_mean']:.4f}, closer to training "
                  f"{a['closer_to_training']:.3f}")
            print(f"  ratios: SDMetrics TVDs / ours = {a['tvd_s'] / o['tvd_s']:.1f}; DCROverfittingProtection / our "
                  f"whole privacy_risk = {a['dcr_s'] / o['privacy_s']:.1f}; QualityReport / our whole fidelity = "
                  f"{a['quality_s'] / o['fidelity_s']:.2f}; |2-way TVD difference| = "
                  f"{abs(a['tvd_2way_mean'] - o['tvd_2way_mean']):.1e}, |1-way| = "
                  f"{abs(a['tvd_1way_mean'] - o['tvd_mean']):.1e}")


if __name__ == "__main__":
    main()

"""Tabular benchmark on UCI Adult: this plugin's synthesizers beside SDV's GaussianCopulaSynthesizer.

80/20 split of ``shared/data/adult/adult.csv.gz`` with seed 0. For each synthesizer:
fit time (on the 39,073 training rows), sample time for 48,842 and 1,000,000 rows, peak memory of the sampling, mean
and max TVD over the 14 one-way and 91 two-way marginals (synthetic vs the training
part), and TSTR vs TRTR F1 / ROC-AUC with scikit-learn's HistGradientBoostingClassifier
tested on the held-out 20%. SDV runs in its own venv (``--sdv-python``, default
``/work/venv-sdv/bin/python``; see plugins/tabular/README.md) through a subprocess, in
the same run. Prints one table and the ratios.

    OMP_NUM_THREADS=1 python benchmarks/bench_tabular.py [--big 1000000] [--no-sdv]

``--only memory``: peak RSS and wall time of ``medmgen.generate(spec, out=...)`` of a
copula block fitted on Adult (3*10^5, 10^6, 3*10^6 rows) with row-local constraints that
do repair rows (a clipped range, allowed values, fixed combinations), judged by every
tabular evaluator (``tabular_fidelity`` and the metrics plugin's fidelity, utility and
privacy_risk), each run in a fresh subprocess measured with
``getrusage(RUSAGE_CHILDREN)``. "streamed": the block is sampled, repaired, evaluated and
written chunk by chunk; anchor "in-memory": the same run with the block held whole (the
path before chunked repair, forced in the child by declaring no constraint row-local).
Each subprocess runs under ``flock /tmp/bench.lock``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import f1_score, roc_auc_score

from medmgen import seeds
from medmgen_tabular import fidelity, model
from medmgen_tabular.io import encode

ROOT = Path(__file__).resolve().parents[1]
ADULT = ROOT.parent / "shared" / "data" / "adult" / "adult.csv.gz"
TARGET = "income>50K"

SDV_CODE = r"""
import json, resource, sys, time, warnings
warnings.filterwarnings("ignore")
import pandas as pd
from sdv.metadata import Metadata
from sdv.single_table import GaussianCopulaSynthesizer
train_csv, out_csv, big, mode, small_n = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
df = pd.read_csv(train_csv)
meta = Metadata.detect_from_dataframes({"adult": df})
if mode == "categorical":
    meta.update_columns(column_names=list(df.columns), sdtype="categorical", table_name="adult")
t = time.perf_counter(); syn = GaussianCopulaSynthesizer(meta); syn.fit({"adult": df}); fit = time.perf_counter() - t
t = time.perf_counter(); s = syn.sample(num_rows=small_n); small = time.perf_counter() - t
s = s["adult"] if isinstance(s, dict) else s
s.to_csv(out_csv, index=False)
t = time.perf_counter(); syn.sample(num_rows=big, batch_size=100_000) if big else None; large = time.perf_counter() - t
print(json.dumps({"fit_s": fit, "sample_small_s": small, "sample_big_s": large if big else None,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def split(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    idx = np.random.default_rng(0).permutation(len(df))
    cut = int(0.8 * len(df))
    return df.iloc[idx[:cut]].reset_index(drop=True), df.iloc[idx[cut:]].reset_index(drop=True)


def utility(train: pd.DataFrame, test: pd.DataFrame) -> dict[str, float]:
    x, y = train.drop(columns=[TARGET]), train[TARGET]
    if y.nunique() < 2:
        return {"f1": float("nan"), "auc": float("nan")}
    clf = HistGradientBoostingClassifier(random_state=0).fit(x, y)
    xt, yt = test.drop(columns=[TARGET]), test[TARGET]
    return {"f1": f1_score(yt, clf.predict(xt)), "auc": roc_auc_score(yt, clf.predict_proba(xt)[:, 1])}


def tvd(train: pd.DataFrame, synth: pd.DataFrame) -> dict[str, float]:
    real, fake, sizes = [], [], []
    for c in train.columns:
        levels = np.union1d(train[c].to_numpy(), synth[c].to_numpy())
        real.append(np.searchsorted(levels, train[c].to_numpy()))
        fake.append(np.searchsorted(levels, synth[c].to_numpy()))
        sizes.append(len(levels))
    return fidelity.summary(real, fake, sizes)


def ours(name: str, train: pd.DataFrame, small_n: int, big: int) -> tuple[dict[str, float], pd.DataFrame]:
    table = pa.Table.from_pandas(train, preserve_index=False)
    t = time.perf_counter()
    columns = encode(table, 100_000, "adult")
    if name == "bayesnet":
        fitted = model.fit_tree(columns, 100, list(train.columns).index(TARGET))
    else:
        fitted = model.fit_copula(columns, independent=name == "independent",
                                  target=list(train.columns).index(TARGET), reorder_levels=20)
    fit = time.perf_counter() - t

    def draw(n: int) -> pa.Table:
        codes = model.sample_chunks(fitted.sample, n, 65_536,
                                    lambda i: seeds.state_words(seeds.stream(0, "bench", seeds.DATA, i), 1),
                                    len(columns), lambda _: None)
        return pa.table(model.decode(columns, codes), names=[c.name for c in columns])

    draw(1000)  # numba compile / cache load, not timed
    t = time.perf_counter()
    small = draw(small_n)
    t_small = time.perf_counter() - t
    tracemalloc.start()
    t = time.perf_counter()
    if big:
        draw(big)
    t_big = time.perf_counter() - t
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return {"fit_s": fit, "sample_small_s": t_small, "sample_big_s": t_big if big else None,
            "peak_mb": peak}, small.to_pandas()


MEMORY_CHILD = r"""
import json, sys, time
import medmgen, medmgen.builtins, medmgen_metrics.plugin, medmgen_tabular.plugin
from medmgen.plugins import load_registry
from medmgen_tabular import constraints
source, target, records, mode, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
reg = load_registry(entry_points=False, extra=[("core", medmgen.builtins), ("tabular", medmgen_tabular.plugin),
                                               ("metrics", medmgen_metrics.plugin)])
if mode == "in-memory":
    constraints.ROW_LOCAL = frozenset()
block = {"modality": "tabular", "generator": "copula", "source": source, "target": target, "records": records,
         "constraints": [{"kind": "range", "column": "age", "low": 5, "high": 70},
                         {"kind": "allowed_values", "column": "sex", "values": [0, 1]},
                         {"kind": "fixed_combinations", "columns": ["relationship", "sex"]}]}
t = time.perf_counter()
ds = medmgen.generate({"dataset": {"name": "mem", "seed": 1}, "blocks": {"people": block}}, out=out, registry=reg,
                      force=True)
(rep,) = ds.report["metrics"]["blocks"]["people"]["repairs"]
print(json.dumps({"seconds": time.perf_counter() - t, "repaired": rep["repaired"], "rejected": rep["rejected"],
                  "evaluators": sorted(k for k in ds.report["metrics"] if k != "blocks")}))
"""


def memory(sizes: list[int], out_json: Path | None) -> None:
    """Peak RSS of streamed vs in-memory generation and evaluation, one fresh subprocess per run."""
    wrap = ("import resource, subprocess, sys; p = subprocess.run(sys.argv[1:], capture_output=True, text=True, "
            "check=True); u = resource.getrusage(resource.RUSAGE_CHILDREN); "
            "print(p.stdout.strip().splitlines()[-1], '|', u.ru_maxrss, '|', u.ru_utime + u.ru_stime)")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            row: dict[str, object] = {"rows": n}
            for mode in ("streamed", "in-memory"):
                cmd = ["flock", "/tmp/bench.lock", sys.executable, "-c", wrap, sys.executable, "-c", MEMORY_CHILD,
                       str(ADULT), TARGET, str(n), mode, str(Path(tmp) / mode)]
                text, rss, cpu = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.rsplit("|", 2)
                info = json.loads(text)
                row[f"{mode}_s"] = round(info["seconds"], 2)
                row[f"{mode}_cpu_s"] = round(float(cpu), 2)
                row[f"{mode}_rss_mib"] = round(int(rss) / 1024, 1)
                row[f"{mode}_repaired"] = info["repaired"] + info["rejected"]
                row["evaluators"] = ",".join(info["evaluators"])
            row["rss_ratio"] = round(row["in-memory_rss_mib"] / row["streamed_rss_mib"], 2)
            rows.append(row)
            print(pd.DataFrame(rows).drop(columns="evaluators").to_string(index=False), flush=True)
    print("evaluators:", rows[-1]["evaluators"] if rows else "")
    if out_json:
        out_json.write_text(json.dumps(rows, indent=1))


def bootstrap(train: pd.DataFrame) -> pd.DataFrame:
    return train.iloc[np.random.default_rng(1).integers(0, len(train), len(train))].reset_index(drop=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--big", type=int, default=1_000_000, help="rows of the large sample (0: skip)")
    ap.add_argument("--no-sdv", action="store_true")
    ap.add_argument("--sdv-python", default="/work/venv-sdv/bin/python")
    ap.add_argument("--json", type=Path, help="also write the rows here")
    ap.add_argument("--only", choices=["memory"], help="run one section only")
    ap.add_argument("--sizes", default="300000,1000000,3000000", help="rows for --only memory")
    args = ap.parse_args()
    if args.only == "memory":
        return memory([int(x) for x in args.sizes.split(",")], args.json)
    df = pd.read_csv(ADULT)
    train, test = split(df)
    rows = {}
    rows["holdout (real 20%)"] = ({}, test)
    rows["bootstrap of train"] = ({}, bootstrap(train))
    for name in ("copula", "bayesnet", "independent"):
        rows[f"medmgen {name}"] = ours(name, train, len(df), args.big)
    if not args.no_sdv:
        with tempfile.TemporaryDirectory() as tmp:
            train_csv = Path(tmp) / "train.csv"
            train.to_csv(train_csv, index=False)
            for mode in ("detected", "categorical"):
                out = Path(tmp) / f"sdv-{mode}.csv"
                proc = subprocess.run([args.sdv_python, "-c", SDV_CODE, str(train_csv), str(out), str(args.big), mode,
                                       str(len(df))],
                                      capture_output=True, text=True)
                if proc.returncode:
                    sys.exit(f"SDV ({mode}) failed:\n{proc.stderr[-3000:]}")
                cost = json.loads(proc.stdout.strip().splitlines()[-1])
                rows[f"SDV GaussianCopula ({mode} sdtypes)"] = (cost, pd.read_csv(out))
    trtr = utility(train, test)
    table = []
    for name, (cost, synth) in rows.items():
        row = {"synthesizer": name, **tvd(train, synth[train.columns])}
        u = utility(synth[train.columns], test) if name != "holdout (real 20%)" else trtr
        row |= {"f1": u["f1"], "auc": u["auc"], "trtr_f1": trtr["f1"], "trtr_auc": trtr["auc"], **cost}
        table.append(row)
    out = pd.DataFrame(table)
    pd.set_option("display.width", 250)
    pd.set_option("display.max_columns", 30)
    print(out.round(4).to_string(index=False))
    for sdv in (r for r in table if r["synthesizer"].startswith("SDV")):
        sdv_t = sdv["fit_s"] + sdv["sample_small_s"]
        for r in table:
            if r["synthesizer"].startswith("medmgen"):
                ours_t = r["fit_s"] + r["sample_small_s"]
                big = (f", {args.big} rows {r['sample_big_s']:.2f}s vs {sdv['sample_big_s']:.2f}s"
                       if args.big else "")
                print(f"{r['synthesizer']} vs {sdv['synthesizer']}: fit+sample(48k) {ours_t:.3f}s vs {sdv_t:.3f}s "
                      f"({sdv_t / ours_t:.0f}x faster){big}; "
                      f"2-way TVD {r['tvd_2way_mean']:.4f} vs {sdv['tvd_2way_mean']:.4f}")
    print("peak_mb: medmgen = traced allocations while sampling the large sample; SDV = max RSS of its process")
    print(f"peak RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    if args.json:
        args.json.write_text(out.to_json(orient="records", indent=1))


if __name__ == "__main__":
    sys.exit(main())

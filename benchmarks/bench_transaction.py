"""Transaction benchmarks: MEDM-GEN's ``planted`` generator beside IBM Quest, in one run.

Sections (``--only`` picks some; default all):

- ``t10``: T10I4D1M shape. Quest ``gen lit -ntrans 1000 -tlen 10 -nitems 1 -npats 1000
  -patlen 4 -ascii`` (whole process) against 1,000,000 transactions of ours, mean length
  10, 1,000 items, 100 planted itemsets, with 1 and 2 workers (``--workers``). Two
  columns of ours: the issue's stages alone (generate + exact ledger, every feedback
  pass, the evaluators, SPMF text + Parquet, which the counting sweep writes into the
  package's ``data/`` as the chunks come, as ``generate(out=...)`` runs them) and the whole
  ``medmgen.generate(out=...)`` (manifest hashing, report and plots included). Wall
  items/s and CPU (user + sys) seconds per item, both as ratios to Quest's; CPU time is
  the figure load from other jobs on a shared machine affects less.
- ``recover``: how many of Quest's listed patterns are frequent at 1% in its own output,
  against ours (every planted itemset at its target support, counted exactly).
- ``scaling``: 10^5, 10^6, 10^7 transactions (``--scaling``) for both, whole processes:
  wall, CPU, peak RSS, time(10N)/time(N) (issue 4: <= 11; memory bounded by the chunk).
- ``fit``: ``fit_block`` on retail and T10I4D100K, generate the fitted spec, compare real
  and synthetic (item/length TVD, frequent itemsets per support level).

Every run of ours is a fresh subprocess timed after a small warm-up (numba's cache
loaded); wall and CPU come from inside it (``getrusage``, all threads), peak RSS from
``/usr/bin/time`` for the whole process. Quest is built from ``--quest-src`` (copied to
a temporary directory, ``make``). Figure 2 (feedback iterations) is
``benchmarks/figure2_feedback.py``.

    python benchmarks/bench_transaction.py [--only t10,recover] [--scaling 5,6,7] [--workers 1,2]

Results are printed and written to ``benchmarks/results/bench_transaction.json`` (the
sections run replace theirs; the others keep their last results).
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
QUEST_SRC = SHARED / "anchors" / "quest"
FIMI = SHARED / "data" / "fimi"
RESULTS = ROOT / "benchmarks" / "results" / "bench_transaction.json"
QUEST_RECORDED_S = 3.6  # the figure for T10I4D1M (10 M items) when Quest cannot be built

CHILD = r"""
import json, resource, sys, tempfile, time
from pathlib import Path
import medmgen
import pyarrow.parquet as pq
from medmgen.pipeline import run
from medmgen.plugins import load_registry
from medmgen.spec import load_spec
spec, out, workers, stages = json.loads(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1"

def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime

def timed(fn):
    w, c = time.perf_counter(), cpu()
    value = fn()
    return value, {"wall_s": time.perf_counter() - w, "cpu_s": cpu() - c}

warm = json.loads(json.dumps(spec)); warm["blocks"]["baskets"]["records"] = 2000
with tempfile.TemporaryDirectory() as tmp:
    medmgen.generate(warm, out=Path(tmp) / "warm", workers=workers)
    result = {}
    if stages:  # generate + exact ledger (every feedback pass) + evaluators, SPMF text + Parquet in data/
        registry = load_registry()
        data = Path(tmp) / "stages" / "data"
        data.mkdir(parents=True)
        def stage_run():  # as generate(out=...) runs them: the counting sweep writes the files into data/
            res = run(load_spec(spec, registry), registry, workers=workers, data_dir=data)
            res.blocks["baskets"].data.write_parquet(data, "baskets")
            return res
        _, result["stages"] = timed(stage_run)
ds, result["whole"] = timed(lambda: medmgen.generate(spec, out=out, force=True, workers=workers))
meta = pq.ParquetFile(out / "data" / "baskets.parquet").metadata  # item count without reading the data
items = sum(meta.row_group(g).column(0).num_values for g in range(meta.num_row_groups))
print(json.dumps(result | {
    "items": items, "passes": len(ds.report["iterations"]), "passed": ds.report["passed"],
    "planted": len(ds.ledger.patterns), "accidental": len(ds.ledger.accidental),
    "max_support_deviation": max((abs(p.realized_support - p.target_support)
                                  for p in ds.ledger.patterns if p.kind == "itemset"), default=0.0),
    "cost": ds.report["cost"]["stages"],
    "bytes": {p.name: p.stat().st_size for p in (out / "data").iterdir()}}))
"""


def t10_spec(records: int, seed: int = 1) -> dict[str, Any]:
    """T10I4D1M's shape: mean length 10, 1,000 items, 100 planted itemsets of 2-5 items."""
    return {
        "dataset": {"name": f"t10-{records}", "seed": seed},
        "blocks": {"baskets": {
            "modality": "transaction", "records": records, "items": 1000,
            "length": {"distribution": "poisson", "mean": 10.0},
            "random_itemsets": {"count": 100, "size": [2, 5], "support": [0.005, 0.03]},
        }},
    }


def timed(cmd: list[str], **kw: Any) -> tuple[dict[str, float], subprocess.CompletedProcess]:
    """Run ``cmd`` under ``/usr/bin/time``: wall and CPU (user + sys) seconds, peak RSS (MiB)."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as fh:
        start = time.perf_counter()
        proc = subprocess.run(["/usr/bin/time", "-f", "%U %S %M", "-o", fh.name, *cmd], capture_output=True,
                              text=True, check=False, env=os.environ | {"OMP_NUM_THREADS": "1"}, **kw)
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            raise RuntimeError(f"{cmd[0]} failed ({proc.returncode}): {proc.stderr[-2000:]}")
        user, system, rss = fh.read().split()[-3:]
        return {"wall_s": wall, "cpu_s": float(user) + float(system), "peak_rss_mib": int(rss) / 1024}, proc


def ours(spec: dict[str, Any], out: Path, workers: int, stages: bool) -> dict[str, Any]:
    """One fresh process: with ``stages``, the issue's stages timed alone, then ``medmgen.generate(out=...)``."""
    process, proc = timed([sys.executable, "-c", CHILD, json.dumps(spec), str(out), str(workers), str(int(stages))])
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result.update(process=process, workers=workers)
    return result


# ------------------------------------------------------------------- Quest
def build_quest(src: Path, work: Path) -> Path | None:
    if not src.is_dir():
        return None
    shutil.copytree(src, work / "quest")
    subprocess.run(["make"], cwd=work / "quest", check=True, capture_output=True)
    return work / "quest" / "gen"


def quest(gen: Path, thousands: float, out: Path, *, count: bool = True) -> dict[str, Any]:
    """Run Quest for T10I4D<thousands>K; with ``count``, parse its output for the item count."""
    name = str(out / f"T10I4D{thousands:g}K")
    process, _ = timed([str(gen), "lit", "-ntrans", f"{thousands:g}", "-tlen", "10", "-nitems", "1",
                        "-npats", "1000", "-patlen", "4", "-fname", name, "-ascii"])
    data = Path(name + ".data")
    run = {"process": process, "bytes": data.stat().st_size, "data": data, "patterns": Path(name + ".pat")}
    if count:
        offsets, items = read_quest_data(data)
        run.update(items=int(items.size), records=int(offsets.size - 1))
    return run


def read_quest_data(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Quest's ASCII lines ``TID TID NITEMS item...`` as CSR (ids as written)."""
    tokens = np.fromstring(path.read_bytes(), dtype=np.int64, sep=" ")
    heads = []
    pos = 0
    while pos < tokens.size:
        heads.append(pos)
        pos += 3 + int(tokens[pos + 2])
    heads_arr = np.asarray(heads, dtype=np.int64)
    lengths = tokens[heads_arr + 2]
    keep = np.ones(tokens.size, dtype=bool)
    keep[heads_arr] = keep[heads_arr + 1] = keep[heads_arr + 2] = False
    offsets = np.zeros(heads_arr.size + 1, dtype=np.int64)
    offsets[1:] = np.cumsum(lengths)
    return offsets, tokens[keep].astype(np.int32)


def read_quest_patterns(path: Path) -> list[list[int]]:
    lines = path.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("ItemSets:")) + 1
    return [sorted({int(t) for t in line.split()[2:]}) for line in lines[start:] if len(line.split()) > 2]


def quest_recoverability(run: dict[str, Any]) -> dict[str, Any]:
    from medmgen_transaction.fit import Transactions, support_count

    offsets, items = read_quest_data(run["data"])
    patterns = read_quest_patterns(run["patterns"])
    db = Transactions(offsets=offsets, items=items)
    support = support_count(db, patterns) / db.records
    return {"listed": len(patterns), "frequent_at_1pct": int((support >= 0.01).sum()),
            "frequent_at_0.5pct": int((support >= 0.005).sum()), "median_support": float(np.median(support))}


# -------------------------------------------------------------------- fit
def fit_section(out: Path) -> dict[str, Any]:
    import medmgen
    from medmgen_transaction.fit import Transactions, compare, fit_block

    results = {}
    for name in ("retail", "T10I4D100K"):
        path = FIMI / f"{name}.dat.gz"
        start = time.perf_counter()
        block = fit_block(path)
        fit_s = time.perf_counter() - start
        spec = {"dataset": {"name": name, "seed": 0}, "blocks": {"baskets": block}}
        start = time.perf_counter()
        ds = medmgen.generate(spec, out=out / f"fit-{name}", force=True)
        gen_s = time.perf_counter() - start
        synthetic = Transactions.read(out / f"fit-{name}" / "data" / "baskets.txt")
        results[name] = {"fit_seconds": fit_s, "generate_seconds": gen_s, "planted": len(block["itemsets"]),
                         "passes": len(ds.report["iterations"]), "passed": ds.report["passed"],
                         "accidental": len(ds.ledger.accidental),
                         **compare(Transactions.read(path), synthetic, (0.05, 0.02, 0.01, 0.005, 0.0025))}
    return results


# ------------------------------------------------------------------- main
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="t10,recover,scaling,fit", help="comma-separated sections")
    ap.add_argument("--scaling", default="5,6,7", help="log10 of the transaction counts")
    ap.add_argument("--workers", default="1,2", help="worker counts for the T10I4D1M rows and scaling")
    ap.add_argument("--quest-src", type=Path, default=QUEST_SRC)
    ap.add_argument("--results", type=Path, default=RESULTS)
    args = ap.parse_args()
    sections = set(args.only.split(","))
    workers = [int(w) for w in args.workers.split(",")]
    report: dict[str, Any] = {"machine": f"{platform.machine()}, {os.cpu_count()} cores, Python "
                              f"{platform.python_version()}, shared with other jobs (load average "
                              f"{os.getloadavg()[0]:.1f} at start)", "date": time.strftime("%Y-%m-%d")}
    print(report["machine"])
    with tempfile.TemporaryDirectory(prefix="bench-transaction-") as tmp:
        work = Path(tmp)
        gen = build_quest(args.quest_src, work)
        if "t10" in sections or "recover" in sections:
            theirs = quest(gen, 1000, work) if gen is not None else None
            mine = [ours(t10_spec(1_000_000), work / f"ours-1M-{w}", w, stages=True) for w in workers]
            report["t10"] = t10_rows(mine, theirs)
            if "recover" in sections and theirs is not None:
                rec = quest_recoverability(theirs)
                report["recover"] = {"quest": rec, "ours": {"planted": mine[0]["planted"],
                                                            "max_support_deviation": mine[0]["max_support_deviation"]}}
                print(f"recover   Quest: {rec['frequent_at_1pct']} of {rec['listed']} listed patterns frequent "
                      f"at 1% ({rec['frequent_at_0.5pct']} at 0.5%) | ours: all {mine[0]['planted']} planted at "
                      f"target (max |realized - target| {mine[0]['max_support_deviation']:.2e})")
            elif "recover" in sections:
                print("recover   skipped: Quest could not be built, so there is no output to count")
        if "scaling" in sections:
            report["scaling"] = scaling_rows(gen, work, [10 ** int(e) for e in args.scaling.split(",")], workers)
        if "fit" in sections:
            report["fit"] = fit_section(work)
            for name, r in report["fit"].items():
                levels = ", ".join(f"{x['support']:g}: {x['real']}/{x['synthetic']}" for x in r["frequent_itemsets"])
                print(f"fit       {name}: item TVD {r['item_tvd']:.4f}, length TVD {r['length_tvd']:.4f}, "
                      f"frequent itemsets real/synthetic {levels}; {r['passes']} pass(es), thresholds "
                      f"{'met' if r['passed'] else 'NOT met'}, {r['accidental']} accidental itemsets")
    args.results.parent.mkdir(parents=True, exist_ok=True)
    if args.results.is_file():  # sections not run this time keep their last results
        report = json.loads(args.results.read_text()) | report
    args.results.write_text(json.dumps(report, indent=1, default=str) + "\n")
    print(f"wrote {args.results}")


def t10_rows(mine: list[dict[str, Any]], theirs: dict[str, Any] | None) -> dict[str, Any]:
    """Items/s and CPU seconds per item, ours (stages, whole generate) against Quest's whole process."""
    if theirs is not None:
        q_rate = theirs["items"] / theirs["process"]["wall_s"]
        q_cpu = theirs["process"]["cpu_s"] / theirs["items"]
        note = "measured in this run"
    else:
        q_rate, q_cpu, note = 10_000_000 / QUEST_RECORDED_S, None, "recorded figure, Quest not built"
    print(f"T10I4D1M  Quest {q_rate / 1e6:.2f} M items/s ({note})"
          + (f", CPU {theirs['process']['cpu_s']:.2f} s" if theirs else ""))
    print(f"{'ours':<28}{'wall s':>8}{'M items/s':>11}{'x Quest':>9}{'CPU s':>8}{'CPU x Quest':>13}")
    rows = []
    for m in mine:
        for what, t in (("generate+ledger+text+Parquet", m["stages"]), ("medmgen.generate(out=...)", m["whole"])):
            rate = m["items"] / t["wall_s"]
            row = {"what": what, "workers": m["workers"], "wall_s": t["wall_s"], "cpu_s": t["cpu_s"],
                   "items_per_s": rate, "ratio_items_per_s": rate / q_rate,
                   "ratio_cpu": None if q_cpu is None else q_cpu / (t["cpu_s"] / m["items"])}
            rows.append(row)
            cpu_ratio = "-" if row["ratio_cpu"] is None else f"{row['ratio_cpu']:.2f}"
            print(f"  {what[:21]:<21} {m['workers']}w {t['wall_s']:8.2f}{rate / 1e6:11.2f}"
                  f"{row['ratio_items_per_s']:9.2f}{t['cpu_s']:8.2f}{cpu_ratio:>13}")
    return {"quest": _public(theirs), "quest_source": note, "quest_items_per_s": q_rate, "rows": rows,
            "runs": mine}


def scaling_rows(gen: Path | None, work: Path, sizes: list[int], workers: list[int]) -> list[dict[str, Any]]:
    """Whole processes at each size: ``medmgen.generate(out=...)`` per worker count, and Quest."""
    rows = []
    for n in sizes:
        row: dict[str, Any] = {"records": n}
        for w in workers:
            run = ours(t10_spec(n), work / f"ours-{n}", w, stages=False)
            shutil.rmtree(work / f"ours-{n}")
            row[f"ours_{w}w"] = {"wall_s": run["whole"]["wall_s"], "cpu_s": run["whole"]["cpu_s"],
                                 "peak_rss_mib": run["process"]["peak_rss_mib"],
                                 "text_bytes": run["bytes"]["baskets.txt"]}
        if gen is not None:
            q = quest(gen, n / 1000, work, count=False)
            q["data"].unlink()
            row["quest"] = _public(q)
        rows.append(row)
        line = "  ".join(f"{w}w {row[f'ours_{w}w']['wall_s']:.2f} s (CPU {row[f'ours_{w}w']['cpu_s']:.2f} s, "
                         f"peak {row[f'ours_{w}w']['peak_rss_mib']:.0f} MiB)" for w in workers)
        q = row.get("quest")
        print(f"scaling   N=10^{round(math.log10(n))}: ours {line}" + (
            f" | Quest {q['process']['wall_s']:.2f} s (CPU {q['process']['cpu_s']:.2f} s, peak "
            f"{q['process']['peak_rss_mib']:.0f} MiB)" if q else ""))
    for a, b in itertools.pairwise(rows):
        ratios = {w: b[f"ours_{w}w"]["wall_s"] / a[f"ours_{w}w"]["wall_s"] for w in workers}
        b["time_ratio_vs_previous"] = ratios
        print(f"scaling   time(10^{round(math.log10(b['records']))}) / time(10^{round(math.log10(a['records']))}): "
              + ", ".join(f"{w}w {r:.2f}" for w, r in ratios.items()) + " (must be <= 11)")
    return rows


def _public(run: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if run is None else {k: v for k, v in run.items() if k not in ("data", "patterns")}


if __name__ == "__main__":
    main()

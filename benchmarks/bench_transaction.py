"""Transaction benchmarks: MEDM-GEN's ``planted`` generator beside IBM Quest, in one run.

Sections (``--only`` picks some; default all):

- ``t10``: T10I4D1M shape. Quest ``gen lit -ntrans 1000 -tlen 10 -nitems 1 -npats 1000
  -patlen 4 -ascii`` against ``medmgen.generate`` of 1,000,000 transactions, mean length
  10, 1,000 items, 100 planted itemsets: generate + exact ledger + SPMF text + Parquet.
  Items/s of both and the ratio.
- ``recover``: how many of Quest's listed patterns are frequent at 1% in its own output,
  against ours (every planted itemset at its target support, counted exactly).
- ``scaling``: 10^5, 10^6, 10^7 transactions for both: wall time, peak RSS, time(10N)/time(N).
- ``fit``: ``fit_block`` on retail and T10I4D100K, generate the fitted spec, compare real
  and synthetic (item/length TVD, frequent itemsets per support level).

Every run of ours is a fresh subprocess timed around ``medmgen.generate`` after a small
warm-up (numba's cache loaded); peak RSS is ``/usr/bin/time``'s maximum resident set of
the whole process. Quest is built from ``--quest-src`` (copied to a temporary directory,
``make``). Figure 2 (feedback iterations) is ``benchmarks/figure2_feedback.py``.

    OMP_NUM_THREADS=1 python benchmarks/bench_transaction.py [--only t10,recover] [--scaling 5,6,7]

Results are printed and written to ``benchmarks/results/bench_transaction.json``.
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
import json, sys, tempfile, time
from pathlib import Path
import medmgen
import pyarrow.parquet as pq
spec, out = json.loads(sys.argv[1]), Path(sys.argv[2])
warm = json.loads(json.dumps(spec)); warm["blocks"]["baskets"]["records"] = 2000
with tempfile.TemporaryDirectory() as tmp:
    medmgen.generate(warm, out=Path(tmp) / "warm")
t = time.perf_counter()
ds = medmgen.generate(spec, out=out, force=True)
seconds = time.perf_counter() - t
table = pq.read_table(out / "data" / "baskets.parquet", columns=["items"])
items = int(table.column("items").combine_chunks().offsets[-1].as_py())
print(json.dumps({"seconds": seconds, "items": items, "passes": len(ds.report["iterations"]),
                  "passed": ds.report["passed"], "planted": len(ds.ledger.patterns),
                  "accidental": len(ds.ledger.accidental),
                  "max_support_deviation": max((abs(p.realized_support - p.target_support)
                                                for p in ds.ledger.patterns if p.kind == "itemset"), default=0.0),
                  "stages": ds.report["cost"]["stages"],
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


def timed(cmd: list[str], **kw: Any) -> tuple[float, float, subprocess.CompletedProcess]:
    """Run ``cmd`` under ``/usr/bin/time``: wall seconds, peak RSS (MiB), the process."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as fh:
        start = time.perf_counter()
        proc = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", fh.name, *cmd], capture_output=True,
                              text=True, check=False, **kw)
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            raise RuntimeError(f"{cmd[0]} failed ({proc.returncode}): {proc.stderr[-2000:]}")
        return wall, int(fh.read().split()[-1]) / 1024, proc


def ours(spec: dict[str, Any], out: Path) -> dict[str, Any]:
    wall, rss, proc = timed([sys.executable, "-c", CHILD, json.dumps(spec), str(out)])
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result.update(process_seconds=wall, peak_rss_mib=rss, items_per_s=result["items"] / result["seconds"])
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
    wall, rss, _ = timed([str(gen), "lit", "-ntrans", f"{thousands:g}", "-tlen", "10", "-nitems", "1",
                          "-npats", "1000", "-patlen", "4", "-fname", name, "-ascii"])
    data = Path(name + ".data")
    run = {"seconds": wall, "peak_rss_mib": rss, "bytes": data.stat().st_size, "data": data,
           "patterns": Path(name + ".pat")}
    if count:
        offsets, items = read_quest_data(data)
        run.update(items=int(items.size), records=int(offsets.size - 1), items_per_s=items.size / wall)
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
    ap.add_argument("--quest-src", type=Path, default=QUEST_SRC)
    ap.add_argument("--results", type=Path, default=RESULTS)
    args = ap.parse_args()
    sections = set(args.only.split(","))
    report: dict[str, Any] = {"machine": f"{platform.machine()}, {os.cpu_count()} cores, Python "
                              f"{platform.python_version()}", "date": time.strftime("%Y-%m-%d")}
    with tempfile.TemporaryDirectory(prefix="bench-transaction-") as tmp:
        work = Path(tmp)
        gen = build_quest(args.quest_src, work)
        if "t10" in sections or "recover" in sections:
            mine = ours(t10_spec(1_000_000), work / "ours-1M")
            if gen is not None:
                theirs = quest(gen, 1000, work)
                quest_rate, quest_note = theirs["items_per_s"], "measured"
            else:
                theirs = None
                quest_rate, quest_note = 10_000_000 / QUEST_RECORDED_S, "recorded figure, Quest not built"
            report["t10"] = {"ours": mine, "quest": _public(theirs), "quest_source": quest_note,
                             "ratio_items_per_s": mine["items_per_s"] / quest_rate}
            print(f"T10I4D1M  ours {mine['seconds']:.2f} s, {mine['items_per_s'] / 1e6:.2f} M items/s "
                  f"({mine['passes']} pass(es), max deviation {mine['max_support_deviation']:.2e}) | "
                  f"Quest {quest_rate / 1e6:.2f} M items/s ({quest_note}) | ratio "
                  f"{report['t10']['ratio_items_per_s']:.2f}x")
            if "recover" in sections and theirs is not None:
                rec = quest_recoverability(theirs)
                report["recover"] = {"quest": rec, "ours": {"planted": mine["planted"],
                                                            "max_support_deviation": mine["max_support_deviation"]}}
                print(f"recover   Quest: {rec['frequent_at_1pct']} of {rec['listed']} listed patterns frequent "
                      f"at 1% ({rec['frequent_at_0.5pct']} at 0.5%) | ours: all {mine['planted']} planted at "
                      f"target (max |realized - target| {mine['max_support_deviation']:.2e})")
            elif "recover" in sections:
                print("recover   skipped: Quest could not be built, so there is no output to count")
        if "scaling" in sections:
            rows = []
            for e in (int(x) for x in args.scaling.split(",")):
                n = 10**e
                mine = ours(t10_spec(n), work / f"ours-{n}")
                shutil.rmtree(work / f"ours-{n}")
                row = {"records": n, "ours": mine}
                if gen is not None:
                    theirs = quest(gen, n / 1000, work, count=False)
                    theirs["data"].unlink()
                    row["quest"] = _public(theirs)
                rows.append(row)
                q = row.get("quest")
                print(f"scaling   N=10^{e}: ours {mine['seconds']:.2f} s (process {mine['process_seconds']:.2f} s, "
                      f"peak {mine['peak_rss_mib']:.0f} MiB)" + (f" | Quest {q['seconds']:.2f} s, peak "
                      f"{q['peak_rss_mib']:.0f} MiB | ratio {q['seconds'] / mine['seconds']:.2f}x" if q else ""))
            for a, b in itertools.pairwise(rows):
                b["time_ratio_vs_previous"] = b["ours"]["seconds"] / a["ours"]["seconds"]
                print(f"scaling   time(10^{int(math.log10(b['records']))}) / time(10^"
                      f"{int(math.log10(a['records']))}) = {b['time_ratio_vs_previous']:.2f} (must be <= 11)")
            report["scaling"] = rows
        if "fit" in sections:
            report["fit"] = fit_section(work)
            for name, r in report["fit"].items():
                levels = ", ".join(f"{x['support']:g}: {x['real']}/{x['synthetic']}" for x in r["frequent_itemsets"])
                print(f"fit       {name}: item TVD {r['item_tvd']:.4f}, length TVD {r['length_tvd']:.4f}, "
                      f"frequent itemsets real/synthetic {levels}; {r['passes']} pass(es), thresholds "
                      f"{'met' if r['passed'] else 'NOT met'}, {r['accidental']} accidental itemsets")
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(report, indent=1, default=str) + "\n")
    print(f"wrote {args.results}")


def _public(run: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if run is None else {k: v for k, v in run.items() if k not in ("data", "patterns")}


if __name__ == "__main__":
    main()

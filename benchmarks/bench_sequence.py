"""Sequence benchmark: MEDM-GEN's ``planted`` sequence generator beside IBM Quest's seq mode, in one run.

Shape C10T2.5S4I1.25 (10 itemsets per sequence, 2.5 items per itemset, 10,000 items) at
10^5 and 10^6 sequences (``--sizes 5,6``):

- Quest: ``gen seq -ncust D/1000 -slen 10 -tlen 2.5 -seq.patlen 4 -lit.patlen 1.25 -ascii``,
  built from ``--quest-src`` (copied to a temporary directory, ``make``) and timed as a
  whole process. Items are counted from its ``.data`` file after the clock stops.
- Ours: the same shape (1 + Poisson(9) itemsets, 1 + Poisson(1.5) items per itemset) with
  100 random sequential patterns (2-6 itemsets of 1-2 items, support 0.5-2 %), in a fresh
  subprocess after a small warm-up (numba's cache loaded), once per ``--workers`` value
  (default 1 and 2), timed two ways in that process, ``--repeat`` times each (default 3;
  Quest's process as often): the issue's stages alone (every
  feedback pass, the exact ledger: support counting and the accidental-pattern miner, the
  evaluators, ``<block>.txt`` (SPMF) and ``<block>.parquet`` written into a ``data/``
  directory as ``generate(out=...)`` writes them, ahead, beside the counting) and the
  whole ``medmgen.generate(out=...)`` (adds the report page with its plots, ledger and
  manifest hashes). The transaction benchmark times the same two.

Each figure is the run of median wall time (every run's time is printed and kept: the
first run of a process pays this VM's first touches of fresh memory, up to +0.1 s at 10^5).
Prints wall time, items/s, the ratio ours/Quest, CPU time (user + sys, which load on a
shared machine affects less) and its ratio, time(10^6)/time(10^5), peak RSS
(``/usr/bin/time``) and our ledger's largest support deviation; writes
``benchmarks/results/bench_sequence.json``. Without Quest's source (``../shared`` absent)
the ratios use the figure recorded in ``shared/anchors/quest/README.md`` (2.4 M items in
4.0 s), scaled linearly.

    OMP_NUM_THREADS=1 python benchmarks/bench_sequence.py [--sizes 5,6] [--workers 1,2] [--repeat 3]
        [--quest-src DIR]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
QUEST_SRC = ROOT.parent / "shared" / "anchors" / "quest"
RESULTS = ROOT / "benchmarks" / "results" / "bench_sequence.json"
# shared/anchors/quest/README.md: C10T2.5S4I1.25D100K, 2.4 M items in 4.0 s on this machine kind
QUEST_RECORDED_ITEMS, QUEST_RECORDED_S = 2_400_000, 4.0

CHILD = r"""
import json, resource, statistics, sys, tempfile, time
from pathlib import Path
import medmgen
from medmgen.pipeline import run
from medmgen.plugins import load_registry
from medmgen.spec import load_spec
spec, out, workers, repeat = json.loads(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
warm = json.loads(json.dumps(spec)); warm["blocks"]["clicks"]["records"] = 2000
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
def timed(fn):
    c, t = cpu(), time.perf_counter()
    value = fn()
    return value, {"seconds": time.perf_counter() - t, "cpu_s": cpu() - c}
def median(runs):  # the run of median wall time, with the first (cold) run and every wall time beside it
    pick = sorted(runs, key=lambda r: r["seconds"])[(len(runs) - 1) // 2]
    return {**pick, "first_s": runs[0]["seconds"], "runs_s": [r["seconds"] for r in runs]}
with tempfile.TemporaryDirectory() as tmp:
    medmgen.generate(warm, out=Path(tmp) / "warm", workers=workers)
    registry = load_registry()
    staged = []
    for i in range(repeat):
        data = Path(tmp) / f"stages{i}" / "data"
        data.mkdir(parents=True)
        def stages():  # as generate(out=...) runs them: the files are written ahead into data/
            res = run(load_spec(spec, registry), registry, workers=workers, data_dir=data)
            res.blocks["clicks"].data.write_parquet(data, "clicks")
            res.blocks["clicks"].data.write_extra(data, "clicks")
        staged.append(timed(stages)[1])  # nothing kept: each run starts from the same memory
    wholes = [timed(lambda: medmgen.generate(spec, out=out, force=True, workers=workers)) for _ in range(repeat)]
ds = wholes[-1][0]
m = ds.report["metrics"]["blocks"]["clicks"]
print(json.dumps({"stages": median(staged), "whole": median([w for _, w in wholes]), "items": m["items"],
                  "itemsets": m["itemsets"], "passes": len(ds.report["iterations"]), "passed": ds.report["passed"],
                  "planted": len(ds.ledger.patterns), "accidental": len(ds.ledger.accidental),
                  "max_support_deviation": ds.report["metrics"]["spec_error"]["max_support_deviation"],
                  "cost": ds.report["cost"]["stages"],
                  "bytes": {p.name: p.stat().st_size for p in (out / "data").iterdir()}}))
"""

def spec(records: int) -> dict[str, Any]:
    """C10T2.5S4I1.25 over 10,000 items, 100 planted sequential patterns."""
    return {
        "dataset": {"name": f"c10t2.5-{records}", "seed": 1},
        "blocks": {"clicks": {
            "modality": "sequence", "records": records, "items": 10_000,
            "itemsets": {"distribution": "poisson", "mean": 10.0},
            "itemset_size": {"distribution": "poisson", "mean": 2.5},
            "random_sequential_patterns": {"count": 100, "length": [2, 6], "itemset_size": [1, 2],
                                           "support": [0.005, 0.02]},
        }},
    }


def timed(cmd: list[str], **kw: Any) -> tuple[float, float, float, subprocess.CompletedProcess]:
    """Run ``cmd`` under ``/usr/bin/time``: wall seconds, CPU seconds (user + sys), peak RSS (MiB), the process."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as fh:
        start = time.perf_counter()
        proc = subprocess.run(["/usr/bin/time", "-f", "%M %U %S", "-o", fh.name, *cmd], capture_output=True,
                              text=True, **kw)
        wall = time.perf_counter() - start
        if proc.returncode not in (0, 1):
            raise RuntimeError(f"{cmd[0]} failed ({proc.returncode}): {proc.stderr[-2000:]}")
        rss, user, sys_ = fh.read().strip().splitlines()[-1].split()
    return wall, float(user) + float(sys_), int(rss) / 1024, proc


def ours(records: int, out: Path, workers: int, repeat: int) -> dict[str, Any]:
    wall, _, rss, proc = timed([sys.executable, "-c", CHILD, json.dumps(spec(records)), str(out), str(workers),
                                str(repeat)])
    run = json.loads(proc.stdout.strip().splitlines()[-1])
    run.update(workers=workers, process_s=wall, peak_rss_mb=rss)
    for what in ("stages", "whole"):
        t = run[what]
        t.update(items_per_s=run["items"] / t["seconds"], items_per_cpu_s=run["items"] / t["cpu_s"])
    shutil.rmtree(out, ignore_errors=True)
    return run


def build_quest(src: Path, work: Path) -> Path | None:
    if not src.is_dir():
        return None
    shutil.copytree(src, work / "quest")
    subprocess.run(["make"], cwd=work / "quest", check=True, capture_output=True)
    return work / "quest" / "gen"


def quest(gen: Path | None, records: int, work: Path, repeat: int) -> dict[str, Any]:
    """Quest's whole process on this machine (the run of median wall time of ``repeat``), or (no
    source) the recorded figure scaled to ``records``."""
    if gen is None:
        items = QUEST_RECORDED_ITEMS * records / 100_000
        wall = QUEST_RECORDED_S * records / 100_000
        return {"seconds": wall, "cpu_s": None, "peak_rss_mb": None, "items": items, "itemsets": None,
                "items_per_s": items / wall, "items_per_cpu_s": None, "source": "recorded figure"}
    cmd = [str(gen), "seq", "-ncust", f"{records / 1000:g}", "-slen", "10", "-tlen", "2.5", "-seq.patlen", "4",
           "-lit.patlen", "1.25", "-fname", "C10", "-ascii"]
    runs = [timed(cmd, cwd=work)[:3] for _ in range(repeat)]
    wall, cpu, rss = sorted(runs)[(repeat - 1) // 2]
    items = itemsets = 0
    with open(work / "C10.data") as f:
        for line in f:
            itemsets += 1
            items += int(line.split(maxsplit=3)[2])
    for p in work.glob("C10.*"):
        p.unlink()
    return {"seconds": wall, "cpu_s": cpu, "peak_rss_mb": rss, "items": items, "itemsets": itemsets,
            "items_per_s": items / wall, "items_per_cpu_s": items / cpu, "first_s": runs[0][0],
            "runs_s": [r[0] for r in runs], "source": "measured in this run"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="5,6", help="powers of ten of sequences (default 5,6)")
    ap.add_argument("--workers", default="1,2", help="our --workers values, each run separately (default 1,2)")
    ap.add_argument("--quest-src", type=Path, default=QUEST_SRC)
    ap.add_argument("--repeat", type=int, default=3, help="runs of each timing, median reported (default 3)")
    args = ap.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    sizes = [10 ** int(x) for x in args.sizes.split(",")]
    workers = [int(x) for x in args.workers.split(",")]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        gen = build_quest(args.quest_src, work)
        for n in sizes:
            q = quest(gen, n, work, args.repeat)
            cpu = "" if q["cpu_s"] is None else f" (cpu {q['cpu_s']:6.2f} s)"
            print(f"C10T2.5S4I1.25 D={n:>9,}: Quest {q['seconds']:6.2f} s{cpu} {q['items']:>11,.0f} items "
                  f"{q['items_per_s'] / 1e6:5.2f} M items/s ({q['source']})", flush=True)
            for w in workers:
                o = ours(n, work / f"ours-{n}", w, args.repeat)
                row = {"records": n, "workers": w, "quest": q, "ours": o}
                print(f"{'':>27} ours --workers {w}: {o['items']:>11,} items ({o['passes']} pass(es), max dev "
                      f"{o['max_support_deviation']:.1e}, {o['accidental']} accidental, {o['peak_rss_mb']:.0f} MiB)")
                for what, label in (("stages", "generate+ledger+files"), ("whole", "medmgen.generate(out=)")):
                    t = o[what]
                    row[f"ratio_{what}"] = t["items_per_s"] / q["items_per_s"]
                    cpu_ratio = "" if q["cpu_s"] is None else \
                        f", {t['items_per_cpu_s'] / q['items_per_cpu_s']:.1f}x cpu"
                    print(f"{'':>29}{label:<24} {t['seconds']:6.2f} s (cpu {t['cpu_s']:6.2f} s) "
                          f"{t['items_per_s'] / 1e6:5.2f} M items/s | {row[f'ratio_{what}']:.1f}x wall{cpu_ratio} "
                          f"[runs {' '.join(f'{x:.3f}' for x in t['runs_s'])}]", flush=True)
                rows.append(row)
    for w in workers:
        mine = [r for r in rows if r["workers"] == w]
        for a, b in itertools.pairwise(mine):
            k = b["records"] / a["records"]
            whole, staged = (b["ours"][x]["seconds"] / a["ours"][x]["seconds"] for x in ("whole", "stages"))
            print(f"scaling x{k:g} (--workers {w}): ours time x{whole:.2f} (stages x{staged:.2f}), "
                  f"Quest time x{b['quest']['seconds'] / a['quest']['seconds']:.2f}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"machine": f"{os.cpu_count()} cores, {platform.machine()}, Python "
                                   f"{platform.python_version()}", "date": time.strftime("%Y-%m-%d %H:%M UTC",
                                                                                          time.gmtime()),
                                   "rows": rows}, indent=1) + "\n")
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

"""Transaction scaling: wall time and peak memory of ``medmgen generate`` at 10^5, 10^6, 10^7.

Issue 4 asks for linear time (``time(10N) / time(N) <= 11``) and a peak memory bounded
by the chunk size, not by N. Each size runs ``medmgen generate`` of a T10I4-shaped block
(Poisson mean length 10, 1,000 items, 50 random planted itemsets of 2-6 items at support
0.5-2%, the default 65,536-record chunk) as a fresh subprocess under ``/usr/bin/time -v``:
wall time and maximum resident set of the whole process (interpreter, numba and pyarrow
included), the generate stage's wall time from ``report.json`` (``cost``; writing the
files is the rest) and the SPMF text size; a 1,000-record run gives the start-up floor.
The anchor, IBM Quest (``gen lit -ntrans N/1000 -tlen 10 -nitems 1 -npats 1000 -patlen 4
-ascii``, built from ``--quest-src``), runs the same sizes in the same run. Printed: both
sides, the ratios between consecutive sizes and our time and memory relative to Quest's.

    OMP_NUM_THREADS=1 python benchmarks/bench_transaction_scaling.py [--sizes 5,6,7] [--workers 1]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MEDMGEN = str(Path(sys.executable).with_name("medmgen"))

SPEC = """\
[dataset]
name = "scaling"
seed = 7

[blocks.baskets]
modality = "transaction"
records = {records}
items = 1_000
length = {{ distribution = "poisson", mean = 10.0 }}

[blocks.baskets.random_itemsets]
count = 50
size = [2, 6]
support = [0.005, 0.02]
"""


def timed(cmd: list[str], cwd: Path | None = None) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of ``cmd`` from ``/usr/bin/time -v``."""
    proc = subprocess.run(["/usr/bin/time", "-v", *cmd], cwd=cwd, capture_output=True, text=True,
                          env=os.environ | {"OMP_NUM_THREADS": "1"})
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed:\n{proc.stdout}\n{proc.stderr}")
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)", proc.stderr)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    assert wall and rss, proc.stderr
    seconds = int(wall.group(1) or 0) * 3600 + int(wall.group(2)) * 60 + float(wall.group(3))
    return seconds, int(rss.group(1)) / 1024


def ours(records: int, work: Path, workers: int) -> dict[str, Any]:
    spec = work / f"scaling_{records}.toml"
    spec.write_text(SPEC.format(records=records))
    out = work / f"out_{records}"
    seconds, rss = timed([MEDMGEN, "generate", str(spec), "-o", str(out), "--force", "-q",
                          "--workers", str(workers)])
    text = (out / "data" / "baskets.txt").stat().st_size
    stages = json.loads((out / "report.json").read_text())["cost"]["stages"]
    shutil.rmtree(out)
    return {"seconds": seconds, "peak_rss_mib": rss, "text_mib": text / 2**20,
            "generate_seconds": stages["generate"]["wall_s"]}


def quest(gen: Path, records: int, work: Path) -> dict[str, Any]:
    name = work / f"quest_{records}"
    seconds, rss = timed([str(gen), "lit", "-ntrans", f"{records / 1000:g}", "-tlen", "10", "-nitems", "1",
                          "-npats", "1000", "-patlen", "4", "-fname", str(name), "-ascii"])
    size = Path(f"{name}.data").stat().st_size
    for suffix in (".data", ".pat"):
        Path(f"{name}{suffix}").unlink(missing_ok=True)
    return {"seconds": seconds, "peak_rss_mib": rss, "text_mib": size / 2**20}


def build_quest(src: Path, work: Path) -> Path | None:
    if not (src / "Makefile").is_file():
        return None
    shutil.copytree(src, work / "quest")
    subprocess.run(["make"], cwd=work / "quest", check=True, capture_output=True)
    return work / "quest" / "gen"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="5,6,7", help="powers of ten (default 5,6,7)")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--quest-src", type=Path, default=ROOT.parent / "shared" / "anchors" / "quest")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "bench_transaction_scaling.json")
    args = parser.parse_args()
    sizes = [10 ** int(p) for p in args.sizes.split(",")]
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        gen = build_quest(args.quest_src, work)
        ours(1_000, work, args.workers)  # warm numba's cache
        startup = ours(1_000, work, args.workers)
        print(f"N={1_000:>10,}  ours {startup['seconds']:8.2f} s {startup['peak_rss_mib']:8.1f} MiB  "
              "(start-up: interpreter, plugins, numba cache)", flush=True)
        for n in sizes:
            row: dict[str, Any] = {"records": n, "ours": ours(n, work, args.workers)}
            row["quest"] = quest(gen, n, work) if gen else None
            rows.append(row)
            q = row["quest"] or {}
            print(f"N={n:>10,}  ours {row['ours']['seconds']:8.2f} s {row['ours']['peak_rss_mib']:8.1f} MiB"
                  f"  quest {q.get('seconds', float('nan')):8.2f} s {q.get('peak_rss_mib', float('nan')):8.1f} MiB",
                  flush=True)
    print("\nratios between consecutive sizes (time(10N)/time(N) must be <= 11):")
    for a, b in itertools.pairwise(rows):
        line = (f"  {a['records']:,} -> {b['records']:,}: ours time x{b['ours']['seconds'] / a['ours']['seconds']:.2f}"
                f", memory x{b['ours']['peak_rss_mib'] / a['ours']['peak_rss_mib']:.2f}")
        if a["quest"] and b["quest"]:
            line += (f"; quest time x{b['quest']['seconds'] / a['quest']['seconds']:.2f}"
                     f", memory x{b['quest']['peak_rss_mib'] / a['quest']['peak_rss_mib']:.2f}")
        print(line)
    print("\nours, generate stage only (report.json cost: every feedback pass, exact ledger, miner):")
    for a, b in itertools.pairwise(rows):
        ga, gb = a["ours"]["generate_seconds"], b["ours"]["generate_seconds"]
        print(f"  {a['records']:,} -> {b['records']:,}: {ga:.2f} s -> {gb:.2f} s, x{gb / ga:.2f}")
    if all(r["quest"] for r in rows):
        print("\nours / quest at each size:")
        for r in rows:
            print(f"  N={r['records']:,}: time x{r['ours']['seconds'] / r['quest']['seconds']:.2f}, "
                  f"memory x{r['ours']['peak_rss_mib'] / r['quest']['peak_rss_mib']:.2f}")
    else:
        print("\nQuest not built (no --quest-src): no anchor ratios")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    machine = f"{platform.machine()} {platform.processor() or platform.system()}, {os.cpu_count()} CPUs"
    result = {"machine": machine, "workers": args.workers, "startup": startup, "rows": rows}
    args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()

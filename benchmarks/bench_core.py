"""Core overhead: what every ``medmgen`` command and every package costs before any data.

Runs, in the same session and interleaved (median of ``--repeat`` fresh processes):
the bare interpreter (anchor), ``import numpy, pyarrow`` (the floor of any Arrow tool),
``medmgen --version``, ``medmgen plugins`` (every installed plugin loaded) and
``medmgen generate`` of the example coin spec (spec, plan, one pass, report.html with
plots, manifest hashing): the fixed cost a dataset package adds to its generator.
Prints one row per command with its ratio to the bare interpreter.

    python benchmarks/bench_core.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    out = Path(tempfile.mkdtemp(prefix="bench-core-"))
    cases = {
        "python -c pass (anchor)": [sys.executable, "-c", "pass"],
        "import numpy, pyarrow": [sys.executable, "-c", "import numpy, pyarrow"],
        "medmgen --version": [str(BIN / "medmgen"), "--version"],
        "medmgen plugins": [str(BIN / "medmgen"), "plugins"],
        "medmgen generate coin.toml (10,000 rows)": [
            str(BIN / "medmgen"), "-q", "generate", str(ROOT / "examples/third_party_plugin/coin.toml"),
            "-o", str(out / "pkg"), "--force"],
    }
    for cmd in cases.values():  # warm caches (numba, pyc) once
        timed(cmd)
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.repeat):
        for name, cmd in cases.items():
            times[name].append(timed(cmd))
    anchor = statistics.median(times["python -c pass (anchor)"])
    rows = []
    for name, ts in times.items():
        med = statistics.median(ts)
        rows.append({"what": name, "median_s": round(med, 3), "ratio_to_python": round(med / anchor, 1)})
        print(f"{name:45s} {med:7.3f} s  {med / anchor:6.1f}x python")
    (ROOT / "benchmarks" / "results").mkdir(exist_ok=True)
    (ROOT / "benchmarks" / "results" / "bench_core.json").write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()

"""Figure 2 of the MEDM-GEN paper: max support deviation per feedback iteration.

One transaction spec with heavy pattern overlap (40 random itemsets of 3-6 items over
200 ids, 60% of each pattern's items taken from earlier patterns, supports 2-10%),
generated for N = 10^3, 10^4 and 10^5 transactions. The controller's path does not
depend on the tolerance until it stops, so each N runs all 8 passes (tolerance set to
1e-9) and the figure marks the default tolerance 0.001: the pass where a curve first
drops below it is where a default run stops. Each run's ``report.json`` lists the
iterations; the script plots the largest |realized - target| support per iteration and
writes ``docs/figure2_feedback.svg`` (deterministic bytes) and
``benchmarks/results/figure2_feedback.json``.

    OMP_NUM_THREADS=1 python benchmarks/figure2_feedback.py
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

import medmgen

ROOT = Path(__file__).resolve().parents[1]
FIGURE = ROOT / "docs" / "figure2_feedback.svg"
RESULTS = ROOT / "benchmarks" / "results" / "figure2_feedback.json"
TOLERANCE = 0.001
PASSES = 8


def overlap_spec(records: int, seed: int = 7) -> dict[str, Any]:
    return {
        "dataset": {"name": f"figure2-{records}", "seed": seed},
        "feedback": {"max_iterations": PASSES},
        "thresholds": {"max_support_deviation": 1e-9},
        "blocks": {"baskets": {
            "modality": "transaction", "records": records, "items": 200,
            "length": {"distribution": "poisson", "mean": 10.0},
            "random_itemsets": {"count": 40, "size": [3, 6], "support": [0.02, 0.1], "overlap": 0.6},
        }},
    }


def deviations(records: int, out: Path) -> list[float]:
    medmgen.generate(overlap_spec(records), out=out, force=True)
    report = json.loads((out / "report.json").read_text())
    return [it["max_deviation"].get("support", 0.0) for it in report["iterations"]]


def plot(series: dict[int, list[float]], path: Path) -> None:
    plt.rcParams["svg.hashsalt"] = "medmgen-figure2"
    fig, ax = plt.subplots(figsize=(7.2, 3.6))
    for n, ys in series.items():
        ax.plot(range(len(ys)), [max(y, 1e-6) for y in ys], marker="o", label=f"N = {n:,}")
    ax.axhline(TOLERANCE, color="grey", linestyle="--", linewidth=1, label="tolerance 0.001")
    ax.set_yscale("log")
    ax.set_xlabel("feedback iteration")
    ax.set_ylabel("max |realized - target| support")
    ax.set_xticks(range(max(len(ys) for ys in series.values())))
    ax.set_title("Feedback convergence, heavy pattern overlap")
    ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, metadata={"Date": None})
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="3,4,5", help="log10 of the transaction counts")
    ap.add_argument("--figure", type=Path, default=FIGURE)
    ap.add_argument("--results", type=Path, default=RESULTS)
    args = ap.parse_args()
    series: dict[int, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="figure2-") as tmp:
        for e in (int(x) for x in args.sizes.split(",")):
            n = 10**e
            series[n] = deviations(n, Path(tmp) / str(n))
            held = next((i for i, d in enumerate(series[n]) if d <= TOLERANCE), None)
            print(f"N = {n:>7,}: " + "  ".join(f"{d:.5f}" for d in series[n])
                  + f"  (<= {TOLERANCE} from pass {held})")
    plot(series, args.figure)
    args.results.parent.mkdir(parents=True, exist_ok=True)
    block = {k: v for k, v in overlap_spec(0)["blocks"]["baskets"].items() if k != "records"}
    summary = {"tolerance": TOLERANCE, "block": block,
               "max_support_deviation": {str(n): s for n, s in series.items()},
               "first_pass_within_tolerance": {str(n): next((i for i, d in enumerate(s) if d <= TOLERANCE), None)
                                               for n, s in series.items()}}
    args.results.write_text(json.dumps(summary, indent=1) + "\n")
    print(f"wrote {args.figure} and {args.results}")


if __name__ == "__main__":
    main()

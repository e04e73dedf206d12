"""Graph benchmarks: MEDM-GEN's ``planted`` generator beside networkx LFR and igraph SBM, in one run.

Sections (``--only`` picks some; default all):

- ``speed``: 10^4, 10^5, 10^6 nodes (``--sizes 4,5,6``), average degree 15, maximum
  degree 50, tau1 = 2.5, tau2 = 1.5, community sizes 20..200, mu = 0.3. Ours: a fresh
  subprocess warms up (numba's on-disk cache), then times ``medmgen.generate(spec)`` in
  memory (plan + edges + exact ledger + evaluation), then writes the package (Parquet,
  edge-list text, ledger, report) and times that too. networkx ``LFR_benchmark_graph``
  with the same parameters, each size capped at ``--lfr-cap`` seconds. igraph's C
  ``Graph.SBM`` with blocks of 1,000 nodes (its dense preference matrix cannot hold LFR's
  thousands of communities) and p_in/p_out set for the same mu and average degree.
  For each: wall time, edges/s, peak RSS of the process, realized mu (fraction of edges
  between communities), self-loops, largest degree; ratios LFR/ours and SBM/ours.
- ``mixing``: 10^4 nodes at mu = 0.1, 0.3, 0.5: realized mu of ours and of LFR, largest
  per-community deviation of ours, and networkx Louvain (seeded) NMI with the number of
  communities found beside the number planted.
- ``overlap``: the same sizes with 10% of nodes in 2 communities (``overlap``) beside the
  same spec without overlap (networkx's LFR has no overlapping option, so our flat run is
  the anchor): time, feedback passes, overall and worst per-community mixing deviation.

    OMP_NUM_THREADS=1 python benchmarks/bench_graph.py [--only speed,mixing,overlap] [--sizes 4,5,6] [--lfr-cap 300]

Sections not run keep their earlier results in the JSON file.

igraph is a benchmark-only dependency (``pip install igraph``); a missing anchor is
reported as such, never silently skipped. Results are printed and written to
``benchmarks/results/bench_graph.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "bench_graph.json"
PARAMS = {"avg_degree": 15, "max_degree": 50, "tau1": 2.5, "tau2": 1.5, "size": [20, 200]}

OURS = r"""
import json, resource, sys, time, tempfile
from pathlib import Path
import numpy as np
import medmgen
n, mu, p = int(sys.argv[1]), float(sys.argv[2]), json.loads(sys.argv[3])
more = json.loads(sys.argv[4]) if len(sys.argv) > 4 else {}
def spec(nodes):
    return {"dataset": {"name": "bench", "seed": 1}, "blocks": {"net": {
        "modality": "graph", "nodes": nodes, "avg_degree": p["avg_degree"], "max_degree": p["max_degree"],
        "degree_exponent": p["tau1"], "community_exponent": p["tau2"], "community_size": p["size"],
        "mixing": mu, **more}}}
medmgen.generate(spec(2000))
t = time.perf_counter()
ds = medmgen.generate(spec(n))
mem = time.perf_counter() - t
with tempfile.TemporaryDirectory() as tmp:
    t = time.perf_counter()
    medmgen.generate(spec(n), out=Path(tmp) / "pkg")
    pkg = time.perf_counter() - t
m = ds.report["metrics"]["blocks"]["net"]
devs = [abs(q.realized_mixing - q.target_mixing) for q in ds.ledger.patterns if q.kind == "community"]
e = ds.table("net", "edges")
src, dst = e.column("src").to_numpy(), e.column("dst").to_numpy()
print(json.dumps({"seconds": mem, "package_seconds": pkg, "edges": m["edges"], "mu": m["realized_mixing"],
                  "max_community_deviation": max(devs), "self_loops": int((src == dst).sum()),
                  "max_degree": m["max_degree"], "iterations": len(ds.report["iterations"]),
                  "communities": m["communities"],
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

LFR = r"""
import json, resource, sys, time
import networkx as nx
n, mu, p = int(sys.argv[1]), float(sys.argv[2]), json.loads(sys.argv[3])
for seed in range(1, 6):
    t = time.perf_counter()
    try:
        g = nx.LFR_benchmark_graph(n, p["tau1"], p["tau2"], mu, average_degree=p["avg_degree"],
                                   max_degree=p["max_degree"], min_community=p["size"][0],
                                   max_community=p["size"][1], seed=seed)
    except nx.ExceededMaxIterations:
        continue
    secs = time.perf_counter() - t
    break
else:
    print(json.dumps({"error": "ExceededMaxIterations for seeds 1..5"}))
    sys.exit(0)
label = {}
for v in g:
    label[v] = min(g.nodes[v]["community"])
crossing = sum(1 for u, v in g.edges() if label[u] != label[v])
print(json.dumps({"seconds": secs, "edges": g.number_of_edges(), "mu": crossing / g.number_of_edges(),
                  "self_loops": nx.number_of_selfloops(g), "max_degree": max(d for _, d in g.degree()),
                  "communities": len(set(label.values())), "seed": seed,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

SBM = r"""
import json, resource, sys, time
import numpy as np
import igraph
n, mu, p = int(sys.argv[1]), float(sys.argv[2]), json.loads(sys.argv[3])
block = 1000
k = n // block
sizes = [block] * k
p_in = (1 - mu) * p["avg_degree"] / (block - 1)
p_out = mu * p["avg_degree"] / (n - block)
pref = [[p_in if i == j else p_out for j in range(k)] for i in range(k)]
t = time.perf_counter()
g = igraph.Graph.SBM(pref, sizes, directed=False, allowed_edge_types="simple")
secs = time.perf_counter() - t
e = np.array(g.get_edgelist(), dtype=np.int64)
crossing = int((e[:, 0] // block != e[:, 1] // block).sum())
print(json.dumps({"seconds": secs, "edges": g.ecount(), "mu": crossing / g.ecount(), "self_loops": 0,
                  "max_degree": max(g.degree()), "communities": k,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

MIXING = r"""
import json, sys
import numpy as np
import networkx as nx
from sklearn.metrics import normalized_mutual_info_score as nmi
import medmgen
n, mu, p, which = int(sys.argv[1]), float(sys.argv[2]), json.loads(sys.argv[3]), sys.argv[4]
if which == "ours":
    ds = medmgen.generate({"dataset": {"name": "bench", "seed": 1}, "blocks": {"net": {
        "modality": "graph", "nodes": n, "avg_degree": p["avg_degree"], "max_degree": p["max_degree"],
        "degree_exponent": p["tau1"], "community_exponent": p["tau2"], "community_size": p["size"],
        "mixing": mu}}})
    e = ds.table("net", "edges")
    g = nx.Graph()
    g.add_nodes_from(range(n))
    g.add_edges_from(zip(e.column("src").to_pylist(), e.column("dst").to_pylist()))
    truth = ds.table("net", "nodes").column("community").to_numpy()
    extra = {"max_community_deviation": max(abs(q.realized_mixing - mu) for q in ds.ledger.patterns
                                            if q.kind == "community")}
else:
    for seed in range(1, 6):
        try:
            g = nx.LFR_benchmark_graph(n, p["tau1"], p["tau2"], mu, average_degree=p["avg_degree"],
                                       max_degree=p["max_degree"], min_community=p["size"][0],
                                       max_community=p["size"][1], seed=seed)
            break
        except nx.ExceededMaxIterations:
            continue
    truth = np.array([min(g.nodes[v]["community"]) for v in range(n)])
    extra = {"self_loops": nx.number_of_selfloops(g), "max_degree": max(d for _, d in g.degree())}
    g.remove_edges_from(list(nx.selfloop_edges(g)))
crossing = sum(1 for u, v in g.edges() if truth[u] != truth[v]) / g.number_of_edges()
parts = nx.community.louvain_communities(g, seed=1)
label = np.empty(n, np.int64)
for i, c in enumerate(parts):
    label[list(c)] = i
print(json.dumps({"mu": crossing, "nmi": nmi(truth, label), "found": len(parts),
                  "planted": len(set(truth.tolist())), **extra}))
"""


def _child(code: str, args: list[str], cap: float | None = None) -> dict[str, Any]:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    start = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=cap,
                              env=env, check=False)
    except subprocess.TimeoutExpired:
        return {"error": f"did not finish within {cap:.0f} s"}
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}"}
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["process_seconds"] = time.perf_counter() - start
    return out


def _have(module: str) -> bool:
    return subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, check=False).returncode == 0


def speed(sizes: list[int], cap: float) -> list[dict[str, Any]]:
    rows = []
    igraph_ok = _have("igraph")
    for e in sizes:
        n = 10**e
        p = json.dumps(PARAMS)
        ours = _child(OURS, [str(n), "0.3", p])
        lfr = _child(LFR, [str(n), "0.3", p], cap)
        sbm = _child(SBM, [str(n), "0.3", p]) if igraph_ok else {"error": "igraph not installed"}
        row = {"nodes": n, "ours": ours, "networkx_lfr": lfr, "igraph_sbm": sbm}
        for name, other in (("lfr_over_ours", lfr), ("sbm_over_ours", sbm)):
            if "seconds" in other and "seconds" in ours:
                row[name] = other["seconds"] / ours["seconds"]
        rows.append(row)
        _print_speed(row)
    return rows


def _fmt(r: dict[str, Any]) -> str:
    if "error" in r:
        return f"-- ({r['error']})"
    extra = f", package {r['package_seconds']:.2f} s" if "package_seconds" in r else ""
    return (f"{r['seconds']:.2f} s{extra}, {r['edges'] / r['seconds']:,.0f} edges/s, {r['edges']:,} edges, "
            f"peak {r['peak_rss_mb']:,.0f} MB, mu {r['mu']:.4f}, loops {r['self_loops']}, max deg {r['max_degree']}")


def _print_speed(row: dict[str, Any]) -> None:
    print(f"\n== {row['nodes']:,} nodes, mu 0.3")
    for key in ("ours", "networkx_lfr", "igraph_sbm"):
        print(f"  {key:13s} {_fmt(row[key])}")
    for key in ("lfr_over_ours", "sbm_over_ours"):
        if key in row:
            print(f"  {key}: {row[key]:.2f}")


def mixing(n: int = 10_000) -> list[dict[str, Any]]:
    rows = []
    p = json.dumps(PARAMS)
    for mu in (0.1, 0.3, 0.5):
        ours = _child(MIXING, [str(n), str(mu), p, "ours"])
        lfr = _child(MIXING, [str(n), str(mu), p, "lfr"])
        rows.append({"nodes": n, "target_mu": mu, "ours": ours, "networkx_lfr": lfr})
        print(f"\n== mixing {mu} at {n:,} nodes")
        for name, r in (("ours", ours), ("networkx_lfr", lfr)):
            if "error" in r:
                print(f"  {name:13s} -- ({r['error']})")
            else:
                print(f"  {name:13s} realized mu {r['mu']:.4f}, Louvain NMI {r['nmi']:.3f}, "
                      f"found {r['found']} of {r['planted']} communities "
                      + ", ".join(f"{k} {v}" for k, v in r.items() if k in ("max_community_deviation", "self_loops",
                                                                            "max_degree")))
    return rows


def overlap(sizes: list[int]) -> list[dict[str, Any]]:
    rows = []
    p = json.dumps(PARAMS)
    for e in sizes:
        n = 10**e
        flat = _child(OURS, [str(n), "0.3", p])
        over = _child(OURS, [str(n), "0.3", p, json.dumps({"overlap": {"nodes": 0.1, "memberships": 2}})])
        row = {"nodes": n, "flat": flat, "overlap": over}
        if "seconds" in flat and "seconds" in over:
            row["overlap_over_flat"] = over["seconds"] / flat["seconds"]
        rows.append(row)
        print(f"\n== {n:,} nodes, mu 0.3, 10% of nodes in 2 communities")
        for key in ("flat", "overlap"):
            r = row[key]
            print(f"  {key:8s} {_fmt(r)}" + ("" if "error" in r else
                  f", {r['iterations']} pass(es), worst community {r['max_community_deviation']:.4f}"))
        if "overlap_over_flat" in row:
            print(f"  overlap_over_flat: {row['overlap_over_flat']:.2f}")
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", default="speed,mixing,overlap")
    ap.add_argument("--sizes", default="4,5,6", help="powers of ten of the node counts")
    ap.add_argument("--lfr-cap", type=float, default=300.0, help="seconds before networkx LFR is stopped")
    args = ap.parse_args()
    only = set(args.only.split(","))
    out: dict[str, Any] = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
    out |= {"machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
            "date": time.strftime("%Y-%m-%d"), "params": PARAMS}
    if "speed" in only:
        out["speed"] = speed([int(s) for s in args.sizes.split(",")], args.lfr_cap)
    if "mixing" in only:
        out["mixing"] = mixing()
    if "overlap" in only:
        out["overlap"] = overlap([int(s) for s in args.sizes.split(",")])
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=1) + "\n")
    print(f"\nwrote {RESULTS}")


if __name__ == "__main__":
    main()

"""``medmgen compare``: one spec through several generators, one table, one set of plots."""

from __future__ import annotations

import csv
import html
import io
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from medmgen import plots
from medmgen.errors import InputError, Problem
from medmgen.package import atomic_dir, canonical_json, write_package
from medmgen.pipeline import run
from medmgen.plugins import Registry
from medmgen.progress import Progress
from medmgen.spec import load_spec, read_toml

TIMING_NOTE = ("wall_s and peak_rss_mb come from one process, generators in the order given: the first run of a "
               "modality also pays its one-time start-up (loading compiled kernels), and peak_rss_mb is the "
               "process's high-water mark so far. For timings, run each generator alone (or the benchmarks/ scripts).")


def _flatten(metrics: dict[str, Any]) -> dict[str, float]:
    out = {}
    for ev, values in metrics.items():
        if ev == "blocks" or not isinstance(values, dict):
            continue
        for k, v in values.items():
            if isinstance(v, int | float) and not isinstance(v, bool):
                out[f"{ev}.{k}"] = v
    return out


def compare(
    spec_path: Path,
    generators: Sequence[str],
    out: Path,
    registry: Registry,
    *,
    seed: int | None = None,
    overrides: Sequence[str] = (),
    force: bool = False,
    progress: Progress | None = None,
) -> list[dict[str, Any]]:
    """Run ``spec_path`` once per generator name; write packages and the comparison into ``out``.

    A generator name applies to every block whose modality has it and whose keys it accepts;
    other blocks keep their own generator.
    """
    raw = read_toml(Path(spec_path))
    blocks = raw.get("blocks", {}) if isinstance(raw.get("blocks"), dict) else {}
    problems = []
    specs = {}
    for g in generators:
        changed = 0
        variant = {k: v for k, v in raw.items()}
        variant["blocks"] = {}
        for name, block in blocks.items():
            block = dict(block) if isinstance(block, dict) else block
            if isinstance(block, dict) and g in registry.generator_names(str(block.get("modality"))) \
                    and _fits(registry, name, block | {"generator": g}):
                block["generator"] = g
                changed += 1
            variant["blocks"][name] = block
        if not changed:
            problems.append(Problem("--generators", f"no block of this spec has a generator named {g!r}",
                                    "a generator of one of the spec's modalities", g))
            continue
        specs[g] = variant
    if problems:
        raise InputError(str(spec_path), problems)
    parsed = {}
    for g, variant in specs.items():
        parsed[g] = load_spec(variant, registry, overrides=overrides, seed=seed, source=str(spec_path))
    rows = []
    with atomic_dir(Path(out), force=force) as tmp:
        for g, spec in parsed.items():
            start = time.perf_counter()
            result = run(spec, registry, progress=progress)
            wall = time.perf_counter() - start
            write_package(result, tmp / g, registry)
            peak = max((s["peak_rss_mb"] for s in result.report["cost"]["stages"].values()), default=0.0)
            row = {"generator": g, "passed": result.passed, "wall_s": round(wall, 3), "peak_rss_mb": peak}
            row.update(_flatten(result.report["metrics"]))
            rows.append(row)
        _write_tables(tmp, rows)
    return rows


def _fits(registry: Registry, name: str, block: dict[str, Any]) -> bool:
    """Do the block's keys make a valid block for its (changed) generator? A generator of the
    same name may be another kind of model in another modality (tabular ``independent`` fits a
    source): such a block keeps its own generator."""
    try:
        load_spec({"blocks": {name: block}}, registry, source="compare")
    except InputError:
        return False
    return True


def _columns(rows: list[dict[str, Any]]) -> list[str]:
    cols: list[str] = []
    for r in rows:
        cols += [k for k in r if k not in cols]
    return cols


def _cell(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    return "" if v is None else str(v)


def _write_tables(root: Path, rows: list[dict[str, Any]]) -> None:
    cols = _columns(rows)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(cols)
    for r in rows:
        w.writerow([_cell(r.get(c)) for c in cols])
    (root / "compare.csv").write_text(buf.getvalue())
    md = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    md += ["| " + " | ".join(_cell(r.get(c)) for c in cols) + " |" for r in rows]
    (root / "compare.md").write_text("\n".join(md) + "\n\n" + TIMING_NOTE + "\n")
    (root / "compare.json").write_text(canonical_json(rows))
    labels = [r["generator"] for r in rows]
    figs = []
    for col in cols[2:]:
        values = [r.get(col) for r in rows]
        if all(isinstance(v, int | float) for v in values):
            figs.append(plots.bars(col, labels, values, col.split(".")[-1]))
    table = "<table><tr>" + "".join(f"<th>{html.escape(c)}</th>" for c in cols) + "</tr>" + "".join(
        "<tr>" + "".join(f"<td>{html.escape(_cell(r.get(c)))}</td>" for c in cols) + "</tr>" for r in rows
    ) + "</table>"
    page = ("<!doctype html><html><head><meta charset='utf-8'><title>medmgen compare</title>"
            "<style>body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse}"
            "td,th{border:1px solid #ccc;padding:.3em .6em}figure{display:inline-block;margin:.5em}</style>"
            "</head><body><h1>Generator comparison</h1>" + table + f"<p><small>{html.escape(TIMING_NOTE)}</small></p>"
            + "".join(f"<figure>{f}</figure>" for f in figs) + "</body></html>\n")
    (root / "compare.html").write_text(page)

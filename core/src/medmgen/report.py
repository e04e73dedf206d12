"""``report.html`` (one self-contained page, plots inline) and the CLI's summary."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

from medmgen import plots
from medmgen.ledger import Ledger, Pattern, pattern_to_dict
from medmgen.pipeline import worst_key

_CSS = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#1f2328}
table{border-collapse:collapse;margin:1em 0;font-size:.9em}td,th{border:1px solid #d0d7de;padding:.3em .6em;
text-align:left}th{background:#f6f8fa}.ok{color:#1a7f37;font-weight:600}.fail{color:#cf222e;font-weight:600}
code{background:#f6f8fa;padding:.1em .3em}figure{margin:1em 0}
"""

LEDGER_ROWS = 200
METRIC_ROWS = 200  # rows of one evaluator's metrics table
FIELDS_CHARS = 240  # a table cell's share of a record's fields


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return html.escape(str(value))


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_fmt(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def render_html(spec: Any, ledger: Ledger, report: Mapping[str, Any],
                figures: Sequence[tuple[str, str, str]] = ()) -> str:
    """A readable, deterministic page: no wall-clock times, no network."""
    verdict = '<span class="ok">all thresholds hold</span>' if report["passed"] else \
        '<span class="fail">thresholds not met</span>'
    planted = len(ledger.planted())  # records about a pattern (drifts) are not counted
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(spec.dataset.name)}"
             f" - medmgen report</title><style>{_CSS}</style></head><body>",
             f"<h1>{html.escape(spec.dataset.name)}</h1>",
             f"<p>Seed <code>{spec.dataset.seed}</code>, {len(spec.blocks)} block(s), "
             f"{planted} planted pattern(s): {verdict}.</p>"]
    notes = block_notes(report)
    if notes:
        parts.append("<h2>Notes</h2><ul>" + "".join(f"<li><code>{html.escape(name)}</code>: {html.escape(note)}</li>"
                                                    for name, note in notes) + "</ul>")
    parts.append("<h2>Thresholds</h2>")
    measured = [c for c in report["thresholds"] if c["measured"]]
    parts.append(_table(["threshold", "metric", "limit", "value", "held"], [
        [c["name"], c["metric"], f"{c['op']} {c['limit']}", c["value"], "yes" if c["held"] else "NO"]
        for c in measured]))
    idle = [c["name"] for c in report["thresholds"] if not c["measured"]]
    if idle:
        parts.append(f"<p><small>Not measured for this dataset (no metric applies): {html.escape(', '.join(idle))}"
                     "</small></p>")
    parts.append("<h2>Blocks</h2>")
    parts.append(_table(["block", "modality", "generator", "rows"], [
        [name, b["modality"], b["generator"], ", ".join(f"{k}: {v:,}" for k, v in b["rows"].items())]
        for name, b in report["blocks"].items()]))
    points: dict[str, list[tuple[float, float]]] = {}
    for p in ledger.patterns:
        for q, _, t, r in p.quantities():
            if t is not None and r is not None:
                points.setdefault(q, []).append((t, r))
    limits = spec.tolerances()
    if points:
        parts.append("<h2>Target vs realized</h2><figure>" + plots.target_vs_realized(points, limits) + "</figure>")
    if any(it["max_deviation"] for it in report["iterations"]):  # nothing to plot without planted targets
        parts.append("<h2>Feedback passes</h2>")
        if len(report["iterations"]) > 1:  # one pass is the table's single row: no curve to draw
            parts.append("<figure>" + plots.convergence(report["iterations"], limits) + "</figure>")
        chosen = report.get("chosen_iteration", len(report["iterations"]) - 1)
        parts.append(_table(["pass", "max deviation", "thresholds held", "written"], [
            [it["iteration"] + 1, ", ".join(f"{q} {v:.3g}" for q, v in sorted(it["max_deviation"].items())),
             "yes" if it["held"] else "no", "yes" if it["iteration"] == chosen else ""]
            for it in report["iterations"]]))
        if not report["passed"] and chosen != len(report["iterations"]) - 1:
            parts.append(f"<p>No pass met the thresholds; pass {chosen + 1}, the closest, was written.</p>")
    for evaluator, title, body in figures:
        parts.append(f"<h2>{html.escape(title)}</h2><p><small>evaluator <code>{html.escape(evaluator)}</code>"
                     f"</small></p><figure>{body}</figure>")
    parts.append("<h2>Metrics</h2>")
    for ev, values in report["metrics"].items():
        flat = _flat(values)
        if flat:
            parts.append(f"<h3>{html.escape(ev)}</h3>" + _table(["metric", "value"], flat[:METRIC_ROWS]))
            if len(flat) > METRIC_ROWS:
                parts.append(f"<p><small>{len(flat) - METRIC_ROWS:,} more in <code>report.json</code>"
                             "</small></p>")
    parts.append(f"<h2>Ledger</h2><p>{planted} planted, {len(ledger.accidental)} accidental "
                 "(unplanned patterns reaching the smallest planted target). Full list in <code>ledger.json</code>."
                 "</p>")
    parts += [f"<p>Accidental patterns of block <code>{html.escape(name)}</code>: {html.escape(scope)}.</p>"
              for name, scope in _scopes(report)]
    parts.append(_table(["id", "kind", "status", "target", "realized", "fields"], [
        [p.id, p.kind, p.status, *_row(p)] for p in ledger.patterns[:LEDGER_ROWS]]))
    if ledger.accidental:
        parts.append("<h3>Accidental patterns</h3>" + _table(["id", "kind", "target", "realized", "fields"], [
            [p.id, p.kind, *_row(p)] for p in ledger.accidental[:LEDGER_ROWS]]))
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _flat(values: Mapping[str, Any], prefix: str = "", depth: int = 2) -> list[list[Any]]:
    """A metrics mapping's numbers and short texts as rows, nested mappings (per block) by
    dotted key; the long texts shown elsewhere (notes, the miner's scope) are left out."""
    rows: list[list[Any]] = []
    for k, v in values.items():
        if isinstance(v, Mapping) and depth:
            rows += _flat(v, f"{prefix}{k}.", depth - 1)
        elif isinstance(v, int | float) or (isinstance(v, str) and len(v) <= 120):
            rows.append([prefix + k, v])
    return rows


def _scopes(report: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Each block's ``accidental_scope`` metric (which unplanned patterns its miner looks for),
    with its ``accidental_search_note`` when the list is incomplete."""
    out = []
    for name, m in report["metrics"].get("blocks", {}).items():
        if isinstance(m, dict) and isinstance(m.get("accidental_scope"), str):
            note = m.get("accidental_search_note")
            out.append((name, m["accidental_scope"] + (f" (search incomplete: {note})" if note else "")))
    return out


def _row(p: Pattern) -> list[Any]:
    """Target, realized and the record's other fields: only those set, none the other columns show,
    its other targets and realized values first (a drift's segments), cut to a line."""
    skip = {"id", "block", "kind", "status", "history", p.target_field, p.realized_field}
    body = {k: v for k, v in pattern_to_dict(p).items() if k not in skip and v is not None}
    first = {k: v for k, v in body.items() if k.startswith(("realized_", "target_"))}
    text = ", ".join(f"{k}={_plain(v)}" for k, v in (first | body).items())
    return ["" if p.target() is None else p.target(), "" if p.realized() is None else p.realized(),
            text if len(text) <= FIELDS_CHARS else text[:FIELDS_CHARS - 3] + "..."]


def _plain(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, list):
        return "[" + ", ".join(map(_plain, value)) + "]"
    return str(value)


def block_notes(report: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(block, note)`` for each of a block's ``notes`` metric (generators say there what
    the thresholds cannot show, e.g. why a target is out of reach)."""
    blocks = report["metrics"].get("blocks", {})
    return [(name, str(note)) for name, m in blocks.items() if isinstance(m, dict)
            for note in m.get("notes", ())]


def summary_lines(result: Any, out: Any) -> list[str]:
    """A one-screen summary of a generated package for the terminal."""
    rep = result.report
    lines = [f"medmgen: dataset {result.spec.dataset.name!r} (seed {result.spec.dataset.seed}) -> {out}"]
    for name, b in rep["blocks"].items():
        rows = ", ".join(f"{v:,} {k if k != 'main' else 'rows'}" for k, v in b["rows"].items())
        lines.append(f"  block {name}: {b['modality']}/{b['generator']}, {rows}")
    se = rep["metrics"].get("spec_error", {})
    lines.append(f"  ledger: {se.get('patterns', 0)} planted (kept {se.get('kept', 0)}, weakened "
                 f"{se.get('weakened', 0)}, destroyed {se.get('destroyed', 0)}), {se.get('accidental', 0)} accidental")
    incomplete = [n for n, m in rep["metrics"].get("blocks", {}).items()
                  if isinstance(m, dict) and m.get("accidental_search_complete") is False]
    if incomplete:
        lines.append(f"  accidental search incomplete in {', '.join(incomplete)} (see report.json: "
                     "metrics.blocks.<block>.accidental_search_note)")
    lines += [f"  {name}: {note}" for name, note in block_notes(rep)]
    lines.append(f"  feedback: {len(rep['iterations'])} iteration(s)")
    for c in rep["thresholds"]:
        if not c["measured"]:
            continue
        mark = "ok  " if c["held"] else "FAIL"
        where = worst_key(rep["metrics"], c["metric"]) if not c["held"] else None
        lines.append(f"  [{mark}] {c['name']}: {c['value']:.6g} {c['op']} {c['limit']}"
                     + (f" (worst: {where})" if where else ""))
    lines.append("  files: manifest.json spec.toml ledger.json report.json report.html data/")
    lines.append("  thresholds: " + ("all hold" if rep["passed"] else "NOT MET (exit 1; see report.html)"))
    return lines

"""report.html: deterministic, readable, bounded in size."""

from __future__ import annotations

import html
import re

from medmgen import plots


def test_scatter_is_thinned_but_keeps_the_worst_points():
    pts = [(i / 10000, i / 10000 + (0.05 if i == 7777 else 0.0)) for i in range(10000)]
    kept = plots._thin(pts)
    assert len(kept) == plots.MAX_POINTS
    assert pts[7777] in kept
    assert kept == sorted(kept)  # order preserved
    assert plots._thin(pts[:50]) == pts[:50]


def test_figures_are_deterministic_svg():
    a = plots.target_vs_realized({"support": [(0.1, 0.1005), (0.2, 0.199)]}, {"support": 0.001})
    b = plots.target_vs_realized({"support": [(0.1, 0.1005), (0.2, 0.199)]}, {"support": 0.001})
    assert a == b and a.startswith("<svg") and "Date" not in a
    assert "showing" not in a


def test_convergence_curve_only_when_there_is_more_than_one_pass(registry):
    from test_pipeline import spec

    import medmgen
    from medmgen.report import render_html

    one = medmgen.generate(spec(), registry=registry)
    many = medmgen.generate(spec(generator="noisy", records=800) | {"feedback": {"max_iterations": 3},
                                                                     "thresholds": {"max_support_deviation": 1e-6}},
                            registry=registry)
    assert len(one.report["iterations"]) == 1 and len(many.report["iterations"]) == 3
    pages = [render_html(ds.spec, ds.ledger, ds.report) for ds in (one, many)]
    assert all("<h2>Feedback passes</h2>" in p for p in pages)
    assert [p.count("<svg") for p in pages] == [1, 2]  # target vs realized, then the curve
    report = one.report | {"metrics": one.report["metrics"] | {"blocks": {"b": {"sequences": 3000, "share": 0.25}}}}
    page = render_html(one.spec, one.ledger, report)  # a generator's block metrics are on the page
    assert _cells(page, "b.sequences") == ["b.sequences", "3000"] and _cells(page, "b.share") == ["b.share", "0.25"]


def _cells(page: str, row_id: str) -> list[str]:
    """The cells of the table row whose first cell is ``row_id``, unescaped."""
    row = re.search(rf"<tr><td>{re.escape(row_id)}</td>(.*?)</tr>", page)
    assert row is not None, row_id
    return [row_id, *(html.unescape(c) for c in re.findall(r"<td>(.*?)</td>", row.group(1)))]


def test_ledger_rows_lead_with_what_the_columns_do_not_show(registry):
    """Accidental rows show their realized support in its own column and their pattern first;
    a drift row's segment targets and realized supports come before where and how it changes;
    nothing repeats the id/kind/status columns; a block's miner scope (and why its search stopped)
    and notes are said when its metrics give them."""
    from attrs import evolve, frozen
    from test_pipeline import spec

    import medmgen
    from medmgen.ledger import Drift, Pattern
    from medmgen.report import FIELDS_CHARS, render_html

    @frozen(kw_only=True)
    class Chain(Pattern):
        kind = "chain"
        quantity, target_field, realized_field = "support", "target_support", "realized_support"
        sequence: list[list[int]]
        max_gap: int | None = None
        target_support: float | None = None
        realized_support: float | None = None

    ds = medmgen.generate(spec(), registry=registry)
    long_pattern = [[i, i + 1, i + 2] for i in range(100, 160, 3)]  # a long pattern must not hide the support
    accidental = [Chain(id=f"b/accidental/{i}", block="b", sequence=[[i], [i + 1]] if i else long_pattern,
                        realized_support=0.0123 + i / 1000) for i in range(3)]
    drift = Drift(id="b/drift/0", block="b", pattern="b/toy/0", shape="gradual", at=1000, width=500,
                  target_before=0.05, target_after=0.01, realized_before=0.0502, realized_during=0.03,
                  realized_after=0.010100000001)
    ledger = evolve(ds.ledger, patterns=[*ds.ledger.patterns, drift], accidental=accidental)
    metrics = {"accidental_scope": "2-chains", "notes": ["b/toy/0: background alone > target"],
               "accidental_search_note": "more than 9 frequent items"}
    report = ds.report | {"metrics": ds.report["metrics"] | {"blocks": {"b": metrics}}}
    page = render_html(ds.spec, ledger, report)

    first = _cells(page, "b/accidental/0")
    assert first[1:4] == ["chain", "", "0.0123"]  # kind, no target, realized support
    assert first[4].startswith("sequence=[[100, 101, 102], [103, 104, 105]") and first[4].endswith("...")
    assert len(first[4]) == FIELDS_CHARS
    assert _cells(page, "b/accidental/1")[3:] == ["0.0133", "sequence=[[1], [2]]"]  # unset max_gap left out
    row = _cells(page, "b/drift/0")
    assert row[1:5] == ["drift", "kept", "", ""]
    assert row[5] == ("target_before=0.05, target_after=0.01, realized_before=0.0502, realized_during=0.03, "
                      "realized_after=0.0101, pattern=b/toy/0, changes=support, shape=gradual, at=1000, width=500")
    fields = [_cells(page, p.id)[-1] for p in [*ledger.patterns, *accidental]]
    assert not [f for f in fields if re.search(r"\b(id|block|kind|status)=", f)]
    assert ("Accidental patterns of block <code>b</code>: 2-chains (search incomplete: more than 9 frequent "
            "items).") in page
    assert "<li><code>b</code>: b/toy/0: background alone &gt; target</li>" in page
    plain = render_html(ds.spec, ledger, ds.report)
    assert "Accidental patterns of block" not in plain and "<h2>Notes</h2>" not in plain


def test_metrics_tables_show_each_blocks_numbers_by_dotted_key():
    from medmgen.report import METRIC_ROWS, _flat

    metrics = {"blocks": {"c": {"sequences": 200, "mean_itemsets_per_sequence": 7.8, "scope": "x" * 500,
                                "notes": ["a long note"]}}, "tvd": 0.1}
    assert _flat(metrics) == [["blocks.c.sequences", 200], ["blocks.c.mean_itemsets_per_sequence", 7.8],
                              ["tvd", 0.1]]
    many = {"columns": {f"col{i}": {"tvd": i / 1000} for i in range(METRIC_ROWS)}}
    assert len(_flat(many)) == METRIC_ROWS and _flat(many)[3] == ["columns.col3.tvd", 0.003]

"""report.html: deterministic, readable, bounded in size."""

from __future__ import annotations

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

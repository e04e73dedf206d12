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

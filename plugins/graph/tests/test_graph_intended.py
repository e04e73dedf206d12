"""Known answers of the intended-distribution evaluator: degree KS near 0 for the target law."""

from __future__ import annotations

from types import SimpleNamespace

import attrs
import numpy as np

from medmgen.interfaces import Evaluation
from medmgen_graph.intended import IntendedFit

BLOCK = {"nodes": 3000, "avg_degree": 8.0, "max_degree": 60, "degree_exponent": 2.5, "mixing": 0.2,
         "community_size": [20, 150], "community_exponent": 1.5}


def _evaluation(ds, **change) -> Evaluation:
    block = attrs.evolve(ds.spec.blocks["net"], **change)
    tables = {"net": {"edges": ds.table("net", "edges"), "nodes": ds.table("net", "nodes")}}
    return Evaluation(spec=SimpleNamespace(blocks={"net": block}), ledger=ds.ledger, tables=tables)


def test_degree_and_community_laws(make_graph, to_networkx) -> None:
    ds = make_graph(BLOCK)
    g, community = to_networkx(ds)
    evaluation = _evaluation(ds)
    assert IntendedFit().applies(evaluation)
    metrics = IntendedFit().evaluate(evaluation)
    b = metrics["blocks"]["net"]
    figures = IntendedFit().figures(evaluation, metrics)
    assert len(figures) == 1 and figures[0][1].startswith("<svg")
    assert IntendedFit().figures(evaluation, metrics) == figures
    degrees = np.asarray([d for _, d in sorted(g.degree())])
    assert b["mean_degree"] == degrees.mean() and b["max_degree_realized"] == degrees.max()
    assert abs(b["mean_degree"] - 8.0) < 0.5 and b["max_degree_realized"] <= 60
    assert b["degree_ks"] < 0.05
    other = IntendedFit().evaluate(_evaluation(ds, avg_degree=16.0))["blocks"]["net"]
    assert other["degree_ks"] > 0.3
    steeper = IntendedFit().evaluate(_evaluation(ds, degree_exponent=1.2))["blocks"]["net"]
    assert steeper["degree_ks"] > 4 * b["degree_ks"]
    assert b["communities"] == len(set(community.tolist()))
    assert b["community_size_ks"] < 0.3
    wide = IntendedFit().evaluate(_evaluation(ds, community_size=[100, 1000]))["blocks"]["net"]
    assert wide["community_size_ks"] > 0.5


def test_explicit_community_sizes(make_graph) -> None:
    ds = make_graph({"nodes": 400, "avg_degree": 6.0, "communities": {"sizes": [100, 100, 200]}})
    b = IntendedFit().evaluate(_evaluation(ds))["blocks"]["net"]
    assert b["community_size_error"] == 0.0 and b["communities"] == 3
    moved = SimpleNamespace(sizes=[50, 150, 200])
    assert IntendedFit().evaluate(_evaluation(ds, communities=moved))["blocks"]["net"][
        "community_size_error"] == 50 / 400

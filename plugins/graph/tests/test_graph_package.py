"""Files on disk: determinism, readable exports, bad input, fitting to an edge list."""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path

import networkx as nx
import pyarrow.parquet as pq
import pytest
import tomli_w

from medmgen.cli import main

SPEC = {
    "dataset": {"name": "g", "seed": 5},
    "blocks": {"net": {"modality": "graph", "nodes": 1500, "avg_degree": 9, "max_degree": 30, "mixing": 0.25,
                       "community_size": [20, 80], "export": ["graphml"],
                       "attributes": {"count": 1}, "weights": {"inside": 2.0},
                       "motifs": [{"shape": "clique", "size": 5, "count": 3}]}},
}


def _write(tmp: Path, spec: dict, name: str = "spec.toml") -> Path:
    path = tmp / name
    path.write_text(tomli_w.dumps(spec))
    return path


def _digests(directory: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted((directory / "data").iterdir())}


def test_same_spec_and_seed_give_the_same_bytes(tmp_path):
    spec = _write(tmp_path, SPEC)
    assert main(["-q", "generate", str(spec), "-o", str(tmp_path / "a")]) == 0
    assert main(["-q", "generate", str(spec), "-o", str(tmp_path / "b"), "--workers", "2"]) == 0
    a, b = _digests(tmp_path / "a"), _digests(tmp_path / "b")
    assert set(a) == {"net.edges.parquet", "net.nodes.parquet", "net.edges.txt", "net.graphml"}
    assert a == b
    assert (tmp_path / "a" / "ledger.json").read_bytes() == (tmp_path / "b" / "ledger.json").read_bytes()
    assert main(["-q", "generate", str(spec), "-o", str(tmp_path / "c"), "--seed", "6"]) == 0
    assert _digests(tmp_path / "c")["net.edges.parquet"] != a["net.edges.parquet"]


def test_exports_are_read_by_networkx(tmp_path):
    spec = _write(tmp_path, SPEC)
    assert main(["-q", "generate", str(spec), "-o", str(tmp_path / "out")]) == 0
    data = tmp_path / "out" / "data"
    edges = pq.read_table(data / "net.edges.parquet")
    assert edges.schema.names == ["src", "dst", "weight"] and str(edges.schema.field("src").type) == "int64"
    nodes = pq.read_table(data / "net.nodes.parquet")
    assert nodes.schema.names == ["node", "community", "attr_0"]
    text = nx.read_weighted_edgelist(data / "net.edges.txt", nodetype=int)
    assert text.number_of_edges() == edges.num_rows
    pairs = set(zip(edges.column("src").to_pylist(), edges.column("dst").to_pylist()))
    assert {tuple(sorted(e)) for e in text.edges()} == pairs
    src, dst = edges.column("src").to_pylist(), edges.column("dst").to_pylist()
    weight = dict(zip(zip(src, dst), edges.column("weight").to_pylist()))
    assert all(abs(w - weight[min(u, v), max(u, v)]) < 1e-9 * max(1, w) for u, v, w in text.edges(data="weight"))
    ml = nx.read_graphml(data / "net.graphml", node_type=int)
    assert ml.number_of_nodes() == 1500 and ml.number_of_edges() == edges.num_rows
    assert [ml.nodes[v]["community"] for v in range(1500)] == nodes.column("community").to_pylist()
    assert all(d["weight"] > 0 for _, _, d in ml.edges(data=True))


@pytest.mark.parametrize(("change", "path"), [
    ({"mixing": 1.5}, "blocks.net.mixing"),
    ({"max_degree": 1500}, "blocks.net.max_degree"),
    ({"max_degree": 200, "community_size": [20, 40]}, "blocks.net.max_degree"),
    ({"motifs": [{"shape": "clique", "size": 90, "count": 1}]}, "blocks.net.motifs[0].size"),
    ({"motifs": [{"shape": "cycle", "size": 2, "count": 1}]}, "blocks.net.motifs[0].size"),
    ({"communities": {"sizes": [700, 700]}}, "blocks.net.communities.sizes"),
    ({"communities": {"sizes": [750, 750], "count": 2}}, "blocks.net.communities"),
    ({"motifs": [{"shape": "clique", "size": 40, "count": 40}]}, "blocks.net.motifs"),
    ({"timestamps": {"span": 10, "burst": 20}}, "blocks.net.timestamps.burst"),
    ({"hierarchy": {"groups": 3, "mixing": 0.5}}, "blocks.net.hierarchy.mixing"),
    ({"hierarchy": {"groups": 1}}, "blocks.net.hierarchy.groups"),
    ({"hierarchy": {"groups": 400}}, "blocks.net.hierarchy.groups"),
    ({"hierarchy": {"groups": 6, "above": [{"groups": 4, "mixing": 0.05}]}}, "blocks.net.hierarchy.above[0].groups"),
    ({"hierarchy": {"groups": 6, "above": [{"groups": 3, "mixing": 0.2}]}}, "blocks.net.hierarchy.above[0].mixing"),
    ({"hierarchy": {"above": [{"groups": 3, "mixing": 0.05}]}}, "blocks.net.hierarchy.above"),
    ({"overlap": {"nodes": 0.1, "memberships": 40}}, "blocks.net.overlap.memberships"),
    ({"overlap": {"nodes": 1.5}}, "blocks.net.overlap.nodes"),
    ({"overlap": {"nodes": 0.9, "memberships": 2}, "motifs": [{"shape": "clique", "size": 5, "count": 60}]},
     "blocks.net.overlap.nodes"),
])
def test_bad_block_is_refused_with_its_key_path(tmp_path, capsys, change, path):
    spec = {**SPEC, "blocks": {"net": {**SPEC["blocks"]["net"], **change}}}
    out = tmp_path / "out"
    assert main(["generate", str(_write(tmp_path, spec)), "-o", str(out)]) == 2
    assert f"spec.toml:{path}:" in capsys.readouterr().err
    assert not out.exists()


def test_motifs_that_do_not_fit_the_drawn_communities_are_refused(tmp_path, capsys):
    spec = {**SPEC, "blocks": {"net": {**SPEC["blocks"]["net"],
                                       "motifs": [{"shape": "clique", "size": 70, "count": 12}]}}}
    out = tmp_path / "out"
    assert main(["generate", str(_write(tmp_path, spec)), "-o", str(out)]) == 2
    assert ":blocks.net.motifs[0]: community sizes cannot hold the motifs" in capsys.readouterr().err
    assert not out.exists()


def test_fit_learns_a_block_from_an_edge_list(tmp_path):
    spec = _write(tmp_path, {**SPEC, "blocks": {"net": {**SPEC["blocks"]["net"], "export": []}}})
    assert main(["-q", "generate", str(spec), "-o", str(tmp_path / "real")]) == 0
    fitted = tmp_path / "fitted.toml"
    assert main(["-q", "fit", "graph", str(tmp_path / "real" / "data" / "net.edges.txt"), "-o", str(fitted)]) == 0
    block = tomllib.loads(fitted.read_text())["blocks"]["fitted"]
    assert block["nodes"] == 1500
    assert abs(block["mixing"] - 0.25) < 0.05
    assert abs(block["avg_degree"] - 9) < 1
    assert main(["-q", "generate", str(fitted), "-o", str(tmp_path / "again")]) in (0, 1)
    again = pq.read_table(tmp_path / "again" / "data" / "fitted.edges.parquet")
    assert abs(2 * again.num_rows / 1500 - block["avg_degree"]) < 1


def test_malformed_edge_list_names_the_line(tmp_path, capsys):
    bad = tmp_path / "edges.txt"
    bad.write_text("# a comment\n0 1\n1 x\n2 3\n")
    assert main(["fit", "graph", str(bad), "-o", str(tmp_path / "s.toml")]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:line 3: not an edge" in err
    assert not (tmp_path / "s.toml").exists()


def test_every_problem_is_reported_at_once(tmp_path, capsys):
    block = {**SPEC["blocks"]["net"], "mixing": -0.1, "max_degree": 5000, "community_size": [90, 30],
             "motifs": [{"shape": "cycle", "size": 2}]}
    assert main(["validate", str(_write(tmp_path, {**SPEC, "blocks": {"net": block}}))]) == 2
    err = capsys.readouterr().err
    for path in ("blocks.net.mixing", "blocks.net.max_degree", "blocks.net.community_size",
                 "blocks.net.motifs[0].size"):
        assert f":{path}:" in err, (path, err)


def test_reproduce_gives_the_same_bytes(tmp_path):
    spec = _write(tmp_path, {**SPEC, "blocks": {"net": {**SPEC["blocks"]["net"], "hierarchy": {"groups": 3},
                                                        "timestamps": {"span": 1000, "burst": 10}}}})
    assert main(["-q", "generate", str(spec), "-o", str(tmp_path / "a")]) == 0
    assert main(["-q", "reproduce", str(tmp_path / "a"), "-o", str(tmp_path / "b")]) == 0


def test_directed_exports(tmp_path):
    spec = _write(tmp_path, {**SPEC, "blocks": {"net": {**SPEC["blocks"]["net"], "directed": True}}})
    assert main(["-q", "generate", str(spec), "-o", str(tmp_path / "out")]) == 0
    data = tmp_path / "out" / "data"
    edges = pq.read_table(data / "net.edges.parquet")
    pairs = set(zip(edges.column("src").to_pylist(), edges.column("dst").to_pylist()))
    text = nx.read_weighted_edgelist(data / "net.edges.txt", nodetype=int, create_using=nx.DiGraph)
    assert set(text.edges()) == pairs
    ml = nx.read_graphml(data / "net.graphml", node_type=int)
    assert ml.is_directed() and set(ml.edges()) == pairs


def test_source_block_fits_at_plan_time_and_grows(tmp_path):
    spec = _write(tmp_path, {**SPEC, "blocks": {"net": {**SPEC["blocks"]["net"], "export": []}}})
    assert main(["-q", "generate", str(spec), "-o", str(tmp_path / "real")]) == 0
    real = nx.read_edgelist(tmp_path / "real" / "data" / "net.edges.txt", nodetype=int, data=False)
    (tmp_path / "edges.txt").write_text((tmp_path / "real" / "data" / "net.edges.txt").read_text())
    for nodes, name in ((None, "same"), (3000, "larger")):
        block = {"modality": "graph", "source": "edges.txt", "motifs": [{"shape": "clique", "size": 4}]}
        if nodes:
            block["nodes"] = nodes
        path = _write(tmp_path, {"dataset": {"name": name, "seed": 2}, "blocks": {"copy": block}}, f"{name}.toml")
        assert main(["-q", "generate", str(path), "-o", str(tmp_path / name)]) in (0, 1)
        g = nx.read_edgelist(tmp_path / name / "data" / "copy.edges.txt", nodetype=int)
        want = nodes or real.number_of_nodes()
        assert pq.read_table(tmp_path / name / "data" / "copy.nodes.parquet").num_rows == want
        mean = 2 * g.number_of_edges() / want
        assert abs(mean - 2 * real.number_of_edges() / real.number_of_nodes()) < 1, (name, mean)


def test_bad_source_is_refused_with_the_line_or_key(tmp_path, capsys):
    (tmp_path / "edges.txt").write_text("0 1\n1 2\n2 x\n")
    block = {"modality": "graph", "source": "edges.txt"}
    out = tmp_path / "out"
    assert main(["generate", str(_write(tmp_path, {"blocks": {"net": block}})), "-o", str(out)]) == 2
    assert f"{tmp_path / 'edges.txt'}:line 3: not an edge" in capsys.readouterr().err
    assert not out.exists()
    (tmp_path / "edges.txt").write_text("".join(f"{i} {i + 1}\n" for i in range(30)))
    spec = _write(tmp_path, {"blocks": {"net": {**block, "nodes": 10, "mixing": 0.2}}})
    assert main(["generate", str(spec), "-o", str(out)]) == 2
    assert ":blocks.net.mixing: learned from source" in capsys.readouterr().err
    spec = _write(tmp_path, {"blocks": {"net": {**block, "nodes": 10}}})
    assert main(["generate", str(spec), "-o", str(out)]) == 2
    assert ":blocks.net.nodes: smaller than the source graph" in capsys.readouterr().err
    assert not out.exists()


def test_overlapping_block_gives_the_same_bytes(tmp_path):
    block = {**SPEC["blocks"]["net"], "export": [], "overlap": {"nodes": 0.2, "memberships": 3}}
    spec = _write(tmp_path, {**SPEC, "blocks": {"net": block}})
    for run in ("a", "b"):
        assert main(["-q", "generate", str(spec), "-o", str(tmp_path / run)]) in (0, 1)
    assert _digests(tmp_path / "a") == _digests(tmp_path / "b")

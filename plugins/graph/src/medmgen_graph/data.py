"""What a graph block writes: edges and nodes tables, an edge-list text file, GraphML on request."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
from attrs import frozen


@frozen(kw_only=True)
class GraphData:
    """``<block>.edges.parquet`` (src, dst[, weight, time]), ``<block>.nodes.parquet`` (node,
    community[, group, attr_*]), ``<block>.edges.txt`` (``src dst[ weight]`` per line) and
    ``<block>.graphml`` when exported."""

    edges: pa.Table
    nodes: pa.Table
    export: tuple[str, ...] = ()
    directed: bool = False

    def tables(self) -> Mapping[str, pa.Table]:
        return {"edges": self.edges, "nodes": self.nodes}

    def write_extra(self, directory: Path, block: str) -> Sequence[Path]:
        text = Path(directory) / f"{block}.edges.txt"
        options = pacsv.WriteOptions(include_header=False, delimiter=" ", quoting_style="none")
        columns = ["src", "dst", "weight"] if "weight" in self.edges.column_names else ["src", "dst"]
        pacsv.write_csv(self.edges.select(columns), text, options)
        out = [text]
        if "graphml" in self.export:
            out.append(self._graphml(Path(directory) / f"{block}.graphml"))
        return out

    def _graphml(self, path: Path) -> Path:
        import networkx as nx

        g = nx.DiGraph() if self.directed else nx.Graph()
        nodes = self.nodes.to_pydict()
        columns = [c for c in nodes if c != "node"]
        g.add_nodes_from((v, {c: nodes[c][i] for c in columns}) for i, v in enumerate(nodes["node"]))
        edges = self.edges.to_pydict()
        extra = [c for c in edges if c not in ("src", "dst")]
        g.add_edges_from((u, v, {c: edges[c][i] for c in extra}) for i, (u, v) in enumerate(zip(edges["src"],
                                                                                               edges["dst"])))
        nx.write_graphml(g, path)
        return path

"""The ``[blocks.NAME]`` config of graph blocks (``modality = "graph"``)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from attrs import Factory, evolve, fields, frozen

from medmgen.errors import Problem
from medmgen.fields import setting
from medmgen.interfaces import BlockSpec
from medmgen_graph.laws import power_law_mean

SHAPES = ("clique", "star", "cycle", "biclique", "path")
MIN_SIZE = {"clique": 2, "star": 2, "cycle": 3, "biclique": 2, "path": 2}
GRAPHML_MAX_EDGES = 1_000_000
DEFAULT_NODES = 1000
FITTED = ("avg_degree", "max_degree", "degree_exponent", "community_exponent", "community_size", "communities",
          "mixing")


@frozen(kw_only=True)
class CommunityLayout:
    """``communities = { count = N }`` or ``{ sizes = [...] }``; empty: drawn from the size law."""

    count: int | None = setting(None, doc="Number of communities; sizes drawn from the size law, scaled to nodes.",
                                ge=1)
    sizes: list[int] | None = setting(None, doc="Explicit community sizes; they must add up to nodes.", ge=2)


@frozen(kw_only=True)
class MotifSpec:
    """One ``[[blocks.NAME.motifs]]`` entry: ``count`` copies of a small subgraph."""

    shape: str = setting(doc="Subgraph shape.", choices=SHAPES)
    size: int = setting(doc="Nodes per copy (biclique: both sides together, split in halves).", ge=2, le=1000)
    count: int = setting(1, doc="Number of copies; copies never share nodes.", ge=1, le=100_000)
    placement: str = setting("inside", doc="All nodes of a copy in one community, or each in a different one.",
                             choices=("inside", "across"))

    def check(self) -> Sequence[Problem]:
        need = MIN_SIZE.get(self.shape, 2)
        if self.size < need:
            return [Problem("size", f"a {self.shape} needs at least {need} nodes", f">= {need}", self.size)]
        return ()


@frozen(kw_only=True)
class AttributeSpec:
    """Categorical node attributes aligned with communities at a chosen strength."""

    count: int = setting(0, doc="Number of attribute columns attr_0, attr_1, ... (0: none).", ge=0, le=100)
    values: int = setting(5, doc="Categories per attribute, 0..values-1.", ge=2, le=1_000_000)
    strength: float = setting(0.8, doc="Exact fraction of nodes whose value is their community's home value; "
                                       "the others get a different value, uniformly.", ge=0, le=1)


@frozen(kw_only=True)
class TimeSpec:
    """Edge timestamps: uniform over ``[0, span)``, each motif copy's edges in one burst."""

    span: int = setting(0, doc="Edge times are integers in [0, span); 0: no time column.", ge=0, le=2**62)
    burst: int = setting(0, doc="When > 0, all edges of a motif copy get times inside one window of this "
                                "length, its start drawn uniformly.", ge=0, le=2**62)

    def check(self) -> Sequence[Problem]:
        if self.burst > self.span:
            return [Problem("burst", "a burst longer than the time span", f"<= span ({self.span})", self.burst)]
        return ()


@frozen(kw_only=True)
class WeightSpec:
    """Edge weights: Gamma-distributed, heavier (or lighter) inside communities."""

    inside: float = setting(0.0, doc="Mean weight of edges inside a community; 0: unweighted (no weight column).",
                            ge=0)
    across: float = setting(1.0, doc="Mean weight of edges between communities.", gt=0)
    shape: float = setting(2.0, doc="Gamma shape: 1 is exponential, larger is tighter around the mean.", gt=0)


@frozen(kw_only=True)
class GroupLevel:
    """One more level of the hierarchy: the groups of the level below merged into ``groups``."""

    groups: int = setting(doc="Number of groups at this level (>= 2, each of >= 2 groups of the level below).",
                          ge=2)
    mixing: float = setting(doc="Target fraction of each group's edge endpoints whose edge leaves it (at most "
                                "the level below's mixing).", ge=0, le=1)


@frozen(kw_only=True)
class HierarchySpec:
    """Communities inside communities: consecutive communities grouped into ``groups``."""

    groups: int = setting(0, doc="Number of groups of communities (0: flat; else >= 2, each of >= 2 "
                                 "communities).", ge=0)
    mixing: float = setting(0.1, doc="Target fraction of each group's edge endpoints whose edge leaves the "
                                     "group (at most the block's mixing).", ge=0, le=1)
    above: list[GroupLevel] = setting(factory=list, doc="Further levels, coarser each: consecutive groups of "
                                                        "the level below merged into fewer groups.")

    def check(self) -> Sequence[Problem]:
        out = []
        if self.groups == 1:
            out.append(Problem("groups", "one group is no hierarchy", "0 or >= 2", 1))
        if self.above and not self.groups:
            out.append(Problem("above", "levels above groups without groups", "groups >= 2", self.groups))
        below, mixing = self.groups, self.mixing
        for i, level in enumerate(self.above):
            if 2 * level.groups > below:
                out.append(Problem(f"above[{i}].groups", "fewer than 2 groups of the level below per group",
                                   f"<= {below // 2}", level.groups))
            if level.mixing > mixing:
                out.append(Problem(f"above[{i}].mixing", "more endpoints leaving than at the level below",
                                   f"<= {mixing}", level.mixing))
            below, mixing = level.groups, level.mixing
        return out

    def counts(self) -> list[tuple[int, float]]:
        """``(groups, mixing)`` of every level above the communities, finest first."""
        if not self.groups:
            return []
        return [(self.groups, self.mixing)] + [(level.groups, level.mixing) for level in self.above]


@frozen(kw_only=True)
class OverlapSpec:
    """Overlapping memberships (LFR's ``on`` and ``om``): some nodes belong to several communities."""

    nodes: float = setting(0.0, doc="Fraction of the nodes that belong to several communities (0: none).",
                           ge=0, le=1)
    memberships: int = setting(2, doc="Communities each overlapping node belongs to, its home community "
                                      "included; its degree is split evenly between them.", ge=2, le=100)


@frozen(kw_only=True)
class GraphBlock(BlockSpec):
    """A graph with planted communities (degree-corrected planted partition, LFR knobs) and motifs."""

    source: str | None = setting(None, doc="Edge list to fit (relative to the spec file): the degree law, "
                                           "Louvain communities and mixing are learned from it.")
    nodes: int | None = setting(None, doc="Number of nodes; ids are 0..nodes-1 (default 1000; with source, the "
                                          "source's node count, and at least that).", ge=2, le=2**40)
    avg_degree: float = setting(10.0, doc="Target mean degree.", gt=0)
    max_degree: int = setting(50, doc="Largest degree of the degree law.", ge=1)
    degree_exponent: float = setting(2.5, doc="tau1: degrees follow k^-tau1 on [k_min, max_degree].", gt=1, le=10)
    community_exponent: float = setting(1.5, doc="tau2: community sizes follow s^-tau2 on community_size.",
                                        ge=0, le=10)
    community_size: list[int] = setting(factory=lambda: [20, 200], doc="[min, max] community size.", ge=2)
    communities: CommunityLayout = setting(factory=CommunityLayout, doc="Community count or explicit sizes.")
    mixing: float = setting(0.3, doc="mu: target fraction of each community's edge endpoints whose edge "
                                     "leaves the community.", ge=0, le=1)
    directed: bool = setting(False, doc="Turn every edge a random way (motif edges along their shape); "
                                        "mixing counts endpoints in both directions.")
    motifs: list[MotifSpec] = setting(factory=list, doc="Planted motifs ([[blocks.NAME.motifs]]).")
    attributes: AttributeSpec = setting(factory=AttributeSpec, doc="Node attributes aligned with communities.")
    hierarchy: HierarchySpec = setting(factory=HierarchySpec, doc="Groups of communities, and groups of groups.")
    overlap: OverlapSpec = setting(factory=OverlapSpec, doc="Nodes that belong to several communities.")
    weights: WeightSpec = setting(factory=WeightSpec, doc="Edge weights (a weight column) by community.")
    timestamps: TimeSpec = setting(factory=TimeSpec, doc="Edge timestamps (a time column) and motif bursts.")
    export: list[str] = setting(factory=list, doc="Extra files: 'graphml' (small graphs only).", choices=("graphml",))

    def largest_community(self) -> int:
        """The largest community size the layout settings allow."""
        if self.communities.sizes:
            return max(self.communities.sizes)
        if self.communities.count:
            return max(2, self.nodes - 2 * (self.communities.count - 1))
        return min(max(self.community_size), self.nodes)

    def fewest_communities(self) -> int:
        """The fewest communities the layout settings can give."""
        if self.communities.sizes:
            return len(self.communities.sizes)
        if self.communities.count:
            return self.communities.count
        return max(1, math.ceil(self.nodes / max(self.community_size)))

    def check(self) -> Sequence[Problem]:
        if self.source is None:
            return evolve(self, nodes=self.nodes or DEFAULT_NODES).problems()
        defaults = {f.name: f.default for f in fields(GraphBlock)}
        return [Problem(key, "learned from source; leave it out", "no value", getattr(self, key))
                for key in FITTED if getattr(self, key) != _default(defaults[key])]

    def problems(self) -> list[Problem]:
        """Cross-field problems of a block whose ``nodes`` and fitted keys are known."""
        out: list[Problem] = []
        n = self.nodes
        if self.max_degree > n - 1:
            out.append(Problem("max_degree", "above nodes - 1", f"<= {n - 1}", self.max_degree))
        if self.avg_degree > self.max_degree:
            out.append(Problem("avg_degree", "above max_degree", f"<= {self.max_degree}", self.avg_degree))
        else:
            floor = power_law_mean(1, self.max_degree, self.degree_exponent)
            if self.avg_degree < floor - 1e-9:
                out.append(Problem("avg_degree", "below the mean of the degree law started at degree 1",
                                   f">= {floor:.4g} (or a larger degree_exponent)", self.avg_degree))
        lo_hi = self.community_size
        if len(lo_hi) != 2 or lo_hi[0] > lo_hi[1]:
            out.append(Problem("community_size", "not a [min, max] pair", "[min, max] with min <= max", lo_hi))
        elif lo_hi[0] > n:
            out.append(Problem("community_size", "smallest community larger than the graph", f"min <= {n}", lo_hi))
        layout = self.communities
        if layout.count is not None and layout.sizes is not None:
            out.append(Problem("communities", "give count or sizes, not both", "one of count, sizes", "both"))
        elif layout.sizes is not None and sum(layout.sizes) != n:
            out.append(Problem("communities.sizes", "sizes must add up to nodes", str(n), sum(layout.sizes)))
        elif layout.count is not None and 2 * layout.count > n:
            out.append(Problem("communities.count", "too many communities for the nodes (2 nodes each at least)",
                               f"<= {n // 2}", layout.count))
        if out:
            return out
        largest = self.largest_community()
        need = math.ceil((1 - self.mixing) * self.max_degree - 1e-9) + 1
        if need > largest:
            out.append(Problem("max_degree", "no community can hold the internal edges of the largest degrees",
                               f"(1 - mixing) * max_degree + 1 <= largest community ({largest})", self.max_degree))
        for i, m in enumerate(self.motifs):
            if m.placement == "inside" and m.size > largest:
                out.append(Problem(f"motifs[{i}].size", "larger than the largest community", f"<= {largest}", m.size))
            if m.placement == "across" and m.size > self.fewest_communities():
                out.append(Problem(f"motifs[{i}].size", "more nodes than there are communities to spread them over",
                                   f"<= {self.fewest_communities()}", m.size))
        if self.hierarchy.groups:
            if self.hierarchy.mixing > self.mixing:
                out.append(Problem("hierarchy.mixing", "more endpoints leaving the groups than leaving communities",
                                   f"<= mixing ({self.mixing})", self.hierarchy.mixing))
            if 2 * self.hierarchy.groups > self.fewest_communities():
                out.append(Problem("hierarchy.groups", "fewer than 2 communities per group",
                                   f"<= {self.fewest_communities() // 2}", self.hierarchy.groups))
        if self.overlap.nodes:
            if self.hierarchy.groups:
                out.append(Problem("overlap", "overlapping memberships with a hierarchy are not supported",
                                   "overlap.nodes = 0 or hierarchy.groups = 0", self.overlap.nodes))
            if self.overlap.memberships > self.fewest_communities():
                out.append(Problem("overlap.memberships", "more memberships than there are communities",
                                   f"<= {self.fewest_communities()}", self.overlap.memberships))
        used = sum(m.size * m.count for m in self.motifs)
        if used > n:
            out.append(Problem("motifs", "the motifs need more nodes than the graph has", f"<= {n}", used))
        if "graphml" in self.export and n * self.avg_degree / 2 > GRAPHML_MAX_EDGES:
            out.append(Problem("export", "GraphML is for small graphs", f"<= {GRAPHML_MAX_EDGES} expected edges",
                               int(n * self.avg_degree / 2)))
        return out



def _default(default: object) -> object:
    return default.factory() if isinstance(default, Factory) else default

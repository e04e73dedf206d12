"""Ledger kinds of the graph modality: ``community``, ``motif`` and ``attribute``."""

from __future__ import annotations

from attrs import frozen

from medmgen.ledger import Pattern


@frozen(kw_only=True)
class CommunityPattern(Pattern):
    """A planted community: the contiguous node ids ``node_range = [start, end)`` and, with
    ``overlap``, the ``overlap_nodes`` outside that range that also belong to it.

    ``level`` 0 is a community, 1 a group of communities (``hierarchy``), 2... coarser groups; ``size``
    counts all members.

    Mixing is the fraction of the members' edge endpoints whose edge leaves it:
    ``sum over its members of external degree / sum of degree``, where an edge is
    external for a node when its other end shares none of the node's communities.
    """

    kind = "community"
    quantity, target_field, realized_field = "mixing", "target_mixing", "realized_mixing"
    value_bounds = (0.0, 1.0)

    node_range: list[int]
    size: int
    level: int = 0
    overlap_nodes: list[int] | None = None
    target_mixing: float
    realized_mixing: float | None = None


@frozen(kw_only=True)
class MotifPattern(Pattern):
    """A planted subgraph on ``nodes``; every edge of its shape is in the graph.

    Node order defines the shape: star = centre first; cycle and path = in order;
    biclique = first ``size // 2`` nodes on one side; clique = any order (sorted).
    ``added_edges`` counts the shape's edges that the base graph did not already have.
    With timestamps and a burst, ``time_window = [start, end)`` holds every edge's time
    and ``edges_in_window`` counts the shape's edges whose time is inside it.
    """

    kind = "motif"

    shape: str
    placement: str
    nodes: list[int]
    communities: list[int]
    added_edges: int | None = None
    time_window: list[int] | None = None
    edges_in_window: int | None = None


@frozen(kw_only=True)
class AttributePattern(Pattern):
    """A node attribute aligned with communities: ``home[c]`` is community ``c``'s value.

    Agreement is the fraction of nodes whose value equals their community's home value.
    """

    kind = "attribute"
    quantity, target_field, realized_field = "agreement", "target_agreement", "realized_agreement"
    value_bounds = (0.0, 1.0)

    column: str
    values: int
    home: list[int]
    target_agreement: float
    realized_agreement: float | None = None


KINDS = (CommunityPattern, MotifPattern, AttributePattern)

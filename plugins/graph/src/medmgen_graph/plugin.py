"""Hook implementations of the graph modality (registered via the ``medmgen`` entry point)."""

from __future__ import annotations

from medmgen import hookimpl
from medmgen_graph.generator import PlantedGraph, SbmGraph
from medmgen_graph.intended import IntendedFit
from medmgen_graph.kinds import KINDS
from medmgen_graph.recovery import CommunityRecovery


@hookimpl
def medmgen_generators() -> list:
    return [PlantedGraph, SbmGraph]


@hookimpl
def medmgen_ledger_kinds() -> list:
    return list(KINDS)


@hookimpl
def medmgen_evaluators() -> list:
    return [CommunityRecovery, IntendedFit]

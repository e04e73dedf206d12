"""Hook implementations of the tabular plugin (entry point ``tabular``)."""

from __future__ import annotations

from medmgen import hookimpl
from medmgen_tabular.evaluate import ClassF1Scores, ClassShares, TabularFidelity
from medmgen_tabular.generator import BayesNetGenerator, CopulaGenerator, IndependentGenerator
from medmgen_tabular.kinds import Anomaly, ClassF1, ClassRule, ClassShare, Cluster
from medmgen_tabular.planted import PlantedGenerator
from medmgen_tabular.repair import TabularConstraints


@hookimpl
def medmgen_generators() -> list:
    return [CopulaGenerator, BayesNetGenerator, IndependentGenerator, PlantedGenerator]


@hookimpl
def medmgen_repairers() -> list:
    return [TabularConstraints]


@hookimpl
def medmgen_ledger_kinds() -> list:
    return [ClassRule, Cluster, Anomaly, ClassShare, ClassF1]


@hookimpl
def medmgen_evaluators() -> list:
    return [TabularFidelity, ClassShares, ClassF1Scores]

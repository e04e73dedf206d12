"""Hook implementations: the transaction generators, ledger kinds and the real-data evaluator."""

from medmgen import hookimpl
from medmgen_transaction.fit import RealFit
from medmgen_transaction.generator import IndependentGenerator, PlantedGenerator
from medmgen_transaction.intended import IntendedFit
from medmgen_transaction.kinds import HighUtilityItemset, Itemset, Rule


@hookimpl
def medmgen_generators() -> list:
    return [PlantedGenerator, IndependentGenerator]


@hookimpl
def medmgen_ledger_kinds() -> list:
    return [Itemset, Rule, HighUtilityItemset]


@hookimpl
def medmgen_evaluators() -> list:
    return [RealFit, IntendedFit]

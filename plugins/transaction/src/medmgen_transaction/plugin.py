"""Hook implementations: the transaction generators and ledger kinds."""

from medmgen import hookimpl
from medmgen_transaction.generator import IndependentGenerator, PlantedGenerator
from medmgen_transaction.kinds import HighUtilityItemset, Itemset, Rule


@hookimpl
def medmgen_generators() -> list:
    return [PlantedGenerator, IndependentGenerator]


@hookimpl
def medmgen_ledger_kinds() -> list:
    return [Itemset, Rule, HighUtilityItemset]

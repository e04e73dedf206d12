"""Hook implementations of the sequence modality."""

from __future__ import annotations

from medmgen import hookimpl
from medmgen_sequence.comparison import RealFit
from medmgen_sequence.generator import IndependentSequences, PlantedSequences
from medmgen_sequence.intended import IntendedFit
from medmgen_sequence.kinds import SequentialPattern


@hookimpl
def medmgen_generators() -> list:
    return [PlantedSequences, IndependentSequences]


@hookimpl
def medmgen_ledger_kinds() -> list:
    return [SequentialPattern]


@hookimpl
def medmgen_evaluators() -> list:
    return [IntendedFit, RealFit]

"""The core's own plugin, registered through the ``medmgen`` entry point like any other."""

from __future__ import annotations

from medmgen.evaluators.spec_error import SpecError
from medmgen.hookspecs import hookimpl
from medmgen.ledger import Drift
from medmgen.spec import CORE_SECTIONS


@hookimpl
def medmgen_spec_sections() -> list:
    return list(CORE_SECTIONS)


@hookimpl
def medmgen_ledger_kinds() -> list:
    return [Drift]


@hookimpl
def medmgen_evaluators() -> list:
    return [SpecError]

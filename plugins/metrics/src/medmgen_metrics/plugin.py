"""Hook implementations of the evaluation suite (entry point ``metrics``)."""

from __future__ import annotations

from medmgen import hookimpl
from medmgen_metrics.evaluators import Fidelity, PrivacyRisk, Utility
from medmgen_metrics.spec import SECTION


@hookimpl
def medmgen_spec_sections() -> list:
    return [SECTION]


@hookimpl
def medmgen_evaluators() -> list:
    return [Fidelity, Utility, PrivacyRisk]

"""Hook implementations of the evaluation suite (entry point ``metrics``)."""

from __future__ import annotations

from medmgen import hookimpl
from medmgen_metrics.fidelity import Fidelity
from medmgen_metrics.privacy import PrivacyRisk
from medmgen_metrics.spec import SECTION
from medmgen_metrics.utility import Utility


@hookimpl
def medmgen_spec_sections() -> list:
    return [SECTION]


@hookimpl
def medmgen_evaluators() -> list:
    return [Fidelity, Utility, PrivacyRisk]

"""MEDM-GEN evaluation suite: fidelity, utility and privacy-risk evaluators for tabular blocks."""

__version__ = "0.1.0"

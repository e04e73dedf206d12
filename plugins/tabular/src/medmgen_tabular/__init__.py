"""MEDM-GEN tabular modality: fit-to-real synthesizers, planted ground truth, constraints."""

__version__ = "0.1.0"

"""MEDM-GEN sequence modality: sequences of itemsets with planted sequential patterns."""

__version__ = "0.1.0"

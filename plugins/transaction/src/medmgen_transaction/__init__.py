"""MEDM-GEN transaction modality: baskets with planted itemsets and rules at exact support."""

__version__ = "0.1.0"

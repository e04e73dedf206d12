"""MEDM-GEN graph modality: planted communities with exact mixing, planted motifs, attributes."""

__version__ = "0.1.0"

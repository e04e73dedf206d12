"""Evaluators that ship with the core (modality-independent)."""

"""Explain mode: one sample stepped forward and backward on the document's network."""

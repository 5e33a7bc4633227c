"""Adapters of the outside systems Vigil calls (one module per system)."""

"""Dagster resources: configured handles to the domain core (store, kernel, LLM, flags)."""

"""Runs: load a model's inputs from the store, simulate with no connection open, write.

The application layer: above the store, the engine and legacy, below defs/ and cli/.
"""

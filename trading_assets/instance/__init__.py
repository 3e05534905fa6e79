"""Dagster instance infrastructure (storages), configured in dagster.yaml.

Part of the Dagster layer, not of the Dagster-free core: it subclasses Dagster's own
storages and is pinned to the Dagster version the project pins.
"""

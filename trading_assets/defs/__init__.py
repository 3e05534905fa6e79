"""The Dagster layer: partitions, resources, assets, checks, schedules and sensors.

Thin by design: each asset reads its partitions, calls the domain core, writes through
the store and returns metadata. `definitions.py` is the code location's root.
"""

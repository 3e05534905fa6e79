"""What analysts read from a run: metrics, the benchmark and plots (no Dagster, no I/O
beyond the bundled data)."""

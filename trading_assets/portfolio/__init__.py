"""Portfolio simulation: orders, cost models, the pure daily step and performance metrics."""

"""The v1alpha1 result store: DuckDB tables that notebooks and other tools read."""

"""The legacy AI-Trader layout: read it (import, parity) and write it (dual write).

Pure domain code: no Dagster, no DuckDB. `layout` resolves and guards paths, `config`,
`positions`, `logs` and `prices` read the legacy files, `writer` writes them, and
`flags` holds the migration switches.
"""

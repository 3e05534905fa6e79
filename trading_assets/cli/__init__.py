"""The `trading-assets` command line."""

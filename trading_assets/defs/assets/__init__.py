"""Assets: market data -> model-days -> analytics."""

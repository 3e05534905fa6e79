"""Market data: price history, exchange calendar, sources and the point-in-time view."""

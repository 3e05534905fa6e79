"""The simulation engine: walks one model's trading days in order, in memory."""

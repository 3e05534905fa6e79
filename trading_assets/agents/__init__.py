"""Agents: given the point-in-time view and the portfolio, return orders and signals."""

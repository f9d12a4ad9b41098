"""Forms of the dashboard: the Logs table columns, the customer switch, exports, uploads."""

"""Selectors of logs (reads): calls and their filters, rollups for charts, customers by slug."""

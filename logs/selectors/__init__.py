"""Selectors of logs (reads): calls and their filters, and the hourly rollups for charts."""

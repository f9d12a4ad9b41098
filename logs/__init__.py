"""Request logs: customers, calls, classification, prices, ingest, dashboard, exports, API."""

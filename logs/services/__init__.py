"""Services of logs (writes): ingest, rollups, exports, customers, API tokens, jobs."""

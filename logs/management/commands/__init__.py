"""`ingest`, `customer`, `apitoken`, `export`, `demo`: thin, over logs.services."""

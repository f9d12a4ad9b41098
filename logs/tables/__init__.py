"""Tables of logs, on the one base table (base.py): calls, export jobs, ingest batches."""

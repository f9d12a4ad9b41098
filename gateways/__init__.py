"""Gateway sources: a New API or One API gateway's own `logs` table, read continuously into ingest (uses logs, never the reverse)."""

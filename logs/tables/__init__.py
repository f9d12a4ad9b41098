"""Tables (django-tables2) of logs: calls and export jobs."""

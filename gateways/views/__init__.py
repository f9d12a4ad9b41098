"""Gateway pages (staff): the sources with their state, sync now, pause and resume."""

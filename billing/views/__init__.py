"""Pages of billing: tallies and their staff steps, reconciliations."""

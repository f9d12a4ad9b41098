"""Tables of billing, on logs' base table (logs.tables.base): tallies, tally calls, reconciliations and their items."""

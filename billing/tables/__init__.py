"""Tables (django-tables2) of billing: tallies, tally calls, reconciliations and their items."""

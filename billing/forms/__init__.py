"""Forms of billing: tally approval steps and the reconciliation upload."""

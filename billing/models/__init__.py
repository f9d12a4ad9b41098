"""Models of billing: tallies (calls, events, overrides), reconciliations (items)."""
from billing.models.reconciliation import Reconciliation, ReconciliationItem
from billing.models.tally import Tally, TallyCall, TallyEvent, TallyOverride, TallyRun

__all__ = ["Reconciliation", "ReconciliationItem", "Tally", "TallyCall", "TallyEvent", "TallyOverride",
           "TallyRun"]

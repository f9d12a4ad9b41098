"""Models of billing: tallies (calls, events, overrides, questions), reconciliations (items)."""
from billing.models.questions import TallyMessage, TallyQuestion
from billing.models.reconciliation import Reconciliation, ReconciliationItem
from billing.models.tally import Tally, TallyCall, TallyEvent, TallyOverride, TallyRun

__all__ = ["Reconciliation", "ReconciliationItem", "Tally", "TallyCall", "TallyEvent", "TallyMessage",
           "TallyOverride", "TallyQuestion", "TallyRun"]

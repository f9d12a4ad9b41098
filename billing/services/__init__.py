"""Services of billing (writes): computing and approving tallies, reconciling."""

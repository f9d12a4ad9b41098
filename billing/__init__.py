"""Billing audit: reimbursement tallies and their approval, reconciliation (uses logs)."""

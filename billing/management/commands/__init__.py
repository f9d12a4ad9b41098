"""`manage.py tally` and `reconcile`: thin, over billing.services."""

"""Signals of logs: what other apps may listen to without logs knowing them."""
from django.dispatch import Signal

# A job row ended: done, failed or cancelled (logs.services.jobs): sender is its
# model, `job` the row. Sent inside the writer's transaction: a receiver that talks to the
# outside world does so in transaction.on_commit.
job_ended = Signal()

"""Template tags of job rows: the status badge, and the states rendered for the poller."""
from django import template
from django.utils.html import json_script

from logs.models.jobs import JobStatus

register = template.Library()


@register.filter
def job_badge(status) -> str:
    """The badge class of a job status (`{{ job.status|job_badge }}`)."""
    return JobStatus.badge(status)


@register.filter
def job_active(status) -> bool:
    return JobStatus.is_active(status)


@register.simple_tag
def job_statuses():
    """The job states (label, badge, active) as a JSON script for static/js/poll.js."""
    return json_script(JobStatus.as_json(), "job-statuses")


@register.filter
def job_retryable(status) -> bool:
    return status in JobStatus.RETRYABLE

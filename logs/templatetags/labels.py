"""Codes shown as labels: `{% load labels %}{{ b.category|label:"category" }}` (logs.labels)."""
from django import template

from logs.labels import label as _label, model_label as _model_label

register = template.Library()


@register.filter
def label(code, kind):
    return _label(kind, code)


@register.filter
def model_label(value):
    return _model_label(value)

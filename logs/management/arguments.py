"""Arguments of the operator commands: days and months read by logs.timeutil, errors as CommandError."""
from __future__ import annotations

import datetime as dt

from django.core.management.base import CommandError

from logs.timeutil import parse_day, parse_month


def _parsed(parse, text: str, option: str) -> dt.date:
    try:
        return parse(text)
    except ValueError as exc:
        raise CommandError(f"{option}: {exc}" if option else str(exc)) from None


def day_arg(text: str, option: str = "") -> dt.date:
    """`YYYY-MM-DD` -> a date; a bad one is a CommandError naming the text (and the option)."""
    return _parsed(parse_day, text, option)


def month_arg(text: str, option: str = "") -> dt.date:
    """`YYYY-MM` -> the month's first day; a bad one is a CommandError naming the text."""
    return _parsed(parse_month, text, option)

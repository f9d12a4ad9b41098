"""What a person reads instead of a code: one label source per kind of code.

The labels live with their codes (TextChoices in logs.choices and billing.choices, each label in
gettext_lazy, so it is read in the reader's language); this module only says which kind is which,
so templates (`{% load labels %}{{ code|label:"category" }}`), tables and exports ask one place. Codes stay in
the API, the command output and an export's code columns. billing registers its kinds from
BillingConfig.ready (logs does not import billing).
"""
from __future__ import annotations

from django.db import models

from logs.choices import BillingMode, Category, Family, LogType, Source

LABEL_KINDS: dict[str, type[models.Choices]] = {
    "category": Category,
    "family": Family,
    "billing_mode": BillingMode,
    "source": Source,
    "log_type": LogType,
}


def label_kind_register(*, kind: str, choices: type[models.Choices]) -> None:
    """Add a kind of code (another app's choices)."""
    LABEL_KINDS[kind] = choices


def label(kind: str, code) -> str:
    """The label of a code of that kind; a code it does not know is shown as it is; empty is ''."""
    if code is None or code == "":
        return ""
    choices = LABEL_KINDS.get(kind)
    if choices is None:
        raise KeyError(f"no labels for {kind!r}: one of {', '.join(sorted(LABEL_KINDS))}")
    try:
        return str(choices(code).label)
    except ValueError:
        return str(code)


def labels(kind: str) -> dict[str, str]:
    """{code: label} of a kind."""
    return {code: str(text) for code, text in LABEL_KINDS[kind].choices}


def model_label(value) -> str:
    """A model filter's value: a family code as its name (`pro`: Nano Banana Pro), a model ID as it is."""
    if value in Family.values:
        return str(Family(value).label)
    return "" if value is None else str(value)

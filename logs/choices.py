"""Interface codes of nbaudit (taxonomy.md): use them as written."""
from django.db import models
from django.utils.translation import gettext_lazy as _


class Category(models.TextChoices):
    SUCCESS = "success", _("Success")
    PROMPT_BLOCKED = "prompt_blocked", _("Prompt blocked")
    NO_CHARGE = "no_charge", _("No charge (Google)")
    IMAGE_BLOCKED = "image_blocked", _("Image blocked")
    NO_IMAGE = "no_image", _("No image")
    TEXT_REFUSAL = "text_refusal", _("Text refusal")
    EMPTY_OUTPUT = "empty_output", _("Empty output")
    RATE_LIMITED = "rate_limited", _("Rate limited (429)")
    OVERLOADED = "overloaded", _("Overloaded (503)")
    SERVER_ERROR = "server_error", _("Server error (5xx)")
    TIMEOUT = "timeout", _("Timeout")
    BAD_REQUEST = "bad_request", _("Bad request (400/404)")
    AUTH_ERROR = "auth_error", _("Auth error (401/402/403)")
    OTHER_ERROR = "other_error", _("Other error")


FAILED_GENERATION = (
    Category.PROMPT_BLOCKED,
    Category.NO_CHARGE,
    Category.IMAGE_BLOCKED,
    Category.NO_IMAGE,
    Category.TEXT_REFUSAL,
    Category.EMPTY_OUTPUT,
)
REQUEST_ERROR = (
    Category.RATE_LIMITED,
    Category.OVERLOADED,
    Category.SERVER_ERROR,
    Category.TIMEOUT,
    Category.BAD_REQUEST,
    Category.AUTH_ERROR,
    Category.OTHER_ERROR,
)
FAILED = FAILED_GENERATION + REQUEST_ERROR
# Google marks these free: the expected per-token charge is 0.
GOOGLE_FREE = (Category.NO_CHARGE, Category.PROMPT_BLOCKED)


# The three groups of taxonomy.md: the codes group_of returns, and their labels.
GROUP_LABELS = {
    "delivered": _("delivered"),
    "failed generation": _("failed generation"),
    "request error": _("request error"),
}


def group_of(category: str) -> str:
    if category == Category.SUCCESS:
        return "delivered"
    if category in FAILED_GENERATION:
        return "failed generation"
    return "request error"


class Family(models.TextChoices):
    PRO = "pro", _("Nano Banana Pro")
    NB2 = "nb2", _("Nano Banana 2")
    NB2_LITE = "nb2_lite", _("Nano Banana 2 Lite")
    LEGACY = "legacy", _("Nano Banana (legacy)")


class BillingMode(models.TextChoices):
    PER_REQUEST = "per_request", _("Per request")
    PER_TOKEN = "per_token", _("Per token")


class Source(models.TextChoices):
    CALLS = "calls", _("Call envelopes (NDJSON)")
    GATEWAY = "gateway", _("Gateway log export (CSV/XLSX)")
    LOCAL = "local", _("Customer local log")


class LogType(models.TextChoices):
    CONSUME = "consume", _("Consume")
    ERROR = "error", _("Error")

"""Interface codes of nbaudit (taxonomy.md): use them as written."""
from django.db import models


class Category(models.TextChoices):
    SUCCESS = "success", "Success"
    PROMPT_BLOCKED = "prompt_blocked", "Prompt blocked"
    NO_CHARGE = "no_charge", "No charge (Google)"
    IMAGE_BLOCKED = "image_blocked", "Image blocked"
    NO_IMAGE = "no_image", "No image"
    TEXT_REFUSAL = "text_refusal", "Text refusal"
    EMPTY_OUTPUT = "empty_output", "Empty output"
    RATE_LIMITED = "rate_limited", "Rate limited (429)"
    OVERLOADED = "overloaded", "Overloaded (503)"
    SERVER_ERROR = "server_error", "Server error (5xx)"
    TIMEOUT = "timeout", "Timeout"
    BAD_REQUEST = "bad_request", "Bad request (400/404)"
    AUTH_ERROR = "auth_error", "Auth error (401/402/403)"
    OTHER_ERROR = "other_error", "Other error"


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


def group_of(category: str) -> str:
    if category == Category.SUCCESS:
        return "delivered"
    if category in FAILED_GENERATION:
        return "failed generation"
    return "request error"


class Family(models.TextChoices):
    PRO = "pro", "Nano Banana Pro"
    NB2 = "nb2", "Nano Banana 2"
    NB2_LITE = "nb2_lite", "Nano Banana 2 Lite"
    LEGACY = "legacy", "Nano Banana (legacy)"


class BillingMode(models.TextChoices):
    PER_REQUEST = "per_request", "Per request"
    PER_TOKEN = "per_token", "Per token"


class Source(models.TextChoices):
    CALLS = "calls", "Call envelopes (NDJSON)"
    GATEWAY = "gateway", "Gateway log export (CSV/XLSX)"
    LOCAL = "local", "Customer local log"


class LogType(models.TextChoices):
    CONSUME = "consume", "Consume"
    ERROR = "error", "Error"

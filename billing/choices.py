from django.db import models
from django.utils.translation import gettext_lazy as _


class TallyStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    CREDITED = "credited", _("Credited")


class IneligibleReason(models.TextChoices):
    BEFORE_PLAN_START = "before_plan_start", _("Month before the plan started")
    NOT_ENROLLED = "not_enrolled", _("Not enrolled")
    SPEND_BELOW_THRESHOLD = "spend_below_threshold", _("Spend below the threshold")


class TallyCallStatus(models.TextChoices):
    COUNTED = "counted", _("Counted")
    REPEATED = "repeated", _("Excluded as repeated")
    EXCLUDED = "excluded", _("Excluded by staff")


class ReconCategory(models.TextChoices):
    MISSING_LOCALLY = "missing_locally", _("Missing locally")
    MISSING_ON_PLATFORM = "missing_on_platform", _("Missing on platform")
    DUPLICATE_CHARGE = "duplicate_charge", _("Duplicate charge")
    CHARGED_FOR_ERROR = "charged_for_error", _("Charged for an error")
    CHARGED_BUT_FREE = "charged_but_free", _("Charged but free")
    STATUS_MISMATCH = "status_mismatch", _("Status mismatch")
    AMOUNT_MISMATCH = "amount_mismatch", _("Amount mismatch")
    REIMBURSABLE_FAILURE = "reimbursable_failure", _("Reimbursable failure")
    MATCH = "match", _("Match")


class QuestionKind(models.TextChoices):
    QUESTION = "question", _("Question")
    DISPUTE = "dispute", _("Dispute")


class QuestionStatus(models.TextChoices):
    OPEN = "open", _("Waiting for staff")
    ANSWERED = "answered", _("Answered")
    CLOSED = "closed", _("Closed")

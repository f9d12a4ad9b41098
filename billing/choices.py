from django.db import models


class TallyStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    CREDITED = "credited", "Credited"


class IneligibleReason(models.TextChoices):
    BEFORE_PLAN_START = "before_plan_start", "Month before the plan started"
    NOT_ENROLLED = "not_enrolled", "Not enrolled"
    SPEND_BELOW_THRESHOLD = "spend_below_threshold", "Spend below the threshold"


class TallyCallStatus(models.TextChoices):
    COUNTED = "counted", "Counted"
    REPEATED = "repeated", "Excluded as repeated"
    EXCLUDED = "excluded", "Excluded by staff"


class ReconCategory(models.TextChoices):
    MISSING_LOCALLY = "missing_locally", "Missing locally"
    MISSING_ON_PLATFORM = "missing_on_platform", "Missing on platform"
    DUPLICATE_CHARGE = "duplicate_charge", "Duplicate charge"
    CHARGED_FOR_ERROR = "charged_for_error", "Charged for an error"
    CHARGED_BUT_FREE = "charged_but_free", "Charged but free"
    STATUS_MISMATCH = "status_mismatch", "Status mismatch"
    AMOUNT_MISMATCH = "amount_mismatch", "Amount mismatch"
    REIMBURSABLE_FAILURE = "reimbursable_failure", "Reimbursable failure"
    MATCH = "match", "Match"


class QuestionKind(models.TextChoices):
    QUESTION = "question", "Question"
    DISPUTE = "dispute", "Dispute"


class QuestionStatus(models.TextChoices):
    OPEN = "open", "Waiting for staff"
    ANSWERED = "answered", "Answered"
    CLOSED = "closed", "Closed"

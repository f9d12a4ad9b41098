from django.db import models

from billing.choices import QuestionKind, QuestionStatus


class TallyQuestion(models.Model):
    """A question or dispute a customer raises on a tally: one thread, answered by staff."""

    tally = models.ForeignKey("billing.Tally", on_delete=models.CASCADE, related_name="questions")
    kind = models.CharField(max_length=16, choices=QuestionKind.choices, default=QuestionKind.QUESTION)
    status = models.CharField(max_length=16, choices=QuestionStatus.choices, default=QuestionStatus.OPEN,
                              help_text="open: waiting for staff; answered: staff replied; closed.")
    opened_by = models.ForeignKey("logs.User", null=True, on_delete=models.SET_NULL, related_name="+")
    opened_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["opened_at", "id"]
        indexes = [models.Index(fields=["status", "tally"], name="tallyquestion_status_idx")]

    def __str__(self):
        return f"{self.kind} on tally {self.tally_id} ({self.status})"


class TallyMessage(models.Model):
    """One message of a question's thread, from the customer or from staff."""

    question = models.ForeignKey(TallyQuestion, on_delete=models.CASCADE, related_name="messages")
    by = models.ForeignKey("logs.User", null=True, on_delete=models.SET_NULL, related_name="+")
    from_staff = models.BooleanField(default=False)
    at = models.DateTimeField(auto_now_add=True)
    text = models.TextField()

    class Meta:
        ordering = ["at", "id"]

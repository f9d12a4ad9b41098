"""Questions and disputes on a tally: a customer raises one with a message, staff answer in the
same thread. Every message is also a step of the tally's audit trail (TallyEvent), so both sides
read the whole story in one place.

Rules: a customer's user may raise and write on its own customer's tallies only; staff may
answer and close any. A staff answer marks the question answered (or closed, when staff say
so); a customer's follow-up opens it again. Open questions are what staff are asked to look at
(the badge and the "Has open question" filter of the tallies list).
"""
from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.choices import QuestionKind, QuestionStatus
from billing.models import Tally, TallyMessage, TallyQuestion
from billing.services.tally import TallyError, _event, tally_amount
from logs.scoping import is_staff

MAX_TEXT = 2000


def _require_party(tally: Tally, by) -> bool:
    """True for staff; a customer's user must be of the tally's customer."""
    if is_staff(by):
        return True
    if by is None or not by.is_authenticated or by.customer_id != tally.customer_id:
        raise PermissionDenied(_("Only the tally's customer and staff may write on its questions."))
    return False


def _text(text: str | None) -> str:
    text = (text or "").strip()
    if not text:
        raise TallyError(_("Write a message."))
    if len(text) > MAX_TEXT:
        raise TallyError(_("A message is at most %(max)s characters (%(n)s written).") % {
            "max": MAX_TEXT, "n": len(text)})
    return text


def question_open(*, tally: Tally, by, text: str, kind: str = QuestionKind.QUESTION) -> TallyQuestion:
    """A customer (or staff, on the customer's behalf) raises a question or dispute on a tally."""
    staff = _require_party(tally, by)
    text = _text(text)
    if kind not in QuestionKind.values:
        raise TallyError(_("Not a kind of question: %(kind)r.") % {"kind": kind})
    with transaction.atomic():
        question = TallyQuestion.objects.create(tally=tally, kind=kind, opened_by=by)
        TallyMessage.objects.create(question=question, by=by, from_staff=staff, text=text)
        _event(tally, by=by, action=f"{kind} raised", detail=text,
               amount_before=tally_amount(tally), status_before=tally.status)
    return question


def question_reply(*, question: TallyQuestion, by, text: str, close: bool = False) -> TallyQuestion:
    """Write in a question's thread: staff answer (answered, or closed with `close`); the
    customer's follow-up opens it again."""
    tally = question.tally
    staff = _require_party(tally, by)
    text = _text(text)
    with transaction.atomic():
        question = TallyQuestion.objects.select_for_update().get(pk=question.pk)
        TallyMessage.objects.create(question=question, by=by, from_staff=staff, text=text)
        if staff:
            question.status = QuestionStatus.CLOSED if close else QuestionStatus.ANSWERED
            action = "question answered and closed" if close else "question answered"
        else:
            question.status = QuestionStatus.OPEN
            action = "question follow-up"
        question.closed_at = timezone.now() if question.status == QuestionStatus.CLOSED else None
        question.save(update_fields=["status", "closed_at", "updated_at"])
        _event(tally, by=by, action=action, detail=text, amount_before=tally_amount(tally), status_before=tally.status)
    return question


def question_close(*, question: TallyQuestion, by) -> TallyQuestion:
    """Staff, or the customer who is satisfied, close a question without writing more."""
    tally = question.tally
    _require_party(tally, by)
    with transaction.atomic():
        question = TallyQuestion.objects.select_for_update().get(pk=question.pk)
        if question.status == QuestionStatus.CLOSED:
            raise TallyError(_("This question is closed already."))
        question.status = QuestionStatus.CLOSED
        question.closed_at = timezone.now()
        question.save(update_fields=["status", "closed_at", "updated_at"])
        _event(tally, by=by, action="question closed", amount_before=tally_amount(tally), status_before=tally.status)
    return question

"""What people do to an incident: acknowledge it (no more reminders) or mute it (no notices for a while)."""
from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from alerts.models import Incident, IncidentEvent, IncidentStatus, Notification

MAX_MUTE_HOURS = 24 * 30


def incident_acknowledge(*, incident: Incident, by) -> Incident:
    with transaction.atomic():
        incident = Incident.objects.select_for_update().get(pk=incident.pk)
        if incident.status != IncidentStatus.OPEN:
            raise ValidationError(gettext("This incident is resolved already."))
        if incident.acknowledged_at is None:
            now = timezone.now()
            incident.acknowledged_at, incident.acknowledged_by = now, by
            incident.save(update_fields=["acknowledged_at", "acknowledged_by"])
            IncidentEvent.objects.create(incident=incident, at=now, action="acknowledged", by=by)
    return incident


def incident_mute(*, incident: Incident, by, hours) -> Incident:
    try:
        hours = int(hours)
    except (TypeError, ValueError):
        raise ValidationError(gettext("Mute for a whole number of hours.")) from None
    if not 1 <= hours <= MAX_MUTE_HOURS:
        raise ValidationError(gettext("Mute for 1 to %(max)s hours.") % {"max": MAX_MUTE_HOURS})
    with transaction.atomic():
        incident = Incident.objects.select_for_update().get(pk=incident.pk)
        now = timezone.now()
        incident.muted_until = now + dt.timedelta(hours=hours)
        incident.save(update_fields=["muted_until"])
        IncidentEvent.objects.create(incident=incident, at=now, action="muted", by=by,
                                     detail=f"for {hours} hours, until {incident.muted_until:%Y-%m-%d %H:%M} UTC")
    return incident


def notifications_read(*, user, ids=None) -> int:
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())

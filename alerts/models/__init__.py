"""Models of alerts: rules, incidents and their timeline, in-app notifications, deliveries."""
from alerts.models.incidents import Incident, IncidentEvent, IncidentStatus
from alerts.models.notifications import Channel, Delivery, Notification
from alerts.models.rules import AlertKind, AlertRule, WebhookFormat

__all__ = ["AlertKind", "AlertRule", "WebhookFormat", "Incident", "IncidentEvent", "IncidentStatus",
           "Channel", "Delivery", "Notification"]

"""Alerts: rules over the figures nbaudit keeps, incidents that open, remind and resolve, and notifications (email, webhooks, chat bots, in the app)."""

"""Panels that other apps add to logs' pages, so logs never imports them.

The Overview lives in logs, but some of what it shows is billing's (the month-to-date credit
estimate, the staff ranking of customers). Billing registers a panel function here from
`BillingConfig.ready`, as it registers its export kinds: `panel(request, customer)` returns the
panel's HTML (a rendered template) or "" when it has nothing to show. A registry, rather than a
context processor, because it runs on the one page that shows the panel, not on every page.
"""
from __future__ import annotations

from collections.abc import Callable

OVERVIEW_PANELS: dict[str, Callable] = {}


def overview_panel_register(name: str, panel: Callable) -> None:
    """Add (or replace) a panel of the Overview; panels show in the order they were registered."""
    OVERVIEW_PANELS[name] = panel


def overview_panels(request, *, customer) -> list[str]:
    """The registered panels' HTML for this request (empty ones left out)."""
    shown = []
    for panel in OVERVIEW_PANELS.values():
        html = panel(request, customer)
        if html:
            shown.append(html)
    return shown

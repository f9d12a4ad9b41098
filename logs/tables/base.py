"""The one base table of every list (django-tables2), rendered by templates/tables/table.html.

What every list shares sits here once: numeric columns right-aligned, money, category
badges, the columns a user may choose, the text of an empty list, and no sorting by header
(a list pages by keyset in one fixed order, so the order is the list's, not a click's).
"""
from __future__ import annotations

import datetime as dt

import django_tables2 as tables
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from logs.choices import GROUP_LABELS, Category, group_of
from logs.classify.reasons import reason_text
from logs.money import usd
from logs.timeutil import utc_offset_label

NUM = {"td": {"class": "num"}, "th": {"class": "num"}}
BADGE_OK, BADGE_WARN, BADGE_BAD = "badge-ok", "badge-warn", "badge-bad"


def local_time(value, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """A stored time in the page's zone; one at the very end of the calendar (where the zone
    would pass year 9999) in UTC, marked so."""
    try:
        local = timezone.localtime(value)
    except OverflowError:
        utc = value.astimezone(dt.timezone.utc)
        return utc.strftime(fmt.replace("%Z", "UTC")) if "%Z" in fmt else utc.strftime(fmt) + " UTC"
    # %Z would print an abbreviation ("CST" is China's and Chicago's): the offset instead.
    return local.strftime(fmt.replace("%Z", utc_offset_label(local.tzinfo, local)))


def money(value, *, places: int | None = None) -> str:
    """An amount in USD, as every page writes it (logs.money.usd): a call's amount to the places it
    carries, `places` fixed (2: a total or a credit). None is a dash."""
    return usd(value, places=places)


def badge(text, kind: str = "", title: str = "") -> str:
    if title:
        return format_html('<span class="badge {}" title="{}">{}</span>', kind, title, text)
    return format_html('<span class="badge {}">{}</span>', kind, text)


def category_badge_kind(code: str) -> str:
    """A call category's badge: delivered green, a failed generation amber, a request error red."""
    if code == Category.SUCCESS:
        return BADGE_OK
    return BADGE_WARN if group_of(code) == "failed generation" else BADGE_BAD


def category_badge(code: str, *, reason: str | None = None) -> str:
    """A call category as a badge (its label; a failure's group as the title, its reason under it)."""
    try:
        label = Category(code).label
    except ValueError:
        label = code
    if code == Category.SUCCESS:
        return badge(label, BADGE_OK)
    html = badge(label, category_badge_kind(code), GROUP_LABELS.get(group_of(code), ""))
    return html if reason is None else format_html('{}<div class="reason">{}</div>', html, reason_text(reason))


class NumColumn(tables.Column):
    """A number: right-aligned."""

    def __init__(self, *args, **kw):
        kw.setdefault("attrs", NUM)
        super().__init__(*args, **kw)


class MoneyColumn(NumColumn):
    """An amount in USD, right-aligned (see `money`)."""

    def __init__(self, *args, places: int | None = None, **kw):
        super().__init__(*args, **kw)
        self.places = places

    def render(self, value):
        return money(value, places=self.places)


class BaseTable(tables.Table):
    """Columns a user may choose (`columns=`; `always` ones are always shown), no header sorting."""

    always: tuple[str, ...] = ()
    default_columns: tuple[str, ...] | None = None

    class Meta:
        orderable = False
        template_name = "tables/table.html"
        empty_text = _("Nothing to show.")

    def __init__(self, *args, columns=None, exclude=(), **kw):
        if self.default_columns is not None:
            chosen = set(columns or self.default_columns) | set(self.always)
            exclude = [*exclude, *(name for name in self.base_columns if name not in chosen)]
        super().__init__(*args, exclude=exclude, **kw)

    @classmethod
    def column_choices(cls) -> list[tuple[str, str]]:
        """The columns a user may choose, with their headers."""
        return [(name, str(col.verbose_name or name.replace("_", " ").capitalize()))
                for name, col in cls.base_columns.items() if name not in cls.always]

    def body_html(self) -> str:
        """Rows rendered in Python for a fast table (see CallTable); empty: the template renders them."""
        return ""

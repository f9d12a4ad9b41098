"""What the operator commands print for people: in the environment's language, an ingest summary in words.

The language of a command's human output is the environment's: NBAUDIT_LANG (en | zh-hans), else
the POSIX locale (LC_ALL, LC_MESSAGES, LANG, the first one set; zh_* gives zh-hans), else English.
--json output, codes and file formats stay as they are in every language.
"""
from __future__ import annotations

import os
from collections.abc import Mapping

from django.utils import translation
from django.utils.translation import gettext as _

from logs.languages import CHINESE, ENGLISH, language_code


def command_language(environ: Mapping[str, str] | None = None) -> str:
    """The language of a command's human output, from the environment (see the module's doc)."""
    env = os.environ if environ is None else environ
    chosen = (env.get("NBAUDIT_LANG") or "").strip()
    if chosen:
        code = language_code(chosen, default="")
        if code:
            return code
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = (env.get(var) or "").strip()
        if value:  # POSIX: the first one set wins, even C or POSIX
            return CHINESE if value.lower().startswith("zh") else ENGLISH
    return ENGLISH


class Spoken:
    """A BaseCommand mixin: run the command in command_language() (Django would use LANGUAGE_CODE)."""

    def execute(self, *args, **options):
        with translation.override(command_language()):
            return super().execute(*args, **options)


def summary_lines(summary: dict, *, title: str, where: str = "line", extra: str = "") -> list[str]:
    """An ingest summary (IngestBatch.summary()) as lines: counts, every rejected row, categories,
    customers created. `where` names a rejected row's place ("line", "row"); `extra` ends line one."""
    lines = [_("%(title)s: %(rows)s rows: %(inserted)s inserted, %(duplicates)s duplicates, "
               "%(conflicts)s conflicts, %(skipped)s skipped (not calls), %(rejected)s rejected%(extra)s") % {
        "title": title, "rows": summary["rows"], "inserted": summary["inserted"],
        "duplicates": summary["duplicates"], "conflicts": summary["conflicts"], "skipped": summary["skipped"],
        "rejected": len(summary["rejected"]), "extra": extra}]
    place = _("row %(n)s") if where == "row" else _("line %(n)s")
    lines += ["  " + place % {"n": r["line"]} + ": " + str(r["reason"]) for r in summary["rejected"]]
    if summary.get("categories"):
        lines.append("  " + _("categories: %(list)s") % {
            "list": ", ".join(f"{k} {v}" for k, v in summary["categories"].items())})
    if summary.get("customers_created"):
        lines.append("  " + _("customers created: %(list)s") % {"list": ", ".join(summary["customers_created"])})
    return lines

"""The catalogs are complete: every message of locale/ translated, none fuzzy, formats kept, the
committed .mo the compiled .po (so a machine without gettext serves the same words)."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import polib
import pytest
from django.conf import settings

LOCALE = Path(settings.BASE_DIR) / "locale"
CATALOGS = sorted(LOCALE.glob("*/LC_MESSAGES/django.po"))
PLACEHOLDER = re.compile(r"%\([a-z_0-9]+\)[sdr]|\{[a-z_]*\}")


def _translations(entry) -> list[str]:
    return list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]


def test_there_is_a_chinese_catalog():
    assert LOCALE / "zh_Hans" / "LC_MESSAGES" / "django.po" in CATALOGS


@pytest.mark.parametrize("po_path", CATALOGS, ids=lambda p: p.parts[-3])
def test_every_message_is_translated_and_none_is_fuzzy(po_path):
    po = polib.pofile(str(po_path))
    untranslated = [e.msgid for e in po if not e.obsolete and not all(s.strip() for s in _translations(e))]
    fuzzy = [e.msgid for e in po if not e.obsolete and "fuzzy" in e.flags]
    assert untranslated == [] and fuzzy == []
    assert len(po) > 500  # the whole UI, not a sample


@pytest.mark.parametrize("po_path", CATALOGS, ids=lambda p: p.parts[-3])
def test_translations_keep_the_placeholders(po_path):
    """A %(name)s or {name} dropped or misspelt would break the message at run time."""
    wrong = []
    for e in polib.pofile(str(po_path)):
        wanted = set(PLACEHOLDER.findall(e.msgid)) | set(PLACEHOLDER.findall(e.msgid_plural or ""))
        for s in _translations(e):
            if not set(PLACEHOLDER.findall(s)) <= wanted or (not e.msgid_plural and
                                                            set(PLACEHOLDER.findall(s)) != wanted):
                wrong.append((e.msgid, s))
    assert wrong == []


@pytest.mark.parametrize("po_path", CATALOGS, ids=lambda p: p.parts[-3])
def test_the_committed_mo_is_the_compiled_po(po_path):
    mo_path = po_path.with_suffix(".mo")
    assert mo_path.exists(), "run: python manage.py compilemessages"
    compiled = {(e.msgctxt, e.msgid): tuple(_translations(e)) for e in polib.mofile(str(mo_path)) if e.msgid}
    source = {(e.msgctxt, e.msgid): tuple(_translations(e)) for e in polib.pofile(str(po_path))
              if not e.obsolete and e.msgid}
    assert compiled == source, "the .mo is stale: run python manage.py compilemessages"


@pytest.mark.skipif(not shutil.which("msgfmt"), reason="needs gettext's msgfmt")
@pytest.mark.parametrize("po_path", CATALOGS, ids=lambda p: p.parts[-3])
def test_msgfmt_finds_no_untranslated_or_fuzzy_message(po_path):
    run = subprocess.run(["msgfmt", "--check-format", "--statistics", "-o", "/dev/null", str(po_path)],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "untranslated" not in run.stderr and "fuzzy" not in run.stderr
    assert "translated message" in run.stderr

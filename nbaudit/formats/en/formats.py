"""English formats: Django's, with ISO-like short dates (the pages' tables) and "," thousands."""
from django.conf.locale.en.formats import *  # noqa: F401,F403

YEAR_MONTH_FORMAT = "Y-m"  # the tallies list: 2026-06 (Chinese: 2026年6月)
SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3

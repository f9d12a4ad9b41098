"""Simplified Chinese formats: Django's (2026年11月, 2026年11月5日) with money grouped by 3.

Django's zh_Hans groups digits by 4 with no separator (万-style); amounts in the gateway
consoles and in finance read 1,234,567.89, so nbaudit groups by 3 with ",".
"""
from django.conf.locale.zh_Hans.formats import *  # noqa: F401,F403

DATE_FORMAT = "Y年n月j日"
YEAR_MONTH_FORMAT = "Y年n月"
DATETIME_FORMAT = "Y年n月j日 H:i"
SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3

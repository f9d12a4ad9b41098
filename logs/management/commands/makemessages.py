"""Django's makemessages, without msgmerge's fuzzy guesses.

A new message would otherwise arrive carrying the translation of a similar old one ("Any key"
getting the one of "API key"), marked fuzzy: easy to ship wrong. Here it arrives empty, and
tests/i18n/test_catalogs.py fails until someone translates it (README, "Languages").
"""
from django.core.management.commands import makemessages


class Command(makemessages.Command):
    msgmerge_options = [*makemessages.Command.msgmerge_options, "--no-fuzzy-matching"]

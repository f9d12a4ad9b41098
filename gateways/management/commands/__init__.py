"""`manage.py gateway add | sync | list`."""

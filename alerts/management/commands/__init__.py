"""`manage.py alert add | evaluate | list`."""

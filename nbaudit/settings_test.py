"""Settings of the test suite and the benchmarks: nbaudit's own, with a key of the run's own.

CI and developers run the suite on PostgreSQL with DATABASE_URL set, where settings refuse the
public development key. A random key is made here for the run (in the environment, so that the
worker processes some tests start share it); a key given in the environment wins.
"""
import os
import secrets

os.environ.setdefault("NBAUDIT_SECRET_KEY", "nbaudit-test-run-" + secrets.token_urlsafe(40))

from nbaudit.settings import *  # noqa: E402,F403  (the key above must be set first)

# Hashing a password the production way takes about half a second; the suite makes hundreds.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# One process, emptied before each test (tests/conftest.py): not the data folder's files.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "nbaudit-test",
                      "OPTIONS": {"MAX_ENTRIES": 2000}}}
# No Overview warming after each rollup write (its own tests turn it on).
NBAUDIT_OVERVIEW_WARM = False

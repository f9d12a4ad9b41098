"""The test suite: tests/logs and tests/billing mirror the apps; browser/ drives Chromium; perf/ is `make bench`."""
from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
FIXTURES = TESTS / "fixtures"
ARTIFACTS = TESTS / "artifacts"

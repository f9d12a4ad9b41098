PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install run test lint bench clean messages

install: $(STAMP)

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "needs $(PYTHON)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py demo --no-logins
	@# last month's draft tallies, as the month-end beat task would have made them (idempotent)
	$(PY) manage.py tally $$(TZ=Asia/Shanghai date -d "$$(TZ=Asia/Shanghai date +%Y-%m-01) -1 day" +%Y-%m) >/dev/null
	./bin/run-all

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(PY) -m ruff check logs billing gateways alerts nbaudit tests

# After changing or adding text: new msgids arrive empty in locale/zh_Hans (translate them), then
# the .mo files (committed, so no machine needs gettext to serve them) are compiled again.
messages: $(STAMP)
	$(PY) manage.py makemessages -l zh_Hans --no-obsolete --ignore=.venv --ignore=tests --ignore=data --ignore=docs
	$(PY) manage.py compilemessages --ignore=.venv

bench: $(STAMP)
	./tests/perf/run_all.sh

clean:
	rm -rf $(VENV) data

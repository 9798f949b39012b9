# thidua: `make run` to start the bot, `make test` to run the whole suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DOMAIN := thidua

.PHONY: run test test-calendar browser lint format bench bench-fanout bench-digest locales-extract locales-update locales-compile clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install -q -e ".[test]"
	touch $@

# Compiled catalogs are built, not committed.
locales-compile: $(VENV)/.installed
	$(BIN)/pybabel compile -d locales -D $(DOMAIN)

run: $(VENV)/.installed locales-compile
	$(BIN)/thidua run --or-console "Thôn 1"

test: $(VENV)/.installed-test locales-compile
	$(BIN)/ruff check .
	$(BIN)/pytest -q -n 2

# The whole suite again with the machine's clock faked by libfaketime (Debian: faketime), at a
# Vietnamese year end and month end a minute before midnight, and on a leap day: no test may
# depend on the date it runs. The times are UTC (Vietnam is UTC+7). On SQLite alone: the
# moments both engines store come from the tests' own clocks, never the machine's.
CALENDAR := 2026-12-31T16:58:30 2027-02-28T16:59:00 2028-02-29T12:00:00
test-calendar: $(VENV)/.installed-test locales-compile
	@command -v faketime >/dev/null || { echo "test-calendar needs libfaketime: apt-get install faketime"; exit 1; }
	@for moment in $(CALENDAR); do \
		echo "== the suite on $$moment UTC"; \
		TZ=UTC THIDUA_TEST_ENGINES=sqlite faketime "$$(echo $$moment | tr T ' ')" $(BIN)/pytest -q -x -n 2 -p no:cacheprovider || exit 1; \
	done

# The browser the web page's tests drive: Debian's chromium (Playwright, a test dependency,
# drives it; it never downloads a browser of its own). Needs root (apt-get); `make test`
# skips the browser tests where there is none.
browser:
	@command -v $${THIDUA_CHROMIUM:-/usr/bin/chromium} >/dev/null || { \
		apt-get install -y -q chromium >/dev/null || { \
			apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }; }
	@$${THIDUA_CHROMIUM:-/usr/bin/chromium} --version

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(VENV)/.installed-test locales-compile
	$(BIN)/python -m bench.reports

# Reminders to 3,000 heads through a stand-in enforcing Telegram's 30 messages/s (~2 min).
bench-fanout: $(VENV)/.installed-test locales-compile
	$(BIN)/python -m bench.fanout

# The digest of one period in a database of 2 million answers (builds it first, ~20 s).
bench-digest: $(VENV)/.installed-test locales-compile
	$(BIN)/python -m bench.digest

locales-extract: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _ -k N_ -k ngettext:1,2 --no-location \
		--project $(DOMAIN) -o locales/$(DOMAIN).pot bot handlers storage scheduler web

locales-update: locales-extract
	$(BIN)/pybabel update -i locales/$(DOMAIN).pot -d locales -D $(DOMAIN) --no-fuzzy-matching
	$(BIN)/python locales/sync.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
	find locales -name '*.mo' -delete

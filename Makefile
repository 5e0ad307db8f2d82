# The two commands of the README: `make run` and `make test`. Everything they need is installed here.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
HOST   ?= 127.0.0.1

.PHONY: run test lint install test-packages clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	@touch $(STAMP)

# Debian packages the tests need (nothing is downloaded at run time): Chromium and Japanese and emoji fonts for
# the simulator's browser test; pdftotext, pdffonts and pdftoppm (poppler-utils) to read the report's PDF back.
# `make run` needs none of them.
install: $(STAMP)

test-packages:
	@if [ ! -x /usr/bin/chromium ] || ! command -v pdftotext >/dev/null 2>&1 \
		|| ! (fc-list :lang=ja 2>/dev/null | grep -q .) \
		|| ! (fc-list 2>/dev/null | grep -qi "color emoji"); then \
		echo "installing Chromium, Japanese and emoji fonts and poppler-utils (apt-get) for the tests"; \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && \
		$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			chromium fonts-noto-cjk fonts-noto-color-emoji poppler-utils >/dev/null; \
	fi

run: install
	$(BIN)/madoguchi db upgrade
	$(BIN)/madoguchi serve --host $(HOST)

test: install test-packages
	@echo "== tests on SQLite"
	$(BIN)/python -m pytest -q -n auto --maxprocesses=4 --durations=15
	@if $(BIN)/python -m tests.postgres_available "$(PG_URL)"; then \
		echo "== tests on PostgreSQL ($(PG_URL)): those that use a database"; \
		MADOGUCHI_TEST_DATABASE_URL="$(PG_URL)" MADOGUCHI_TEST_DATABASE_ONLY=1 $(BIN)/python -m pytest -q -n auto --maxprocesses=4 --durations=15; \
	elif [ -n "$$MADOGUCHI_REQUIRE_POSTGRES" ]; then \
		echo "PostgreSQL is required here (MADOGUCHI_REQUIRE_POSTGRES) but does not answer at $(PG_URL)"; exit 1; \
	else \
		echo "PostgreSQL does not answer at $(PG_URL): ran the tests on SQLite only"; \
	fi

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy bot config handlers scheduling storage reporting tests benchmarks

clean:
	rm -rf $(VENV) var build *.egg-info

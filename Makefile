# The two commands of the README: `make run` and `make test`. Everything they need is installed here.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
HOST   ?= 127.0.0.1

.PHONY: run test lint install poppler clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	@touch $(STAMP)

install: $(STAMP) poppler

# pdftotext, pdffonts and pdftoppm (poppler-utils): the report tests read the PDF back with them.
poppler:
	@command -v pdftotext >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			apt-get install -y -q poppler-utils >/dev/null 2>&1 || \
			{ apt-get update -q >/dev/null && apt-get install -y -q poppler-utils >/dev/null; }; \
		else \
			echo "poppler-utils (pdftotext) is missing: install it (e.g. sudo apt-get install poppler-utils) for the report tests"; \
		fi; }

run: install
	$(BIN)/madoguchi db upgrade
	$(BIN)/madoguchi serve --host $(HOST)

test: install
	@echo "== tests on SQLite"
	$(BIN)/python -m pytest -q
	@if $(BIN)/python -m tests.postgres_available "$(PG_URL)"; then \
		echo "== tests on PostgreSQL ($(PG_URL))"; \
		MADOGUCHI_TEST_DATABASE_URL="$(PG_URL)" $(BIN)/python -m pytest -q; \
	elif [ -n "$$MADOGUCHI_REQUIRE_POSTGRES" ]; then \
		echo "PostgreSQL is required here (MADOGUCHI_REQUIRE_POSTGRES) but does not answer at $(PG_URL)"; exit 1; \
	else \
		echo "PostgreSQL does not answer at $(PG_URL): ran the tests on SQLite only"; \
	fi

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy bot config handlers scheduling storage reporting

clean:
	rm -rf $(VENV) var build *.egg-info

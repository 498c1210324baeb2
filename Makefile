# Every target creates .venv and installs into it when needed, so a fresh machine with
# Python 3.11+ and make needs nothing else.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test bench lint typecheck schema serve clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/hub demo

test: $(STAMP)
	$(BIN)/python -m pytest

# City-scale benchmark on PostgreSQL (not part of `make test`): see bench/README.md.
bench: $(STAMP)
	$(BIN)/python -m bench.run

lint: $(STAMP)
	$(BIN)/ruff check hub tests bench partners
	$(BIN)/ruff format --check hub tests bench partners
	$(BIN)/mypy hub

schema: $(STAMP)
	$(BIN)/hub schema export

serve: $(STAMP)
	$(BIN)/hub serve

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache

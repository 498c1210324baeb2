# Every target creates .venv and installs into it when needed, so a fresh machine with
# Python 3.11+ and make needs nothing else.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test test-all lock bench lint typecheck schema serve clean graphiql-assets

# Exact versions (with hashes) from requirements.lock, then the hub itself without deps.
$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

# After changing a dependency in pyproject.toml: pin the newest versions its bounds allow,
# for development (requirements.lock, with the dev extra) and for the image (-prod).
lock:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	test -x $(BIN)/uv || $(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 --universal \
		--generate-hashes --custom-compile-command "make lock" -o requirements.lock
	$(BIN)/uv pip compile pyproject.toml --python-version 3.11 --universal \
		--generate-hashes --custom-compile-command "make lock" -o requirements-prod.lock

demo: $(STAMP)
	$(BIN)/hub demo

# The quick suite (a few minutes); `test-all` adds the slow tests (a kill -9 crash test, the
# benchmark smoke, worker start-up under load, the database outage) and is what CI runs.
test: $(STAMP)
	$(BIN)/python -m pytest -m "not slow"

test-all: $(STAMP)
	$(BIN)/python -m pytest

# City-scale benchmark on PostgreSQL (not part of `make test`): see bench/README.md.
# PostGraphile, the peer it is measured against, comes from bench/peer's npm lock when npm is
# there; without it the run skips the peer and says so.
bench: $(STAMP) bench/peer/node_modules/.package-lock.json
	$(BIN)/python -m bench.run

bench/peer/node_modules/.package-lock.json: bench/peer/package-lock.json
	@if command -v npm >/dev/null; then npm ci --prefix bench/peer --no-audit --no-fund; \
	else echo "bench: npm is not installed: the PostGraphile peer will be skipped"; fi

lint: $(STAMP)
	$(BIN)/ruff check hub tests bench partners
	$(BIN)/ruff format --check hub tests bench partners
	$(BIN)/mypy hub
	$(BIN)/lint-imports

schema: $(STAMP)
	$(BIN)/hub schema export

# Refresh GraphiQL's pinned browser assets from npm (see hub/graphql/graphiql/NOTICE.md).
graphiql-assets:
	hub/graphql/graphiql/npm/vendor.sh

serve: $(STAMP)
	$(BIN)/hub serve

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .import_linter_cache

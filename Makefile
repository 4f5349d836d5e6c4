# The two commands a newcomer runs are `make demo` and `make test`; the rest are steps of those two.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
ARGS   ?=

.PHONY: demo test install install-dev frontend lint test-py test-js clean bench reliability

demo: install
	$(BIN)/conduit-widget demo $(ARGS)

test: install-dev lint test-js test-py

# --- set-up ---------------------------------------------------------------------------------------
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

js/node_modules/.package-lock.json: js/package.json js/package-lock.json
	cd js && npm ci --no-audit --no-fund
	touch $@

frontend: js/node_modules/.package-lock.json
	cd js && npm run build

# The package installs editable, with its front end built first (the hatch build hook would skip an
# existing build, so building here keeps static/ in step with js/).
$(VENV)/.installed: pyproject.toml js/node_modules/.package-lock.json $(wildcard js/*.ts js/*.css) | $(BIN)/python
	cd js && npm run build
	$(BIN)/python -m pip install --quiet -e ".[demo]"
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# --- checks ---------------------------------------------------------------------------------------
lint: install-dev
	$(BIN)/ruff check conduit_widget tests benchmarks
	$(BIN)/ruff format --check conduit_widget tests benchmarks
	$(BIN)/mypy

test-js: js/node_modules/.package-lock.json
	cd js && npm run typecheck && npm test

test-py: install-dev
	CONDUIT_LOCAL_SPEED=20 $(BIN)/pytest tests notebooks --nbval --nbval-current-env --nbval-sanitize-with notebooks/sanitize.cfg

clean:
	rm -rf $(VENV) js/node_modules conduit_widget/static .pytest_cache .mypy_cache .ruff_cache

# The fault scenarios' table in docs/reliability.md (CONDUIT_SOAK=1 for the long versions), and the security
# checklist in docs/security.md from the tests marked @pytest.mark.security (first: the reliability page lists
# issue 17's rows from its outcomes).
reliability: install-dev
	CONDUIT_WRITE_DOCS=1 CONDUIT_LOCAL_SPEED=20 $(BIN)/pytest tests -m security -q
	CONDUIT_WRITE_DOCS=1 $(BIN)/pytest tests/faults -q

# Benchmarks are not tests: one table, benchmarks/results/latest.json and docs/performance.md (before: the
# committed benchmarks/baseline.json). ARGS="--only throughput" for one section, "--quick" for the smoke size.
bench: install-dev js/node_modules/.package-lock.json
	$(BIN)/python -m benchmarks.run $(ARGS)

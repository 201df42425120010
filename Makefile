# Qumulus: `make serve` and `make test` are all a new machine needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
IONQ_VENV := .venv-ionq
HOST ?= 127.0.0.1
PORT ?= 8000
DATA_DIR ?= qumulus-data

.PHONY: serve test bench bench-quick lint format install install-test clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip setuptools wheel

# Stamps make re-runs instant; they are rebuilt when pyproject.toml changes.
$(VENV)/.server-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[server]'
	touch $@

# The test extra brings Playwright (the console's browser tests use Debian's chromium, never a download).
$(VENV)/.test-installed: pyproject.toml $(VENV)/.server-installed
	$(BIN)/pip install --quiet -e '.[all]'
	touch $@

# The alpha `ionq` package pins pydantic<2, which cannot share a venv with FastAPI: it gets its own.
# If it cannot be installed here, its compatibility test skips (it says why).
$(IONQ_VENV)/.installed:
	$(PYTHON) -m venv $(IONQ_VENV)
	$(IONQ_VENV)/bin/pip install --quiet 'ionq==0.0.0a15' 'openqasm3[parser]' matplotlib networkx requests qiskit tqdm sympy \
		|| { echo "warning: the ionq package did not install; its compatibility test will skip"; rm -rf $(IONQ_VENV); mkdir -p $(IONQ_VENV); }
	touch $@

install: $(VENV)/.server-installed

install-test: $(VENV)/.test-installed $(IONQ_VENV)/.installed

serve: install
	$(BIN)/qumulus serve --host $(HOST) --port $(PORT) --data-dir $(DATA_DIR)

test: install-test
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

bench: install-test
	$(BIN)/python bench/tiny_jobs.py
	$(BIN)/python bench/large_circuit.py

bench-quick: install-test
	$(BIN)/python bench/tiny_jobs.py --quick
	$(BIN)/python bench/large_circuit.py --quick

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-test
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) $(IONQ_VENV) .pytest_cache .ruff_cache build *.egg-info src/*.egg-info

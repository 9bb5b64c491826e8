# One command to start the bot, one to run the tests; both install what they need on first use.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: install test run lint format weights bench clean

install: $(STAMP)

# torch is installed first and pinned, so that pip never reaches for a multi-GB CUDA build
# on a machine that has the CPU wheel (a GPU image installs its CUDA torch before this).
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "torch==2.13.0"
	$(PY) -m pip install --quiet -e ".[engine,local,dev]"
	$(PY) -m pip install --quiet --no-deps "resemblyzer==0.1.4"
	touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest

run: $(STAMP)
	$(PY) -m bot.local

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: $(STAMP)
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

weights: $(STAMP)
	$(PY) -m sv2tts download

bench: $(STAMP)
	$(PY) -m sv2tts bench
	$(PY) -m worker.bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

# One command to start the bot, one to run the tests; both install what they need on first use.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# What `make install` puts in the venv. The defaults are the laptop's (everything, CPU torch);
# the Docker images narrow them, e.g. `make install EXTRAS= TORCH_SPEC=` for the bot (no torch).
EXTRAS          ?= engine,local,dev
TORCH_SPEC      ?= torch==2.13.0
# Empty: PyPI (on Linux x86_64 its torch wheel is the CUDA build); the CPU image sets
# https://download.pytorch.org/whl/cpu.
TORCH_INDEX_URL ?=

.PHONY: install test run lint format weights bench clean

install: $(STAMP)

# torch is installed first and pinned, so that pip never reaches for a multi-GB CUDA build
# on a machine that has the CPU wheel (the worker image picks its build with TORCH_INDEX_URL).
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(if $(TORCH_SPEC),$(PY) -m pip install --quiet $(if $(TORCH_INDEX_URL),--index-url "$(TORCH_INDEX_URL)") "$(TORCH_SPEC)")
	$(PY) -m pip install --quiet -e ".$(if $(EXTRAS),[$(EXTRAS)])"
	$(if $(findstring engine,$(EXTRAS)),$(PY) -m pip install --quiet --no-deps "resemblyzer==0.1.4")
	touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest

run: $(STAMP)
	$(PY) -m service.local

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

# corridor: the two Quick start commands live here.
#   make demo   set up .venv, build the dprk-russia-2023 case, write corridor-demo/report.html
#   make test   set up .venv with test extras, install system packages the tests need, run pytest
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: demo test test-fast setup setup-dev system-deps lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

setup: $(BIN)/python
	$(BIN)/pip install --quiet -e .

setup-dev: $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev,spark,html]"

system-deps:
	bash scripts/system-deps.sh

demo: setup
	$(BIN)/corridor demo

test: setup-dev system-deps
	$(BIN)/ruff check src tests bench
	$(BIN)/python -m pytest -n 2 --dist loadfile

# the quick loop while editing: no Spark, no browser, nothing slow (make test runs everything)
test-fast: setup-dev
	$(BIN)/python -m pytest -n 2 --dist loadfile -m "not spark and not browser and not slow"

lint: setup-dev
	$(BIN)/ruff check src tests bench

clean:
	rm -rf $(VENV) corridor-demo test-artifacts

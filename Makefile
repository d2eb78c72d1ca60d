# Every install step lives here: a fresh machine needs only python3, go, make and openssl.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Two pytest workers, each with sandboxes of its own: the end-to-end tests mostly wait on
# operators and pods, so two at once use the two cores one leaves half idle.
TEST_WORKERS ?= 2

.PHONY: help venv bins sandbox sandbox-down demo test unit e2e lint bench dist krew clean

help:
	@echo "make test          install everything, then run unit and end-to-end tests"
	@echo "make demo          bring up the sandbox, run the main job on it, take it down"
	@echo "make sandbox       start two management clusters and S3 on 127.0.0.1 (.sandbox/env)"
	@echo "make sandbox-down  stop the sandbox and remove its state"
	@echo "make lint          ruff and mypy (CI runs it before the tests)"
	@echo "make bench         measure streaming speed, memory and start-up"
	@echo "make dist | krew   build the zipapp | the krew archive and manifest"

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "make: $(PYTHON) is not installed"; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' || { echo "make: python >= 3.10 is needed"; exit 1; }
	@$(PYTHON) -m venv $(VENV) || { echo "make: python3 -m venv failed (install python3-venv)"; exit 1; }
	@$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt -r requirements-dev.txt \
		|| { echo "make: pip could not install the pinned packages (is PyPI reachable?)"; exit 1; }
	@touch $@

venv: $(STAMP)

bins:
	@command -v openssl >/dev/null || { echo "make: openssl is not installed; the sandbox makes its certificates with it"; exit 1; }
	@bash tests/sandbox/build-bins.sh >/dev/null

sandbox: venv bins
	@PYTHONPATH=. $(PY) -m tests.sandbox up

sandbox-down: venv
	@PYTHONPATH=. $(PY) -m tests.sandbox down

demo: venv bins
	@PYTHONPATH=. bash tests/sandbox/demo.sh

lint: venv
	@$(VENV)/bin/ruff check kubectl_hcmigrate tests
	@$(VENV)/bin/ruff format --check kubectl_hcmigrate tests
	@$(VENV)/bin/mypy

unit: venv
	@$(PY) -m pytest tests/unit -q

test: venv bins
	@$(PY) -m pytest -q -n $(TEST_WORKERS)

bench: venv bins
	@PYTHONPATH=. $(PY) -m tests.bench

dist: venv
	@$(PY) -m tests.build_dist dist

krew: dist
	@$(PY) -m tests.build_dist krew

clean: sandbox-down
	rm -rf dist build *.egg-info

# AML Console task runner. `make` lists the commands.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.DEFAULT_GOAL := help
.PHONY: help run test reliability lint format install install-test system-test-deps worker web clean

help: ## list the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

$(VENV)/.stamp-install: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e '.[prod]'
	touch $@

$(VENV)/.stamp-test: pyproject.toml $(VENV)/.stamp-install
	$(PIP) install -q -e '.[test,bench,prod]'
	touch $@

install: $(VENV)/.stamp-install ## create .venv and install the console

install-test: $(VENV)/.stamp-test ## install the test dependencies too

run: install ## set up and run the console on http://127.0.0.1:8000 (web + a real Celery worker)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py ensure_first_user
	$(PY) manage.py runconsole

system-test-deps: ## apt-get what the tests drive for real: redis-server, Debian's chromium, PostgreSQL
	@if ! command -v redis-server >/dev/null || ! command -v chromium >/dev/null || \
	  ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends redis-server chromium postgresql >/dev/null; \
	fi

test: install-test system-test-deps ## install everything the tests need and run the whole suite
	$(PY) -m pytest

reliability: install-test system-test-deps ## run the reliability and security suites and rewrite docs/reliability.md
	$(PY) tests/reliability/reliability_report.py

lint: install-test ## ruff lint and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install-test ## ruff format and autofix
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean: ## remove the virtualenv and local data (uploads, database)
	rm -rf $(VENV) data

# AgentAuth: `make run` serves the portal, `make test` runs the whole suite. Both set up .venv first.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
export HOST PORT  # settings derive the development issuer from them

# Django 6.1 needs Python 3.12+. Try python3.13, python3.12, python3, then pyenv's versions
# (their shims fail unless PYENV_VERSION names them, so ask for each version explicitly).
define FIND_PYTHON
for candidate in python3.13 python3.12 python3; do \
  if command -v $$candidate >/dev/null 2>&1 && $$candidate -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then \
    command -v $$candidate; exit 0; fi; \
done; \
root=$${PYENV_ROOT:-$$HOME/.pyenv}; command -v pyenv >/dev/null 2>&1 && root=$$(pyenv root); \
for candidate in $$(ls -d $$root/versions/3.1[2-9]*/bin/python 2>/dev/null | sort -rV); do \
  if $$candidate -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then echo $$candidate; exit 0; fi; \
done; exit 1
endef

.PHONY: help run test stress worker beat scale-demo mcp-example lint format bench bench-profile venv venv-dev migrate clean

help:
	@echo "make run      serve the portal on http://$(HOST):$(PORT) (embedded: SQLite, no other servers)"
	@echo "make test     run the whole test suite"
	@echo "make worker   Celery worker (needs REDIS_URL)    make beat   Celery beat (needs REDIS_URL)"
	@echo "make lint     ruff check + format check         make bench  benchmark suite"
	@echo "make bench-profile  where the CPU per request goes (PROFILE_ARGS=--gil: Python CPU only)"

$(VENV)/.runtime: requirements.txt
	@python=$$($(FIND_PYTHON)) || { echo "AgentAuth needs Python 3.12 or newer (Django 6.1). Install one, e.g. 'pyenv install 3.12', and retry." >&2; exit 1; }; \
	  [ -x $(PY) ] || { echo "Creating $(VENV) with $$python"; $$python -m venv $(VENV); }
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

# The spec-strict client tests (tests/strict) run oauth4webapi under Node, pinned by its lockfile.
tests/strict/node_modules/.installed: tests/strict/package-lock.json
	@command -v npm >/dev/null || { echo "The strict-client tests need Node 20+ and npm." >&2; exit 1; }
	npm ci --prefix tests/strict --no-audit --no-fund --silent
	@touch $@

venv: $(VENV)/.runtime
venv-dev: $(VENV)/.dev tests/strict/node_modules/.installed

migrate: venv
	$(PY) manage.py migrate --noinput

run: migrate
	$(PY) manage.py seed_demo
	$(PY) manage.py collectstatic --noinput --verbosity 0
	@echo "AgentAuth on http://$(HOST):$(PORT)/"
	AGENTAUTH_RUN_SCHEDULE=1 $(VENV)/bin/daphne -b $(HOST) -p $(PORT) agentauth.asgi:application

test: venv-dev
	$(PY) -m pytest $(PYTEST_ARGS)

# 200 agents for 60 s against two ASGI processes and a worker (needs DATABASE_URL and REDIS_URL).
stress: venv-dev
	STRESS=1 STRESS_AGENTS=$${STRESS_AGENTS:-200} STRESS_SECONDS=$${STRESS_SECONDS:-60} \
	  AGENTAUTH_REQUIRE_SERVICES=1 $(PY) -m pytest -s tests/faults/test_load.py

worker: venv
	$(PY) manage.py check_services --require-redis
	$(VENV)/bin/celery -A agentauth worker --loglevel=INFO --concurrency=$${CELERY_CONCURRENCY:-2}

beat: venv
	$(PY) manage.py check_services --require-redis
	$(VENV)/bin/celery -A agentauth beat --loglevel=INFO

# The example MCP tool server (examples/mcp_server.py) on http://127.0.0.1:8010/mcp, next to `make run`.
mcp-example: migrate
	$(PY) -m examples.mcp_server

# The production shape scaled out on this machine: 2 web (8000, 8001), 2 live (8100, 8101),
# 2 workers and 2 beats (one runs the schedule). Needs DATABASE_URL (PostgreSQL) and REDIS_URL.
scale-demo: migrate
	rm -rf .metrics && mkdir .metrics
	PROMETHEUS_MULTIPROC_DIR=$(CURDIR)/.metrics PORT=8000 $(VENV)/bin/honcho start -c web=2,live=2,worker=2,beat=2

lint: venv-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: venv-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Side by side with stock DOT and Authlib (built in bench/.venv-baselines); needs PostgreSQL and Redis.
bench: venv-dev
	$(PY) bench/run.py $(BENCH_ARGS)

# Where the CPU of a token request and an API call goes (py-spy under wrk): bench/results/profiles/.
bench-profile: venv-dev
	$(PY) bench/profile.py $(PROFILE_ARGS)

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache

# The commands the README gives. Everything installs into .venv from requirements.txt.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run serve worker bench editor migrate demo test test-postgres screenshots lint format clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

install: $(VENV)/.installed

migrate: install
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py load_demo

# The web server and one background worker (relinking), stopped together with Ctrl-C.
run: demo
	@echo "Serving the demo at http://$(HOST):$(PORT)/ (the seed story is the first on the home page), with a background worker"
	@trap 'kill 0' EXIT; \
	$(PY) manage.py worker --verbosity 0 & \
	$(PY) manage.py runserver $(HOST):$(PORT)

# Production settings on the loopback: gunicorn (one worker per core), debug off,
# WhiteNoise serving compressed, hashed static files, and a background worker. HTTPS is off
# only because there is no TLS-terminating proxy in front of it here. Without a
# DJANGO_SECRET_KEY, one is made for this run and shared by every process it starts.
serve: demo
	@export DJANGO_DEBUG=false DJANGO_HTTPS=false \
	  DJANGO_SECRET_KEY="$${DJANGO_SECRET_KEY:-$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')}"; \
	$(PY) manage.py collectstatic --noinput --verbosity 0 && \
	trap 'kill 0' EXIT; \
	$(PY) manage.py worker --verbosity 0 & \
	$(BIN)/gunicorn explainer.wsgi --workers $$(nproc) --bind $(HOST):$(PORT) --access-logfile -

# One more background worker (start as many as you like, on as many machines).
worker: migrate
	$(PY) manage.py worker

# Benchmarks: every figure is a ratio against a baseline measured in the same run.
bench: install
	$(PY) bench/run.py
	$(PY) bench/cards.py
	$(PY) bench/search.py
	$(PY) bench/scale.py
	$(PY) bench/names.py
	$(PY) bench/lighthouse.py

editor: migrate
	$(PY) manage.py createsuperuser

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: lint
	$(PY) manage.py makemigrations --check --dry-run
	$(BIN)/pytest

# The same suite on PostgreSQL and the real Redis (CI runs both; see .ci/run).
POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/test
REDIS_TEST_URL ?= redis://127.0.0.1:6379/15
test-postgres: install
	DATABASE_URL=$(POSTGRES_URL) REDIS_URL=$(REDIS_TEST_URL) $(BIN)/pytest

# The editor's guide's pictures (docs/screenshots/), taken again by the browser tests
# that show those screens.
screenshots: install
	EXPLAINER_DOC_SCREENSHOTS=1 $(BIN)/pytest -q \
	  tests/test_browser_admin.py tests/test_browser_editor.py tests/test_browser_compare.py

clean:
	rm -rf $(VENV) staticfiles .hypothesis

# Two commands: `make run` serves the demo, `make test` passes the suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app app
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test install install-dev lint typecheck migrate seed serve bench clean

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(VENV)/bin/activate
	$(VENV)/bin/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(VENV)/bin/activate
	$(VENV)/bin/pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

migrate: install
	$(FLASK) tribune migrate

seed: migrate
	$(FLASK) tribune seed-demo

## serve: the demo lets any site frame /embed/ (production's default: no foreign site)
serve: install
	@echo "Demo: EMBED_ALLOWED_ORIGINS=* (any site may frame /embed/; production default: none)"
	EMBED_ALLOWED_ORIGINS='*' TRIBUNE_PUBLIC_URL=http://$(HOST):$(PORT) \
		$(FLASK) run --host $(HOST) --port $(PORT)

## run: venv, install, migrate, demo data, serve on http://127.0.0.1:5000
run: seed serve

lint: install-dev
	$(VENV)/bin/ruff check .

## typecheck: mypy over models/, the service packages and the modules listed in pyproject.toml
typecheck: install-dev
	$(PY) -m mypy

## test: dev dependencies, ruff, mypy, the whole suite
test: lint typecheck
	$(VENV)/bin/pytest $(PYTEST_ARGS)

bench: install-dev
	$(PY) bench/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache

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

# The demo news site (demo/site.py) beside Tribune: another site for the browser (localhost, not
# 127.0.0.1), whose fake login signs SSO tokens with a demo secret made once in instance/.
SITE_PORT ?= 5001
SITE_URL := http://localhost:$(SITE_PORT)
DEMO_SSO_SECRET := instance/demo-sso-secret
DEMO_ORIGINS := $(SITE_URL) *

$(DEMO_SSO_SECRET):
	mkdir -p instance
	umask 077 && $(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(32))' > $@

## serve: the demo lets any site frame /embed/ (production's default: no foreign site); the demo
## news site and the outbox worker (mail: MAIL_URL, else .eml files under instance/mail/) run in the
## background of the same shell and stop with it (Ctrl-C stops all three)
serve: install $(DEMO_SSO_SECRET)
	@echo "Demo: EMBED_ALLOWED_ORIGINS=$(DEMO_ORIGINS) (any site may frame /embed/; production default: none)"
	@echo "Demo news site: $(SITE_URL) (Tribune's embeds on another site; 'Aanmelden als supporter' signs SSO tokens)"
	secret=$$(cat $(DEMO_SSO_SECRET)); \
	DEMO_SITE_SSO_SECRET=$$secret DEMO_SITE_TRIBUNE_URL=http://$(HOST):$(PORT) \
		$(VENV)/bin/flask --app 'demo.site:create_site()' run --host $(HOST) --port $(SITE_PORT) & site=$$!; \
	trap 'kill $$site $$worker 2>/dev/null' EXIT INT TERM; \
	TRIBUNE_PUBLIC_URL=http://$(HOST):$(PORT) $(FLASK) tribune worker & worker=$$!; \
	EMBED_ALLOWED_ORIGINS='$(DEMO_ORIGINS)' TRIBUNE_PUBLIC_URL=http://$(HOST):$(PORT) \
		TRIBUNE_SSO_SECRET=$$secret TRIBUNE_SSO_ISSUER=demo-site TRIBUNE_EMBED_CREATES_ARTICLES=true \
		$(FLASK) run --host $(HOST) --port $(PORT)

## run: venv, install, migrate, demo data, serve on http://127.0.0.1:5000 and the demo news site
## on http://localhost:5001
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

# Portail: `make run` serves the demo, `make test` runs the whole suite.
# Both are idempotent: a second run only does what changed.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app portal
PORT ?= 5000
# The address printed on documents and links: the one `make run` serves, unless given.
PORTAL_PUBLIC_URL ?= http://127.0.0.1:$(PORT)
APT_PACKAGES_RUN := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 fontconfig
APT_PACKAGES_TEST := chromium default-jre-headless poppler-utils

.PHONY: run test install install-test system-deps system-deps-test assets translations \
        migrate demo lint lock clean

run: install migrate demo
	@echo "Portail : http://127.0.0.1:$(PORT)  (Ctrl+C pour arrêter)"
	PORTAL_PUBLIC_URL=$(PORTAL_PUBLIC_URL) $(FLASK) run --host 127.0.0.1 --port $(PORT)

test: install-test
	$(BIN)/ruff check portal tests bench
	$(BIN)/pytest $(PYTEST_ARGS)

install: system-deps $(VENV)/.installed node_modules/.installed assets translations

install-test: install system-deps-test $(VENV)/.installed-test

# System libraries WeasyPrint needs (Debian), installed only when missing.
system-deps:
	@missing=""; for p in $(APT_PACKAGES_RUN); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing system packages:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

# Chromium (browser tests), Java (W3C validator), poppler (PDF checks), only when missing.
system-deps-test:
	@missing=""; for p in $(APT_PACKAGES_TEST); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing system packages:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

$(VENV)/.installed: requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install -q --disable-pip-version-check --no-deps -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts
	touch $@

# Third-party assets are copied from node_modules (git-ignored), never committed.
assets: node_modules/.installed
	@mkdir -p static/vendor/fonts
	@cp -u node_modules/htmx.org/dist/htmx.min.js static/vendor/htmx.min.js
	@for f in Regular It Semibold Bold; do \
	  cp -u node_modules/source-sans/WOFF2/TTF/SourceSans3-$$f.ttf.woff2 static/vendor/fonts/; \
	  cp -u node_modules/source-sans/TTF/SourceSans3-$$f.ttf static/vendor/fonts/; \
	done

translations: $(VENV)/.installed
	$(BIN)/pybabel -q compile -d portal/translations

migrate: install
	$(FLASK) db upgrade

demo: migrate
	PORTAL_PUBLIC_URL=$(PORTAL_PUBLIC_URL) $(FLASK) demo --if-empty

lint: install-test
	$(BIN)/ruff check portal tests bench

# Regenerate requirements.lock from pyproject.toml (maintainers only).
lock:
	rm -rf /tmp/portail-lock && $(PYTHON) -m venv /tmp/portail-lock
	/tmp/portail-lock/bin/pip install -q -U pip
	/tmp/portail-lock/bin/pip install -q -e '.[test]'
	/tmp/portail-lock/bin/pip freeze --exclude-editable | grep -v '^-e' > requirements.lock

clean:
	rm -rf $(VENV) node_modules static/vendor .pytest_cache

# Portail: `make run` serves the demo, `make test` runs the whole suite.
# Both are idempotent: a second run only does what changed.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app portal
PORT ?= 5000
APT_PACKAGES_RUN := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 fontconfig
APT_PACKAGES_TEST := chromium default-jre-headless poppler-utils

.PHONY: run test install install-test system-deps system-deps-test assets translations \
        migrate demo lint lock clean

run: install migrate demo
	@echo "Portail : http://127.0.0.1:$(PORT)  (Ctrl+C pour arrêter)"
	$(FLASK) run --host 127.0.0.1 --port $(PORT)

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
	@# Fallbacks for what Source Sans 3 lacks: Arabic script (names of allophone people) and
	@# symbols (⚠ ✉ ☎ …). TTF files: the PDF worker's fontconfig and browsers both read them.
	@for f in 400Regular 600SemiBold 700Bold; do \
	  cp -u node_modules/@expo-google-fonts/ibm-plex-sans-arabic/$$f/IBMPlexSansArabic_$$f.ttf static/vendor/fonts/; \
	done
	@cp -u node_modules/@expo-google-fonts/noto-sans-symbols-2/400Regular/NotoSansSymbols2_400Regular.ttf static/vendor/fonts/

translations: $(VENV)/.installed
	$(BIN)/pybabel -q compile -d portal/translations

migrate: install
	$(FLASK) db upgrade

demo: migrate
	$(FLASK) demo --if-empty

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

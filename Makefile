# Portail: `make run` serves the demo, `make test` runs the whole suite.
# Both are idempotent: a second run only does what changed.
#
# Python dependencies are locked with their hashes: requirements/runtime.txt (what the portal
# needs to run) and requirements/test.txt (the same plus the test tools); `make lock`
# regenerates both from pyproject.toml. npm: package-lock.json, dev dependencies (the W3C
# validator) only for the tests.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app portal
PIP_INSTALL := $(BIN)/pip install -q --disable-pip-version-check --no-input
NPM_CI := npm ci --no-audit --no-fund --ignore-scripts
PORT ?= 5000
# The address printed on documents and links: the one `make run` serves, unless given.
PORTAL_PUBLIC_URL ?= http://127.0.0.1:$(PORT)
APT_PACKAGES_RUN := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 fontconfig
APT_PACKAGES_TEST := chromium default-jre-headless poppler-utils redis-server postgresql

.PHONY: run serve check-port test audit test-report install install-test system-deps system-deps-test assets \
        translations migrate demo lint lock clean bench bench-report

# The port is checked before anything is installed, and again just before serving.
run: check-port
	@$(MAKE) --no-print-directory serve

serve: install migrate demo check-port
	@echo "Portail : http://127.0.0.1:$(PORT)  (Ctrl+C pour arrêter)"
	PORTAL_PUBLIC_URL=$(PORTAL_PUBLIC_URL) $(FLASK) run --host 127.0.0.1 --port $(PORT)

check-port:
	@$(PYTHON) scripts/check-port '$(PORT)'

# The suite runs on every core (pytest-xdist, one test module per worker at a time) and writes
# its outcomes for the README's table (scripts/test-report, `make test-report`).
PYTEST_WORKERS ?= auto
RESULTS := build/test-results
test: install-test
	$(BIN)/ruff check portal tests bench
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile --results-file $(RESULTS)/sqlite.json \
	  $(PYTEST_ARGS)

# The locked dependencies against the public advisories (docs/security.md#dependency-audit);
# strict: an advisory service out of reach is a failure here, unlike in CI.
audit: install-test
	$(BIN)/python scripts/audit-dependencies --strict --results $(RESULTS)/audit.json

# Speed against the framework's floor (bench/run.py, never part of the suite): a fresh database
# with SCALE of a department's data, gunicorn like production, every page and action; writes
# bench/results/latest.json and bench/results/<engine>-<scale>.json, then `make bench-report`
# puts the table in the README. DB=postgresql runs on a throwaway cluster.
SCALE ?= 0.01
DB ?= sqlite
WORKER_CLASS ?= gthread
THREADS ?= 4
BENCH_ARGS ?=
BENCH = $(BIN)/python -m bench.run --scale $(SCALE) --worker-class $(WORKER_CLASS) \
        --threads $(THREADS) $(BENCH_ARGS)
bench: install
ifeq ($(DB),postgresql)
	scripts/with-postgres bash -c '$(BENCH) --database-url "$$PORTAL_TEST_DATABASE_URL"'
else ifeq ($(DB),sqlite)
	$(BENCH)
else
	@echo "DB must be sqlite or postgresql, not $(DB)" >&2; exit 2
endif

bench-report:
	$(PYTHON) scripts/bench-report bench/results/*-*.json

# The README's "What we test" table and docs/test-report.md, from the last runs' results
# (`make test`, the PostgreSQL run of .ci/run, the audit).
test-report:
	$(PYTHON) scripts/test-report $(wildcard $(RESULTS)/*.json)

install: system-deps $(VENV)/.installed node_modules/.installed assets translations

install-test: install system-deps-test $(VENV)/.installed-test node_modules/.installed-test

# System libraries WeasyPrint needs (Debian), installed only when missing.
system-deps:
	@missing=""; for p in $(APT_PACKAGES_RUN); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing system packages:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

# Chromium (browser tests), Java (W3C validator), poppler (PDF checks), redis-server and
# PostgreSQL (servers the tests start and stop themselves, on free loopback ports), only when
# missing.
system-deps-test:
	@missing=""; for p in $(APT_PACKAGES_TEST); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing system packages:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

# Runtime dependencies only, each file checked against its locked hash; then the portal
# itself (editable), built with the locked setuptools rather than one fetched unchecked.
$(VENV)/.installed: requirements/runtime.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) --require-hashes -r requirements/runtime.txt
	$(PIP_INSTALL) --no-deps --no-build-isolation -e .
	touch $@

# The test tools (pytest, Playwright, hypothesis, ruff…), on top of the runtime.
$(VENV)/.installed-test: $(VENV)/.installed requirements/test.txt
	$(PIP_INSTALL) --require-hashes -r requirements/test.txt
	touch $@

# npm: without the dev dependencies for `make run`; `make test` installs everything at once
# (its prerequisites inherit NPM_OMIT=), or adds the dev dependencies after a `make run`.
NPM_OMIT := --omit=dev
install-test: NPM_OMIT :=
node_modules/.installed: package.json package-lock.json
	$(NPM_CI) $(NPM_OMIT)
	$(if $(NPM_OMIT),,touch node_modules/.with-dev)
	touch $@

node_modules/.installed-test: node_modules/.installed
	@test -f node_modules/.with-dev || { echo "$(NPM_CI)"; $(NPM_CI) && \
	  touch node_modules/.with-dev node_modules/.installed; }
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
	PORTAL_PUBLIC_URL=$(PORTAL_PUBLIC_URL) $(FLASK) demo --if-empty

lint: install-test
	$(BIN)/ruff check portal tests bench

# Regenerate the locks from pyproject.toml and package.json (maintainers, after changing a
# dependency). Pins already locked are kept; `make lock UPGRADE=1` moves everything to the
# newest versions allowed. The test lock is resolved within the runtime one, so both agree.
LOCK_TOOLS := pip-tools==7.6.2
PIP_COMPILE = $$tmp/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
              --all-build-deps --no-emit-index-url --no-emit-find-links $(if $(UPGRADE),--upgrade)
lock:
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	$(PYTHON) -m venv "$$tmp" && \
	"$$tmp/bin/pip" install -q --disable-pip-version-check -U pip '$(LOCK_TOOLS)' && \
	$(PIP_COMPILE) --output-file requirements/runtime.txt pyproject.toml && \
	$(PIP_COMPILE) --extra test --constraint requirements/runtime.txt \
	  --output-file requirements/test.txt pyproject.toml
	npm install --package-lock-only --no-audit --no-fund --ignore-scripts
	@echo "Locks written: requirements/runtime.txt, requirements/test.txt, package-lock.json"

clean:
	rm -rf $(VENV) node_modules static/vendor .pytest_cache build

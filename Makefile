# rosey-bot: the two commands of the README are `make release` and `make test`.
# Both install what they need (Debian packages, the dev venv) on their own.

SHELL := /bin/bash
PY := /usr/bin/python3
VENV := .venv
VERSION = $(shell packaging/version.sh)
DEB = build/debs/rosey-bot_$(VERSION)_$(shell dpkg --print-architecture).deb

.PHONY: release deb publish test test-deps unit e2e lint format bench deps venv lock clean

## release: build the .deb of this checkout's version and publish it into build/apt
release: deps
	@if [ -f "$(DEB)" ] && aptly -config=build/aptly.conf repo search rosey-bot 'Name (= rosey-bot), $$Version (= $(VERSION))' >/dev/null 2>&1; then \
		echo "release: rosey-bot $(VERSION) is already built and published; tag a new version to release again"; \
		repo/publish.sh "$(DEB)"; \
	else \
		packaging/build.sh build/debs >/dev/null && repo/publish.sh "$(DEB)"; \
	fi

deb: deps
	packaging/build.sh build/debs

deps:
	@packaging/build-deps.sh build

test-deps:
	@packaging/build-deps.sh test

$(VENV)/.stamp: requirements.txt requirements-dev.txt setup.py
	$(PY) -m venv $(VENV)
	$(VENV)/bin/pip install -q -r requirements-dev.txt
	$(VENV)/bin/pip install -q --require-hashes --no-deps -r requirements.txt
	$(VENV)/bin/pip install -q --no-deps --no-build-isolation -e .
	touch $@

venv: $(VENV)/.stamp

## test: the whole suite (unit, then end-to-end in systemd containers)
test: test-deps venv
	$(VENV)/bin/pytest $(PYTEST_ARGS) tests

unit: venv
	$(VENV)/bin/pytest $(PYTEST_ARGS) tests --ignore=tests/e2e

e2e: test-deps venv
	$(VENV)/bin/pytest $(PYTEST_ARGS) tests/e2e

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: venv
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: venv
	@for b in benchmarks/bench_*.py; do $(VENV)/bin/python $$b || exit 1; done

## lock: re-pin runtime dependencies with hashes
lock: venv
	$(VENV)/bin/pip-compile -q --generate-hashes --allow-unsafe --strip-extras \
		--no-emit-index-url --no-emit-find-links -o requirements.txt requirements.in

clean:
	rm -rf build/debs build/stage

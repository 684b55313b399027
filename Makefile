# rosey-bot: the two commands of the README are `make release` and `make test`.
# Both install what they need (Debian packages, the dev venv) on their own.

SHELL := /bin/bash
PY := /usr/bin/python3
VENV := .venv
VERSION = $(shell packaging/version.sh)
DEB = build/debs/rosey-bot_$(VERSION)_$(shell dpkg --print-architecture).deb
NATIVE_DEB = build/debs/rosey-bot-native_$(VERSION)_all.deb

.PHONY: release deb publish test test-deps unit e2e lint format bench deps venv lock clean dashboard-png
.PHONY: fleet lint-deploy lintian provision deploy rollback audit repo-pull repo-push
.PHONY: promote withdraw ci-publish ci-tag ci-deploy ci-rollback

## release: build the .debs of this checkout's version (both flavours of the bot, rosey-monitoring) and
## publish them (and the keyring package) into build/apt, suite testing only (`make promote` puts a
## tested version into stable)
release: deps
	@if [ -f "$(DEB)" ] && [ -f "$(NATIVE_DEB)" ] && aptly -config=build/aptly.conf repo search rosey-bot 'Name (= rosey-bot), $$Version (= $(VERSION))' >/dev/null 2>&1; then \
		echo "release: rosey-bot $(VERSION) is already built and published; tag a new version to release again"; \
		repo/publish.sh build/debs/*_$(VERSION)_*.deb; \
	else \
		packaging/build.sh build/debs >/dev/null && repo/publish.sh build/debs/*_$(VERSION)_*.deb; \
	fi
	@# the keyring package servers install first (rebuilt only when keys or ROSEY_REPO_URI change)
	@repo/build-keyring.sh

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

## test: the whole suite (unit, then end-to-end in systemd containers), TEST_JOBS workers side by side
## (the container tests mostly wait on systemd and apt; a module that shares one setup stays on one worker)
TEST_JOBS ?= 4
test: test-deps venv
	$(VENV)/bin/pytest -n $(TEST_JOBS) --dist loadgroup --no-loadscope-reorder $(PYTEST_ARGS) tests

## unit: everything that needs no container (no root, no systemd-nspawn), the lint checks included
unit: venv lint
	$(VENV)/bin/pytest $(PYTEST_ARGS) -m "not e2e" tests --ignore=tests/e2e --ignore=tests/fleet/test_fleet.py --ignore=tests/packaging

e2e: test-deps venv
	$(VENV)/bin/pytest $(PYTEST_ARGS) tests/e2e

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: venv
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

## dashboard-png: docs/dashboard.png, the page in headless Chromium over an hour of backfilled history
dashboard-png: test-deps venv
	$(VENV)/bin/pytest -q tests/dashboard/test_history_screenshot.py
	cp build/screenshots/dashboard-history.png docs/dashboard.png

bench: venv
	@packaging/build-deps.sh bench
	@for b in benchmarks/bench_*.py; do $(VENV)/bin/python $$b || exit 1; done

## lock: re-pin runtime dependencies with hashes
lock: venv
	$(VENV)/bin/pip-compile -q --generate-hashes --allow-unsafe --strip-extras \
		--no-emit-index-url --no-emit-find-links -o requirements.txt requirements.in

clean:
	rm -rf build/debs build/stage

## --- fleet automation and CI (deploy/, .github/workflows/, docs/DESIGN.md#fleet-and-ci) ---------
## ENV=test|production picks deploy/inventories/$(ENV); VERSION=X.Y.Z a released version.
## ANSIBLE_ARGS="--check --diff" makes any of provision/deploy/rollback/audit a dry run.
ENV ?= test
ANSIBLE_PLAYBOOK = ANSIBLE_CONFIG=deploy/ansible.cfg $(VENV)/bin/ansible-playbook -i deploy/inventories/$(ENV)
# A mistyped ENV must not run against no hosts and "succeed".
check_env = @test -d deploy/inventories/$(ENV) || { echo "ENV=$(ENV): no deploy/inventories/$(ENV) (there are: $$(ls deploy/inventories | xargs))" >&2; exit 2; }
version_given = $(filter command line environment,$(origin VERSION))

## fleet: the Ansible tests on systemd-nspawn hosts over real SSH (root)
fleet: test-deps venv
	$(VENV)/bin/pytest $(PYTEST_ARGS) tests/fleet

## lint-deploy: ansible-lint (production profile) and actionlint
lint-deploy: venv
	cd deploy && ../$(VENV)/bin/ansible-lint --profile production
	$(VENV)/bin/actionlint

## lintian: the built packages of this checkout's version, no errors and no warnings
lintian: deb
	lintian --fail-on error,warning build/debs/*_$(VERSION)_*.deb

provision: venv
	$(check_env)
	$(ANSIBLE_PLAYBOOK) deploy/playbooks/provision.yml $(ANSIBLE_ARGS)

deploy: venv
	$(check_env)
	@$(if $(version_given),,echo "deploy: say which version: make deploy ENV=$(ENV) VERSION=X.Y.Z" >&2; exit 2)
	$(ANSIBLE_PLAYBOOK) deploy/playbooks/deploy.yml -e rosey_version=$(VERSION) $(ANSIBLE_ARGS)

## rollback: to VERSION, or without it to each host's previous version; on servers that track
## stable it also takes the versions they leave out of stable (REPO_SSH_TARGET), unless KEEP_IN_STABLE=1
rollback: venv
	$(check_env)
	$(ANSIBLE_PLAYBOOK) deploy/playbooks/rollback.yml $(if $(version_given),-e rosey_version=$(VERSION)) \
		$(if $(filter 1 true yes,$(KEEP_IN_STABLE)),-e rosey_keep_in_stable=true) $(ANSIBLE_ARGS)

## audit: table of host, installed, pinned and running version; EXPECT=X.Y.Z fails unless all run it, pinned, healthy
##   DEPENDENCY=NAME[==VERSION] also lists each host's version of that Python dependency (werkzeug==3.1.9)
audit: venv
	$(check_env)
	$(ANSIBLE_PLAYBOOK) deploy/playbooks/audit.yml $(if $(EXPECT),-e rosey_expect_version=$(EXPECT)) $(if $(DEPENDENCY),-e rosey_audit_dependency=$(DEPENDENCY)) $(ANSIBLE_ARGS)

## repo-pull / repo-push: the repository host's aptly state and published tree <-> build/repo-host (CI)
repo-pull:
	deploy/repo-sync.sh pull
repo-push:
	deploy/repo-sync.sh push

## --- release channels (docs/REPOSITORY.md#channels) ---------------------------------------------
## Each target changes the repository under REPO_ROOT (default build/), or, with
## REPO_SSH_TARGET=user@host set, the repository host's: repo-pull into
## LOCAL_ROOT (default build/repo-host), the change, repo-push. Signing keys as for
## repo/publish.sh: ROSEY_SIGNING_KEY_ASC (every key in it signs) or ROSEY_SIGNING_KEY.
LOCAL_ROOT ?= build/repo-host
REPO_ROOT ?= $(if $(REPO_SSH_TARGET),$(LOCAL_ROOT),build)
export LOCAL_ROOT
# $(call repo_change,COMMAND): COMMAND between a pull and a push when the repository is remote.
# Remote, the signing key must come from the environment: a throwaway key would lock every server out.
define repo_change
	@$(if $(REPO_SSH_TARGET),test -n "$$ROSEY_SIGNING_KEY_ASC$$ROSEY_SIGNING_KEY" || { echo "$@: set ROSEY_SIGNING_KEY_ASC (the signing key secret) to change the repository on $(REPO_SSH_TARGET)" >&2; exit 2; })
	$(if $(REPO_SSH_TARGET),deploy/repo-sync.sh pull)
	$(1)
	$(if $(REPO_SSH_TARGET),deploy/repo-sync.sh push)
endef
# VERSION may come from a workflow input: checked as the shell sees it before it reaches any command line.
check_version = case "$$VERSION" in *[!0-9A-Za-z.+~-]* | [!0-9]*) echo "$@: not a package version: $$VERSION" >&2; exit 2 ;; esac
define need_version
	@$(if $(version_given),,echo "$@: say which version: make $@ VERSION=X.Y.Z" >&2; exit 2)
	@$(check_version)
endef

## promote: VERSION (the same .debs testing offers, never rebuilt) into stable, signed, atomically
promote:
	$(need_version)
	$(call repo_change,repo/promote.sh --root $(REPO_ROOT) $(VERSION))

## withdraw: VERSION out of both suites for good; with SUITE=stable out of stable only (a rollback)
withdraw:
	$(need_version)
	@case "$(SUITE)" in ""|stable) ;; *) echo "withdraw: SUITE=$(SUITE): only SUITE=stable (or none: both suites)" >&2; exit 2 ;; esac
	$(call repo_change,repo/$(if $(SUITE),demote,withdraw).sh --root $(REPO_ROOT) $(VERSION))

## ci-publish: publish the release's .debs (CI_DEBS) into testing on the repository host, every key signing
CI_DEBS ?= build/debs/*.deb
ci-publish:
	@test -n "$(REPO_SSH_TARGET)" || { echo "ci-publish: set REPO_SSH_TARGET=user@host of the repository host" >&2; exit 2; }
	@ls $(CI_DEBS) >/dev/null 2>&1 || { echo "ci-publish: no packages at $(CI_DEBS)" >&2; exit 2; }
	$(call repo_change,repo/publish.sh --root $(REPO_ROOT) $(CI_DEBS))

## ci-tag: the pushed tag (TAG=vX.Y.Z) must be this checkout's version; writes version= to GITHUB_OUTPUT
ci-tag:
	@test "v$(VERSION)" = "$(TAG)" || { echo "ci-tag: tag $(TAG) does not match the package version $(VERSION)" >&2; exit 1; }
	@echo "version=$(VERSION)" >> "$${GITHUB_OUTPUT:-/dev/stdout}"

## ci-deploy: provision, deploy VERSION, audit EXPECT=VERSION on ENV; the repository's public
## keyring from ROSEY_REPO_KEYRING, or base64 in ROSEY_REPO_KEYRING_B64 (a CI variable)
CI_KEYRING = build/ci/rosey-archive-keyring.gpg
ci-deploy:
	$(need_version)
	@if [ -n "$$ROSEY_REPO_KEYRING_B64" ]; then mkdir -p $(dir $(CI_KEYRING)) && printf '%s' "$$ROSEY_REPO_KEYRING_B64" | base64 -d > $(CI_KEYRING); fi
	$(if $(ROSEY_REPO_KEYRING_B64),ROSEY_REPO_KEYRING=$(CI_KEYRING)) $(MAKE) provision ENV=$(ENV)
	$(MAKE) deploy ENV=$(ENV) VERSION=$(VERSION)
	$(MAKE) audit ENV=$(ENV) EXPECT=$(VERSION)

## ci-rollback: make rollback, then make audit (EXPECT=VERSION when a version is named); VERSION is
## checked from the environment before make puts it in any command line
ci-rollback:
	@$(check_version)
	$(MAKE) rollback ENV=$(ENV) $(if $(and $(version_given),$(VERSION)),VERSION=$(VERSION))
	$(MAKE) audit ENV=$(ENV) $(if $(and $(version_given),$(VERSION)),EXPECT=$(VERSION))

#!/bin/sh
# CI containers: install the Debian packages a job needs and let git trust the
# checkout (it belongs to another uid than the container's root).
# Usage: .github/ci-tools.sh PACKAGE...
set -eu
apt-get update -q
apt-get install -y -q --no-install-recommends "$@"
git config --global --add safe.directory "${GITHUB_WORKSPACE:-$PWD}"

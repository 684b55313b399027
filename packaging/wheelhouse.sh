#!/bin/sh
# Fill the wheelhouse (default build/wheelhouse) with every wheel that
# requirements.txt pins, checked against its hashes. The package build then
# installs from it alone (pip --no-index): builds run offline and reproducibly.
# A wheel already present and matching is not fetched again.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:-$here/build/wheelhouse}
mkdir -p "$dest"
# Builds that run side by side (parallel test workers) share one wheelhouse: one fills it at a time.
exec 9>"$dest/.lock"
flock 9
download() {
    # The real index, not a machine-specific mirror (docs/DESIGN.md#build-machine).
    env -u PIP_FIND_LINKS PIP_CONFIG_FILE=/dev/null PIP_DISABLE_PIP_VERSION_CHECK=1 \
        /usr/bin/python3 -m pip download --quiet --require-hashes --no-deps --only-binary=:all: \
        --dest "$dest" -r "$here/requirements.txt" "$@"
}
# Complete already? Then stay offline (hashes are still checked).
download --no-index --find-links "$dest" >/dev/null 2>&1 || download
echo "$dest"

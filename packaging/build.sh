#!/bin/sh
# Build the rosey-bot .deb for the checkout in SRC (default: .) into OUTDIR.
# Usage: packaging/build.sh [OUTDIR] [SRC]
# The working tree (tracked and untracked-but-not-ignored files) is staged
# into a clean directory so build artefacts never land in the checkout.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
outdir=$(mkdir -p "${1:-build/debs}" && cd "${1:-build/debs}" && pwd)
src=$(cd "${2:-.}" && pwd)
cd "$src"
version=$("$here/version.sh" "$src")
stage=$(mktemp -d "${TMPDIR:-/tmp}/rosey-build.XXXXXX")
trap 'rm -rf "$stage"' EXIT
tree="$stage/rosey-bot-$version"
mkdir -p "$tree"
git ls-files -z --cached --others --exclude-standard | (cd "$src" && xargs -0 cp --parents -t "$tree" 2>/dev/null || true)
"$here/gen-changelog.sh" "$version" "$tree"
# Wheels come from the hash-checked wheelhouse only (fetched once, then offline).
wheelhouse=$("$here/wheelhouse.sh" "${ROSEY_WHEELHOUSE:-$here/../build/wheelhouse}")
echo "build: rosey-bot $version" >&2
# pip sees only the wheelhouse, never a machine-specific mirror (docs/DESIGN.md#build-machine).
(cd "$tree" && env -u PIP_FIND_LINKS PIP_CONFIG_FILE=/dev/null ROSEY_WHEELHOUSE="$wheelhouse" \
    dpkg-buildpackage -us -uc -b --no-pre-clean >"$stage/build.log" 2>&1) || {
    tail -n 40 "$stage/build.log" >&2
    echo "build: dpkg-buildpackage failed (full log above, last 40 lines)" >&2
    exit 1
}
for f in "$stage"/*.deb; do cp "$f" "$outdir/"; echo "$outdir/$(basename "$f")"; done

#!/bin/sh
# Promote a release from testing to stable: the very .deb files testing
# offers, never a rebuild, published atomically and signed (docs/DESIGN.md#channels).
#
# Usage: repo/promote.sh [--root DIR] VERSION
#   Copies every package of VERSION (all the release's .debs) from testing's
#   aptly repo into stable's (aptly copies the reference: the same pool file),
#   publishes both suites as a new generation (snapshot stable-rosey-bot-promote-VERSION)
#   and switches to it only after checking that every package stable shares
#   with testing has the same SHA256 in both Packages indices.
#   Refused, with one line and nothing changed: a withdrawn version, a version
#   testing does not offer. Promoting a version already in stable is a no-op.
set -eu
root=build
if [ "${1:-}" = --root ]; then
    root=$2
    shift 2
fi
[ $# -eq 1 ] || {
    echo "usage: $0 [--root DIR] VERSION" >&2
    exit 2
}
version=$1
[ -d "$root/aptly" ] || {
    echo "promote: no repository under $root" >&2
    exit 1
}
root=$(cd "$root" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

is_withdrawn "$version" && die "REFUSED: $version was withdrawn; promote another version"
repo_init
query=$(version_query "$version")
in_testing=$(package_list repo "$REPO" "$query")
[ -n "$in_testing" ] || die "REFUSED: testing offers no release $version (publish it first: make release)"
if [ "$(package_list repo "$STABLE_REPO" "$query")" = "$in_testing" ]; then
    say "$version is already in stable"
else
    aptly_ repo copy "$REPO" "$STABLE_REPO" "$query" >/dev/null
    for p in $in_testing; do say "promoted $p"; done
fi
publish_repo "rosey-bot-promote-$version"
say "stable now offers $(offered_versions stable | cut -d' ' -f1) (newest)"

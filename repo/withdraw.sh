#!/bin/sh
# Withdraw a bad release: its packages leave the repository (both suites,
# testing and stable) and the served tree, so apt offers the previous release
# again (docs/DESIGN.md#withdrawal-and-retention). To take a version out of
# stable only, see repo/demote.sh.
#
# Usage: repo/withdraw.sh [--root DIR] VERSION
#   Removes every package of version VERSION (all the release's .debs)
#   from both suites, records VERSION in DIR/withdrawn so it can
#   never be published nor promoted again, and publishes the result (snapshot
#   rosey-bot-withdraw-VERSION) with the same atomic switch as a release.
#   Servers that already run VERSION keep it until they are rolled back
#   (`apt-get install rosey-bot=PREVIOUS --allow-downgrades`, make rollback):
#   apt never downgrades on its own.
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
    echo "withdraw: no repository under $root" >&2
    exit 1
}
root=$(cd "$root" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

repo_init
query=$(version_query "$version")
found=$( (aptly_ repo search "$REPO" "$query" 2>/dev/null; aptly_ repo search "$STABLE_REPO" "$query" 2>/dev/null) | sort -u || true)
if [ -z "$found" ] && ! is_withdrawn "$version"; then
    die "no package of version $version in the repository"
fi
# Recorded first: even if we are killed below, the version cannot come back.
is_withdrawn "$version" || echo "$version" >>"$WITHDRAWN"
if [ -n "$found" ]; then
    aptly_ repo remove "$REPO" "$query" >/dev/null
    aptly_ repo remove "$STABLE_REPO" "$query" >/dev/null
    for p in $found; do say "removed $p"; done
fi
publish_repo "rosey-bot-withdraw-$version"
now=$(offered_versions | cut -d" " -f1)
if [ -n "$now" ]; then
    say "rosey-bot $version withdrawn; the newest offered version is now $now"
else
    say "rosey-bot $version withdrawn; no rosey-bot version is offered any more"
fi

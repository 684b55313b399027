#!/bin/sh
# Take a bad release out of stable only (a production rollback's second half):
# production servers are never offered it again, while testing keeps it for
# the investigation (docs/DESIGN.md#channels). repo/withdraw.sh takes it out of both.
#
# Usage: repo/demote.sh [--root DIR] VERSION
#   Removes every package of VERSION from stable's aptly repo and publishes
#   both suites with the same atomic switch as a release (snapshot
#   stable-rosey-bot-demote-VERSION): apt on a stable server then offers the
#   previous promoted release. Servers already running VERSION keep it until
#   rolled back (apt never downgrades on its own). A version not in stable is
#   refused with one line. It can be promoted again later, on purpose.
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
    echo "demote: no repository under $root" >&2
    exit 1
}
root=$(cd "$root" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

repo_init
query=$(version_query "$version")
found=$(package_list repo "$STABLE_REPO" "$query")
[ -n "$found" ] || die "REFUSED: stable offers no release $version; nothing to demote"
aptly_ repo remove "$STABLE_REPO" "$query" >/dev/null
for p in $found; do say "removed $p from stable"; done
publish_repo "rosey-bot-demote-$version"
now=$(offered_versions stable | cut -d' ' -f1)
say "rosey-bot $version demoted; stable now offers ${now:-no rosey-bot version}"

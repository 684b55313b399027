#!/bin/sh
# Publish .deb files into the signed aptly repository (SPEC §4).
#
# Usage: repo/publish.sh [--root DIR] DEB...
#   DIR (default: build) holds aptly's database (DIR/aptly), the signing
#   keyring (DIR/gnupg, a throwaway key generated on first use unless
#   ROSEY_SIGNING_KEY names a key already in GNUPGHOME) and the published
#   tree (DIR/apt), which is what a web server serves.
#
# Adding a version that is already in the repository with the same content
# is a no-op; with different content it is refused. Every release gets its
# own snapshot; publishing switches the published tree to it.
set -eu
root=build
if [ "${1:-}" = --root ]; then root=$2; shift 2; fi
[ $# -ge 1 ] || { echo "usage: $0 [--root DIR] DEB..." >&2; exit 2; }
mkdir -p "$root"
root=$(cd "$root" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

repo_init
for deb in "$@"; do
    pkg=$(dpkg-deb -f "$deb" Package); ver=$(dpkg-deb -f "$deb" Version); arch=$(dpkg-deb -f "$deb" Architecture)
    have=$(aptly_ repo search "$REPO" "Name (= $pkg), \$Version (= $ver), \$Architecture (= $arch)" 2>/dev/null || true)
    if [ -n "$have" ]; then
        stored=$(aptly_ package show -with-files=false "$have" | sed -n 's/^SHA256: //p')
        new=$(sha256sum "$deb" | cut -d' ' -f1)
        if [ "$stored" != "$new" ]; then
            echo "publish: REFUSED: $pkg $ver is already published with different content" >&2
            echo "publish: (stored sha256 $stored, new $new); release a new version instead" >&2
            exit 1
        fi
        echo "publish: $pkg $ver ($arch) already in the repository, unchanged"
    else
        aptly_ repo add "$REPO" "$deb" >/dev/null
        echo "publish: added $pkg $ver ($arch)"
    fi
done
snapshot_and_publish "$ver"
print_sources

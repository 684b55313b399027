#!/bin/sh
# Publish .deb files into the signed aptly repository (docs/DESIGN.md#publishing).
#
# Usage: repo/publish.sh [--root DIR] DEB...
#   DIR (default: build) holds aptly's database (DIR/aptly), the signing
#   keyring (DIR/gnupg) and the published tree DIR/apt, which is what a web
#   server serves (a symlink to DIR/trees/<generation>, see repo/lib.sh).
#   Pass every .deb of one release at once (rosey-bot, rosey-monitoring...).
#   A release goes into suite testing only; repo/promote.sh puts it into
#   stable. The keyring package goes into both at once (a key change must
#   reach every server).
#
# Signing key: a throwaway Ed25519 key generated on first use, unless
#   ROSEY_SIGNING_KEY_ASC  holds (or names a file holding) the armoured secret
#                          key(s) to import, as CI does from a secret, and/or
#   ROSEY_SIGNING_KEY      names the key(s) in DIR/gnupg to sign with
#                          (space or comma separated: both keys during a rotation).
#
# Adding a version that is already in the repository with the same content
# is a no-op; with different content it is refused, as is a withdrawn
# version. Every release gets its own snapshot (rosey-bot-<version>); the new
# tree is published, signed and verified beside the served one, then the
# served symlink is switched to it in one rename: killed at any point, the
# served tree stays whole.
set -eu
root=build
if [ "${1:-}" = --root ]; then
    root=$2
    shift 2
fi
[ $# -ge 1 ] || {
    echo "usage: $0 [--root DIR] DEB..." >&2
    exit 2
}
mkdir -p "$root"
root=$(cd "$root" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

repo_init
# pkg, ver and arch of .deb $1 in one dpkg-deb call (each pass reads a file's fields once: two calls, not six).
read_fields() {
    fields=$(dpkg-deb -f "$1" Package Version Architecture)
    pkg=$(printf '%s\n' "$fields" | sed -n 's/^Package: //p')
    ver=$(printf '%s\n' "$fields" | sed -n 's/^Version: //p')
    arch=$(printf '%s\n' "$fields" | sed -n 's/^Architecture: //p')
    one="Name (= $pkg), \$Version (= $ver), \$Architecture (= $arch)"
}
# Check every file before adding any, so a refused release adds nothing.
release=""
present=""  # "pkg ver arch" of each file testing already holds (same content), one per line
for deb in "$@"; do
    read_fields "$deb"
    # The snapshot is named after the release: rosey-bot's version if it is
    # among the files, else the first package's name and version.
    if [ "$pkg" = rosey-bot ] || [ -z "$release" ]; then release="$pkg-$ver"; fi
    if is_withdrawn "$ver" && [ "$pkg" != "$KEYRING_PACKAGE" ]; then
        die "REFUSED: $pkg $ver was withdrawn; release a new version instead"
    fi
    have=$(aptly_ repo search "$REPO" "$one" 2>/dev/null || true)
    if [ -n "$have" ]; then
        stored=$(aptly_ package show -with-files=false "$have" | sed -n 's/^SHA256: //p')
        new=$(sha256sum "$deb" | cut -d' ' -f1)
        if [ "$stored" != "$new" ]; then
            echo "publish: REFUSED: $pkg $ver is already published with different content" >&2
            echo "publish: (stored sha256 $stored, new $new); release a new version instead" >&2
            exit 1
        fi
        present="$present$pkg $ver $arch
"
    fi
done
for deb in "$@"; do
    read_fields "$deb"
    case "$present" in
    *"$pkg $ver $arch
"*)
        echo "publish: $pkg $ver ($arch) already in the repository, unchanged" ;;
    *)
        aptly_ repo add "$REPO" "$deb" >/dev/null
        echo "publish: added $pkg $ver ($arch) to testing"
        present="$present$pkg $ver $arch
" ;;
    esac
    if [ "$pkg" = "$KEYRING_PACKAGE" ] && [ -z "$(aptly_ repo search "$STABLE_REPO" "$one" 2>/dev/null || true)" ]; then
        # The same package (aptly copies the reference, not the file).
        aptly_ repo copy "$REPO" "$STABLE_REPO" "$one" >/dev/null
        echo "publish: added $pkg $ver ($arch) to stable"
    fi
done
publish_repo "$release"
print_sources

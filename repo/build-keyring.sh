#!/bin/sh
# Build the rosey-archive-keyring package from a repository's signing keys
# and publish it into that repository (docs/DESIGN.md#keyring-package).
#
# Usage: repo/build-keyring.sh [--root DIR] [--version V] [--out DIR] [--no-publish]
#   ROSEY_REPO_URI  the URI servers fetch the repository from, written into
#                   /etc/apt/sources.list.d/rosey.sources
#                   (default http://127.0.0.1:8080/, repo/nginx/rosey-apt.conf's listen)
#   The source names suite stable (promoted releases: production); a test
#   server changes it to testing (make provision does, rosey_repo_suite), and
#   dpkg keeps that edit of the conffile on upgrades.
#   Signing keys as for repo/publish.sh (ROSEY_SIGNING_KEY[_ASC]); during a
#   key rotation both keys go into the package.
#
# The package holds the exported public key(s) in
# /usr/share/keyrings/rosey-archive-keyring.gpg and a deb822 source with
# Signed-By naming that file: installing it (dpkg -i) is enough for apt to
# trust the repository. No apt-key: the key is trusted for this source only.
# If the newest published keyring package already ships these keys and this
# URI, nothing is built. Versions are dates (YYYY.MM.DD, then .1, .2 the same
# day); a build is reproducible (the date is the version's own).
set -eu
root=build
version=""
out=""
publish=1
while [ $# -gt 0 ]; do
    case "$1" in
        --root) root=$2; shift 2 ;;
        --version) version=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        --no-publish) publish=""; shift ;;
        *) echo "usage: $0 [--root DIR] [--version V] [--out DIR] [--no-publish]" >&2; exit 2 ;;
    esac
done
uri=${ROSEY_REPO_URI:-http://127.0.0.1:8080/}
mkdir -p "$root"
root=$(cd "$root" && pwd)
out=${out:-$root/debs}
mkdir -p "$out"
out=$(cd "$out" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

mkdir -p "$GNUPGHOME"
chmod 700 "$GNUPGHOME"
trap 'stop_agent; rm -rf "$work"' EXIT
work=$(mktemp -d)
KEYS=$(signing_keys)
[ -n "$(echo $KEYS)" ] || die "no signing key"
export_keyring >"$work/rosey-archive-keyring.gpg"
cat >"$work/rosey.sources" <<SOURCES
# The rosey-bot apt repository (from the rosey-archive-keyring package).
# Suites: stable offers promoted releases only (production servers);
# test servers track testing, every release (docs/REPOSITORY.md#channels).
$(sources_stanza "$uri" stable)
SOURCES

latest=""
if [ -f "$APTLY_CONF" ] && [ -d "$root/aptly" ]; then
    # shellcheck disable=SC2046
    latest=$(sort_desc $(aptly_ repo search "$REPO" "Name (= $KEYRING_PACKAGE)" 2>/dev/null |
        sed "s/^${KEYRING_PACKAGE}_\([^_]*\)_.*/\1/") | cut -d' ' -f1)
fi
if [ -n "$latest" ] && [ -z "$version" ]; then
    # aptly's pool names files <hash>_<name>.
    published=$(find "$root/aptly/pool" -name "*_${KEYRING_PACKAGE}_${latest}_all.deb" | head -n 1)
    if [ -n "$published" ]; then
        mkdir "$work/published"
        dpkg-deb -x "$published" "$work/published"
        if cmp -s "$work/published/usr/share/keyrings/rosey-archive-keyring.gpg" "$work/rosey-archive-keyring.gpg" &&
            cmp -s "$work/published/etc/apt/sources.list.d/rosey.sources" "$work/rosey.sources"; then
            # aptly may have hard-linked our earlier output into its pool.
            [ "$published" -ef "$out/${KEYRING_PACKAGE}_${latest}_all.deb" ] ||
                cp "$published" "$out/${KEYRING_PACKAGE}_${latest}_all.deb"
            say "$KEYRING_PACKAGE $latest already ships these keys and $uri: $out/${KEYRING_PACKAGE}_${latest}_all.deb"
            exit 0
        fi
    fi
fi
if [ -z "$version" ]; then
    today=$(date -u +%Y.%m.%d)
    case "$latest" in
        "$today") version=$today.1 ;;
        "$today".*) version=$today.$((${latest#"$today".} + 1)) ;;
        *) version=$today ;;
    esac
fi
# The changelog date makes SOURCE_DATE_EPOCH: the version's own day when it is a date.
day=$(echo "$version" | sed -n 's/^\([0-9]\{4\}\)\.\([0-9][0-9]\)\.\([0-9][0-9]\).*/\1-\2-\3/p')
epoch=${SOURCE_DATE_EPOCH:-$(date -u -d "${day:-1970-01-01} 00:00:00" +%s)}

src="$work/$KEYRING_PACKAGE-$version"
cp -r "$here/keyring" "$src"
cp "$work/rosey-archive-keyring.gpg" "$work/rosey.sources" "$src/"
{
    echo "$KEYRING_PACKAGE ($version) stable; urgency=medium"
    echo
    for k in $KEYS; do echo "  * Repository signing key $k."; done
    echo "  * Repository URI $uri."
    echo
    echo " -- rosey-bot developers <dev@rosey-bot.invalid>  $(date -u -R -d "@$epoch")"
} >"$src/debian/changelog"
(cd "$src" && dpkg-buildpackage -b -us -uc >"$work/build.log" 2>&1) || {
    cat "$work/build.log" >&2
    die "building $KEYRING_PACKAGE failed"
}
deb="$KEYRING_PACKAGE"_"$version"_all.deb
cp "$work/$deb" "$out/"
say "built $out/$deb"
if [ -n "$publish" ]; then
    "$here/publish.sh" --root "$root" "$out/$deb" | grep -v '^#\|^$\|^[A-Z]' || true
fi

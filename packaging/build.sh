#!/bin/sh
# Build the .debs of the checkout in SRC (default: .) into OUTDIR: both
# flavours of the bot (docs/PACKAGING.md, "Which flavour") and rosey-monitoring.
#   rosey-bot         dh-virtualenv, pinned wheels (debian/)
#   rosey-bot-native  stdeb from the same setup.py, on Debian's python3-* (stdeb.cfg)
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
# The commit's time, as in the changelog: stdeb's generated files carry no build-time date.
SOURCE_DATE_EPOCH=$(git log -1 --format=%ct 2>/dev/null || echo 0)
export SOURCE_DATE_EPOCH

# LABEL DIR: dpkg-buildpackage -b in DIR, its log in $stage/LABEL.log; says how long it took.
buildpackage() {
    start=$(date +%s)
    (cd "$2" && dpkg-buildpackage -us -uc -b --no-pre-clean >"$stage/$1.log" 2>&1) || {
        tail -n 40 "$stage/$1.log" >&2
        echo "build: dpkg-buildpackage of $1 failed (last 40 lines of its log above)" >&2
        exit 1
    }
    echo "build: $1 $version built in $(($(date +%s) - start)) s" >&2
}

# --- the venv flavour (and rosey-monitoring) ----------------------------------
# Wheels come from the hash-checked wheelhouse only (fetched once, then offline).
wheelhouse=$("$here/wheelhouse.sh" "${ROSEY_WHEELHOUSE:-$here/../build/wheelhouse}")
echo "build: rosey-bot $version" >&2
# pip sees only the wheelhouse, never a machine-specific mirror (docs/DESIGN.md#build-machine).
(
    unset PIP_FIND_LINKS
    export PIP_CONFIG_FILE=/dev/null ROSEY_WHEELHOUSE="$wheelhouse"
    buildpackage rosey-bot "$tree"
)

# --- the Debian-native flavour: stdeb ----------------------------------------
# stdeb debianizes setup.py (control from stdeb.cfg, rules for pybuild); the
# units, conffile, debconf and maintainer scripts are then the venv flavour's
# own files, so there is one copy of each (only PACKAGE= differs).
native_src="$stage/native-src"
mkdir -p "$native_src"
git ls-files -z --cached --others --exclude-standard | (cd "$src" && xargs -0 cp --parents -t "$native_src" 2>/dev/null || true)
(cd "$native_src" && /usr/bin/python3 setup.py --command-packages=stdeb.command sdist_dsc \
    --with-python2=False --with-python3=True --no-python2-scripts=True --compat 13 \
    --forced-upstream-version "$version" --dist-dir "$stage/native-dsc" >"$stage/stdeb.log" 2>&1) || {
    tail -n 40 "$stage/stdeb.log" >&2
    echo "build: stdeb sdist_dsc failed (last 40 lines of its log above)" >&2
    exit 1
}
ntree=$(find "$stage/native-dsc" -mindepth 1 -maxdepth 1 -type d -name 'rosey-bot-native-*')
nd="$ntree/debian"
cp -r "$tree/README.md" "$tree/docs" "$tree/systemd" "$tree/packaging" "$ntree/"
cp -r "$tree/debian/man" "$tree/debian/po" "$nd/"
for script in postinst prerm postrm config; do
    sed 's/^PACKAGE=rosey-bot$/PACKAGE=rosey-bot-native/' "$tree/debian/rosey-bot.$script" >"$nd/rosey-bot-native.$script"
    chmod 0755 "$nd/rosey-bot-native.$script"
    grep -q '^PACKAGE=rosey-bot-native$' "$nd/rosey-bot-native.$script" || {
        echo "build: debian/rosey-bot.$script has no PACKAGE=rosey-bot line to rewrite" >&2
        exit 1
    }
done
cp "$tree/debian/rosey-bot.templates" "$nd/rosey-bot-native.templates"
cp "$tree/debian/rosey-bot.manpages" "$nd/rosey-bot-native.manpages"
cp "$tree/debian/native/install" "$nd/rosey-bot-native.install"
cp "$tree/debian/native/lintian-overrides" "$nd/rosey-bot-native.lintian-overrides"
cp "$tree/debian/native/copyright" "$nd/copyright"
cp "$tree/debian/native/rules.mk" "$nd/native-rules.mk"
echo 'include debian/native-rules.mk' >>"$nd/rules"
# The same version as the venv flavour, from the same git tag (no "-1"
# Debian revision): a native package, like the rest of this repository.
"$here/gen-changelog.sh" "$version" "$ntree"
sed -i '1s/^rosey-bot (/rosey-bot-native (/' "$nd/changelog"
echo "3.0 (native)" >"$nd/source/format"
rm -f "$nd/watch"
# stdeb's control template predates today's policy and has no homepage.
sed -i -e '/^Homepage: None$/d' -e 's/^Standards-Version: .*/Standards-Version: 4.6.2\nRules-Requires-Root: no/' "$nd/control"
buildpackage rosey-bot-native "$ntree"

for f in "$stage"/*.deb "$stage"/native-dsc/*.deb; do
    [ -e "$f" ] || continue
    cp "$f" "$outdir/"
    echo "$outdir/$(basename "$f")"
done

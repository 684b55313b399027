# Shared by repo/*.sh: aptly and gpg set up under $root (sourced, not run).
#
# Layout of $root (see docs/REPOSITORY.md):
#   aptly.conf, aptly/    aptly's configuration, database and package pool
#   gnupg/                the signing keyring (GNUPGHOME)
#   trees/<gen>/          one complete, signed published tree per publish
#   apt -> trees/<gen>    what nginx serves; switched atomically (rename of a symlink)
#   apt-previous          the tree served before, kept so clients mid-update can finish
#   withdrawn             versions withdrawn for good (never published again)
#
# Release channels (docs/DESIGN.md#channels): every tree holds two suites, each
# its own signed publication of its own aptly local repo:
#   testing  every release (repo/publish.sh adds here only); test servers track it
#   stable   promoted releases only (repo/promote.sh); production servers track it
# plus bookworm, the single suite of the layout before channels, republished
# as a copy of stable so servers set up before it keep updating safely.
# Origin/Label/Suite/Codename are frozen once published (docs/DESIGN.md#frozen-identity): every
# publish checks each new Release against the served one before switching.
REPO=rosey-bot
STABLE_REPO=rosey-bot-stable
SUITES="testing stable"
LEGACY_SUITE=bookworm
ORIGIN=rosey-bot
LABEL=rosey-bot
COMPONENT=main
ARCHES=amd64
KEYRING_PACKAGE=rosey-archive-keyring
KEY_UID="rosey-bot repository signing key <repo@rosey-bot.invalid>"

export GNUPGHOME="$root/gnupg"
APTLY_CONF="$root/aptly.conf"
PUBLISHED="$root/apt"
PREVIOUS="$root/apt-previous"
TREES="$root/trees"
WITHDRAWN="$root/withdrawn"

aptly_() { aptly -config="$APTLY_CONF" "$@"; }

say() { echo "${0##*/}: $*"; }
die() {
    echo "${0##*/}: $*" >&2
    exit 1
}

signing_keys() {
    # Fingerprints to sign with, space-separated (two during a key rotation).
    # CI imports the real key(s) from a secret: ROSEY_SIGNING_KEY_ASC holds the
    # ASCII-armoured secret key(s) or names a file holding them; every key in
    # it signs unless ROSEY_SIGNING_KEY names the ones to use. Locally a
    # throwaway key is made once.
    if [ -n "${ROSEY_SIGNING_KEY_ASC:-}" ]; then
        if [ -f "$ROSEY_SIGNING_KEY_ASC" ]; then asc=$(cat "$ROSEY_SIGNING_KEY_ASC"); else asc=$ROSEY_SIGNING_KEY_ASC; fi
        printf '%s\n' "$asc" | gpg --batch --quiet --import 2>/dev/null || die "importing ROSEY_SIGNING_KEY_ASC failed"
        if [ -z "${ROSEY_SIGNING_KEY:-}" ]; then
            printf '%s\n' "$asc" | gpg --batch --with-colons --show-keys 2>/dev/null |
                awk -F: '/^sec/ {want=1} /^ssb|^pub/ {want=0} /^fpr/ && want {print $10; want=0}' | tr '\n' ' '
            return
        fi
    fi
    if [ -n "${ROSEY_SIGNING_KEY:-}" ]; then
        echo "$ROSEY_SIGNING_KEY" | tr ',' ' '
        return
    fi
    fpr=$(gpg --batch --with-colons --list-secret-keys "$KEY_UID" 2>/dev/null | awk -F: '/^fpr/ {print $10; exit}')
    if [ -z "$fpr" ]; then
        say "generating a throwaway Ed25519 signing key in $GNUPGHOME" >&2
        gpg --batch --quiet --passphrase '' --quick-gen-key "$KEY_UID" ed25519 sign never
        fpr=$(gpg --batch --with-colons --list-secret-keys "$KEY_UID" | awk -F: '/^fpr/ {print $10; exit}')
    fi
    echo "$fpr"
}

stop_agent() {
    # gpg starts an agent per GNUPGHOME that would outlive us.
    gpgconf --kill gpg-agent 2>/dev/null || true
}

repo_init() {
    mkdir -p "$GNUPGHOME" "$TREES"
    chmod 700 "$GNUPGHOME"
    trap stop_agent EXIT
    # One publisher at a time: a second one waits.
    exec 9>"$root/.lock"
    flock 9
    # Regenerated every run: earlier layouts published straight into $root/apt.
    cat >"$APTLY_CONF" <<CONF
{
  "rootDir": "$root/aptly",
  "gpgProvider": "gpg2",
  "FileSystemPublishEndpoints": {
    "local": {"rootDir": "$TREES", "linkMethod": "hardlink"}
  }
}
CONF
    KEYS=$(signing_keys)
    [ -n "$(echo $KEYS)" ] || die "no signing key"
    for k in $KEYS; do
        gpg --batch --list-secret-keys "$k" >/dev/null 2>&1 || die "signing key $k has no secret key in $GNUPGHOME"
    done
    aptly_ repo show "$REPO" >/dev/null 2>&1 ||
        aptly_ repo create -distribution=testing -component="$COMPONENT" "$REPO" >/dev/null
    if ! aptly_ repo show "$STABLE_REPO" >/dev/null 2>&1; then
        # Before channels every server was offered the one suite: stable starts as
        # that suite, so no server loses a version it could install.
        legacy=$(served_snapshot "$LEGACY_SUITE")
        aptly_ repo create -distribution=stable -component="$COMPONENT" "$STABLE_REPO" \
            ${legacy:+from snapshot "$legacy"} >/dev/null
    fi
    forget_unfinished
}

repo_of() {
    # The aptly local repo behind a suite.
    case "$1" in
        testing) echo "$REPO" ;;
        stable | "$LEGACY_SUITE") echo "$STABLE_REPO" ;;
        *) die "no suite '$1' (there are: $SUITES)" ;;
    esac
}

export_keyring() {
    # The public keys of every signing key, binary (what Signed-By reads).
    # shellcheck disable=SC2086
    gpg --batch --export $KEYS
}

gen_of() {
    # The generation a served symlink points at (empty if none).
    [ -L "$1" ] && basename "$(readlink "$1")" || true
}

forget_unfinished() {
    # A publish killed half-way leaves an unserved tree (and perhaps an aptly
    # publication) behind; only the served tree and the one before it stay.
    keep_gens=" $(gen_of "$PUBLISHED") $(gen_of "$PREVIOUS") "
    aptly_ publish list -raw 2>/dev/null | while read -r endpoint dist; do
        prefix=${endpoint#filesystem:local:}
        case "$keep_gens" in *" $prefix "*) continue ;; esac
        aptly_ publish drop -force-drop -skip-cleanup "$dist" "$endpoint" >/dev/null
    done
    for dir in "$TREES"/gen-*; do
        [ -e "$dir" ] || continue
        case "$keep_gens" in *" ${dir##*/} "*) continue ;; esac
        rm -rf "$dir"
    done
    rm -f "$root/apt.new"
}

package_list() {
    # "name_version_arch" lines of a repo ($1 = repo) or snapshot ($1 = snapshot)
    # named $2, optionally only those matching aptly query $3.
    aptly_ "$1" search "$2" ${3:+"$3"} 2>/dev/null | sort
}

served_snapshot() {
    # The snapshot the served tree publishes as suite $1 (empty if none).
    gen=$(gen_of "$PUBLISHED")
    [ -n "$gen" ] || return 0
    aptly_ publish show "$1" "filesystem:local:$gen" 2>/dev/null | sed -n "s/^ *$COMPONENT: \([^ ]*\) \[snapshot\]/\1/p"
}

snapshot_for() {
    # A snapshot named $1 holding exactly repo $2's packages: an existing one
    # (a publish killed after snapshotting) or a new one, suffixed _2, _3...
    # when the name is taken by other content ('_' never occurs in versions).
    want=$(package_list repo "$2")
    cand=$1
    n=1
    while aptly_ snapshot show "$cand" >/dev/null 2>&1; do
        if [ "$(package_list snapshot "$cand")" = "$want" ]; then
            echo "$cand"
            return
        fi
        n=$((n + 1))
        cand="${1}_$n"
    done
    aptly_ snapshot create "$cand" from repo "$2" >/dev/null
    echo "$cand"
}

suite_snapshot() {
    # What suite $1 should publish: the served snapshot while it still holds
    # exactly its repo's packages (an untouched suite is republished as it
    # was), else a new snapshot named $2.
    served=$(served_snapshot "$1")
    if [ -n "$served" ] && [ "$(package_list snapshot "$served")" = "$(package_list repo "$(repo_of "$1")")" ]; then
        echo "$served"
    else
        snapshot_for "$2" "$(repo_of "$1")"
    fi
}

sign_release() {
    # InRelease and Release.gpg of $dists, signed by every key (aptly 1.5 signs with one).
    set --
    for k in $KEYS; do set -- "$@" --local-user "$k"; done
    if [ -n "${ROSEY_SIGNING_PASSPHRASE_FILE:-}" ]; then
        set -- "$@" --pinentry-mode loopback --passphrase-file "$ROSEY_SIGNING_PASSPHRASE_FILE"
    fi
    gpg --batch --yes --digest-algo SHA512 "$@" --armor --detach-sign -o "$dists/Release.gpg" "$dists/Release"
    gpg --batch --yes --digest-algo SHA512 "$@" --clearsign -o "$dists/InRelease" "$dists/Release"
}

release_field() { sed -n "s/^$1: //p" "$2"; }

verify_suite() {
    # Refuse to switch to a tree apt would refuse, or whose identity changed ($1 = suite).
    keyring="$tree/rosey-archive-keyring.gpg"
    nkeys=$(echo $KEYS | wc -w)
    for sig in "$dists/InRelease" "$dists/Release.gpg $dists/Release"; do
        # shellcheck disable=SC2086
        good=$(gpgv --status-fd 1 --keyring "$keyring" $sig 2>/dev/null | grep -c '^\[GNUPG:\] GOODSIG' || true)
        [ "$good" = "$nkeys" ] || die "REFUSED: $1 ${sig%% *} carries $good good signatures, expected $nkeys"
    done
    for field in Origin:$ORIGIN Label:$LABEL Suite:$1 Codename:$1; do
        name=${field%%:*}
        new=$(release_field "$name" "$dists/Release")
        [ "$new" = "${field#*:}" ] || die "REFUSED: new $1 Release has $name '$new', expected '${field#*:}'"
        if [ -f "$PUBLISHED/dists/$1/Release" ]; then
            old=$(release_field "$name" "$PUBLISHED/dists/$1/Release")
            [ "$new" = "$old" ] || die "REFUSED: $name is frozen at '$old' (new tree says '$new')"
        fi
    done
}

packages_sha256() {
    # "name version arch sha256" lines of a published Packages index.
    awk '/^Package: / {p=$2} /^Version: / {v=$2} /^Architecture: / {a=$2} /^SHA256: / {print p, v, a, $2}' "$1" | sort
}

verify_same_bytes() {
    # A package in both channels is the very same file: promotion copies, never rebuilds.
    idx=main/binary-$ARCHES/Packages
    packages_sha256 "$tree/dists/testing/$idx" >"$root/.testing.sums"
    differ=$(packages_sha256 "$tree/dists/stable/$idx" |
        awk 'NR==FNR {sum[$1" "$2" "$3]=$4; next} ($1" "$2" "$3) in sum && sum[$1" "$2" "$3] != $4 {print $1"_"$2}' \
            "$root/.testing.sums" -)
    rm -f "$root/.testing.sums"
    [ -z "$differ" ] || die "REFUSED: stable and testing hold different files for: $differ"
}

switch_to() {
    # rename(2) of a symlink over the served one: a reader sees either the
    # whole old tree or the whole new one, never a mix, even if we are killed.
    old=$(gen_of "$PUBLISHED")
    if [ -n "$old" ]; then
        ln -sfn "trees/$old" "$root/apt.new"
        mv -T "$root/apt.new" "$PREVIOUS"
    elif [ -d "$PUBLISHED" ]; then
        # A tree from before generations (a plain directory) cannot be renamed
        # over atomically: move it aside once.
        mv "$PUBLISHED" "$TREES/legacy-$(date -u +%Y%m%dT%H%M%SZ)"
    fi
    ln -sfn "trees/$1" "$root/apt.new"
    mv -T "$root/apt.new" "$PUBLISHED"
}

publish_snapshots() {
    # Publish snapshots $1 (testing) and $2 (stable, also as the legacy suite)
    # as a new generation, sign, verify, switch, tidy up.
    gen="gen-$(date -u +%Y%m%dT%H%M%S)-$$"
    tree="$TREES/$gen"
    mkdir -p "$tree"
    export_keyring >"$tree/rosey-archive-keyring.gpg"
    for pair in "testing $1" "stable $2" "$LEGACY_SUITE $2"; do
        suite=${pair%% *}
        aptly_ publish snapshot -skip-signing -skip-contents -skip-bz2 -architectures="$ARCHES" \
            -component="$COMPONENT" -distribution="$suite" -origin="$ORIGIN" -label="$LABEL" \
            "${pair#* }" "filesystem:local:$gen" >/dev/null
        dists="$tree/dists/$suite"
        sign_release
        verify_suite "$suite"
    done
    verify_same_bytes
    switch_to "$gen"
    say "$PUBLISHED now serves testing from snapshot $1, stable from snapshot $2 ($gen)"
    forget_unfinished
}

publish_repo() {
    # Publish both suites' current content (unless already served); a suite
    # whose repo changed gets a new snapshot: $1 for testing, stable-$1 for stable.
    testing=$(suite_snapshot testing "$1")
    stable_name=stable-$1
    # A fresh repository's stable holds nothing yet: not a snapshot of release $1.
    [ -n "$(package_list repo "$STABLE_REPO")" ] || stable_name=stable-empty
    stable=$(suite_snapshot stable "$stable_name")
    if [ "$testing" = "$(served_snapshot testing)" ] && [ "$stable" = "$(served_snapshot stable)" ] &&
        [ "$stable" = "$(served_snapshot "$LEGACY_SUITE")" ] &&
        export_keyring | cmp -s - "$PUBLISHED/rosey-archive-keyring.gpg"; then
        say "repository already published (testing from $testing, stable from $stable)"
        return
    fi
    publish_snapshots "$testing" "$stable"
}

sort_desc() {
    # Debian version order (dpkg's, not sort -V: 1.0~rc1 < 1.0), newest first.
    sorted=""
    for v in "$@"; do
        out=""
        placed=""
        for s in $sorted; do
            if [ -z "$placed" ] && dpkg --compare-versions "$v" gt "$s"; then
                out="$out $v"
                placed=1
            fi
            out="$out $s"
        done
        [ -n "$placed" ] || out="$out $v"
        sorted=$out
    done
    echo $sorted
}

offered_versions() {
    # rosey-bot versions suite $1 (default testing) offers, newest first.
    # shellcheck disable=SC2046
    sort_desc $(aptly_ repo search "$(repo_of "${1:-testing}")" 'Name (= rosey-bot)' 2>/dev/null |
        sed 's/^rosey-bot_\([^_]*\)_.*/\1/' | sort -u)
}

version_query() {
    # Every package of release $1 (all its .debs), never the keyring package.
    echo "\$Version (= $1), !Name (= $KEYRING_PACKAGE)"
}

is_withdrawn() { [ -f "$WITHDRAWN" ] && grep -qxF "$1" "$WITHDRAWN"; }

sources_stanza() {
    # The deb822 source of suite $2 at URI $1.
    cat <<SOURCES
Types: deb
URIs: $1
Suites: $2
Components: $COMPONENT
Signed-By: /usr/share/keyrings/rosey-archive-keyring.gpg
SOURCES
}

print_sources() {
    echo
    echo "# A server needs the key and one deb822 stanza (or the rosey-archive-keyring"
    echo "# package, repo/build-keyring.sh, which ships both):"
    echo "#   install -m 0644 $PUBLISHED/rosey-archive-keyring.gpg /usr/share/keyrings/rosey-archive-keyring.gpg"
    echo "# /etc/apt/sources.list.d/rosey.sources of a test server (every release):"
    sources_stanza "file://$PUBLISHED" testing
    echo "# ... of a production server (promoted releases only, repo/promote.sh):"
    sources_stanza "file://$PUBLISHED" stable
}

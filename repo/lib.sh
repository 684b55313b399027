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
# Origin/Label/Suite/Codename are frozen once published (docs/DESIGN.md#frozen-identity): every
# publish checks the new Release against the served one before switching.
REPO=rosey-bot
DIST=bookworm
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
        aptly_ repo create -distribution="$DIST" -component="$COMPONENT" "$REPO" >/dev/null
    forget_unfinished
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
    # "name_version_arch" lines of a repo ($1 = repo) or snapshot ($1 = snapshot).
    aptly_ "$1" search "$2" 2>/dev/null | sort
}

served_snapshot() {
    gen=$(gen_of "$PUBLISHED")
    [ -n "$gen" ] || return 0
    aptly_ publish show "$DIST" "filesystem:local:$gen" 2>/dev/null | sed -n "s/^ *$COMPONENT: \([^ ]*\) \[snapshot\]/\1/p"
}

snapshot_for() {
    # A snapshot named $1 holding exactly the repo's packages: an existing one
    # (a publish killed after snapshotting) or a new one, suffixed _2, _3...
    # when the name is taken by other content ('_' never occurs in versions).
    want=$(package_list repo "$REPO")
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
    aptly_ snapshot create "$cand" from repo "$REPO" >/dev/null
    echo "$cand"
}

up_to_date() {
    # The served tree already offers exactly the repo's packages, signed by
    # exactly these keys: nothing to publish.
    snap=$(served_snapshot)
    [ -n "$snap" ] || return 1
    [ "$(package_list snapshot "$snap")" = "$(package_list repo "$REPO")" ] || return 1
    export_keyring | cmp -s - "$PUBLISHED/rosey-archive-keyring.gpg"
}

sign_release() {
    # InRelease and Release.gpg, signed by every key (aptly 1.5 signs with one).
    set --
    for k in $KEYS; do set -- "$@" --local-user "$k"; done
    if [ -n "${ROSEY_SIGNING_PASSPHRASE_FILE:-}" ]; then
        set -- "$@" --pinentry-mode loopback --passphrase-file "$ROSEY_SIGNING_PASSPHRASE_FILE"
    fi
    gpg --batch --yes --digest-algo SHA512 "$@" --armor --detach-sign -o "$dists/Release.gpg" "$dists/Release"
    gpg --batch --yes --digest-algo SHA512 "$@" --clearsign -o "$dists/InRelease" "$dists/Release"
}

release_field() { sed -n "s/^$1: //p" "$2"; }

verify_tree() {
    # Refuse to switch to a tree apt would refuse, or whose identity changed.
    keyring="$tree/rosey-archive-keyring.gpg"
    nkeys=$(echo $KEYS | wc -w)
    for sig in "$dists/InRelease" "$dists/Release.gpg $dists/Release"; do
        # shellcheck disable=SC2086
        good=$(gpgv --status-fd 1 --keyring "$keyring" $sig 2>/dev/null | grep -c '^\[GNUPG:\] GOODSIG' || true)
        [ "$good" = "$nkeys" ] || die "REFUSED: ${sig%% *} carries $good good signatures, expected $nkeys"
    done
    for field in Origin:$ORIGIN Label:$LABEL Suite:$DIST Codename:$DIST; do
        name=${field%%:*}
        new=$(release_field "$name" "$dists/Release")
        [ "$new" = "${field#*:}" ] || die "REFUSED: new Release has $name '$new', expected '${field#*:}'"
        if [ -f "$PUBLISHED/dists/$DIST/Release" ]; then
            old=$(release_field "$name" "$PUBLISHED/dists/$DIST/Release")
            [ "$new" = "$old" ] || die "REFUSED: $name is frozen at '$old' (new tree says '$new')"
        fi
    done
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

publish_snapshot() {
    # Publish snapshot $1 as a new generation, sign, verify, switch, tidy up.
    gen="gen-$(date -u +%Y%m%dT%H%M%S)-$$"
    tree="$TREES/$gen"
    dists="$tree/dists/$DIST"
    aptly_ publish snapshot -skip-signing -skip-contents -skip-bz2 -architectures="$ARCHES" \
        -component="$COMPONENT" -distribution="$DIST" -origin="$ORIGIN" -label="$LABEL" \
        "$1" "filesystem:local:$gen" >/dev/null
    export_keyring >"$tree/rosey-archive-keyring.gpg"
    sign_release
    verify_tree
    switch_to "$gen"
    say "$PUBLISHED now serves snapshot $1 ($gen)"
    forget_unfinished
}

publish_repo() {
    # Publish the repo's current content as snapshot $1 (unless already served).
    if up_to_date; then
        say "repository already published from $(served_snapshot)"
        return
    fi
    publish_snapshot "$(snapshot_for "$1")"
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
    # rosey-bot versions the repository offers, newest first.
    # shellcheck disable=SC2046
    sort_desc $(aptly_ repo search "$REPO" 'Name (= rosey-bot)' 2>/dev/null | sed 's/^rosey-bot_\([^_]*\)_.*/\1/' | sort -u)
}

is_withdrawn() { [ -f "$WITHDRAWN" ] && grep -qxF "$1" "$WITHDRAWN"; }

print_sources() {
    cat <<SOURCES

# A server needs the key and this deb822 stanza (or the rosey-archive-keyring
# package, repo/build-keyring.sh, which ships both):
#   install -m 0644 $PUBLISHED/rosey-archive-keyring.gpg /usr/share/keyrings/rosey-archive-keyring.gpg
#   /etc/apt/sources.list.d/rosey.sources:
Types: deb
URIs: file://$PUBLISHED
Suites: $DIST
Components: $COMPONENT
Signed-By: /usr/share/keyrings/rosey-archive-keyring.gpg
SOURCES
}

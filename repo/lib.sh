# Shared by repo/*.sh: aptly and gpg set up under $root (sourced, not run).
# Origin/Label/Suite/Codename are frozen once published (SPEC §4).
REPO=rosey-bot
DIST=bookworm
ORIGIN=rosey-bot
LABEL=rosey-bot
COMPONENT=main
KEY_UID="rosey-bot repository signing key <repo@rosey-bot.invalid>"

export GNUPGHOME="$root/gnupg"
APTLY_CONF="$root/aptly.conf"
PUBLISHED="$root/apt"

aptly_() { aptly -config="$APTLY_CONF" "$@"; }

signing_key() {
    # CI imports the real key and names it; locally a throwaway key is made once.
    if [ -n "${ROSEY_SIGNING_KEY:-}" ]; then echo "$ROSEY_SIGNING_KEY"; return; fi
    fpr=$(gpg --batch --with-colons --list-secret-keys "$KEY_UID" 2>/dev/null | awk -F: '/^fpr/ {print $10; exit}')
    if [ -z "$fpr" ]; then
        echo "publish: generating a throwaway Ed25519 signing key in $GNUPGHOME" >&2
        gpg --batch --quiet --passphrase '' --quick-gen-key "$KEY_UID" ed25519 sign never
        fpr=$(gpg --batch --with-colons --list-secret-keys "$KEY_UID" | awk -F: '/^fpr/ {print $10; exit}')
    fi
    echo "$fpr"
}

repo_init() {
    mkdir -p "$GNUPGHOME" "$PUBLISHED"
    chmod 700 "$GNUPGHOME"
    if [ ! -f "$APTLY_CONF" ]; then
        cat > "$APTLY_CONF" <<CONF
{
  "rootDir": "$root/aptly",
  "gpgProvider": "gpg2",
  "FileSystemPublishEndpoints": {
    "local": {"rootDir": "$PUBLISHED", "linkMethod": "copy"}
  }
}
CONF
    fi
    KEY=$(signing_key)
    aptly_ repo show "$REPO" >/dev/null 2>&1 ||
        aptly_ repo create -distribution="$DIST" -component="$COMPONENT" "$REPO" >/dev/null
    gpg --batch --yes --export "$KEY" > "$PUBLISHED/rosey-archive-keyring.gpg"
}

snapshot_and_publish() {
    # One immutable snapshot per release, named after its version ($1); a
    # version's content can never change (publish.sh refuses), so an existing
    # snapshot of that name already holds exactly this state.
    snap="$REPO-$1"
    aptly_ snapshot show "$snap" >/dev/null 2>&1 ||
        aptly_ snapshot create "$snap" from repo "$REPO" >/dev/null
    sign="-gpg-key=$KEY -batch"
    if aptly_ publish show "$DIST" filesystem:local:. >/dev/null 2>&1; then
        current=$(aptly_ publish show "$DIST" filesystem:local:. | sed -n 's/^ *main: \([^ ]*\).*/\1/p')
        if [ "$current" = "$snap" ]; then
            echo "publish: repository already published from $snap"
            return
        fi
        aptly_ publish switch $sign "$DIST" filesystem:local:. "$snap" >/dev/null
    else
        aptly_ publish snapshot $sign -distribution="$DIST" -origin="$ORIGIN" -label="$LABEL" \
            "$snap" filesystem:local:. >/dev/null
    fi
    echo "publish: $PUBLISHED now serves snapshot $snap"
}

print_sources() {
    cat <<SOURCES

# A server needs the key and this deb822 stanza:
#   install -m 0644 $PUBLISHED/rosey-archive-keyring.gpg /usr/share/keyrings/rosey-archive-keyring.gpg
#   /etc/apt/sources.list.d/rosey.sources:
Types: deb
URIs: file://$PUBLISHED
Suites: $DIST
Components: $COMPONENT
Signed-By: /usr/share/keyrings/rosey-archive-keyring.gpg
SOURCES
}

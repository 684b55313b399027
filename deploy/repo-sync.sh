#!/bin/sh
# Move the apt repository between the repository host and a local publish root (docs/DESIGN.md#publishing).
#
# Usage: deploy/repo-sync.sh pull|push
#   REPO_SSH_TARGET  user@host of the repository host (required)
#   REPO_DIR         the publish root there (default /srv/rosey-repo): aptly/
#                    (database and pool), trees/<generation>/ and the symlinks
#                    apt -> trees/<gen> (what nginx serves) and apt-previous
#   LOCAL_ROOT       the local publish root (default build/repo-host), used as
#                    repo/publish.sh --root LOCAL_ROOT
#   REPO_SSH         the ssh command (default: ssh -o BatchMode=yes), e.g. with
#                    -i KEY -o UserKnownHostsFile=FILE
#
# pull: copy the repository's state here, so publish.sh adds a release to the
#       full history (every released version stays installable);
# push: send it back: new trees first, then the symlinks (each replaced by a
#       rename, so clients switch atomically), then drop what publish.sh pruned.
# Never copied: gnupg/ (CI imports the signing key from a secret) and
# aptly.conf (it names local paths; publish.sh writes its own).
set -eu
: "${REPO_SSH_TARGET:?set REPO_SSH_TARGET=user@host of the repository host}"
dir=${REPO_DIR:-/srv/rosey-repo}
local_root=${LOCAL_ROOT:-build/repo-host}
ssh_=${REPO_SSH:-ssh -o BatchMode=yes}
keep="--exclude=/gnupg/ --exclude=/aptly.conf --exclude=/.lock"
case "${1:-}" in
    pull)
        mkdir -p "$local_root"
        # The first release finds no repository yet: start from an empty one.
        $ssh_ "$REPO_SSH_TARGET" "mkdir -p '$dir'"
        # shellcheck disable=SC2086
        rsync -a --delete $keep -e "$ssh_" "$REPO_SSH_TARGET:$dir/" "$local_root/"
        ;;
    push)
        [ -L "$local_root/apt" ] || { echo "repo-sync: $local_root/apt is not a published tree; run repo/publish.sh --root $local_root first" >&2; exit 1; }
        $ssh_ "$REPO_SSH_TARGET" "mkdir -p '$dir'"
        rsync -a -e "$ssh_" "$local_root/aptly" "$local_root/trees" "$REPO_SSH_TARGET:$dir/"
        links=""
        for link in apt apt-previous; do
            if [ -L "$local_root/$link" ]; then links="$links $local_root/$link"; fi
        done
        # shellcheck disable=SC2086
        rsync -a -e "$ssh_" $links "$REPO_SSH_TARGET:$dir/"
        # shellcheck disable=SC2086
        rsync -a --delete $keep -e "$ssh_" "$local_root/" "$REPO_SSH_TARGET:$dir/"
        ;;
    *)
        echo "usage: $0 pull|push" >&2
        exit 2
        ;;
esac

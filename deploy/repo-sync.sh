#!/bin/sh
# Move the apt repository's state between the repository host and build/ (SPEC §4, §7).
#
# Usage: deploy/repo-sync.sh pull|push
#   REPO_SSH_TARGET  user@host of the repository host (required)
#   REPO_DIR         directory there (default /srv/rosey-repo), holding
#                    aptly/ (aptly's database and pool) and apt/ (the published
#                    tree nginx serves: repo/nginx/rosey-apt.conf's root)
#
# pull: copy both into build/ so repo/publish.sh adds a release to the full
#       history (every released version stays installable);
# push: send them back. Packages first, then the indices in one step
#       (--delay-updates), so a client never sees an index naming a missing file.
# The signing key is never copied: CI imports it from a secret.
set -eu
: "${REPO_SSH_TARGET:?set REPO_SSH_TARGET=user@host of the repository host}"
dir=${REPO_DIR:-/srv/rosey-repo}
ssh_="ssh -o BatchMode=yes"
case "${1:-}" in
    pull)
        mkdir -p build/aptly build/apt
        rsync -a --delete -e "$ssh_" "$REPO_SSH_TARGET:$dir/aptly/" build/aptly/
        rsync -a --delete -e "$ssh_" "$REPO_SSH_TARGET:$dir/apt/" build/apt/
        ;;
    push)
        [ -d build/apt/dists ] || { echo "repo-sync: build/apt has no published tree; run repo/publish.sh first" >&2; exit 1; }
        $ssh_ "$REPO_SSH_TARGET" "mkdir -p '$dir/aptly' '$dir/apt'"
        rsync -a --delete -e "$ssh_" build/aptly/ "$REPO_SSH_TARGET:$dir/aptly/"
        rsync -a -e "$ssh_" build/apt/pool/ "$REPO_SSH_TARGET:$dir/apt/pool/"
        rsync -a --delete --delay-updates -e "$ssh_" build/apt/ "$REPO_SSH_TARGET:$dir/apt/"
        ;;
    *)
        echo "usage: $0 pull|push" >&2
        exit 2
        ;;
esac

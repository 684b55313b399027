#!/bin/sh
# CI: put a deploy key and the servers' host keys where ssh (and Ansible) look.
# Env: SSH_KEY (private key, from a secret), KNOWN_HOSTS (ssh-keyscan lines, checked in advance).
# Run once per key (repository host, servers): each key is added, none replaces another.
set -eu
: "${SSH_KEY:?SSH_KEY is empty: set the environment's secret}"
: "${KNOWN_HOSTS:?KNOWN_HOSTS is empty: set the environment's secret}"
# ssh reads the passwd entry's home, not $HOME (they differ in CI containers).
home=$(getent passwd "$(id -u)" | cut -d: -f6)
install -d -m 0700 "$home/.ssh"
umask 077
n=1
while [ -e "$home/.ssh/id_ci_$n" ]; do n=$((n + 1)); done
printf '%s\n' "$SSH_KEY" >"$home/.ssh/id_ci_$n"
# ssh offers every IdentityFile named in its config, in order.
printf 'IdentityFile ~/.ssh/id_ci_%s\n' "$n" >>"$home/.ssh/config"
printf '%s\n' "$KNOWN_HOSTS" >>"$home/.ssh/known_hosts"
echo "ci-ssh-setup: key $n installed ($home/.ssh/id_ci_$n)"

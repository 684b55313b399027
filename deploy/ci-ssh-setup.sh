#!/bin/sh
# CI: put the deploy key and the servers' host keys where ssh (and Ansible) look.
# Env: SSH_KEY (private key, from a secret), KNOWN_HOSTS (ssh-keyscan lines, checked in advance).
set -eu
: "${SSH_KEY:?SSH_KEY is empty: set the environment's secret}"
: "${KNOWN_HOSTS:?KNOWN_HOSTS is empty: set the environment's secret}"
# ssh reads the passwd entry's home, not $HOME (they differ in CI containers).
home=$(getent passwd "$(id -u)" | cut -d: -f6)
install -d -m 0700 "$home/.ssh"
umask 077
printf '%s\n' "$SSH_KEY" > "$home/.ssh/id_ed25519"
printf '%s\n' "$KNOWN_HOSTS" >> "$home/.ssh/known_hosts"

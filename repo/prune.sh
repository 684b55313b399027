#!/bin/sh
# Retention: drop old releases from the repository, never the last N nor a
# deployed one (docs/DESIGN.md#withdrawal-and-retention).
#
# Usage: repo/prune.sh [--root DIR] --keep N [--deployed VERSION]... [--deployed-file FILE] [--dry-run]
#   Keeps the N newest rosey-bot versions each suite (testing, stable) still
#   offers (Debian version order) and every version named by --deployed or
#   listed in FILE (one per line, '#' comments; e.g. what `make audit` reports
#   across the fleet). Every other version (withdrawn ones included) leaves
#   both suites, the
#   served tree (republished as snapshot rosey-bot-prune-<time>), its own
#   release snapshot and every other snapshot; aptly's pool is then cleaned.
#   The previous published tree is dropped too (it still named the old files).
#   The rosey-archive-keyring package is never pruned.
set -eu
root=build
keep=""
deployed=""
dry_run=""
while [ $# -gt 0 ]; do
    case "$1" in
        --root) root=$2; shift 2 ;;
        --keep) keep=$2; shift 2 ;;
        --deployed) deployed="$deployed $2"; shift 2 ;;
        --deployed-file) deployed="$deployed $(sed 's/#.*//' "$2" | tr '\n' ' ')"; shift 2 ;;
        --dry-run) dry_run=1; shift ;;
        *) echo "usage: $0 [--root DIR] --keep N [--deployed VERSION]... [--deployed-file FILE] [--dry-run]" >&2; exit 2 ;;
    esac
done
case "$keep" in
    '' | *[!0-9]* | 0) echo "prune: --keep N needs N >= 1" >&2; exit 2 ;;
esac
[ -d "$root/aptly" ] || {
    echo "prune: no repository under $root" >&2
    exit 1
}
root=$(cd "$root" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

repo_init
# A prune killed between dropping a snapshot and renaming its filtered copy.
for snap in $(aptly_ snapshot list -raw); do
    case "$snap" in *.pruning) ;; *) continue ;; esac
    if aptly_ snapshot show "${snap%.pruning}" >/dev/null 2>&1; then
        aptly_ snapshot drop "$snap" >/dev/null
    else
        aptly_ snapshot rename "$snap" "${snap%.pruning}" >/dev/null
    fi
done
offered=$(offered_versions testing)
withdrawn=$(cat "$WITHDRAWN" 2>/dev/null || true)
# A stable version may be older than testing's newest N: production still installs it.
newest=""
for suite in $SUITES; do
    for v in $(offered_versions "$suite" | tr ' ' '\n' | head -n "$keep"); do
        case " $newest " in *" $v "*) ;; *) newest="$newest$v " ;; esac
    done
done
for v in $deployed; do
    case " $offered " in *" $v "*) ;; *) say "warning: deployed version $v is not offered by the repository" ;; esac
done
prune=""
for v in $offered $withdrawn; do
    case " $newest $deployed " in *" $v "*) continue ;; esac
    # A withdrawn version an earlier prune already removed everywhere.
    aptly_ package search "\$Version (= $v), !Name (= $KEYRING_PACKAGE)" >/dev/null 2>&1 || continue
    case " $prune " in *" $v "*) continue ;; esac
    prune="$prune $v"
done
say "keeping: $newest(newest $keep)${deployed:+ and deployed:$deployed}"
if [ -z "$prune" ]; then
    say "nothing to prune"
    exit 0
fi
say "pruning:$prune"
[ -z "$dry_run" ] || exit 0

query=""
for v in $prune; do query="${query:+$query | }(\$Version (= $v), !Name (= $KEYRING_PACKAGE))"; done
aptly_ repo remove "$REPO" "$query" >/dev/null 2>&1 || true
aptly_ repo remove "$STABLE_REPO" "$query" >/dev/null 2>&1 || true
publish_repo "rosey-bot-prune-$(date -u +%Y%m%dT%H%M%SZ)"
# The tree served before still names the pruned files: drop it with its publication.
rm -f "$PREVIOUS"
forget_unfinished
served=" $(served_snapshot testing) $(served_snapshot stable) "
for snap in $(aptly_ snapshot list -raw); do
    case "$served" in *" $snap "*) continue ;; esac
    for v in $prune; do
        case "$snap" in "rosey-bot-$v" | "rosey-bot-${v}_"*)
            aptly_ snapshot drop -force "$snap" >/dev/null
            say "dropped snapshot $snap"
            continue 2
            ;;
        esac
    done
    if [ -n "$(aptly_ snapshot search "$snap" "$query" 2>/dev/null || true)" ]; then
        # Same name, same content minus the pruned versions.
        aptly_ snapshot filter "$snap" "$snap.pruning" "!($query)" >/dev/null
        aptly_ snapshot drop -force "$snap" >/dev/null
        aptly_ snapshot rename "$snap.pruning" "$snap" >/dev/null
        say "removed the pruned versions from snapshot $snap"
    fi
done
aptly_ db cleanup >/dev/null
say "done"

# Sourced first by the scripts that act on one released VERSION (promote.sh,
# demote.sh, withdraw.sh): parses `[--root DIR] VERSION`, refuses a root that
# holds no repository (these scripts never create one), then loads lib.sh.
root=build
if [ "${1:-}" = --root ]; then
    root=$2
    shift 2
fi
[ $# -eq 1 ] || {
    echo "usage: $0 [--root DIR] VERSION" >&2
    exit 2
}
version=$1
[ -d "$root/aptly" ] || {
    echo "${0##*/}: no repository under $root" >&2
    exit 1
}
root=$(cd "$root" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

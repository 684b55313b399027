#!/bin/sh
# Print the Debian version of the checkout in $1 (default: .).
# The git tag vX.Y.Z is the single source of truth (docs/DESIGN.md#versioning): a tagged commit
# is X.Y.Z; N commits after it is X.Y.(Z+1)~devN+gSHA, which sorts below the
# next release; with no tag yet, 0.1.0~devN+gSHA.
set -eu
cd "${1:-.}"
if desc=$(git describe --tags --long --match 'v[0-9]*.[0-9]*.[0-9]*' 2>/dev/null); then
    tag=${desc%-*-g*}; rest=${desc#"$tag"-}
    n=${rest%%-*}; sha=${rest#*-g}
    ver=${tag#v}
    if [ "$n" = 0 ]; then echo "$ver"; exit 0; fi
    major=${ver%%.*}; minor=${ver#*.}; minor=${minor%%.*}; patch=${ver##*.}
    echo "$major.$minor.$((patch + 1))~dev$n+g$sha"
else
    n=$(git rev-list --count HEAD 2>/dev/null || echo 0)
    sha=$(git rev-parse --short=7 HEAD 2>/dev/null || echo 0000000)
    echo "0.1.0~dev$n+g$sha"
fi

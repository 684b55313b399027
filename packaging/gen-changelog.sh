#!/bin/sh
# Write debian/changelog for version $1 into the source tree $2.
# The changelog is generated, not committed: the git tag is the version's
# single source of truth. Its date is the commit's, so two builds of one
# commit carry the same SOURCE_DATE_EPOCH (reproducible builds).
set -eu
version=$1; tree=$2
epoch=$(git log -1 --format=%ct 2>/dev/null || echo 0)
date=$(LC_ALL=C date -u -R -d "@$epoch")
cat > "$tree/debian/changelog" <<CHANGELOG
rosey-bot ($version) bookworm; urgency=medium

  * Release $version, built from git $(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown).

 -- rosey-bot developers <dev@rosey-bot.invalid>  $date
CHANGELOG

#!/bin/sh
# Install the Debian packages a target needs, only those missing.
# Usage: packaging/build-deps.sh build|test|bench
set -eu
build="debhelper dh-virtualenv po-debconf dpkg-dev python3 python3-dev python3-venv python3-pip build-essential git aptly gnupg lintian"
test="$build mmdebstrap piuparts adequate systemd-container iproute2 curl openssh-client rsync prometheus prometheus-alertmanager chromium libjs-chart.js"
case "${1:-build}" in
    build) want=$build ;;
    test) want=$test ;;
    bench) want="$test wrk" ;;
    *) echo "usage: $0 build|test|bench" >&2; exit 2 ;;
esac
missing=""
for p in $want; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "build-deps: missing Debian packages:$missing (run as root, or install them)" >&2
    exit 1
fi
echo "build-deps: installing$missing"
apt-get update -q
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing

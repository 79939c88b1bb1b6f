#!/bin/sh
# The Debian 12 packages tools/fuzz.sh needs besides tools/install-deps.sh's:
# clang and its runtime (libFuzzer, ASan, UBSan).  Idempotent.
set -eu
"$(dirname "$0")/install-deps.sh"
PKGS="clang libclang-rt-dev llvm"
missing=""
for p in $PKGS; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
        echo "install-fuzz-deps: missing packages:$missing (run as root to install them)" >&2
        exit 1
fi
echo "install-fuzz-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null

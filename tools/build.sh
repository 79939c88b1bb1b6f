#!/bin/sh
# Configure and build mmpd out of tree in _build/ (installing dependencies first).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/tools/install-deps.sh"
cd "$top"
[ -x configure ] && [ configure -nt configure.ac ] || autoreconf -fi >/dev/null 2>&1 || autoreconf -fi
mkdir -p _build
cd _build
[ -f Makefile ] || ../configure -q "$@"
make -j"$(nproc)" >/dev/null

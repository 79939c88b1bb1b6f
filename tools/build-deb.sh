#!/bin/bash
# Build the Debian packages from the release tarball, as a distribution
# would: configure in a scratch directory, `make dist`, unpack the tarball,
# add debian/, `dpkg-buildpackage -us -uc -b`.  The .debs, .changes and
# .buildinfo land in DEB_OUT (default _build-deb/); then lintian checks them
# (LINTIAN=no skips it).  Ends with one line per step ("ok"/"FAILED").
#   tools/build-deb.sh && ls _build-deb/*.deb
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out=${DEB_OUT:-$top/_build-deb}

"$top/tools/install-deps.sh" || exit 1
cd "$top"
[ -x configure ] && [ configure -nt configure.ac ] || autoreconf -fi >/dev/null 2>&1 || autoreconf -fi || exit 1

rm -rf "$out"
mkdir -p "$out/dist"
( cd "$out/dist" && "$top/configure" -q >configure.out 2>&1 && make dist >dist.out 2>&1 ) ||
        { tail -20 "$out"/dist/*.out; echo "make dist: FAILED"; exit 1; }
tarball=$(ls "$out"/dist/mmpd-*.tar.gz)
ver=$(basename "$tarball" .tar.gz); ver=${ver#mmpd-}
debver=$(dpkg-parsechangelog -l "$top/debian/changelog" -S Version)
[ "${debver%-*}" = "$ver" ] ||
        { echo "debian/changelog says $debver, the tarball is $ver: add a changelog entry"; exit 1; }
echo "make dist: ok ($(basename "$tarball"))"

cp "$tarball" "$out/mmpd_$ver.orig.tar.gz"
tar -C "$out" -xzf "$tarball"
cp -a "$top/debian" "$out/mmpd-$ver/"
( cd "$out/mmpd-$ver" && dpkg-buildpackage -us -uc -b ) >"$out/build.log" 2>&1 ||
        { tail -40 "$out/build.log"; echo "dpkg-buildpackage: FAILED (log: $out/build.log)"; exit 1; }
echo "dpkg-buildpackage: ok ($(cd "$out" && ls ./*.deb | xargs -n1 basename | tr '\n' ' '))"

[ "${LINTIAN:-yes}" = no ] && exit 0
changes=$(ls "$out"/mmpd_*_"$(dpkg --print-architecture)".changes)
lintian --info --display-info "$changes" >"$out/lintian.out" 2>&1
lrc=$?
grep -E '^[EWI]: ' "$out/lintian.out" | sort | uniq >"$out/lintian.tags"
e=$(grep -c '^E: ' "$out/lintian.tags")
w=$(grep -c '^W: ' "$out/lintian.tags")
cat "$out/lintian.tags"
if [ "$lrc" -ne 0 ] || [ "$e" -gt 0 ]; then
        echo "lintian: FAILED ($e errors, $w warnings)"
        exit 1
fi
echo "lintian: ok (0 errors, $w warnings)"

# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
# private-ns.sh - source right after tap.sh and require_root, before mmpd.sh:
# the rest of the script runs in a mount namespace of its own (mmpd, which
# the script starts, too: its fence reads mountinfo in its own namespace).
#
# A mount namespace some other process creates meanwhile (systemd, nspawn,
# another test's unshare) copies the host's mounts; a copied ext4 mount keeps
# the superblock, and kmmpd's heartbeat, alive after our umount, and mmpd
# then rightly says the kernel still uses the volume.  Seen in
# tests/handoff/cycles.sh: one volume of ten stuck in_use after a umount.
# The copy we get here would do the same to other tests' mounts, so the
# loop-device mounts and those under /tmp/ we inherited are dropped (in our
# namespace only: propagation is private).
if [ -z "${HANDOFF_PRIVATE_NS:-}" ]; then
        require_cmd unshare findmnt
        HANDOFF_PRIVATE_NS=1 exec unshare --mount --propagation private -- "$BASH" "$0" "$@"
fi
findmnt -rn -o TARGET,SOURCE | sort -r | while read -r _tgt _src; do
        _tgt=$(printf '%b' "$_tgt")
        case "$_src:$_tgt" in
        /dev/loop*|*:/tmp/?*) umount -l "$_tgt" 2>/dev/null ;;
        esac
done

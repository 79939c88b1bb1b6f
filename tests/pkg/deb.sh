#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The Debian packages (tools/build-deb.sh, in DEB_DIR, default _build-deb/)
# on a system where mmpd was never installed: systemd as PID 1 in
# systemd-nspawn, on an overlay of the host's / (a tmpfs takes every write,
# so the host stays untouched).  apt installs the .debs; then the README's
# steps against the installed binaries and units: the units are enabled
# (templates not), mmpd runs, `systemctl start mmpd@...` holds a loop-backed
# volume, `mmpctl status` shows it held, a peer (a second mmpd, node-b) and
# the kernel are refused, stop releases it (CLEAN); a rogue write makes the
# volume LOST and `journalctl -x` shows the catalog text of that message;
# `man` renders the pages; bash completes mmpctl; purge removes it all.
# Needs root, nspawn and the build directory (mmp-edit, the rogue writer).
# Run: top_srcdir=. top_builddir=_build tests/pkg/deb.sh  (TAP)
. "$top_srcdir/tests/lib/tap.sh"
require_root
require_cmd systemd-nspawn nsenter systemd-escape losetup mkfs.ext4 mountpoint
. "$top_srcdir/tests/lib/mmpd.sh"

deb_dir=${DEB_DIR:-$top_srcdir/_build-deb}
debs=$(ls "$deb_dir"/mmpd_*.deb "$deb_dir"/libmmp*.deb "$deb_dir"/mmpd-resource-agents_*.deb 2>/dev/null | grep -v -- -dbgsym_)
[ "$(echo "$debs" | grep -c .)" -ge 4 ] ||
        bail_out "no packages in $deb_dir: run tools/build-deb.sh first (found: $debs)"
! dpkg-query -W -f='${Status}' mmpd 2>/dev/null | grep -q 'ok installed' ||
        bail_out "mmpd is installed on this host: the container would start with it"
[ -x "$MMP_EDIT" ] || bail_out "no $MMP_EDIT: build the tree first (make check builds it)"

leader=""
_deb_cleanup() {
        [ -n "$leader" ] && kill -KILL "$leader" 2>/dev/null
        [ -n "${nspawn_pid:-}" ] && wait "$nspawn_pid" 2>/dev/null
        # Never let rm -rf "$T" walk into the overlay (or the host below it).
        if mountpoint -q "$T/root"; then
                umount "$T/root" 2>/dev/null || umount -l "$T/root" || KEEP_TEST_DIR=1
        fi
        if mountpoint -q "$T/ov"; then umount "$T/ov" 2>/dev/null || umount -l "$T/ov" || KEEP_TEST_DIR=1; fi
        _mmpd_cleanup
}
trap _deb_cleanup EXIT

# c CMD...: run CMD in the container (60 s at most).
c() { timeout 60 nsenter -t "$leader" -m -u -i -n -p -- "$@"; }

img=$(mkimg pkg 1)
dev=$(loop_attach "$img")       # this node's view
peer=$(loop_attach "$img")      # node-b's (and the rogue writer's) view
unit=$(systemd-escape --path --template=mmpd@.service "$dev")

# The container's root: an overlay of the host's / (its root file system,
# without the mounts on it) with a tmpfs taking every write.  nspawn's own
# --volatile=overlay refuses the host's / itself.
mkdir -p "$T/ov" "$T/root"
mount -t tmpfs -o size=1g mmpd-pkg "$T/ov" && mkdir "$T/ov/up" "$T/ov/work" &&
        mount -t overlay -o lowerdir=/,upperdir="$T/ov/up",workdir="$T/ov/work" mmpd-pkg "$T/root" ||
        bail_out "cannot mount an overlay of / on $T/root"
# A fresh Debian system: its own host name (systemd sets it from
# /etc/hostname), and no policy-rc.d (container images ship one that stops
# maintainer scripts from starting or stopping services).
echo node-a >"$T/root/etc/hostname"
rm -f "$T/root/usr/sbin/policy-rc.d"

# Boot to basic.target: mmpd.socket is part of it; the host's own services
# (whatever multi-user.target wants on this machine) stay off.
systemd-nspawn --register=no --keep-unit -q -b -D "$T/root" \
        --machine="mmpdpkg-$$" --hostname=node-a \
        --bind="$dev" --bind="$peer" --bind-ro="$deb_dir:/debs" \
        -- systemd.unit=basic.target systemd.firstboot=off >"$T/console" 2>&1 </dev/null &
nspawn_pid=$!
for _ in $(seq 100); do
        leader=$(pgrep -P "$nspawn_pid" -x systemd | head -1)
        [ -n "$leader" ] && break
        sleep 0.1
done
[ -n "$leader" ] || bail_out "the container did not start: $(tail -5 "$T/console")"
for _ in $(seq 300); do
        case $(c systemctl is-system-running 2>/dev/null) in running|degraded) break ;; esac
        sleep 0.1
done
state=$(c systemctl is-system-running --wait 2>&1)
case $state in running|degraded) ok "container booted, systemd as PID 1 ($state)" ;;
        *) not_ok "container booted" "$state" "$(tail -20 "$T/console")" ;; esac
c test ! -e /usr/sbin/mmpd && ok "no mmpd in the fresh container" || not_ok "no mmpd in the fresh container"

# --- install ---------------------------------------------------------------
names=$(for d in $debs; do echo "/debs/$(basename "$d")"; done)
# shellcheck disable=SC2086
if out=$(c env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $names 2>&1); then
        ok "apt-get install $(echo $names | xargs -n1 basename | tr '\n' ' ')"
else
        not_ok "apt-get install the packages" "$out"
fi
for f in /usr/sbin/mmpd /usr/bin/mmpctl /lib/systemd/system/mmpd.service /lib/systemd/system/mmpd@.service \
         /usr/lib/systemd/catalog/mmpd.catalog /usr/include/libmmp.h /usr/lib/ocf/resource.d/mmpd/mmpfs; do
        c test -e "$f" && ok "installed: $f" || not_ok "installed: $f"
done
check "libmmp: pkg-config --libs libmmp" c pkg-config --exists libmmp
is "$(c systemctl is-enabled mmpd.socket mmpd.service | tr '\n' ' ')" "enabled enabled " \
        "mmpd.socket and mmpd.service are enabled"
is "$(c sh -c 'ls /etc/systemd/system/*/mmpd@* /etc/systemd/system/*/mmpd-mount@* 2>/dev/null | wc -l')" 0 \
        "the templates mmpd@ and mmpd-mount@ are not enabled"
is "$(c systemctl is-active mmpd.service)" active "the postinst started mmpd.service"
check "the catalog is in journald's database (dpkg trigger)" \
        sh -c "nsenter -t $leader -m -u -i -n -p -- journalctl --list-catalog | grep -q '^9ee7393ed90a4e20b799a8bc36776d8e '"

# --- the README's steps with the installed units -----------------------------
t0=$(now_ms)
if c systemctl start "$unit"; then
        ok "systemctl start $unit ($(( ($(now_ms) - t0) / 1000 )) s)"
else
        not_ok "systemctl start $unit" "$(c journalctl -b --no-pager | tail -20)"
fi
out=$(c mmpctl status "$dev" 2>&1)
case $out in *held*node-a*) ok "mmpctl status: held by node-a" ;; *) not_ok "mmpctl status: held by node-a" "$out" ;; esac

# node-b: a second mmpd (the installed binary) on its own socket, asked to
# claim the same disk through the other loop device.
c sh -c "printf '[mmpd]\nnode_name = node-b\nsocket = /run/peer.sock\n' >/run/peer.conf"
check "start node-b's mmpd" c systemd-run --unit=mmpd-peer --property=Type=notify /usr/sbin/mmpd --config /run/peer.conf
out=$(c mmpctl --socket /run/peer.sock claim "$peer" 2>&1); rc=$?
is "$rc" 1 "node-b: mmpctl claim is refused (exit 1)"
case $out in *node-a*) ok "the refusal names node-a" ;; *) not_ok "the refusal names node-a" "$out" ;; esac
mkdir -p "$T/mnt"
if mount "$peer" "$T/mnt" 2>/dev/null; then umount "$T/mnt"; not_ok "the kernel refuses to mount it"
else ok "the kernel refuses to mount it (MMP active)"; fi

check "systemctl stop $unit" c systemctl stop "$unit"
case $(c mmpctl dump "$dev" | grep '^sequence') in *clean*) ok "stop released the volume (CLEAN)" ;;
        *) not_ok "stop released the volume (CLEAN)" "$(c mmpctl dump "$dev")" ;; esac

# --- LOST: the catalog text under journalctl -x ------------------------------
check "systemctl start $unit again" c systemctl start "$unit"
c systemctl stop mmpd-peer.service
"$MMP_EDIT" "$peer" node=rogue seq=4242 >/dev/null 2>&1 || not_ok "rogue write" "mmp-edit failed"
for _ in $(seq 150); do
        [ "$(c systemctl show -p ActiveState --value "$unit")" = failed ] && break
        sleep 0.1
done
is "$(c systemctl show -p ActiveState --value "$unit")" failed "a rogue write fails $unit"
vol=$(c journalctl -b -o export MESSAGE_ID=9ee7393ed90a4e20b799a8bc36776d8e | sed -n 's/^MMPD_VOLUME=//p' | head -1)
out=$(c journalctl -b -x --no-pager MESSAGE_ID=9ee7393ed90a4e20b799a8bc36776d8e 2>&1)
case $out in
*"Subject: mmpd lost volume $vol ($dev) and is fencing it"*"What to do:"*)
        ok "journalctl -x explains the LOST message (catalog, volume '$vol')" ;;
*) not_ok "journalctl -x explains the LOST message" "$out" ;;
esac
# The fence finishes after the unit has failed (its stages take up to the
# volume's fence budget), so wait for its outcome line.
for _ in $(seq 300); do
        out=$(c journalctl -b -x --no-pager MESSAGE_ID=9ad9e9bd62cd4151b76793c4af738f77 2>&1)
        case $out in *"Subject: mmpd fence of"*) break ;; esac
        sleep 0.1
done
case $out in *"Subject: mmpd fence of $vol finished"*) ok "journalctl -x explains the fence outcome" ;;
        *) not_ok "journalctl -x explains the fence outcome" "$out" ;; esac

# --- man pages and completion (what the package ships) ----------------------
for page in $(cd "$top_srcdir" && ls man/*.[1-8] 2>/dev/null) ocf_mmpd_mmpfs.7; do
        [ "$page" = ocf_mmpd_mmpfs.7 ] && [ ! -e "$top_srcdir/man/ocf-meta2man.py" ] && continue
        p=$(basename "$page"); name=${p%.*}; sec=${p##*.}
        out=$(c env MANWIDTH=80 man -P cat "$sec" "$name" 2>&1)
        case $out in *NAME*"$name"*) ok "man $sec $name renders" ;; *) not_ok "man $sec $name renders" "$out" ;; esac
done
if [ -e "$top_srcdir/completion/mmpctl" ]; then
        check "the bash completion is installed" c test -e /usr/share/bash-completion/completions/mmpctl
        out=$(c bash -c '. /usr/share/bash-completion/bash_completion 2>/dev/null
                . /usr/share/bash-completion/completions/mmpctl
                COMP_WORDS=(mmpctl st); COMP_CWORD=1; COMP_LINE="mmpctl st"; COMP_POINT=${#COMP_LINE}
                f=$(complete -p mmpctl | sed -E "s/.*-F ([^ ]+).*/\1/")
                "$f" mmpctl st mmpctl; printf "%s\n" "${COMPREPLY[@]}"' 2>&1)
        case $out in *status*) ok "bash completes 'mmpctl st' to status" ;;
                *) not_ok "bash completes 'mmpctl st' to status" "$out" ;; esac
fi

# --- purge -----------------------------------------------------------------
check "apt-get purge" c env DEBIAN_FRONTEND=noninteractive apt-get purge -y mmpd-resource-agents mmpd libmmp-dev libmmp0
c test ! -e /usr/sbin/mmpd && c test ! -e /lib/systemd/system/mmpd.service && ok "purge removed mmpd and its units" ||
        not_ok "purge removed mmpd and its units"
is "$(c systemctl is-active mmpd.service)" inactive "mmpd.service is stopped after purge"
done_testing

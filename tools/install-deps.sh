#!/bin/sh
# Install the Debian 12 packages mmpd needs to build and to run its tests.
# Idempotent: does nothing when everything is present (apt-get update at most once).
set -eu

PKGS="autoconf automake libtool pkg-config make gcc
      libext2fs-dev libsystemd-dev libinih-dev libev-dev libaio-dev libjansson-dev
      libcmocka-dev libfuse3-dev libmount-dev
      e2fsprogs fuse2fs util-linux mount fuse3 kmod procps psmisc valgrind python3 jq
      systemd systemd-container resource-agents
      corosync pacemaker pacemaker-cli-utils crmsh iproute2 iputils-ping
      mandoc bash-completion python3-prometheus-client
      debhelper dpkg-dev lintian man-db"
# make bench's peer (tests/bench/peers.sh)
PKGS="$PKGS sanlock"

missing=""
for p in $PKGS; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
        echo "install-deps: missing packages:$missing (run as root to install them)" >&2
        exit 1
fi
echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
# tests/ha boots this OS in nspawn containers and starts the cluster stack in
# them by hand (tests/systemd/nspawn.sh presets them off there): the host
# itself is no cluster node either.
systemctl disable corosync.service pacemaker.service logd.service >/dev/null 2>&1 || true
# make bench runs its own sanlock daemon on a private run directory: the
# packaged services (sanlock, and wdmd on the watchdog) are not for this host.
case " $missing " in *" sanlock "*)
        systemctl disable --now sanlock.service wdmd.service >/dev/null 2>&1 || true ;;
esac

#!/bin/bash
# mmpd refuses volumes others hold (the kernel, an fsck), refuses non-MMP
# filesystems with a clear message, and releases cleanly: afterwards
# e2mmpstatus says clean and the kernel mounts the volume.
. "$top_srcdir/tests/lib/tap.sh"
require_root
require_cmd e2mmpstatus debugfs losetup mount
. "$top_srcdir/tests/lib/mmpd.sh"

# 1. kernel-mounted on another "node" (loop device): refused, naming it
k_img=$(mkimg kernel 1); k_dev=$(loop_attach "$k_img"); k_ours=$(loop_attach "$k_img")
mkdir -p "$T/kmnt"; mount "$k_dev" "$T/kmnt" && track_mount "$T/kmnt" || bail_out "kernel mount failed"

# 2. an fsck holds it (seq FSCK, as e2fsck leaves it)
f_img=$(mkimg fsck 1); "$MMP_EDIT" "$f_img" seq=fsck node=fsckhost >/dev/null
f_dev=$(loop_attach "$f_img")

# 3. no mmp feature
n_img="$T/nommp.img"; truncate -s 32M "$n_img"; mkfs.ext4 -q -F "$n_img"; n_dev=$(loop_attach "$n_img")

# 4. one we will hold and release
r_img=$(mkimg rel 1); r_dev=$(loop_attach "$r_img")

start_mmpd A node-a "kvol=$k_ours" "fvol=$f_dev" "nvol=$n_dev" "rvol=$r_dev"

wait_log A "volume kvol .*claim refused" 40 && ok "kernel-held volume refused" || not_ok "kernel-held volume refused"
line=$(grep "volume kvol" "$T/A.log" | grep refused)
case "$line" in *"node '$(uname -n)', device '$(basename "$k_dev")'"*) ok "refusal names the kernel's node and device";;
        *) not_ok "refusal names the kernel's node and device" "$line";; esac
mountpoint -q "$T/kmnt" && touch "$T/kmnt/still-writable" && ok "kernel mount untouched" || not_ok "kernel mount untouched"

wait_log A "volume fvol .*claim refused" 10 && ok "fsck-held volume refused" || not_ok "fsck-held volume refused"
grep "volume fvol" "$T/A.log" | grep -q "tune2fs -f -E clear_mmp" && ok "refusal gives the clear_mmp hint" || not_ok "clear_mmp hint" "$(grep fvol "$T/A.log")"
is "$(mmp_field "$f_dev" sequence)" e24d4d50 "fsck seq left untouched"

wait_log A "volume nvol .*tune2fs -O mmp" 10 && ok "non-MMP filesystem: message says how to enable mmp" || not_ok "non-MMP message"

wait_log A "volume rvol .*claimed" 40 && ok "free volume claimed" || not_ok "free volume claimed"
stop_mmpd A TERM
grep -q "volume rvol .*released (MMP block marked clean)" "$T/A.log" && ok "SIGTERM released it" || not_ok "SIGTERM released it"
out=$(e2mmpstatus "$r_dev" 2>&1); rc=$?
is "$rc" 0 "e2mmpstatus exits 0 after release"
case "$out" in *"MMP is clean"*) ok "e2mmpstatus: MMP is clean";; *) not_ok "MMP is clean" "$out";; esac
mkdir -p "$T/rmnt"
if mount "$r_dev" "$T/rmnt"; then track_mount "$T/rmnt"; ok "kernel mounts the released volume"; umount "$T/rmnt"; else not_ok "kernel mounts the released volume"; fi
is "$(mmp_field "$k_dev" node_name)" "$(uname -n)" "kernel still holds its volume"
done_testing

# SPDX-License-Identifier: LGPL-2.1-or-later
# Images for the ondisk scripts, made by mkfs.ext4 at test time.  Source
# after tests/lib/tap.sh.
#
# VARIANTS: {no metadata_csum, metadata_csum, metadata_csum + csum_seed} x
# {1 KiB, 4 KiB blocks}, named FEATURESET-BLOCKSIZE.

VARIANTS="nocsum-1024 nocsum-4096 csum-1024 csum-4096 seed-1024 seed-4096"

# features_of VARIANT: the mkfs.ext4 -O list for a variant.
features_of() {
        case $1 in
        nocsum-*) echo "mmp,^metadata_csum,^metadata_csum_seed" ;;
        csum-*)   echo "mmp,metadata_csum,^metadata_csum_seed" ;;
        seed-*)   echo "mmp,metadata_csum,metadata_csum_seed" ;;
        esac
}

# mkimg FILE FEATURES BLOCKSIZE [UPDATE_INTERVAL [SIZE]]: a fresh filesystem
# in FILE (default update interval 1, size 16M); bails out if mkfs fails.
mkimg() {
        rm -f "$1"
        truncate -s "${5:-16M}" "$1"
        _mk=$(mkfs.ext4 -q -F -O "$2" -E "mmp_update_interval=${4:-1}" -b "$3" "$1" 2>&1) ||
                bail_out "mkfs.ext4 -O $2 -b $3 $1 failed: $_mk"
}

# mmp_block_of IMG: s_mmp_block, from dumpe2fs (not from the code under test).
mmp_block_of() {
        dumpe2fs -h "$1" 2>/dev/null | sed -n 's/^MMP block number: *//p'
}

#!/bin/bash
# bash completion of mmpctl (completion/mmpctl), driven as bash drives it
# (COMP_WORDS, COMP_CWORD, COMP_LINE, COMP_POINT, then the function) against
# a real mmpd on loop devices: vol1 held and mounted through mmpctl mount,
# vol2 held, vol3 lost (a rogue write).  Commands are the table of
# mmpctl/mmpctl.c; volumes come from `mmpctl status --json` (and from the
# table when jq is missing), filtered by what each command accepts.
. "$top_srcdir/tests/lib/tap.sh"
require_root
require_cmd losetup mkfs.ext4 mount jq
. "$top_srcdir/tests/lib/mmpd.sh"

img1=$(mkimg c1 1); d1=$(loop_attach "$img1")
img2=$(mkimg c2 1); d2=$(loop_attach "$img2")
img3=$(mkimg c3 1); d3=$(loop_attach "$img3"); peer3=$(loop_attach "$img3")
start_mmpd A node-a "vol1=$d1" "vol2=$d2" "vol3=$d3"
export MMPD_SOCKET=$(mmpd_sock A)
export PATH="$top_builddir/mmpctl:$PATH"

held() { mmpctl status --json 2>/dev/null | jq -r '[.volumes[] | select(.state == "held")] | length'; }
for i in $(seq 1 600); do [ "$(held)" = 3 ] && break; sleep 0.1; done
is "$(held)" 3 "mmpd holds three volumes" || bail_out "no claims: $(tail -5 "$T/A.log")"
"$MMP_EDIT" "$peer3" seq=4242 node=intruder dev=sdz >/dev/null || bail_out "rogue write failed"
lost() { mmpctl status --json | jq -r '.volumes[] | select(.name == "vol3") | .state'; }
for i in $(seq 1 150); do [ "$(lost)" = lost ] && break; sleep 0.1; done
is "$(lost)" lost "vol3 is lost after a rogue write"
mkdir -p "$T/mnt"
if mmpctl mount "$d1" "$T/mnt" >"$T/mount.out" 2>&1; then
        track_mount "$T/mnt"; ok "vol1 mounted with mmpctl mount"
else
        not_ok "vol1 mounted with mmpctl mount" "$(cat "$T/mount.out")"
fi

# comp WORD... : the candidates for the last word, sorted, one a line.
comp() {
        COMP_WORDS=("$@")
        COMP_CWORD=$(($# - 1))
        COMP_LINE="$*"
        COMP_POINT=${#COMP_LINE}
        COMPREPLY=()
        _mmpctl mmpctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
        [ ${#COMPREPLY[@]} -eq 0 ] || printf '%s\n' "${COMPREPLY[@]}" | sort
}
lines() { printf '%s\n' "$@" | sort; }

run_cases() {   # $1: label
        local l=$1 table
        table=$(sed -n 's/^[[:space:]]*{ "\([a-z]*\)", mmpctl_cmd_[a-z]*,.*/\1/p' "$top_srcdir/mmpctl/mmpctl.c" | sort)
        [ -n "$table" ] || not_ok "$l: command table read"
        is "$(comp mmpctl '')" "$table" "$l: every command of mmpctl.c"
        is "$(comp mmpctl u)" "umount" "$l: 'u' -> umount"
        is "$(comp mmpctl --json st)" "status" "$l: command after a global option"
        is "$(comp mmpctl --)" "$(lines --help --json --socket --version)" "$l: global options"
        is "$(comp mmpctl check --)" "$(lines --help --quiet --socket)" "$l: check's options"
        is "$(comp mmpctl mount --mode '')" "$(lines fast wait)" "$l: mount --mode"
        is "$(comp mmpctl status '')" "$(lines "$d1" "$d2" "$d3" vol1 vol2 vol3)" \
                "$l: status: every volume mmpd knows (devices and names)"
        is "$(comp mmpctl release vol)" "$(lines vol1 vol2 vol3)" "$l: release: names by prefix"
        is "$(comp mmpctl exec '')" "$(lines "$d1" "$d2" vol1 vol2)" \
                "$l: exec: held volumes only (not the lost one)"
        is "$(comp mmpctl exec vol2 '')" "--" "$l: exec DEVICE: then --"
        is "$(comp mmpctl mount -o noatime '')" "$(lines "$d1" "$d2" vol1 vol2)" \
                "$l: mount: held volumes, after an option's argument"
        is "$(comp mmpctl umount '')" "$(lines "$d1" "$T/mnt")" \
                "$l: umount: the mounted volume's device and mount point"
        is "$(MMPD_SOCKET=$T/none comp mmpctl --socket "$MMPD_SOCKET" check '')" \
                "$(lines "$d1" "$d2" "$d3" vol1 vol2 vol3)" "$l: --socket on the line is used"
        is "$(MMPD_SOCKET=$T/none comp mmpctl check '')" "" "$l: no mmpd: no candidates, no error"
}

# shellcheck source=/dev/null
. "$top_srcdir/completion/mmpctl"
run_cases "plain bash"
if [ -r /usr/share/bash-completion/bash_completion ]; then
        # shellcheck source=/dev/null
        . /usr/share/bash-completion/bash_completion
        . "$top_srcdir/completion/mmpctl"
        declare -F _init_completion >/dev/null && ok "bash-completion loaded" || not_ok "bash-completion loaded"
        run_cases "bash-completion"
elif [ "${CI:-}" = true ]; then
        not_ok "bash-completion installed" "no /usr/share/bash-completion/bash_completion"
else
        skip "with bash-completion" "not installed"
fi

# without jq: the status table
mkdir -p "$T/bin"
for c in mmpctl awk sort; do ln -s "$(command -v $c)" "$T/bin/$c"; done
PATH=$T/bin
is "$(comp mmpctl status '')" "$(lines "$d1" "$d2" "$d3" vol1 vol2 vol3)" "no jq: status: every volume"
is "$(comp mmpctl exec '')" "$(lines "$d1" "$d2" vol1 vol2)" "no jq: exec: held volumes only"
is "$(comp mmpctl umount '')" "$(lines "$d1" "$T/mnt")" "no jq: umount: device and mount point"
PATH="$top_builddir/mmpctl:/usr/sbin:/usr/bin:/sbin:/bin"

mmpctl umount "$T/mnt" >/dev/null 2>&1 && ok "vol1 unmounted" || not_ok "vol1 unmounted"
done_testing

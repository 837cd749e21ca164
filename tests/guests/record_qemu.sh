#!/bin/sh
# Re-record the reference output of the test guests under QEMU.
#
#   tests/guests/record_qemu.sh BUILD_DIR/tests/guests [name...]
#
# For each guest: runs the kernel (<name>.elf, or <name>.bin) with
#   qemu-system-i386 -kernel K -serial stdio -display none -monitor none \
#     -device isa-debug-exit,iobase=0xf4,iosize=0x04 -no-reboot <args>
# where <args> is the content of <name>.args (shell words); a guest with a
# <name>.qemu file runs under the QEMU that file names instead (one word,
# e.g. qemu-system-x86_64 for the 64-bit guests).  It writes
#   <name>.expected  the exact bytes QEMU wrote to stdout (= COM1)
#   <name>.status    QEMU's exit status in decimal
# next to this script.  A guest with a <name>.debugcon file is run a second
# time with -debugcon file:... and that file is rewritten as well.
# Each guest is run twice; differing output is an error.
# Variants <name>.<variant>.* (hand-written from the SDM where QEMU deviates)
# are never recorded.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
kdir=${1:?usage: record_qemu.sh KERNEL_DIR [name...]}
shift
[ $# -gt 0 ] || set -- asm_sieve aout_kludge c_protected paging strings_bcd \
    suite_segmentation suite_gates suite_tasks suite_iopl \
    suite_exceptions suite_paging suite_interrupts long_mode
default_qemu=${QEMU:-qemu-system-i386}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

run() { # kernel, args file, stdout file, extra args...
    k=$1; a=$2; o=$3; shift 3
    eval "set -- \"\$@\" $(cat "$a")"
    set +e
    timeout 30 "$qemu" -kernel "$k" -serial stdio -display none -monitor none \
        -device isa-debug-exit,iobase=0xf4,iosize=0x04 -no-reboot "$@" \
        </dev/null >"$o" 2>"$tmp/stderr"
    rc=$?
    set -e
    echo "$rc"
}

for n in "$@"; do
    case $n in
    *.*) echo "$n: a variant is written by hand, not recorded" >&2; exit 1 ;;
    esac
    k=$kdir/$n.elf
    [ -f "$k" ] || k=$kdir/$n.bin
    [ -f "$k" ] || { echo "$n: no kernel in $kdir" >&2; exit 1; }
    qemu=$default_qemu
    if [ -f "$here/$n.qemu" ]; then
        qemu=$(cat "$here/$n.qemu")
    fi
    args=$here/$n.args
    [ -f "$args" ] || : >"$args"
    rc1=$(run "$k" "$args" "$tmp/out1")
    rc2=$(run "$k" "$args" "$tmp/out2")
    if [ "$rc1" != "$rc2" ] || ! cmp -s "$tmp/out1" "$tmp/out2"; then
        echo "$n: QEMU output is not reproducible" >&2
        exit 1
    fi
    if [ -s "$tmp/stderr" ]; then
        echo "$n: qemu stderr:" >&2
        cat "$tmp/stderr" >&2
    fi
    cp "$tmp/out1" "$here/$n.expected"
    echo "$rc1" >"$here/$n.status"
    if [ -f "$here/$n.debugcon" ]; then
        run "$k" "$args" "$tmp/out3" -debugcon "file:$tmp/debugcon" >/dev/null
        cp "$tmp/debugcon" "$here/$n.debugcon"
    fi
    echo "$n: $qemu, status $rc1, $(wc -c <"$here/$n.expected") bytes"
done

#!/bin/sh
# Re-record this sample's expectations with QEMU running rom.bin as firmware
# (with -bios, QEMU loads no SeaBIOS: the CPU starts in our reset vector).
#
#   samples/rom/record_qemu.sh [BUILD_DIR]      (default: build)
#
# Writes next to this script:
#   expected.txt       the bytes written to COM1 (QEMU's stdout)
#   expected.debugcon  the bytes written to port 0xE9
#   expected.status    QEMU's exit status, (code << 1) | 1, in decimal
#   expected.post      the values written to port 0x80, in order, one
#                      upper-case hex byte per line (from QEMU's
#                      memory_region_ops_write trace of region 'ioport80')
# The ROM is run twice; differing results are an error.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
rom=${1:-build}/samples/rom.bin
qemu=${QEMU:-qemu-system-i386}
[ -f "$rom" ] || { echo "no $rom: build the vtlab_guests target first" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for run in 1 2; do
    d=$tmp/$run
    mkdir "$d"
    set +e
    timeout 30 "$qemu" -bios "$rom" -serial stdio -display none -monitor none \
        -device isa-debug-exit,iobase=0xf4,iosize=0x04 -no-reboot \
        -debugcon "file:$d/debugcon" \
        -d trace:memory_region_ops_write -D "$d/trace" </dev/null >"$d/serial"
    echo $? >"$d/status"
    set -e
    sed -n "s/.* value 0x\([0-9a-f]*\) size 1 name 'ioport80'.*/\1/p" "$d/trace" |
        while read -r v; do printf '%02X\n' "0x$v"; done >"$d/post"
done
for f in serial debugcon status post; do
    cmp -s "$tmp/1/$f" "$tmp/2/$f" || { echo "$f differs between two runs" >&2; exit 1; }
done
cp "$tmp/1/serial" "$here/expected.txt"
cp "$tmp/1/debugcon" "$here/expected.debugcon"
cp "$tmp/1/status" "$here/expected.status"
cp "$tmp/1/post" "$here/expected.post"
echo "recorded: status $(cat "$here/expected.status"), $(wc -l <"$here/expected.post") POST codes"

#!/bin/sh
# Re-record expected.txt: each bench workload at rounds=2 under QEMU (TCG,
# multiboot), its COM1 bytes in the order int, syscall, pagefault, and
# QEMU's exit status checked to be 1 (isa-debug-exit with 0).
#
#   samples/bench/record_qemu.sh [BUILD_DIR]      (default: build)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
elf=${1:-build}/samples/bench.elf
qemu=${QEMU:-qemu-system-i386}
[ -f "$elf" ] || { echo "no $elf: build the vtlab_guests target first" >&2; exit 1; }
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT

for w in int syscall pagefault; do
    set +e
    timeout 60 "$qemu" -accel tcg -kernel "$elf" -append "w=$w rounds=2" -serial stdio -display none \
        -monitor none -device isa-debug-exit,iobase=0xf4,iosize=0x04 -no-reboot </dev/null >>"$tmp"
    status=$?
    set -e
    [ "$status" -eq 1 ] || { echo "$w: QEMU exit status $status, expected 1" >&2; exit 1; }
done
cp "$tmp" "$here/expected.txt"

#!/bin/sh
# Lays out a bootable 1.44 MB floppy image for machines without a
# multiboot loader (Bochs): bootsect.S's layout, sector 0 the boot sector
# with the kernel's entry point patched in at offset 504, sector 1 the
# command line, sectors 2.. the kernel's loadable segments as one flat
# binary (they start at 1 MiB).
#
#   mkfloppy.sh BOOTSECT_ELF KERNEL_ELF OBJCOPY CMDLINE OUT_IMG
set -eu
boot_elf=$1 kernel_elf=$2 objcopy=$3 cmdline=$4 out=$5
max_kernel=$((127 * 512))   # bootsect.S loads 127 sectors after the command line

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$objcopy" -O binary "$boot_elf" "$tmp/boot.bin"
"$objcopy" -O binary "$kernel_elf" "$tmp/kernel.bin"
[ "$(wc -c <"$tmp/boot.bin")" -eq 512 ] || { echo "mkfloppy: boot sector is not 512 bytes" >&2; exit 1; }
size=$(wc -c <"$tmp/kernel.bin")
[ "$size" -le "$max_kernel" ] || { echo "mkfloppy: kernel is $size bytes, the boot sector loads $max_kernel" >&2; exit 1; }

# e_entry: bytes 24..27 of an ELF32 header, little-endian, copied as is.
dd if="$kernel_elf" of="$tmp/boot.bin" bs=1 skip=24 seek=504 count=4 conv=notrunc status=none
dd if=/dev/zero of="$out.tmp" bs=512 count=2880 status=none
dd if="$tmp/boot.bin" of="$out.tmp" conv=notrunc status=none
printf '%s\0' "$cmdline" | dd of="$out.tmp" bs=512 seek=1 conv=notrunc,sync status=none
dd if="$tmp/kernel.bin" of="$out.tmp" bs=512 seek=2 conv=notrunc status=none
mv "$out.tmp" "$out"

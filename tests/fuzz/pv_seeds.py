#!/usr/bin/env python3
"""Writes the fuzz_pv seed corpus (tests/fuzz/corpus/pv/): hand-made
scripts in the layout of tests/support/fuzz_pv.h, each aimed at one part
of the hypercall ABI (docs/HYPERCALLS.md) or the virtio queues.  Run it
again after changing the layout:  python3 tests/fuzz/pv_seeds.py"""
import os
import struct

BOOT, KERNEL, PAGED, USER = range(4)
EVENTS_ON, TIMER, MASKING, USER_INTS = 4, 8, 16, 32
DATA = 0x30000            # kPvData
PAGE_DIR = 0x20000        # kPvPageDir: PD, then the page tables of 0-4 MiB, ...
VIRTIO = 0xFEB00000       # slot 0: virtio-blk, slot 1: virtio-console (+0x200)
CONSOLE, TRAPS, MMU, EXT, KSTACK, DESC, SETTIMER, BLOCK, YIELD, SHUTDOWN, MULTI, SHARED = range(12)


class Script:
    """A script and the size of the code it builds, so handlers can be
    placed at a record's first byte."""

    def __init__(self):
        self.out = bytearray()
        self.code = 0
        self.data = 0

    def raw(self, code):
        for i in range(0, len(code), 128):
            part = code[i:i + 128]
            self.out += bytes([len(part) - 1]) + part
        self.code += len(code)
        return self

    def call(self, nr, ebx=0, ecx=0, edx=0, data_ptr=False):
        self.out += bytes([0x80 | nr | (0x20 if data_ptr else 0)]) + struct.pack('<III', ebx, ecx, edx)
        self.code += 22
        return self

    def call_regs(self, nr):  # the registers as the code left them
        self.out += bytes([0x90 | nr])
        self.code += 7
        return self

    def put(self, data):  # appended to the data area; returns its offset there
        at = self.data
        for i in range(0, len(data), 256):
            part = data[i:i + 256]
            self.out += bytes([0xC0, len(part) - 1]) + part
        self.data += len(data)
        return at

    def virtio(self, slot, reg, value, data_ptr=False):
        self.out += bytes([0xE0 | slot | (2 if data_ptr else 0)]) + struct.pack('<HI', reg, value)
        self.code += 10
        return self


def shutdown_code(code):  # MOV EAX, 9; MOV EBX, code; INT 0x82
    return b'\xB8\x09\x00\x00\x00\xBB' + struct.pack('<I', code) + b'\xCD\x82'


def seed(name, start, extras, handler, script):
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'corpus', 'pv', name)
    with open(path, 'wb') as f:
        f.write(bytes([start | extras]) + struct.pack('<H', handler) + bytes(script.out))


def main():
    os.makedirs(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'corpus', 'pv'), exist_ok=True)

    # Boot: the console, then shutdown; and a privileged instruction.
    s = Script()
    msg = s.put(b'pv fuzz: boot\n')
    s.call(CONSOLE, msg, 14, 0, data_ptr=True).call(SHUTDOWN, 0)
    seed('boot_console', BOOT, 0, 0, s)
    seed('boot_not_paravirtualized', BOOT, 0, 0, Script().raw(b'\x0F\x22\xD8'))  # MOV CR3, EAX

    # Every number once with plausible arguments, and some past the end.
    s = Script()
    traps = s.put(struct.pack('<BBHI', 0x30, 0, 0x09, 0x1000) + struct.pack('<BBHI', 0x31, 7, 0x09, 0x1000))
    pins = s.put(struct.pack('<IIII', 0, 0x40000, 2, 0x40000))  # pin and unpin a zeroed page
    s.call(CONSOLE, 0, 2000, 0, data_ptr=True).call(TRAPS, traps, 2, 0, data_ptr=True)
    s.call(TRAPS, traps, 257, 0, data_ptr=True).call(MMU, 0, 1, 0, data_ptr=True)
    s.call(EXT, pins, 2, 0, data_ptr=True).call(KSTACK, 0x11, 0x7F000).call(KSTACK, 0x10, 0)
    s.call(DESC, 5, 0x0000FFFF, 0x00CFFA00).call(DESC, 2, 0, 0).call(DESC, 6, 0x0000FFFF, 0x00CF9A00)
    s.call(SETTIMER, 1000, 0x40).call(SETTIMER, 999, 0x40).call(SETTIMER, 5000, 8).call(YIELD)
    s.call(SHARED, 0x2000).call(SHARED, 0xFFF000).call(SHARED, 0x2001).call(12).call(15).call(BLOCK)
    seed('kernel_every_hypercall', KERNEL, EVENTS_ON, 0, s)

    # Paged: remap a data page with mmu_update, flush, write the table
    # directly (a #PF into the handler), unpin a table in use, a 4 MiB PDE.
    s = Script()
    pte = PAGE_DIR + 0x1000 + 4 * ((DATA + 0x2000) >> 12)
    upd = s.put(struct.pack('<IIII', pte, (DATA + 0x3000) | 7, PAGE_DIR + 4 * 8, 0x00000087))
    ops = s.put(struct.pack('<IIIIIIII', 4, DATA + 0x2000, 5, 0, 2, PAGE_DIR + 0x1000, 2, PAGE_DIR))
    s.call(MMU, upd, 1, 0, data_ptr=True).call(EXT, ops, 4, 0, data_ptr=True).call(MMU, upd + 8, 1, 0, data_ptr=True)
    s.raw(b'\xC7\x05' + struct.pack('<II', PAGE_DIR + 0x1000, 0x12345007))  # MOV [PT], imm: read-only
    handler = s.code
    s.raw(b'\xA1' + struct.pack('<I', 0x26008))  # MOV EAX, [shared.cr2]
    s.raw(b'\x89\xC3').call_regs(SHUTDOWN)
    seed('paged_mmu_update', PAGED, EVENTS_ON, handler, s)

    # Multicall: descriptors, the timer, the console, yield, then the ones
    # refused inside a batch (block, a nested multicall).
    s = Script()
    text = s.put(b'multicall\n')
    entries = b''
    for op, args in [(DESC, (7, 0x0000FFFF, 0x00CFF200, 0, 0)), (SETTIMER, (2000, 0x21, 0, 0, 0)),
                     (CONSOLE, (DATA + text, 10, 0, 0, 0)), (YIELD, (0, 0, 0, 0, 0)), (BLOCK, (0, 0, 0, 0, 0)),
                     (MULTI, (DATA, 1, 0, 0, 0)), (99, (1, 2, 3, 4, 5))]:
        entries += struct.pack('<IIIIIIi', op, *args, 0x55)
    calls = s.put(entries)
    s.call(MULTI, calls, 7, 0, data_ptr=True).call(MULTI, calls, 33, 0, data_ptr=True)
    s.raw(b'\xEB\xFE')  # wait for the timer, events on
    handler = s.code
    s.raw(b'\xCF')  # IRET
    seed('paged_multicall_timer', PAGED, EVENTS_ON | TIMER, handler, s)

    # The timer with events off: pending set, then events on and yield;
    # then block.
    s = Script()
    s.raw(b'\xB9\x20\x03\x00\x00\xE2\xFE')  # MOV ECX, 800; LOOP $: the timer fires
    s.raw(b'\xC7\x05' + struct.pack('<II', 0x26000, 1)).call(YIELD).call(BLOCK)
    handler = s.code
    s.raw(shutdown_code(0x20))
    seed('kernel_timer_pending_yield', KERNEL, TIMER | MASKING, handler, s)

    # User: the fast trap, INT n from ring 3 (allowed and refused), faults,
    # the handler taking each and returning with IRET.
    s = Script()
    s.raw(b'\xCD\x80\xCC\xCD\x82\xCD\x30\x0F\x0B\xA1\x00\x00\xC0\xFF\xFA\xEE\xC7\x05'
          + struct.pack('<II', PAGE_DIR, 0))
    handler = s.code
    s.call(CONSOLE, s.put(b'event\n'), 6, 0, data_ptr=True).raw(b'\xCF')
    seed('user_events', USER, 0, handler, s)
    seed('user_every_int', USER, USER_INTS | EVENTS_ON | TIMER, handler, s)

    # virtio-blk: the handshake, a one-sector read into the data area, the
    # notify; the handler (the device's interrupt never comes: the 8259A is
    # not the pv guest's) is not reached.  Then the status byte is the exit.
    s = Script()
    desc, avail, used, hdr, buf, st = 0, 0x100, 0x200, 0x300, 0x400, 0x600
    area = bytearray(0x700)
    area[desc:desc + 48] = (struct.pack('<QIHH', DATA + hdr, 16, 1, 1) + struct.pack('<QIHH', DATA + buf, 512, 3, 2)
                            + struct.pack('<QIHH', DATA + st, 1, 2, 0))
    area[avail:avail + 6] = struct.pack('<HHH', 0, 1, 0)
    area[hdr:hdr + 16] = struct.pack('<IIQ', 0, 0, 0)
    area[st] = 0xFF
    s.put(bytes(area))
    for reg, value, ptr in [(0x70, 0, 0), (0x70, 3, 0), (0x24, 1, 0), (0x20, 1, 0), (0x24, 0, 0), (0x20, 0, 0),
                            (0x70, 11, 0), (0x30, 0, 0), (0x38, 4, 0), (0x80, desc, 1), (0x90, avail, 1),
                            (0xA0, used, 1), (0x44, 1, 0), (0x70, 15, 0), (0x50, 0, 0)]:
        s.virtio(0, reg, value, bool(ptr))
    s.raw(b'\x0F\xB6\x1D' + struct.pack('<I', DATA + st)).call_regs(SHUTDOWN)
    seed('paged_virtio_blk_read', PAGED, 0, 0, s)

    # virtio-console: the same handshake on queue 1 (transmit), one buffer.
    s = Script()
    area = bytearray(0x500)
    area[0:16] = struct.pack('<QIHH', DATA + 0x400, 12, 0, 0)
    area[0x100:0x106] = struct.pack('<HHH', 0, 1, 0)
    area[0x400:0x40C] = b'virtio-cons\n'
    s.put(bytes(area))
    for reg, value, ptr in [(0x70, 3, 0), (0x24, 1, 0), (0x20, 1, 0), (0x70, 11, 0), (0x30, 1, 0), (0x38, 2, 0),
                            (0x80, 0, 1), (0x90, 0x100, 1), (0xA0, 0x200, 1), (0x44, 1, 0), (0x70, 15, 0),
                            (0x50, 1, 0)]:
        s.virtio(1, reg, value, bool(ptr))
    s.call(SHUTDOWN, 1)
    seed('kernel_virtio_console', KERNEL, 0, 0, s)


if __name__ == '__main__':
    main()

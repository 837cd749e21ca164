#!/usr/bin/env python3
"""Prints a PNG's width, height, distinct colours and the share of pixels
that differ from the most common one (the background), for the GUI test
(tests/gui/*_test.cpp): an independent decode of what vtlab gui wrote.
8-bit RGBA, non-interlaced only (what vtlab writes)."""
import struct
import sys
import zlib
from collections import Counter


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else (b if pb <= pc else c)


def decode(data):
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, ihdr = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = ihdr
    if depth != 8 or colour != 6 or interlace:
        raise ValueError("not 8-bit RGBA")
    raw, stride, bpp = zlib.decompress(idat), width * 4, 4
    rows, prev, at = [], bytearray(stride), 0
    for _ in range(height):
        kind, line = raw[at], bytearray(raw[at + 1:at + 1 + stride])
        at += 1 + stride
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            line[i] = (line[i] + (0, a, b, (a + b) // 2, paeth(a, b, c))[kind]) & 0xFF
        rows.append(bytes(line))
        prev = line
    return width, height, rows


def main():
    width, height, rows = decode(open(sys.argv[1], "rb").read())
    colours = Counter()
    for row in rows:
        for x in range(0, len(row), 4):
            colours[row[x:x + 3]] += 1
    background = colours.most_common(1)[0][1]
    print(width, height, len(colours), round(100 * (1 - background / (width * height))))


main()

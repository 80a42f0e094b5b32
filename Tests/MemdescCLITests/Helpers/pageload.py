#!/usr/bin/env python3
"""A page-allocator load for the record acceptance test: writes and frees anonymous
memory in 4 KiB and 2 MiB pieces, then reads a file through the page cache and, with
WRITE_MIB, writes that many MiB of page cache to FILE.w and removes it again.
  pageload.py MIB FILE [WRITE_MIB]   (MIB of anonymous memory in all; FILE is read once)"""
import mmap, os, sys

mib = int(sys.argv[1])
total = mib << 20
# Half in 4 KiB mappings (order-0 pages), half in 2 MiB mappings (THP where enabled).
done = 0
while done < total // 2:
    m = mmap.mmap(-1, 4096)
    m[0] = 1
    m.close()
    done += 4096
page = b"x" * 4096
while done < total:
    m = mmap.mmap(-1, 2 << 20)
    for off in range(0, 2 << 20, 4096):
        m[off:off + 4096] = page
    m.close()
    done += 2 << 20
with open(sys.argv[2], "rb") as f:
    while f.read(1 << 20):
        pass
if len(sys.argv) > 3:
    chunk = b"y" * (1 << 20)
    with open(sys.argv[2] + ".w", "wb") as f:
        for _ in range(int(sys.argv[3])):
            f.write(chunk)
        f.flush()
        os.fsync(f.fileno())
    os.unlink(sys.argv[2] + ".w")

#!/usr/bin/env python3
"""Builds the Linux guest's initramfs: a cpio archive in the "newc" format (the kernel's
Documentation/driver-api/early-userspace/buffer-format.rst), gzip-compressed, with fixed
times and owners so that the same inputs give the same bytes.

    make-initramfs.py BUSYBOX INIT OUTPUT.gz [NAME=FILE ...]

Each NAME=FILE adds FILE as /checks/NAME (an executable); a NAME with a slash is the path
itself (lib/modules/virtio.ko=FILE), its directories made as needed.
"""
import gzip, sys

def entry(name, mode, data=b"", ino=[1]):
    ino[0] += 1
    header = "070701" + "".join("%08x" % v for v in (
        ino[0], mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name) + 1, 0))
    out = header.encode() + name.encode() + b"\0"
    out += b"\0" * (-len(out) % 4)
    out += data + b"\0" * (-len(data) % 4)
    return out

busybox, init, output = sys.argv[1:4]
extra = [arg.split("=", 1) for arg in sys.argv[4:]]
checks, made = [], {"bin", "dev", "proc", "sys"}
for name, path in extra:
    target = name if "/" in name else "checks/" + name
    parts = target.split("/")
    for k in range(1, len(parts)):
        d = "/".join(parts[:k])
        if d not in made:
            made.add(d)
            checks.append(entry(d, 0o040755))
    checks.append(entry(target, 0o100755, open(path, "rb").read()))
archive = b"".join([
    entry("bin", 0o040755), entry("dev", 0o040755), entry("proc", 0o040755), entry("sys", 0o040755),
    entry("dev/console", 0o020600),  # character device 5:1 set below
    entry("bin/busybox", 0o100755, open(busybox, "rb").read()),
    entry("bin/sh", 0o120777, b"busybox"),
    entry("init", 0o100755, open(init, "rb").read()),
] + checks + [
    entry("TRAILER!!!", 0),
])
# /dev/console needs its device numbers (rdevmajor 5, rdevminor 1): patch its header.
marker = b"dev/console\0"
i = archive.index(marker) - 110
head = archive[i:i + 110].decode()
fields = [head[6 + 8 * k: 14 + 8 * k] for k in range(13)]
fields[9], fields[10] = "%08x" % 5, "%08x" % 1
archive = archive[:i] + ("070701" + "".join(fields)).encode() + archive[i + 110:]
with open(output, "wb") as f:
    f.write(gzip.compress(archive, mtime=0))

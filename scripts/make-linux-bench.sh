#!/bin/sh
# Builds the Linux guest's bench initramfs, .cache/linux-guest/bench.gz: busybox and the
# /init of Fixtures/linux/bench-init (Benchmarks/run-linux.sh runs it). Run again, it does
# nothing unless a source is newer than the archive.
set -e
cd "$(dirname "$0")/.."
sh scripts/fetch-linux-guest.sh >/dev/null
out=.cache/linux-guest
if [ -s "$out/bench.gz" ] && [ -z "$(find Fixtures/linux/bench-init scripts/make-initramfs.py "$0" -newer "$out/bench.gz")" ]; then
    exit 0
fi
python3 scripts/make-initramfs.py "$out/busybox" Fixtures/linux/bench-init "$out/bench.gz"
echo "$out: bench.gz built"

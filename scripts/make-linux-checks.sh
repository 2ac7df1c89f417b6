#!/bin/sh
# Builds the Linux guest's checks initramfs, .cache/linux-guest/checks.gz: busybox, the
# /init of Fixtures/linux/checks-init, and the programs of Fixtures/linux/tests in /checks
# (static: gcc and glibc's libc.a for C, GNU as and ld for the 32-bit assembly). Run again,
# it does nothing unless a source is newer than the archive.
set -e
cd "$(dirname "$0")/.."
sh scripts/fetch-linux-guest.sh >/dev/null
out=.cache/linux-guest
src=Fixtures/linux/tests
if [ -s "$out/checks.gz" ] && [ -z "$(find Fixtures/linux/checks-init "$src" scripts/make-initramfs.py "$0" -newer "$out/checks.gz")" ]; then
    exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
gcc -static -O2 -pthread -o "$work/spin-usleep" "$src/spin-usleep.c"
as --32 -o "$work/syscall32.o" "$src/syscall32.S"
ld -m elf_i386 -static -o "$work/syscall32" "$work/syscall32.o"
python3 scripts/make-initramfs.py "$out/busybox" Fixtures/linux/checks-init "$out/checks.gz" \
    syscall32="$work/syscall32" spin-usleep="$work/spin-usleep"
echo "$out: checks.gz built"

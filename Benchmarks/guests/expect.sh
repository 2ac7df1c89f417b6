#!/bin/sh
# Regenerates bench.expected: for each small run of the benchmark guest (its command line),
# the report QEMU's TCG prints, which softvmm's must equal (Tests/MonitorTests/BenchmarkGuestTests).
#   qemu-system-x86_64 -accel tcg -cpu max -m 128M -kernel bench.bin -append "NAME COUNT" ...
set -e
cd "$(dirname "$0")"
command -v qemu-system-x86_64 >/dev/null || { echo "qemu-system-x86_64 is not installed"; exit 1; }
: > bench.expected
for run in "reg 1000" "sweep 2" "call 100" "movs 3" "stos 3" "io 1000" "mul 1000"; do
    status=0
    out=$(timeout 60 qemu-system-x86_64 -accel tcg -cpu max -m 128M -kernel bench.bin -append "$run" -serial stdio \
        -display none -monitor none -device isa-debug-exit,iobase=0xf4,iosize=4 -no-reboot < /dev/null) || status=$?
    [ "$status" -eq 1 ] || { echo "$run: QEMU exited with $status"; exit 1; }
    printf '%s\t%s\n' "$run" "$out" >> bench.expected
done
cat bench.expected

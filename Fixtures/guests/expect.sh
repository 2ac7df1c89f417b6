#!/bin/sh
# Regenerates each fixture guest's expected serial output (NAME.expected) and exit status
# (NAME.status) with QEMU's TCG, where qemu-system-x86_64 is installed:
#   qemu-system-x86_64 -accel tcg -cpu max -kernel NAME.bin -serial stdio -display none
#       -device isa-debug-exit,iobase=0xf4,iosize=4 -no-reboot
# The status is QEMU's: (code << 1) | 1 for an exit through port 0xf4.
set -e
cd "$(dirname "$0")"
command -v qemu-system-x86_64 >/dev/null || { echo "qemu-system-x86_64 is not installed"; exit 1; }
for image in */*.bin; do
    out="${image%.bin}.expected"
    status=0
    # NAME.input, if present, is what COM1 receives (QEMU's stdio backend reads it).
    input="${image%.bin}.input"
    [ -f "$input" ] || input=/dev/null
    # NAME.qemu-options, if present, adds QEMU options (the SMP guest's -smp 4).
    qemu_options=$(cat "${image%.bin}.qemu-options" 2>/dev/null || true)
    # shellcheck disable=SC2086
    timeout 60 qemu-system-x86_64 -accel tcg -cpu max -m 64M $qemu_options -kernel "$image" -serial stdio -display none \
        -monitor none -device isa-debug-exit,iobase=0xf4,iosize=4 -no-reboot < "$input" > "$out" || status=$?
    # Where QEMU is known to be wrong, NAME.qemu-fixes.sed turns its output into the SDM's
    # (each fix is explained there and listed in Fixtures/guests/README.md).
    fixes="${image%.bin}.qemu-fixes.sed"
    if [ -f "$fixes" ]; then sed -i -f "$fixes" "$out"; fi
    echo "$status" > "${image%.bin}.status"
    echo "$image: status $status, $(wc -c < "$out") bytes of serial output"
done

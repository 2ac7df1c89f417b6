#!/bin/sh
# The QEMU-compatible front end in `make test`: softvmm-system-x86_64 (a link to softvmm)
# boots a fixture guest with the options kvm-unit-tests' x86/run passes and exits as QEMU
# does; it answers the probes that runner makes (--help's first line, -device '?', a missing
# kernel, -smp beyond the machine's 64) in QEMU's words, and refuses what it does not know.
set -e
cd "$(dirname "$0")/.."
qemu=.build/release/softvmm-system-x86_64
[ -x "$qemu" ] || ln -sf softvmm "$qemu"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fail() { echo "front-end-check: $*" >&2; exit 1; }

# The runner's probes.
"$qemu" --help | head -1 | grep -q '^QEMU emulator version [0-9]*\.[0-9]*\.[0-9]*' || fail "--help's first line is not QEMU's"
"$qemu" -device '?' 2>&1 | grep -qF '"pc-testdev"' || fail "-device ? does not list pc-testdev"
status=0; "$qemu" -kernel _NO_FILE_4Uhere_ >"$out/o" 2>&1 || status=$?
[ "$status" = 1 ] && grep -q "could not load kernel '_NO_FILE_4Uhere_'" "$out/o" || fail "a missing kernel: status $status, $(cat "$out/o")"
status=0; "$qemu" -smp 65 -kernel Fixtures/guests/hello/hello.bin >"$out/o" 2>&1 || status=$?
[ "$status" = 1 ] && grep -q "Invalid SMP CPUs 65. The max CPUs supported by machine 'pc' is 64" "$out/o" || fail "-smp 65: $(cat "$out/o")"
status=0; "$qemu" -frobnicate -kernel Fixtures/guests/hello/hello.bin >"$out/o" 2>&1 || status=$?
[ "$status" = 1 ] && grep -q -- "-frobnicate: invalid option" "$out/o" || fail "an unknown option: status $status, $(cat "$out/o")"
status=0; "$qemu" -machine accel=kvm -kernel Fixtures/guests/hello/hello.bin >"$out/o" 2>&1 || status=$?
[ "$status" = 1 ] && grep -q -- "-accel kvm: not available" "$out/o" || fail "accel=kvm: status $status, $(cat "$out/o")"

# A guest, as x86/run starts one: its output and QEMU's exit status.
status=0
"$qemu" --no-reboot -nodefaults -global kvm-pit.lost_tick_policy=discard -device pc-testdev \
    -device isa-debug-exit,iobase=0xf4,iosize=0x4 -display none -serial stdio -machine accel=tcg \
    -kernel Fixtures/guests/hello/hello.bin -smp 1 -m 64 >"$out/hello" 2>"$out/err" || status=$?
cmp -s "$out/hello" Fixtures/guests/hello/hello.expected || fail "hello printed $(cat "$out/hello" "$out/err")"
[ "$status" = "$(cat Fixtures/guests/hello/hello.status)" ] || fail "hello: status $status, QEMU's is $(cat Fixtures/guests/hello/hello.status)"
# Four CPUs, as kvm-unit-tests' runner asks for them: the SMP fixture guest as under QEMU -smp 4.
status=0
"$qemu" -nodefaults -device isa-debug-exit,iobase=0xf4,iosize=0x4 -display none -serial stdio -machine accel=tcg \
    -kernel Fixtures/guests/smp/smp.bin -smp cpus=4 >"$out/smp" 2>"$out/err" || status=$?
cmp -s "$out/smp" Fixtures/guests/smp/smp.expected || fail "smp printed $(cat "$out/smp" "$out/err")"
[ "$status" = "$(cat Fixtures/guests/smp/smp.status)" ] || fail "smp: status $status, QEMU's is $(cat Fixtures/guests/smp/smp.status)"
# Virtio devices as QEMU spells them: a guest that does not look for them runs as before; a
# disk in another format, or one that is not there, is refused with the reason.
head -c 1048576 /dev/zero > "$out/disk.img"
status=0
"$qemu" -nodefaults -device isa-debug-exit,iobase=0xf4,iosize=0x4 -display none -serial stdio -machine accel=tcg \
    -device virtio-rng-pci -drive "file=$out/disk.img,format=raw,if=virtio" \
    -virtfs "local,path=$out,mount_tag=host,security_model=none,readonly=on" \
    -kernel Fixtures/guests/hello/hello.bin >"$out/hello2" 2>"$out/err" || status=$?
cmp -s "$out/hello2" Fixtures/guests/hello/hello.expected && [ "$status" = "$(cat Fixtures/guests/hello/hello.status)" ] ||
    fail "hello with -device virtio-rng-pci -drive -virtfs: status $status, $(cat "$out/hello2" "$out/err")"
"$qemu" -device '?' 2>&1 | grep -qF '"virtio-rng-pci"' || fail "-device ? does not list virtio-rng-pci"
status=0; "$qemu" -drive "file=$out/disk.img,format=qcow2" -kernel Fixtures/guests/hello/hello.bin >"$out/o" 2>&1 || status=$?
[ "$status" != 0 ] && grep -q "format qcow2: softvmm reads raw images only" "$out/o" || fail "-drive format=qcow2: status $status, $(cat "$out/o")"
status=0; "$qemu" -drive "file=$out/missing.img,format=raw" -kernel Fixtures/guests/hello/hello.bin >"$out/o" 2>&1 || status=$?
[ "$status" != 0 ] && grep -q "missing.img: cannot open the disk image" "$out/o" || fail "-drive of a missing file: status $status, $(cat "$out/o")"
status=0; "$qemu" -virtfs "local,path=$out,mount_tag=host,security_model=mapped-xattr" -kernel Fixtures/guests/hello/hello.bin >"$out/o" 2>&1 || status=$?
[ "$status" != 0 ] && grep -q "security_model=mapped-xattr" "$out/o" || fail "-virtfs security_model=mapped-xattr: status $status, $(cat "$out/o")"
status=0; "$qemu" -virtfs "local,path=$out/missing,mount_tag=host,security_model=none" -kernel Fixtures/guests/hello/hello.bin >"$out/o" 2>&1 || status=$?
[ "$status" != 0 ] && grep -q "cannot share $out/missing: No such file or directory" "$out/o" || fail "-virtfs of a missing directory: status $status, $(cat "$out/o")"
echo "front-end-check: probes answered as QEMU's; hello and smp (-smp cpus=4) through $qemu: QEMU's output and status; -device virtio-rng-pci, -drive and -virtfs taken, a qcow2 or missing disk, a mapped security model and a missing directory refused"

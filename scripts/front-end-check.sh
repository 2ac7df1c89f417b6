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
echo "front-end-check: probes answered as QEMU's; hello and smp (-smp cpus=4) through $qemu: QEMU's output and status"

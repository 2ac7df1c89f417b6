#!/bin/sh
# `softvmm exec -- COMMAND` beside QEMU's TCG running the same thing (issue 23): the same
# vmlinux, the same initramfs (the one exec builds, written by --record), the same two 9p
# shares (the host's root read-only as hostroot, this directory as hostcwd) and the same
# serial ports and debug exit, so that the guest does the same work under both:
#
#   Benchmarks/exec-vs-qemu.sh [ROUNDS] [-- COMMAND ...]        (default: 5 rounds of `true`)
#
# Each round runs softvmm, then QEMU; each prints its wall time, and the end the best of each
# and the median of the rounds' ratios. softvmm is .build/release/softvmm unless SOFTVMM names
# another; QEMU is qemu-system-x86_64 (accel=tcg).
set -e
cd "$(dirname "$0")/.."
rounds=${1:-5}
[ $# -gt 0 ] && shift
[ "$1" = "--" ] && shift
[ $# -gt 0 ] || set -- true
bin=${SOFTVMM:-.build/release/softvmm}
kit=.cache/linux-guest
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The initramfs exec makes for this command, environment and directory.
"$bin" exec --record "$tmp/once.trace" -- "$@" >/dev/null
initrd=$tmp/once.trace.initrd
now() { date +%s.%N; }
results=""
for r in $(seq "$rounds"); do
    t0=$(now)
    status=0; "$bin" exec -- "$@" >/dev/null 2>&1 || status=$?
    t1=$(now)
    qstatus=0
    qemu-system-x86_64 -machine accel=tcg -m 1G -nodefaults -display none -no-reboot \
        -kernel "$kit/vmlinux" -initrd "$initrd" -append "console=ttyS0 quiet panic=-1 rdinit=/init" \
        -serial "file:$tmp/console" -serial "file:$tmp/out" -serial "file:$tmp/err" \
        -device isa-debug-exit,iobase=0xf4,iosize=0x4 \
        -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on \
        -virtfs "local,path=$PWD,mount_tag=hostcwd,security_model=none" >/dev/null 2>&1 || qstatus=$?
    t2=$(now)
    # QEMU's status is the guest's (code << 1) | 1.
    [ "$qstatus" = $(( status * 2 + 1 )) ] || { cat "$tmp/console" >&2; echo "exec-vs-qemu: softvmm's status $status, QEMU's $qstatus" >&2; exit 1; }
    s=$(python3 -c "print($t1 - $t0)"); q=$(python3 -c "print($t2 - $t1)")
    printf 'round %s: softvmm %.2f s, QEMU TCG %.2f s, ratio %.2f\n' "$r" "$s" "$q" "$(python3 -c "print($s / $q)")"
    results="$results$s $q
"
done
printf '%s' "$results" | python3 -c '
import sys, statistics
rows = [tuple(map(float, l.split())) for l in sys.stdin if l.strip()]
s, q = min(r[0] for r in rows), min(r[1] for r in rows)
print("best: softvmm %.2f s, QEMU TCG %.2f s: %.2fx; median of the rounds ratios %.2fx" % (s, q, s / q, statistics.median(r[0] / r[1] for r in rows)))'

#!/bin/sh
# The interpreter and the translator give the guests the same behaviour: the fingerprint
# (scripts/fingerprint.sh: every fixture guest, the bench loops and the vmlinux boot, each
# one line with its exit status, instruction count and serial output's digest) is the same
# under --engine interp and --engine jit; and the vmlinux boot with one vCPU and with four
# finds no difference under --engine lockstep.
#
#   scripts/engines-check.sh [SOFTVMM]
set -e
cd "$(dirname "$0")/.."
bin=${1:-.build/release/softvmm}
interp=$(mktemp)
jit=$(mktemp)
trap 'rm -f "$interp" "$jit"' EXIT
SOFTVMM_ENGINE=interp FINGERPRINT_LINUX=vmlinux sh scripts/fingerprint.sh "$bin" > "$interp"
SOFTVMM_ENGINE=jit FINGERPRINT_LINUX=vmlinux sh scripts/fingerprint.sh "$bin" > "$jit"
if ! diff "$interp" "$jit" >&2; then
    echo "engines-check: the engines differ (< interp, > jit)" >&2
    exit 1
fi
echo "engines-check: $(wc -l < "$jit") runs alike under interp and jit; $(grep linux/vmlinux "$jit" | tr -s ' ')"

# --engine lockstep: both engines side by side over the vmlinux boot, with one vCPU and with
# four, every vCPU's state and the output compared every 10,000 instructions and guest memory
# every 2^24; any difference fails.
guest=.cache/linux-guest
for smp in 1 4; do
    status=0
    "$bin" run "$guest/vmlinux" --initrd "$guest/initrd.gz" --append "console=ttyS0 softvmm.mode=test" -m 256M \
        --smp "$smp" --engine lockstep --serial none < /dev/null 2> "$jit" || status=$?
    if [ "$status" != 1 ]; then
        cat "$jit" >&2
        echo "engines-check: lockstep --smp $smp ended with status $status (the boot ends with 1)" >&2
        exit 1
    fi
    echo "engines-check: --smp $smp: $(grep 'lockstep:' "$jit" | sed 's/^softvmm: //')"
done

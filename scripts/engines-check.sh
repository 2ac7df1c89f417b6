#!/bin/sh
# The interpreter and the translator give the guests the same behaviour: the fingerprint
# (scripts/fingerprint.sh: every fixture guest, the bench loops and the vmlinux boot, each
# one line with its exit status, instruction count and serial output's digest) is the same
# under --engine interp and --engine jit.
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

#!/bin/sh
# Runs kvm-unit-tests' x86_64 suite under softvmm through the QEMU-compatible front end and
# prints the table (one line per entry) and the counts.
#
#   scripts/kvm-unit-tests.sh KUT_DIR [run_tests.sh arguments...]
#
# KUT_DIR is a checkout of https://github.com/kvm-unit-tests/kvm-unit-tests (not part of this
# repository); it is configured and built here when x86/msr.flat is missing. The suite runs
# unchanged: QEMU=.build/release/softvmm-system-x86_64 ACCEL=tcg ./run_tests.sh. Entries that
# need several CPUs are skipped by the suite itself (the front end refuses -smp above 1 with
# QEMU's message, from which the runner learns the maximum).
set -e
[ -n "$1" ] || { echo "usage: $0 KUT_DIR [run_tests.sh arguments...]" >&2; exit 2; }
root=$(cd "$(dirname "$0")/.." && pwd)
kut=$(cd "$1" && pwd)
shift
front=$root/.build/release/softvmm-system-x86_64
if [ ! -x "$root/.build/release/softvmm" ]; then
    (cd "$root" && swift build -c release --product softvmm)
fi
ln -sf softvmm "$front"
if [ ! -f "$kut/x86/msr.flat" ]; then
    (cd "$kut" && ./configure --arch=x86_64 >/dev/null && make -j"$(nproc)" >/dev/null)
fi
cd "$kut"
echo "kvm-unit-tests $(git rev-parse --short HEAD 2>/dev/null || echo '(not a git checkout)') through $front"
QEMU=$front ACCEL=tcg ./run_tests.sh "$@" | sed 's/\x1b\[[0-9;]*m//g' | tee "$kut/softvmm-results.txt"
for s in PASS FAIL SKIP; do printf '%s %s  ' "$s" "$(grep -c "^$s " "$kut/softvmm-results.txt" || true)"; done
echo

#!/bin/sh
# Checks that the interpreter's hot path makes no reference-counting, exclusivity or
# allocation calls: disassembles each hot function of X86CPU in a release binary and
# fails if any of them calls swift_retain, swift_release, swift_beginAccess or an allocator.
# Usage: Benchmarks/check-hot-path.sh [binary]   (default: .build/release/softvmm)
set -e
binary=${1:-.build/release/softvmm}
status=0
checked=0
for fn in run runBlock stepOne executeFast step dispatch conditional place read write arithmetic setResultFlags push pop store target linearAddress; do
    symbols=$(nm "$binary" | awk '{print $3}' | grep -E "^\\\$s6X86CPU0B0C[0-9]+${fn}[A-Z_0-9y]" | grep -v "Tf\|TW\|Wl" || true)
    for s in $symbols; do
        checked=$((checked + 1))
        calls=$(objdump -d --no-show-raw-insn --disassemble="$s" "$binary" \
            | grep -E "call.*(swift_retain|swift_release|swift_beginAccess|swift_allocObject|swift_bridgeObjectRetain|malloc)" || true)
        if [ -n "$calls" ]; then
            echo "hot path: $fn ($s) calls:"
            echo "$calls"
            status=1
        fi
    done
done
# Inlining may fold some of them into step; step and dispatch themselves must be there.
for required in step dispatch runBlock; do
    if ! nm "$binary" | awk '{print $3}' | grep -qE "^\\\$s6X86CPU0B0C[0-9]+${required}[A-Z_0-9y]"; then
        echo "hot path: $required not found in $binary (renamed?)"
        exit 1
    fi
done
[ $status -eq 0 ] && echo "hot path: $checked functions, no retain, release, exclusivity check or allocation"
exit $status

#!/bin/sh
# What recording a trace costs (issue 7: at most 10% of guest speed), for each loop of the
# benchmark guest: `softvmm run` against `softvmm record` in the same run.
#
#   Benchmarks/record-overhead.sh [LOOP...]        (LOOP: reg sweep call movs stos io)
#
# The figure is host instructions from valgrind's callgrind (repeatable on this shared,
# noisy machine), and wall-clock time beside it (best of 3). Each is taken at COUNT and at
# a COUNT of zeros and differenced, as run-guests.sh does, so start-up and the writing of
# the trace file at the end cancel only where they are the same: what remains is the loop.
# The wall-clock column runs each loop about a second (run-guests.sh's counts).
# Overhead = (record's loop / run's loop) - 1.
set -e
cd "$(dirname "$0")/.."
loops=${*:-reg sweep call movs stos io}
image=Benchmarks/guests/bench.bin
swift build -c release --product softvmm >&2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# valgrind reads a binary without its debug information faster and more reliably.
strip --strip-debug -o "$tmp/softvmm" .build/release/softvmm
command -v valgrind >/dev/null || { echo "record-overhead: valgrind is needed (apt-get install valgrind)" >&2; exit 2; }

# COUNT under callgrind, and for the wall clock (run-guests.sh's: about a second each).
count() {
    case $1 in
        reg) echo 1000000 50000000 ;; sweep) echo 20 1000 ;; call) echo 20000 500000 ;; movs|stos) echo 50 2000 ;;
        io) echo 200000 5000000 ;;
        *) echo "unknown loop $1" >&2; exit 2 ;;
    esac
}

# instructions MODE ARGS -> host instructions of one run
instructions() {
    mode=$1; shift
    if [ "$mode" = run ]; then set -- run -m 128M "$image" --append "$*"
    else set -- record -o "$tmp/trace" -- -m 128M "$image" --append "$*"; fi
    valgrind --tool=callgrind --callgrind-out-file="$tmp/cg" "$tmp/softvmm" "$@" > /dev/null 2> "$tmp/vg" || true
    sed -n 's/.*Collected : //p' "$tmp/vg"
}

# seconds MODE ARGS -> best of 3 wall-clock nanoseconds
seconds() {
    mode=$1; shift
    best=
    for r in 1 2 3; do
        t0=$(date +%s%N)
        if [ "$mode" = run ]; then "$tmp/softvmm" run -m 128M "$image" --append "$*" > /dev/null 2>&1 || true
        else "$tmp/softvmm" record -o "$tmp/trace" -- -m 128M "$image" --append "$*" > /dev/null 2>&1 || true; fi
        t=$(( $(date +%s%N) - t0 ))
        if [ -z "$best" ] || [ "$t" -lt "$best" ]; then best=$t; fi
    done
    echo "$best"
}

printf '%-6s %10s %16s %16s %9s %9s %10s\n' loop count "run (instr)" "record (instr)" overhead wall "trace (B)"
for loop in $loops; do
    set -- $(count "$loop")
    n=$1 wn=$2
    zero=$(echo "$n" | tr '0-9' '0') wzero=$(echo "$wn" | tr '0-9' '0')
    base=$(instructions run "$loop" "$zero") rbase=$(instructions record "$loop" "$zero")
    run=$(( $(instructions run "$loop" "$n") - base ))
    rec=$(( $(instructions record "$loop" "$n") - rbase ))
    bytes=$(wc -c < "$tmp/trace")
    wrun=$(( $(seconds run "$loop" "$wn") - $(seconds run "$loop" "$wzero") ))
    wrec=$(( $(seconds record "$loop" "$wn") - $(seconds record "$loop" "$wzero") ))
    awk -v l="$loop" -v n="$n" -v a="$run" -v b="$rec" -v wa="$wrun" -v wb="$wrec" -v t="$bytes" 'BEGIN {
        printf "%-6s %10d %16d %16d %8.1f%% %8.1f%% %10d\n", l, n, a, b, 100 * (b / a - 1), (wa > 0 ? 100 * (wb / wa - 1) : 0), t }'
done

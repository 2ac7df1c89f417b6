#!/bin/sh
# Runs the benchmark guest (Benchmarks/guests/bench.bin) under softvmm (release build) and,
# when it is installed, under qemu-system-x86_64 -accel tcg, in the same run, and prints
# MIPS, MB/s and exits/s side by side, with issue 6's targets.
#
#   Benchmarks/run-guests.sh [-r ROUNDS] [-s SCALE] [LOOP...]     (LOOP: reg sweep call movs stos io mul)
#
# Each loop runs twice per round: with COUNT iterations and with the same number of digits
# all zero (the guest parses its command line, so the set-up costs the same). The time of
# the loop is the difference of the two runs' wall-clock times, which takes out start-up
# (QEMU's firmware, softvmm's build of the page tables) and the report. Each figure is the
# best of ROUNDS rounds (default 3). SCALE multiplies every COUNT (default 1).
#
# Checks on the way: softvmm's retired-instruction count of the two runs differs by exactly
# COUNT x the loop's instructions per iteration, its I/O exit count by COUNT for `io`, and
# softvmm and QEMU print the same report line (the loop's checksum).
set -e
cd "$(dirname "$0")/.."
rounds=3
scale=1
while getopts r:s: opt; do
    case $opt in
        r) rounds=$OPTARG ;;
        s) scale=$OPTARG ;;
        *) echo "usage: $0 [-r ROUNDS] [-s SCALE] [LOOP...]" >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
loops=${*:-reg sweep call movs stos io mul}

image=Benchmarks/guests/bench.bin
softvmm=${SOFTVMM:-.build/release/softvmm}
[ -x "$softvmm" ] || swift build -c release --product softvmm >&2
qemu=$(command -v qemu-system-x86_64 || true)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# loop: COUNT, instructions per iteration, bytes per iteration, what is measured, target.
spec() {
    case $1 in
        reg)   echo 50000000 8 0 MIPS 150 ;;
        sweep) echo 1000 98308 0 MIPS 60 ;;
        call)  echo 500000 251 0 MIPS 100 ;;
        movs)  echo 2000 6 1048576 MB/s 1000 ;;
        stos)  echo 2000 6 1048576 MB/s 1000 ;;
        io)    echo 5000000 3 0 exits/s 5000000 ;;
        mul)   echo 10000000 21 0 MIPS 150 ;;
        *) echo "unknown loop $1" >&2; exit 2 ;;
    esac
}

now() { date +%s%N; }

# run_softvmm ARGS -> prints "nanoseconds instructions io-exits", the report in $tmp/out
run_softvmm() {
    t0=$(now)
    status=0
    "$softvmm" run -m 128M "$image" --append "$1" --stats > "$tmp/out" 2> "$tmp/err" || status=$?
    t1=$(now)
    if [ "$status" -ne 1 ]; then echo "softvmm failed ($1): status $status" >&2; cat "$tmp/err" >&2; exit 1; fi
    instructions=$(sed -n 's/^instructions: //p' "$tmp/err")
    io=$(sed -n 's/^exits:.*io \([0-9]*\).*/\1/p' "$tmp/err")
    echo "$((t1 - t0)) $instructions ${io:-0}"
}

run_qemu() {
    t0=$(now)
    status=0
    "$qemu" -accel tcg -cpu max -m 128M -kernel "$image" -append "$1" -serial stdio -display none \
        -monitor none -device isa-debug-exit,iobase=0xf4,iosize=4 -no-reboot < /dev/null > "$tmp/out" 2> "$tmp/err" || status=$?
    t1=$(now)
    if [ "$status" -ne 1 ]; then echo "qemu failed ($1): status $status" >&2; cat "$tmp/err" >&2; exit 1; fi
    echo "$((t1 - t0))"
}

min() { if [ -z "$1" ] || [ "$2" -lt "$1" ]; then echo "$2"; else echo "$1"; fi; }

# rate KIND COUNT PER BYTES NANOSECONDS -> the figure
rate() {
    awk -v kind="$1" -v n="$2" -v per="$3" -v bytes="$4" -v ns="$5" 'BEGIN {
        if (ns <= 0) { print "n/a"; exit }
        s = ns / 1e9
        if (kind == "MIPS") printf "%.1f", n * per / s / 1e6
        else if (kind == "MB/s") printf "%.0f", n * bytes / s / 1e6
        else printf "%.2fM", n / s / 1e6
    }'
}

printf '%-6s %10s  %-12s %-14s %-14s %s\n' loop count unit softvmm "qemu-tcg" "softvmm/qemu   target"
fail=0
for loop in $loops; do
    set -- $(spec "$loop")
    count=$(($1 * scale)); per=$2; bytes=$3; kind=$4; target=$5
    zeros=$(echo "$count" | tr '0-9' '0')
    best=; best0=; qbest=; qbest0=
    r=0
    while [ "$r" -lt "$rounds" ]; do
        set -- $(run_softvmm "$loop $count"); best=$(min "$best" "$1"); n1=$2; io1=$3
        cp "$tmp/out" "$tmp/softvmm.out"
        set -- $(run_softvmm "$loop $zeros"); best0=$(min "$best0" "$1"); n0=$2; io0=$3
        if [ -n "$qemu" ]; then
            qbest=$(min "$qbest" "$(run_qemu "$loop $count")")
            cp "$tmp/out" "$tmp/qemu.out"
            qbest0=$(min "$qbest0" "$(run_qemu "$loop $zeros")")
        fi
        r=$((r + 1))
    done
    expected=$((count * per))
    if [ $((n1 - n0)) -ne "$expected" ]; then
        echo "$loop: softvmm retired $((n1 - n0)) instructions in the loop, expected $expected" >&2; fail=1
    fi
    if [ "$loop" = io ] && [ $((io1 - io0)) -ne "$count" ]; then
        echo "$loop: softvmm made $((io1 - io0)) I/O exits in the loop, expected $count" >&2; fail=1
    fi
    ours=$(rate "$kind" "$count" "$per" "$bytes" $((best - best0)))
    theirs=n/a; ratio=
    if [ -n "$qemu" ]; then
        theirs=$(rate "$kind" "$count" "$per" "$bytes" $((qbest - qbest0)))
        if ! cmp -s "$tmp/softvmm.out" "$tmp/qemu.out"; then
            echo "$loop: softvmm and QEMU printed different reports:" >&2; cat "$tmp/softvmm.out" "$tmp/qemu.out" >&2; fail=1
        fi
        ratio=$(awk -v a=$((best - best0)) -v b=$((qbest - qbest0)) 'BEGIN { if (a > 0 && b > 0) printf "%.2fx", b / a }')
    fi
    value=${ours%M}
    met=$(awk -v v="$value" -v t="$target" -v k="$kind" 'BEGIN { if (k == "exits/s") v *= 1e6; print (v >= t) ? "met" : "below" }')
    printf '%-6s %10s  %-12s %-14s %-14s %-14s %s %s\n' "$loop" "$count" "$kind" "$ours" "$theirs" "$ratio" "$target" "$met"
done
exit $fail

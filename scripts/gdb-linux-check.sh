#!/bin/sh
# gdb, the real client, against the Linux guest (issue 24), in batch mode. Debian's vmlinux has
# no symbols: the addresses come from the kernel's own /proc/kallsyms, read in a guest booted
# by `softvmm exec` from the same vmlinux (booted through PVH, the kernel is not relocated).
#
#   1. A live boot: a hardware watchpoint on jiffies_64 stops after a write that changes it,
#      inside the kernel's text; a breakpoint at do_sys_openat2 stops when the init script
#      opens a file: RDI is AT_FDCWD and RSI points at the file's name, which gdb reads through
#      the process's page tables; ten single steps are ten instructions; continue runs the
#      guest to its end (debug exit 0) with its output complete.
#   2. A recorded boot, replayed under gdb: from a point deep in the boot (monitor seek),
#      reverse-stepi a thousand times, then stepi a thousand times forward over the same
#      stretch: at every count the registers and the stack's top are the same both ways, at
#      every 50th the whole state (every register, guest memory's hash), and at three counts
#      the whole state is what `softvmm replay --to` reaches; each reverse step's time is measured (under a second);
#      reverse-continue with a watchpoint on jiffies_64 stops before its last write (stepping
#      over that instruction changes the value; the next write forward is past the start).
set -e
cd "$(dirname "$0")/.."
root=$(pwd)
bin=$root/.build/release/softvmm
guest=$root/.cache/linux-guest
sh scripts/fetch-linux-guest.sh
[ -s "$guest/vmlinux" ] && [ "$guest/vmlinux" -nt "$guest/vmlinuz" ] || "$bin" extract-vmlinux "$guest/vmlinuz" -o "$guest/vmlinux"
out=$(mktemp -d)
pid=
trap 'rm -rf "$out"; [ -n "$pid" ] && kill "$pid" 2>/dev/null || true' EXIT
fail() { echo "gdb-linux-check: $*" >&2; exit 1; }
append="console=ttyS0 softvmm.mode=test"
port=$((20000 + ($$ + 3) % 20000))

# The symbols, from the guest itself.
(cd "$out" && "$bin" exec --kernel "$guest/vmlinux" -- sh -c 'cat /proc/kallsyms > kallsyms.txt') ||
    fail "softvmm exec could not read /proc/kallsyms"
symbol() { awk -v s="$1" '$3 == s { print $1; exit }' "$out/kallsyms.txt"; }
openat2=$(symbol do_sys_openat2) jiffies=$(symbol jiffies_64) stext=$(symbol _stext) etext=$(symbol _etext)
[ -n "$openat2" ] && [ -n "$jiffies" ] && [ -n "$stext" ] && [ -n "$etext" ] || fail "kallsyms lacks do_sys_openat2, jiffies_64, _stext or _etext"
case $openat2 in 0000000000000000) fail "kallsyms shows zero addresses (kptr_restrict)";; esac

. scripts/gdb-listening.sh
inside() { awk -v a="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(length(a) == 16 && a >= lo && a < hi) }'; }
hex16() { printf "%016x" "0x$1"; }

# 1. Live.
"$bin" run "$guest/vmlinux" --initrd "$guest/initrd.gz" --append "$append" -m 256M --serial "$out/live.serial" \
    --gdb "tcp::$port" 2>"$out/live.err" </dev/null &
pid=$!
listening "$out/live.err" 60
cat > "$out/live.gdb" <<EOF
set pagination off
set confirm off
target remote :$port
watch *(long *)0x$jiffies
continue
printf "WATCHED %lx\n", \$pc
delete
break *0x$openat2
continue
printf "OPEN %lx %lx %lx\n", \$pc, \$rdi, \$rsi
x/s \$rsi
monitor icount
stepi 10
monitor icount
delete
continue
EOF
timeout 300 gdb -nx -batch -x "$out/live.gdb" > "$out/live.txt" 2>&1 || true
status=0
wait "$pid" || status=$?
pid=
show() { cat "$out/$1.txt" >&2; }
grep -q "^Hardware watchpoint 1: \*(long \*)0x$jiffies" "$out/live.txt" && grep -q "^New value = [0-9]" "$out/live.txt" ||
    { show live; fail "the watchpoint on jiffies_64 did not stop at a write"; }
watched=$(sed -n 's/^WATCHED //p' "$out/live.txt")
inside "$(hex16 "$watched")" "$stext" "$etext" || { show live; fail "the watchpoint stopped at $watched, outside the kernel's text"; }
set -- $(sed -n 's/^OPEN //p' "$out/live.txt")
[ "$1" = "$(echo "$openat2" | sed 's/^0*//')" ] && [ "$2" = ffffff9c ] || { show live; fail "the breakpoint at do_sys_openat2 stopped with pc, rdi = $1, $2"; }
name=$(sed -n "s/^0x$3:[[:space:]]*\"\(.*\)\"\$/\1/p" "$out/live.txt")
case $name in /*) ;; *) show live; fail "RSI ($3) does not point at a path: \"$name\"";; esac
counts=$(grep -E '^[0-9]+$' "$out/live.txt" | tr '\n' ' ')
set -- $counts
[ $# -eq 2 ] && [ "$2" -eq $(($1 + 10)) ] || { show live; fail "stepi 10 went from icount $1 to $2"; }
grep -q "exited with code 01" "$out/live.txt" || { show live; fail "continue did not run the guest to its end"; }
[ "$status" = 1 ] && grep -q '^SOFTVMM-DONE' "$out/live.serial" || fail "the guest under gdb ended with status $status, output $(tail -3 "$out/live.serial")"
echo "gdb-linux-check: live boot: a watchpoint on jiffies_64 stopped at $watched after a write ($(grep -m1 '^New value' "$out/live.txt")); do_sys_openat2 stopped at icount $1 opening \"$name\" (rdi AT_FDCWD); stepi 10 reached $2; continued to the end"

# 2. Reverse execution on a recorded boot.
"$bin" record -o "$out/linux.trace" -- "$guest/vmlinux" --initrd "$guest/initrd.gz" --append "$append" -m 256M --serial none \
    2>/dev/null </dev/null || true
deep=1000000000
steps=1000
middle=$((deep - steps / 2)) early=$((deep - steps))
for n in $deep $middle $early; do
    "$bin" replay "$out/linux.trace" --to $n --serial none > "$out/replay-$n.txt" 2>&1 || fail "replay --to $n: $(cat "$out/replay-$n.txt")"
    sed 1d "$out/replay-$n.txt" > "$out/expected-$n.txt"
done
"$bin" replay "$out/linux.trace" --gdb "tcp::$port" --serial none 2>"$out/replay.err" </dev/null &
pid=$!
listening "$out/replay.err" 60
line='printf "S %lx %lx %lx %lx %lx %lx %lx %lx %lx %lx %lx\n", $pc, $sp, $rax, $rbx, $rcx, $rdx, $rsi, $rdi, $r8, $eflags, *(long *)$sp'
cat > "$out/reverse.gdb" <<EOF
set pagination off
set confirm off
target remote :$port
monitor seek $deep
maintenance flush register-cache
monitor state memory
shell date +%s%N > $out/times
set \$i = 0
while \$i < $steps
  reverse-stepi
  shell date +%s%N >> $out/times
  $line
  if \$i % 50 == 49
    monitor state memory
  end
  set \$i = \$i + 1
end
printf "FORWARD\n"
set \$i = 0
while \$i < $steps
  $line
  if \$i % 50 == 0
    monitor state memory
  end
  stepi
  set \$i = \$i + 1
end
monitor state memory
monitor icount
watch *(long *)0x$jiffies
reverse-continue
monitor icount
printf "VALUE-BEFORE %ld\n", *(long *)0x$jiffies
stepi
monitor icount
continue
monitor icount
EOF
timeout 600 gdb -nx -batch -x "$out/reverse.gdb" > "$out/reverse.txt" 2>&1 || true
kill "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
pid=
! grep -q "too long" "$out/reverse.txt" || { show reverse; fail "gdb reported a packet-size error"; }
# The whole state (every register, guest memory's hash) every 50 counts, going back and going
# forward: the same; and at three counts as replay --to has it.
awk -v dir="$out" '/^FORWARD$/ { pass = "forward-" } /^icount [0-9]+, tsc/ { n = $2; sub(",", "", n); f = dir "/" (pass ? pass : "backward-") n ".txt" }
    f { print > f } /^memory contents/ { f = "" }' "$out/reverse.txt"
compared=0
for f in "$out"/forward-*.txt; do
    n=${f##*/forward-}
    cmp -s "$f" "$out/backward-$n" || { diff "$out/backward-$n" "$f" >&2 || true; fail "the whole state at icount ${n%.txt} differs going back and going forward"; }
    compared=$((compared + 1))
done
[ $compared -eq $((steps / 50 + 1)) ] || { tail -30 "$out/reverse.txt" >&2; fail "$compared whole states compared, not $((steps / 50 + 1))"; }
for n in $deep $middle $early; do
    cmp -s "$out/backward-$n.txt" "$out/expected-$n.txt" ||
        { diff "$out/backward-$n.txt" "$out/expected-$n.txt" >&2 || true; fail "the state at icount $n differs from replay --to $n"; }
done
# Every count both ways: the reverse lines are counts deep-1 down to early, the forward ones
# early up to deep-1.
sed -n '/^FORWARD$/q;s/^S //p' "$out/reverse.txt" > "$out/backward"
sed -n '/^FORWARD$/,$s/^S //p' "$out/reverse.txt" | tac > "$out/forward"
[ "$(wc -l < "$out/backward")" -eq $steps ] || { tail -30 "$out/reverse.txt" >&2; fail "$(wc -l < "$out/backward") reverse steps of $steps"; }
cmp -s "$out/backward" "$out/forward" || { diff "$out/backward" "$out/forward" | head >&2; fail "a reverse step's registers differ from the forward run's at the same count"; }
# Each reverse step's time, gdb's own work included (the first line: after the seek).
slowest=$(awk 'NR > 1 { d = ($1 - last) / 1e9; if (d > m) m = d } { last = $1 } END { printf "%.3f", m }' "$out/times")
mean=$(awk 'NR > 1 { s += ($1 - last) / 1e9 } { last = $1 } END { printf "%.4f", s / (NR - 1) }' "$out/times")
awk -v m="$slowest" 'BEGIN { exit !(m < 1) }' || fail "a reverse step took $slowest s (the issue's limit: 1 s)"
# reverse-continue: before the last write of jiffies_64 before the deep point.
set -- $(grep -E '^[0-9]+$' "$out/reverse.txt" | tr '\n' ' ')
[ $# -eq 4 ] && [ "$1" -eq $deep ] || { show reverse; fail "monitor icount printed $*"; }
back=$2 stepped=$3 next=$4
[ "$back" -lt $deep ] && [ "$stepped" -eq $((back + 1)) ] && [ "$next" -gt $deep ] ||
    { show reverse; fail "reverse-continue to the last write: at $back, stepped to $stepped, the next write at $next (from $deep)"; }
grep -A6 "^VALUE-BEFORE" "$out/reverse.txt" | grep -q "^New value = " || { show reverse; fail "stepping over the instruction reverse-continue stopped before did not write jiffies_64"; }
echo "gdb-linux-check: replay: reverse-stepi $steps times from icount $deep: every count's registers and stack top as the forward run's, the whole state (memory's hash too) at every 50th count as the forward run's and at $deep, $middle and $early as replay --to's; slowest reverse step $slowest s, mean $mean s"
echo "gdb-linux-check: replay: reverse-continue stopped before the last write of jiffies_64 (icount $back; the next is at $next)"

#!/bin/sh
# gdb, the real client, against softvmm's remote-protocol server (issue 24), in batch mode:
#
#   the system fixture guest (protected mode, then long mode, paging, ring 3): gdb steps
#   through the switch to long mode one instruction at a time (stepi 12000, from 32-bit code through 16-bit code to 64-bit code) with the register
#   packet the same size throughout (no "Remote 'g' packet reply is too long"); the state it
#   then shows is the state a replay of the recorded run reaches at the same count (replay
#   --to, another path through the run); a breakpoint stops before its instruction; a hardware
#   watchpoint on a stack slot stops after the write that changes it, a read watchpoint after
#   an instruction that reads it; continue runs to the
#   guest's end, whose output and status are the fixture's own.
set -e
cd "$(dirname "$0")/.."
bin=.build/release/softvmm
out=$(mktemp -d)
trap 'rm -rf "$out"; [ -n "$pid" ] && kill "$pid" 2>/dev/null || true' EXIT
fail() { echo "gdb-check: $*" >&2; exit 1; }
. scripts/gdb-listening.sh
guest=Fixtures/guests/system/system.bin
steps=12000
port=$((20000 + $$ % 20000))

# The oracle: the recorded run replayed to the same count.
"$bin" record -o "$out/system.trace" -- "$guest" --serial none 2>/dev/null || true
"$bin" replay "$out/system.trace" --to "$steps" --serial none > "$out/replay.txt" 2>&1 || fail "replay --to $steps: $(cat "$out/replay.txt")"
expected_rip=$(sed -n 's/^rip =\([0-9a-f]*\).*/\1/p' "$out/replay.txt" | sed 's/^0*//')
expected_rax=$(sed -n 's/^rax =\([0-9a-f]*\).*/\1/p' "$out/replay.txt" | sed 's/^0*//')

"$bin" run "$guest" --gdb "tcp::$port" --serial "$out/serial" 2>"$out/run.err" &
pid=$!
listening "$out/run.err"
cat > "$out/session.gdb" <<EOF
set pagination off
set confirm off
target remote :$port
printf "START %lx\n", \$pc
stepi $steps
monitor icount
printf "AFTER %lx %lx\n", \$pc, \$rax
info registers cs
EOF
# The breakpoint: the instruction the replay showed 100 steps further on.
"$bin" replay "$out/system.trace" --to $((steps + 100)) --serial none > "$out/replay2.txt" 2>&1
later=$(sed -n 's/^rip =\([0-9a-f]*\).*/\1/p' "$out/replay2.txt" | sed 's/^0*//')
cat >> "$out/session.gdb" <<EOF
break *0x$later
continue
printf "BREAK %lx\n", \$pc
delete
set \$slot = \$sp - 8
watch *(long *)\$slot
continue
printf "WATCHED %lx\n", *(long *)\$slot
delete
rwatch *(long *)\$slot
continue
printf "READ-AT %lx\n", \$pc
delete
continue
EOF
timeout 120 gdb -nx -batch -x "$out/session.gdb" > "$out/gdb.txt" 2>&1 || true
status=0
wait "$pid" || status=$?
pid=
! grep -q "too long" "$out/gdb.txt" || fail "gdb reported a packet-size error: $(grep 'too long' "$out/gdb.txt")"
grep -q "^$steps\$" "$out/gdb.txt" || { cat "$out/gdb.txt" >&2; fail "monitor icount after stepi $steps is not $steps"; }
grep -q "^AFTER $expected_rip $expected_rax\$" "$out/gdb.txt" ||
    { cat "$out/gdb.txt" >&2; fail "after stepi $steps gdb shows $(grep '^AFTER' "$out/gdb.txt"), the replay rip $expected_rip rax $expected_rax"; }
grep -q "^BREAK $later\$" "$out/gdb.txt" || { cat "$out/gdb.txt" >&2; fail "the breakpoint at 0x$later did not stop there"; }
grep -q "^Hardware watchpoint [0-9]*: \*(long \*)\$slot" "$out/gdb.txt" && grep -q "^New value = " "$out/gdb.txt" && grep -q "^WATCHED " "$out/gdb.txt" ||
    { cat "$out/gdb.txt" >&2; fail "a hardware watchpoint on the stack did not stop at a write"; }
grep -q "^Hardware read watchpoint [0-9]*: \*(long \*)\$slot" "$out/gdb.txt" && grep -q "^Value = " "$out/gdb.txt" && grep -q "^READ-AT " "$out/gdb.txt" ||
    { cat "$out/gdb.txt" >&2; fail "a read watchpoint on the stack slot did not stop at a read"; }
grep -q "exited with code 01" "$out/gdb.txt" || { cat "$out/gdb.txt" >&2; fail "continue did not run the guest to its end"; }
cmp -s "$out/serial" Fixtures/guests/system/system.expected || fail "the guest's output under gdb differs from the fixture's"
[ "$status" = "$(cat Fixtures/guests/system/system.status)" ] || fail "softvmm's status under gdb is $status"
echo "gdb-check: system guest: stepi $steps through the mode switches (one packet size), state as replay --to $steps shows (rip $expected_rip), a breakpoint at 0x$later, a watchpoint's stop ($(grep -m1 '^New value' "$out/gdb.txt")), a read watchpoint's ($(grep -m1 '^Value = ' "$out/gdb.txt")), continued to its end with the fixture's output and status"

# The SMP guest (four vCPUs): gdb lists four threads; stepping one thread runs that vCPU alone,
# one instruction, and the others' counts stay (monitor state shows every vCPU's count). The
# breakpoint: where vCPU 1 is at icount 100000 in the recorded run, reached by an AP while all
# four run.
smp=Fixtures/guests/smp/smp.bin
"$bin" record -o "$out/smp.trace" -- "$smp" --smp 4 --serial none 2>/dev/null || true
"$bin" replay "$out/smp.trace" --to 100000 --serial none > "$out/smp-replay.txt" 2>&1 || fail "replay --to 100000 of the SMP guest: $(cat "$out/smp-replay.txt")"
ap_rip=$(sed -n '/^vcpu 1/,/^vcpu 2/s/^rip =\([0-9a-f]*\).*/\1/p' "$out/smp-replay.txt" | sed 's/^0*//')
[ -n "$ap_rip" ] || fail "no RIP for vCPU 1 in the replay's state: $(head -5 "$out/smp-replay.txt")"
"$bin" run "$smp" --smp 4 --gdb "tcp::$port" --serial none 2>"$out/smp-run.err" &
pid=$!
listening "$out/smp-run.err"
cat > "$out/smp.gdb" <<GDB
set pagination off
set confirm off
target remote :$port
break *0x$ap_rip
continue
delete
info threads
thread 3
monitor state
stepi
monitor state
thread 2
stepi
monitor state
kill
GDB
timeout 120 gdb -nx -batch -x "$out/smp.gdb" > "$out/smp-gdb.txt" 2>&1 || true
kill "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
pid=
threads=$(grep -cE '^[ *] +[0-9]+ +Thread [0-9]+' "$out/smp-gdb.txt" || true)
[ "$threads" = 4 ] || { cat "$out/smp-gdb.txt" >&2; fail "gdb lists $threads threads for the four vCPUs"; }
# Each monitor state: four "vcpu N: icount C" lines; three states, before and after each step.
set -- $(sed -n 's/^vcpu [0-9][^:]*: icount \([0-9]*\),.*/\1/p' "$out/smp-gdb.txt")
[ $# -eq 12 ] || { cat "$out/smp-gdb.txt" >&2; fail "monitor state showed $# vCPU counts, not 12"; }
expected="$1 $2 $(($3 + 1)) $4 $1 $(($2 + 1)) $(($3 + 1)) $4"
actual="$5 $6 $7 $8 $9 ${10} ${11} ${12}"
[ "$actual" = "$expected" ] || { cat "$out/smp-gdb.txt" >&2; fail "stepping thread 3, then thread 2: counts $actual, expected $expected (from $1 $2 $3 $4)"; }
echo "gdb-check: SMP guest: 4 threads; a breakpoint at 0x$ap_rip; stepping thread 3 then thread 2 moved only those vCPUs (counts $1 $2 $3 $4, then $actual)"

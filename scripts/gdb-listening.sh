# Sourced by the gdb checks (gdb-check.sh, gdb-linux-check.sh). listening ERRFILE [SECONDS]:
# waits until softvmm says it listens for gdb (its standard error goes to ERRFILE); after
# SECONDS (10 by default) the caller's `fail` reports what softvmm said instead.
listening() {
    i=0
    while ! grep -q "waiting for gdb" "$1" 2>/dev/null; do
        i=$((i + 1)); [ $i -lt $((${2:-10} * 10)) ] || fail "softvmm did not start listening: $(cat "$1")"; sleep 0.1
    done
}

#!/bin/sh
# Behaviour fingerprint: for every fixture guest, runs of the benchmark guest and the Linux
# boots (vmlinux, bzImage, the checks initramfs), one line each with the exit status, the
# retired-instruction count and the SHA-256 of the serial output. A change that must not
# change behaviour (a refactoring) leaves this output identical:
#
#   scripts/fingerprint.sh [SOFTVMM] > before.txt   ...change...   scripts/fingerprint.sh > after.txt
#   diff before.txt after.txt
#
# Set FINGERPRINT_LINUX=0 to leave out the Linux boots (about three minutes), or
# FINGERPRINT_LINUX=vmlinux for the vmlinux boot alone. The engine is SOFTVMM_ENGINE's.
set -e
cd "$(dirname "$0")/.."
bin=${1:-.build/release/softvmm}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# line NAME: the run's status, instructions and output digest (after it ran into $tmp).
line() {
    n=$(sed -n 's/^instructions: //p' "$tmp/stats")
    printf '%-24s status %-3s instructions %-12s serial %s\n' "$1" "$status" "${n:-?}" \
        "$(sha256sum < "$tmp/serial" | cut -c1-16)"
}

for image in Fixtures/guests/*/*.bin; do
    name=$(basename "$image" .bin)
    dir=$(dirname "$image")
    options=$(cat "$dir/$name.options" 2>/dev/null || true)
    [ -f "$dir/$name.input" ] && options="$options --serial-input $dir/$name.input"
    status=0
    # shellcheck disable=SC2086
    "$bin" run "$image" $options --stats --max-instructions 2000000000 < /dev/null > "$tmp/serial" 2> "$tmp/stats" || status=$?
    line "guest/$name"
done

for run in "reg 100000" "sweep 20" "call 1000" "movs 30" "stos 30" "io 10000" "mul 100000"; do
    status=0
    "$bin" run -m 128M Benchmarks/guests/bench.bin --append "$run" --stats > "$tmp/serial" 2> "$tmp/stats" || status=$?
    line "bench/$(echo "$run" | tr ' ' '-')"
done

[ "${FINGERPRINT_LINUX:-1}" = 0 ] && exit 0
guest=.cache/linux-guest
sh scripts/fetch-linux-guest.sh >&2
[ -s "$guest/vmlinux" ] && [ "$guest/vmlinux" -nt "$guest/vmlinuz" ] || "$bin" extract-vmlinux "$guest/vmlinuz" -o "$guest/vmlinux" >&2
append="console=ttyS0 softvmm.mode=test"
for kernel in vmlinux vmlinuz; do
    status=0
    "$bin" run "$guest/$kernel" --initrd "$guest/initrd.gz" --append "$append" -m 256M --serial "$tmp/serial" --stats \
        2> "$tmp/stats" < /dev/null || status=$?
    line "linux/$kernel"
    [ "${FINGERPRINT_LINUX:-1}" = vmlinux ] && exit 0
done
sh scripts/make-linux-checks.sh >&2
status=0
"$bin" run "$guest/vmlinux" --initrd "$guest/checks.gz" --append "$append" -m 256M --serial "$tmp/serial" \
    --max-instructions 6000000000 --stats 2> "$tmp/stats" < /dev/null || status=$?
line "linux/checks"

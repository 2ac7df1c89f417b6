#!/bin/sh
# Fetches Debian's stock kernel and busybox (apt-get download: no other download) and builds
# the Linux guest for issue 8 into a cache outside the tracked files:
#
#   .cache/linux-guest/vmlinuz     the bzImage of Debian's current linux-image-*-amd64
#   .cache/linux-guest/initrd.gz   cpio newc (gzip): busybox-static and Fixtures/linux/init
#   .cache/linux-guest/busybox     busybox-static's binary (the initramfs is rebuilt from it)
#   .cache/linux-guest/modules/    the kernel's virtio, virtio-pci, virtio-rng, virtio-blk, 9p,
#                                  ext4 and overlay modules (the stock kernel has them as modules), and
#                                  load-order: their names, each after what it depends on
#
# Run again, it does nothing unless a file is missing.
set -e
cd "$(dirname "$0")/.."
out=.cache/linux-guest
mkdir -p "$out"
# The initramfs is built again whenever its init script or builder changed.
initramfs() { python3 scripts/make-initramfs.py "$out/busybox" Fixtures/linux/init "$out/initrd.gz"; }
if [ -s "$out/vmlinuz" ] && [ -s "$out/busybox" ] && [ -s "$out/modules/overlay.ko" ]; then
    if [ ! -s "$out/initrd.gz" ] || [ Fixtures/linux/init -nt "$out/initrd.gz" ] || [ scripts/make-initramfs.py -nt "$out/initrd.gz" ]; then
        initramfs
        echo "$out: initrd.gz built again"
    else
        echo "$out: up to date"
    fi
    exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
# The metapackage names the versioned image package it depends on.
apt-get download linux-image-amd64 busybox-static >/dev/null 2>&1
image=$(dpkg-deb -f linux-image-amd64_*.deb Depends | tr ',' '\n' | sed -n 's/^ *\(linux-image-[0-9][^ ]*\).*/\1/p' | head -1)
[ -n "$image" ] || { echo "fetch-linux-guest: no versioned image in linux-image-amd64's Depends" >&2; exit 1; }
apt-get download "$image" >/dev/null 2>&1
mkdir kernel busybox
dpkg-deb -x "$image"_*.deb kernel
dpkg-deb -x busybox-static_*.deb busybox
cd - >/dev/null
cp "$work"/kernel/boot/vmlinuz-* "$out/vmlinuz"
# The virtio modules, in an order that loads each after its dependencies (their modinfo
# "depends=" lines): the core and the ring, the PCI transport, then the devices.
rm -rf "$out/modules"
mkdir -p "$out/modules"
for m in drivers/virtio/virtio_ring drivers/virtio/virtio drivers/virtio/virtio_pci_modern_dev \
         drivers/virtio/virtio_pci_legacy_dev drivers/virtio/virtio_pci drivers/char/hw_random/virtio-rng \
         drivers/block/virtio_blk fs/netfs/netfs fs/fscache/fscache net/9p/9pnet net/9p/9pnet_virtio fs/9p/9p \
         lib/crc16 crypto/crc32c_generic fs/mbcache fs/jbd2/jbd2 fs/ext4/ext4 fs/overlayfs/overlay; do
    f=$(ls "$work"/kernel/lib/modules/*/kernel/$m.ko* 2>/dev/null | head -1)
    [ -n "$f" ] || { echo "fetch-linux-guest: no module $m in the kernel package" >&2; exit 1; }
    case "$f" in
        *.xz) xz -dc "$f" > "$out/modules/$(basename "$m").ko" ;;
        *.zst) zstd -dcq "$f" > "$out/modules/$(basename "$m").ko" ;;
        *) cp "$f" "$out/modules/$(basename "$m").ko" ;;
    esac
    basename "$m" >> "$out/modules/load-order.tmp"
done
mv "$out/modules/load-order.tmp" "$out/modules/load-order"
cp "$work"/busybox/bin/busybox "$out/busybox"
initramfs
echo "$out: $(basename "$work"/kernel/boot/vmlinuz-*) and busybox $(ls "$work"/busybox/usr/share/doc 2>/dev/null | head -1)"

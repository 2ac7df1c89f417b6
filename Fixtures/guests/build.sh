#!/bin/sh
# Builds every fixture guest with nasm (the built images are committed next to their source).
set -e
cd "$(dirname "$0")"
for src in */*.asm; do
    nasm -f bin -i lib/ -o "${src%.asm}.bin" "$src"
done

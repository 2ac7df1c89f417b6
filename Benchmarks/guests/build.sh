#!/bin/sh
# Builds the benchmark guest with nasm (the built image is committed next to its source).
set -e
cd "$(dirname "$0")"
nasm -f bin -i ../../Fixtures/guests/lib/ -o bench.bin bench.asm

# Quick start: `make run` and `make test`. Both install the Debian packages
# they need (as root, with apt-get) or stop and print the command to run.

SWIFT ?= swift
DEB_PACKAGES := libcapstone-dev libzydis-dev pkg-config
export SWIFT_BACKTRACE ?= enable=no

.PHONY: deps build release test run check clean

deps:
	@sh scripts/ensure-packages.sh $(DEB_PACKAGES)

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

# The unit tests, then a fixed-seed slice of the Capstone cross-check. The
# slice is a ratchet: the decoder issue is open until these limits are 0, and
# a change that adds an unexplained disagreement fails here.
test: deps
	$(SWIFT) build -c release --product softvmm
	$(SWIFT) test
	.build/release/softvmm decoder-check --count 200000 --seed 1 --mode 64 --show 5 --max-unexplained 0
	.build/release/softvmm decoder-check --count 50000 --seed 1 --mode 32 --show 5 --max-unexplained 0
	.build/release/softvmm decoder-check --count 50000 --seed 1 --mode 16 --show 5 --max-unexplained 0

# Until the VMM exists, the main job disassembles a bundled fixture with the cross-check.
run: deps
	$(SWIFT) build -c release --product softvmm
	.build/release/softvmm disasm Fixtures/decoder/demo.bin --mode 64 --base 0x401000 --check

# The full campaign of the decoder issue (1M cases per seed and mode).
check: release
	for m in 64 32 16; do for s in 1 2 3; do .build/release/softvmm decoder-check --count 1000000 --seed $$s --mode $$m || exit 1; done; done


clean:
	rm -rf .build

# Quick start: `make run` and `make test`. Both install the Debian packages
# they need (as root, with apt-get) or stop and print the command to run.

SWIFT ?= swift
DEB_PACKAGES := libcapstone-dev libzydis-dev liblzma-dev pkg-config python3 e2fsprogs gcc libc6-dev make gdb
export SWIFT_BACKTRACE ?= enable=no

.PHONY: deps build release test run demo check fuzz bench bench-guests bench-linux clean isa

deps:
	@sh scripts/ensure-packages.sh $(DEB_PACKAGES)

build: deps
	$(SWIFT) build

# Regenerates Sources/X86ISA/Generated/ from the instruction-set description (Semantics.swift,
# Encodings/): X86ISA alone, compiled with scripts/isa/main.swift and a stand-in for the
# generated file (scripts/isa/Bootstrap.swift), so it works whatever state that file and the
# rest of the package are in.
isa:
	mkdir -p .build/isa
	$(SWIFT)c -module-name X86ISA -o .build/isa/generate-isa $$(ls Sources/X86ISA/*.swift Sources/X86ISA/Encodings/*.swift) \
		scripts/isa/Bootstrap.swift scripts/isa/main.swift
	.build/isa/generate-isa Sources/X86ISA/Generated/Mnemonic.swift

# softvmm-system-x86_64: softvmm under QEMU's name and options (QEMU=that ACCEL=tcg ./run_tests.sh).
FRONT_END := .build/release/softvmm-system-x86_64

release: deps
	$(SWIFT) build -c release
	ln -sf softvmm $(FRONT_END)

# The unit tests, then a fixed-seed slice of the Capstone cross-check. The
# slice is a ratchet: the decoder issue is open until these limits are 0, and
# a change that adds an unexplained disagreement fails here.
test: deps
	$(SWIFT) build -c release --product softvmm
	ln -sf softvmm $(FRONT_END)
	# Two runs: the replay tests make thousands of machines, and beside the host-CPU oracle's
	# fork() per instruction every page they write becomes a copy-on-write fault (8 minutes
	# together, under 2 apart).
	$(SWIFT) test --skip ReplayTests
	$(SWIFT) test --filter ReplayTests
	.build/release/softvmm decoder-check --count 200000 --seed 1 --mode 64 --show 5 --max-unexplained 0
	.build/release/softvmm decoder-check --count 50000 --seed 1 --mode 32 --show 5 --max-unexplained 0
	.build/release/softvmm decoder-check --count 50000 --seed 1 --mode 16 --show 5 --max-unexplained 0
	.build/release/softvmm decoder-corpus /lib/x86_64-linux-gnu/libc.so.6 --show 3 --max-unexplained 0
	.build/release/softvmm cpu-check --count 50000 --seed 1 --show 5
	# The same cases through the translator (each a block of its own, translated), and the
	# guests under both engines: the same counts and output.
	.build/release/softvmm cpu-check --count 10000 --seed 2 --show 5 --engine jit
	sh scripts/engines-check.sh
	Benchmarks/check-hot-path.sh .build/release/softvmm
	# Debian's stock kernel to the busybox initramfs: vmlinux twice (one recorded and
	# replayed), then the bzImage; times and MIPS beside the issue's limits.
	sh scripts/front-end-check.sh
	sh scripts/gdb-check.sh
	sh scripts/linux-check.sh
	sh scripts/gdb-linux-check.sh

# Debian's stock kernel with a busybox shell on the console (fetched and built on first use
# into .cache/linux-guest): type commands; `poweroff` ends it (status 0), Ctrl-A X quits.
run: deps
	$(SWIFT) build -c release --product softvmm
	sh scripts/fetch-linux-guest.sh
	[ -s .cache/linux-guest/vmlinux ] && [ .cache/linux-guest/vmlinux -nt .cache/linux-guest/vmlinuz ] || \
		.build/release/softvmm extract-vmlinux .cache/linux-guest/vmlinuz -o .cache/linux-guest/vmlinux
	@echo "softvmm: the same kernel runs one command with this machine's files:" \
		".build/release/softvmm exec -- uname -a   (see the README)"
	.build/release/softvmm run --kernel .cache/linux-guest/vmlinux --initrd .cache/linux-guest/initrd.gz \
		--append "console=ttyS0" -m 256M

# Boots the bundled demo guest (Fixtures/guests/system: real, protected and long mode,
# exceptions, paging, ring 3) and prints its serial output and the run's statistics.
demo: deps
	$(SWIFT) build -c release --product softvmm
	.build/release/softvmm run Fixtures/guests/system/system.bin --stats; test $$? -eq 1  # the guest's debug exit 0

# The full campaign of the decoder issue (1M cases per seed and mode).
check: release
	for m in 64 32 16; do for s in 1 2 3; do .build/release/softvmm decoder-check --count 1000000 --seed $$s --mode $$m || exit 1; done; done

# The decoder fuzzer (libFuzzer + AddressSanitizer), FUZZ_SECONDS long. Inputs that fail
# its checks land in Fixtures/fuzz/decoder/ as crash-*; commit them (a test replays them).
FUZZ_SECONDS ?= 600
fuzz: deps
	cd Fuzz && $(SWIFT) build -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -Xclang-linker -Xswiftc -fuse-ld=lld
	mkdir -p .build/fuzz-corpus
	Fuzz/.build/release/decoder-fuzz -max_len=15 -max_total_time=$(FUZZ_SECONDS) \
		-artifact_prefix=Fixtures/fuzz/decoder/ .build/fuzz-corpus

# Decoder throughput against Capstone on libc's .text (Benchmarks/RESULTS.md).
bench: deps
	$(SWIFT) build -c release --product decoder-bench
	.build/release/decoder-bench
	$(SWIFT) build -c release --product pmap-bench
	.build/release/pmap-bench
	$(SWIFT) build -c release --product cpu-bench
	.build/release/cpu-bench

# The benchmark guest under softvmm and QEMU's TCG side by side (Benchmarks/run-guests.sh).
bench-guests: deps
	@sh scripts/ensure-packages.sh qemu-system-x86
	$(SWIFT) build -c release --product softvmm
	Benchmarks/run-guests.sh

# The Linux guest's boot and workloads (syscalls, processes, sha256sum, gzip) beside QEMU TCG.
bench-linux: deps
	@sh scripts/ensure-packages.sh qemu-system-x86
	$(SWIFT) build -c release --product softvmm
	Benchmarks/run-linux.py

clean:
	rm -rf .build

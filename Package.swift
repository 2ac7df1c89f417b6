// swift-tools-version: 6.1
import PackageDescription

// Layers and import rules: docs/ARCHITECTURE.md. Modules are added as their issues land.
let uncheckedExclusivity: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"])]
// The interpreter and what it runs on are optimized in debug builds too: the tests run whole
// guests hundreds of times (record and replay), and unoptimized they run ~20x slower.
let optimizedInDebug: [SwiftSetting] = [.unsafeFlags(["-O"], .when(configuration: .debug))]
// The VMM's small accessors (the retired count, guest time, RIP, the interrupt checks) are
// called across the module line on every exit; serialised for inlining into the monitor
// they cost what they did when both sides were one module (Benchmarks/RESULTS.md, issue 20).
let inlinableAcrossModules: [SwiftSetting] = [.unsafeFlags(["-cross-module-optimization"], .when(configuration: .release))]

let package = Package(
    name: "softvmm",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "softvmm", targets: ["softvmm"]),
        .library(name: "X86Decoder", targets: ["X86Decoder"]),
        .library(name: "DecoderCheck", targets: ["DecoderCheck"]),
        .library(name: "GuestMemory", targets: ["GuestMemory"]),
        .library(name: "NestedPaging", targets: ["NestedPaging"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        .target(name: "X86", swiftSettings: optimizedInDebug),
        .target(name: "X86ISA", swiftSettings: optimizedInDebug),
        .target(name: "X86Decoder", dependencies: ["X86", "X86ISA"], swiftSettings: optimizedInDebug),
        .target(name: "SoftFloat", swiftSettings: optimizedInDebug),
        .target(name: "GuestMemory", dependencies: ["X86"], swiftSettings: optimizedInDebug),
        // Every TLB miss walks the nested tables: no dynamic exclusivity checks there (they were
        // a fifth of a walk's host instructions; Benchmarks/RESULTS.md).
        .target(name: "NestedPaging", dependencies: ["X86", "GuestMemory"], swiftSettings: uncheckedExclusivity + optimizedInDebug),
        .target(name: "X86CPU", dependencies: ["X86", "X86ISA", "X86Decoder", "SoftFloat", "GuestMemory", "NestedPaging"],
                swiftSettings: uncheckedExclusivity + optimizedInDebug),
        // The host CPU as the oracle for the interpreter (test support, like DecoderCheck).
        .target(name: "CPUCheck", dependencies: ["X86", "X86ISA", "X86Decoder", "X86CPU", "CHostCPU"]),
        // The VMM, the kernel side: VirtualMachine, VirtualCPU, the nested-fault handler, exits
        // and register sets as its own types. The monitor, the user side: the platform, the run
        // loop, exit handlers, assists, loaders, ACPI, the seam.
        // The monitor's per-exit path (and the CPU's run entry) reads and writes class
        // properties of the machine, its devices and the CPU on every exit; their dynamic
        // exclusivity checks were half of an I/O exit's cost (Benchmarks/RESULTS.md). The
        // static checks stay.
        .target(name: "Devices", dependencies: ["X86"], swiftSettings: uncheckedExclusivity + optimizedInDebug),
        .target(name: "VMM", dependencies: ["X86", "GuestMemory", "NestedPaging", "X86CPU", "X86JIT"],
                swiftSettings: uncheckedExclusivity + optimizedInDebug + inlinableAcrossModules),
        .target(name: "Monitor", dependencies: ["X86", "X86Decoder", "VMM", "Devices", "X86CPU"],
                swiftSettings: uncheckedExclusivity + optimizedInDebug),
        // Record and replay: the trace format (Trace.swift documents it) and, on top of the
        // monitor's seam, the recorder and the replayer.
        // The recorder runs on every exit: no dynamic exclusivity checks there either.
        .target(name: "Debugger", dependencies: ["X86", "VMM", "Monitor", "Replay"]),
        .target(name: "X86JIT", dependencies: ["X86", "X86CPU", "X86Decoder"]),
        .target(name: "Replay", dependencies: ["X86", "VMM", "Monitor"],
                swiftSettings: uncheckedExclusivity + optimizedInDebug),
        .systemLibrary(name: "CCapstone", pkgConfig: "capstone",
                       providers: [.apt(["libcapstone-dev"])]),
        // Zydis is the second reference that arbitrates where Capstone 4.0.2 is
        // wrong. Debian ships no .pc file for it, so the module map links it.
        .systemLibrary(name: "CZydis", providers: [.apt(["libzydis-dev"])]),
        // liblzma: `softvmm extract-vmlinux` takes the kernel out of a bzImage's XZ payload.
        .systemLibrary(name: "CLZMA", pkgConfig: "liblzma", providers: [.apt(["liblzma-dev"])]),
        // The host CPU as an oracle: run one instruction natively in a child process.
        .target(name: "CHostCPU"),
        .target(name: "DecoderCheck", dependencies: ["X86", "X86Decoder", "CCapstone", "CZydis", "CHostCPU"]),
        .executableTarget(name: "softvmm", dependencies: [
            "X86", "X86Decoder", "DecoderCheck", "GuestMemory", "NestedPaging", "VMM", "Monitor", "X86CPU", "X86JIT", "CPUCheck", "Devices", "Replay", "Debugger", "CLZMA",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // Benchmarks (release builds; not part of make test): see Benchmarks/RESULTS.md.
        .executableTarget(name: "decoder-bench", dependencies: ["X86", "X86Decoder", "DecoderCheck", "CCapstone"],
                          path: "Benchmarks/DecoderBench"),
        .executableTarget(name: "cpu-bench", dependencies: ["X86", "X86CPU"], path: "Benchmarks/CPUBench"),
        .executableTarget(name: "pmap-bench", dependencies: ["X86", "GuestMemory", "NestedPaging", "VMM", "Monitor"],
                          path: "Benchmarks/PmapBench"),
        .testTarget(name: "X86ISATests", dependencies: ["X86ISA", "X86Decoder"]),
        .testTarget(name: "SoftFloatTests", dependencies: ["SoftFloat"]),
        .testTarget(name: "X86DecoderTests", dependencies: ["X86Decoder"]),
        .testTarget(name: "GuestMemoryTests", dependencies: ["GuestMemory", "X86"]),
        .testTarget(name: "NestedPagingTests", dependencies: ["NestedPaging", "GuestMemory", "X86"]),
        .testTarget(name: "X86CPUTests", dependencies: ["X86CPU", "CPUCheck", "X86", "X86ISA", "X86Decoder"]),
        // The fixture guests' images and configurations, for the tests that run them.
        .target(name: "FixtureSupport", dependencies: ["VMM", "Monitor"], path: "Tests/FixtureSupport"),
        .testTarget(name: "VMMTests", dependencies: ["VMM", "NestedPaging", "GuestMemory", "X86", "X86CPU", "X86JIT"]),
        .testTarget(name: "MonitorTests", dependencies: ["Monitor", "VMM", "NestedPaging", "GuestMemory", "X86", "X86CPU", "Devices", "FixtureSupport"]),
        .testTarget(name: "ReplayTests", dependencies: ["Replay", "VMM", "Monitor", "GuestMemory", "X86", "FixtureSupport"]),
        .testTarget(name: "DecoderCheckTests", dependencies: ["DecoderCheck", "X86Decoder"]),
        .testTarget(name: "DevicesTests", dependencies: ["Devices", "X86"]),
        .testTarget(name: "X86JITTests", dependencies: ["X86JIT", "X86Decoder", "DecoderCheck", "X86", "X86CPU", "CPUCheck"]),
        .testTarget(name: "DebuggerTests", dependencies: ["Debugger", "Replay", "Monitor", "VMM", "GuestMemory", "X86", "FixtureSupport"]),
    ]
)

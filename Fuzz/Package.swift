// swift-tools-version: 6.1
// The libFuzzer harness for the decoder. It is a package of its own so that the
// main package builds without -sanitize=fuzzer. Recipe: README.md, "Fuzzing".
import PackageDescription

let package = Package(
    name: "softvmm-fuzz",
    dependencies: [.package(path: "..")],
    targets: [
        .executableTarget(name: "decoder-fuzz", dependencies: [
            .product(name: "X86Decoder", package: "main"),
            .product(name: "DecoderCheck", package: "main"),
        ]),
    ]
)

// `make isa`: compiled with Sources/X86ISA as one module, writes the generated Swift to the
// path given (Sources/X86ISA/Generated/Mnemonic.swift).
import Foundation

do {
    let text = try ISAGenerator.source()
    try text.write(toFile: CommandLine.arguments[1], atomically: true, encoding: .utf8)
} catch {
    print("generate-isa: \(error)")
    exit(1)
}

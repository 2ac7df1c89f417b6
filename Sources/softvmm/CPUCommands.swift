import ArgumentParser
import CPUCheck
import Foundation
import VMM
@_spi(Translator) import X86JIT

struct CPUCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cpu-check",
        abstract: "Run random instructions natively and in the interpreter, and compare the results.")

    @Option(help: "Number of cases.") var count = 10_000
    @Option(help: "Seed.") var seed: UInt64 = 1
    @Option(help: "Only this family (\(Family.allCases.map(\.rawValue).joined(separator: ", "))).") var family: Family?
    @Option(help: "How many mismatches to print.") var show = 10
    @Option(help: "Only the cases whose bytes begin with these (hex), each printed with the host's and softvmm's results.")
    var matching: String?
    @Option(help: "What runs softvmm's side: interp (the interpreter) or jit (each case a block of its own, translated to host code).")
    var engine = ExecutionEngine.interpreter

    func run() throws {
        let start = Date()
        let prefix = matching.map { hex in
            stride(from: 0, to: hex.filter { !$0.isWhitespace }.count - 1, by: 2).compactMap { i -> UInt8? in
                let digits = Array(hex.filter { !$0.isWhitespace })
                return UInt8(String(digits[i...i + 1]), radix: 16)
            }
        }
        #if arch(x86_64)
        let translator = engine == .jit ? try FormTranslator() : nil
        #else
        guard engine == .interpreter else { throw ValidationError("--engine jit: the translator needs an x86-64 host") }
        let translator: FormTranslator? = nil
        #endif
        let r = runCPUCampaign(count: count, seed: seed, family: family, keep: show, matching: prefix, translator: translator) {
            print("case " + $0.description)
        }
        print("cpu-check: \(count) cases, seed \(seed), \(String(format: "%.1f", Date().timeIntervalSince(start))) s, engine \(engine.rawValue)")
        print("against the \(hostVendor == .amd ? "AMD" : "Intel") model (the host is \(hostVendor == .amd ? "an AMD" : "an Intel") CPU: " +
              "the host settles only its own vendor's behaviour)")
        print("family       cases  mismatches")
        for f in Family.allCases {
            guard let row = r.perFamily[f] else { continue }
            print(f.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0) + String(format: "%8d  %10d", row.cases, row.mismatches))
        }
        for m in r.firstMismatches { print(m) }
        print("\(r.count - r.mismatchCount) passed, \(r.mismatchCount) failed")
        if r.mismatchCount > 0 { throw ExitCode(1) }
    }
}

extension Family: ExpressibleByArgument {}
extension ExecutionEngine: ExpressibleByArgument {}

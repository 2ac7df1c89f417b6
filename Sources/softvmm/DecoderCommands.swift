import ArgumentParser
import DecoderCheck
import Foundation
import X86
import X86Decoder

extension CPUMode: ExpressibleByArgument {
    public init?(argument: String) { self.init(bits: Int(argument) ?? 0) }
}

extension DecoderChecker.Reference: ExpressibleByArgument {}

struct DecoderCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decoder-check",
        abstract: "Cross-check the decoder against Capstone on generated inputs.")

    @Option(help: "Number of cases.") var count = 100_000
    @Option(help: "Seed of the case generator.") var seed: UInt64 = 1
    @Option(help: "16, 32 or 64.") var mode: CPUMode = .bits64
    @Option(help: "How many unexplained cases to print.") var show = 20
    @Option(help: "Explain one input (hex bytes) instead of running a campaign.") var bytes: String?
    @Option(help: "Also print the random inputs that fell in this known class.") var showClass: String?
    @Option(help: "Fail only when more than this many cases are unexplained (a regression ratchet).")
    var maxUnexplained = 0
    @Option(help: "capstone, or zydis to compare with Zydis directly (no known classes apply).")
    var reference: DecoderChecker.Reference = .capstone
    @Option(help: "Only check the generated inputs that address this map (for example EVEX).")
    var map: String?
    @Option(help: "Whose reading to check: intel or amd (default: the host's vendor, which the host CPU can settle).")
    var vendor: Vendor = HostCPU.vendor

    func run() throws {
        if let bytes {
            var raw = bytes.filter { !$0.isWhitespace }[...]
            var buf: [UInt8] = []
            while raw.count >= 2, let b = UInt8(raw.prefix(2), radix: 16) { buf.append(b); raw = raw.dropFirst(2) }
            print(explainCase(buf, mode: mode, vendor: vendor))
            return
        }
        let start = Date()
        let r = runCampaign(mode: mode, seed: seed, count: count, keep: show, keepClass: showClass,
                            reference: reference, onlyMap: map, vendor: vendor)
        let seconds = Date().timeIntervalSince(start)
        let against = reference == .capstone ? "Capstone \(CapstoneOracle.version)" : "Zydis"
        print("decoder-check: \(count) cases, seed \(seed), \(mode), \(vendor == .amd ? "AMD" : "Intel") reading, \(against), \(String(format: "%.1f", seconds)) s")
        print("map        agree      known  unexplained")
        for (name, row) in r.perMap.sorted(by: { $0.key < $1.key }) {
            print(name.padding(toLength: 8, withPad: " ", startingAt: 0)
                  + String(format: "%9d  %9d  %11d", row.agree, row.known, row.unexplained))
        }
        let pct = r.randomCases == 0 ? 0 : 100 * Double(r.knownRandom) / Double(r.randomCases)
        print(String(format: "known classes cover %.3f%% of random inputs", pct))
        for (id, n) in r.perClass.sorted(by: { $0.value > $1.value }) {
            let share = r.randomCases == 0 ? 0 : 100 * Double(r.perClassRandom[id, default: 0]) / Double(r.randomCases)
            print("  \(id): \(n) (\(String(format: "%.3f", share))% of random)   e.g. \(r.classExamples[id]?.hexBytes ?? "")")
        }
        if let showClass {
            print("random inputs in \(showClass):")
            for c in r.classCases { print(c.report) }
        }
        if !r.firstUnexplained.isEmpty {
            print("first unexplained cases:")
            for c in r.firstUnexplained { print(c.report) }
        }
        print("\(r.count - r.unexplainedCount) passed, \(r.unexplainedCount) failed")
        if r.unexplainedCount > maxUnexplained { throw ExitCode(1) }
    }
}

struct Disasm: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Disassemble a flat binary file.")
    @Argument(help: "The file to disassemble.") var file: String
    @Option(help: "16, 32 or 64.") var mode: CPUMode = .bits64
    @Option(help: "Address of the first byte.") var base: String = "0"
    @Flag(help: "Show Capstone's reading beside each line.") var check = false

    func run() throws {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ValidationError("cannot read \(file)")
        }
        let b = base.hasPrefix("0x") ? UInt64(base.dropFirst(2), radix: 16) : UInt64(base)
        guard let address = b else { throw ValidationError("bad --base \(base)") }
        let bytes = [UInt8](data)
        print(DisassemblyListing(bytes: bytes, mode: mode, base: address, check: check).text, terminator: "")
    }
}

struct DecoderCorpus: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decoder-corpus",
        abstract: "Cross-check the decoder against Capstone on the .text of an ELF file, decoded linearly.")
    @Argument(help: "An ELF64 file.") var file = "/lib/x86_64-linux-gnu/libc.so.6"
    @Option(help: "How many unexplained cases to print.") var show = 20
    @Option(help: "Fail only when more than this many instructions are unexplained.") var maxUnexplained = 0

    func run() throws {
        let text = try ELFText(path: file)
        let start = Date()
        let r = runCorpus(text, keep: show)
        let seconds = Date().timeIntervalSince(start)
        print("decoder-corpus: \(file), .text \(r.bytes) bytes at 0x\(String(text.address, radix: 16)), "
              + "\(r.instructions) instructions, \(String(format: "%.1f", seconds)) s")
        print("agree: \(r.agree)   known classes: \(r.perClass.values.reduce(0, +))   unexplained: \(r.unexplained)")
        for (id, n) in r.perClass.sorted(by: { $0.value > $1.value }) {
            let ref = KnownClasses.all.first { $0.id == id }?.reference.rawValue ?? "?"
            print("  \(id): \(n), softvmm confirmed by \(ref)   e.g. \(r.classExamples[id]?.hexBytes ?? "")")
        }
        if !r.firstUnexplained.isEmpty {
            print("first unexplained cases:")
            for c in r.firstUnexplained { print(c.report) }
        }
        if r.unexplained > maxUnexplained { throw ExitCode(1) }
    }
}

struct DecoderCases: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decoder-cases",
        abstract: "Print candidate fixture lines: one input per decoded form, backed by Capstone and Zydis.")

    @Option(help: "16, 32 or 64.") var mode: CPUMode = .bits64
    @Flag(help: "Only inputs that read differently in 64-bit mode.") var modeSpecific = false

    func run() throws {
        var gen = FixtureCandidates(mode: mode, modeSpecific: modeSpecific)
        for line in gen.generate() { print(line) }
    }
}

extension Vendor: ExpressibleByArgument {
    public init?(argument: String) {
        switch argument.lowercased() {
        case "intel": self = .intel
        case "amd": self = .amd
        default: return nil
        }
    }
}

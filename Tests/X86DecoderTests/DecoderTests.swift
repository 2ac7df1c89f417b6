import Foundation
import Testing
import X86
@testable import X86Decoder

/// One line of Fixtures/decoder/cases.txt: bytes | mode | expected text | notes.
struct DecoderCase: CustomTestStringConvertible, Sendable {
    var line: Int
    var bytes: [UInt8]
    var mode: CPUMode
    var expected: String
    var notes: String
    var testDescription: String { "line \(line): \(expected)" }
}

enum Fixtures {
    /// The repository root, found from this file's path.
    static let root: String = {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        return parts.joined(separator: "/")
    }()

    static func read(_ relative: String) -> String {
        try! String(contentsOfFile: root + "/" + relative, encoding: .utf8)
    }

    static let decoderCases: [DecoderCase] = {
        var cases: [DecoderCase] = []
        for (i, raw) in read("Fixtures/decoder/cases.txt").split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmed
            if line.isEmpty || line.hasPrefix("#") { continue }
            let f = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmed }
            precondition(f.count >= 3, "cases.txt:\(i + 1): need bytes | mode | text")
            let bytes = f[0].split(separator: " ").map { UInt8($0, radix: 16)! }
            cases.append(DecoderCase(line: i + 1, bytes: bytes, mode: CPUMode(bits: Int(f[1])!)!,
                                     expected: f[2], notes: f.count > 3 ? f[3] : ""))
        }
        return cases
    }()
}

@Suite struct DecoderCases {
    @Test(arguments: Fixtures.decoderCases)
    func decodesAsExpected(_ c: DecoderCase) {
        let ins = X86Decoder(mode: c.mode).decode(c.bytes)
        let text = IntelFormatter().format(ins, address: 0x1000)
        #expect(text == c.expected, "cases.txt:\(c.line) \(c.notes)")
        if ins.status == .valid {
            #expect(Int(ins.length) == c.bytes.count, "cases.txt:\(c.line): length")
        }
    }

    @Test func fixtureHasCasesForEveryMode() {
        for mode in CPUMode.allCases {
            #expect(Fixtures.decoderCases.contains { $0.mode == mode })
        }
    }

    /// At least 2,000 cases, and a valid one in every opcode map.
    @Test func fixtureCoversEveryMap() {
        #expect(Fixtures.decoderCases.count >= 2000)
        var maps = Set<OpcodeMap>()
        for c in Fixtures.decoderCases {
            let ins = X86Decoder(mode: c.mode).decode(c.bytes)
            if ins.status == .valid { maps.insert(ins.map) }
        }
        #expect(maps == Set(OpcodeMap.allCases), "missing: \(Set(OpcodeMap.allCases).subtracting(maps))")
    }
}

@Suite struct DecoderInvariants {
    @Test func tablesBuild() {
        let t = DecoderTables.shared
        #expect(t.forms.count > 1000)
        #expect(t.forms.count == t.formLines.count)
    }

    /// Every proper prefix of a valid instruction is `truncated`, and decoding
    /// never reads past the buffer (each buffer is allocated to its exact size).
    @Test(arguments: Fixtures.decoderCases.filter { !$0.expected.hasPrefix("(bad)") })
    func prefixesAreTruncated(_ c: DecoderCase) {
        let d = X86Decoder(mode: c.mode)
        for n in 0..<c.bytes.count {
            let p = UnsafeMutablePointer<UInt8>.allocate(capacity: max(n, 1))
            defer { p.deallocate() }
            p.initialize(from: c.bytes, count: n)
            let ins = n == 0 ? d.decode([]) : d.decode(p, count: n)
            #expect(ins.status == .truncated, "cases.txt:\(c.line): \(n) of \(c.bytes.count) bytes")
        }
    }

    /// Re-decoding the first `length` bytes of any input gives the same instruction.
    @Test func redecodeIsStable() {
        var rng = SystemRandomNumberGenerator.seeded(7)
        for mode in CPUMode.allCases {
            let d = X86Decoder(mode: mode)
            for _ in 0..<20_000 {
                let bytes = (0..<15).map { _ in UInt8.random(in: 0...255, using: &rng) }
                let a = d.decode(bytes)
                guard a.status == .valid else { continue }
                let b = d.decode(Array(bytes.prefix(Int(a.length))))
                #expect(b.status == .valid && b.length == a.length && b.form == a.form)
                #expect(!IntelFormatter().format(a).isEmpty)
            }
        }
    }

    @Test func vendorSelectsNearBranchSize() {
        let bytes: [UInt8] = [0x66, 0xE8, 0x00, 0x00, 0x00, 0x00]
        #expect(X86Decoder(mode: .bits64, vendor: .intel).decode(bytes).length == 6)
        #expect(X86Decoder(mode: .bits64, vendor: .amd).decode(bytes).length == 4)
    }

    /// The other readings that differ (each seen on an Intel and an AMD host): F3 REX.B 90 is
    /// PAUSE on Intel and XCHG r8, rAX on AMD; MOVSXD with 66 reads a word on Intel, a dword on AMD.
    @Test func vendorSelectsForm() {
        let intel = X86Decoder(mode: .bits64, vendor: .intel), amd = X86Decoder(mode: .bits64, vendor: .amd)
        let f3REXB90: [UInt8] = [0xF3, 0x41, 0x90]
        #expect(IntelFormatter().format(intel.decode(f3REXB90)) == "pause")
        #expect(IntelFormatter().format(amd.decode(f3REXB90)) == "xchg eax, r8d")
        #expect(IntelFormatter().format(intel.decode([0x41, 0x90])) == "xchg eax, r8d")
        let movsxd: [UInt8] = [0x66, 0x63, 0x03]
        #expect(IntelFormatter().format(intel.decode(movsxd)) == "movsxd ax, word ptr [rbx]")
        #expect(IntelFormatter().format(amd.decode(movsxd)) == "movsxd ax, dword ptr [rbx]")
        #expect(IntelFormatter().format(amd.decode([0x63, 0x03])) == "movsxd eax, dword ptr [rbx]")
    }
}

extension SystemRandomNumberGenerator {
    static func seeded(_ s: UInt64) -> SplitMix64 { SplitMix64(seed: s) }
}

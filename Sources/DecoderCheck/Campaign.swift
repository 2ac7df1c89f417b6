import X86
import X86Decoder

/// A run of the cross-check over generated cases, with per-map counts.
public struct CampaignReport: Sendable {
    public struct Row: Sendable {
        public var agree = 0
        public var known = 0
        public var unexplained = 0
        public var total: Int { agree + known + unexplained }
    }
    public var mode: CPUMode
    public var seed: UInt64
    public var count: Int
    public var perMap: [String: Row] = [:]
    public var perClass: [String: Int] = [:]
    /// Per class, how many of the pure random inputs fell in it.
    public var perClassRandom: [String: Int] = [:]
    public var knownRandom = 0
    public var randomCases = 0
    /// The first unexplained cases, in order.
    public var firstUnexplained: [CheckedCase] = []
    /// Random inputs of the class asked for (`keepClass`), in order.
    public var classCases: [CheckedCase] = []
    /// The first case of each known class.
    public var classExamples: [String: CheckedCase] = [:]
    public var unexplainedCount: Int { perMap.values.reduce(0) { $0 + $1.unexplained } }
    public var knownCount: Int { perMap.values.reduce(0) { $0 + $1.known } }
}

public func runCampaign(mode: CPUMode, seed: UInt64, count: Int, keep: Int = 20, keepClass: String? = nil,
                        reference: DecoderChecker.Reference = .capstone, onlyMap: String? = nil,
                        vendor: Vendor = HostCPU.vendor) -> CampaignReport {
    let checker = DecoderChecker(mode: mode, reference: reference, vendor: vendor)
    var gen = CaseGenerator(seed: seed, mode: mode)
    var report = CampaignReport(mode: mode, seed: seed, count: count)
    let buf = UnsafeMutablePointer<UInt8>.allocate(capacity: CaseGenerator.caseLength)
    defer { buf.deallocate() }
    for _ in 0..<count {
        let kind = gen.next(into: buf)
        let input = UnsafeBufferPointer(start: buf, count: CaseGenerator.caseLength)
        if let onlyMap, checker.mapName(input) != onlyMap { continue }
        let c = checker.check(input)
        if kind == .random { report.randomCases += 1 }
        var row = report.perMap[c.mapName, default: .init()]
        switch c.verdict {
        case .agree: row.agree += 1
        case .known(let id):
            row.known += 1
            report.perClass[id, default: 0] += 1
            if report.classExamples[id] == nil { report.classExamples[id] = c }
            if kind == .random {
                report.knownRandom += 1
                report.perClassRandom[id, default: 0] += 1
                if id == keepClass && report.classCases.count < 10_000 { report.classCases.append(c) }
            }
        case .unexplained:
            row.unexplained += 1
            if report.firstUnexplained.count < keep { report.firstUnexplained.append(c) }
        }
        report.perMap[c.mapName] = row
    }
    return report
}

extension CheckedCase {
    public var hexBytes: String { bytes.map { hexByte($0) }.joined(separator: " ") }

    /// A multi-line account of a disagreement.
    public var report: String {
        let f = IntelFormatter()
        let ours = ours.status == .valid
            ? "\(f.format(self.ours, address: DecoderChecker.address))  [\(self.ours.length) bytes; \(self.ours.specLine)]"
            : "\(self.ours.status)"
        let cs = capstone.map { $0.description } ?? "invalid"
        var s = "\(hexBytes)  (\(mode), \(mapName))"
        if case .unexplained(let what) = verdict { s += "  differs in \(what)" }
        s += "\n    softvmm:  \(ours)"
        if let n = oursNormalized { s += "\n              \(n)" }
        s += "\n    " + (referenceName + ":").padding(toLength: 10, withPad: " ", startingAt: 0) + cs
        return s
    }
}

func hexByte(_ b: UInt8) -> String {
    let d = Array("0123456789abcdef")
    return String([d[Int(b >> 4)], d[Int(b & 15)]])
}

/// softvmm, Capstone and Zydis on one input, with the verdict.
public func explainCase(_ bytes: [UInt8], mode: CPUMode, vendor: Vendor = HostCPU.vendor) -> String {
    let checker = DecoderChecker(mode: mode, vendor: vendor)
    return bytes.withUnsafeBufferPointer { buf in
        let c = checker.check(buf)
        let z = ZydisOracle(mode: mode).decode(buf, address: DecoderChecker.address)
        let host = !HostCPU.runs(mode) ? "does not run 16-bit code"
            : HostCPU.probe(buf, mode: mode).map { "\($0.outcome) (\(mode))" } ?? "could not run"
        return c.report + "\n    zydis:    " + (z.map { $0.description } ?? "invalid")
            + "\n    host CPU: " + host + "\n    verdict:  \(c.verdict)"
    }
}

import GuestMemory
import NestedPaging
import X86

/// A fault-sequence log: every nested fault a VM's memory took and its outcome, so
/// that `softvmm faults replay` can drive a fresh memory system through the same
/// sequence and check that it ends in the same state.
///
/// Format, version 1: text, one record per line, each line ending in its FNV-1a
/// 32-bit checksum (of the text before it) in hex:
///
///     softvmm-faults 1 <ept|npt> <hardware|emulated> <address width> <ranges> <crc>
///     f <index> <gpa hex> <r|w|x> <outcome> <crc>
///     end <count> <state hash hex> <crc>
///
/// `<ranges>` is `kind:base:size` joined with commas (`ram:0:a0000,mmio:fee00000:1000`).
/// Outcomes: `entered:<hpa>`, `copied:<hpa>` (copy-on-write), `ad`, `spurious`, `mmio:<range>:<offset>`,
/// `prot:<gpa>`, `unbacked:<gpa>` (hex without 0x).
public enum FaultLog {
    public static let version = 1

    /// A log being written. `finish` adds the trailer with the final state hash.
    public final class Writer {
        public private(set) var lines: [String] = []
        private var count = 0

        public init(map: MemoryMap, format: PmapFormat, adMode: AccessedDirtyMode) {
            let ranges = map.ranges.map { "\($0.kind.rawValue):\(h($0.base.rawValue)):\(h($0.size))" }.joined(separator: ",")
            add("softvmm-faults \(FaultLog.version) \(format.rawValue) \(adMode.rawValue) \(map.addressWidth) \(ranges)")
        }

        func append(gpa: GuestPhysicalAddress, access: AccessType, outcome: NestedFaultOutcome) {
            add("f \(count) \(h(gpa.rawValue)) \(accessCode(access)) \(encode(outcome))")
            count += 1
        }

        public func finish(stateHash: UInt64) -> String {
            add("end \(count) \(h(stateHash))")
            return lines.joined(separator: "\n") + "\n"
        }

        private func add(_ text: String) { lines.append(text + " " + h(UInt64(checksum(text)))) }
    }

    /// A parsed log.
    public struct Contents {
        public var map: MemoryMap
        public var format: PmapFormat
        public var adMode: AccessedDirtyMode
        public var faults: [(gpa: GuestPhysicalAddress, access: AccessType, outcome: NestedFaultOutcome)]
        /// The final state's hash (nil: not recorded, as in a whole-run trace).
        public var stateHash: UInt64?
        /// Whether host-physical addresses must match too: not for a whole-run trace, whose run
        /// also took frames for the images it loaded, which a replay at this layer does not.
        public var compareHostAddresses = true

        public init(map: MemoryMap, format: PmapFormat, adMode: AccessedDirtyMode,
                    faults: [(gpa: GuestPhysicalAddress, access: AccessType, outcome: NestedFaultOutcome)],
                    stateHash: UInt64?, compareHostAddresses: Bool = true) {
            (self.map, self.format, self.adMode, self.faults) = (map, format, adMode, faults)
            (self.stateHash, self.compareHostAddresses) = (stateHash, compareHostAddresses)
        }
    }

    /// Errors name the record (0 is the header) and what was wrong with it.
    public struct ParseError: Error, Equatable, CustomStringConvertible {
        public var record: Int
        public var problem: String
        public var description: String { "fault log record \(record): \(problem)" }
    }

    public static func parse(_ text: String) throws(ParseError) -> Contents {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var fields: [[String]] = []
        for (i, line) in lines.enumerated() {
            if line.isEmpty && i == lines.count - 1 { break }
            var words = line.split(separator: " ").map(String.init)
            guard let crc = words.popLast(), let sum = UInt32(crc, radix: 16),
                  sum == checksum(words.joined(separator: " ")) else {
                let cutShort = i == lines.count - 1 && !text.hasSuffix("\n")
                throw ParseError(record: i, problem: cutShort ? "the log is truncated inside this record"
                                                              : "checksum mismatch (the record is corrupted)")
            }
            fields.append(words)
        }
        guard let head = fields.first, head.count == 6, head[0] == "softvmm-faults" else {
            throw ParseError(record: 0, problem: "not a softvmm fault log header")
        }
        guard head[1] == String(version) else { throw ParseError(record: 0, problem: "version \(head[1]) is not \(version)") }
        guard let format = PmapFormat(rawValue: head[2]), let mode = AccessedDirtyMode(rawValue: head[3]),
              let width = Int(head[4]) else {
            throw ParseError(record: 0, problem: "bad format, A/D mode or address width")
        }
        var ranges: [MemoryRange] = []
        for spec in head[5].split(separator: ",") {
            let p = spec.split(separator: ":")
            guard p.count == 3, let kind = MemoryRange.Kind(rawValue: String(p[0])),
                  let base = UInt64(p[1], radix: 16), let size = UInt64(p[2], radix: 16) else {
                throw ParseError(record: 0, problem: "bad range \(spec)")
            }
            ranges.append(MemoryRange(kind, base: base, size: size))
        }
        let map: MemoryMap
        do { map = try MemoryMap(ranges, addressWidth: width) } catch {
            throw ParseError(record: 0, problem: "\(error)")
        }
        var faults: [(GuestPhysicalAddress, AccessType, NestedFaultOutcome)] = []
        for (i, f) in fields.enumerated().dropFirst() {
            if f.first == "end" {
                guard i == fields.count - 1, f.count == 3, Int(f[1]) == faults.count, let hash = UInt64(f[2], radix: 16) else {
                    throw ParseError(record: i, problem: "bad trailer")
                }
                return Contents(map: map, format: format, adMode: mode, faults: faults.map { ($0.0, $0.1, $0.2) }, stateHash: hash)
            }
            guard f.count == 5, f[0] == "f", Int(f[1]) == faults.count, let gpa = UInt64(f[2], radix: 16),
                  let access = accessType(f[3]), let outcome = decode(f[4]) else {
                throw ParseError(record: i, problem: "bad fault record")
            }
            faults.append((GuestPhysicalAddress(gpa), access, outcome))
        }
        throw ParseError(record: fields.count, problem: "the log is truncated (no trailer)")
    }

    /// The first divergence of a replay.
    public struct Divergence: Equatable, CustomStringConvertible {
        /// The fault's index, or nil for the final state.
        public var index: Int?
        public var expected: String
        public var actual: String
        public var description: String {
            (index.map { "fault \($0)" } ?? "final state") + ": log has \(expected), replay gives \(actual)"
        }
    }

    /// Drives a fresh memory system (its own host memory) through the log's faults.
    /// Returns nil when every outcome and the final state hash match.
    public static func replay(_ log: Contents, hostFrames: Int = 1 << 20) throws -> Divergence? {
        let host = try HostPhysicalMemory(frames: hostFrames)
        let vm = try VMMemory(map: log.map, host: host, format: log.format, adMode: log.adMode)
        defer { vm.teardown() }
        for (i, f) in log.faults.enumerated() {
            let got = vm.handleNestedFault(f.gpa, f.access)
            let same = log.compareHostAddresses ? got == f.outcome : withoutHostAddress(got) == withoutHostAddress(f.outcome)
            if !same { return Divergence(index: i, expected: encode(f.outcome), actual: encode(got)) }
        }
        guard let expected = log.stateHash else { return nil }
        let hash = vm.stateHash()
        return hash == expected ? nil : Divergence(index: nil, expected: h(expected), actual: h(hash))
    }

    /// An outcome with its host-physical address set to 0.
    static func withoutHostAddress(_ o: NestedFaultOutcome) -> NestedFaultOutcome {
        switch o {
        case .entered: .entered(hpa: HostPhysicalAddress(0))
        case .copied: .copied(hpa: HostPhysicalAddress(0))
        default: o
        }
    }

    // MARK: encoding

    static func h(_ v: UInt64) -> String { String(v, radix: 16) }
    static func accessCode(_ a: AccessType) -> String { a == .read ? "r" : (a == .write ? "w" : "x") }
    static func accessType(_ s: String) -> AccessType? { ["r": .read, "w": .write, "x": .execute][s] }

    static func encode(_ o: NestedFaultOutcome) -> String {
        switch o {
        case .entered(let hpa): "entered:\(h(hpa.rawValue))"
        case .copied(let hpa): "copied:\(h(hpa.rawValue))"
        case .accessedDirty: "ad"
        case .spurious: "spurious"
        case .mmioAssist(let r, let off): "mmio:\(r):\(h(off))"
        case .protection(let g): "prot:\(h(g.rawValue))"
        case .unbacked(let g): "unbacked:\(h(g.rawValue))"
        }
    }

    static func decode(_ s: String) -> NestedFaultOutcome? {
        let p = s.split(separator: ":").map(String.init)
        func n(_ i: Int) -> UInt64? { i < p.count ? UInt64(p[i], radix: 16) : nil }
        switch p.first {
        case "entered": return n(1).map { .entered(hpa: HostPhysicalAddress($0)) }
        case "copied": return n(1).map { .copied(hpa: HostPhysicalAddress($0)) }
        case "ad": return p.count == 1 ? .accessedDirty : nil
        case "spurious": return p.count == 1 ? .spurious : nil
        case "mmio": guard let r = n(1), let o = n(2) else { return nil }; return .mmioAssist(range: Int(r), offset: o)
        case "prot": return n(1).map { .protection(gpa: GuestPhysicalAddress($0)) }
        case "unbacked": return n(1).map { .unbacked(gpa: GuestPhysicalAddress($0)) }
        default: return nil
        }
    }

    /// FNV-1a, 32-bit, of a record's text.
    static func checksum(_ s: String) -> UInt32 { fnv1a32(s.utf8) }
}

extension FaultLog {
    /// A log of `count` random nested faults (seeded) against a fresh memory system for
    /// `map`: RAM, MMIO and unbacked addresses, reads, writes and fetches, with some
    /// pages touched again (spurious faults, emulated A/D). For demos and tests.
    public static func recordRandom(map: MemoryMap, format: PmapFormat, adMode: AccessedDirtyMode,
                                    count: Int, seed: UInt64, hostFrames: Int = 1 << 20) throws -> String {
        let host = try HostPhysicalMemory(frames: hostFrames)
        let vm = try VMMemory(map: map, host: host, format: format, adMode: adMode)
        defer { vm.teardown() }
        let writer = Writer(map: map, format: format, adMode: adMode)
        vm.recorder = writer
        var rng = SplitMix64(seed: seed)
        var touched: [GuestPhysicalAddress] = []
        let top = map.ranges.last.map { $0.end + 0x10_0000 } ?? 0x10_0000
        for _ in 0..<count {
            let access = AccessType.allCases[Int(rng.next() % 3)]
            let gpa: GuestPhysicalAddress
            if !touched.isEmpty && rng.next() % 3 == 0 {
                gpa = touched[Int(rng.next() % UInt64(touched.count))]
            } else if rng.next() % 4 != 0, !map.ranges.isEmpty {
                let r = map.ranges[Int(rng.next() % UInt64(map.ranges.count))]
                gpa = GuestPhysicalAddress(r.base.rawValue + rng.next() % r.size)
            } else {
                gpa = GuestPhysicalAddress(rng.next() % top)
            }
            if case .entered = vm.handleNestedFault(gpa, access) { touched.append(gpa) }
        }
        vm.recorder = nil
        return writer.finish(stateHash: vm.stateHash())
    }
}

/// FNV-1a, 32-bit: a fault log record's checksum and a snapshot page's.
public func fnv1a32<S: Sequence<UInt8>>(_ bytes: S) -> UInt32 {
    var v: UInt32 = 0x811C_9DC5
    for b in bytes { v = (v ^ UInt32(b)) &* 0x0100_0193 }
    return v
}

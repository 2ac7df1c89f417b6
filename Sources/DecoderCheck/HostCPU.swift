import CHostCPU

/// The host CPU as a reference for validity and length: the bytes are run
/// natively, single-stepped, in a child process (Sources/CHostCPU).
public enum HostCPU {
    public enum Outcome: Equatable, Sendable {
        case stepped(length: Int)
        case undefined      // #UD
        case fault          // decoded, then #GP/#PF/#SS
        case arithmetic     // #DE/#MF/#XM
        case branched       // executed, RIP left the instruction
        case other
    }

    public struct Result: Equatable, Sendable {
        public var outcome: Outcome
        public var signal: Int32
    }

    /// What the host made of the first instruction in `bytes`, or nil when no child could be started.
    public static func probe(_ bytes: UnsafeBufferPointer<UInt8>) -> Result? {
        var r = hostcpu_result()
        guard let base = bytes.baseAddress, hostcpu_probe(base, min(bytes.count, 15), &r) == 0 else { return nil }
        let outcome: Outcome
        switch r.outcome {
        case Int32(HOSTCPU_STEPPED.rawValue): outcome = .stepped(length: Int(r.length))
        case Int32(HOSTCPU_UNDEFINED.rawValue): outcome = .undefined
        case Int32(HOSTCPU_FAULT.rawValue): outcome = .fault
        case Int32(HOSTCPU_ARITH.rawValue): outcome = .arithmetic
        case Int32(HOSTCPU_BRANCHED.rawValue): outcome = .branched
        default: outcome = .other
        }
        return Result(outcome: outcome, signal: r.signal)
    }

    public static func probe(_ bytes: [UInt8]) -> Result? {
        bytes.withUnsafeBufferPointer { probe($0) }
    }
}

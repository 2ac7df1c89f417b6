import CHostCPU
import X86

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

    /// The host's vendor. Where Intel and AMD decode alike the host settles any question; where
    /// they differ it speaks only for its own vendor's reading.
    public static let vendor: Vendor = {
        var id = [CChar](repeating: 0, count: 13)
        hostcpu_vendor(&id)
        return String(decoding: id.prefix(12).map { UInt8(bitPattern: $0) }, as: UTF8.self) == "AuthenticAMD" ? .amd : .intel
    }()

    /// Whether the host can run code of `mode`: 64-bit, and 32-bit in compatibility mode
    /// (Linux offers no 16-bit code segment by default).
    public static func runs(_ mode: CPUMode) -> Bool { mode != .bits16 }

    /// What the host made of the first instruction in `bytes`, run in `mode`, or nil when
    /// no child could be started or the host cannot run that mode.
    public static func probe(_ bytes: UnsafeBufferPointer<UInt8>, mode: CPUMode = .bits64) -> Result? {
        var r = hostcpu_result()
        guard runs(mode), let base = bytes.baseAddress,
              hostcpu_probe_mode(base, min(bytes.count, 15), Int32(mode.rawValue), &r) == 0 else { return nil }
        return outcomeOf(r)
    }

    /// 64-bit only: runs the bytes with r8-r15 starting at `high` (r11 excepted) and rax..rdi,
    /// rsp pointing into scratch; returns the outcome and, when it stepped, rax..r15 afterwards.
    public static func probeRegisters(_ bytes: UnsafeBufferPointer<UInt8>, high: [UInt64]) -> (Result, [UInt64])? {
        var r = hostcpu_result()
        var after = [UInt64](repeating: 0, count: 16)
        let rc = high.withUnsafeBufferPointer { h in
            after.withUnsafeMutableBufferPointer { a in
                hostcpu_probe_registers(bytes.baseAddress, min(bytes.count, 15), h.baseAddress, a.baseAddress, &r)
            }
        }
        guard rc == 0, let plain = outcomeOf(r) else { return nil }
        return (plain, after)
    }

    static func outcomeOf(_ r: hostcpu_result) -> Result? {
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

    public static func probe(_ bytes: [UInt8], mode: CPUMode = .bits64) -> Result? {
        bytes.withUnsafeBufferPointer { probe($0, mode: mode) }
    }
}

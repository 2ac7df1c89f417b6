import X86

/// An exception an instruction raised: it changed no architectural state.
public enum CPUException: Error, Equatable, Sendable, CustomStringConvertible {
    case divideError                 // #DE
    case invalidOpcode               // #UD
    case generalProtection(UInt32)   // #GP(error code)
    case stackFault(UInt32)          // #SS
    case pageFault(address: UInt64, errorCode: UInt32)

    public var vector: Int {
        switch self {
        case .divideError: 0
        case .invalidOpcode: 6
        case .stackFault: 12
        case .generalProtection: 13
        case .pageFault: 14
        }
    }

    public var description: String {
        switch self {
        case .divideError: "#DE"
        case .invalidOpcode: "#UD"
        case .generalProtection(let c): "#GP(\(c))"
        case .stackFault(let c): "#SS(\(c))"
        case .pageFault(let a, let c): "#PF(\(hex(a)), \(c))"
        }
    }
}

/// RFLAGS bits.
public enum Flag {
    public static let cf: UInt64 = 1 << 0
    public static let pf: UInt64 = 1 << 2
    public static let af: UInt64 = 1 << 4
    public static let zf: UInt64 = 1 << 6
    public static let sf: UInt64 = 1 << 7
    public static let tf: UInt64 = 1 << 8
    public static let `if`: UInt64 = 1 << 9
    public static let df: UInt64 = 1 << 10
    public static let of: UInt64 = 1 << 11
    /// The six status flags.
    public static let status: UInt64 = cf | pf | af | zf | sf | of
}

/// Guest memory as the CPU sees it at user level: linear addresses (segment bases
/// already applied). Accesses are little-endian; a failed access throws the fault.
public protocol CPUMemory: AnyObject {
    func read(_ address: UInt64, size: Int) throws(CPUException) -> UInt64
    func write(_ address: UInt64, size: Int, value: UInt64) throws(CPUException)
    /// Copies up to `max` instruction bytes at `address` into `buffer`; returns how many
    /// could be fetched (fewer at the end of executable memory), or throws if none.
    func fetch(_ address: UInt64, into buffer: UnsafeMutablePointer<UInt8>, max: Int) throws(CPUException) -> Int
    /// REP MOVS/STOS fast path: copies `count` bytes from `source` to `destination` (or, with
    /// `source` nil, stores `count / size` copies of the `size`-byte `pattern`) when the whole
    /// block is plain memory that neither faults nor belongs to a device; returns false, having
    /// done nothing, otherwise. The blocks never overlap and never cross a 4 KiB page.
    func block(to destination: UInt64, from source: UInt64?, pattern: UInt64, size: Int, count: Int) -> Bool
}

extension CPUMemory {
    /// Memories without a fast path: the interpreter moves element by element.
    public func block(to destination: UInt64, from source: UInt64?, pattern: UInt64, size: Int, count: Int) -> Bool { false }
}

/// The architectural state of one CPU: general registers, RIP, RFLAGS, segment bases.
/// Everything lives in one block of unsafe storage owned by the object, so the hot path
/// pays no copy-on-write or exclusivity checks.
public final class CPUState {
    /// rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8..r15 (slots 0-15); then RIP, RFLAGS, FS and GS
    /// bases; then the interpreter's own counters (slots 20-21); XMM0-15 (22-53); MXCSR (54).
    public let gpr: UnsafeMutablePointer<UInt64>

    public init() {
        gpr = .allocate(capacity: 55)
        gpr.initialize(repeating: 0, count: 55)
        gpr[17] = 0x2
        gpr[54] = 0x1F80
    }

    /// XMM register `n` (slots 22-53: low quadword, then high).
    public func xmm(_ n: Int) -> (lo: UInt64, hi: UInt64) { (gpr[22 + 2 * n], gpr[23 + 2 * n]) }
    public func setXMM(_ n: Int, _ v: (lo: UInt64, hi: UInt64)) {
        gpr[22 + 2 * n] = v.lo
        gpr[23 + 2 * n] = v.hi
    }
    /// MXCSR (slot 54); 0x1F80 at reset.
    public var mxcsr: UInt32 {
        @inline(__always) get { UInt32(truncatingIfNeeded: gpr[54]) }
        @inline(__always) set { gpr[54] = UInt64(newValue) }
    }

    /// Instructions retired (slot 20).
    public var retired: UInt64 {
        @inline(__always) get { gpr[20] }
        @inline(__always) set { gpr[20] = newValue }
    }
    /// A store hit a page holding decoded code (slot 21): drop the cache after this instruction.
    var invalidationPending: Bool {
        @inline(__always) get { gpr[21] != 0 }
        @inline(__always) set { gpr[21] = newValue ? 1 : 0 }
    }

    deinit { gpr.deallocate() }

    public var rip: UInt64 {
        @inline(__always) get { gpr[16] }
        @inline(__always) set { gpr[16] = newValue }
    }
    /// Always has bit 1 set.
    public var rflags: UInt64 {
        @inline(__always) get { gpr[17] }
        @inline(__always) set { gpr[17] = newValue }
    }
    public var fsBase: UInt64 {
        @inline(__always) get { gpr[18] }
        @inline(__always) set { gpr[18] = newValue }
    }
    public var gsBase: UInt64 {
        @inline(__always) get { gpr[19] }
        @inline(__always) set { gpr[19] = newValue }
    }

    @inline(__always) public func flag(_ f: UInt64) -> Bool { rflags & f != 0 }
    @inline(__always) public func set(_ f: UInt64, _ on: Bool) { rflags = on ? rflags | f : rflags & ~f }
}

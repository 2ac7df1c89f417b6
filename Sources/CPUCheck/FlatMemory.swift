import CHostCPU
import X86
import X86CPU
import X86Decoder

/// The memory of a cpu-check case, laid out as the host child has it: data pages at
/// HOSTCPU_DATA_BASE (read-write) and the code page at HOSTCPU_CODE_BASE (read and
/// execute). Anything else faults, as it does natively (SIGSEGV).
public final class FlatMemory: CPUMemory {
    public static let dataBase = UInt64(HOSTCPU_DATA_BASE)
    public static let dataSize = Int(HOSTCPU_DATA_SIZE)
    public static let codeBase = UInt64(HOSTCPU_CODE_BASE)
    public static let codeSize = 4096
    /// Linux's x86-64 GDT (arch/x86/include/asm/segment.h), read-only at `gdtBase`: kernel code
    /// and data (DPL 0), the 32-bit and 64-bit user code and the user data segments (DPL 3,
    /// accessed), the TSS and the per-CPU segment. A far JMP or CALL through memory whose random
    /// selector names one of them meets the same descriptor in softvmm as on the host.
    public static let gdtBase: UInt64 = 0x3000_0000
    static let gdt: [UInt64] = [
        0, 0x00CF_9B00_0000_FFFF, 0x00AF_9B00_0000_FFFF, 0x00CF_9300_0000_FFFF,  // 0x08 KERNEL32_CS, 0x10 KERNEL_CS, 0x18 KERNEL_DS
        0x00CF_FB00_0000_FFFF, 0x00CF_F300_0000_FFFF, 0x00AF_FB00_0000_FFFF, 0, // 0x23 USER32_CS, 0x2B USER_DS, 0x33 USER_CS
        0x0000_8B00_0000_0067, 0, 0, 0, 0, 0, 0,                                 // 0x40 TSS (busy), LDT and TLS slots empty
        0x0040_F300_0000_0000,                                                    // 0x7B CPUNODE (CPU 0)
    ]
    public static let gdtLimit = UInt16(gdt.count * 8 - 1)
    public var data: [UInt8]
    public var code: [UInt8]

    public init(data: [UInt8], code: [UInt8]) {
        self.data = data
        self.code = code + [UInt8](repeating: 0xCC, count: FlatMemory.codeSize - code.count)
    }

    /// The offset of [address, address + size) in the data pages, or nil.
    @inline(__always) public func dataOffset(_ address: UInt64, _ size: Int) -> Int? {
        let (o, borrow) = address.subtractingReportingOverflow(Self.dataBase)
        return !borrow && o + UInt64(size) <= UInt64(Self.dataSize) ? Int(o) : nil
    }

    public func read(_ address: UInt64, size: Int) throws(CPUException) -> UInt64 {
        if let o = dataOffset(address, size) {
            var v: UInt64 = 0
            for i in 0..<size { v |= UInt64(data[o + i]) << (8 * UInt64(i)) }
            return v
        }
        let (o, borrow) = address.subtractingReportingOverflow(Self.codeBase)
        if !borrow && o + UInt64(size) <= UInt64(Self.codeSize) {
            var v: UInt64 = 0
            for i in 0..<size { v |= UInt64(code[Int(o) + i]) << (8 * UInt64(i)) }
            return v
        }
        let (g, below) = address.subtractingReportingOverflow(Self.gdtBase)
        if !below && g + UInt64(size) <= UInt64(Self.gdt.count * 8) {
            var v: UInt64 = 0
            for i in 0..<size {
                let at = Int(g) + i
                v |= (Self.gdt[at / 8] >> (8 * UInt64(at % 8)) & 0xFF) << (8 * UInt64(i))
            }
            return v
        }
        throw .pageFault(address: address, errorCode: 0x4)
    }

    public func write(_ address: UInt64, size: Int, value: UInt64) throws(CPUException) {
        guard let o = dataOffset(address, size) else { throw .pageFault(address: address, errorCode: 0x6) }
        for i in 0..<size { data[o + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
    }

    /// The REP MOVS/STOS fast path over the data pages (so cpu-check exercises it).
    public func block(to destination: UInt64, from source: UInt64?, pattern: UInt64, size: Int, count: Int) -> Bool {
        guard let d = dataOffset(destination, count) else { return false }
        if let source {
            guard let s = dataOffset(source, count) else { return false }
            for i in 0..<count { data[d + i] = data[s + i] }
        } else {
            for i in 0..<count { data[d + i] = UInt8(truncatingIfNeeded: pattern >> (8 * UInt64(i % size))) }
        }
        return true
    }

    public func fetch(_ address: UInt64, into buffer: UnsafeMutablePointer<UInt8>, max: Int) throws(CPUException) -> Int {
        let (o, borrow) = address.subtractingReportingOverflow(Self.codeBase)
        guard !borrow, o < UInt64(Self.codeSize) else { throw .pageFault(address: address, errorCode: 0x14) }
        let n = min(max, Self.codeSize - Int(o))
        for i in 0..<n { buffer[i] = code[Int(o) + i] }
        return n
    }
}

/// The user-visible integer state compared between the host and softvmm.
public struct IntegerState: Equatable, Sendable {
    public var gpr: [UInt64]
    public var rflags: UInt64
    public var rip: UInt64
    public var data: [UInt8]
    /// The x87, MXCSR and XMM state in FXSAVE's layout (512 bytes).
    public var fx: [UInt8]
}

/// The parts of an FXSAVE image the comparison looks at: FCW, FSW, the abridged tags, MXCSR,
/// the eight x87 registers (10 bytes each) and the sixteen XMM registers, and on an Intel host
/// FOP, FIP and FDP (the state the CPU holds: an AMD host's FXSAVE stores them only while an
/// exception is pending, which the harness's image cannot show). MXCSR_MASK and the reserved
/// and software-available bytes are left out.
public enum FXImage {
    public static let comparedRanges: [Range<Int>] =
        [0..<5] + (hostVendor == .intel ? [6..<24] : []) + [24..<28] + (0..<8).map { 32 + 16 * $0 ..< 42 + 16 * $0 } + [160..<416]

    public static func compared(_ fx: [UInt8]) -> [UInt8] { comparedRanges.flatMap { fx[$0] } }

    /// RCPPS and RSQRTPS are approximations whose exact bits the SDM leaves to the
    /// implementation (Intel's and AMD's differ): where softvmm's lane and the host's are both
    /// finite, of one sign, and within the SDM's bound (relative error 1.5 × 2^−12 each, so
    /// 3 × 2^−12 between them), softvmm's lane takes the host's value.
    public static func acceptEstimates(host: [UInt8], softvmm: inout [UInt8], register: Int) {
        for lane in 0..<4 {
            let o = 160 + 16 * register + 4 * lane
            func bits(_ fx: [UInt8]) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(fx[o + $1]) << (8 * UInt32($1)) } }
            let h = Float(bitPattern: bits(host)), s = Float(bitPattern: bits(softvmm))
            guard h.isFinite, s.isFinite, h.sign == s.sign, h != 0 else { continue }
            if abs(Double(h) - Double(s)) <= abs(Double(h)) * 3 / 4096 {
                for i in 0..<4 { softvmm[o + i] = host[o + i] }
            }
        }
    }

    public static func mxcsr(_ fx: [UInt8]) -> UInt32 { UInt32(fx[24]) | UInt32(fx[25]) << 8 | UInt32(fx[26]) << 16 | UInt32(fx[27]) << 24 }
}

/// What an instruction did: a new state, or an exception.
public enum CaseOutcome: Equatable, Sendable {
    case stepped(IntegerState)
    case divideError
    case invalidOpcode
    case generalProtection  // natively SIGSEGV with si_code SI_KERNEL
    case pageFault          // natively SIGSEGV with SEGV_MAPERR or SEGV_ACCERR
    case stackFault         // natively SIGBUS
    /// #XM, with MXCSR as the fault left it (its flags say which exceptions were raised).
    case simdException(mxcsr: UInt32)
    case x87Exception       // #MF
    case boundRange         // #BR (natively SIGSEGV with trap number 5)
    case other(String)
}

/// Runs one instruction natively (Sources/CHostCPU/execute.c).
public enum HostExecution {
    /// A memory operand's address from the case's registers (no RIP-relative or segment forms:
    /// the generator gives none).
    public static func effectiveAddress(_ m: MemoryOperand, gpr: [UInt64]) -> UInt64 {
        var ea = UInt64(bitPattern: m.displacement)
        if let b = m.base { ea &+= gpr[Int(b.number)] }
        if let i = m.index { ea &+= gpr[Int(i.number)] &* UInt64(m.scale) }
        return m.addressSize == 4 ? ea & 0xFFFF_FFFF : ea
    }

    /// `bits` 32 runs the instruction in compatibility mode (Linux's 32-bit user code segment).
    /// A run the host took longer than the child's 2 s alarm over is no result: it is tried
    /// again, up to three times in all (on a loaded host, a locked access split across cache
    /// lines is slowed by the kernel's bus-lock detection).
    public static func run(code: [UInt8], gpr: [UInt64], rflags: UInt64, data: [UInt8], fx: [UInt8], bits: Int = 64) -> CaseOutcome {
        var outcome = runOnce(code: code, gpr: gpr, rflags: rflags, data: data, fx: fx, bits: bits)
        for _ in 0..<2 where outcome == timedOut { outcome = runOnce(code: code, gpr: gpr, rflags: rflags, data: data, fx: fx, bits: bits) }
        return outcome
    }

    static let timedOut = CaseOutcome.other("killed by signal 14 (SIGALRM: over 2 s)")

    static func runOnce(code: [UInt8], gpr: [UInt64], rflags: UInt64, data: [UInt8], fx: [UInt8], bits: Int) -> CaseOutcome {
        var input = hostcpu_state()
        withUnsafeMutableBytes(of: &input.gpr) { raw in
            let p = raw.bindMemory(to: UInt64.self)
            for i in 0..<16 { p[i] = gpr[i] }
        }
        withUnsafeMutableBytes(of: &input.fx) { raw in
            for i in 0..<512 { raw[i] = fx[i] }
        }
        input.rflags = rflags
        var output = hostcpu_state()
        var result = hostcpu_result()
        var after = [UInt8](repeating: 0, count: FlatMemory.dataSize)
        let rc = code.withUnsafeBufferPointer { c in
            data.withUnsafeBufferPointer { d in
                after.withUnsafeMutableBufferPointer { a in
                    hostcpu_execute_mode(c.baseAddress, c.count, Int32(bits), &input, d.baseAddress, &output, a.baseAddress, &result)
                }
            }
        }
        guard rc == 0 else { return .other("the host child did not run") }
        switch result.outcome {
        case Int32(HOSTCPU_STEPPED.rawValue):
            let regs = withUnsafeBytes(of: output.gpr) { Array($0.bindMemory(to: UInt64.self)) }
            let image = withUnsafeBytes(of: output.fx) { Array($0) }
            return .stepped(IntegerState(gpr: regs, rflags: output.rflags, rip: output.rip, data: after, fx: image))
        case Int32(HOSTCPU_ARITH.rawValue):
            switch result.trapno {
            case 0: return .divideError
            case 16: return .x87Exception
            case 19: return .simdException(mxcsr: FXImage.mxcsr(withUnsafeBytes(of: output.fx) { Array($0) }))
            default: return .other("SIGFPE, trap \(result.trapno)")
            }
        case Int32(HOSTCPU_UNDEFINED.rawValue): return .invalidOpcode
        case Int32(HOSTCPU_FAULT.rawValue):
            if result.signal == 7 { return .stackFault } // SIGBUS
            if result.trapno == 5 { return .boundRange }
            return result.length == 0x80 ? .generalProtection : .pageFault
        default:
            if result.signal == HOSTCPU_KILLED + 14 { return timedOut }
            if result.signal > HOSTCPU_KILLED { return .other("killed by signal \(result.signal - HOSTCPU_KILLED)") }
            return .other("signal \(result.signal)")
        }
    }
}

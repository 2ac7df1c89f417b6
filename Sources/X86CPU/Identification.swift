import X86
import X86Decoder

/// What CPUID reports, and the deterministic sources behind RDTSC and RDRAND.
/// Only what the interpreter implements is reported; everything else reads as absent
/// (and its encodings raise #UD).
public struct CPUModel: Sendable {
    /// CPUID leaf 0's vendor string (12 bytes).
    public var vendor = "GenuineIntel"
    /// The guest's time-stamp counter advances this much per retired instruction.
    public var tscPerInstruction: UInt64 = 1
    /// RDRAND and RDSEED draw from a SplitMix64 stream with this seed.
    public var entropySeed: UInt64 = 0x5EED
    /// The CR4 bits MOV CR4 accepts (the rest are reserved: #GP).
    public var supportedCR4: UInt64 = CR4Bit.vme | CR4Bit.pvi | CR4Bit.tsd | CR4Bit.de | CR4Bit.pse | CR4Bit.pae | CR4Bit.mce
        | CR4Bit.pge | CR4Bit.pce | CR4Bit.osfxsr | CR4Bit.osxmmexcpt | CR4Bit.umip | CR4Bit.fsgsbase
        | CR4Bit.osxsave | CR4Bit.smep | CR4Bit.smap
    /// XCR0 bits XSETBV accepts: x87 and SSE.
    public var xcr0Supported: UInt64 = 3

    public init() {}

    /// CPUID(leaf, subleaf) -> (eax, ebx, ecx, edx).
    public func cpuid(_ leaf: UInt32, _ subleaf: UInt32) -> (UInt32, UInt32, UInt32, UInt32) {
        let v = Array(vendor.utf8.prefix(12)) + [UInt8](repeating: 0x20, count: max(0, 12 - vendor.utf8.count))
        func word(_ i: Int) -> UInt32 { UInt32(v[i]) | UInt32(v[i + 1]) << 8 | UInt32(v[i + 2]) << 16 | UInt32(v[i + 3]) << 24 }
        switch leaf {
        case 0: return (0xD, word(0), word(8), word(4))
        case 1:
            // Family 6. EBX: CLFLUSH line size 8 × 8 bytes.
            // ECX: SSE3 (0), PCLMULQDQ (1), SSSE3 (9), CX16 (13), SSE4.1 (19), SSE4.2 (20), MOVBE (22),
            //      POPCNT (23), XSAVE (26), RDRAND (30); OSXSAVE (27) follows CR4 (the CPU adds it).
            //      No AVX (28): not implemented.
            // EDX: FPU (0), DE (2), PSE (3), TSC (4), MSR (5), PAE (6), CX8 (8), SEP (11), MTRR (12),
            //      PGE (13), CMOV (15), PAT (16), CLFSH (19), MMX (23), FXSR (24), SSE (25), SSE2 (26).
            //      No APIC (9) until the interrupt controllers exist.
            let ecx: UInt32 = 1 << 0 | 1 << 1 | 1 << 9 | 1 << 13 | 1 << 19 | 1 << 20 | 1 << 22 | 1 << 23 | 1 << 26 | 1 << 30
            let edx: UInt32 = 1 << 0 | 1 << 2 | 1 << 3 | 1 << 4 | 1 << 5 | 1 << 6 | 1 << 8 | 1 << 11 | 1 << 12 | 1 << 13
                | 1 << 15 | 1 << 16 | 1 << 19 | 1 << 23 | 1 << 24 | 1 << 25 | 1 << 26
            return (0x0006_0600, 8 << 8, ecx, edx)
        case 7 where subleaf == 0:
            // EBX: FSGSBASE (0), BMI1 (3), SMEP (7), BMI2 (8), RDSEED (18), ADX (19), SMAP (20), CLFLUSHOPT (23).
            // ECX: UMIP (2), RDPID (22).
            return (0, 1 << 0 | 1 << 3 | 1 << 7 | 1 << 8 | 1 << 18 | 1 << 19 | 1 << 20 | 1 << 23, 1 << 2 | 1 << 22, 0)
        case 0xD where subleaf == 0:
            // XSAVE: x87 and SSE (XCR0 bits 0-1); the legacy area and header take 576 bytes.
            return (3, 576, 576, 0)
        case 0xD where subleaf == 1:
            return (1, 0, 0, 0) // XSAVEOPT
        case 0x8000_0000: return (0x8000_0008, 0, 0, 0)
        case 0x8000_0001:
            // ECX: LAHF/SAHF in 64-bit mode (0), LZCNT (5), PREFETCHW (8);
            // EDX: SYSCALL (11), NX (20), 1-GiB pages (26), RDTSCP (27), long mode (29).
            return (0, 0, 1 << 0 | 1 << 5 | 1 << 8, 1 << 11 | 1 << 20 | 1 << 26 | 1 << 27 | 1 << 29)
        case 0x8000_0008:
            // 46 physical and 48 linear address bits.
            return (46 | 48 << 8, 0, 0, 0)
        default: return (0, 0, 0, 0)
        }
    }
}

extension CPU {
    /// CPUID, RDTSC, RDTSCP, RDRAND, RDSEED.
    func identification(_ op: Op, _ ops: OperandList) throws(CPUException) {
        switch op {
        case .cpuid:
            let leaf = UInt32(truncatingIfNeeded: state.gpr[0])
            if exitingCPUIDLeaves.contains(leaf) {
                throw .exit(.cpuid(leaf: leaf, subleaf: UInt32(truncatingIfNeeded: state.gpr[1])))
            }
            let (a, b, c, d) = model.cpuid(UInt32(truncatingIfNeeded: state.gpr[0]), UInt32(truncatingIfNeeded: state.gpr[1]))
            // OSXSAVE reflects CR4.
            let c1 = leaf == 1 && state.cr4 & CR4Bit.osxsave != 0 ? c | 1 << 27 : c
            state.gpr[0] = UInt64(a); state.gpr[3] = UInt64(b); state.gpr[1] = UInt64(c1); state.gpr[2] = UInt64(d)
        case .rdtsc, .rdtscp:
            // Guest time is the retired-instruction count: the same run reads the same values.
            if state.cr4 & CR4Bit.tsd != 0 && state.cpl > 0 && state.protectedMode { throw .generalProtection(0) }
            let tsc = timeStampCounter
            state.gpr[0] = tsc & 0xFFFF_FFFF
            state.gpr[2] = tsc >> 32
            if op == .rdtscp { state.gpr[1] = (msrs.values[MSRIndex.tscAux] ?? 0) & 0xFFFF_FFFF }
        default: // rdrand, rdseed: always succeed (CF = 1), from the seeded stream.
            let d = place(ops[0])
            try write(d, entropy.next())
            state.rflags = (state.rflags & ~Flag.status) | Flag.cf
        }
    }
}

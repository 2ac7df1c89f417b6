// The model-specific registers an operating system touches (issue 5, a first piece), with
// the #GP(0) rules the SDM gives for RDMSR and WRMSR (vol. 4, table 2-2; vol. 3, 2.2.1 for
// EFER, 11.11 for MTRRs, 11.12 for PAT): reserved bits, non-canonical bases, read-only
// registers, and unknown indexes.

import X86

public enum MSRIndex {
    public static let tsc: UInt32 = 0x10
    /// IA32_PLATFORM_ID (Intel, read-only): the platform's bits for microcode; 0 here.
    public static let platformID: UInt32 = 0x17
    public static let apicBase: UInt32 = 0x1B
    public static let mtrrCap: UInt32 = 0xFE
    /// IA32_BIOS_SIGN_ID: the microcode update signature. An OS writes 0 and executes CPUID to
    /// read the revision in bits 63:32; with no microcode it reads 0.
    public static let biosSignID: UInt32 = 0x8B
    /// IA32_ARCH_CAPABILITIES (read-only; CPUID.7.0:EDX[29]): which speculative-execution
    /// weaknesses the processor lacks.
    public static let archCapabilities: UInt32 = 0x10A
    /// IA32_PKRS (CPUID.7.0:ECX[31]): the supervisor protection keys' rights, as PKRU is the
    /// user keys'. Bits 63:32 are reserved. The CPU keeps it in its state.
    public static let pkrs: UInt32 = 0x6E1
    public static let sysenterCS: UInt32 = 0x174, sysenterESP: UInt32 = 0x175, sysenterEIP: UInt32 = 0x176
    /// IA32_MCG_CAP (read-only) and IA32_MCG_STATUS: machine-check architecture, which CPUID's
    /// MCE bit promises. No banks: no machine check is ever raised.
    public static let mcgCap: UInt32 = 0x179, mcgStatus: UInt32 = 0x17A
    public static let miscEnable: UInt32 = 0x1A0
    public static let mtrrPhysBase0: UInt32 = 0x200 // PHYSBASEn = 0x200 + 2n, PHYSMASKn = 0x201 + 2n
    public static let mtrrFix64K: UInt32 = 0x250, mtrrFix16K: [UInt32] = [0x258, 0x259]
    public static let mtrrFix4K: [UInt32] = Array(0x268...0x26F)
    public static let pat: UInt32 = 0x277
    public static let mtrrDefType: UInt32 = 0x2FF
    public static let tscDeadline: UInt32 = 0x6E0
    public static let efer: UInt32 = 0xC000_0080
    public static let star: UInt32 = 0xC000_0081, lstar: UInt32 = 0xC000_0082, cstar: UInt32 = 0xC000_0083
    public static let fmask: UInt32 = 0xC000_0084
    public static let fsBase: UInt32 = 0xC000_0100, gsBase: UInt32 = 0xC000_0101, kernelGSBase: UInt32 = 0xC000_0102
    public static let tscAux: UInt32 = 0xC000_0103
    /// AMD's legacy performance counters (every AMD64 processor): four event selects at
    /// 0xC0010000-3 and their counters at 0xC0010004-7. They hold what is written; no event
    /// is counted.
    public static let k7EventSelect0: UInt32 = 0xC001_0000, k7Counter0: UInt32 = 0xC001_0004
}

/// The MSR values of one vCPU. The TSC is not stored: it is guest time, supplied by the caller.
public struct ModelSpecificRegisters: Equatable, Sendable {
    /// The MSRs written so far (and those reset sets), but the ones with fields below.
    var table: [UInt32: UInt64]
    /// What every system call reads (SYSCALL and SYSRET's STAR, LSTAR, CSTAR and FMASK,
    /// SWAPGS' KERNEL_GS_BASE) in fields of their own, not in `table`: a dictionary lookup
    /// cost more than the rest of a SYSCALL. Nil until written, as a key absent from the table.
    public internal(set) var star, lstar, cstar, fmask, kernelGSBase: UInt64?
    /// MAXPHYADDR: physical-address bits above it are reserved in APIC_BASE and the MTRRs.
    public var physicalAddressBits = 46
    /// Variable-range MTRRs (MTRRcap.VCNT).
    public static let variableRanges = 8
    /// Whose MSRs these are: some exist on one vendor only.
    public var vendor: Vendor = .intel

    /// Every MSR written so far (and those reset sets), by index.
    public var values: [UInt32: UInt64] {
        get {
            var v = table
            for (i, x) in [(MSRIndex.star, star), (MSRIndex.lstar, lstar), (MSRIndex.cstar, cstar), (MSRIndex.fmask, fmask),
                           (MSRIndex.kernelGSBase, kernelGSBase)] {
                if let x { v[i] = x }
            }
            return v
        }
        set {
            (table, star, lstar, cstar, fmask, kernelGSBase) = ([:], nil, nil, nil, nil, nil)
            for (i, x) in newValue { self[i] = x }
        }
    }

    /// One MSR as stored (nil: never written).
    public subscript(index: UInt32) -> UInt64? {
        get {
            switch index {
            case MSRIndex.star: star
            case MSRIndex.lstar: lstar
            case MSRIndex.cstar: cstar
            case MSRIndex.fmask: fmask
            case MSRIndex.kernelGSBase: kernelGSBase
            default: table[index]
            }
        }
        set {
            switch index {
            case MSRIndex.star: star = newValue
            case MSRIndex.lstar: lstar = newValue
            case MSRIndex.cstar: cstar = newValue
            case MSRIndex.fmask: fmask = newValue
            case MSRIndex.kernelGSBase: kernelGSBase = newValue
            default: table[index] = newValue
            }
        }
    }

    public init() {
        table = [
            MSRIndex.apicBase: 0xFEE0_0000 | 1 << 11 | 1 << 8, // enabled, bootstrap processor
            MSRIndex.pat: 0x0007_0406_0007_0406,               // the power-on PAT
            MSRIndex.miscEnable: 1 << 0,                       // fast strings
            MSRIndex.mtrrDefType: 0,
        ]
    }

    /// An interpreter never executes speculatively, so it has none of the weaknesses that
    /// IA32_ARCH_CAPABILITIES can deny (SDM vol. 4, table 2-2): RDCL_NO (0: Meltdown), SSB_NO
    /// (4), MDS_NO (5), IF_PSCHANGE_MC_NO (6), TAA_NO (8), SBDR_SSDP_NO (13), FBSDP_NO (14),
    /// PSDP_NO (15), BHI_NO (20), PBRSB_NO (24), GDS_NO (26), RFDS_NO (27). Saying so spares a
    /// guest kernel the mitigations (Linux's page-table isolation switches CR3, and flushes the
    /// TLB, on every entry and exit).
    public static let archCapabilitiesValue: UInt64 = 1 << 0 | 1 << 4 | 1 << 5 | 1 << 6 | 1 << 8 | 1 << 13 | 1 << 14 | 1 << 15
        | 1 << 20 | 1 << 24 | 1 << 26 | 1 << 27

    /// RDMSR: the value, or #GP(0) for an index this model does not have.
    public func read(_ index: UInt32, tsc: UInt64) throws(CPUException) -> UInt64 {
        if index == MSRIndex.tsc { return tsc }
        if index == MSRIndex.archCapabilities { return Self.archCapabilitiesValue }
        if index == MSRIndex.mtrrCap { return UInt64(Self.variableRanges) | 1 << 8 | 1 << 10 } // VCNT, FIX, WC
        if index == MSRIndex.mcgCap { return 0 }                                               // no banks
        if index == MSRIndex.platformID && vendor == .intel { return 0 }
        guard isKnown(index) else { throw .generalProtection(0) }
        return self[index] ?? 0
    }

    /// WRMSR: stores the value, or #GP(0) for a reserved bit, a non-canonical address, a
    /// read-only or unknown register. A TSC write is returned for the caller (guest time).
    /// `linearBits`: the processor's linear-address width (48, or 57 with five-level paging),
    /// against which MSR addresses are canonical whatever CR4.LA57 says.
    public mutating func write(_ index: UInt32, _ value: UInt64, longModeActive: Bool, linearBits: Int = 48) throws(CPUException) {
        let physicalMask: UInt64 = (1 << UInt64(physicalAddressBits)) - 1
        func canonical(_ v: UInt64) -> Bool { isCanonical(v, bits: linearBits) }
        func reserved(_ mask: UInt64) throws(CPUException) { if value & mask != 0 { throw .generalProtection(0) } }
        switch index {
        case MSRIndex.mtrrCap, MSRIndex.archCapabilities, MSRIndex.mcgCap, MSRIndex.platformID: throw .generalProtection(0)
        case MSRIndex.mcgStatus:
            try reserved(~0)   // only 0 may be written (SDM vol. 3, 16.3.1.2)
        case MSRIndex.efer:
            // SCE (0), LME (8), LMA (10, read-only: the written value must match), NXE (11).
            try reserved(~UInt64(1 << 0 | 1 << 8 | 1 << 10 | 1 << 11))
            let current = self[index] ?? 0
            if (value ^ current) & (1 << 10) != 0 { throw .generalProtection(0) }
            // LME cannot change while paging is on in long mode.
            if longModeActive && (value ^ current) & (1 << 8) != 0 { throw .generalProtection(0) }
        case MSRIndex.lstar, MSRIndex.cstar, MSRIndex.fsBase, MSRIndex.gsBase, MSRIndex.kernelGSBase,
             MSRIndex.sysenterESP, MSRIndex.sysenterEIP:
            if !canonical(value) { throw .generalProtection(0) }
        case MSRIndex.fmask, MSRIndex.tscAux:
            try reserved(~0xFFFF_FFFF)
        case MSRIndex.apicBase:
            // BSP (8), x2APIC enable (10), global enable (11), the base (12 to MAXPHYADDR).
            try reserved(~(physicalMask & ~0xFFF | 1 << 8 | 1 << 10 | 1 << 11))
        case MSRIndex.pat:
            // Each of the eight entries: 0 UC, 1 WC, 4 WT, 5 WP, 6 WB, 7 UC-; bits 7:3 of each reserved.
            for i in 0..<8 {
                let t = (value >> UInt64(8 * i)) & 0xFF
                if t > 7 || t == 2 || t == 3 { throw .generalProtection(0) }
            }
        case MSRIndex.mtrrDefType:
            // Type (7:0: a valid memory type), FE (10), E (11).
            try reserved(~UInt64(0xFF | 1 << 10 | 1 << 11))
            if !Self.validMemoryType(value & 0xFF) { throw .generalProtection(0) }
        case MSRIndex.miscEnable, MSRIndex.star, MSRIndex.sysenterCS, MSRIndex.tscDeadline, MSRIndex.biosSignID:
            break
        case MSRIndex.tsc:
            break // the caller adjusts guest time
        default:
            if isVariableMTRR(index) {
                if index & 1 == 0 { // PHYSBASE: type (7:0), base (12 up to MAXPHYADDR)
                    try reserved(~(physicalMask & ~0xFFF | 0xFF))
                    if !Self.validMemoryType(value & 0xFF) { throw .generalProtection(0) }
                } else {                   // PHYSMASK: valid (11), mask (12 up to MAXPHYADDR)
                    try reserved(~(physicalMask & ~0xFFF | 1 << 11))
                }
            } else if isFixedMTRR(index) {
                for i in 0..<8 where !Self.validMemoryType((value >> UInt64(8 * i)) & 0xFF) { throw .generalProtection(0) }
            } else if isK7PerformanceCounter(index) {
                // Event selects: bits 63:32 reserved; counters are 48 bits wide.
                try reserved(index < MSRIndex.k7Counter0 ? ~0xFFFF_FFFF : ~((1 << 48) - 1))
            } else {
                throw .generalProtection(0)
            }
        }
        if index != MSRIndex.tsc { self[index] = value }
    }

    static func validMemoryType(_ t: UInt64) -> Bool { t == 0 || t == 1 || t == 4 || t == 5 || t == 6 }
    func isVariableMTRR(_ i: UInt32) -> Bool { i >= 0x200 && i < 0x200 + UInt32(2 * Self.variableRanges) }
    func isFixedMTRR(_ i: UInt32) -> Bool { i == MSRIndex.mtrrFix64K || MSRIndex.mtrrFix16K.contains(i) || MSRIndex.mtrrFix4K.contains(i) }

    func isK7PerformanceCounter(_ i: UInt32) -> Bool { vendor == .amd && i >= MSRIndex.k7EventSelect0 && i < MSRIndex.k7Counter0 + 4 }

    func isKnown(_ i: UInt32) -> Bool {
        [MSRIndex.apicBase, MSRIndex.sysenterCS, MSRIndex.sysenterESP, MSRIndex.sysenterEIP, MSRIndex.miscEnable,
         MSRIndex.pat, MSRIndex.mtrrDefType, MSRIndex.tscDeadline, MSRIndex.efer, MSRIndex.star, MSRIndex.lstar,
         MSRIndex.cstar, MSRIndex.fmask, MSRIndex.fsBase, MSRIndex.gsBase, MSRIndex.kernelGSBase, MSRIndex.tscAux,
         MSRIndex.biosSignID, MSRIndex.mcgStatus].contains(i)
            || isVariableMTRR(i) || isFixedMTRR(i) || isK7PerformanceCounter(i)
    }
}

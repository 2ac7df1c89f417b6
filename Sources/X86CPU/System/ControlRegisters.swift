// CR0, CR3, CR4 and EFER, and the #GP(0) rules of MOV to a control register (issue 5, a
// first piece; SDM vol. 2, MOV—Move to/from Control Registers, and vol. 3, 2.5 and 9.8.5):
// reserved bits, combinations the architecture forbids, and the changes long mode forbids.

public enum CR0Bit {
    public static let pe: UInt64 = 1 << 0, mp: UInt64 = 1 << 1, em: UInt64 = 1 << 2, ts: UInt64 = 1 << 3
    public static let et: UInt64 = 1 << 4, ne: UInt64 = 1 << 5, wp: UInt64 = 1 << 16, am: UInt64 = 1 << 18
    public static let nw: UInt64 = 1 << 29, cd: UInt64 = 1 << 30, pg: UInt64 = 1 << 31
    static let defined = pe | mp | em | ts | et | ne | wp | am | nw | cd | pg
}

public enum CR4Bit {
    public static let vme: UInt64 = 1 << 0, pvi: UInt64 = 1 << 1, tsd: UInt64 = 1 << 2, de: UInt64 = 1 << 3
    public static let pse: UInt64 = 1 << 4, pae: UInt64 = 1 << 5, mce: UInt64 = 1 << 6, pge: UInt64 = 1 << 7
    public static let pce: UInt64 = 1 << 8, osfxsr: UInt64 = 1 << 9, osxmmexcpt: UInt64 = 1 << 10, umip: UInt64 = 1 << 11
    public static let la57: UInt64 = 1 << 12, fsgsbase: UInt64 = 1 << 16, pcide: UInt64 = 1 << 17
    public static let osxsave: UInt64 = 1 << 18, smep: UInt64 = 1 << 20, smap: UInt64 = 1 << 21, pke: UInt64 = 1 << 22
    /// Protection keys for supervisor pages (IA32_PKRS).
    public static let pks: UInt64 = 1 << 24
}

public enum EFERBit {
    public static let sce: UInt64 = 1 << 0, lme: UInt64 = 1 << 8, lma: UInt64 = 1 << 10, nxe: UInt64 = 1 << 11
}

/// The control registers of one vCPU, and their checked writes.
public struct ControlRegisters: Equatable, Sendable {
    /// At reset: CD, NW and ET set (SDM vol. 3, table 9-1).
    public var cr0: UInt64 = CR0Bit.cd | CR0Bit.nw | CR0Bit.et
    public var cr2: UInt64 = 0
    public var cr3: UInt64 = 0
    public var cr4: UInt64 = 0
    public var efer: UInt64 = 0
    /// The CR4 bits this model implements (others are reserved: #GP on setting them).
    public var supportedCR4: UInt64 = CR4Bit.vme | CR4Bit.pvi | CR4Bit.tsd | CR4Bit.de | CR4Bit.pse | CR4Bit.pae | CR4Bit.mce
        | CR4Bit.pge | CR4Bit.pce | CR4Bit.osfxsr | CR4Bit.osxmmexcpt | CR4Bit.umip | CR4Bit.la57 | CR4Bit.fsgsbase
        | CR4Bit.pcide | CR4Bit.osxsave | CR4Bit.smep | CR4Bit.smap | CR4Bit.pke | CR4Bit.pks
    public var physicalAddressBits = 46

    public init() {}

    /// IA-32e mode is active (EFER.LMA).
    public var longModeActive: Bool { efer & EFERBit.lma != 0 }

    /// MOV CR0. Setting PG with EFER.LME activates long mode (LMA), which needs CR4.PAE;
    /// clearing PG ends it, except from 64-bit code (`in64BitCode`), where it is #GP.
    public mutating func writeCR0(_ value: UInt64, in64BitCode: Bool = false) throws(CPUException) {
        var v = value | CR0Bit.et // ET is hardwired to 1
        if v >> 32 != 0 { throw .generalProtection(0) }
        if v & CR0Bit.pg != 0 && v & CR0Bit.pe == 0 { throw .generalProtection(0) }
        if v & CR0Bit.nw != 0 && v & CR0Bit.cd == 0 { throw .generalProtection(0) }
        let enablingPaging = v & CR0Bit.pg != 0 && cr0 & CR0Bit.pg == 0
        if enablingPaging && efer & EFERBit.lme != 0 && cr4 & CR4Bit.pae == 0 { throw .generalProtection(0) }
        if in64BitCode && v & CR0Bit.pg == 0 { throw .generalProtection(0) }
        v &= CR0Bit.defined
        if enablingPaging && efer & EFERBit.lme != 0 { efer |= EFERBit.lma }
        if v & CR0Bit.pg == 0 { efer &= ~EFERBit.lma }
        cr0 = v
    }

    /// MOV CR4.
    public mutating func writeCR4(_ value: UInt64) throws(CPUException) {
        if value & ~supportedCR4 != 0 { throw .generalProtection(0) }
        if longModeActive && value & CR4Bit.pae == 0 { throw .generalProtection(0) }
        if longModeActive && (value ^ cr4) & CR4Bit.la57 != 0 { throw .generalProtection(0) }
        // PCIDE can be set only in long mode, with CR3's PCID zero.
        if value & CR4Bit.pcide != 0 && cr4 & CR4Bit.pcide == 0 && (!longModeActive || cr3 & 0xFFF != 0) {
            throw .generalProtection(0)
        }
        cr4 = value
    }

    /// MOV CR3: bits above MAXPHYADDR are reserved in long mode (bit 63 is PCID's no-flush
    /// hint when CR4.PCIDE is set, and is not stored).
    public mutating func writeCR3(_ value: UInt64) throws(CPUException) {
        var v = value
        if cr4 & CR4Bit.pcide != 0 { v &= ~(1 << 63) }
        if longModeActive && v >> UInt64(physicalAddressBits) != 0 { throw .generalProtection(0) }
        cr3 = longModeActive ? v : v & 0xFFFF_FFFF
    }
}

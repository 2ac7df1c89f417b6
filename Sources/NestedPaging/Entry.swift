import GuestMemory
import X86

/// The two nested table formats. An EPT entry carries R/W/X, a memory type,
/// ignore-PAT, a large-page bit and accessed (bit 8) / dirty (bit 9); an NPT entry is
/// an ordinary x86-64 entry (P, RW, US, A = bit 5, D = bit 6, PS, NX = bit 63).
public enum PmapFormat: String, Sendable, CaseIterable { case ept, npt }

/// Leaf sizes and the table level that holds them (1 = page table).
public enum PageSize: UInt64, Sendable, CaseIterable, CustomStringConvertible {
    case size4K = 0x1000, size2M = 0x20_0000, size1G = 0x4000_0000
    public var level: Int { self == .size4K ? 1 : (self == .size2M ? 2 : 3) }
    public var bytes: UInt64 { rawValue }
    public var description: String { self == .size4K ? "4K" : (self == .size2M ? "2M" : "1G") }
    static func at(level: Int) -> PageSize { level == 1 ? .size4K : (level == 2 ? .size2M : .size1G) }
}

/// How accessed and dirty are kept.
public enum AccessedDirtyMode: String, Sendable {
    /// The walk sets A on every entry it uses and D on a leaf it writes through.
    case hardware
    /// As bhyve does for CPUs without EPT A/D: software bits 52 and 53 hold the intended
    /// read and write permission, the hardware read/write bits stay clear until the first
    /// access faults, and the fault handler sets them (read = accessed, write = dirty).
    case emulated
}

/// Bit layout of one format. Everything format-specific about an entry is here.
struct EntryBits {
    let format: PmapFormat
    static let addressMask: UInt64 = 0x000F_FFFF_FFFF_F000
    static let intendedRead: UInt64 = 1 << 52    // emulated A/D (bhyve's EPT_PG_EMUL_V)
    static let intendedWrite: UInt64 = 1 << 53   // emulated A/D (bhyve's EPT_PG_EMUL_RW)

    var read: UInt64 { format == .ept ? 1 << 0 : 1 << 0 }   // EPT R / NPT P
    var write: UInt64 { 1 << 1 }                            // EPT W / NPT RW
    var large: UInt64 { 1 << 7 }                            // EPT large page / NPT PS
    var accessed: UInt64 { format == .ept ? 1 << 8 : 1 << 5 }
    var dirty: UInt64 { format == .ept ? 1 << 9 : 1 << 6 }

    /// An entry names something (a table or a page).
    func isPresent(_ e: UInt64) -> Bool {
        format == .ept ? e & 0b111 != 0 || e & (Self.intendedRead | Self.intendedWrite) != 0
                       : e & 1 != 0 || e & (Self.intendedRead | Self.intendedWrite) != 0
    }

    /// A non-leaf entry pointing at a table (full permissions: leaves decide).
    func table(_ hpa: HostPhysicalAddress) -> UInt64 {
        format == .ept ? hpa.rawValue | 0b111 : hpa.rawValue | 0b111 // NPT: P, RW, US
    }

    /// A leaf for `prot` at `level`. EPT leaves are write-back (memory type 6) with ignore-PAT.
    func leaf(_ hpa: HostPhysicalAddress, _ prot: Protection, level: Int, mode: AccessedDirtyMode) -> UInt64 {
        var e = hpa.rawValue
        if level > 1 { e |= large }
        switch format {
        case .ept:
            e |= 6 << 3 | 1 << 6
            if prot.contains(.execute) { e |= 1 << 2 }
        case .npt:
            e |= 1 << 2 // US: guest accesses are user accesses to the nested tables
            if !prot.contains(.execute) { e |= 1 << 63 }
        }
        switch mode {
        case .hardware:
            if prot.contains(.read) || prot.contains(.write) || format == .npt { e |= read }
            if prot.contains(.write) { e |= write }
        case .emulated:
            if prot.contains(.read) || prot.contains(.write) || format == .npt { e |= Self.intendedRead }
            if prot.contains(.write) { e |= Self.intendedWrite }
        }
        return e
    }

    /// The protection a leaf grants once its access faults are taken (its intent).
    func protection(_ e: UInt64) -> Protection {
        var p: Protection = []
        if e & read != 0 || e & Self.intendedRead != 0 { p.insert(.read) }
        if e & write != 0 || e & Self.intendedWrite != 0 { p.insert(.write) }
        switch format {
        case .ept: if e & (1 << 2) != 0 { p.insert(.execute) }
        case .npt: if e & (1 << 63) == 0 { p.insert(.execute) }
        }
        return p
    }

    /// The permissions the entry grants right now (what the walk checks).
    func current(_ e: UInt64) -> Protection {
        var p: Protection = []
        if e & read != 0 { p.insert(.read) }
        if e & write != 0 { p.insert(.write) }
        switch format {
        case .ept: if e & (1 << 2) != 0 { p.insert(.execute) }
        case .npt: if e & 1 != 0 && e & (1 << 63) == 0 { p.insert(.execute) }
        }
        return p
    }

    /// NPT reads need P; an NPT page is readable whenever present (x86 has no write-only).
    func address(_ e: UInt64) -> HostPhysicalAddress { HostPhysicalAddress(e & Self.addressMask) }
}

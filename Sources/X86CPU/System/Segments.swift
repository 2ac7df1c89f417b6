// Segment descriptors and the checks of a segment-register load (issue 5, a first piece):
// the descriptor format (SDM vol. 3, 3.4.5, and 16-byte system descriptors in IA-32e mode,
// 3.5.2) and MOV/POP to DS, ES, FS, GS and SS (vol. 2, MOV and POP pseudocode). The caller
// reads the descriptor from the GDT or LDT; these functions decide what the load raises.

/// A segment selector: index, table indicator and requested privilege level.
public struct SegmentSelector: Equatable, Sendable {
    public var value: UInt16
    public init(_ value: UInt16) { self.value = value }
    public var index: Int { Int(value >> 3) }
    public var usesLDT: Bool { value & 4 != 0 }
    public var rpl: Int { Int(value & 3) }
    public var isNull: Bool { value & 0xFFFC == 0 }
    /// The error code a fault about this selector carries.
    public var errorCode: UInt16 { value & 0xFFFC }
}

/// A code, data or system segment descriptor.
public struct SegmentDescriptor: Equatable, Sendable {
    public var raw: UInt64
    public init(_ raw: UInt64) { self.raw = raw }

    public var base: UInt64 { (raw >> 16) & 0xFF_FFFF | ((raw >> 56) & 0xFF) << 24 }
    /// The limit in bytes, scaled by G.
    public var limit: UInt32 {
        let l = UInt32(raw & 0xFFFF) | UInt32((raw >> 48) & 0xF) << 16
        return granularity ? l << 12 | 0xFFF : l
    }
    public var type: Int { Int((raw >> 40) & 0xF) }
    /// S: a code or data segment (not a system descriptor).
    public var isCodeOrData: Bool { raw & (1 << 44) != 0 }
    public var dpl: Int { Int((raw >> 45) & 3) }
    public var present: Bool { raw & (1 << 47) != 0 }
    public var longMode: Bool { raw & (1 << 53) != 0 }
    public var defaultBig: Bool { raw & (1 << 54) != 0 }
    public var granularity: Bool { raw & (1 << 55) != 0 }

    public var isCode: Bool { isCodeOrData && type & 8 != 0 }
    public var isData: Bool { isCodeOrData && type & 8 == 0 }
    public var isConforming: Bool { isCode && type & 4 != 0 }
    public var isReadable: Bool { isData || (isCode && type & 2 != 0) }
    public var isWritable: Bool { isData && type & 2 != 0 }
    public var isExpandDown: Bool { isData && type & 4 != 0 }
}

/// What a segment load raises: #GP, #NP or #SS with the selector's error code.
public enum SegmentFault: Error, Equatable, Sendable {
    case generalProtection(UInt16)
    case notPresent(UInt16)
    case stackFault(UInt16)
}

public enum Segmentation {
    /// The linear address of a selector's descriptor (`size` bytes: 8, or 16 for a system
    /// descriptor in IA-32e mode), or nil when it lies beyond the table's limit (#GP(selector)).
    public static func descriptorAddress(_ s: SegmentSelector, tableBase: UInt64, tableLimit: UInt32,
                                         size: Int = 8) -> UInt64? {
        let end = UInt64(s.index) * 8 + UInt64(size) - 1
        return end <= UInt64(tableLimit) ? tableBase &+ UInt64(s.index) * 8 : nil
    }

    /// MOV or POP to DS, ES, FS or GS (`stack` false) or SS (`stack` true) in protected or
    /// IA-32e mode. `descriptor` is nil for a null selector or one beyond its table's limit
    /// (the caller tells which by `s.isNull`). Returns nil when the load is allowed (a null
    /// selector in DS-GS leaves the register unusable).
    public static func checkLoad(_ s: SegmentSelector, _ descriptor: SegmentDescriptor?, cpl: Int, stack: Bool,
                                 sixtyFourBit: Bool) -> SegmentFault? {
        if s.isNull {
            // A null SS is allowed only in 64-bit mode below CPL 3, with RPL = CPL.
            if stack && !(sixtyFourBit && cpl != 3 && s.rpl == cpl) { return .generalProtection(0) }
            return nil
        }
        guard let d = descriptor else { return .generalProtection(s.errorCode) }
        if stack {
            guard s.rpl == cpl, d.isWritable, d.dpl == cpl else { return .generalProtection(s.errorCode) }
            return d.present ? nil : .stackFault(s.errorCode)
        }
        guard d.isReadable else { return .generalProtection(s.errorCode) }
        // Data and non-conforming code: DPL must be at least both the CPL and the RPL.
        if (d.isData || !d.isConforming) && (d.dpl < cpl || d.dpl < s.rpl) { return .generalProtection(s.errorCode) }
        return d.present ? nil : .notPresent(s.errorCode)
    }
}

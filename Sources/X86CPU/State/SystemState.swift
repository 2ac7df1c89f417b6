import X86

/// Segment registers by number, as ModRM's reg field and the decoder name them; LDTR and TR
/// follow, because their hidden parts are kept the same way.
public enum SegmentRegister: Int, CaseIterable, Sendable, CustomStringConvertible {
    case es = 0, cs, ss, ds, fs, gs, ldtr, tr
    public var description: String { ["es", "cs", "ss", "ds", "fs", "gs", "ldtr", "tr"][rawValue] }
}

/// A segment register with its hidden part (the descriptor cache).
public struct SegmentState: Equatable, Sendable, CustomStringConvertible {
    public var selector: UInt16
    public var base: UInt64
    /// The limit in bytes (scaled by G).
    public var limit: UInt32
    /// Descriptor bits 40-55: type (0-3), S (4), DPL (5-6), P (7), AVL (12), L (13), D/B (14), G (15).
    public var attributes: UInt16

    public init(selector: UInt16, base: UInt64, limit: UInt32, attributes: UInt16) {
        (self.selector, self.base, self.limit, self.attributes) = (selector, base, limit, attributes)
    }

    /// The hidden part a descriptor loads.
    public init(selector: UInt16, descriptor d: SegmentDescriptor, baseHigh: UInt64 = 0) {
        self.init(selector: selector, base: d.base | baseHigh << 32, limit: d.limit,
                  attributes: UInt16(truncatingIfNeeded: d.raw >> 40) & 0xF0FF)
    }

    /// Real mode and virtual-8086: base = selector · 16, limit 64 KiB, a present read/write
    /// data segment (code segments keep their cached attributes in real mode; the CPU uses these).
    public static func real(_ selector: UInt16, code: Bool = false) -> SegmentState {
        SegmentState(selector: selector, base: UInt64(selector) << 4, limit: 0xFFFF, attributes: code ? 0x9B : 0x93)
    }

    public var dpl: Int { Int(attributes >> 5) & 3 }
    public var present: Bool { attributes & 0x80 != 0 }
    public var longMode: Bool { attributes & 0x2000 != 0 }
    public var defaultBig: Bool { attributes & 0x4000 != 0 }
    public var type: Int { Int(attributes & 0xF) }
    public var isCode: Bool { attributes & 0x18 == 0x18 }
    /// A null or otherwise unusable data segment register (P clear).
    public var usable: Bool { present }

    public var description: String {
        "\(hex(UInt64(selector))) base \(hex(base)) limit \(hex(UInt64(limit))) attr \(hex(UInt64(attributes)))"
    }
}

/// A descriptor-table register (GDTR, IDTR).
public struct TableRegister: Equatable, Sendable {
    public var base: UInt64
    public var limit: UInt16
    public init(base: UInt64, limit: UInt16) { (self.base, self.limit) = (base, limit) }
}

/// The system state: typed views of `RegisterFile`'s mode, segment and control fields.
extension CPUState {
    public var cpl: Int {
        @inline(__always) get { Int(truncatingIfNeeded: file.pointee.cpl) }
        set {
            file.pointee.cpl = UInt64(newValue)
            refreshCodeKey()
        }
    }
    /// Set while the CPU reads or writes descriptor tables, the TSS or an interrupt stack
    /// on behalf of a privilege change: those accesses are supervisor accesses whatever the CPL.
    public var implicitSupervisor: Bool {
        @inline(__always) get { file.pointee.implicitSupervisor != 0 }
        set {
            file.pointee.implicitSupervisor = newValue ? 1 : 0
            refreshUserAccess()
        }
    }
    /// The code segment's mode: what the decoder and the default sizes follow.
    public var mode: CPUMode {
        @inline(__always) get { CPUMode(rawValue: UInt8(truncatingIfNeeded: file.pointee.mode)) ?? .bits64 }
    }
    /// RSP's width as a mask: 16 bits (SS.B clear), 32 (SS.B set) or 64 (64-bit mode).
    public var stackMask: UInt64 {
        @inline(__always) get { file.pointee.stackMask }
    }
    /// Outside 64-bit mode every segment's base applies (in 64-bit mode only FS's and GS's).
    public var legacySegmentation: Bool {
        @inline(__always) get { file.pointee.legacySegmentation != 0 }
    }

    @inline(__always) public func segmentBase(_ n: Int) -> UInt64 { segmentBases[n] }

    public func segment(_ r: SegmentRegister) -> SegmentState {
        let n = r.rawValue
        return SegmentState(selector: UInt16(truncatingIfNeeded: selectors[n]), base: segmentBases[n],
                            limit: UInt32(truncatingIfNeeded: segmentLimits[n]), attributes: UInt16(truncatingIfNeeded: segmentAttributes[n]))
    }

    /// Sets a segment register's visible and hidden parts (the mode is recomputed by the CPU
    /// after a CS or SS change: `updateMode`).
    public func setSegment(_ r: SegmentRegister, _ s: SegmentState) {
        let n = r.rawValue
        selectors[n] = UInt64(s.selector)
        segmentBases[n] = s.base
        segmentLimits[n] = UInt64(s.limit)
        segmentAttributes[n] = UInt64(s.attributes)
        if r == .cs || r == .ss { updateMode() }
    }

    public var gdtr: TableRegister {
        get { TableRegister(base: file.pointee.gdtrBase, limit: UInt16(truncatingIfNeeded: file.pointee.gdtrLimit)) }
        set { file.pointee.gdtrBase = newValue.base; file.pointee.gdtrLimit = UInt64(newValue.limit) }
    }
    public var idtr: TableRegister {
        get { TableRegister(base: file.pointee.idtrBase, limit: UInt16(truncatingIfNeeded: file.pointee.idtrLimit)) }
        set { file.pointee.idtrBase = newValue.base; file.pointee.idtrLimit = UInt64(newValue.limit) }
    }

    public var cr0: UInt64 {
        @inline(__always) get { file.pointee.cr0 }
        set { file.pointee.cr0 = newValue }
    }
    public var cr2: UInt64 {
        get { file.pointee.cr2 }
        set { file.pointee.cr2 = newValue }
    }
    public var cr3: UInt64 {
        @inline(__always) get { file.pointee.cr3 }
        set { file.pointee.cr3 = newValue }
    }
    public var cr4: UInt64 {
        @inline(__always) get { file.pointee.cr4 }
        set { file.pointee.cr4 = newValue }
    }
    public var efer: UInt64 {
        @inline(__always) get { file.pointee.efer }
        set { file.pointee.efer = newValue; updateMode() }
    }
    /// CR8: the task priority (bits 3:0).
    public var cr8: UInt64 {
        get { file.pointee.cr8 }
        set { file.pointee.cr8 = newValue }
    }
    public func dr(_ n: Int) -> UInt64 { debugRegisters[n] }
    public func setDR(_ n: Int, _ v: UInt64) { debugRegisters[n] = v }
    public var xcr0: UInt64 {
        get { file.pointee.xcr0 }
        set { file.pointee.xcr0 = newValue }
    }
    public var pkru: UInt32 {
        get { UInt32(truncatingIfNeeded: file.pointee.pkru) }
        set { file.pointee.pkru = UInt64(newValue) }
    }
    /// IA32_PKRS: the supervisor-page protection keys' rights (two bits a key, as PKRU).
    public var pkrs: UInt32 {
        get { UInt32(truncatingIfNeeded: file.pointee.pkrs) }
        set { file.pointee.pkrs = UInt64(newValue) }
    }
    /// Interrupts are blocked for one instruction after STI (from IF clear) or MOV/POP SS.
    public var interruptShadow: Bool {
        get { file.pointee.interruptShadowEnd != 0 && file.pointee.interruptShadowEnd == retired &+ 1 }
        set { file.pointee.interruptShadowEnd = newValue ? retired &+ 2 : 0 }
    }
    public enum Activity: UInt64, Sendable { case active = 0, halted, shutdown }
    public var activity: Activity {
        get { Activity(rawValue: file.pointee.activity) ?? .active }
        set { file.pointee.activity = newValue.rawValue }
    }

    /// HLT: the CPU waits for an interrupt. The STI or MOV SS shadow HLT ran in is over:
    /// a halted CPU takes interrupts.
    public func halt() {
        activity = .halted
        interruptShadow = false
    }

    /// CS:RIP as a linear address (CS's base counts outside 64-bit mode).
    public var linearRIP: UInt64 { mode == .bits64 ? rip : (segmentBase(1) &+ rip) & 0xFFFF_FFFF }

    public var protectedMode: Bool { cr0 & CR0Bit.pe != 0 }
    /// Real mode or virtual-8086 mode: segment registers load selector · 16 as the base,
    /// without descriptors.
    public var realAddressing: Bool { cr0 & CR0Bit.pe == 0 || rflags & Flag.vm != 0 }
    public var pagingEnabled: Bool { cr0 & CR0Bit.pg != 0 }
    public var longModeActive: Bool { efer & EFERBit.lma != 0 }

    /// Recomputes the code mode, the stack width and whether legacy segmentation applies from
    /// CR0.PE, EFER.LMA, CS.L, CS.D and SS.B.
    public func updateMode() {
        let cs = UInt16(truncatingIfNeeded: file.pointee.segmentAttributes.1), ss = UInt16(truncatingIfNeeded: file.pointee.segmentAttributes.2)
        let m: CPUMode
        if efer & EFERBit.lma != 0 && cs & 0x2000 != 0 {
            m = .bits64
        } else if cr0 & CR0Bit.pe != 0 && rflags & Flag.vm == 0 {
            m = cs & 0x4000 != 0 ? .bits32 : .bits16
        } else {
            m = .bits16
        }
        file.pointee.mode = UInt64(m.rawValue)
        file.pointee.legacySegmentation = m == .bits64 ? 0 : 1
        if m == .bits64 {
            file.pointee.stackMask = ~0
        } else {
            file.pointee.stackMask = cr0 & CR0Bit.pe != 0 && rflags & Flag.vm == 0 && ss & 0x4000 != 0 ? 0xFFFF_FFFF : 0xFFFF
        }
    }

    /// A 64-bit user process's view (the CPU's default, for user-level checks against the host):
    /// long mode with paging, flat 64-bit CS at CPL 3, flat data segments.
    public func setUserMode64() {
        file.pointee.cr0 = CR0Bit.pe | CR0Bit.mp | CR0Bit.et | CR0Bit.ne | CR0Bit.wp | CR0Bit.am | CR0Bit.pg
        file.pointee.cr4 = CR4Bit.pae | CR4Bit.osfxsr | CR4Bit.osxmmexcpt | CR4Bit.osxsave
        file.pointee.efer = EFERBit.sce | EFERBit.lme | EFERBit.lma | EFERBit.nxe
        file.pointee.xcr0 = 3
        cpl = 3
        let data = SegmentState(selector: 0x2B, base: 0, limit: 0xFFFF_FFFF, attributes: 0xC0F3)
        for r in [SegmentRegister.es, .ss, .ds] { setSegment(r, data) }
        setSegment(.fs, SegmentState(selector: 0, base: 0, limit: 0xFFFF_FFFF, attributes: 0xC0F3))
        setSegment(.gs, SegmentState(selector: 0, base: 0, limit: 0xFFFF_FFFF, attributes: 0xC0F3))
        setSegment(.cs, SegmentState(selector: 0x33, base: 0, limit: 0xFFFF_FFFF, attributes: 0xA0FB))
    }

    /// The state after RESET (SDM vol. 3, table 9-1): real mode at F000:FFF0 with CS's base
    /// FFFF0000, CR0 = 60000010, every other system register clear; the general registers,
    /// x87 and SSE state keep what `CPUState()` gave them, except RDX (the model's signature).
    public func resetToPowerOn(signature: UInt64 = 0x600) {
        // Everything but the SSE and x87 state and the retired count goes back to RegisterFile's
        // reset values.
        let kept = file.pointee
        file.pointee = RegisterFile()
        (file.pointee.xmm, file.pointee.mxcsr, file.pointee.x87) = (kept.xmm, kept.mxcsr, kept.x87)
        (file.pointee.fcw, file.pointee.fsw, file.pointee.ftw) = (kept.fcw, kept.fsw, kept.ftw)
        (file.pointee.fop, file.pointee.fip, file.pointee.fdp) = (kept.fop, kept.fip, kept.fdp)
        (file.pointee.retired, file.pointee.codeInvalidation) = (kept.retired, kept.codeInvalidation)
        // A debugger's breakpoints and watchpoints outlast the reset (exit request bits 4, 5).
        file.pointee.exitRequests = kept.exitRequests & RegisterFile.debuggerRequests
        rdx = signature
        rip = 0xFFF0
        refreshCodeKey()
        file.pointee.cr0 = CR0Bit.cd | CR0Bit.nw | CR0Bit.et
        file.pointee.xcr0 = 1
        file.pointee.dr.6 = 0xFFFF_0FF0
        file.pointee.dr.7 = 0x400
        for r in [SegmentRegister.es, .ss, .ds, .fs, .gs] { setSegment(r, .real(0)) }
        setSegment(.cs, SegmentState(selector: 0xF000, base: 0xFFFF_0000, limit: 0xFFFF, attributes: 0x9B))
        setSegment(.ldtr, SegmentState(selector: 0, base: 0, limit: 0xFFFF, attributes: 0x82))
        setSegment(.tr, SegmentState(selector: 0, base: 0, limit: 0xFFFF, attributes: 0x8B))
        gdtr = TableRegister(base: 0, limit: 0xFFFF)
        idtr = TableRegister(base: 0, limit: 0xFFFF)
        updateMode()
    }
}

import X86

extension SegmentFault {
    var exception: CPUException {
        switch self {
        case .generalProtection(let c): .generalProtection(UInt32(c))
        case .notPresent(let c): .segmentNotPresent(UInt32(c))
        case .stackFault(let c): .stackFault(UInt32(c))
        }
    }
}

extension CPU {
    // MARK: implicit supervisor accesses (descriptor tables, the TSS)

    func systemRead(_ a: UInt64, _ size: Int) throws(CPUException) -> UInt64 {
        let was = state.implicitSupervisor
        state.implicitSupervisor = true
        defer { state.implicitSupervisor = was }
        return try memory.read(a, size: size)
    }

    func systemWrite(_ a: UInt64, _ size: Int, _ v: UInt64) throws(CPUException) {
        let was = state.implicitSupervisor
        state.implicitSupervisor = true
        defer { state.implicitSupervisor = was }
        try store(a, size: size, value: v)
    }

    /// Runs `body`; if it throws, every register (general and system) is put back as it was,
    /// so a multi-step system operation (a far transfer, an event delivery) is all or nothing.
    func transaction<T>(_ body: () throws(CPUException) -> T) throws(CPUException) -> T {
        let saved = state.file.pointee
        do throws(CPUException) {
            return try body()
        } catch {
            state.file.pointee = saved
            throw error
        }
    }

    /// The descriptor a selector names (GDT or LDT) and its linear address, or nil when it lies
    /// beyond the table's limit (or the LDT is unusable). `size` 16 reads a long-mode system
    /// descriptor's upper half too (returned as the second value).
    func descriptor(_ s: SegmentSelector) throws(CPUException) -> (SegmentDescriptor, UInt64)? {
        let base: UInt64, limit: UInt32
        if s.usesLDT {
            let ldt = state.segment(.ldtr)
            guard ldt.usable, ldt.selector & 0xFFFC != 0 else { return nil }
            (base, limit) = (ldt.base, ldt.limit)
        } else {
            (base, limit) = (state.gdtr.base, UInt32(state.gdtr.limit))
        }
        guard let a = Segmentation.descriptorAddress(s, tableBase: base, tableLimit: limit) else { return nil }
        return (SegmentDescriptor(try systemRead(a, 8)), a)
    }

    /// Sets a descriptor's accessed bit in memory (as the CPU does on a segment load).
    func markAccessed(_ d: inout SegmentDescriptor, at a: UInt64) throws(CPUException) {
        guard d.raw & (1 << 40) == 0 else { return }
        d.raw |= 1 << 40
        try systemWrite(a &+ 5, 1, (d.raw >> 40) & 0xFF)
    }

    // MARK: segment loads

    /// MOV/POP to a data segment register or SS, and LDS/LES/LFS/LGS/LSS.
    func loadSegment(_ r: SegmentRegister, _ selector: UInt16) throws(CPUException) {
        if state.realAddressing {
            state.setSegment(r, realSegment(r, selector))
            return
        }
        let s = SegmentSelector(selector)
        var found: (SegmentDescriptor, UInt64)?
        if !s.isNull { found = try descriptor(s) }
        if let f = Segmentation.checkLoad(s, found?.0, cpl: state.cpl, stack: r == .ss, sixtyFourBit: state.mode == .bits64) {
            throw f.exception
        }
        guard case (var d, let a)? = found else {
            // A null selector: the register becomes unusable (Intel clears the base).
            state.setSegment(r, SegmentState(selector: selector, base: 0, limit: 0,
                                             attributes: r == .ss ? UInt16(state.cpl) << 5 : 0))
            return
        }
        try markAccessed(&d, at: a)
        state.setSegment(r, SegmentState(selector: selector, descriptor: d))
    }

    /// A segment register loaded in real-address mode: the base follows the selector; the
    /// limit and attributes stay as they were (unreal mode).
    func realSegment(_ r: SegmentRegister, _ selector: UInt16) -> SegmentState {
        var s = state.segment(r)
        s.selector = selector
        s.base = UInt64(selector) << 4
        return s
    }

    /// The checks of a far JMP or CALL to a code segment (no gates or task switches: those are
    /// #GP(selector)); returns the descriptor with the RPL the CS will carry.
    func farTarget(_ selector: UInt16) throws(CPUException) -> SegmentState {
        let s = SegmentSelector(selector)
        guard !s.isNull else { throw .generalProtection(0) }
        guard let (d0, a) = try descriptor(s) else { throw .generalProtection(UInt32(s.errorCode)) }
        var d = d0
        guard d.isCode else { throw .generalProtection(UInt32(s.errorCode)) }
        let cpl = state.cpl
        if d.isConforming {
            if d.dpl > cpl { throw .generalProtection(UInt32(s.errorCode)) }
        } else if s.rpl > cpl || d.dpl != cpl {
            throw .generalProtection(UInt32(s.errorCode))
        }
        guard d.present else { throw .segmentNotPresent(UInt32(s.errorCode)) }
        if state.longModeActive && d.longMode && d.defaultBig { throw .generalProtection(UInt32(s.errorCode)) }
        try markAccessed(&d, at: a)
        return SegmentState(selector: selector & ~3 | UInt16(cpl), descriptor: d)
    }

    /// Loads CS (and the CPL), then follows any change of mode.
    func setCodeSegment(_ cs: SegmentState, cpl: Int) {
        state.cpl = cpl
        state.setSegment(.cs, cs)
        modeMaybeChanged()
    }

    /// On a return to an outer privilege level, data segment registers the new CPL may not use
    /// become null (SDM: RET, IRET).
    func nullifyInaccessibleSegments() {
        for r in [SegmentRegister.es, .ds, .fs, .gs] {
            let s = state.segment(r)
            let conformingCode = s.attributes & 0x1C == 0x1C
            if s.usable && !conformingCode && s.dpl < state.cpl {
                state.setSegment(r, SegmentState(selector: 0, base: r == .fs || r == .gs ? s.base : 0, limit: 0, attributes: 0))
            }
        }
    }
}

// SYSCALL, SYSRET, SYSENTER and SYSEXIT.

import X86
import X86Decoder

extension CPU {
    /// SYSCALL and SYSRET take a single-step trap when TF is set at their end, not at their
    /// start (so a SYSCALL whose FMASK clears TF traps nowhere, and a SYSRET that sets TF traps
    /// before the first user instruction).
    func singleStepByFinalTF() {
        tfSampledAtEnd = true
        state.pendingSingleStep = state.rflags & Flag.tf != 0
    }

    /// SYSCALL. Intel: #UD outside 64-bit mode. AMD: also from compatibility mode (to CSTAR)
    /// and legacy mode (to STAR's EIP).
    func systemCall() throws(CPUException) {
        guard state.efer & EFERBit.sce != 0 else { throw .invalidOpcode }
        if vendor == .intel && state.mode != .bits64 { throw .invalidOpcode }
        defer { singleStepByFinalTF() }
        let star = msrs.star ?? 0
        let selector = UInt16(truncatingIfNeeded: star >> 32) & 0xFFFC
        if state.longModeActive {
            state.rcx = state.rip
            state.r11 = state.rflags & ~Flag.rf
            let target = state.mode == .bits64 ? (msrs.lstar ?? 0) : (msrs.cstar ?? 0)
            state.rflags = (state.rflags & ~(msrs.fmask ?? 0) & ~Flag.rf) | 2
            setCodeSegment(SegmentState(selector: selector, base: 0, limit: 0xFFFF_FFFF, attributes: 0xA09B), cpl: 0)
            state.setSegment(.ss, SegmentState(selector: selector &+ 8, base: 0, limit: 0xFFFF_FFFF, attributes: 0xC093))
            state.rip = target
        } else {
            state.rcx = state.rip & 0xFFFF_FFFF
            state.rflags &= ~(Flag.vm | Flag.if | Flag.rf)
            setCodeSegment(SegmentState(selector: selector, base: 0, limit: 0xFFFF_FFFF, attributes: 0xC09B), cpl: 0)
            state.setSegment(.ss, SegmentState(selector: selector &+ 8, base: 0, limit: 0xFFFF_FFFF, attributes: 0xC093))
            state.rip = star & 0xFFFF_FFFF
        }
    }

    /// SYSRET. Intel: #UD outside 64-bit mode, and #GP(0) in ring 0 for a non-canonical RCX.
    /// AMD: also from legacy mode (to a flat 32-bit ring 3, IF set), and a non-canonical RCX is
    /// loaded as it is (the fetch at CPL 3 then faults).
    func systemReturn(_ ins: Instruction) throws(CPUException) {
        guard state.efer & EFERBit.sce != 0, state.protectedMode else { throw .invalidOpcode }
        if vendor == .intel && state.mode != .bits64 { throw .invalidOpcode }
        try requireCPL0()
        let star = msrs.star ?? 0
        let base = UInt16(truncatingIfNeeded: star >> 48)
        if !state.longModeActive {
            defer { singleStepByFinalTF() }
            state.rflags |= Flag.if
            setCodeSegment(SegmentState(selector: base | 3, base: 0, limit: 0xFFFF_FFFF, attributes: 0xC0FB), cpl: 3)
            state.setSegment(.ss, SegmentState(selector: (base &+ 8) | 3, base: 0, limit: 0xFFFF_FFFF, attributes: 0xC0F3))
            state.rip = state.rcx & 0xFFFF_FFFF
            return
        }
        let to64 = ins.ext & 8 != 0 && state.mode == .bits64
        if to64 && vendor == .intel && !isCanonical(state.rcx) { throw .generalProtection(0) }
        defer { singleStepByFinalTF() }
        state.rflags = state.r11 & 0x3C_7FD7 | 2
        if to64 {
            setCodeSegment(SegmentState(selector: (base &+ 16) | 3, base: 0, limit: 0xFFFF_FFFF, attributes: 0xA0FB), cpl: 3)
            state.rip = state.rcx
        } else {
            setCodeSegment(SegmentState(selector: base | 3, base: 0, limit: 0xFFFF_FFFF, attributes: 0xC0FB), cpl: 3)
            state.rip = state.rcx & 0xFFFF_FFFF
        }
        // SS's selector changes; its cached attributes are a flat writable DPL-3 segment.
        state.setSegment(.ss, SegmentState(selector: (base &+ 8) | 3, base: 0, limit: 0xFFFF_FFFF, attributes: 0xC0F3))
    }

    /// SYSENTER. AMD: #UD in long mode.
    func sysenter() throws(CPUException) {
        if vendor == .amd && state.longModeActive { throw .invalidOpcode }
        guard state.protectedMode else { throw .generalProtection(0) }
        let cs = UInt16(truncatingIfNeeded: msrs[MSRIndex.sysenterCS] ?? 0) & 0xFFFC
        guard cs != 0 else { throw .generalProtection(0) }
        state.rflags &= ~(Flag.vm | Flag.if | Flag.rf)
        let long = state.longModeActive
        setCodeSegment(SegmentState(selector: cs, base: 0, limit: 0xFFFF_FFFF, attributes: long ? 0xA09B : 0xC09B), cpl: 0)
        state.setSegment(.ss, SegmentState(selector: cs &+ 8, base: 0, limit: 0xFFFF_FFFF, attributes: 0xC093))
        let eip = msrs[MSRIndex.sysenterEIP] ?? 0, esp = msrs[MSRIndex.sysenterESP] ?? 0
        state.rip = long ? eip : eip & 0xFFFF_FFFF
        state.rsp = long ? esp : esp & 0xFFFF_FFFF
    }

    /// SYSEXIT. AMD: #UD in long mode.
    func sysexit(_ ins: Instruction) throws(CPUException) {
        if vendor == .amd && state.longModeActive { throw .invalidOpcode }
        guard state.protectedMode else { throw .generalProtection(0) }
        try requireCPL0()
        let base = UInt16(truncatingIfNeeded: msrs[MSRIndex.sysenterCS] ?? 0)
        guard base & 0xFFFC != 0 else { throw .generalProtection(0) }
        let to64 = ins.ext & 8 != 0
        if to64 && (!isCanonical(state.rdx) || !isCanonical(state.rcx)) { throw .generalProtection(0) }
        let cs = (to64 ? base &+ 32 : base &+ 16) | 3
        setCodeSegment(SegmentState(selector: cs, base: 0, limit: 0xFFFF_FFFF, attributes: to64 ? 0xA0FB : 0xC0FB), cpl: 3)
        state.setSegment(.ss, SegmentState(selector: (cs &+ 8) | 3, base: 0, limit: 0xFFFF_FFFF, attributes: 0xC0F3))
        state.rip = to64 ? state.rdx : state.rdx & 0xFFFF_FFFF
        state.rsp = to64 ? state.rcx : state.rcx & 0xFFFF_FFFF
    }
}

// Far JMP, CALL and RET, IRET, and PUSHF/POPF: the transfers that load CS (and SS) from
// descriptors, with their privilege checks.

import X86
import X86Decoder

extension CPU {
    /// The far pointer of a far JMP/CALL: an immediate (ptr16:16/32) or memory (m16:16/32/64).
    func farPointer(_ ops: OperandList, _ osz: Int) throws(CPUException) -> (selector: UInt16, offset: UInt64) {
        switch ops[0] {
        case .farPointer(let s, let o): return (s, o)
        case .memory(let m):
            let a = try checkedAddress(m, size: osz + 2)
            let offset = try memory.read(a, size: osz)
            return (UInt16(try memory.read(a &+ UInt64(osz), size: 2)), offset)
        default: throw .invalidOpcode
        }
    }

    func farTransfer(call: Bool, _ ops: OperandList, _ osz: Int) throws(CPUException) {
        // AMD has no m16:64 far pointer: REX.W leaves the indirect forms at 32 bits (the APM's
        // JMP (Far)/CALL (Far); the host shows it). Intel reads the 64-bit offset.
        let osz = vendor == .amd ? min(osz, 4) : osz
        let (selector, offset) = try farPointer(ops, osz)
        let target = offset & sizeMask(osz)
        try transaction { () throws(CPUException) in
            // The target's checks come before anything is pushed.
            let cs = state.realAddressing ? realSegment(.cs, selector) : try farTarget(selector)
            if call {
                try push(UInt64(state.segment(.cs).selector), size: osz)
                try push(state.rip, size: osz)
            }
            setCodeSegment(cs, cpl: state.cpl)
            if state.mode == .bits64 && !isCanonical(target) { throw .generalProtection(0) }
            // Outside 64-bit code EIP takes the offset's low 32 bits (Intel's REX.W form into a
            // 32-bit segment: an Intel host jumps to 0x56789ABC from 0x1234_5678_9ABC), which
            // must lie within the new CS.
            let rip = state.mode == .bits64 ? target : target & 0xFFFF_FFFF
            if state.mode != .bits64 && rip > UInt64(cs.limit) { throw .generalProtection(0) }
            state.rip = rip
        }
    }

    /// RETF [imm16], to the same or an outer privilege level.
    func farReturn(_ ops: OperandList, _ osz: Int) throws(CPUException) {
        var release: UInt64 = 0
        if let imm = ops.first, case .immediate(let n, _) = imm { release = n & 0xFFFF }
        try transaction { () throws(CPUException) in
            let ip = try pop(size: osz) & sizeMask(osz)
            let selector = UInt16(truncatingIfNeeded: try pop(size: osz))
            setStackPointer(state.rsp &+ release)
            if state.realAddressing {
                setCodeSegment(realSegment(.cs, selector), cpl: state.cpl)
                state.rip = ip
                return
            }
            let (cs, rpl) = try returnCodeSegment(selector)
            if rpl > state.cpl {
                let sp = try pop(size: osz), ss = UInt16(truncatingIfNeeded: try pop(size: osz))
                try loadReturnStack(ss, sp &+ release, rpl: rpl, to64: cs.longMode)
            }
            let outer = rpl > state.cpl
            setCodeSegment(cs, cpl: rpl)
            if outer { nullifyInaccessibleSegments() }
            if state.mode == .bits64 && !isCanonical(ip) { throw .generalProtection(0) }
            state.rip = ip
        }
    }

    /// The code segment RET or IRET returns to: RPL at least the CPL; conforming DPL at most RPL,
    /// non-conforming DPL equal to it.
    func returnCodeSegment(_ selector: UInt16) throws(CPUException) -> (SegmentState, Int) {
        let s = SegmentSelector(selector)
        guard !s.isNull else { throw .generalProtection(0) }
        guard let (d0, a) = try descriptor(s), d0.isCode, s.rpl >= state.cpl else { throw .generalProtection(UInt32(s.errorCode)) }
        var d = d0
        if d.isConforming ? d.dpl > s.rpl : d.dpl != s.rpl { throw .generalProtection(UInt32(s.errorCode)) }
        guard d.present else { throw .segmentNotPresent(UInt32(s.errorCode)) }
        if state.longModeActive && d.longMode && d.defaultBig { throw .generalProtection(UInt32(s.errorCode)) }
        try markAccessed(&d, at: a)
        return (SegmentState(selector: selector, descriptor: d), s.rpl)
    }

    /// SS:RSP on a return to an outer level (a null SS is allowed returning to 64-bit code below CPL 3).
    func loadReturnStack(_ selector: UInt16, _ sp: UInt64, rpl: Int, to64: Bool) throws(CPUException) {
        let s = SegmentSelector(selector)
        if s.isNull {
            guard to64 && rpl != 3 else { throw .generalProtection(0) }
            state.setSegment(.ss, SegmentState(selector: selector, base: 0, limit: 0, attributes: UInt16(rpl) << 5))
        } else {
            guard let (d0, a) = try descriptor(s), s.rpl == rpl, d0.dpl == rpl, d0.isWritable else {
                throw .generalProtection(UInt32(s.errorCode))
            }
            var d = d0
            guard d.present else { throw .stackFault(UInt32(s.errorCode)) }
            try markAccessed(&d, at: a)
            state.setSegment(.ss, SegmentState(selector: selector, descriptor: d))
        }
        state.rsp = sp
    }

    /// IRET/IRETD/IRETQ: real mode, protected mode (same or outer level), IA-32e mode (64-bit
    /// mode always pops SS:RSP). Returns to virtual-8086 mode and nested tasks are not
    /// supported (#GP(0)).
    func interruptReturn(_ osz: Int) throws(CPUException) {
        try transaction { () throws(CPUException) in
            if !state.protectedMode {
                let ip = try pop(size: osz), cs = UInt16(truncatingIfNeeded: try pop(size: osz)), flags = try pop(size: osz)
                setCodeSegment(realSegment(.cs, cs), cpl: 0)
                let writable: UInt64 = osz == 2 ? 0x7FD5 : 0x25_7FD5
                state.rflags = state.rflags & ~writable | flags & writable | 2
                state.rip = ip & sizeMask(osz)
                return
            }
            if state.rflags & Flag.nt != 0 && !state.longModeActive { throw .generalProtection(0) }
            let from64 = state.mode == .bits64
            let ip = try pop(size: osz), selector = UInt16(truncatingIfNeeded: try pop(size: osz))
            let flags = try pop(size: osz)
            let (cs, rpl) = try returnCodeSegment(selector)
            if flags & Flag.vm != 0 && state.cpl == 0 && !state.longModeActive && osz == 4 { throw .generalProtection(0) }
            let outer = rpl > state.cpl
            if outer || from64 {
                let sp = try pop(size: osz), ss = UInt16(truncatingIfNeeded: try pop(size: osz))
                if outer || SegmentSelector(ss).rpl != rpl || !SegmentSelector(ss).isNull {
                    try loadReturnStack(ss, sp, rpl: rpl, to64: cs.longMode)
                } else {
                    state.setSegment(.ss, SegmentState(selector: ss, base: 0, limit: 0, attributes: UInt16(rpl) << 5))
                    state.rsp = sp
                }
            }
            // Which flags the image may change: IF needs CPL <= IOPL, IOPL (and VIF/VIP) CPL 0.
            var writable: UInt64 = Flag.status | Flag.tf | Flag.df | Flag.nt | Flag.rf | Flag.ac | Flag.id
            if state.cpl <= iopl { writable |= Flag.if }
            if state.cpl == 0 { writable |= Flag.iopl | Flag.vif | Flag.vip }
            if osz == 2 { writable &= 0xFFFF }
            state.rflags = state.rflags & ~writable | flags & writable | 2
            setCodeSegment(cs, cpl: rpl)
            if outer { nullifyInaccessibleSegments() }
            let target = ip & sizeMask(osz)
            if state.mode == .bits64 && !isCanonical(target) { throw .generalProtection(0) }
            state.rip = target
        }
    }

    // MARK: PUSHF, POPF

    func pushFlags(_ osz: Int) throws(CPUException) {
        // The image has RF and VM clear.
        try push(state.rflags & ~(Flag.rf | Flag.vm) & sizeMask(osz), size: osz)
    }

    /// POPF: TF, DF, NT, AC, ID and the status flags always change; IF only at CPL <= IOPL;
    /// IOPL only at CPL 0; RF is cleared; VM, VIF and VIP stay. A 16-bit POPF changes the low half.
    func popFlags(_ osz: Int) throws(CPUException) {
        let v = try pop(size: osz)
        var writable: UInt64 = Flag.status | Flag.tf | Flag.df | Flag.nt | Flag.ac | Flag.id
        if !state.protectedMode || state.cpl <= iopl { writable |= Flag.if }
        if !state.protectedMode || state.cpl == 0 { writable |= Flag.iopl }
        if osz == 2 { writable &= 0xFFFF }
        state.rflags = (state.rflags & ~writable & ~Flag.rf) | (v & writable) | 2
    }
}

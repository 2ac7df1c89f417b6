// LLDT and LTR, and the descriptor queries LAR, LSL, VERR and VERW.

import X86
import X86Decoder

extension CPU {
    func loadSystemSegment(_ task: Bool, _ selector: UInt16) throws(CPUException) {
        let s = SegmentSelector(selector)
        if s.isNull {
            guard !task else { throw .generalProtection(0) }
            state.setSegment(.ldtr, SegmentState(selector: selector, base: 0, limit: 0, attributes: 0))
            return
        }
        guard !s.usesLDT, let (d, a) = try descriptor(s) else { throw .generalProtection(UInt32(s.errorCode)) }
        // LDT: type 2; TSS: available 16-bit (1) or 32/64-bit (9) — the 16-bit one only outside long mode.
        let typeOK = task ? (d.type == 9 || (d.type == 1 && !state.longModeActive)) : d.type == 2
        guard !d.isCodeOrData, typeOK else { throw .generalProtection(UInt32(s.errorCode)) }
        guard d.present else { throw .segmentNotPresent(UInt32(s.errorCode)) }
        var high: UInt64 = 0
        if state.longModeActive {
            let upper = try systemRead(a &+ 8, 8)
            // The upper half's type field (bits 44:40 of the quadword) must be 0; its low dword is
            // the base's bits 63:32, whatever they are.
            if (upper >> 40) & 0x1F != 0 { throw .generalProtection(UInt32(s.errorCode)) }
            high = upper & 0xFFFF_FFFF
            guard isCanonicalForProcessor(d.base | high << 32) else { throw .generalProtection(UInt32(s.errorCode)) }
        }
        if task {
            // The TSS becomes busy.
            try systemWrite(a &+ 5, 1, ((d.raw >> 40) & 0xFF) | 2)
            var busy = d
            busy.raw |= 2 << 40
            state.setSegment(.tr, SegmentState(selector: selector, descriptor: busy, baseHigh: high))
        } else {
            state.setSegment(.ldtr, SegmentState(selector: selector, descriptor: d, baseHigh: high))
        }
    }

    // MARK: LAR, LSL, VERR, VERW

    func descriptorQuery(_ op: Op, _ ops: OperandList) throws(CPUException) {
        guard !state.realAddressing else { throw .invalidOpcode }
        let source = op == .lar || op == .lsl ? ops[1] : ops[0]
        let s = SegmentSelector(UInt16(truncatingIfNeeded: try read(place(source))))
        var ok = false
        var d = SegmentDescriptor(0)
        if !s.isNull, let (found, _) = try descriptor(s) {
            d = found
            let privileged = !(d.isConforming) && (d.dpl < state.cpl || d.dpl < s.rpl)
            switch op {
            case .verr: ok = d.isCodeOrData && d.isReadable && !privileged
            case .verw: ok = d.isData && d.isWritable && !privileged
            default:
                // LAR also accepts gates and LDT/TSS descriptors; LSL only LDT/TSS among system types.
                let systemOK = op == .lar ? [1, 2, 3, 4, 5, 9, 0xB, 0xC].contains(d.type) : [1, 2, 3, 9, 0xB].contains(d.type)
                ok = (d.isCodeOrData || systemOK) && !privileged
            }
        }
        state.set(Flag.zf, ok)
        guard ok, op == .lar || op == .lsl else { return }
        let v = op == .lar ? d.raw >> 32 & 0x00F0_FF00 : UInt64(d.limit)
        try write(place(ops[0]), v)
    }
}

import X86
import X86Decoder

/// The decimal-arithmetic adjustments (DAA, DAS, AAA, AAS, AAM, AAD) and SALC: one-byte
/// opcodes that exist outside 64-bit mode only (the decoder reads them as invalid there).
///
/// The flags the SDM leaves undefined follow the CPU model's vendor, each read from a host of
/// that vendor (every AL with every AF and CF: LegacyModeTests):
/// - AMD (EPYC): each adjustment sets the flags of the addition or subtraction it amounts to.
///   DAA/DAS: AL ± the whole correction (0x06, 0x60 or 0x66), so OF is that operation's
///   overflow; AAA/AAS: the 16-bit AX ± 0x106 before AL's high digit is cleared (SF and ZF from
///   AX, PF from its low byte). CF and AF are the ones the SDM defines.
/// - Intel (Xeon, Sapphire Rapids class; the P6 reading Bochs and QEMU use): the result's SF,
///   ZF and PF with OF clear; AAA/AAS read them from the final AL.
/// Both vendors: AAD sets the flags of the byte addition AL + AH·base (CF, AF and OF
/// included); AAM sets SF, ZF and PF from AL and clears OF, AF and CF.
extension CPU {
    func decimalAdjust(_ op: Op, _ ops: OperandList) throws(CPUException) {
        let ax = state.rax & 0xFFFF
        let al = ax & 0xFF
        let cf = state.flag(Flag.cf), af = state.flag(Flag.af)
        let amd = vendor == .amd
        var result: UInt64       // the new AX
        var carry = false, adjust = false
        switch op {
        case .daa, .das:
            // SDM vol. 2: the low digit first (its carry or borrow joins CF), then the high
            // digit, decided from the original AL and CF.
            var correction: UInt64 = 0
            if al & 0xF > 9 || af {
                correction = 6
                carry = cf || (op == .daa ? al > 0xF9 : al < 6)
                adjust = true
            }
            if al > 0x99 || cf {
                correction |= 0x60
                carry = true
            }
            let v = alu(op == .daa ? .add : .sub, al, correction, 1)
            if !amd { state.rflags &= ~Flag.of }
            result = ax & 0xFF00 | v
        case .aaa, .aas:
            // AX ± 0x106: a carry or borrow out of AL reaches AH.
            if al & 0xF > 9 || af {
                carry = true
                adjust = true
            }
            let t = alu(op == .aaa ? .add : .sub, ax, adjust ? 0x106 : 0, 2)
            result = t & 0xFF0F
            if !amd {
                state.rflags &= ~Flag.status
                setResultFlags(result & 0xFF, 1)
            }
        case .aam:
            guard case .immediate(let base, _) = ops[0] else { throw .invalidOpcode }
            let b = base & 0xFF
            guard b != 0 else { throw .divideError }
            result = (al / b) << 8 | al % b
            _ = alu(.or, result & 0xFF, 0, 1)
        default: // aad
            guard case .immediate(let base, _) = ops[0] else { throw .invalidOpcode }
            let product = ((ax >> 8) &* (base & 0xFF)) & 0xFF
            result = alu(.add, al, product, 1)
        }
        state.rax = state.rax & ~0xFFFF | result & 0xFFFF
        if op == .aam || op == .aad { return }
        state.rflags = state.rflags & ~(Flag.cf | Flag.af) | (carry ? Flag.cf : 0) | (adjust ? Flag.af : 0)
    }

    /// SALC: AL = CF ? 0xFF : 0, flags unchanged.
    func setALFromCarry() {
        state.rax = state.rax & ~0xFF | (state.flag(Flag.cf) ? 0xFF : 0)
    }
}

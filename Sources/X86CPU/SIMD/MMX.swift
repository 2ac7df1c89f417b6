import SoftFloat
import X86
import X86Decoder

// MMX (SDM vol. 1, chapter 9) and the SSE/SSE2/SSSE3 forms on MMX registers. MMn is the
// significand of the x87's physical register Rn; writing it sets that register's sign and
// exponent to all ones. Every MMX instruction but EMMS first takes a pending x87 exception
// (#MF), and when it completes leaves TOP at 0 and every tag valid; EMMS empties them all.
// CVTPI2PS and CVTPI2PD from memory touch no MMX register: no #MF, no transition.

extension CPU {
    func mmxRegister(_ n: Int) -> UInt64 { state.x87Register(n).significand }
    func setMMXRegister(_ n: Int, _ v: UInt64) { state.setX87Register(n, (v, 0xFFFF)) }

    /// An MMX operand's 64 bits (or a smaller memory operand's, zero-extended; an XMM
    /// register's low quadword; a general register).
    func readMMX(_ op: Operand) throws(CPUException) -> UInt64 {
        switch op {
        case .register(let r) where r.kind == .mmx: return mmxRegister(Int(r.number))
        case .register(let r) where r.kind == .xmm: return state.xmm(Int(r.number)).lo
        case .memory(let m): return try memory.read(try checkedAddress(m, size: m.size), size: m.size)
        default: return try read(place(op))
        }
    }

    func writeMMX(_ op: Operand, _ v: UInt64) throws(CPUException) {
        switch op {
        case .register(let r) where r.kind == .mmx: setMMXRegister(Int(r.number), v)
        case .memory(let m): try store(try checkedAddress(m, size: m.size), size: m.size, value: v & sizeMask(m.size))
        default: try write(place(op), v)
        }
    }

    func mmx(_ op: Op, _ ins: Instruction, _ ops: OperandList) throws(CPUException) {
        // CVTPI2PS/CVTPI2PD from memory involve no x87 state: no pending-exception check either.
        var fromMemory = false
        if op == .cvtpi2ps || op == .cvtpi2pd, case .memory = ops[1] { fromMemory = true }
        if state.fsw & FSW.es != 0 && !fromMemory { throw .x87FloatingPoint }
        var transition = true
        switch op {
        case .emms:
            // Every tag empty; TOP goes to 0 as well (seen on the host).
            state.ftw = 0xFFFF
            fpuTop = 0
            return
        case .movd, .movq:
            let v = try readMMX(ops[1]) & sizeMask(op == .movd ? 4 : 8)
            try writeMMX(ops[0], v)
        case .movntq:
            try writeMMX(ops[0], try readMMX(ops[1]))
        case .movq2dq:
            guard case .register(let x) = ops[0] else { throw .invalidOpcode }
            state.setXMM(Int(x.number), (try readMMX(ops[1]), 0))
        case .movdq2q:
            try writeMMX(ops[0], try readMMX(ops[1]))
        case .pshufw:
            let b = try readMMX(ops[1]), imm = try immediate(ops, 2)
            var r: UInt64 = 0
            for i in 0..<4 { r |= ((b >> (16 * ((imm >> (2 * UInt64(i))) & 3))) & 0xFFFF) << (16 * UInt64(i)) }
            try writeMMX(ops[0], r)
        case .pinsrw:
            let imm = try immediate(ops, 2) & 3
            let v = try readMMX(ops[1]) & 0xFFFF
            let a = try readMMX(ops[0])
            try writeMMX(ops[0], a & ~(0xFFFF << (16 * imm)) | v << (16 * imm))
        case .pextrw:
            let imm = try immediate(ops, 2) & 3
            guard case .register(let r) = ops[0] else { throw .invalidOpcode }
            state.gpr[Int(r.number)] = (try readMMX(ops[1]) >> (16 * imm)) & 0xFFFF
        case .pmovmskb:
            try write(place(ops[0]), byteSignMask(UInt128(try readMMX(ops[1])), bytes: 8))
        case .maskmovq:
            try maskedStore(UInt128(try readMMX(ops[0])), mask: UInt128(try readMMX(ops[1])), bytes: 8, ins)
        case .psllw, .pslld, .psllq, .psrlw, .psrld, .psrlq, .psraw, .psrad:
            let a = try readMMX(ops[0])
            let count: UInt64
            if case .immediate(let v, _) = ops[1] { count = v & 0xFF } else { count = try readMMX(ops[1]) }
            try writeMMX(ops[0], shiftLanes(op, (a, 0), count).lo)
        case .punpcklbw, .punpcklwd, .punpckldq:
            try writeMMX(ops[0], unpack(op, (try readMMX(ops[0]), 0), (try readMMX(ops[1]), 0)).lo)
        case .punpckhbw, .punpckhwd, .punpckhdq:
            // The high halves of the 64-bit sources, interleaved as the low forms do.
            let low: Op = op == .punpckhbw ? .punpcklbw : op == .punpckhwd ? .punpcklwd : .punpckldq
            try writeMMX(ops[0], unpack(low, (try readMMX(ops[0]) >> 32, 0), (try readMMX(ops[1]) >> 32, 0)).lo)
        case .packsswb, .packssdw, .packuswb, .phaddw, .phaddd, .phaddsw, .phsubw, .phsubd, .phsubsw:
            // One 128-bit source made of both operands: its low half is the MMX result.
            let a = try readMMX(ops[0]), b = try readMMX(ops[1])
            try writeMMX(ops[0], UInt64(truncatingIfNeeded: integerLanes(op, UInt128(b) << 64 | UInt128(a), 0)!))
        case .pmaddwd, .psadbw, .pmaddubsw, .psignb, .psignw, .psignd, .pmulhrsw, .pabsb, .pabsw, .pabsd:
            let a = try readMMX(ops[0]), b = try readMMX(ops[1])
            try writeMMX(ops[0], UInt64(truncatingIfNeeded: integerLanes(op, UInt128(a), UInt128(b))!))
        case .pshufb:
            let a = try readMMX(ops[0]), b = try readMMX(ops[1])
            var r: UInt64 = 0
            for i in 0..<8 {
                let s = (b >> (8 * UInt64(i))) & 0xFF
                if s & 0x80 == 0 { r |= ((a >> (8 * (s & 7))) & 0xFF) << (8 * UInt64(i)) }
            }
            try writeMMX(ops[0], r)
        case .palignr:
            let a = try readMMX(ops[0]), b = try readMMX(ops[1]), imm = try immediate(ops, 2)
            let wide = UInt128(a) << 64 | UInt128(b)
            try writeMMX(ops[0], imm >= 16 ? 0 : UInt64(truncatingIfNeeded: wide >> UInt128(8 * imm)))
        case .cvtpi2ps, .cvtpi2pd, .cvtps2pi, .cvttps2pi, .cvtpd2pi, .cvttpd2pi:
            transition = try mmxConvert(op, ops)
        default:
            // The lane-wise operations (add, subtract, compare, logic, multiply, average,
            // minimum and maximum): the XMM arithmetic on the low quadword.
            let a = try readMMX(ops[0]), b = try readMMX(ops[1])
            try writeMMX(ops[0], vectorArithmetic(op, (a, 0), (b, 0)).lo)
        }
        if transition {
            fpuTop = 0
            state.ftw = 0
        }
    }

    /// The conversions between MMX doublewords and XMM singles or doubles; whether an MMX
    /// register was involved (and so the x87-to-MMX transition happens).
    func mmxConvert(_ op: Op, _ ops: OperandList) throws(CPUException) -> Bool {
        let env = simdEnvironment
        var flags = FPFlags()
        func isMMX(_ o: Operand) -> Bool { if case .register(let r) = o { r.kind == .mmx } else { false } }
        switch op {
        case .cvtpi2ps, .cvtpi2pd:
            let v = try readMMX(ops[1])
            guard case .register(let x) = ops[0] else { throw .invalidOpcode }
            let format: FPFormat = op == .cvtpi2ps ? .single : .double
            let lanes = (0..<2).map { i in
                SoftFloat.fromInteger(Int64(Int32(truncatingIfNeeded: v >> (32 * UInt64(i)))), format, env, &flags).pack(format)
            }
            try commitSIMD(flags)
            let old = state.xmm(Int(x.number))
            state.setXMM(Int(x.number), op == .cvtpi2ps ? (lanes[0] | lanes[1] << 32, old.hi) : (lanes[0], lanes[1]))
            return isMMX(ops[1])
        default: // cvtps2pi, cvttps2pi, cvtpd2pi, cvttpd2pi
            let double = op == .cvtpd2pi || op == .cvttpd2pi
            let mode = op == .cvttps2pi || op == .cvttpd2pi ? FPRounding.towardZero : env.rounding
            let v = try readVector(ops[1], aligned: true)
            var ignored = FPFlags()
            let sources: [UInt64] = double ? [v.lo, v.hi] : [v.lo & 0xFFFF_FFFF, v.lo >> 32]
            let r = sources.enumerated().reduce(UInt64(0)) { acc, e in
                let x = FPValue.unpack(e.element, double ? .double : .single, env, &ignored)
                return acc | SoftFloat.toInteger(x, bits: 32, mode, &flags) << (32 * UInt64(e.offset))
            }
            try commitSIMD(flags)
            try writeMMX(ops[0], r)
            return true
        }
    }
}

import X86
import X86Decoder

// The rest of the SSE integer set: SSE2's packs, multiply-adds, word shuffles and
// inserts/extracts, SSSE3, SSE4.1 and SSE4.2 (PCMPxSTRx in SSE42Strings.swift). Vectors
// are handled as UInt128 here: element i of width w bytes is bits [8wi, 8w(i+1)).

extension UInt128 {
    init(_ v: Vec) { self = UInt128(v.hi) << 64 | UInt128(v.lo) }
    var vec: Vec { (UInt64(truncatingIfNeeded: self), UInt64(truncatingIfNeeded: self >> 64)) }

    /// Element `i` of `width` bytes, zero-extended.
    @inline(__always) func element(_ i: Int, _ width: Int) -> UInt64 {
        UInt64(truncatingIfNeeded: self >> UInt128(8 * width * i)) & sizeMask(width)
    }
    /// Element `i` of `width` bytes, sign-extended.
    @inline(__always) func signedElement(_ i: Int, _ width: Int) -> Int64 {
        Int64(bitPattern: signExtend(element(i, width), width))
    }
    @inline(__always) mutating func setElement(_ i: Int, _ width: Int, _ v: UInt64) {
        let shift = UInt128(8 * width * i)
        let mask = UInt128(sizeMask(width)) << shift
        self = (self & ~mask) | (UInt128(v & sizeMask(width)) << shift)
    }

    /// A vector of `count` elements of `width` bytes, element i being f(i).
    static func build(_ count: Int, _ width: Int, _ f: (Int) -> UInt64) -> UInt128 {
        var r: UInt128 = 0
        for i in 0..<count { r.setElement(i, width, f(i)) }
        return r
    }
}

/// Saturating narrowing.
@inline(__always) func saturateSigned(_ v: Int64, _ width: Int) -> UInt64 {
    let hi = (Int64(1) << Int64(8 * width - 1)) - 1, lo = -hi - 1
    return UInt64(bitPattern: min(max(v, lo), hi)) & sizeMask(width)
}

@inline(__always) func saturateUnsigned(_ v: Int64, _ width: Int) -> UInt64 {
    UInt64(min(max(v, 0), Int64(sizeMask(width))))
}

extension CPU {
    /// The immediate operand at `index`.
    func immediate(_ ops: OperandList, _ index: Int) throws(CPUException) -> UInt64 {
        guard index < ops.count, case .immediate(let v, _) = ops[index] else { throw .invalidOpcode }
        return v & 0xFF
    }

    func readWide(_ op: Operand) throws(CPUException) -> UInt128 { UInt128(try readVector(op, aligned: true)) }
    func writeWide(_ op: Operand, _ v: UInt128) throws(CPUException) { try writeVector(op, v.vec, aligned: true) }

    /// The lane-wise integer operations of two whole vectors (no immediate, no memory of their
    /// own), shared by the XMM and MMX forms; nil for any other op.
    func integerLanes(_ op: Op, _ a: UInt128, _ b: UInt128) -> UInt128? {
        switch op {
        case .packsswb, .packssdw, .packuswb, .packusdw:
            let from = op == .packssdw || op == .packusdw ? 4 : 2, n = 16 / from
            let unsigned = op == .packuswb || op == .packusdw
            let r = UInt128.build(2 * n, from / 2) { i in
                let v = (i < n ? a : b).signedElement(i % n, from)
                return unsigned ? saturateUnsigned(v, from / 2) : saturateSigned(v, from / 2)
            }
            return r
        case .pmaddwd:
            return UInt128.build(4, 4) { i in
                UInt64(bitPattern: a.signedElement(2 * i, 2) * b.signedElement(2 * i, 2)
                                   &+ a.signedElement(2 * i + 1, 2) * b.signedElement(2 * i + 1, 2))
            }
        case .psadbw:
            return UInt128.build(2, 8) { h in
                (0..<8).reduce(UInt64(0)) { s, k in
                    let x = a.element(8 * h + k, 1), y = b.element(8 * h + k, 1)
                    return s + (x > y ? x - y : y - x)
                }
            }
        case .phaddw, .phaddd, .phaddsw, .phsubw, .phsubd, .phsubsw:
            let width = op == .phaddd || op == .phsubd ? 4 : 2, n = 16 / width
            let subtract = op == .phsubw || op == .phsubd || op == .phsubsw
            let saturate = op == .phaddsw || op == .phsubsw
            return UInt128.build(n, width) { i in
                let v = i < n / 2 ? a : b, k = 2 * (i % (n / 2))
                let x = v.signedElement(k, width), y = v.signedElement(k + 1, width)
                let r = subtract ? x - y : x + y
                return saturate ? saturateSigned(r, width) : UInt64(bitPattern: r)
            }
        case .pmaddubsw:
            return UInt128.build(8, 2) { i in
                let p = Int64(a.element(2 * i, 1)) * b.signedElement(2 * i, 1)
                let q = Int64(a.element(2 * i + 1, 1)) * b.signedElement(2 * i + 1, 1)
                return saturateSigned(p + q, 2)
            }
        case .psignb, .psignw, .psignd:
            let width = op == .psignb ? 1 : op == .psignw ? 2 : 4
            return UInt128.build(16 / width, width) { i in
                let s = b.signedElement(i, width)
                return s < 0 ? 0 &- a.element(i, width) : (s == 0 ? 0 : a.element(i, width))
            }
        case .pmulhrsw:
            return UInt128.build(8, 2) { i in
                UInt64(bitPattern: (((a.signedElement(i, 2) * b.signedElement(i, 2)) >> 14) + 1) >> 1)
            }
        case .pabsb, .pabsw, .pabsd:
            let width = op == .pabsb ? 1 : op == .pabsw ? 2 : 4
            return UInt128.build(16 / width, width) { i in UInt64(b.signedElement(i, width).magnitude) }
        default:
            return nil
        }
    }

    /// MASKMOVDQU and MASKMOVQ: the bytes of `value` whose mask byte has its top bit set go to
    /// [RDI] (EDI with 67); every selected byte is checked before any is written.
    func maskedStore(_ value: UInt128, mask: UInt128, bytes: Int, _ ins: Instruction) throws(CPUException) {
        var base = state.rdi
        if ins.addressSize == 4 { base &= 0xFFFF_FFFF }
        let selected = (0..<bytes).filter { mask.element($0, 1) & 0x80 != 0 }
        for i in selected {
            try checkCanonical(base &+ UInt64(i), 1, stack: false)
            _ = try memory.read(base &+ UInt64(i), size: 1)
        }
        for i in selected { try store(base &+ UInt64(i), size: 1, value: value.element(i, 1)) }
    }

    /// SSE2 remainder, SSSE3 and SSE4.1/4.2 integer instructions. Returns false if `op` is not one.
    func sseInteger(_ op: Op, _ ins: Instruction, _ ops: OperandList) throws(CPUException) -> Bool {
        switch op {
        case .packsswb, .packssdw, .packuswb, .packusdw, .pmaddwd, .psadbw, .phaddw, .phaddd, .phaddsw, .phsubw,
             .phsubd, .phsubsw, .pmaddubsw, .psignb, .psignw, .psignd, .pmulhrsw, .pabsb, .pabsw, .pabsd:
            let a = try readWide(ops[0]), b = try readWide(ops[1])
            try writeWide(ops[0], integerLanes(op, a, b)!)
        case .pshuflw, .pshufhw:
            let b = try readWide(ops[1]), imm = try immediate(ops, 2)
            let base = op == .pshuflw ? 0 : 4
            var r = b
            for i in 0..<4 { r.setElement(base + i, 2, b.element(base + Int((imm >> (2 * UInt64(i))) & 3), 2)) }
            try writeWide(ops[0], r)
        case .pinsrw, .pinsrb, .pinsrd, .pinsrq:
            let width = op == .pinsrb ? 1 : op == .pinsrw ? 2 : op == .pinsrd ? 4 : 8
            let imm = try immediate(ops, 2)
            let v: UInt64
            if case .memory(let m) = ops[1] {
                v = try memory.read(try checkedAddress(m, size: width), size: width)
            } else {
                v = try read(place(ops[1]))
            }
            var a = try readWide(ops[0])
            a.setElement(Int(imm) & (16 / width - 1), width, v)
            try writeWide(ops[0], a)
        case .pextrw, .pextrb, .pextrd, .pextrq, .extractps:
            let width = op == .pextrb ? 1 : op == .pextrw ? 2 : op == .pextrq ? 8 : 4
            let b = try readWide(ops[1]), imm = try immediate(ops, 2)
            let v = b.element(Int(imm) & (16 / width - 1), width)
            if case .memory(let m) = ops[0] {
                try store(try checkedAddress(m, size: m.size), size: m.size, value: v)
            } else {
                // A register destination takes the element zero-extended.
                guard case .register(let r) = ops[0] else { throw .invalidOpcode }
                state.gpr[Int(r.number)] = v
            }
        case .maskmovdqu:
            try maskedStore(try readWide(ops[0]), mask: try readWide(ops[1]), bytes: 16, ins)
        // SSSE3
        case .pshufb:
            let a = try readWide(ops[0]), b = try readWide(ops[1])
            try writeWide(ops[0], UInt128.build(16, 1) { i in
                let s = b.element(i, 1)
                return s & 0x80 != 0 ? 0 : a.element(Int(s & 15), 1)
            })
        case .palignr:
            let a = try readWide(ops[0]), b = try readWide(ops[1]), imm = try immediate(ops, 2)
            let r: UInt128
            switch imm {
            case 0: r = b
            case 1..<16: r = b >> UInt128(8 * imm) | a << UInt128(8 * (16 - imm))
            case 16..<32: r = a >> UInt128(8 * (imm - 16))
            default: r = 0
            }
            try writeWide(ops[0], r)
        // SSE4.1
        case .pblendvb, .blendvps, .blendvpd, .pblendw, .blendps, .blendpd:
            let a = try readWide(ops[0]), b = try readWide(ops[1])
            let width = op == .pblendvb ? 1 : op == .pblendw ? 2 : op == .blendvps || op == .blendps ? 4 : 8
            let variable = op == .pblendvb || op == .blendvps || op == .blendvpd
            let mask = variable ? UInt128(state.xmm(0)) : 0
            let imm = variable ? 0 : try immediate(ops, 2)
            try writeWide(ops[0], UInt128.build(16 / width, width) { i in
                let pick = variable ? mask.element(i, width) >> UInt64(8 * width - 1) != 0 : (imm >> UInt64(i)) & 1 != 0
                return (pick ? b : a).element(i, width)
            })
        case .ptest:
            let a = try readWide(ops[0]), b = try readWide(ops[1])
            state.rflags = state.rflags & ~Flag.status | (a & b == 0 ? Flag.zf : 0) | (~a & b == 0 ? Flag.cf : 0)
        case .pmovsxbw, .pmovsxbd, .pmovsxbq, .pmovsxwd, .pmovsxwq, .pmovsxdq,
             .pmovzxbw, .pmovzxbd, .pmovzxbq, .pmovzxwd, .pmovzxwq, .pmovzxdq:
            // Source and destination element widths.
            let (from, to, signed): (Int, Int, Bool)
            switch op {
            case .pmovsxbw: (from, to, signed) = (1, 2, true)
            case .pmovsxbd: (from, to, signed) = (1, 4, true)
            case .pmovsxbq: (from, to, signed) = (1, 8, true)
            case .pmovsxwd: (from, to, signed) = (2, 4, true)
            case .pmovsxwq: (from, to, signed) = (2, 8, true)
            case .pmovsxdq: (from, to, signed) = (4, 8, true)
            case .pmovzxbw: (from, to, signed) = (1, 2, false)
            case .pmovzxbd: (from, to, signed) = (1, 4, false)
            case .pmovzxbq: (from, to, signed) = (1, 8, false)
            case .pmovzxwd: (from, to, signed) = (2, 4, false)
            case .pmovzxwq: (from, to, signed) = (2, 8, false)
            default: (from, to, signed) = (4, 8, false) // pmovzxdq
            }
            let b = try readWide(ops[1])
            try writeWide(ops[0], UInt128.build(16 / to, to) { i in
                signed ? UInt64(bitPattern: b.signedElement(i, from)) : b.element(i, from)
            })
        case .pmuldq:
            let a = try readWide(ops[0]), b = try readWide(ops[1])
            try writeWide(ops[0], UInt128.build(2, 8) { i in
                UInt64(bitPattern: a.signedElement(2 * i, 4) &* b.signedElement(2 * i, 4))
            })
        case .pcmpeqq, .pcmpgtq:
            let a = try readWide(ops[0]), b = try readWide(ops[1])
            try writeWide(ops[0], UInt128.build(2, 8) { i in
                (op == .pcmpeqq ? a.element(i, 8) == b.element(i, 8) : a.signedElement(i, 8) > b.signedElement(i, 8)) ? ~0 : 0
            })
        case .movntdqa:
            try writeVector(ops[0], try readVector(ops[1], aligned: true), aligned: true)
        case .pminsb, .pminsd, .pminuw, .pminud, .pmaxsb, .pmaxsd, .pmaxuw, .pmaxud:
            let (width, signed, isMin): (Int, Bool, Bool)
            switch op {
            case .pminsb: (width, signed, isMin) = (1, true, true)
            case .pminsd: (width, signed, isMin) = (4, true, true)
            case .pminuw: (width, signed, isMin) = (2, false, true)
            case .pminud: (width, signed, isMin) = (4, false, true)
            case .pmaxsb: (width, signed, isMin) = (1, true, false)
            case .pmaxsd: (width, signed, isMin) = (4, true, false)
            case .pmaxuw: (width, signed, isMin) = (2, false, false)
            default: (width, signed, isMin) = (4, false, false) // pmaxud
            }
            let a = try readWide(ops[0]), b = try readWide(ops[1])
            try writeWide(ops[0], UInt128.build(16 / width, width) { i in
                let less = signed ? a.signedElement(i, width) < b.signedElement(i, width) : a.element(i, width) < b.element(i, width)
                return (less == isMin ? a : b).element(i, width)
            })
        case .pmulld:
            let a = try readWide(ops[0]), b = try readWide(ops[1])
            try writeWide(ops[0], UInt128.build(4, 4) { i in a.element(i, 4) &* b.element(i, 4) })
        case .phminposuw:
            let b = try readWide(ops[1])
            var best = 0
            for i in 1..<8 where b.element(i, 2) < b.element(best, 2) { best = i }
            try writeWide(ops[0], UInt128(b.element(best, 2)) | UInt128(best) << 16)
        case .mpsadbw:
            let a = try readWide(ops[0]), b = try readWide(ops[1]), imm = try immediate(ops, 2)
            let aOffset = Int((imm >> 2) & 1) * 4, bOffset = Int(imm & 3) * 4
            try writeWide(ops[0], UInt128.build(8, 2) { i in
                (0..<4).reduce(UInt64(0)) { s, k in
                    let x = a.element(aOffset + i + k, 1), y = b.element(bOffset + k, 1)
                    return s + (x > y ? x - y : y - x)
                }
            })
        case .insertps:
            let imm = try immediate(ops, 2)
            let v: UInt64
            if case .memory(let m) = ops[1] {
                v = try memory.read(try checkedAddress(m, size: 4), size: 4)
            } else {
                v = try readWide(ops[1]).element(Int(imm >> 6), 4)
            }
            var a = try readWide(ops[0])
            a.setElement(Int((imm >> 4) & 3), 4, v)
            for i in 0..<4 where (imm >> UInt64(i)) & 1 != 0 { a.setElement(i, 4, 0) }
            try writeWide(ops[0], a)
        case .pclmulqdq:
            let a = try readWide(ops[0]), b = try readWide(ops[1]), imm = try immediate(ops, 2)
            let x = a.element(Int(imm & 1), 8), y = b.element(Int((imm >> 4) & 1), 8)
            var r: UInt128 = 0
            for i in 0..<64 where (y >> UInt64(i)) & 1 != 0 { r ^= UInt128(x) << UInt128(i) }
            try writeWide(ops[0], r)
        case .pcmpestri, .pcmpestrm, .pcmpistri, .pcmpistrm:
            try compareStrings(op, ins, ops)
        default:
            return false
        }
        return true
    }
}

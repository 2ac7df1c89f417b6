import X86
import X86Decoder

/// A 128-bit value as two quadwords.
typealias Vec = (lo: UInt64, hi: UInt64)

/// Lane-wise helpers: apply `f` to each `width`-byte lane of two vectors.
@inline(__always)
func lanes(_ a: Vec, _ b: Vec, _ width: Int, _ f: (UInt64, UInt64) -> UInt64) -> Vec {
    func half(_ x: UInt64, _ y: UInt64) -> UInt64 {
        if width == 8 { return f(x, y) }
        let bits = UInt64(width * 8), m: UInt64 = (1 << bits) - 1
        var r: UInt64 = 0
        var shift: UInt64 = 0
        while shift < 64 {
            r |= (f((x >> shift) & m, (y >> shift) & m) & m) << shift
            shift += bits
        }
        return r
    }
    return (half(a.lo, b.lo), half(a.hi, b.hi))
}

/// PMOVMSKB: the top bit of each of the low `bytes` bytes, as a bit mask.
func byteSignMask(_ v: UInt128, bytes: Int) -> UInt64 {
    var mask: UInt64 = 0
    for i in 0..<bytes { mask |= (v.element(i, 1) >> 7) << UInt64(i) }
    return mask
}

extension CPU {
    /// Reads an XMM register or a 128-bit (or smaller) memory operand; `aligned`: a 16-byte
    /// memory operand must be 16-byte aligned (#GP(0)), as legacy SSE requires outside the
    /// explicitly unaligned moves.
    func readVector(_ op: Operand, aligned: Bool) throws(CPUException) -> Vec {
        switch op {
        case .register(let r) where r.kind == .xmm: return state.xmm(Int(r.number))
        case .memory(let m):
            let a = try checkedAddress(m, size: max(m.size, 1), aligned16: aligned)
            switch m.size {
            case 16: return (try memory.read(a, size: 8), try memory.read(a &+ 8, size: 8))
            case 8, 4, 2, 1: return (try memory.read(a, size: m.size), 0)
            default: throw .invalidOpcode
            }
        default:
            return (try read(place(op)), 0)
        }
    }

    func writeVector(_ op: Operand, _ v: Vec, aligned: Bool) throws(CPUException) {
        switch op {
        case .register(let r) where r.kind == .xmm: state.setXMM(Int(r.number), v)
        case .memory(let m):
            let a = try checkedAddress(m, size: max(m.size, 1), aligned16: aligned)
            if m.size == 16 {
                // The second half is probed (read) before the first is written, so a missing
                // second page faults before anything lands. A read probe does not check write
                // permission: the MMU of issue 5 should offer a write probe for this.
                _ = try memory.read(a &+ 8, size: 8)
                try store(a, size: 8, value: v.lo)
                try store(a &+ 8, size: 8, value: v.hi)
            } else {
                try store(a, size: m.size, value: v.lo & sizeMask(m.size))
            }
        default:
            try write(place(op), v.lo)
        }
    }

    /// SSE/SSE2 moves, logic, integer arithmetic, compares, shuffles and shifts on XMM registers.
    func sse(_ op: Op, _ ins: Instruction, _ ops: OperandList) throws(CPUException) {
        switch op {
        case .movdqa, .movaps, .movapd:
            try writeVector(ops[0], try readVector(ops[1], aligned: true), aligned: true)
        case .movdqu, .movups, .movupd:
            try writeVector(ops[0], try readVector(ops[1], aligned: false), aligned: false)
        case .movd, .movq:
            // To an XMM register: zero-extended to 128 bits. From one: the low 32 or 64 bits.
            let size = op == .movd ? 4 : 8
            if case .register(let r) = ops[0], r.kind == .xmm {
                let v = try readVector(ops[1], aligned: false)
                state.setXMM(Int(r.number), (v.lo & sizeMask(size), 0))
            } else {
                let v = try readVector(ops[1], aligned: false)
                try writeVector(ops[0], (v.lo & sizeMask(size), 0), aligned: false)
            }
        case .pshufd:
            let s = try readVector(ops[1], aligned: true)
            guard case .immediate(let imm, _) = ops[2] else { throw .invalidOpcode }
            func dword(_ i: UInt64) -> UInt64 { ((i < 2 ? s.lo : s.hi) >> (32 * (i & 1))) & 0xFFFF_FFFF }
            let d = (0..<4).map { dword((imm >> (2 * UInt64($0))) & 3) }
            try writeVector(ops[0], (d[0] | d[1] << 32, d[2] | d[3] << 32), aligned: true)
        case .pmovmskb:
            try write(place(ops[0]), byteSignMask(UInt128(try readVector(ops[1], aligned: true)), bytes: 16))
        case .psllw, .pslld, .psllq, .psrlw, .psrld, .psrlq, .psraw, .psrad, .pslldq, .psrldq:
            try vectorShift(op, ops)
        default:
            if try sseInteger(op, ins, ops) { return }
            let a = try readVector(ops[0], aligned: true), b = try readVector(ops[1], aligned: true)
            try writeVector(ops[0], vectorArithmetic(op, a, b), aligned: true)
        }
    }

    func vectorArithmetic(_ op: Op, _ a: Vec, _ b: Vec) -> Vec {
        func signed(_ v: UInt64, _ w: Int) -> Int64 { Int64(bitPattern: signExtend(v, w)) }
        func clampS(_ v: Int64, _ w: Int) -> UInt64 {
            let hi = (Int64(1) << Int64(w * 8 - 1)) - 1, lo = -hi - 1
            return UInt64(bitPattern: min(max(v, lo), hi))
        }
        func clampU(_ v: Int64, _ w: Int) -> UInt64 { UInt64(min(max(v, 0), Int64(sizeMask(w)))) }
        switch op {
        case .pxor, .xorps, .xorpd: return (a.lo ^ b.lo, a.hi ^ b.hi)
        case .por, .orps, .orpd: return (a.lo | b.lo, a.hi | b.hi)
        case .pand, .andps, .andpd: return (a.lo & b.lo, a.hi & b.hi)
        case .pandn, .andnps, .andnpd: return (~a.lo & b.lo, ~a.hi & b.hi)
        case .paddb: return lanes(a, b, 1, &+)
        case .paddw: return lanes(a, b, 2, &+)
        case .paddd: return lanes(a, b, 4, &+)
        case .paddq: return lanes(a, b, 8, &+)
        case .psubb: return lanes(a, b, 1, &-)
        case .psubw: return lanes(a, b, 2, &-)
        case .psubd: return lanes(a, b, 4, &-)
        case .psubq: return lanes(a, b, 8, &-)
        case .paddsb: return lanes(a, b, 1) { clampS(signed($0, 1) + signed($1, 1), 1) }
        case .paddsw: return lanes(a, b, 2) { clampS(signed($0, 2) + signed($1, 2), 2) }
        case .psubsb: return lanes(a, b, 1) { clampS(signed($0, 1) - signed($1, 1), 1) }
        case .psubsw: return lanes(a, b, 2) { clampS(signed($0, 2) - signed($1, 2), 2) }
        case .paddusb: return lanes(a, b, 1) { clampU(Int64($0) + Int64($1), 1) }
        case .paddusw: return lanes(a, b, 2) { clampU(Int64($0) + Int64($1), 2) }
        case .psubusb: return lanes(a, b, 1) { clampU(Int64($0) - Int64($1), 1) }
        case .psubusw: return lanes(a, b, 2) { clampU(Int64($0) - Int64($1), 2) }
        case .pcmpeqb: return lanes(a, b, 1) { $0 == $1 ? ~0 : 0 }
        case .pcmpeqw: return lanes(a, b, 2) { $0 == $1 ? ~0 : 0 }
        case .pcmpeqd: return lanes(a, b, 4) { $0 == $1 ? ~0 : 0 }
        case .pcmpgtb: return lanes(a, b, 1) { signed($0, 1) > signed($1, 1) ? ~0 : 0 }
        case .pcmpgtw: return lanes(a, b, 2) { signed($0, 2) > signed($1, 2) ? ~0 : 0 }
        case .pcmpgtd: return lanes(a, b, 4) { signed($0, 4) > signed($1, 4) ? ~0 : 0 }
        case .pminub: return lanes(a, b, 1) { min($0, $1) }
        case .pmaxub: return lanes(a, b, 1) { max($0, $1) }
        case .pminsw: return lanes(a, b, 2) { signed($0, 2) < signed($1, 2) ? $0 : $1 }
        case .pmaxsw: return lanes(a, b, 2) { signed($0, 2) > signed($1, 2) ? $0 : $1 }
        case .pavgb: return lanes(a, b, 1) { ($0 + $1 + 1) >> 1 }
        case .pavgw: return lanes(a, b, 2) { ($0 + $1 + 1) >> 1 }
        case .pmullw: return lanes(a, b, 2) { $0 &* $1 }
        case .pmulhw: return lanes(a, b, 2) { UInt64(bitPattern: (signed($0, 2) * signed($1, 2)) >> 16) }
        case .pmulhuw: return lanes(a, b, 2) { ($0 * $1) >> 16 }
        case .pmuludq: return ((a.lo & 0xFFFF_FFFF) * (b.lo & 0xFFFF_FFFF), (a.hi & 0xFFFF_FFFF) * (b.hi & 0xFFFF_FFFF))
        default: return unpack(op, a, b)
        }
    }

    /// PUNPCKL/H*: interleave the low or high halves' lanes of the two sources.
    func unpack(_ op: Op, _ a: Vec, _ b: Vec) -> Vec {
        let width: Int, high: Bool
        switch op {
        case .punpcklbw: (width, high) = (1, false)
        case .punpcklwd: (width, high) = (2, false)
        case .punpckldq: (width, high) = (4, false)
        case .punpcklqdq: (width, high) = (8, false)
        case .punpckhbw: (width, high) = (1, true)
        case .punpckhwd: (width, high) = (2, true)
        case .punpckhdq: (width, high) = (4, true)
        default: (width, high) = (8, true) // punpckhqdq
        }
        let x = high ? a.hi : a.lo, y = high ? b.hi : b.lo
        let bits = UInt64(width * 8), m: UInt64 = width == 8 ? ~0 : (1 << bits) - 1
        var out: [UInt64] = []
        for i in 0..<(8 / width) {
            out.append((x >> (UInt64(i) * bits)) & m)
            out.append((y >> (UInt64(i) * bits)) & m)
        }
        var lo: UInt64 = 0, hi: UInt64 = 0
        let per = 8 / width
        for (i, v) in out.enumerated() {
            if i < per { lo |= v << (UInt64(i) * bits) } else { hi |= v << (UInt64(i - per) * bits) }
        }
        return (lo, hi)
    }

    /// PSLL/PSRL/PSRA by an XMM count or an immediate; PSLLDQ/PSRLDQ by bytes.
    func vectorShift(_ op: Op, _ ops: OperandList) throws(CPUException) {
        let a = try readVector(ops[0], aligned: true)
        let count: UInt64
        switch ops[1] {
        case .immediate(let v, _): count = v & 0xFF
        default: count = try readVector(ops[1], aligned: true).lo
        }
        try writeVector(ops[0], shiftLanes(op, a, count), aligned: true)
    }

    /// The shifts' lanes (shared by the XMM and MMX forms): counts past the lane width give
    /// zero, or the sign for arithmetic shifts.
    func shiftLanes(_ op: Op, _ a: Vec, _ count: UInt64) -> Vec {
        switch op {
        case .pslldq, .psrldq:
            let n = min(count, 16) * 8
            let wide = (UInt128(a.hi) << 64) | UInt128(a.lo)
            let s = n >= 128 ? 0 : (op == .pslldq ? wide << n : wide >> n)
            return (UInt64(truncatingIfNeeded: s), UInt64(truncatingIfNeeded: s >> 64))
        default:
            let width: Int
            switch op {
            case .psllw, .psrlw, .psraw: width = 2
            case .pslld, .psrld, .psrad: width = 4
            default: width = 8
            }
            let bits = UInt64(width * 8)
            let arithmetic = op == .psraw || op == .psrad
            let left = op == .psllw || op == .pslld || op == .psllq
            return lanes(a, a, width) { x, _ in
                if count >= bits {
                    return arithmetic ? (signExtend(x, width) >> 63 != 0 ? ~0 : 0) : 0
                }
                if left { return x << count }
                if arithmetic { return UInt64(bitPattern: Int64(bitPattern: signExtend(x, width)) >> Int64(count)) }
                return x >> count
            }
        }
    }
}

import X86
import X86Decoder

extension CPU {
    /// SHL/SAL/SHR/SAR/ROL/ROR/RCL/RCR by 1, CL or an immediate (SDM vol. 2, "RCL/RCR/ROL/ROR"
    /// and "SAL/SAR/SHL/SHR"). A masked count of 0 changes nothing, flags included.
    func shift(_ op: Op, _ ops: OperandList) throws(CPUException) {
        let d = place(ops[0]), size = self.size(d)
        let count = ops.count > 1 ? try read(place(ops[1])) & 0xFF : 1
        let c = count & (size == 8 ? 0x3F : 0x1F)
        let a = try read(d)
        guard c != 0 else {
            // No flags change, but a 32-bit register is still written: its upper half clears
            // (the host CPU does so for every shift and rotate by 0).
            if case .gpr = d, size == 4 { try write(d, a) }
            return
        }
        let saved = state.rflags
        let r = shiftResult(op, a, c, size)
        try writeKeepingFlags(d, r, saved: saved)
    }

    /// The result of a shift or rotate of `a` by a masked count `c` (not 0), setting the flags.
    @inline(__always)
    func shiftResult(_ op: Op, _ a: UInt64, _ c: UInt64, _ size: Int) -> UInt64 {
        let w = UInt64(size * 8), m = sizeMask(size), msb = signBit(size)
        let isShift = op == .shl || op == .sal || op == .shr || op == .sar
        // A shift by less than the width: the fast forms' arithmetic.
        if isShift && c < w { return shift(op == .sal ? .shl : op, a, c, size) }
        var r: UInt64
        var cf: Bool
        var of = state.flag(Flag.of)
        // Shifts set SF, ZF and PF from the result (AF is undefined: cleared); rotates leave them.
        var setsResultFlags = true
        switch op {
        // What remains of the shifts: 8- and 16-bit operands by a count of the width or more
        // (up to 31), which shifts every bit out.
        case .shl, .sal:
            r = 0
            cf = c == w && a & 1 != 0
            of = cf
        case .shr:
            r = 0
            cf = c == w && a & msb != 0
            of = a & msb != 0
        case .sar:
            r = a & msb != 0 ? m : 0
            cf = a & msb != 0
            of = false
        case .rol, .ror:
            return rotate(left: op == .rol, a, c % w, size)
        default: // rcl, rcr: a (w + 1)-bit rotation through CF
            setsResultFlags = false
            let k = size <= 2 ? c % (w + 1) : c
            var v = a
            var carry = state.flag(Flag.cf)
            if op == .rcr && c == 1 { of = (a & msb != 0) != carry }
            for _ in 0..<k {
                if op == .rcl {
                    let out = v & msb != 0
                    v = ((v << 1) | (carry ? 1 : 0)) & m
                    carry = out
                } else {
                    let out = v & 1 != 0
                    v = (v >> 1) | (carry ? msb : 0)
                    carry = out
                }
            }
            r = v
            cf = carry
            if op == .rcl { of = (r & msb != 0) != cf }
        }
        let cleared = setsResultFlags ? Flag.cf | Flag.of | Flag.af : Flag.cf | Flag.of
        state.rflags = (state.rflags & ~cleared) | (cf ? Flag.cf : 0) | (of ? Flag.of : 0)
        if setsResultFlags { setResultFlags(r, size) }
        return r
    }

    /// MUL's double-width product of two `size`-byte values: the high and low halves.
    @_transparent
    func unsignedProduct(_ a: UInt64, _ b: UInt64, _ size: Int) -> (hi: UInt64, lo: UInt64) {
        if size == 8 {
            // UInt128's transparent initializer: its generic ones and multipliedFullWidth
            // stay calls inside the block loop, not a MUL.
            let p = UInt128(_low: a, _high: 0) &* UInt128(_low: b, _high: 0)
            return (p._high, p._low)
        }
        // Both fit in 32 bits: the product fits in 64.
        let full = (a & sizeMask(size)) &* (b & sizeMask(size))
        return ((full >> UInt64(size * 8)) & sizeMask(size), full & sizeMask(size))
    }

    /// IMUL's truncated signed product of two `size`-byte values; CF = OF = it did not fit,
    /// SF, ZF and PF from the result (`setMulFlags`). With `flags` false (dead) only the product.
    @_transparent
    func signedProduct(_ a: UInt64, _ b: UInt64, _ size: UInt8, flags: Bool = true) -> UInt64 {
        let x = Int64(bitPattern: signExtend(a, Int(size))), y = Int64(bitPattern: signExtend(b, Int(size)))
        if !flags { return UInt64(bitPattern: x &* y) & sizeMask(Int(size)) }
        let p = Int128(_low: UInt64(bitPattern: x), _high: x >> 63) &* Int128(_low: UInt64(bitPattern: y), _high: y >> 63)
        let hi = p._high, lo = p._low
        let r = lo & sizeMask(Int(size))
        let fits = size == 8 ? hi == Int64(bitPattern: lo) >> 63 : signExtend(r, Int(size)) == lo
        setMulFlags(!fits, r, Int(size))
        return r
    }

    /// Writes a result whose flags are already set; if the write faults, the flags go back.
    func writeKeepingFlags(_ d: Place, _ v: UInt64, saved: UInt64) throws(CPUException) {
        do throws(CPUException) { try write(d, v) } catch { state.rflags = saved; throw error }
    }

    /// MUL, IMUL (one, two and three operands), DIV, IDIV.
    func multiplyDivide(_ op: Op, _ ops: OperandList, _ osz: Int) throws(CPUException) {
        if op == .imul && ops.count > 1 {
            // IMUL r, r/m (, imm): the truncated signed product; CF = OF = it did not fit.
            let d = place(ops[0]), size = self.size(d)
            let x = try read(ops.count == 3 ? place(ops[1]) : d)
            let s = place(ops.count == 3 ? ops[2] : ops[1])
            // An immediate is sign-extended from its own size first.
            let y = signExtend(try read(s), self.size(s))
            try write(d, signedProduct(x, y, UInt8(size)))
            return
        }
        let s = place(ops[0]), size = self.size(s)
        let src = try read(s)
        let m = sizeMask(size)
        // The implicit operands: AL/AX, DX:AX, EDX:EAX, RDX:RAX.
        let lowReg = Place.gpr(GPR.rax, size: size, high: false)
        let highReg = size == 1 ? Place.gpr(GPR.rax, size: 1, high: true) : Place.gpr(GPR.rdx, size: size, high: false)
        switch op {
        case .mul, .imul:
            let a = try read(lowReg)
            var lo: UInt64, hi: UInt64
            if op == .mul {
                (hi, lo) = unsignedProduct(a, src, size)
                setMulFlags(hi != 0, lo, size)
            } else {
                let x = Int64(bitPattern: signExtend(a, size)), y = Int64(bitPattern: signExtend(src, size))
                let p = x.multipliedFullWidth(by: y)
                if size == 8 { (hi, lo) = (UInt64(bitPattern: p.high), p.low) } else {
                    let full = UInt64(bitPattern: x &* y)
                    (hi, lo) = ((full >> UInt64(size * 8)) & m, full & m)
                }
                let fits = size == 8 ? UInt64(bitPattern: p.high) == (p.low >> 63 != 0 ? ~0 : 0)
                                     : signExtend(lo, size) == UInt64(bitPattern: x &* y)
                setMulFlags(!fits, lo, size)
            }
            if size == 1 {
                state.rax = (state.rax & ~0xFFFF) | (hi << 8) | lo
            } else {
                try write(lowReg, lo)
                try write(highReg, hi)
            }
        default:
            guard src != 0 else { throw .divideError }
            let loV = try read(lowReg), hiV = try read(highReg)
            var q: UInt64, r: UInt64
            if op == .div {
                if size == 8 {
                    guard hiV < src else { throw .divideError }
                    (q, r) = src.dividingFullWidth((high: hiV, low: loV))
                } else {
                    let n = (hiV << UInt64(size * 8)) | loV
                    q = n / src
                    r = n % src
                    guard q <= m else { throw .divideError }
                }
            } else {
                let y = Int64(bitPattern: signExtend(src, size))
                if size == 8 {
                    let n = (high: Int64(bitPattern: hiV), low: loV)
                    // Overflow: the quotient must fit in 64 signed bits.
                    let negative = n.high < 0
                    let mag = negative ? (UInt64(bitPattern: ~n.high), ~n.low) : (UInt64(bitPattern: n.high), n.low)
                    var (mh, ml) = mag
                    if negative { (ml, mh) = (ml &+ 1, ml == ~0 ? mh &+ 1 : mh) }
                    let d = y.magnitude
                    guard mh < d else { throw .divideError }
                    let (uq, ur) = d.dividingFullWidth((high: mh, low: ml))
                    let qNeg = negative != (y < 0)
                    guard qNeg ? uq <= 1 << 63 : uq < 1 << 63 else { throw .divideError }
                    q = qNeg ? 0 &- uq : uq
                    r = negative ? 0 &- ur : ur
                } else {
                    let shift = 64 - Int64(size * 16)
                    let n = (Int64(bitPattern: (hiV << UInt64(size * 8)) | loV) << shift) >> shift
                    let sq = n / y, sr = n % y
                    let lim = Int64(1) << Int64(size * 8 - 1)
                    guard sq >= -lim && sq < lim else { throw .divideError }
                    q = UInt64(bitPattern: sq) & m
                    r = UInt64(bitPattern: sr) & m
                }
            }
            if size == 1 {
                state.rax = (state.rax & ~0xFFFF) | ((r & 0xFF) << 8) | (q & 0xFF)
            } else {
                try write(lowReg, q)
                try write(highReg, r)
            }
        }
    }

    /// CF = OF = the product did not fit; SF, ZF, AF and PF are undefined (softvmm sets
    /// SF, ZF and PF from the low half and clears AF).
    func setMulFlags(_ overflow: Bool, _ low: UInt64, _ size: Int) {
        state.rflags = (state.rflags & ~Flag.status) | (overflow ? Flag.cf | Flag.of : 0)
        setResultFlags(low, size)
    }

    /// BT/BTS/BTR/BTC: CF = the bit; the others set, clear or flip it. A register bit
    /// offset into memory addresses beyond the operand (signed, in operand-size units).
    func bitTest(_ op: Op, _ ops: OperandList) throws(CPUException) {
        var d = place(ops[0])
        let size = self.size(d), w = UInt64(size * 8)
        let o = place(ops[1])
        var offset = try read(o)
        if case .memory(let a, _, let stack) = d, case .gpr = o {
            let (displacement, bit) = bitStringStep(offset, size: size)
            d = .memory(a &+ displacement, size: size, stack: stack)
            offset = bit
        } else {
            offset &= w - 1
        }
        let v = try read(d)
        let bit = (v >> offset) & 1
        let saved = state.rflags
        state.set(Flag.cf, bit != 0)
        switch op {
        case .bts: try writeKeepingFlags(d, v | (1 << offset), saved: saved)
        case .btr: try writeKeepingFlags(d, v & ~(1 << offset), saved: saved)
        case .btc: try writeKeepingFlags(d, v ^ (1 << offset), saved: saved)
        default: break
        }
    }
}

/// A bit string's operand for a register offset (BT and the rest of memory, `size` bytes):
/// the offset, signed, moves the address by whole operands, and its low bits pick the bit.
@inline(__always) func bitStringStep(_ offset: UInt64, size: Int) -> (displacement: UInt64, bit: UInt64) {
    let signed = Int64(bitPattern: signExtend(offset, size))
    let unit = signed >> Int64(size == 8 ? 6 : (size == 4 ? 5 : 4))
    return (UInt64(bitPattern: unit &* Int64(size)), UInt64(bitPattern: signed) & UInt64(size * 8 - 1))
}

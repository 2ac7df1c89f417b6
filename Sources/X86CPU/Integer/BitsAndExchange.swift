import X86
import X86Decoder

extension CPU {
    /// XADD, CMPXCHG, CMPXCHG8B/16B.
    func exchange(_ op: Op, _ ops: OperandList, _ ins: Instruction) throws(CPUException) {
        switch op {
        case .xadd:
            let d = place(ops[0]), s = place(ops[1]), size = self.size(d)
            let a = try read(d), b = try read(s)
            let saved = state.rflags
            let sum = arithmetic(.add, a, b, size: size)
            do throws(CPUException) {
                // A memory destination is written first (if that faults the register keeps its
                // value); otherwise the source takes the old destination first: with one
                // register for both, the sum wins.
                if case .memory = d {
                    try write(d, sum)
                    try write(s, a)
                } else {
                    try write(s, a)
                    try write(d, sum)
                }
            } catch { state.rflags = saved; throw error }
        case .cmpxchg:
            let d = place(ops[0]), s = place(ops[1]), size = self.size(d)
            let acc = Place.gpr(GPR.rax, size: size, high: false)
            let current = try read(d), expected = try read(acc)
            let saved = state.rflags
            _ = arithmetic(.cmp, expected, current, size: size)
            do throws(CPUException) {
                if expected == current {
                    try write(d, try read(s))
                } else {
                    // A memory destination is written back unchanged (the locked cycle writes); a register
                    // one is left alone (its upper half too, on the host). The accumulator takes the value.
                    if case .memory = d { try write(d, current) }
                    try write(acc, current)
                }
            } catch { state.rflags = saved; throw error }
        default: // cmpxchg8b, cmpxchg16b
            guard case .memory(let m) = ops[0] else { throw .invalidOpcode }
            let wide = op == .cmpxchg16b
            let half = wide ? 8 : 4
            // CMPXCHG16B's alignment #GP comes before the canonical check (#SS through RBP).
            let a = try checkedAddress(m, size: 2 * half, aligned16: wide)
            let lo = try memory.read(a, size: half), hi = try memory.read(a &+ UInt64(half), size: half)
            let m0 = sizeMask(half)
            let equal = lo == state.rax & m0 && hi == state.rdx & m0
            if equal {
                try store(a, size: half, value: state.rbx & m0)
                try store(a &+ UInt64(half), size: half, value: state.rcx & m0)
            } else {
                try store(a, size: half, value: lo)
                try store(a &+ UInt64(half), size: half, value: hi)
                try write(.gpr(GPR.rax, size: half, high: false), lo)
                try write(.gpr(GPR.rdx, size: half, high: false), hi)
            }
            state.set(Flag.zf, equal)
        }
    }

    /// SHLD/SHRD: a double-width shift. A count of 0 changes nothing but a 32-bit register's
    /// upper half; a 16-bit operand shifted by more than 16 is undefined (the SDM's words).
    func doubleShift(_ op: Op, _ ops: OperandList) throws(CPUException) {
        let d = place(ops[0]), size = self.size(d), w = UInt64(size * 8)
        let src = try read(place(ops[1]))
        let c = try read(place(ops[2])) & (size == 8 ? 0x3F : 0x1F)
        let a = try read(d)
        guard c != 0 else {
            if case .gpr = d, size == 4 { try write(d, a) }
            return
        }
        let m = sizeMask(size)
        let k = min(c, w)
        let r: UInt64, cf: Bool
        if op == .shld {
            r = ((a << k) | (src >> (w - k))) & m
            cf = (a >> (w - k)) & 1 != 0
        } else {
            r = ((a >> k) | (src << (w - k))) & m
            cf = (a >> (k - 1)) & 1 != 0
        }
        let saved = state.rflags
        let of = (r ^ a) & signBit(size) != 0
        state.rflags = (state.rflags & ~(Flag.cf | Flag.of | Flag.af)) | (cf ? Flag.cf : 0) | (of ? Flag.of : 0)
        setResultFlags(r, size)
        try writeKeepingFlags(d, r, saved: saved)
    }

    /// POPCNT, TZCNT, LZCNT: CF = the source was zero (TZCNT/LZCNT) ; ZF = the result is zero.
    func count(_ op: Op, _ ops: OperandList) throws(CPUException) {
        let d = place(ops[0]), s = place(ops[1]), size = self.size(s), w = size * 8
        let v = try read(s)
        let r: Int
        switch op {
        case .popcnt: r = v.nonzeroBitCount
        case .tzcnt: r = v == 0 ? w : v.trailingZeroBitCount
        default: r = v == 0 ? w : v.leadingZeroBitCount - (64 - w)
        }
        let saved = state.rflags
        var f = state.rflags & ~Flag.status
        if op == .popcnt {
            if r == 0 { f |= Flag.zf }
        } else {
            if v == 0 { f |= Flag.cf }
            if r == 0 { f |= Flag.zf }
        }
        state.rflags = f
        try writeKeepingFlags(d, UInt64(r), saved: saved)
    }

    /// CRC32 (the CRC-32C polynomial, bit-reflected), over 1, 2, 4 or 8 source bytes.
    func crc32(_ ops: OperandList) throws(CPUException) {
        let d = place(ops[0]), s = place(ops[1])
        var crc = UInt32(truncatingIfNeeded: try read(d))
        let v = try read(s)
        for i in 0..<size(s) {
            crc ^= UInt32((v >> (8 * UInt64(i))) & 0xFF)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        }
        try write(d, UInt64(crc))
    }

    /// The BMI1/BMI2 general-register instructions and ADCX/ADOX.
    func bitManipulation(_ op: Op, _ ops: OperandList) throws(CPUException) {
        let d = place(ops[0]), size = self.size(d), w = UInt64(size * 8), m = sizeMask(size)
        func flagsZS(_ r: UInt64, cf: Bool, of: Bool = false) {
            var f = state.rflags & ~Flag.status
            if r & m == 0 { f |= Flag.zf }
            if r & signBit(size) != 0 { f |= Flag.sf }
            if cf { f |= Flag.cf }
            if of { f |= Flag.of }
            state.rflags = f
        }
        let saved = state.rflags
        var result: UInt64
        switch op {
        case .andn:
            let a = try read(place(ops[1])), b = try read(place(ops[2]))
            result = ~a & b & m
            flagsZS(result, cf: false)
        case .bextr:
            let src = try read(place(ops[1])), ctl = try read(place(ops[2]))
            let start = ctl & 0xFF, len = (ctl >> 8) & 0xFF
            result = start >= w ? 0 : (src >> start) & (len >= 64 ? ~0 : (1 << len) - 1) & m
            flagsZS(result, cf: false)
        case .blsi, .blsmsk, .blsr:
            let src = try read(place(ops[1]))
            switch op {
            case .blsi: result = (0 &- src) & src & m
            case .blsmsk: result = (src ^ (src &- 1)) & m
            default: result = (src & (src &- 1)) & m
            }
            flagsZS(result, cf: op == .blsr || op == .blsmsk ? src & m == 0 : src & m != 0)
        case .bzhi:
            let src = try read(place(ops[1])), n = try read(place(ops[2])) & 0xFF
            result = n >= w ? src & m : src & ((1 << n) - 1)
            flagsZS(result, cf: n > w - 1)
        case .pdep, .pext:
            let src = try read(place(ops[1])), mask = try read(place(ops[2]))
            result = 0
            var k: UInt64 = 0
            for i in 0..<w where mask >> i & 1 != 0 {
                if op == .pdep { if src >> k & 1 != 0 { result |= 1 << i } } else if src >> i & 1 != 0 { result |= 1 << k }
                k += 1
            }
        case .rorx:
            let src = try read(place(ops[1])), c = try read(place(ops[2])) & (w - 1)
            result = c == 0 ? src : ((src >> c) | (src << (w - c))) & m
        case .sarx, .shlx, .shrx:
            let src = try read(place(ops[1])), c = try read(place(ops[2])) & (w - 1)
            switch op {
            case .shlx: result = (src << c) & m
            case .shrx: result = src >> c
            default: result = UInt64(bitPattern: Int64(bitPattern: signExtend(src, size)) >> Int64(c)) & m
            }
        case .mulx:
            // MULX r1, r2, r/m: r1:r2 = rDX * r/m, flags untouched (the high half wins if r1 == r2).
            let hiD = d, loD = place(ops[1])
            let a = state.rdx & m, b = try read(place(ops[2]))
            let (hi, lo): (UInt64, UInt64)
            if size == 8 { let p = a.multipliedFullWidth(by: b); (hi, lo) = (p.high, p.low) } else {
                let p = a * b; (hi, lo) = (p >> 32, p & 0xFFFF_FFFF)
            }
            try write(loD, lo)
            try write(hiD, hi)
            return
        default: // adcx, adox
            let a = try read(d), b = try read(place(ops[1]))
            let flag = op == .adcx ? Flag.cf : Flag.of
            let carryIn: UInt64 = state.flag(flag) ? 1 : 0
            result = (a &+ b &+ carryIn) & m
            let carry = size == 8 ? (a.addingReportingOverflow(b).overflow || (a &+ b).addingReportingOverflow(carryIn).overflow)
                                  : a + b + carryIn > m
            state.set(flag, carry)
        }
        do throws(CPUException) { try write(d, result) } catch { state.rflags = saved; throw error }
    }
}

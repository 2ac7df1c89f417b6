import SoftFloat
import X86
import X86Decoder

// FSCALE, FXTRACT, FPREM/FPREM1, and the control instructions: status and control words,
// FNCLEX, FNINIT, the environment and whole-state images (FNSTENV/FLDENV, FNSAVE/FRSTOR,
// FXSAVE/FXRSTOR).

extension CPU {
    // MARK: scale, extract, remainder

    /// FSCALE: ST(0) × 2^⌊ST(1)⌋ (truncated toward zero).
    func x87Scale() {
        if isEmpty(0) || isEmpty(1) {
            if x87Signal([], stackFault: true) { setST(0, CPU.indefinite) }
            return
        }
        var flags = FPFlags()
        let x = stValue(0, &flags), y = stValue(1, &flags)
        var result: Extended
        if let nan = x87NaN(x, y, &flags) {
            result = nan.packExtended()
        } else if y.kind == .infinity {
            switch x.kind {
            case .zero: result = y.sign ? st(0) : invalidResult(&flags)
            case .infinity: result = y.sign ? invalidResult(&flags) : st(0)
            default: result = y.sign ? FPValue.zero(x.sign).packExtended() : FPValue.infinity(x.sign).packExtended()
            }
        } else if x.kind != .finite {
            result = st(0)
        } else {
            // The scale, truncated and clamped far beyond any exponent range.
            var n: Int64 = 0
            if y.kind == .finite {
                if y.exponent >= 20 { n = 1 << 20 } else if y.exponent >= 0 { n = Int64(y.significand >> UInt64(63 - y.exponent)) }
                if y.sign { n = -n }
            }
            let e = Int64(x.exponent) + n
            let r = SoftFloat.round(sign: x.sign, exponent: Int32(clamping: e), sig: UInt128(x.significand) << 64,
                                    .extended, x87Environment, &flags)
            result = x87Result(r, &flags)
        }
        if x87Signal(flags) { setST(0, result) }
    }

    /// How far FPREM reduces when the exponents differ by `d` ≥ 64: the SDM leaves it between
    /// 32 and 63 quotient bits.
    func x87PartialSteps(_ d: Int) -> Int { 32 + (d - 64) % 32 }

    func invalidResult(_ flags: inout FPFlags) -> Extended {
        flags.insert(.invalid)
        return CPU.indefinite
    }

    /// FXTRACT: ST(0) becomes its unbiased exponent, then its significand (with the sign,
    /// exponent 0) is pushed.
    func x87Extract() {
        if isEmpty(0) {
            if x87Signal([], stackFault: true) {
                setST(0, CPU.indefinite)
                fpuPush(CPU.indefinite)
            }
            return
        }
        if !isEmpty(7) {
            if x87Signal([], stackFault: true, overflowFault: true) {
                setST(0, CPU.indefinite)
                fpuPush(CPU.indefinite)
            }
            return
        }
        var flags = FPFlags()
        let x = stValue(0, &flags)
        let exponent: Extended, significand: Extended
        if let nan = x87NaN(x, .zero(false), &flags) {
            (exponent, significand) = (nan.packExtended(), nan.packExtended())
        } else {
            switch x.kind {
            case .zero:
                flags.insert(.divideByZero)
                (exponent, significand) = (FPValue.infinity(true).packExtended(), st(0))
            case .infinity:
                (exponent, significand) = (FPValue.infinity(false).packExtended(), st(0))
            default:
                var ignored = FPFlags()
                exponent = SoftFloat.fromInteger(Int64(x.exponent), .extended, FPEnvironment(), &ignored).packExtended()
                significand = (x.significand, x.sign ? 0xBFFF : 0x3FFF)
            }
        }
        if x87Signal(flags) {
            setST(0, exponent)
            fpuPush(significand)
        }
    }

    /// FPREM (quotient truncated) and FPREM1 (quotient rounded to nearest): the exact
    /// remainder, or a partial one (C2 set) when the exponents differ by 64 or more; C0, C3
    /// and C1 receive the quotient's low three bits.
    func x87Remainder(_ op: Op) {
        if isEmpty(0) || isEmpty(1) {
            if x87Signal([], stackFault: true) { setST(0, CPU.indefinite) }
            state.fsw &= ~FSW.c2
            return
        }
        var flags = FPFlags()
        let x = stValue(0, &flags), y = stValue(1, &flags)
        var result: Extended
        var quotient: UInt64 = 0
        var partial = false
        var noQuotient = false
        if let nan = x87NaN(x, y, &flags) {
            result = nan.packExtended()
            noQuotient = true
        } else if x.kind == .infinity || y.kind == .zero {
            result = invalidResult(&flags)
            noQuotient = true
        } else if x.kind == .zero || y.kind == .infinity {
            result = x.packExtended() // a pseudo-denormal comes back normalized
        } else {
            // x = mx·2^(ex−63), y = my·2^(ey−63), d = ex − ey. Long division of mx·2^steps by my
            // gives the quotient and r, and the remainder is r·2^(ey + d − steps − 63).
            let d = Int(x.exponent) - Int(y.exponent)
            let steps = d >= 64 ? x87PartialSteps(d) : d
            partial = d >= 64
            let my = UInt128(y.significand)
            var r = UInt128(x.significand)
            var exponent = Int(y.exponent) + d - steps
            var sign = x.sign
            if steps >= 0 {
                if r >= my { r -= my; quotient = 1 }
                for _ in 0..<steps {
                    r <<= 1
                    quotient <<= 1
                    if r >= my { r -= my; quotient |= 1 }
                }
                if op == .fprem1 && !partial && (r << 1 > my || (r << 1 == my && quotient & 1 != 0)) {
                    r = my - r
                    quotient &+= 1
                    sign.toggle()
                }
            } else {
                exponent = Int(x.exponent)
                if op == .fprem1 && d == -1 && x.significand > y.significand {
                    // |y|/2 < |x| < |y|: the quotient rounds to 1.
                    r = (my << 1) - r
                    exponent = Int(y.exponent) - 1
                    quotient = 1
                    sign.toggle()
                }
            }
            if r == 0 {
                result = FPValue.zero(x.sign).packExtended()
            } else {
                // value = r·2^(exponent − 63) = (r << 64)·2^(exponent − 127).
                let rounded = SoftFloat.round(sign: sign, exponent: Int32(exponent), sig: r << 64, .extended,
                                              x87Environment, &flags)
                result = x87Result(rounded, &flags)
            }
        }
        if x87Signal(flags) {
            setST(0, result)
            // A NaN or invalid result leaves C0 and C3 as they were (seen on the host).
            var sw = state.fsw & ~(noQuotient ? FSW.c1 | FSW.c2 : FSW.conditions)
            if partial { sw |= FSW.c2 } else if !noQuotient {
                if quotient & 4 != 0 { sw |= FSW.c0 }
                if quotient & 2 != 0 { sw |= FSW.c3 }
                if quotient & 1 != 0 { sw |= FSW.c1 }
            }
            state.fsw = sw
        } else if vendor == .intel {
            // An unmasked exception stores nothing; an Intel host still clears C1 and C2 (C0
            // and C3 stay). The AMD model keeps C2 (no AMD host has contradicted it).
            state.fsw &= ~(FSW.c1 | FSW.c2)
        }
    }

    // MARK: control

    func x87Control(_ op: Op, _ ins: Instruction, _ ops: OperandList) throws(CPUException) {
        switch op {
        case .fnstsw:
            if case .memory(let m) = ops[0] {
                try store(try checkedAddress(m, size: 2), size: 2, value: UInt64(state.fsw))
            } else {
                state.rax = state.rax & ~0xFFFF | UInt64(state.fsw)
            }
        case .fnstcw:
            guard case .memory(let m) = ops[0] else { throw .invalidOpcode }
            try store(try checkedAddress(m, size: 2), size: 2, value: UInt64(state.fcw))
        case .fldcw:
            guard case .memory(let m) = ops[0] else { throw .invalidOpcode }
            state.fcw = x87ControlWord(UInt16(try memory.read(try checkedAddress(m, size: 2), size: 2)))
            updateErrorSummary()
        case .fnclex:
            state.fsw &= ~0x80FF
        case .fninit:
            state.fcw = 0x37F
            state.fsw = 0
            state.ftw = 0xFFFF
            state.fop = 0
            state.fip = 0
            state.fdp = 0
        case .fnstenv, .fnsave:
            guard case .memory(let m) = ops[0] else { throw .invalidOpcode }
            let small = ins.operandSize == 2
            var image = environmentImage(small: small)
            if op == .fnsave {
                for i in 0..<8 {
                    let r = st(i)
                    for k in 0..<8 { image.append(UInt8(truncatingIfNeeded: r.significand >> (8 * UInt64(k)))) }
                    image.append(UInt8(r.se & 0xFF))
                    image.append(UInt8(r.se >> 8))
                }
            }
            let a = try checkedAddress(m, size: image.count)
            try storeBytes(a, image)
            if op == .fnsave {
                try x87Control(.fninit, ins, ops)
            } else {
                state.fcw |= 0x3F
                updateErrorSummary()
            }
        case .fldenv, .frstor:
            guard case .memory(let m) = ops[0] else { throw .invalidOpcode }
            let small = ins.operandSize == 2
            let envSize = small ? 14 : 28
            let a = try checkedAddress(m, size: envSize + (op == .frstor ? 80 : 0))
            let env = try loadBytes(a, envSize)
            var registers: [Extended] = []
            if op == .frstor {
                let raw = try loadBytes(a &+ UInt64(envSize), 80)
                for i in 0..<8 {
                    var sig: UInt64 = 0
                    for k in 0..<8 { sig |= UInt64(raw[10 * i + k]) << (8 * UInt64(k)) }
                    registers.append((sig, UInt16(raw[10 * i + 8]) | UInt16(raw[10 * i + 9]) << 8))
                }
            }
            let unit = small ? 2 : 4
            func word(_ k: Int) -> UInt16 { UInt16(env[unit * k]) | UInt16(env[unit * k + 1]) << 8 }
            state.fcw = x87ControlWord(word(0))
            state.fsw = word(1)
            let tags = word(2)
            for (i, r) in registers.enumerated() { state.setX87Register(physical(i), r) }
            // Empty stays empty; other tags follow the registers' contents.
            var full: UInt16 = 0
            for p in 0..<8 {
                let t = (tags >> UInt16(2 * p)) & 3 == 3 ? 3 : CPUState.tag(of: state.x87Register(p))
                full |= t << UInt16(2 * p)
            }
            state.ftw = full
            loadEnvironmentPointers(env, small: small)
            updateErrorSummary()
        case .fxsave, .fxsave64:
            guard case .memory(let m) = ops[0] else { throw .invalidOpcode }
            let a = try checkedAddress(m, size: 512)
            if a & 15 != 0 { throw .generalProtection(0) }
            var image = legacySaveImage(wide: op == .fxsave64)
            // The reserved and available bytes (288-511 beyond the XMM registers) are left as they were.
            let old = try loadBytes(a &+ 416, 96)
            image.replaceSubrange(416..<512, with: old)
            try storeBytes(a, image)
        case .fxrstor, .fxrstor64:
            guard case .memory(let m) = ops[0] else { throw .invalidOpcode }
            let a = try checkedAddress(m, size: 512)
            if a & 15 != 0 { throw .generalProtection(0) }
            let image = try loadBytes(a, 512)
            let mxcsr = UInt32(image[24]) | UInt32(image[25]) << 8 | UInt32(image[26]) << 16 | UInt32(image[27]) << 24
            if mxcsr & ~0xFFFF != 0 { throw .generalProtection(0) }
            state.loadFXSAVEImage(image)
            restoredX87Pointers(wide: op == .fxrstor64)
            state.fcw = x87ControlWord(state.fcw)
            updateErrorSummary()
        default:
            throw .invalidOpcode
        }
    }

    /// A control word as loaded: bit 6 reads as one, bits 13-15 as zero.
    func x87ControlWord(_ v: UInt16) -> UInt16 { v & 0x1F3F | 0x40 }

    /// ES and B follow the flags the control word leaves unmasked.
    func updateErrorSummary() {
        if state.fsw & ~state.fcw & 0x3F != 0 { state.fsw |= FSW.es | FSW.busy } else { state.fsw &= ~(FSW.es | FSW.busy) }
    }

    /// FNSTENV's image (SDM vol. 1, figures 8-9 to 8-12): 28 bytes (32-bit operand size) or 14
    /// (16-bit). The tag word is the full one. Outside real mode the instruction and data
    /// pointers are offsets beside their selectors, which the model deprecates (zero); in real
    /// mode they are 20- or 32-bit linear addresses split around FOP.
    func environmentImage(small: Bool) -> [UInt8] {
        let unit = small ? 2 : 4
        var image = [UInt8](repeating: 0, count: 7 * unit)
        func put(_ k: Int, _ v: UInt64) {
            for b in 0..<unit { image[unit * k + b] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(b))) }
        }
        // The upper halves of the 32-bit layout's control, status, tag and data-selector
        // doublewords are reserved and read as ones.
        for (k, v) in [state.fcw, state.fsw, state.ftw].enumerated() { put(k, small ? UInt64(v) : 0xFFFF_0000 | UInt64(v)) }
        let fop = UInt64(state.fop & 0x7FF)
        if state.realAddressing {
            let ipHigh = small ? state.fip >> 16 & 0xF : state.fip >> 16 & 0xFFFF
            let dpHigh = small ? state.fdp >> 16 & 0xF : state.fdp >> 16 & 0xFFFF
            put(3, state.fip & 0xFFFF)
            put(4, ipHigh << 12 | fop)
            put(5, state.fdp & 0xFFFF)
            put(6, dpHigh << 12)
        } else {
            put(3, state.fip)
            put(4, small ? 0 : fop << 16)
            put(5, state.fdp)
            put(6, small ? 0 : 0xFFFF_0000)
        }
        return image
    }

    /// FLDENV's and FRSTOR's reading of the pointers in `environmentImage`'s layouts.
    func loadEnvironmentPointers(_ env: [UInt8], small: Bool) {
        let unit = small ? 2 : 4
        func get(_ k: Int) -> UInt64 { (0..<unit).reduce(0) { $0 | UInt64(env[unit * k + $1]) << (8 * UInt64($1)) } }
        if state.realAddressing {
            let highMask: UInt64 = small ? 0xF : 0xFFFF
            state.fip = (get(4) >> 12 & highMask) << 16 | get(3) & 0xFFFF
            state.fdp = (get(6) >> 12 & highMask) << 16 | get(5) & 0xFFFF
            state.fop = UInt16(get(4) & 0x7FF)
        } else {
            state.fip = get(3)
            state.fdp = get(5)
            if !small { state.fop = UInt16(get(4) >> 16 & 0x7FF) }
        }
    }

    /// Bytes at a checked address: all of them are read (so a fault comes first) before use.
    func loadBytes(_ a: UInt64, _ n: Int) throws(CPUException) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(n)
        for i in 0..<n { bytes.append(UInt8(try memory.read(a &+ UInt64(i), size: 1))) }
        return bytes
    }

    /// Stores bytes after checking that the first and the last can be reached.
    func storeBytes(_ a: UInt64, _ bytes: [UInt8]) throws(CPUException) {
        _ = try memory.read(a, size: 1)
        _ = try memory.read(a &+ UInt64(bytes.count - 1), size: 1)
        for (i, b) in bytes.enumerated() { try store(a &+ UInt64(i), size: 1, value: UInt64(b)) }
    }
}

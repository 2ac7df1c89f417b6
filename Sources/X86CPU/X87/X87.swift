import SoftFloat
import X86
import X86Decoder

// The x87 FPU (SDM vol. 1, chapter 8): eight 80-bit registers used as a stack (TOP in the
// status word), a tag per register, the control word's masks, precision and rounding, and
// the status word's flags and condition codes.
//
// Exceptions follow 8.5 and 8.7: an unmasked invalid, denormal or divide-by-zero exception
// leaves the destination and the stack unchanged; an unmasked overflow or underflow
// delivers the result to a register with its exponent rebiased by 24576, and stores
// nothing to memory; either way ES and B are set and the next waiting x87 instruction
// raises #MF. A stack overflow or underflow is an invalid operation with SF set (C1 tells
// which); masked, its result is the indefinite QNaN.

typealias Extended = (significand: UInt64, se: UInt16)

/// Status word bits.
enum FSW {
    static let ie: UInt16 = 1, sf: UInt16 = 0x40, es: UInt16 = 0x80
    static let c0: UInt16 = 0x100, c1: UInt16 = 0x200, c2: UInt16 = 0x400, c3: UInt16 = 0x4000, busy: UInt16 = 0x8000
    static let conditions: UInt16 = c0 | c1 | c2 | c3
}

extension SoftFloat.Order {
    /// ZF, PF, CF as COMISS and FCOMI set them (the other status flags clear).
    var eflags: UInt64 {
        switch self {
        case .unordered: Flag.zf | Flag.pf | Flag.cf
        case .less: Flag.cf
        case .equal: Flag.zf
        case .greater: 0
        }
    }
    /// C3, C2, C0 as FCOM sets them.
    var x87Conditions: UInt16 {
        switch self {
        case .unordered: FSW.c3 | FSW.c2 | FSW.c0
        case .less: FSW.c0
        case .equal: FSW.c3
        case .greater: 0
        }
    }
}

/// What a memory operand of an x87 instruction holds.
enum X87MemoryFormat {
    case single, double, extended, int16, int32, int64, bcd
}

extension CPU {
    // MARK: the register stack

    var fpuTop: Int {
        get { Int(state.fsw >> 11) & 7 }
        set { state.fsw = state.fsw & ~0x3800 | UInt16(newValue & 7) << 11 }
    }
    func fpuTag(_ physical: Int) -> UInt16 { (state.ftw >> UInt16(2 * physical)) & 3 }
    func setFPUTag(_ physical: Int, _ t: UInt16) {
        state.ftw = state.ftw & ~(3 << UInt16(2 * physical)) | t << UInt16(2 * physical)
    }
    func physical(_ i: Int) -> Int { (fpuTop + i) & 7 }
    func isEmpty(_ i: Int) -> Bool { fpuTag(physical(i)) == 3 }
    func st(_ i: Int) -> Extended { state.x87Register(physical(i)) }
    func setST(_ i: Int, _ v: Extended) {
        state.setX87Register(physical(i), v)
        setFPUTag(physical(i), CPUState.tag(of: v))
    }
    func fpuPush(_ v: Extended) {
        fpuTop -= 1
        setST(0, v)
    }
    func fpuPop() {
        setFPUTag(physical(0), 3)
        fpuTop += 1
    }
    func stValue(_ i: Int, _ flags: inout FPFlags) -> FPValue {
        let r = st(i)
        return FPValue.unpack(extended: r.significand, r.se, &flags)
    }

    static var indefinite: Extended { (0xC000_0000_0000_0000, 0xFFFF) }

    /// The control word's rounding, precision and masks as SoftFloat sees them.
    var x87Environment: FPEnvironment {
        let cw = state.fcw
        return FPEnvironment(rounding: FPRounding(rawValue: UInt32(cw >> 10) & 3)!, underflowUnmasked: cw & 0x10 == 0,
                             overflowUnmasked: cw & 0x08 == 0)
    }
    /// Precision control (bits 8-9): 24, 53 or 64 bits (the reserved setting 01 as 64).
    var x87Precision: FPFormat {
        switch (state.fcw >> 8) & 3 {
        case 0: return .extended(precision: 24)
        case 2: return .extended(precision: 53)
        default: return .extended
        }
    }

    /// Records flags in the status word (and C1 for a stack fault or a rounding up). Returns
    /// false when an unmasked invalid, denormal or divide-by-zero exception means the
    /// destination must stay unchanged.
    @discardableResult
    func x87Signal(_ raised: FPFlags, stackFault: Bool = false, overflowFault: Bool = false) -> Bool {
        var f = SoftFloat.prioritized(raised)
        let unmasked = ~state.fcw & 0x3F
        let pre = (UInt16(f.architectural.rawValue) | (stackFault ? FSW.ie : 0)) & 0x7
        // An unmasked pre-computation exception stops the instruction before any result (or
        // its overflow, underflow or inexactness) exists.
        if pre & unmasked != 0 { f = f.intersection([.invalid, .denormal, .divideByZero]) }
        var sw = state.fsw | UInt16(f.architectural.rawValue)
        if stackFault { sw = sw | FSW.ie | FSW.sf }
        sw &= ~FSW.c1
        if (stackFault && overflowFault) || (!stackFault && f.contains(.roundedUp)) { sw |= FSW.c1 }
        if sw & unmasked & 0x3F != 0 { sw |= FSW.es | FSW.busy }
        state.fsw = sw
        return pre & unmasked == 0
    }

    /// A computed result as a register holds it: an unmasked overflow or underflow rebiases
    /// the exponent by 24576 (SDM vol. 1, 8.5.4-8.5.5).
    func x87Result(_ r: FPRounded, _ flags: inout FPFlags) -> Extended {
        var v = r.value
        if v.kind == .finite {
            // FSCALE's exponent can lie beyond even the rescaled range: the result is then an
            // infinity (rounded up) or a zero, inexact, as the host delivers it.
            if r.overflowed && x87Environment.overflowUnmasked {
                v.exponent -= 24576
                if Int64(v.exponent) + Int64(FPFormat.extended.bias) >= 0x7FFF {
                    flags.formUnion([.inexact, .roundedUp])
                    return FPValue.infinity(v.sign).packExtended()
                }
            }
            if r.tiny && x87Environment.underflowUnmasked {
                v.exponent += 24576
                if Int64(v.exponent) + Int64(FPFormat.extended.bias) < 1 {
                    flags.insert(.inexact)
                    flags.remove(.roundedUp)
                    return FPValue.zero(v.sign).packExtended()
                }
            }
        }
        return v.packExtended()
    }

    // MARK: memory operands

    func x87MemoryFormat(_ op: Op, _ m: MemoryOperand) -> X87MemoryFormat {
        let integer = op.hasIntegerOperand
        switch m.size {
        case 2: return .int16
        case 4: return integer ? .int32 : .single
        case 8: return integer ? .int64 : .double
        default: return op == .fbld || op == .fbstp ? .bcd : .extended
        }
    }

    /// Reads a memory operand as a value (conversions to extended are exact; a signaling
    /// NaN in a single or double is IE, a denormal one DE).
    func x87Load(_ m: MemoryOperand, _ format: X87MemoryFormat, _ flags: inout FPFlags) throws(CPUException) -> FPValue {
        let size = m.size
        let a = try checkedAddress(m, size: size)
        switch format {
        case .single, .double:
            let bits = try memory.read(a, size: size)
            return FPValue.unpack(bits, format == .single ? .single : .double, FPEnvironment(), &flags)
        case .extended, .bcd:
            let sig = try memory.read(a, size: 8), se = try memory.read(a &+ 8, size: 2)
            if format == .bcd { return bcdValue(sig, UInt16(se)) }
            var ignored = FPFlags()
            return FPValue.unpack(extended: sig, UInt16(se), &ignored)
        case .int16, .int32, .int64:
            let v = signExtend(try memory.read(a, size: size), size)
            return SoftFloat.fromInteger(Int64(bitPattern: v), .extended, FPEnvironment(), &flags)
        }
    }

    /// A value from an 18-digit packed BCD (FBLD): invalid digits give an undefined value
    /// (softvmm reads them as their binary weight).
    func bcdValue(_ low: UInt64, _ high: UInt16) -> FPValue {
        var v: UInt64 = 0
        for i in stride(from: 15, through: 0, by: -1) { v = v * 10 + ((low >> UInt64(4 * i)) & 15) }
        v = UInt64((high >> 4) & 15) * 100_000_000_000_000_000 + UInt64(high & 15) * 10_000_000_000_000_000 + v
        var ignored = FPFlags()
        let r = SoftFloat.fromInteger(Int64(v), .extended, FPEnvironment(), &ignored)
        if v == 0 { return .zero(high & 0x8000 != 0) }
        return FPValue(kind: r.kind, sign: high & 0x8000 != 0, exponent: r.exponent, significand: r.significand)
    }

    // MARK: NaN operands

    /// The x87's NaN result for two operands (SDM vol. 1, table 4-7): a signaling NaN is IE;
    /// a QNaN wins over an SNaN; of two NaNs of one kind the larger significand wins (made quiet).
    func x87NaN(_ a: FPValue, _ b: FPValue, _ flags: inout FPFlags) -> FPValue? {
        if a.kind == .unsupported || b.kind == .unsupported {
            flags.insert(.invalid)
            return .indefinite
        }
        guard a.isNaN || b.isNaN else { return nil }
        flags.insert(.nanOperand)
        if a.kind == .signalingNaN || b.kind == .signalingNaN { flags.insert(.invalid) }
        if a.isNaN && b.isNaN {
            if a.kind != b.kind { return a.kind == .quietNaN ? a : b }
            let x = a.significand, y = b.significand
            if x == y { return (a.sign ? b : a).quieted }
            return (x > y ? a : b).quieted
        }
        return (a.isNaN ? a : b).quieted
    }
}

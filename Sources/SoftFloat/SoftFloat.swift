// IEEE 754 binary arithmetic in software, as x86 performs it for SSE (single and
// double) and the x87 (double extended, with precision control): every result is
// computed exactly and rounded once, and the exception flags come out in MXCSR's
// order. Nothing here touches the host's floating-point unit, so results and flags
// are the same on any host.
//
// x86 choices the standard leaves open, from the SDM (vol. 1, 4.8 and 11.5):
// tininess is detected after rounding; a NaN result made from no NaN operand is the
// "indefinite" QNaN (sign set, quiet bit only); the NaN operand chosen for a result is
// the caller's business (SSE and the x87 choose differently).

/// Exception flags, in MXCSR's and the x87 status word's bit order.
public struct FPFlags: OptionSet, Sendable {
    public let rawValue: UInt32
    @inlinable public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let invalid = FPFlags(rawValue: 1)      // IE
    public static let denormal = FPFlags(rawValue: 2)     // DE
    public static let divideByZero = FPFlags(rawValue: 4) // ZE
    public static let overflow = FPFlags(rawValue: 8)     // OE
    public static let underflow = FPFlags(rawValue: 16)   // UE
    public static let inexact = FPFlags(rawValue: 32)     // PE
    /// Not a flag of the architecture: an operand was a NaN (see SoftFloat.prioritized).
    public static let nanOperand = FPFlags(rawValue: 1 << 16)
    /// Not a flag of the architecture: the last rounding increased the magnitude (the x87
    /// reports it in C1).
    public static let roundedUp = FPFlags(rawValue: 1 << 17)
    /// The six architectural flags.
    public var architectural: FPFlags { intersection(FPFlags(rawValue: 0x3F)) }
}

/// Rounding control, as MXCSR.RC and the x87 control word's RC encode it.
public enum FPRounding: UInt32, Sendable {
    case nearest = 0, down = 1, up = 2, towardZero = 3
}

/// A binary format: how many significand bits (the integer bit included) and the
/// exponent range of its normal numbers.
public struct FPFormat: Sendable {
    /// Significand precision p.
    public let precision: Int
    public let exponentBits: Int
    /// The x87 extended format stores its integer bit.
    public let explicitInteger: Bool
    public var bias: Int32 { (1 << Int32(exponentBits - 1)) - 1 }
    public var minExponent: Int32 { 1 - bias }
    public var maxExponent: Int32 { bias }
    public var fractionBits: Int { precision - 1 }

    public static let single = FPFormat(precision: 24, exponentBits: 8, explicitInteger: false)
    public static let double = FPFormat(precision: 53, exponentBits: 11, explicitInteger: false)
    public static let extended = FPFormat(precision: 64, exponentBits: 15, explicitInteger: true)
    /// The x87's precision control narrows the significand and keeps the extended range.
    public static func extended(precision: Int) -> FPFormat {
        FPFormat(precision: precision, exponentBits: 15, explicitInteger: true)
    }
}

/// The environment one operation runs in.
public struct FPEnvironment: Sendable {
    public var rounding: FPRounding = .nearest
    /// MXCSR.FTZ: a tiny result becomes zero (with UE and PE) when underflow is masked.
    public var flushToZero = false
    /// MXCSR.DAZ: denormal operands read as zero, and raise no DE.
    public var denormalsAreZero = false
    /// Unmasked underflow: tininess alone signals UE (the result is then not delivered
    /// as a denormal; the caller faults or, on the x87, rescales).
    public var underflowUnmasked = false
    /// Unmasked overflow: OE, and PE only if the rounding itself was inexact (the caller
    /// faults or rescales rather than delivering infinity).
    public var overflowUnmasked = false

    @inlinable public init(rounding: FPRounding = .nearest, flushToZero: Bool = false, denormalsAreZero: Bool = false,
                           underflowUnmasked: Bool = false, overflowUnmasked: Bool = false) {
        (self.rounding, self.flushToZero, self.denormalsAreZero) = (rounding, flushToZero, denormalsAreZero)
        (self.underflowUnmasked, self.overflowUnmasked) = (underflowUnmasked, overflowUnmasked)
    }
}

/// A floating-point value taken apart. A finite nonzero value is
/// `significand × 2^(exponent − 63)` with the significand's bit 63 set; a NaN keeps its
/// fraction left-aligned below bit 63 (bit 62 is the quiet bit).
public struct FPValue: Equatable, Sendable {
    public enum Kind: Equatable, Sendable { case zero, finite, infinity, quietNaN, signalingNaN, unsupported }
    public var kind: Kind
    public var sign: Bool
    public var exponent: Int32 = 0
    public var significand: UInt64 = 0

    @inlinable public init(kind: Kind, sign: Bool, exponent: Int32 = 0, significand: UInt64 = 0) {
        (self.kind, self.sign, self.exponent, self.significand) = (kind, sign, exponent, significand)
    }

    public var isNaN: Bool { kind == .quietNaN || kind == .signalingNaN }
    public static func zero(_ sign: Bool) -> FPValue { FPValue(kind: .zero, sign: sign) }
    public static func infinity(_ sign: Bool) -> FPValue { FPValue(kind: .infinity, sign: sign) }
    /// The QNaN "indefinite": sign set, quiet bit only.
    public static let indefinite = FPValue(kind: .quietNaN, sign: true, significand: 0xC000_0000_0000_0000)

    /// The same NaN made quiet.
    public var quieted: FPValue {
        FPValue(kind: .quietNaN, sign: sign, exponent: 0, significand: significand | 0xC000_0000_0000_0000)
    }

    /// Takes apart a single or double (in the low bits of `bits`); DE is reported in `flags`
    /// for a denormal unless DAZ turns it into zero.
    public static func unpack(_ bits: UInt64, _ format: FPFormat, _ env: FPEnvironment, _ flags: inout FPFlags) -> FPValue {
        let f = format.fractionBits
        let sign = (bits >> UInt64(f + format.exponentBits)) & 1 != 0
        let e = Int32((bits >> UInt64(f)) & ((1 << UInt64(format.exponentBits)) - 1))
        let fraction = bits & ((1 << UInt64(f)) - 1)
        let aligned = fraction << UInt64(63 - f)
        if e == (1 << Int32(format.exponentBits)) - 1 {
            if fraction == 0 { return .infinity(sign) }
            return FPValue(kind: aligned & (1 << 62) != 0 ? .quietNaN : .signalingNaN, sign: sign,
                           significand: aligned | 1 << 63)
        }
        if e == 0 {
            if fraction == 0 { return .zero(sign) }
            if env.denormalsAreZero { return .zero(sign) }
            flags.insert(.denormal)
            let lz = Int32(aligned.leadingZeroBitCount)
            return FPValue(kind: .finite, sign: sign, exponent: format.minExponent - lz, significand: aligned << UInt64(lz))
        }
        return FPValue(kind: .finite, sign: sign, exponent: e - format.bias, significand: aligned | 1 << 63)
    }

    /// Takes apart an 80-bit extended value. Encodings the 387 and later no longer support
    /// (pseudo-NaN, pseudo-infinity, unnormal) are `.unsupported`; a pseudo-denormal reads as
    /// the denormal it means.
    public static func unpack(extended sig: UInt64, _ se: UInt16, _ flags: inout FPFlags) -> FPValue {
        let sign = se & 0x8000 != 0
        let e = Int32(se & 0x7FFF)
        let integer = sig >> 63 != 0
        if e == 0x7FFF {
            guard integer else { return FPValue(kind: .unsupported, sign: sign) }
            if sig << 1 == 0 { return .infinity(sign) }
            return FPValue(kind: sig & (1 << 62) != 0 ? .quietNaN : .signalingNaN, sign: sign, significand: sig)
        }
        if e == 0 {
            if sig == 0 { return .zero(sign) }
            flags.insert(.denormal)
            let lz = Int32(sig.leadingZeroBitCount)
            return FPValue(kind: .finite, sign: sign, exponent: FPFormat.extended.minExponent - lz, significand: sig << UInt64(lz))
        }
        guard integer else { return FPValue(kind: .unsupported, sign: sign) }
        return FPValue(kind: .finite, sign: sign, exponent: e - FPFormat.extended.bias, significand: sig)
    }

    /// A single or double bit pattern: NaN fractions are cut to the format (quiet bit kept).
    public func pack(_ format: FPFormat) -> UInt64 {
        let f = UInt64(format.fractionBits)
        let s: UInt64 = sign ? 1 << (f + UInt64(format.exponentBits)) : 0
        let top = UInt64((1 << Int32(format.exponentBits)) - 1) << f
        switch kind {
        case .zero: return s
        case .infinity: return s | top
        case .quietNaN, .signalingNaN, .unsupported:
            return s | top | ((significand & ~(1 << 63)) >> (63 - f))
        case .finite:
            // Callers pack finite values through `round`; a value exact in the format packs directly.
            let biased = Int64(exponent) + Int64(format.bias)
            if biased >= 1 { return s | UInt64(biased) << f | ((significand & ~(1 << 63)) >> (63 - f)) }
            return s | (significand >> UInt64(63 - Int64(f) + (1 - biased)))
        }
    }

    /// An 80-bit pattern (significand, sign and exponent).
    public func packExtended() -> (significand: UInt64, se: UInt16) {
        let s: UInt16 = sign ? 0x8000 : 0
        switch kind {
        case .zero: return (0, s)
        case .infinity: return (1 << 63, s | 0x7FFF)
        case .quietNaN, .signalingNaN, .unsupported: return (significand | 1 << 63, s | 0x7FFF)
        case .finite:
            let biased = Int64(exponent) + Int64(FPFormat.extended.bias)
            if biased >= 1 { return (significand, s | UInt16(biased)) }
            return (significand >> UInt64(1 - biased), s)
        }
    }
}

/// A rounded result, ready to pack: sign, biased exponent and significand with the
/// integer bit at bit `precision − 1` (zero for denormals), or a special value.
public struct FPRounded: Sendable {
    public var value: FPValue
    /// The unmasked-exception cases: the exact result overflowed or was tiny, so the caller
    /// decides (SSE faults; the x87 delivers it rescaled).
    public var overflowed = false
    public var tiny = false
}

/// A lane operation of SSE's arithmetic (and the x87's four basic ones).
public enum LaneOp: Sendable {
    case add, sub, mul, div, min, max
}

public enum SoftFloat {
    /// Rounds `sig × 2^(exponent − 127)` (sig nonzero) to `format` under `env`, adding the
    /// flags it raises (OE, UE, PE) to `flags`.
    public static func round(sign: Bool, exponent: Int32, sig: UInt128, _ format: FPFormat, _ env: FPEnvironment,
                      _ flags: inout FPFlags) -> FPRounded {
        let lz = Int32(sig.leadingZeroBitCount)
        let sig = sig << UInt128(lz)
        var exp = exponent - lz
        let p = format.precision
        // Round to p bits with the exponent unbounded: tininess is judged on this result.
        var (keep, inexact, up) = roundBitsReporting(sig, drop: 128 - p, sign: sign, env.rounding)
        if keep >> UInt128(p) != 0 { keep >>= 1; exp += 1 }
        if exp > format.maxExponent && env.overflowUnmasked {
            flags.insert(.overflow)
            if inexact { flags.insert(.inexact) }
            if up { flags.insert(.roundedUp) }
            return FPRounded(value: FPValue(kind: .finite, sign: sign, exponent: exp, significand: UInt64(keep) << UInt64(64 - p)),
                             overflowed: true)
        }
        if exp > format.maxExponent {
            flags.formUnion([.overflow, .inexact])
            let toInfinity: Bool
            switch env.rounding {
            case .nearest: toInfinity = true
            case .towardZero: toInfinity = false
            case .up: toInfinity = !sign
            case .down: toInfinity = sign
            }
            if toInfinity {
                flags.insert(.roundedUp)
                return FPRounded(value: .infinity(sign), overflowed: true)
            }
            let max: UInt64 = (p == 64 ? ~0 : (UInt64(1) << UInt64(p)) - 1) << UInt64(64 - p)
            return FPRounded(value: FPValue(kind: .finite, sign: sign, exponent: format.maxExponent, significand: max),
                             overflowed: true)
        }
        if exp < format.minExponent {
            if env.underflowUnmasked {
                flags.insert(.underflow)
                if inexact { flags.insert(.inexact) }
                if up { flags.insert(.roundedUp) }
                return FPRounded(value: FPValue(kind: .finite, sign: sign, exponent: exp,
                                                significand: UInt64(keep) << UInt64(64 - p)), tiny: true)
            }
            if env.flushToZero {
                flags.formUnion([.underflow, .inexact])
                return FPRounded(value: .zero(sign), tiny: true)
            }
            // Denormalize the exact value and round at the format's fixed point.
            let shift = 128 - p + Int(format.minExponent - (exponent - lz))
            (keep, inexact, up) = roundBitsReporting(sig, drop: shift, sign: sign, env.rounding)
            if inexact { flags.formUnion([.underflow, .inexact]) }
            if up { flags.insert(.roundedUp) }
            if keep == 0 { return FPRounded(value: .zero(sign), tiny: true) }
            let n = Int32(UInt64(keep).leadingZeroBitCount)
            return FPRounded(value: FPValue(kind: .finite, sign: sign, exponent: format.minExponent - (n - Int32(64 - p)),
                                            significand: UInt64(keep) << UInt64(n)), tiny: true)
        }
        if inexact { flags.insert(.inexact) }
        if up { flags.insert(.roundedUp) }
        return FPRounded(value: FPValue(kind: .finite, sign: sign, exponent: exp, significand: UInt64(keep) << UInt64(64 - p)))
    }

    /// A finite nonzero value rounded to `format` (a conversion between formats).
    public static func round(_ x: FPValue, _ format: FPFormat, _ env: FPEnvironment, _ flags: inout FPFlags) -> FPRounded {
        round(sign: x.sign, exponent: x.exponent, sig: UInt128(x.significand) << 64, format, env, &flags)
    }

    /// Keeps the top `128 − drop` bits of `sig` (drop ≥ 0; beyond 128 every bit is below
    /// the last kept place), rounded by `mode`; whether bits were lost. The kept value may
    /// carry into one bit more than it had.
    @inline(__always)
    public static func roundBits(_ sig: UInt128, drop: Int, sign: Bool, _ mode: FPRounding) -> (UInt128, Bool) {
        let (keep, inexact, _) = roundBitsReporting(sig, drop: drop, sign: sign, mode)
        return (keep, inexact)
    }

    /// roundBits, and whether it rounded the magnitude up.
    @inline(__always)
    public static func roundBitsReporting(_ sig: UInt128, drop: Int, sign: Bool, _ mode: FPRounding) -> (UInt128, Bool, Bool) {
        let keep: UInt128, rest: UInt128, below: Bool
        if drop > 128 {
            // Less than half of the last kept place (and nonzero when sig is).
            (keep, rest, below) = (0, sig, true)
        } else if drop == 128 {
            (keep, rest, below) = (0, sig, false)
        } else {
            (keep, rest, below) = (sig >> UInt128(drop), drop == 0 ? 0 : sig << UInt128(128 - drop), false)
        }
        if rest == 0 { return (keep, false, false) }
        let half: UInt128 = 1 << 127
        let increment: Bool
        switch mode {
        case .nearest: increment = !below && (rest > half || (rest == half && keep & 1 != 0))
        case .towardZero: increment = false
        case .up: increment = !sign
        case .down: increment = sign
        }
        return (keep + (increment ? 1 : 0), true, increment)
    }

    /// One operation's flags as the SDM's precedence leaves them (vol. 1, 4.9.2): a NaN
    /// operand, an invalid operation or a division by zero outranks a denormal operand, which
    /// is then not reported.
    public static func prioritized(_ flags: FPFlags) -> FPFlags {
        var f = flags
        if f.contains(.nanOperand) || f.contains(.invalid) || f.contains(.divideByZero) { f.remove(.denormal) }
        f.remove(.nanOperand)
        return f
    }

    // MARK: whole operations on non-NaN operands (callers choose the NaN result)

    /// a op b for add, sub, mul and div, the special cases included; neither may be a NaN.
    public static func arithmetic(_ op: LaneOp, _ a: FPValue, _ b: FPValue, _ format: FPFormat, _ env: FPEnvironment,
                           _ flags: inout FPFlags) -> FPRounded {
        let special: FPValue
        switch op {
        case .add, .sub, .mul, .div:
            if let r = exactArithmetic(op, a, b, env, &flags) { special = r } else {
                var b = b
                if op == .sub { b.sign.toggle() }
                if a.kind == .zero || b.kind == .zero {
                    let x = a.kind == .zero ? b : a
                    return round(x, format, env, &flags)
                }
                switch op {
                case .add, .sub: return add(a, b, format, env, &flags)
                case .mul: return multiply(a, b, format, env, &flags)
                default: return divide(a, b, format, env, &flags)
                }
            }
        case .min, .max:
            preconditionFailure("min and max are compares")
        }
        return FPRounded(value: special)
    }

    /// The cases of add, sub, mul and div whose result needs no rounding (infinities, zeros,
    /// invalid operations); nil when both operands are finite and the result must be computed
    /// (a zero operand of add/sub included: the other operand is then rounded).
    public static func exactArithmetic(_ op: LaneOp, _ a: FPValue, _ b: FPValue, _ env: FPEnvironment,
                                _ flags: inout FPFlags) -> FPValue? {
        var b = b
        switch op {
        case .add, .sub:
            if op == .sub { b.sign.toggle() }
            if a.kind == .infinity || b.kind == .infinity {
                if a.kind == .infinity && b.kind == .infinity && a.sign != b.sign { return invalid(&flags) }
                return a.kind == .infinity ? a : b
            }
            if a.kind == .zero && b.kind == .zero {
                return .zero(a.sign == b.sign ? a.sign : env.rounding == .down)
            }
            return nil
        case .mul:
            let sign = a.sign != b.sign
            if a.kind == .infinity || b.kind == .infinity {
                if a.kind == .zero || b.kind == .zero { return invalid(&flags) }
                return .infinity(sign)
            }
            if a.kind == .zero || b.kind == .zero { return .zero(sign) }
            return nil
        case .div:
            let sign = a.sign != b.sign
            switch (a.kind, b.kind) {
            case (.infinity, .infinity), (.zero, .zero): return invalid(&flags)
            case (.infinity, _): return .infinity(sign)
            case (_, .infinity), (.zero, _): return .zero(sign)
            case (_, .zero):
                flags.insert(.divideByZero)
                return .infinity(sign)
            default: return nil
            }
        case .min, .max:
            preconditionFailure("min and max are compares")
        }
    }

    /// IE, and the indefinite QNaN.
    public static func invalid(_ flags: inout FPFlags) -> FPValue {
        flags.insert(.invalid)
        return .indefinite
    }

    /// √a, special cases included (a NaN comes back quiet, IE if it was signaling).
    public static func squareRoot(_ a: FPValue, _ format: FPFormat, _ env: FPEnvironment, _ flags: inout FPFlags) -> FPValue {
        switch a.kind {
        case .signalingNaN, .unsupported: flags.insert(.invalid); return a.kind == .unsupported ? .indefinite : a.quieted
        case .quietNaN: return a
        case .zero: return a
        case .infinity: return a.sign ? invalid(&flags) : a
        case .finite: return a.sign ? invalid(&flags) : squareRootFinite(a, format, env, &flags).value
        }
    }

    /// RCPSS's approximation of 1/x for a single's bits: the SDM fixes only its error
    /// (|relative error| ≤ 1.5 × 2^−12) and its special cases (denormal operands read as
    /// zero, tiny results are zero). softvmm gives 1/x rounded to 12 bits, the same on every host.
    public static func reciprocalEstimate(_ x: UInt32) -> UInt32 {
        var flags = FPFlags()
        let v = FPValue.unpack(UInt64(x), .single, FPEnvironment(denormalsAreZero: true), &flags)
        switch v.kind {
        case .zero: return UInt32(v.sign ? 0xFF80_0000 : 0x7F80_0000)
        case .infinity: return v.sign ? 0x8000_0000 : 0
        case .quietNaN, .signalingNaN, .unsupported: return x | 0x40_0000
        case .finite:
            let one = FPValue(kind: .finite, sign: false, exponent: 0, significand: 1 << 63)
            return UInt32(divide(one, v, estimateFormat, FPEnvironment(flushToZero: true), &flags).value.pack(.single))
        }
    }

    /// RSQRTSS's approximation of 1/√x, with the same error bound and rules as RCPSS's;
    /// negative operands give the indefinite QNaN.
    public static func reciprocalSquareRootEstimate(_ x: UInt32) -> UInt32 {
        var flags = FPFlags()
        let v = FPValue.unpack(UInt64(x), .single, FPEnvironment(denormalsAreZero: true), &flags)
        switch v.kind {
        case .zero: return UInt32(v.sign ? 0xFF80_0000 : 0x7F80_0000)
        case .infinity: return v.sign ? 0xFFC0_0000 : 0
        case .quietNaN, .signalingNaN, .unsupported: return x | 0x40_0000
        case .finite:
            if v.sign { return 0xFFC0_0000 }
            let root = squareRootFinite(v, .extended, FPEnvironment(), &flags).value
            let one = FPValue(kind: .finite, sign: false, exponent: 0, significand: 1 << 63)
            return UInt32(divide(one, root, estimateFormat, FPEnvironment(flushToZero: true), &flags).value.pack(.single))
        }
    }

    /// Twelve significant bits in the single range.
    public static let estimateFormat = FPFormat(precision: 12, exponentBits: 8, explicitInteger: false)

    /// The integer nearest `a` by `mode`, in a's format (ROUNDPS, FRNDINT): the sign is kept
    /// (−0.3 rounds to −0), NaNs come back quiet (IE if signaling), PE when inexact.
    public static func roundToIntegral(_ a: FPValue, _ format: FPFormat, _ mode: FPRounding, _ flags: inout FPFlags) -> FPValue {
        switch a.kind {
        case .signalingNaN, .unsupported:
            flags.insert(.invalid)
            return a.kind == .unsupported ? .indefinite : a.quieted
        case .finite:
            if a.exponent >= 63 { return a }
            let (m, rounding) = integerPart(a, mode)!
            flags.formUnion(rounding)
            if m == 0 { return .zero(a.sign) }
            let lz = Int32(m.leadingZeroBitCount)
            return FPValue(kind: .finite, sign: a.sign, exponent: 63 - lz, significand: m << UInt64(lz))
        default:
            return a
        }
    }

    public enum Order: Sendable { case less, equal, greater, unordered }

    /// The order of two values (zeros equal whatever their signs; NaNs unordered).
    public static func compare(_ a: FPValue, _ b: FPValue) -> Order {
        if a.isNaN || b.isNaN || a.kind == .unsupported || b.kind == .unsupported { return .unordered }
        if a.kind == .zero && b.kind == .zero { return .equal }
        // Magnitude order: zero < finite (by exponent, then significand) < infinity.
        func rank(_ v: FPValue) -> (Int, Int32, UInt64) {
            switch v.kind {
            case .zero: return (0, 0, 0)
            case .infinity: return (2, 0, 0)
            default: return (1, v.exponent, v.significand)
            }
        }
        if a.sign != b.sign { return a.sign ? .less : .greater }
        let x = rank(a), y = rank(b)
        if x == y { return .equal }
        let magnitudeLess = x < y
        return magnitudeLess != a.sign ? .less : .greater
    }

    /// CMPPS's eight predicates (imm8 bits 0-2): EQ, LT, LE, UNORD, NEQ, NLT, NLE, ORD. LT, LE,
    /// NLT and NLE signal IE on any NaN, the others only on a signaling one.
    public static func predicate(_ p: Int, _ a: FPValue, _ b: FPValue, _ flags: inout FPFlags) -> Bool {
        let signaling = p & 3 == 1 || p & 3 == 2
        if a.kind == .signalingNaN || b.kind == .signalingNaN || (signaling && (a.isNaN || b.isNaN)) {
            flags.insert(.invalid)
        }
        let o = compare(a, b)
        switch p & 7 {
        case 0: return o == .equal
        case 1: return o == .less
        case 2: return o == .less || o == .equal
        case 3: return o == .unordered
        case 4: return o != .equal
        case 5: return o != .less
        case 6: return !(o == .less || o == .equal)
        default: return o != .unordered
        }
    }

    // MARK: operations on finite nonzero values (callers handle zeros, infinities, NaNs)

    /// a + b (b's sign already flipped for a subtraction). Exact cancellation is +0, or −0
    /// when rounding down.
    public static func add(_ a: FPValue, _ b: FPValue, _ format: FPFormat, _ env: FPEnvironment, _ flags: inout FPFlags) -> FPRounded {
        var (x, y) = a.exponent >= b.exponent ? (a, b) : (b, a)
        // The larger at bits 126..63; the smaller shifted right, its lost bits kept as a sticky bit.
        let big = UInt128(x.significand) << 63
        var small = UInt128(y.significand) << 63
        let d = Int(x.exponent - y.exponent)
        if d >= 127 { small = 1 } else if d > 0 {
            let lost = small << UInt128(128 - d) != 0
            small = small >> UInt128(d) | (lost ? 1 : 0)
        }
        let sum: UInt128
        var sign = x.sign
        if x.sign == y.sign {
            sum = big + small
        } else if big >= small {
            sum = big - small
        } else {
            sum = small - big
            sign = y.sign
            swap(&x, &y)
        }
        if sum == 0 { return FPRounded(value: .zero(env.rounding == .down)) }
        return round(sign: sign, exponent: x.exponent + 1, sig: sum, format, env, &flags)
    }

    public static func multiply(_ a: FPValue, _ b: FPValue, _ format: FPFormat, _ env: FPEnvironment, _ flags: inout FPFlags) -> FPRounded {
        let p = UInt128(a.significand) * UInt128(b.significand)
        return round(sign: a.sign != b.sign, exponent: a.exponent + b.exponent + 1, sig: p, format, env, &flags)
    }

    public static func divide(_ a: FPValue, _ b: FPValue, _ format: FPFormat, _ env: FPEnvironment, _ flags: inout FPFlags) -> FPRounded {
        // Two 64-bit quotient digits and the remainder as a sticky bit.
        let smaller = a.significand < b.significand
        let n = UInt128(a.significand) << (smaller ? 64 : 63)
        let d = UInt128(b.significand)
        let q1 = n / d, r1 = n % d
        let q2 = (r1 << 64) / d, r2 = (r1 << 64) % d
        let q = q1 << 64 | q2 | (r2 != 0 ? 1 : 0)
        return round(sign: a.sign != b.sign, exponent: a.exponent - b.exponent - (smaller ? 1 : 0), sig: q, format, env, &flags)
    }

    public static func squareRootFinite(_ a: FPValue, _ format: FPFormat, _ env: FPEnvironment, _ flags: inout FPFlags) -> FPRounded {
        // value = m × 2^(e − 63); with N = m × 2^63 (e even) or m × 2^64 (e odd), √N has its
        // leading bit at 63 and √value = √N × 2^(⌊e/2⌋ − 63).
        let n = UInt128(a.significand) << (a.exponent & 1 == 0 ? 63 : 64)
        let (r, rem) = integerSquareRoot(n)
        // The next bit is set when rem > r (√N ≥ r + ½ ⇔ N − r² > r), and √N is never exactly r + ½.
        let tail: UInt128 = rem > r ? (1 << 63) | 1 : (rem != 0 ? 1 : 0)
        return round(sign: false, exponent: a.exponent >> 1, sig: UInt128(r) << 64 | tail, format, env, &flags)
    }

    /// ⌊√n⌋ and n − ⌊√n⌋² for n < 2^128.
    public static func integerSquareRoot(_ n: UInt128) -> (UInt64, UInt128) {
        var rem = n
        var root: UInt128 = 0
        var bit: UInt128 = 1 << 126
        while bit > n { bit >>= 2 }
        while bit != 0 {
            if rem >= root + bit {
                rem -= root + bit
                root = (root >> 1) + bit
            } else {
                root >>= 1
            }
            bit >>= 2
        }
        return (UInt64(truncatingIfNeeded: root), rem)
    }

    /// A signed integer's value, rounded to `format` (PE when inexact).
    public static func fromInteger(_ v: Int64, _ format: FPFormat, _ env: FPEnvironment, _ flags: inout FPFlags) -> FPValue {
        if v == 0 { return .zero(false) }
        let magnitude = v.magnitude
        return round(sign: v < 0, exponent: 63, sig: UInt128(magnitude) << 64, format, env, &flags).value
    }

    /// A finite value's nearest integer by `mode`: its magnitude, and the rounding's flags
    /// (PE when inexact, with the roundedUp marker when the magnitude went up); nil when the
    /// magnitude needs more than 64 bits.
    public static func integerPart(_ a: FPValue, _ mode: FPRounding) -> (magnitude: UInt64, flags: FPFlags)? {
        if a.kind == .zero { return (0, []) }
        if a.exponent >= 64 { return nil }
        // value = sig × 2^64 × 2^(exponent − 127): drop the bits below the units place.
        let (keep, inexact, up) = roundBitsReporting(UInt128(a.significand) << 64, drop: 127 - Int(a.exponent), sign: a.sign, mode)
        var flags = FPFlags()
        if inexact { flags.insert(.inexact) }
        if up { flags.insert(.roundedUp) }
        return (UInt64(truncatingIfNeeded: keep), flags)
    }

    /// Converts to a signed integer of `bits` bits; NaN, infinity and out-of-range values are
    /// invalid and give the "integer indefinite" (the most negative value).
    public static func toInteger(_ a: FPValue, bits: Int, _ mode: FPRounding, _ flags: inout FPFlags) -> UInt64 {
        let indefinite: UInt64 = 1 << UInt64(bits - 1)
        let mask: UInt64 = bits == 64 ? ~0 : (1 << UInt64(bits)) - 1
        guard a.kind == .finite || a.kind == .zero, let (m, rounding) = integerPart(a, mode) else {
            flags.insert(.invalid)
            return indefinite
        }
        let limit: UInt64 = a.sign ? indefinite : indefinite - 1
        if m > limit {
            flags.insert(.invalid)
            return indefinite
        }
        flags.formUnion(rounding)
        return (a.sign ? 0 &- m : m) & mask
    }
}

import SoftFloat
import X86
import X86Decoder

// FSIN, FCOS, FSINCOS, FPTAN, FPATAN, F2XM1, FYL2X and FYL2XP1: special cases as the SDM's
// tables give them, values from Transcendental.swift rounded once (by RC, to 64 bits:
// precision control does not apply to these).

extension CPU {
    func x87Transcendental(_ op: Op) {
        let pushes = op == .fsincos || op == .fptan
        let binary = op == .fpatan || op == .fyl2x || op == .fyl2xp1
        // Stack faults: an empty operand, or no room for the second result.
        if isEmpty(0) || (binary && isEmpty(1)) || (pushes && !isEmpty(7)) {
            let overflow = !(isEmpty(0) || (binary && isEmpty(1)))
            if x87Signal([], stackFault: true, overflowFault: overflow) {
                if binary { setST(1, CPU.indefinite); fpuPop() } else {
                    setST(0, CPU.indefinite)
                    if pushes { fpuPush(CPU.indefinite) }
                }
            }
            if pushes || op == .fsin || op == .fcos { state.fsw &= ~FSW.c2 }
            return
        }
        // C2 reports a partial result for FSIN, FCOS, FSINCOS and FPTAN; the others leave it.
        let clearsC2 = !binary && op != .f2xm1
        var flags = FPFlags()
        let x = stValue(0, &flags)
        let y = binary ? stValue(1, &flags) : FPValue.zero(false)
        if binary {
            let r = binaryTranscendental(op, x: x, y: y, &flags)
            if x87Signal(flags) {
                setST(1, r)
                fpuPop()
            }
            return
        }
        // One operand: a NaN or an unsupported value passes (quiet) or is invalid.
        if let nan = x87NaN(x, .zero(false), &flags) {
            if x87Signal(flags) {
                setST(0, nan.packExtended())
                if pushes { fpuPush(nan.packExtended()) }
            }
            if clearsC2 { state.fsw &= ~FSW.c2 }
            return
        }
        if op != .f2xm1 {
            if x.kind == .infinity {
                flags.insert(.invalid)
                if x87Signal(flags) {
                    setST(0, CPU.indefinite)
                    if pushes { fpuPush(CPU.indefinite) }
                }
                state.fsw &= ~FSW.c2
                return
            }
            if x.kind == .finite && x.exponent >= 63 {
                // Out of range: C2 set, the operand left as it is.
                state.fsw |= FSW.c2
                return
            }
        }
        let env = x87Environment
        func round(_ w: Wide) -> Extended { x87Result(w.rounded(.extended, env, &flags), &flags) }
        var first: Extended, second: Extended? = nil
        switch op {
        case .f2xm1:
            switch x.kind {
            case .zero: first = st(0)
            case .infinity: first = x.sign ? FPValue(kind: .finite, sign: true, exponent: 0, significand: 1 << 63).packExtended() : st(0)
            default: first = round(x.exponent <= 0 ? Wide.expm1(Wide(x) * Wide.ln2) : Wide(x))
            }
        default:
            let (s, c) = x.kind == .zero ? (Wide(x), Wide.one) : sinCos(x)
            switch op {
            case .fsin: first = x.kind == .zero ? st(0) : round(s)
            case .fcos: first = round(c)
            case .fsincos:
                first = x.kind == .zero ? st(0) : round(s)
                second = round(c)
            default: // fptan
                first = x.kind == .zero ? st(0) : round(s / c)
                second = FPValue(kind: .finite, sign: false, exponent: 0, significand: 1 << 63).packExtended()
            }
        }
        if x87Signal(flags) {
            setST(0, first)
            if let second { fpuPush(second) }
        }
        if clearsC2 { state.fsw &= ~FSW.c2 }
    }

    /// sin x and cos x of a finite nonzero x with |x| < 2^63.
    func sinCos(_ x: FPValue) -> (Wide, Wide) {
        let quarter = Wide.halfPi.scaled(-1)
        let magnitude = Wide(x).magnitude
        var r = magnitude, q = 0
        if (magnitude.exponent, magnitude.significand) > (quarter.exponent, quarter.significand) {
            (r, q) = Wide.reduceHalfPi(FPValue(kind: .finite, sign: false, exponent: x.exponent, significand: x.significand))
        }
        // r in [0, π/2): past π/4 use the complement.
        var s: Wide, c: Wide
        if (r.exponent, r.significand) > (quarter.exponent, quarter.significand) {
            let u = Wide.halfPi - r
            (s, c) = (Wide.cosSeries(u), Wide.sinSeries(u))
        } else {
            (s, c) = (Wide.sinSeries(r), Wide.cosSeries(r))
        }
        switch q & 3 {
        case 1: (s, c) = (c, s.negated)
        case 2: (s, c) = (s.negated, c.negated)
        case 3: (s, c) = (c.negated, s)
        default: break
        }
        return (x.sign ? s.negated : s, c)
    }

    /// FPATAN (atan2(y, x)), FYL2X (y·log2 x) and FYL2XP1 (y·log2(x + 1)), special cases first.
    func binaryTranscendental(_ op: Op, x: FPValue, y: FPValue, _ flags: inout FPFlags) -> Extended {
        if let nan = x87NaN(y, x, &flags) { return nan.packExtended() }
        let env = x87Environment
        func round(_ w: Wide) -> Extended { x87Result(w.rounded(.extended, env, &flags), &flags) }
        func signed(_ v: FPValue, _ negative: Bool) -> Extended { FPValue(kind: v.kind, sign: negative, exponent: v.exponent, significand: v.significand).packExtended() }
        let zero = FPValue.zero(false), infinity = FPValue.infinity(false)
        switch op {
        case .fpatan:
            func angle(_ w: Wide) -> Extended { round(y.sign ? w.negated : w) }
            if y.kind == .zero {
                return x.sign ? angle(Wide.pi) : signed(zero, y.sign)
            }
            if y.kind == .infinity {
                switch x.kind {
                case .infinity: return angle(x.sign ? Wide.pi.scaled(-2) * Wide(3) : Wide.pi.scaled(-2))
                default: return angle(Wide.halfPi)
                }
            }
            if x.kind == .zero { return angle(Wide.halfPi) }
            if x.kind == .infinity { return x.sign ? angle(Wide.pi) : signed(zero, y.sign) }
            let a = Wide.atan(Wide(y).magnitude / Wide(x).magnitude)
            return angle(x.sign ? Wide.pi - a : a)
        case .fyl2x:
            // log2 x: x < 0 invalid; 0 gives −∞ (divide-by-zero); 1 gives +0.
            if x.sign && x.kind != .zero { flags.insert(.invalid); return CPU.indefinite }
            switch (x.kind, y.kind) {
            case (.zero, .zero), (.infinity, .zero): flags.insert(.invalid); return CPU.indefinite
            case (.zero, .infinity): return signed(infinity, !y.sign)
            case (.zero, _): flags.insert(.divideByZero); return signed(infinity, !y.sign)
            case (.infinity, _): return signed(infinity, y.sign)
            default: break
            }
            let isOne = x.exponent == 0 && x.significand == 1 << 63
            if isOne {
                if y.kind == .infinity { flags.insert(.invalid); return CPU.indefinite }
                return signed(zero, y.sign)
            }
            let below = x.exponent < 0
            if y.kind == .infinity { return signed(infinity, y.sign != below) }
            if y.kind == .zero { return signed(zero, y.sign != below) }
            return round(Wide(y) * Wide.log2(x))
        default: // fyl2xp1
            if x.kind == .zero {
                if y.kind == .infinity { flags.insert(.invalid); return CPU.indefinite }
                return signed(zero, x.sign != y.sign)
            }
            if x.kind == .infinity {
                if x.sign || y.kind == .zero { flags.insert(.invalid); return CPU.indefinite }
                return signed(infinity, y.sign)
            }
            if y.kind == .zero { return signed(zero, x.sign != y.sign) }
            let wx = Wide(x)
            // log2(1 + x) = 2·atanh(x / (2 + x)) / ln 2 (|x| below 1 − √2/2 in the documented range).
            guard x.exponent < 0 else { flags.insert(.invalid); return CPU.indefinite }
            let l = Wide.atanh(wx / (Wide(2) + wx)).scaled(1) / Wide.ln2
            if y.kind == .infinity { return signed(infinity, y.sign != x.sign) }
            return round(Wide(y) * l)
        }
    }
}

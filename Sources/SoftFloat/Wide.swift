// The x87's transcendental instructions (FSIN, FCOS, FSINCOS, FPTAN, FPATAN, F2XM1, FYL2X,
// FYL2XP1) computed in software with about 120 significant bits and rounded once to the
// destination. The SDM fixes their special cases and bounds their error (one unit in the
// last place in the documented ranges); the exact bits differ between implementations, so
// softvmm gives the nearly correctly rounded result on every host.

/// A wide binary value for intermediate results: `significand × 2^(exponent − 127)`, the
/// significand normalized to bit 127 (or zero).
public struct Wide: Sendable {
    public var sign: Bool
    public var exponent: Int
    public var significand: UInt128

    public static let zero = Wide(sign: false, exponent: 0, significand: 0)
    public var isZero: Bool { significand == 0 }
    public var negated: Wide { Wide(sign: !sign, exponent: exponent, significand: significand) }
    public var magnitude: Wide { Wide(sign: false, exponent: exponent, significand: significand) }

    public init(sign: Bool, exponent: Int, significand: UInt128) {
        if significand == 0 {
            (self.sign, self.exponent, self.significand) = (sign, 0, 0)
            return
        }
        let lz = significand.leadingZeroBitCount
        (self.sign, self.exponent, self.significand) = (sign, exponent - lz, significand << UInt128(lz))
    }

    public init(_ n: Int) {
        self.init(sign: n < 0, exponent: 127, significand: UInt128(n.magnitude))
    }

    /// A finite value exactly.
    public init(_ v: FPValue) {
        self.init(sign: v.sign, exponent: Int(v.exponent), significand: v.kind == .zero ? 0 : UInt128(v.significand) << 64)
    }

    /// Rounded once to `format` by `env`.
    public func rounded(_ format: FPFormat, _ env: FPEnvironment, _ flags: inout FPFlags) -> FPRounded {
        if isZero { return FPRounded(value: .zero(sign)) }
        return SoftFloat.round(sign: sign, exponent: Int32(clamping: exponent), sig: significand, format, env, &flags)
    }

    public static func * (a: Wide, b: Wide) -> Wide {
        if a.isZero || b.isZero { return Wide(sign: a.sign != b.sign, exponent: 0, significand: 0) }
        // The low half's bits dropped are kept as a sticky bit, as in + and /.
        let p = a.significand.multipliedFullWidth(by: b.significand)
        if p.high >> 127 != 0 {
            return Wide(sign: a.sign != b.sign, exponent: a.exponent + b.exponent + 1, significand: p.high | (p.low != 0 ? 1 : 0))
        }
        let sticky: UInt128 = p.low << 1 != 0 ? 1 : 0
        return Wide(sign: a.sign != b.sign, exponent: a.exponent + b.exponent, significand: p.high << 1 | p.low >> 127 | sticky)
    }

    public static func / (a: Wide, b: Wide) -> Wide {
        if a.isZero { return a }
        var r = a.significand, carry = false, e = a.exponent - b.exponent
        if r < b.significand { carry = r >> 127 != 0; r <<= 1; e -= 1 }
        var q: UInt128 = 0
        for _ in 0..<128 {
            let bit = carry || r >= b.significand
            if bit { r = r &- b.significand }
            q = q << 1 | (bit ? 1 : 0)
            carry = r >> 127 != 0
            r <<= 1
        }
        // A remainder is a sticky bit: the quotient is inexact.
        return Wide(sign: a.sign != b.sign, exponent: e, significand: q | (r != 0 || carry ? 1 : 0))
    }

    public static func + (a: Wide, b: Wide) -> Wide {
        if a.isZero { return b }
        if b.isZero { return a }
        let (x, y) = (a.exponent, a.significand) >= (b.exponent, b.significand) ? (a, b) : (b, a)
        // Shifted right (one bit of headroom, d more for the smaller), with the bits shifted out
        // kept as a sticky bit, so that a tiny addend still decides inexactness and direction.
        let d = x.exponent - y.exponent
        let big = x.significand >> 1 | (x.significand & 1)
        let small: UInt128
        if d + 1 >= 128 { small = 1 } else {
            let lost = y.significand & ((1 << UInt128(d + 1)) - 1) != 0
            small = y.significand >> UInt128(d + 1) | (lost ? 1 : 0)
        }
        let s = x.sign == y.sign ? big + small : big - small
        return Wide(sign: x.sign, exponent: x.exponent + 1, significand: s)
    }

    public static func - (a: Wide, b: Wide) -> Wide { a + b.negated }

    /// 2^k times the value.
    public func scaled(_ k: Int) -> Wide { isZero ? self : Wide(sign: sign, exponent: exponent + k, significand: significand) }

    public static let one = Wide(1)
    public static let pi = Wide(sign: false, exponent: 1, significand: 0xC90F_DAA2_2168_C234_C4C6_628B_80DC_1CD1)
    public static let halfPi = pi.scaled(-1)
    public static let ln2 = Wide(sign: false, exponent: -1, significand: 0xB172_17F7_D1CF_79AB_C9E3_B398_03F2_F6AF)
    public static let sqrt3: Wide = {
        var s = Wide(sign: false, exponent: 0, significand: 0xDDB3_D742_C265_5000_0000_0000_0000_0000) // ≈ 1.732
        for _ in 0..<4 { s = (s + Wide(3) / s).scaled(-1) }
        return s
    }()

    /// Σ over a power series: term(k) from the previous term, until terms no longer matter.
    /// The first correction is always added, so that its sticky bit marks the sum inexact.
    public static func series(first: Wide, next: (Wide, Int) -> Wide) -> Wide {
        var sum = first, term = first, k = 1
        repeat {
            term = next(term, k)
            sum = sum + term
            k += 1
        } while !term.isZero && term.exponent > sum.exponent - 136 && k < 200
        return sum
    }

    /// sin and cos of |r| ≤ π/4.
    public static func sinSeries(_ r: Wide) -> Wide {
        let r2 = r * r
        return series(first: r) { t, k in (t * r2 / Wide((2 * k) * (2 * k + 1))).negated }
    }
    public static func cosSeries(_ r: Wide) -> Wide {
        let r2 = r * r
        return series(first: one) { t, k in (t * r2 / Wide((2 * k - 1) * (2 * k))).negated }
    }

    /// atan(t) for t ≥ 0, reduced to |t| ≤ tan(π/12).
    public static func atan(_ t: Wide) -> Wide {
        if t.isZero { return t }
        if t.exponent >= 0 && !(t.exponent == 0 && t.significand == 1 << 127) {
            return halfPi - atan(one / t)
        }
        // tan(π/12) ≈ 0.2679: beyond it, atan(t) = π/6 + atan((t√3 − 1)/(t + √3)).
        if t.exponent >= -1 || (t.exponent == -2 && t.significand > 0x8930_A2F4_F66A_B18A_0000_0000_0000_0000) {
            let u = (t * sqrt3 - one) / (t + sqrt3)
            let base = (pi / Wide(6))
            return u.sign ? base - atanSmall(u.magnitude) : base + atanSmall(u)
        }
        return atanSmall(t)
    }
    public static func atanSmall(_ t: Wide) -> Wide { oddPowerSeries(t, alternating: true) }

    /// Σ z^(2k+1)/(2k+1) over k ≥ 0, with alternating signs for atan (atanh's are all +).
    /// The first correction is always added, as in `series`.
    public static func oddPowerSeries(_ z: Wide, alternating: Bool) -> Wide {
        let z2 = z * z
        var power = z, sum = z, k = 1
        while k < 200 {
            power = power * z2
            if alternating { power = power.negated }
            let term = power / Wide(2 * k + 1)
            sum = sum + term
            if term.isZero || term.exponent <= sum.exponent - 136 { break }
            k += 1
        }
        return sum
    }

    /// e^y − 1 for |y| ≤ 1.
    public static func expm1(_ y: Wide) -> Wide { series(first: y) { t, k in t * y / Wide(k + 1) } }

    /// atanh(z) for |z| ≤ 1/3: ln((1+z)/(1−z)) / 2.
    public static func atanh(_ z: Wide) -> Wide { oddPowerSeries(z, alternating: false) }

    /// log2 of a positive finite value.
    public static func log2(_ v: FPValue) -> Wide {
        // v = m × 2^e with m in [1, 2); with m > √2 use m/2 so that |z| stays below 0.18.
        var e = Int(v.exponent)
        var m = Wide(sign: false, exponent: 0, significand: UInt128(v.significand) << 64)
        if v.significand > 0xB504_F333_F9DE_6484 { m = m.scaled(-1); e += 1 }
        let z = (m - one) / (m + one)
        let lnm = atanh(z).scaled(1)
        return Wide(e) + lnm / ln2
    }

    /// x mod π/2 for a finite x, as the remainder in [0, π/2) and the quotient's low two bits.
    /// The reduction is exact against the 66-bit π the SDM documents for FSIN and its kin
    /// (vol. 1, 8.3.10: 0xC90FDAA22168C234C × 2^−66), so large arguments lose accuracy the
    /// way the hardware's do; the host CPU (AMD here) agrees.
    public static func reduceHalfPi(_ v: FPValue) -> (Wide, Int) {
        // (π₆₆ / 2) × 2^192.
        let qHigh: UInt128 = 0x1_921F_B544_42D1_8469
        let qLow: UInt128 = 1 << 127
        // The numerator m × 2^(e + 129) bit by bit, most significant first.
        let m = v.significand
        let shift = Int(v.exponent) + 129
        var rh: UInt128 = 0, rl: UInt128 = 0
        var quotient = 0
        for i in stride(from: 63 + shift, through: 0, by: -1) {
            let bit: UInt128 = i >= shift && i - shift < 64 ? UInt128((m >> UInt64(i - shift)) & 1) : 0
            rh = rh << 1 | rl >> 127
            rl = rl << 1 | bit
            quotient <<= 1
            if rh > qHigh || (rh == qHigh && rl >= qLow) {
                let borrow: UInt128 = rl < qLow ? 1 : 0
                rl = rl &- qLow
                rh = rh - qHigh - borrow
                quotient |= 1
            }
            quotient &= 3
        }
        // remainder = (rh·2^128 + rl) × 2^−192, below 2^1.
        let lz = rh == 0 ? 128 + rl.leadingZeroBitCount : rh.leadingZeroBitCount
        if lz >= 256 { return (.zero, quotient) }
        let top: UInt128 = lz >= 128 ? rl << UInt128(lz - 128) : (rh << UInt128(lz)) | (lz == 0 ? 0 : rl >> UInt128(128 - lz))
        return (Wide(sign: false, exponent: 63 - lz, significand: top), quotient)
    }
}

import Testing
@testable import SoftFloat

/// The software floating point's own invariants. Its results are checked against the host
/// CPU by cpu-check (families ssefloat, sse4 and x87); these tests pin what the host cannot
/// show directly.
@Suite struct FloatTests {
    /// The wide constants the transcendentals use, recomputed from series in Wide arithmetic:
    /// π from Machin's formula, ln 2 as 2·atanh(1/3), √3 by Newton's iteration.
    @Test func wideConstantsMatchTheirSeries() {
        func close(_ a: Wide, _ b: Wide) -> Bool {
            let d = (a - b).magnitude
            return d.isZero || d.exponent < a.exponent - 120
        }
        let machin = (Wide.atanSmall(Wide.one / Wide(5)).scaled(2) - Wide.atanSmall(Wide.one / Wide(239))).scaled(2)
        #expect(close(machin, Wide.pi))
        #expect(close(Wide.atanh(Wide.one / Wide(3)).scaled(1), Wide.ln2))
        #expect(close(Wide.sqrt3 * Wide.sqrt3, Wide(3)))
        // The x87's FLDPI and FLDLN2 significands are these constants rounded to 64 bits.
        #expect(UInt64(truncatingIfNeeded: Wide.pi.significand >> 64) == 0xC90F_DAA2_2168_C234)
        #expect(UInt64(truncatingIfNeeded: Wide.ln2.significand >> 64) == 0xB172_17F7_D1CF_79AB)
    }

    /// Rounding at every mode, including a carry out of the significand and ties to even.
    @Test func roundingModes() {
        let env = { (mode: FPRounding) in FPEnvironment(rounding: mode) }
        var flags = FPFlags()
        // 1 + 2^-24 (a tie between 1 and 1 + 2^-23 in single): even is 1.
        let tie = UInt128(1) << 127 | UInt128(1) << 103
        #expect(SoftFloat.round(sign: false, exponent: 0, sig: tie, .single, env(.nearest), &flags).value.pack(.single) == 0x3F80_0000)
        #expect(flags.contains(.inexact))
        #expect(SoftFloat.round(sign: false, exponent: 0, sig: tie, .single, env(.up), &flags).value.pack(.single) == 0x3F80_0001)
        #expect(SoftFloat.round(sign: true, exponent: 0, sig: tie, .single, env(.down), &flags).value.pack(.single) == 0xBF80_0001)
        #expect(SoftFloat.round(sign: true, exponent: 0, sig: tie, .single, env(.towardZero), &flags).value.pack(.single) == 0xBF80_0000)
        // All ones rounding up carries into the next binade.
        let ones = UInt128.max
        #expect(SoftFloat.round(sign: false, exponent: 0, sig: ones, .double, env(.nearest), &flags).value.pack(.double) == 0x4000_0000_0000_0000)
    }

    /// Tininess is judged after rounding, and a masked underflow is reported only when inexact.
    @Test func underflowAfterRounding() {
        var flags = FPFlags()
        // Just below the smallest normal single, rounding up to it: not tiny, so no UE.
        let sig = UInt128.max
        let r = SoftFloat.round(sign: false, exponent: -127, sig: sig, .single, FPEnvironment(), &flags)
        #expect(r.value.pack(.single) == 0x0080_0000)
        #expect(!flags.contains(.underflow) && flags.contains(.inexact))
        // An exact denormal: no flags at all.
        flags = []
        let exact = SoftFloat.round(sign: false, exponent: -130, sig: UInt128(1) << 127, .single, FPEnvironment(), &flags)
        #expect(exact.value.pack(.single) == 0x0008_0000 && flags.isEmpty) // 2^-130 = 2^-126 × 2^19 / 2^23
    }
}

/// a · b / c with a 128-bit intermediate, so the product cannot overflow (time conversions:
/// ticks to nanoseconds and back). The quotient must fit 64 bits.
@inlinable @inline(__always)
public func mulDiv(_ a: UInt64, _ b: UInt64, _ c: UInt64) -> UInt64 {
    // The identity scale (TSC ticks to nanoseconds at 1 GHz) on every exit: no 128-bit division.
    if b == c { return a }
    return c.dividingFullWidth(a.multipliedFullWidth(by: b)).quotient
}

/// Whether `address` is canonical for a `bits`-wide linear address (48 or 57): bits 63 down
/// to `bits` - 1 all equal.
@inlinable @inline(__always)
public func isCanonical(_ address: UInt64, bits: Int) -> Bool {
    let k = UInt64(64 &- bits)
    return Int64(bitPattern: address << k) >> k == Int64(bitPattern: address)
}

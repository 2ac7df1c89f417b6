// Address newtypes. A guest-virtual, a guest-physical and a host-physical
// address are different things; turning one into another is a translation
// that can fail (a page walk, a nested walk), never a cast.

/// An address in the guest's linear (virtual) address space.
public struct GuestVirtualAddress: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64
    @inlinable public init(rawValue: UInt64) { self.rawValue = rawValue }
    @inlinable public init(_ value: UInt64) { self.rawValue = value }
    @inlinable public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
    public var description: String { "gva:" + hex(rawValue) }
    /// Adds `delta`, or returns nil if the sum overflows 64 bits.
    @inlinable public func adding(_ delta: UInt64) -> Self? {
        let (sum, overflow) = rawValue.addingReportingOverflow(delta)
        return overflow ? nil : Self(sum)
    }
}

/// An address in the guest's physical address space.
public struct GuestPhysicalAddress: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64
    @inlinable public init(rawValue: UInt64) { self.rawValue = rawValue }
    @inlinable public init(_ value: UInt64) { self.rawValue = value }
    @inlinable public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
    public var description: String { "gpa:" + hex(rawValue) }
    @inlinable public func adding(_ delta: UInt64) -> Self? {
        let (sum, overflow) = rawValue.addingReportingOverflow(delta)
        return overflow ? nil : Self(sum)
    }
}

/// An offset into softvmm's host physical memory (the frame allocator's region).
public struct HostPhysicalAddress: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64
    @inlinable public init(rawValue: UInt64) { self.rawValue = rawValue }
    @inlinable public init(_ value: UInt64) { self.rawValue = value }
    @inlinable public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
    public var description: String { "hpa:" + hex(rawValue) }
    @inlinable public func adding(_ delta: UInt64) -> Self? {
        let (sum, overflow) = rawValue.addingReportingOverflow(delta)
        return overflow ? nil : Self(sum)
    }
}

/// `0x`-prefixed lowercase hexadecimal.
public func hex<T: BinaryInteger>(_ value: T) -> String { "0x" + String(value, radix: 16) }
/// Hexadecimal zero-padded to `digits`, with or without "0x" (register dumps and trace lines
/// that line up).
public func paddedHex(_ value: UInt64, _ digits: Int, prefix: Bool = true) -> String {
    let s = String(value, radix: 16)
    return (prefix ? "0x" : "") + String(repeating: "0", count: max(0, digits - s.count)) + s
}

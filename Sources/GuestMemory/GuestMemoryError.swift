import X86

/// Host-side misuse of guest memory: a typed error whose message names what was wrong.
/// (A guest touching unbacked memory is not one of these: that is an exit.)
public enum GuestMemoryError: Error, Equatable, CustomStringConvertible {
    /// The frame allocator's cap was reached.
    case outOfFrames(cap: Int)
    /// A reservation or object size that is zero or not a multiple of 4 KiB.
    case sizeNotPageMultiple(UInt64)
    /// An access at `offset` of `length` bytes does not fit in an object of `size` bytes.
    case outsideObject(offset: UInt64, length: Int, size: UInt64)
    /// The object's last reference was dropped; it has no pages any more.
    case objectDetached
    /// A view was used after `close()`.
    case viewClosed
    /// A view's protection does not allow the access (`write` is true for a write).
    case viewProtection(write: Bool)
    /// Memory-map validation, naming the range (by index and bounds).
    case rangeEmpty(index: Int)
    case rangeMisaligned(index: Int, base: GuestPhysicalAddress, size: UInt64)
    case rangeBeyondAddressWidth(index: Int, base: GuestPhysicalAddress, size: UInt64, width: Int)
    case rangesOverlap(index: Int, previous: Int)
    case rangesNotAscending(index: Int, previous: Int)
    case totalMemoryExceeded(total: UInt64, limit: UInt64)
    case addressWidthInvalid(Int)
    case reservationFailed(bytes: UInt64)

    public var description: String {
        switch self {
        case .outOfFrames(let cap): "host physical memory exhausted: all \(cap) frames are in use"
        case .sizeNotPageMultiple(let s): "size \(hex(s)) is not a positive multiple of 4 KiB"
        case .outsideObject(let o, let n, let s): "access of \(n) bytes at offset \(hex(o)) is outside the object (size \(hex(s)))"
        case .objectDetached: "the memory object has no references left"
        case .viewClosed: "the view is closed"
        case .viewProtection(let w): "the view does not allow \(w ? "writes" : "reads")"
        case .rangeEmpty(let i): "memory range \(i) is empty"
        case .rangeMisaligned(let i, let b, let s): "memory range \(i) (\(b), size \(hex(s))) is not 4 KiB aligned"
        case .rangeBeyondAddressWidth(let i, let b, let s, let w):
            "memory range \(i) (\(b), size \(hex(s))) ends beyond the \(w)-bit guest physical address width"
        case .rangesOverlap(let i, let p): "memory range \(i) overlaps range \(p)"
        case .rangesNotAscending(let i, let p): "memory range \(i) starts below range \(p): ranges must be in ascending order"
        case .totalMemoryExceeded(let t, let l): "the ranges total \(hex(t)) bytes of RAM, over the limit of \(hex(l))"
        case .addressWidthInvalid(let w): "guest physical address width \(w) is not between 32 and 52 bits"
        case .reservationFailed(let n): "could not reserve \(hex(n)) bytes of host memory"
        }
    }
}

/// Page geometry shared by guest memory and the nested pmap.
public enum Page {
    public static let shift: UInt64 = 12
    public static let size: UInt64 = 1 << 12
    public static let mask: UInt64 = size - 1
    @inlinable public static func isAligned(_ v: UInt64) -> Bool { v & mask == 0 }
}

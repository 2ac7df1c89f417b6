/// Saves or restores a component's state with one description of its fields, as QEMU's
/// VMState tables and Bochs's parameter tree do: a component lists its fields once, in
/// `state(_:)`, and the same code writes them (saving) or reads them back (restoring).
/// Numbers are unsigned LEB128 varints; arrays are a count and then their elements.
///
/// Restoring never traps: past the end, or at a count too large for what is left, the first
/// problem is kept in `error` (with its offset) and the fields read as zero; the caller
/// checks `error` once at the end.
public struct StateCoder {
    public enum Direction: Sendable { case save, restore }
    public let direction: Direction
    public private(set) var bytes: [UInt8]
    public private(set) var offset: Int
    /// The first problem met while restoring.
    public private(set) var error: StateError?

    /// A coder that saves: `bytes` holds what the fields' values.
    public init() { (direction, bytes, offset) = (.save, [], 0) }
    /// A coder that restores from `bytes`, starting at `offset` (for error messages, the
    /// offset counts from the start of the enclosing file when `base` is given).
    public init(restoring bytes: [UInt8], base: Int = 0) { (direction, self.bytes, offset, self.base) = (.restore, bytes, 0, base) }
    var base = 0

    public var isSaving: Bool { direction == .save }
    /// Whether everything was read (a restore that leaves bytes over read the wrong layout).
    public var atEnd: Bool { offset == bytes.count }

    public mutating func fail(_ what: String) {
        if error == nil { error = StateError(offset: base + offset, problem: what) }
        offset = bytes.count
    }

    public mutating func field(_ v: inout UInt64) {
        if isSaving {
            var x = v
            while x >= 0x80 { bytes.append(UInt8(x & 0x7F) | 0x80); x >>= 7 }
            bytes.append(UInt8(x))
            return
        }
        var x: UInt64 = 0, shift: UInt64 = 0
        while true {
            guard offset < bytes.count else { fail("the state ends inside a number"); v = 0; return }
            let b = bytes[offset]
            offset += 1
            guard shift < 63 || (shift == 63 && b <= 1) else { fail("a number longer than 64 bits"); v = 0; return }
            x |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { break }
            shift += 7
        }
        v = x
    }

    /// Any fixed-width integer, through the varint.
    public mutating func field<T: FixedWidthInteger>(_ v: inout T) {
        var x = UInt64(truncatingIfNeeded: v)
        field(&x)
        v = T(truncatingIfNeeded: x)
    }

    public mutating func field(_ v: inout Bool) {
        var x: UInt64 = v ? 1 : 0
        field(&x)
        v = x != 0
    }

    public mutating func field<T: FixedWidthInteger>(_ v: inout T?) {
        var present = v != nil
        field(&present)
        var x = v ?? 0
        if present { field(&x) }
        v = present ? x : nil
    }

    /// A count, checked against what is left when restoring (each element takes a byte or more).
    public mutating func count(_ n: inout Int) {
        var x = UInt64(n)
        field(&x)
        if !isSaving && x > UInt64(bytes.count - offset) {
            fail("a count of \(x) with \(bytes.count - offset) bytes left")
            x = 0
        }
        n = Int(x)
    }

    public mutating func field<T: FixedWidthInteger>(_ v: inout [T]) {
        var n = v.count
        count(&n)
        if !isSaving { v = [T](repeating: 0, count: n) }
        for i in 0..<n { field(&v[i]) }
    }

    public mutating func field(_ v: inout [Bool]) {
        var n = v.count
        count(&n)
        if !isSaving { v = [Bool](repeating: false, count: n) }
        for i in 0..<n { field(&v[i]) }
    }

    /// Raw bytes (a page), copied as they are.
    public mutating func raw(_ v: inout [UInt8]) {
        var n = v.count
        count(&n)
        if isSaving { bytes += v; return }
        v = Array(bytes[offset..<offset + n])
        offset += n
    }

    /// A nested component, framed by its length so that a reader can tell where it ends.
    public mutating func section(_ name: String, _ body: (inout StateCoder) -> Void) {
        if isSaving {
            var inner = StateCoder()
            body(&inner)
            var data = inner.bytes
            raw(&data)
            return
        }
        var data: [UInt8] = []
        let start = base + offset
        raw(&data)
        guard error == nil else { return }
        var inner = StateCoder(restoring: data, base: start + (varintLength(data.count)))
        body(&inner)
        if let e = inner.error { error = error ?? StateError(offset: e.offset, problem: "\(name): \(e.problem)") } else if !inner.atEnd {
            fail("\(name): \(data.count - inner.offset) bytes left over (another layout?)")
        }
    }

    func varintLength(_ n: Int) -> Int {
        var len = 1, x = n
        while x >= 0x80 { x >>= 7; len += 1 }
        return len
    }
}

/// State that cannot be restored: where (a byte offset) and what.
public struct StateError: Error, Equatable, Sendable, CustomStringConvertible {
    public var offset: Int
    public var problem: String
    public init(offset: Int, problem: String) { (self.offset, self.problem) = (offset, problem) }
    public var description: String { "\(problem) (offset \(offset))" }
}

/// Something whose state a `StateCoder` saves and restores.
public protocol StateCoding: AnyObject {
    func state(_ s: inout StateCoder)
}

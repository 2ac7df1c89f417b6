import X86

/// A device on the I/O-port bus: it sees offsets from the base it was inserted at.
public protocol PortDevice: AnyObject {
    func portRead(offset: UInt16, size: Int) -> UInt32
    func portWrite(offset: UInt16, size: Int, value: UInt32)
}

/// A device on the MMIO bus: it sees offsets from its range's base.
public protocol MMIODevice: AnyObject {
    func mmioRead(offset: UInt64, size: Int) -> UInt64
    func mmioWrite(offset: UInt64, size: Int, value: UInt64)
}

/// Host-side misuse of a bus.
public enum BusError: Error, Equatable, CustomStringConvertible {
    case overlap(name: String, base: UInt64, size: UInt64, existing: String)
    case empty(name: String)

    public var description: String {
        switch self {
        case .overlap(let n, let b, let s, let e):
            "device \(n) at \(hex(b))-\(hex(b &+ s &- 1)) overlaps \(e)"
        case .empty(let n): "device \(n) has an empty range"
        }
    }
}

/// Ranges to devices, checked for overlap at insertion; lookups by address.
struct RangeTable<Device> {
    struct Entry {
        var name: String
        var base: UInt64
        var size: UInt64
        var device: Device
        func contains(_ a: UInt64) -> Bool { a >= base && a - base < size }
    }
    private(set) var entries: [Entry] = []

    mutating func insert(_ name: String, base: UInt64, size: UInt64, _ device: Device) throws(BusError) {
        guard size > 0 else { throw .empty(name: name) }
        if let e = entries.first(where: { base < $0.base &+ $0.size && $0.base < base &+ size }) {
            throw .overlap(name: name, base: base, size: size, existing: "\(e.name) at \(hex(e.base))-\(hex(e.base &+ e.size &- 1))")
        }
        entries.append(Entry(name: name, base: base, size: size, device: device))
        entries.sort { $0.base < $1.base }
    }

    func find(_ a: UInt64) -> Entry? { index(of: a).map { entries[$0] } }

    /// The entry holding `a`, by binary search (the entries are sorted and do not overlap).
    func index(of a: UInt64) -> Int? {
        var low = 0, high = entries.count
        while low < high {
            let mid = (low + high) / 2
            if entries[mid].base &+ entries[mid].size <= a { low = mid + 1 } else { high = mid }
        }
        return low < entries.count && entries[low].contains(a) ? low : nil
    }
}

/// The I/O-port bus. Unclaimed ports read as all ones and ignore writes, as on a PC.
public final class PortBus {
    var table = RangeTable<PortDevice>()
    /// Accesses to ports no device claims (for `--stats` and debugging).
    public private(set) var unclaimed = 0
    /// Per port, the claiming device (an index into `devices`) or -1: one load per access.
    let owner = UnsafeMutablePointer<Int16>.allocate(capacity: 65536)
    var devices: [(device: PortDevice, base: UInt16)] = []

    public init() { owner.initialize(repeating: -1, count: 65536) }
    deinit { owner.deallocate() }

    public func insert(_ device: PortDevice, name: String, base: UInt16, count: UInt16) throws(BusError) {
        try table.insert(name, base: UInt64(base), size: UInt64(count), device)
        devices.append((device, base))
        for p in Int(base)..<Int(base) + Int(count) where p < 65536 { owner[p] = Int16(devices.count - 1) }
    }

    public func read(_ port: UInt16, size: Int) -> UInt32 {
        let i = Int(owner[Int(port)])
        guard i >= 0 else {
            unclaimed += 1
            return size == 4 ? ~0 : (1 << UInt32(8 * size)) - 1
        }
        let d = devices[i]
        return d.device.portRead(offset: port &- d.base, size: size)
    }

    public func write(_ port: UInt16, size: Int, value: UInt32) {
        let i = Int(owner[Int(port)])
        guard i >= 0 else { unclaimed += 1; return }
        let d = devices[i]
        d.device.portWrite(offset: port &- d.base, size: size, value: value)
    }
}

/// The MMIO bus: guest-physical ranges to devices.
public final class MMIOBus {
    var table = RangeTable<MMIODevice>()
    public private(set) var unclaimed = 0

    public init() {}

    public func insert(_ device: MMIODevice, name: String, base: UInt64, size: UInt64) throws(BusError) {
        try table.insert(name, base: base, size: size, device)
    }

    public func claims(_ gpa: UInt64) -> Bool { table.find(gpa) != nil }

    /// The device whose range starts exactly at `base` (how the monitor binds the memory map's
    /// MMIO ranges to devices once, so that an exit's range names its device).
    public func device(at base: UInt64) -> MMIODevice? {
        guard let e = table.find(base), e.base == base else { return nil }
        return e.device
    }

    public func read(_ gpa: UInt64, size: Int) -> UInt64 {
        guard let e = table.find(gpa) else {
            unclaimed += 1
            return size == 8 ? ~0 : (1 << UInt64(8 * size)) - 1
        }
        return e.device.mmioRead(offset: gpa - e.base, size: size)
    }

    public func write(_ gpa: UInt64, size: Int, value: UInt64) {
        guard let e = table.find(gpa) else { unclaimed += 1; return }
        e.device.mmioWrite(offset: gpa - e.base, size: size, value: value)
    }
}

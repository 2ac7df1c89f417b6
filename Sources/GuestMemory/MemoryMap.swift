import X86

/// One range of the guest physical address space.
public struct MemoryRange: Hashable, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable { case ram, mmio, reserved }
    public var kind: Kind
    public var base: GuestPhysicalAddress
    public var size: UInt64

    public init(_ kind: Kind, base: UInt64, size: UInt64) {
        self.kind = kind
        self.base = GuestPhysicalAddress(base)
        self.size = size
    }

    /// One past the last byte (ranges are validated not to wrap).
    public var end: UInt64 { base.rawValue &+ size }
    public func contains(_ gpa: GuestPhysicalAddress) -> Bool { gpa.rawValue >= base.rawValue && gpa.rawValue < end }
    public var description: String { "\(kind) \(hex(base.rawValue))-\(hex(end &- 1))" }
}

/// The VM's physical memory map: ranges validated once at creation (4 KiB aligned,
/// ascending, not overlapping, inside the guest physical address width, RAM under a
/// total limit); lookups afterwards trust it and take O(log n).
public struct MemoryMap: Sendable {
    public let ranges: [MemoryRange]
    /// Guest physical address width in bits (MAXPHYADDR).
    public let addressWidth: Int

    public init(_ ranges: [MemoryRange], addressWidth: Int = 48, ramLimit: UInt64 = 1 << 40) throws(GuestMemoryError) {
        guard (32...52).contains(addressWidth) else { throw .addressWidthInvalid(addressWidth) }
        let top = UInt64(1) << UInt64(addressWidth)
        var ram: UInt64 = 0
        for (i, r) in ranges.enumerated() {
            guard r.size > 0 else { throw .rangeEmpty(index: i) }
            guard Page.isAligned(r.base.rawValue), Page.isAligned(r.size) else {
                throw .rangeMisaligned(index: i, base: r.base, size: r.size)
            }
            let (end, overflow) = r.base.rawValue.addingReportingOverflow(r.size)
            guard !overflow, end <= top else {
                throw .rangeBeyondAddressWidth(index: i, base: r.base, size: r.size, width: addressWidth)
            }
            if i > 0 {
                let p = ranges[i - 1]
                guard r.base.rawValue >= p.base.rawValue else { throw .rangesNotAscending(index: i, previous: i - 1) }
                guard r.base.rawValue >= p.end else { throw .rangesOverlap(index: i, previous: i - 1) }
            }
            if r.kind == .ram {
                ram += r.size
                guard ram <= ramLimit else { throw .totalMemoryExceeded(total: ram, limit: ramLimit) }
            }
        }
        self.ranges = ranges
        self.addressWidth = addressWidth
    }

    /// The index of the range holding `gpa`, or nil (a hole).
    public func rangeIndex(of gpa: GuestPhysicalAddress) -> Int? {
        var lo = 0, hi = ranges.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if ranges[mid].end <= gpa.rawValue { lo = mid + 1 } else { hi = mid }
        }
        return lo < ranges.count && ranges[lo].contains(gpa) ? lo : nil
    }
}

/// What a guest physical address is backed by.
public enum Backing: Equatable {
    /// RAM: the page at `offset` of `object`.
    case ram(MemoryObject, offset: UInt64)
    /// A device's range: no backing object; accesses become MMIO assist exits.
    case mmio(range: Int, offset: UInt64)
    /// Reserved space, or a hole in the map: accesses are an error exit.
    case reserved(range: Int?)

    public static func == (a: Backing, b: Backing) -> Bool {
        switch (a, b) {
        case (.ram(let x, let o), .ram(let y, let p)): x === y && o == p
        case (.mmio(let r, let o), .mmio(let s, let p)): r == s && o == p
        case (.reserved(let r), .reserved(let s)): r == s
        default: false
        }
    }
}

/// The guest's physical memory: the map and one memory object per RAM range (as
/// vmm(4)'s vm_create makes them), each referenced by the VM until `teardown`.
public final class GuestPhysicalMemory: @unchecked Sendable {
    public let map: MemoryMap
    public let host: HostPhysicalMemory
    /// Per range: its object (RAM) or nil (MMIO, reserved).
    public let objects: [MemoryObject?]
    public private(set) var isTornDown = false

    public init(map: MemoryMap, host: HostPhysicalMemory) throws(GuestMemoryError) {
        self.map = map
        self.host = host
        var objects: [MemoryObject?] = []
        for r in map.ranges {
            objects.append(r.kind == .ram ? try MemoryObject(size: r.size, host: host) : nil)
        }
        self.objects = objects
    }

    /// What backs `gpa`.
    public func backing(_ gpa: GuestPhysicalAddress) -> Backing {
        guard let i = map.rangeIndex(of: gpa) else { return .reserved(range: nil) }
        let offset = gpa.rawValue - map.ranges[i].base.rawValue
        switch map.ranges[i].kind {
        case .ram: return .ram(objects[i]!, offset: offset)
        case .mmio: return .mmio(range: i, offset: offset)
        case .reserved: return .reserved(range: i)
        }
    }

    /// Drops the VM's reference on every object (views keep theirs).
    public func teardown() {
        guard !isTornDown else { return }
        isTornDown = true
        for case let o? in objects { o.detach() }
    }
}

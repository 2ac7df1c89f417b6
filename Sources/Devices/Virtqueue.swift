import X86

// The device side of a split virtqueue (Virtual I/O Device (VIRTIO) Version 1.2, 2.7): the
// descriptor table, the driver's available ring and the device's used ring, all in guest
// memory, with indirect descriptors (2.7.5.3) and the event-index feature (2.7.7,
// VIRTIO_F_EVENT_IDX). A device takes the next chain the driver made available, reads its
// driver-written buffers, writes its device-written ones and returns the chain through the
// used ring, which says whether the driver wants an interrupt for it.
//
// Everything in the queue is the guest's to write, and the guest may be hostile: every index
// is checked against the queue's size, every chain is bounded, every buffer must lie in guest
// RAM. A queue that breaks a rule is a typed error naming the rule (`VirtqueueError`); the
// device then marks itself as needing a reset (DEVICE_NEEDS_RESET, 2.1.2), as the spec lets
// it, and the host goes on.

/// Guest-physical memory as a device sees it (DMA): RAM only. A read or write that does not
/// lie wholly in RAM fails (returns nil or false) and changes nothing.
public protocol GuestPhysicalAccess: AnyObject {
    func read(_ gpa: UInt64, count: Int) -> [UInt8]?
    func write(_ gpa: UInt64, _ bytes: [UInt8]) -> Bool
}

extension GuestPhysicalAccess {
    /// A little-endian value of `size` bytes (2, 4 or 8).
    func load(_ gpa: UInt64, size: Int) -> UInt64? {
        guard let b = read(gpa, count: size) else { return nil }
        return b.enumerated().reduce(0) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
    }

    func store(_ gpa: UInt64, size: Int, _ value: UInt64) -> Bool {
        write(gpa, (0..<size).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) })
    }
}

/// A virtqueue the driver set up against the spec's rules.
public enum VirtqueueError: Error, Equatable, CustomStringConvertible {
    /// A ring or table address that does not lie in guest RAM.
    case unreadable(what: String, gpa: UInt64)
    /// The available index moved by more than the queue's size since the device last looked.
    case availableIndexJump(from: UInt16, to: UInt16, size: Int)
    /// A head or next index at or past the size of its table.
    case descriptorIndex(Int, tableSize: Int)
    /// A chain longer than its table (a loop through NEXT).
    case chainTooLong(limit: Int)
    /// An indirect table whose length is zero or not a multiple of 16 (2.7.5.3.1).
    case indirectLength(UInt32)
    /// INDIRECT inside an indirect table, or INDIRECT with NEXT (2.7.5.3.1).
    case nestedIndirect
    /// A driver-readable buffer after a device-writable one (2.7.4.2).
    case readableAfterWritable
    /// A queue size that is not a power of two from 1 to 32768 (2.7).
    case badSize(Int)

    public var description: String {
        switch self {
        case .unreadable(let what, let g): "virtqueue: the \(what) at guest-physical \(hex(g)) is not in guest RAM"
        case .availableIndexJump(let a, let b, let n): "virtqueue: the available index moved from \(a) to \(b), more than the queue's \(n) entries"
        case .descriptorIndex(let i, let n): "virtqueue: descriptor index \(i) is outside its table of \(n)"
        case .chainTooLong(let n): "virtqueue: a descriptor chain runs past \(n) descriptors (a loop?)"
        case .indirectLength(let l): "virtqueue: an indirect table of \(l) bytes (not a nonzero multiple of 16)"
        case .nestedIndirect: "virtqueue: an indirect descriptor inside an indirect table, or with NEXT"
        case .readableAfterWritable: "virtqueue: a driver-readable buffer after a device-writable one"
        case .badSize(let n): "virtqueue: a queue size of \(n) (a power of two up to 32768)"
        }
    }
}

/// One buffer of a chain: where it is and how long.
public struct VirtqueueBuffer: Equatable, Sendable {
    public var gpa: UInt64
    public var length: UInt32
    public init(gpa: UInt64, length: UInt32) { (self.gpa, self.length) = (gpa, length) }
}

/// A chain the driver made available: its head index (what goes back in the used ring), its
/// driver-written buffers, then its device-writable ones.
public struct DescriptorChain: Equatable, Sendable {
    public var head: UInt16
    public var readable: [VirtqueueBuffer] = []
    public var writable: [VirtqueueBuffer] = []
    public var readableLength: Int { readable.reduce(0) { $0 + Int($1.length) } }
    public var writableLength: Int { writable.reduce(0) { $0 + Int($1.length) } }
}

/// The device's side of one split virtqueue.
public final class Virtqueue {
    /// Descriptor flags (2.7.5).
    public enum Flag {
        public static let next: UInt16 = 1, write: UInt16 = 2, indirect: UInt16 = 4
    }
    /// The available ring's VIRTQ_AVAIL_F_NO_INTERRUPT, the used ring's VIRTQ_USED_F_NO_NOTIFY.
    public static let noInterrupt: UInt16 = 1, noNotify: UInt16 = 1

    public let size: Int
    public let descriptors: UInt64, available: UInt64, used: UInt64
    /// VIRTIO_F_EVENT_IDX was negotiated: used_event and avail_event replace the flags.
    public let eventIndex: Bool
    let memory: GuestPhysicalAccess
    /// The next available-ring entry the device will take, and the used index it will write.
    public private(set) var lastAvailable: UInt16 = 0
    public private(set) var usedIndex: UInt16 = 0

    /// A queue of `size` entries (a power of two, 1 to 32768) whose descriptor table, available
    /// ring and used ring the driver placed at these guest-physical addresses.
    public init(size: Int, descriptors: UInt64, available: UInt64, used: UInt64, eventIndex: Bool,
                memory: GuestPhysicalAccess) throws(VirtqueueError) {
        guard size > 0, size <= 32768, size & (size - 1) == 0 else { throw .badSize(size) }
        (self.size, self.descriptors, self.available, self.used, self.eventIndex, self.memory) =
            (size, descriptors, available, used, eventIndex, memory)
    }

    func load16(_ gpa: UInt64, _ what: String) throws(VirtqueueError) -> UInt16 {
        guard let v = memory.load(gpa, size: 2) else { throw .unreadable(what: what, gpa: gpa) }
        return UInt16(v)
    }

    /// Where the device stood (a snapshot's restore).
    func restore(lastAvailable: UInt16, usedIndex: UInt16) {
        (self.lastAvailable, self.usedIndex) = (lastAvailable, usedIndex)
    }

    /// The driver's available index.
    func availableIndex() throws(VirtqueueError) -> UInt16 { try load16(available + 2, "available index") }

    /// Whether the driver made a chain available that the device has not taken.
    public func hasAvailable() throws(VirtqueueError) -> Bool { try availableIndex() != lastAvailable }

    /// The next chain the driver made available, or nil when there is none. With the event
    /// index, the device then asks to be notified at the next one (avail_event).
    public func next() throws(VirtqueueError) -> DescriptorChain? {
        let index = try availableIndex()
        guard index != lastAvailable else { return nil }
        guard index &- lastAvailable <= UInt16(size) else {
            throw .availableIndexJump(from: lastAvailable, to: index, size: size)
        }
        let slot = UInt64(Int(lastAvailable) & (size - 1))
        let head = try load16(available + 4 + 2 * slot, "available ring entry")
        let chain = try walk(head: head)
        lastAvailable &+= 1
        if eventIndex {
            // avail_event, after the used ring's entries: notify when the driver passes it.
            let at = used + 4 + 8 * UInt64(size)
            guard memory.store(at, size: 2, UInt64(lastAvailable)) else { throw .unreadable(what: "avail_event", gpa: at) }
        }
        return chain
    }

    /// Follows a chain from `head` through NEXT, into an indirect table where one is named.
    func walk(head: UInt16) throws(VirtqueueError) -> DescriptorChain {
        var chain = DescriptorChain(head: head)
        var table = descriptors, tableSize = size, index = Int(head), seen = 0, indirect = false
        while true {
            guard index < tableSize else { throw .descriptorIndex(index, tableSize: tableSize) }
            let at = table + 16 * UInt64(index)
            guard let raw = memory.read(at, count: 16) else { throw .unreadable(what: "descriptor \(index)", gpa: at) }
            func field(_ o: Int, _ n: Int) -> UInt64 { (0..<n).reduce(0) { $0 | UInt64(raw[o + $1]) << (8 * UInt64($1)) } }
            let address = field(0, 8), length = UInt32(field(8, 4)), flags = UInt16(field(12, 2)), next = Int(field(14, 2))
            seen += 1
            guard seen <= tableSize else { throw .chainTooLong(limit: tableSize) }
            if flags & Flag.indirect != 0 {
                // The table's descriptors replace this one; its WRITE flag means nothing.
                guard !indirect, flags & Flag.next == 0 else { throw .nestedIndirect }
                guard length > 0, length % 16 == 0 else { throw .indirectLength(length) }
                (table, tableSize, index, seen, indirect) = (address, Int(length / 16), 0, 0, true)
                continue
            }
            let buffer = VirtqueueBuffer(gpa: address, length: length)
            if flags & Flag.write != 0 {
                chain.writable.append(buffer)
            } else {
                guard chain.writable.isEmpty else { throw .readableAfterWritable }
                chain.readable.append(buffer)
            }
            guard flags & Flag.next != 0 else { return chain }
            index = next
        }
    }

    /// Returns a chain through the used ring with the bytes the device wrote into it. Returns
    /// whether the driver asked for an interrupt now: with the event index, when the used index
    /// passes used_event (vring_need_event, 2.7.10); otherwise unless NO_INTERRUPT is set.
    @discardableResult
    public func complete(_ chain: DescriptorChain, written: UInt32) throws(VirtqueueError) -> Bool {
        let slot = UInt64(Int(usedIndex) & (size - 1))
        let element = used + 4 + 8 * slot
        guard memory.store(element, size: 4, UInt64(chain.head)), memory.store(element + 4, size: 4, UInt64(written)) else {
            throw .unreadable(what: "used ring entry", gpa: element)
        }
        let old = usedIndex
        usedIndex &+= 1
        guard memory.store(used + 2, size: 2, UInt64(usedIndex)) else { throw .unreadable(what: "used index", gpa: used + 2) }
        if eventIndex {
            let usedEvent = try load16(available + 4 + 2 * UInt64(size), "used_event")
            return usedIndex &- usedEvent &- 1 < usedIndex &- old
        }
        return try load16(available, "available flags") & Self.noInterrupt == 0
    }

    /// Reads a chain's driver-written bytes, in order (at most `limit`).
    public func readAll(_ chain: DescriptorChain, limit: Int = .max) throws(VirtqueueError) -> [UInt8] {
        var out: [UInt8] = []
        for b in chain.readable where out.count < limit {
            let n = min(Int(b.length), limit - out.count)
            guard let bytes = memory.read(b.gpa, count: n) else { throw .unreadable(what: "driver buffer", gpa: b.gpa) }
            out += bytes
        }
        return out
    }

    /// Writes `bytes` into a chain's device-writable buffers, in order, as far as they hold;
    /// returns how many were written (what `complete` reports).
    public func writeAll(_ chain: DescriptorChain, _ bytes: [UInt8]) throws(VirtqueueError) -> UInt32 {
        var done = 0
        for b in chain.writable where done < bytes.count {
            let n = min(Int(b.length), bytes.count - done)
            guard memory.write(b.gpa, Array(bytes[done..<done + n])) else { throw .unreadable(what: "device buffer", gpa: b.gpa) }
            done += n
        }
        return UInt32(done)
    }
}

import Devices
import Testing

/// The device side of a split virtqueue, driven from a fake guest memory the way a driver
/// fills one (virtio 1.2, 2.7): chains with direct and indirect descriptors, the used ring and
/// its interrupt rules with and without the event index, and every way a hostile queue can
/// break the spec's rules, each a typed error.
@Suite struct VirtqueueTests {
    /// 64 KiB of guest RAM.
    final class Memory: GuestPhysicalAccess {
        var bytes = [UInt8](repeating: 0, count: 0x10000)
        func read(_ gpa: UInt64, count: Int) -> [UInt8]? {
            guard gpa <= UInt64(bytes.count), UInt64(count) <= UInt64(bytes.count) - gpa else { return nil }
            return Array(bytes[Int(gpa)..<Int(gpa) + count])
        }
        func write(_ gpa: UInt64, _ data: [UInt8]) -> Bool {
            guard gpa <= UInt64(bytes.count), UInt64(data.count) <= UInt64(bytes.count) - gpa else { return false }
            bytes.replaceSubrange(Int(gpa)..<Int(gpa) + data.count, with: data)
            return true
        }
        func put(_ gpa: UInt64, _ size: Int, _ v: UInt64) { _ = write(gpa, (0..<size).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) }) }
        func get(_ gpa: UInt64, _ size: Int) -> UInt64 { (0..<size).reduce(0) { $0 | UInt64(bytes[Int(gpa) + $1]) << (8 * UInt64($1)) } }
    }

    /// The driver's side: a queue of 8 with its table at 0x1000, available ring at 0x2000, used
    /// ring at 0x3000.
    struct Driver {
        let memory = Memory()
        let size = 8
        var availableIndex: UInt16 = 0
        static let table: UInt64 = 0x1000, available: UInt64 = 0x2000, used: UInt64 = 0x3000

        func descriptor(_ i: Int, at table: UInt64 = Driver.table, _ gpa: UInt64, _ length: UInt32, _ flags: UInt16, next: Int = 0) {
            let d = table + 16 * UInt64(i)
            memory.put(d, 8, gpa); memory.put(d + 8, 4, UInt64(length)); memory.put(d + 12, 2, UInt64(flags)); memory.put(d + 14, 2, UInt64(next))
        }

        mutating func makeAvailable(_ head: Int) {
            memory.put(Driver.available + 4 + 2 * UInt64(Int(availableIndex) % size), 2, UInt64(head))
            availableIndex &+= 1
            memory.put(Driver.available + 2, 2, UInt64(availableIndex))
        }

        func queue(eventIndex: Bool = false) throws -> Virtqueue {
            try Virtqueue(size: size, descriptors: Driver.table, available: Driver.available, used: Driver.used,
                          eventIndex: eventIndex, memory: memory)
        }
    }

    @Test func aChainReadWrittenAndReturned() throws {
        var d = Driver()
        d.memory.put(0x8000, 4, 0x6463_6261)                     // "abcd"
        d.descriptor(0, 0x8000, 4, Virtqueue.Flag.next, next: 3)
        d.descriptor(3, 0x9000, 16, Virtqueue.Flag.write)
        d.makeAvailable(0)
        let q = try d.queue()
        #expect(try q.hasAvailable())
        let chain = try #require(try q.next())
        #expect(chain.head == 0 && chain.readable == [VirtqueueBuffer(gpa: 0x8000, length: 4)]
                && chain.writable == [VirtqueueBuffer(gpa: 0x9000, length: 16)])
        #expect(try q.readAll(chain) == Array("abcd".utf8))
        #expect(try q.writeAll(chain, Array("hello".utf8)) == 5)
        #expect(d.memory.read(0x9000, count: 5) == Array("hello".utf8))
        #expect(try q.next() == nil)
        #expect(try q.complete(chain, written: 5))                // no NO_INTERRUPT: interrupt
        #expect(d.memory.get(Driver.used + 2, 2) == 1)            // used index
        #expect(d.memory.get(Driver.used + 4, 4) == 0 && d.memory.get(Driver.used + 8, 4) == 5)
        d.memory.put(Driver.available, 2, UInt64(Virtqueue.noInterrupt))
        d.makeAvailable(0)
        #expect(try !q.complete(try #require(try q.next()), written: 0))
    }

    @Test func indirectDescriptors() throws {
        var d = Driver()
        let table: UInt64 = 0x4000
        d.descriptor(0, at: table, 0x8000, 8, Virtqueue.Flag.next, next: 1)
        d.descriptor(1, at: table, 0x8100, 8, Virtqueue.Flag.next, next: 2)
        d.descriptor(2, at: table, 0x9000, 32, Virtqueue.Flag.write)
        d.descriptor(5, table, 3 * 16, Virtqueue.Flag.indirect)
        d.makeAvailable(5)
        let chain = try #require(try d.queue().next())
        #expect(chain.head == 5 && chain.readable.count == 2 && chain.readableLength == 16 && chain.writableLength == 32)
    }

    /// VIRTIO_F_EVENT_IDX: the device writes avail_event as it takes chains, and interrupts
    /// only when the used index passes the driver's used_event.
    @Test func eventIndex() throws {
        var d = Driver()
        for i in 0..<3 { d.descriptor(i, 0x9000 + 0x100 * UInt64(i), 16, Virtqueue.Flag.write) }
        for i in 0..<3 { d.makeAvailable(i) }
        let q = try d.queue(eventIndex: true)
        let usedEvent = Driver.available + 4 + 2 * UInt64(d.size), availEvent = Driver.used + 4 + 8 * UInt64(d.size)
        d.memory.put(usedEvent, 2, 1)                             // interrupt once the 2nd is used
        let chains = try (0..<3).map { _ in try #require(try q.next()) }
        #expect(d.memory.get(availEvent, 2) == 3)
        #expect(try !q.complete(chains[0], written: 0))
        #expect(try q.complete(chains[1], written: 0))
        #expect(try !q.complete(chains[2], written: 0))
    }

    @Test func hostileQueuesAreTypedErrors() throws {
        func expectError(_ want: VirtqueueError, _ build: (inout Driver) -> Void) throws {
            var d = Driver()
            build(&d)
            let q = try d.queue()
            #expect(throws: want) { _ = try q.next() }
        }
        // A loop through NEXT.
        try expectError(.chainTooLong(limit: 8)) { d in
            d.descriptor(0, 0x8000, 4, Virtqueue.Flag.next, next: 1)
            d.descriptor(1, 0x8000, 4, Virtqueue.Flag.next, next: 0)
            d.makeAvailable(0)
        }
        try expectError(.descriptorIndex(9, tableSize: 8)) { d in d.makeAvailable(9) }
        try expectError(.descriptorIndex(12, tableSize: 8)) { d in
            d.descriptor(0, 0x8000, 4, Virtqueue.Flag.next, next: 12)
            d.makeAvailable(0)
        }
        try expectError(.indirectLength(10)) { d in
            d.descriptor(0, 0x4000, 10, Virtqueue.Flag.indirect)
            d.makeAvailable(0)
        }
        try expectError(.nestedIndirect) { d in
            d.descriptor(0, at: 0x4000, 0x5000, 16, Virtqueue.Flag.indirect)
            d.descriptor(0, 0x4000, 16, Virtqueue.Flag.indirect)
            d.makeAvailable(0)
        }
        try expectError(.nestedIndirect) { d in
            d.descriptor(0, 0x4000, 16, Virtqueue.Flag.indirect | Virtqueue.Flag.next, next: 1)
            d.makeAvailable(0)
        }
        try expectError(.readableAfterWritable) { d in
            d.descriptor(0, 0x9000, 4, Virtqueue.Flag.write | Virtqueue.Flag.next, next: 1)
            d.descriptor(1, 0x8000, 4, 0)
            d.makeAvailable(0)
        }
        try expectError(.unreadable(what: "descriptor 0", gpa: 0xFFFF_0000)) { d in
            d.descriptor(0, 0xFFFF_0000, 32, Virtqueue.Flag.indirect)
            d.makeAvailable(0)
        }
        try expectError(.availableIndexJump(from: 0, to: 9, size: 8)) { d in d.memory.put(Driver.available + 2, 2, 9) }
        // A buffer outside RAM fails when it is read, not before.
        var d = Driver()
        d.descriptor(0, 0x1_0000_0000, 4, 0)
        d.makeAvailable(0)
        let q = try d.queue()
        let chain = try #require(try q.next())
        #expect(throws: VirtqueueError.unreadable(what: "driver buffer", gpa: 0x1_0000_0000)) { _ = try q.readAll(chain) }
        #expect(throws: VirtqueueError.badSize(6)) { _ = try Virtqueue(size: 6, descriptors: 0, available: 0, used: 0, eventIndex: false, memory: d.memory) }
    }
}

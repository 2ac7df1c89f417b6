import Devices
import Testing

/// The virtio 9P transport (virtio 1.3 draft, 5.14; Linux's trans_virtio) behind the PCI
/// transport: the tag in the configuration, each request's driver-written bytes handed to the
/// server whole (however the driver split them), the reply written across the device-writable
/// buffers and cut to them.
@Suite struct Virtio9PTests {
    typealias Driver = VirtqueueTests.Driver

    @Test func tagRequestsAndReplies() throws {
        var d = Driver()
        var seen: [([UInt8], Int)] = []
        let device = Virtio9P(tag: "hostroot") { request, room in
            seen.append((request, room))
            return Array(0..<UInt8(40))
        }
        let t = VirtioPCI(device: device, memory: d.memory)
        VirtioPCITests.bringUp(t, d)
        #expect(t.offeredFeatures & 1 == 1)                                                  // VIRTIO_9P_MOUNT_TAG
        #expect(t.mmioRead(offset: VirtioPCI.Layout.deviceConfig, size: 2) == 8)             // tag_len
        let tag = (0..<8).map { UInt8(t.mmioRead(offset: VirtioPCI.Layout.deviceConfig + 2 + UInt64($0), size: 1)) }
        #expect(tag == Array("hostroot".utf8))
        // A request in two driver buffers, the reply room in two device buffers (16 + 16).
        for i in 0..<10 { d.memory.put(0x8000 + UInt64(i), 1, UInt64(i + 1)) }
        d.descriptor(0, 0x8000, 4, Virtqueue.Flag.next, next: 1)
        d.descriptor(1, 0x8004, 6, Virtqueue.Flag.next, next: 2)
        d.descriptor(2, 0x9000, 16, Virtqueue.Flag.next | Virtqueue.Flag.write, next: 3)
        d.descriptor(3, 0xA000, 16, Virtqueue.Flag.write)
        d.makeAvailable(0)
        t.mmioWrite(offset: VirtioPCI.Layout.notify, size: 2, value: 0)
        #expect(seen.count == 1 && seen[0].0 == (1...10).map { UInt8($0) } && seen[0].1 == 32)
        // The 40-byte reply is cut to the 32 bytes of room, split across the two buffers.
        #expect(d.memory.get(Driver.used + 8, 4) == 32)
        #expect(d.memory.bytes[0x9000 + 15] == 15 && d.memory.bytes[0xA000] == 16 && d.memory.bytes[0xA000 + 15] == 31)
        #expect(device.requests == 1 && device.bytesIn == 10 && device.bytesOut == 32)
        #expect(t.isr & 1 == 1)
    }
}

import Devices
import Testing

/// The virtio block device (virtio 1.2, 5.2) behind the PCI transport, driven as Linux's
/// virtio_blk does: a header, data buffers and a status byte per request, against a disk in
/// memory.
@Suite struct VirtioBlockTests {
    typealias Driver = VirtqueueTests.Driver

    final class Disk: BlockBackend {
        var bytes: [UInt8]
        let readOnly: Bool
        var flushed = 0
        init(sectors: Int, readOnly: Bool = false) {
            bytes = (0..<sectors * 512).map { UInt8(truncatingIfNeeded: $0 / 512) }
            self.readOnly = readOnly
        }
        var byteCount: UInt64 { UInt64(bytes.count) }
        func read(at offset: UInt64, count: Int) -> [UInt8]? { Array(bytes[Int(offset)..<Int(offset) + count]) }
        func write(at offset: UInt64, _ data: [UInt8]) -> Bool {
            bytes.replaceSubrange(Int(offset)..<Int(offset) + data.count, with: data)
            return true
        }
        func flush() -> Bool { flushed += 1; return true }
    }

    /// A request: the header at 0x8000, `data` bytes at 0x9000 (device-writable for a read
    /// and GET_ID, driver-written otherwise), the status at 0xA000. Returns the status and the
    /// used length.
    static func request(_ d: inout Driver, _ t: VirtioPCI, type: UInt32, sector: UInt64, data: Int,
                        fill: UInt8 = 0) -> (status: UInt64, used: UInt64) {
        d.memory.put(0x8000, 4, UInt64(type)); d.memory.put(0x8004, 4, 0); d.memory.put(0x8008, 8, sector)
        d.memory.put(0xA000, 1, 0xFF)
        let toDevice = type == VirtioBlock.Request.write
        if toDevice { for i in 0..<data { d.memory.put(0x9000 + UInt64(i), 1, UInt64(fill)) } }
        d.descriptor(0, 0x8000, 16, Virtqueue.Flag.next, next: data > 0 ? 1 : 2)
        if data > 0 { d.descriptor(1, 0x9000, UInt32(data), Virtqueue.Flag.next | (toDevice ? 0 : Virtqueue.Flag.write), next: 2) }
        d.descriptor(2, 0xA000, 1, Virtqueue.Flag.write)
        d.makeAvailable(0)
        t.mmioWrite(offset: VirtioPCI.Layout.notify, size: 2, value: 0)
        let slot = UInt64(Int(d.availableIndex &- 1) % d.size)
        return (d.memory.get(0xA000, 1), d.memory.get(Driver.used + 8 + 8 * slot, 4))
    }

    @Test func readsWritesFlushAndID() throws {
        var d = Driver()
        let disk = Disk(sectors: 8)
        let blk = VirtioBlock(backend: disk)
        let t = VirtioPCI(device: blk, memory: d.memory)
        VirtioPCITests.bringUp(t, d)
        #expect(t.mmioRead(offset: VirtioPCI.Layout.deviceConfig, size: 8) == 8)            // capacity in sectors
        #expect(t.mmioRead(offset: VirtioPCI.Layout.deviceConfig + 20, size: 4) == 512)     // blk_size
        var r = Self.request(&d, t, type: VirtioBlock.Request.read, sector: 3, data: 1024)
        #expect(r == (0, 1025))
        #expect(d.memory.bytes[0x9000] == 3 && d.memory.bytes[0x9000 + 512] == 4)
        r = Self.request(&d, t, type: VirtioBlock.Request.write, sector: 6, data: 512, fill: 0xAB)
        #expect(r == (0, 1) && disk.bytes[6 * 512] == 0xAB && disk.bytes[6 * 512 + 511] == 0xAB && disk.bytes[7 * 512] == 7)
        r = Self.request(&d, t, type: VirtioBlock.Request.flush, sector: 0, data: 0)
        #expect(r.status == 0 && disk.flushed == 1)
        r = Self.request(&d, t, type: VirtioBlock.Request.getID, sector: 0, data: 20)
        #expect(r.status == 0 && Array(d.memory.bytes[0x9000..<0x900C]) == Array("softvmm-disk".utf8))
        #expect(blk.reads == 1 && blk.writes == 1 && blk.bytesWritten == 512)
    }

    /// Past the end, a partial sector, a read-only disk's write: I/O errors; an unknown type:
    /// UNSUPP. The disk is unchanged.
    @Test func badRequests() throws {
        var d = Driver()
        let disk = Disk(sectors: 8, readOnly: true)
        let t = VirtioPCI(device: VirtioBlock(backend: disk), memory: d.memory)
        VirtioPCITests.bringUp(t, d)
        #expect(t.offeredFeatures & VirtioBlock.Feature.readOnly != 0)
        let before = disk.bytes
        #expect(Self.request(&d, t, type: VirtioBlock.Request.read, sector: 7, data: 1024).status == 1)
        #expect(Self.request(&d, t, type: VirtioBlock.Request.read, sector: UInt64.max / 256, data: 512).status == 1)
        #expect(Self.request(&d, t, type: VirtioBlock.Request.read, sector: 0, data: 100).status == 1)
        #expect(Self.request(&d, t, type: VirtioBlock.Request.write, sector: 0, data: 512).status == 1)
        #expect(Self.request(&d, t, type: 77, sector: 0, data: 0).status == 2)
        #expect(disk.bytes == before)
    }
}

import Testing
import X86
@testable import GuestMemory

@Suite struct HostMemoryTests {
    @Test func framesAreZeroedAndCapped() throws {
        let host = try HostPhysicalMemory(frames: 4)
        let a = try host.allocate()
        host.pointer(a).storeBytes(of: 0xDEAD_BEEF, as: UInt32.self)
        host.release(a)
        let b = try host.allocate()
        #expect(host.pointer(b).load(as: UInt32.self) == 0, "a reused frame is zero-filled")
        _ = try host.allocate(); _ = try host.allocate(); _ = try host.allocate()
        #expect(host.liveFrames == 4)
        #expect(throws: GuestMemoryError.outOfFrames(cap: 4)) { try host.allocate() }
    }
}

@Suite struct MemoryObjectTests {
    @Test func pagesAppearOnFirstWriteAndReadsCrossPages() throws {
        let host = try HostPhysicalMemory(frames: 16)
        let o = try MemoryObject(size: 4 * Page.size, host: host)
        #expect(try o.read(at: 0x1FFE, count: 4) == [0, 0, 0, 0])
        #expect(o.residentPages == 0, "reading an untouched page creates nothing")
        try o.write(at: 0x1FFE, bytes: [1, 2, 3, 4])
        #expect(o.residentPages == 2)
        #expect(try o.read(at: 0x1FFD, count: 6) == [0, 1, 2, 3, 4, 0])
        #expect(throws: GuestMemoryError.outsideObject(offset: 0x3FFF, length: 2, size: 0x4000)) {
            try o.write(at: 0x3FFF, bytes: [1, 2])
        }
        #expect(throws: GuestMemoryError.sizeNotPageMultiple(0x1001)) { try MemoryObject(size: 0x1001, host: host) }
        o.detach()
        #expect(host.liveFrames == 0)
        #expect(throws: GuestMemoryError.objectDetached) { try o.read(at: 0, count: 1) }
    }

    @Test func viewsHoldTheObject() throws {
        let host = try HostPhysicalMemory(frames: 16)
        let o = try MemoryObject(size: 2 * Page.size, host: host)
        try o.write(at: 0x10, bytes: [7])
        let ro = try o.view(.read)
        let rw = try o.view([.read, .write])
        #expect(o.referenceCount == 3)
        o.detach() // the creator's reference (the VM tearing down)
        #expect(host.liveFrames == 1, "views keep the object")
        #expect(try ro.read(at: 0x10, count: 1) == [7])
        #expect(throws: GuestMemoryError.viewProtection(write: true)) { try ro.write(at: 0, bytes: [1]) }
        try rw.write(at: 0x1000, bytes: [9])
        ro.close()
        #expect(throws: GuestMemoryError.viewClosed) { try ro.read(at: 0, count: 1) }
        #expect(host.liveFrames == 2)
        rw.close()
        rw.close()
        #expect(host.liveFrames == 0, "the last view's close frees the pages")
    }
}

@Suite struct MemoryMapTests {
    let good: [MemoryRange] = [
        MemoryRange(.ram, base: 0, size: 0xA0000),
        MemoryRange(.reserved, base: 0xA0000, size: 0x60000),
        MemoryRange(.ram, base: 0x100000, size: 0x3FF00000),
        MemoryRange(.mmio, base: 0xFEC00000, size: 0x1000),
        MemoryRange(.mmio, base: 0xFEE00000, size: 0x1000),
    ]

    @Test func lookups() throws {
        let map = try MemoryMap(good)
        #expect(map.rangeIndex(of: GuestPhysicalAddress(0)) == 0)
        #expect(map.rangeIndex(of: GuestPhysicalAddress(0x9FFFF)) == 0)
        #expect(map.rangeIndex(of: GuestPhysicalAddress(0xA0000)) == 1)
        #expect(map.rangeIndex(of: GuestPhysicalAddress(0x40000000)) == nil)
        #expect(map.rangeIndex(of: GuestPhysicalAddress(0xFEE00FFF)) == 4)
        #expect(map.rangeIndex(of: GuestPhysicalAddress(0xFEE01000)) == nil)
        let host = try HostPhysicalMemory(frames: 64)
        let mem = try GuestPhysicalMemory(map: map, host: host)
        #expect(mem.backing(GuestPhysicalAddress(0x100123)) == .ram(mem.objects[2]!, offset: 0x123))
        #expect(mem.backing(GuestPhysicalAddress(0xFEC00010)) == .mmio(range: 3, offset: 0x10))
        #expect(mem.backing(GuestPhysicalAddress(0xB8000)) == .reserved(range: 1))
        #expect(mem.backing(GuestPhysicalAddress(0x1_0000_0000)) == .reserved(range: nil))
        #expect(mem.objects[3] == nil, "MMIO ranges get no object")
    }

    @Test func badMapsNameTheRange() {
        #expect(throws: GuestMemoryError.rangeMisaligned(index: 1, base: GuestPhysicalAddress(0x2001), size: 0x1000)) {
            try MemoryMap([MemoryRange(.ram, base: 0, size: 0x1000), MemoryRange(.mmio, base: 0x2001, size: 0x1000)])
        }
        #expect(throws: GuestMemoryError.rangesOverlap(index: 1, previous: 0)) {
            try MemoryMap([MemoryRange(.ram, base: 0, size: 0x2000), MemoryRange(.mmio, base: 0x1000, size: 0x1000)])
        }
        #expect(throws: GuestMemoryError.rangesNotAscending(index: 1, previous: 0)) {
            try MemoryMap([MemoryRange(.ram, base: 0x4000, size: 0x1000), MemoryRange(.mmio, base: 0, size: 0x1000)])
        }
        #expect(throws: GuestMemoryError.rangeBeyondAddressWidth(index: 0, base: GuestPhysicalAddress(0xFFFF_F000),
                                                                  size: 0x2000, width: 32)) {
            try MemoryMap([MemoryRange(.ram, base: 0xFFFF_F000, size: 0x2000)], addressWidth: 32)
        }
        #expect(throws: GuestMemoryError.rangeEmpty(index: 0)) { try MemoryMap([MemoryRange(.ram, base: 0, size: 0)]) }
        #expect(throws: GuestMemoryError.totalMemoryExceeded(total: 0x3000, limit: 0x2000)) {
            try MemoryMap([MemoryRange(.ram, base: 0, size: 0x1000), MemoryRange(.ram, base: 0x1000, size: 0x2000)],
                          ramLimit: 0x2000)
        }
        #expect(GuestMemoryError.rangesOverlap(index: 1, previous: 0).description == "memory range 1 overlaps range 0")
    }
}

import Devices
import Testing

/// QEMU's pc-testdev and fw_cfg, driven register by register as kvm-unit-tests drives them.
@Suite struct TestDevicesTests {
    /// Ports 0xE0-0xE3 hold one 32-bit register, each byte lane at its own address; 0xE8-0xEB
    /// reach the same register.
    @Test func pcTestDeviceRegister() {
        let d = PCTestDevice()
        let ports = d.registerPorts
        ports.portWrite(offset: 0, size: 4, value: 0x1234_5678)
        #expect(ports.portRead(offset: 0, size: 4) == 0x1234_5678)
        #expect(ports.portRead(offset: 2, size: 2) == 0x1234)
        #expect(ports.portRead(offset: 1, size: 1) == 0x56)
        ports.portWrite(offset: 3, size: 1, value: 0xAB)
        #expect(d.register == 0xAB34_5678)
        // The byte-wide window at 0xE8 (offset 8) is the same register.
        #expect(ports.portRead(offset: 8, size: 1) == 0x78)
        ports.portWrite(offset: 9, size: 1, value: 0xCD)
        #expect(d.register == 0xAB34_CD78)
        // The flush-page port (0xE4) takes an address and changes nothing.
        ports.portWrite(offset: 4, size: 4, value: 0x1000)
        #expect(d.register == 0xAB34_CD78)
    }

    /// Ports 0x2000 + n drive ISA IRQ line n.
    @Test func pcTestDeviceIRQLines() {
        let d = PCTestDevice()
        var seen: [(Int, Bool)] = []
        d.setIRQ = { seen.append(($0, $1)) }
        d.irqPorts.portWrite(offset: 5, size: 1, value: 1)
        d.irqPorts.portWrite(offset: 5, size: 1, value: 0)
        #expect(seen.map(\.0) == [5, 5] && seen.map(\.1) == [true, false])
    }

    /// The IORAM window behaves as memory, at every size and alignment.
    @Test func pcTestDeviceIORAM() {
        let m = PCTestDevice().ioMemoryWindow
        m.mmioWrite(offset: 0x10, size: 8, value: 0x0123_4567_89AB_CDEF)
        #expect(m.mmioRead(offset: 0x10, size: 8) == 0x0123_4567_89AB_CDEF)
        #expect(m.mmioRead(offset: 0x13, size: 2) == 0x6789)
        m.mmioWrite(offset: 0xFFFF, size: 1, value: 0x5A)
        #expect(m.mmioRead(offset: 0xFFFF, size: 1) == 0x5A)
        #expect(m.mmioRead(offset: 0x8000, size: 4) == 0)
    }

    /// fw_cfg: a key written to the selector, then the item's bytes one by one from the data
    /// port, first byte lowest; nothing past the end, and 0 for keys with no item.
    @Test func firmwareConfigItems() {
        let f = FirmwareConfig(ramSize: 128 << 20, cpus: 1)
        func read(_ key: UInt16, _ n: Int) -> UInt64 {
            f.portWrite(offset: 0, size: 2, value: UInt32(key))
            return (0..<n).reduce(0) { $0 | UInt64(f.portRead(offset: 1, size: 1)) << (8 * UInt64($1)) }
        }
        #expect(read(FirmwareConfig.Key.signature, 4) == 0x554D_4551) // "QEMU"
        #expect(read(FirmwareConfig.Key.ramSize, 8) == 128 << 20)
        #expect(read(FirmwareConfig.Key.cpuCount, 2) == 1)
        #expect(read(FirmwareConfig.Key.maxCPUs, 2) == 1)
        #expect(read(FirmwareConfig.Key.id, 4) & 1 == 1)
        #expect(read(0x1234, 4) == 0)
        // Past an item's end: zeros; selecting again rewinds.
        #expect(read(FirmwareConfig.Key.cpuCount, 4) == 1)
        #expect(read(FirmwareConfig.Key.signature, 1) == 0x51)
    }
}

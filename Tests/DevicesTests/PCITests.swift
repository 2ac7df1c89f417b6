import Devices
import Testing

/// PCI configuration mechanism #1 with a function that has BARs and capabilities, as the
/// virtio devices will (PCI Local Bus Specification 3.0, 6.2.5 and 6.7): BAR sizing by
/// writing all ones, a 64-bit BAR's two halves, the capability list, the interrupt line.
@Suite struct PCITests {
    /// Reads (or writes) a dword of 00:dev.0's configuration space at `reg`.
    func read(_ pci: PCIConfigurationSpace, _ dev: UInt32, _ reg: UInt32, size: Int = 4) -> UInt32 {
        pci.portWrite(offset: 0, size: 4, value: 0x8000_0000 | dev << 11 | reg & 0xFC)
        return pci.portRead(offset: 4 + UInt16(reg & 3), size: size)
    }
    func write(_ pci: PCIConfigurationSpace, _ dev: UInt32, _ reg: UInt32, _ v: UInt32, size: Int = 4) {
        pci.portWrite(offset: 0, size: 4, value: 0x8000_0000 | dev << 11 | reg & 0xFC)
        pci.portWrite(offset: 4 + UInt16(reg & 3), size: size, value: v)
    }

    func device() throws -> PCIConfigurationSpace {
        let pci = PCIConfigurationSpace()
        var d = PCIFunctionDescription(vendor: 0x1AF4, device: 0x1044, classCode: 0xFF_0000, revision: 1)
        d.subsystemVendor = 0x1AF4
        d.subsystem = 0x40
        d.bars = [PCIBar(index: 0, base: 0xFE00_0000, size: 0x4000, is64: true), PCIBar(index: 2, base: 0xFE10_0000, size: 0x1000)]
        d.interruptPin = 1
        d.interruptLine = 11
        d.capabilities = [(0x09, [16, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0]), (0x11, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0])]
        try pci.add(device: 3, d)
        return pci
    }

    @Test func barsSizeAndMove() throws {
        let pci = try device()
        #expect(read(pci, 3, 0) == 0x1044_1AF4 && read(pci, 3, 0x2C) == 0x0040_1AF4)
        #expect(read(pci, 3, 0x10) == 0xFE00_0004 && read(pci, 3, 0x14) == 0)   // 64-bit memory BAR
        #expect(pci.barAddress(device: 3, index: 0) == 0xFE00_0000)
        // Sizing: all ones, read the mask, restore.
        write(pci, 3, 0x10, ~0)
        write(pci, 3, 0x14, ~0)
        #expect(read(pci, 3, 0x10) == 0xFFFF_C004 && read(pci, 3, 0x14) == ~0)
        write(pci, 3, 0x10, 0xFE00_0000)
        write(pci, 3, 0x14, 0)
        #expect(pci.barAddress(device: 3, index: 0) == 0xFE00_0000)
        // A 32-bit BAR moved by a 16-bit write of its upper half; bits below its size stay 0.
        write(pci, 3, 0x18, ~0)
        #expect(read(pci, 3, 0x18) == 0xFFFF_F000)
        write(pci, 3, 0x18, 0xFE20_0123)
        write(pci, 3, 0x1A, 0xFE30, size: 2)
        #expect(pci.barAddress(device: 3, index: 2) == 0xFE30_0000)
        // A BAR no one uses reads 0, written or not.
        write(pci, 3, 0x20, ~0)
        #expect(read(pci, 3, 0x20) == 0 && pci.barAddress(device: 3, index: 4) == nil)
    }

    @Test func capabilitiesAndInterrupt() throws {
        let pci = try device()
        #expect(read(pci, 3, 0x04) >> 16 & 0x10 != 0)            // status: capability list
        var at = read(pci, 3, 0x34) & 0xFF, ids: [UInt32] = []
        while at != 0 {
            let header = read(pci, 3, at)
            ids.append(header & 0xFF)
            at = header >> 8 & 0xFF
        }
        #expect(ids == [0x09, 0x11])
        #expect(read(pci, 3, 0x40) == 0x0110_5009)               // ID 9, next 0x50, length 16, type 1
        write(pci, 3, 0x40, 0)                                    // read-only
        #expect(read(pci, 3, 0x40) == 0x0110_5009)
        #expect(read(pci, 3, 0x3C) & 0xFFFF == 0x010B)            // pin INTA, line 11
        #expect(throws: PCIError.occupied(device: 3)) { try pci.add(device: 3, PCIFunctionDescription(vendor: 1, device: 1, classCode: 0, revision: 0)) }
        var bad = PCIFunctionDescription(vendor: 1, device: 1, classCode: 0, revision: 0)
        bad.bars = [PCIBar(index: 5, base: 0, size: 0x1000, is64: true)]
        #expect(throws: PCIError.badBar(index: 5, size: 0x1000)) { try pci.add(device: 4, bad) }
    }
}

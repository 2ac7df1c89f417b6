import Devices
import Testing
import X86

/// The virtio PCI transport (virtio 1.2, 4.1) driven as Linux's virtio_pci_modern driver
/// drives it: the capabilities found in configuration space, feature negotiation, a queue set
/// up and enabled, a notification, the ISR and the INTx line; with the entropy device behind
/// it, whose bytes are the seeded generator's.
@Suite struct VirtioPCITests {
    typealias Memory = VirtqueueTests.Memory
    typealias Driver = VirtqueueTests.Driver

    /// A PCI configuration space with the function at device 3, read through ports 0xCF8/0xCFC.
    static func configuration(_ t: VirtioPCI) throws -> PCIConfigurationSpace {
        let pci = PCIConfigurationSpace()
        try pci.add(device: 3, t.pciFunction(barBase: 0xFE00_0000, irq: 11))
        return pci
    }

    static func config(_ pci: PCIConfigurationSpace, _ reg: Int, size: Int = 4) -> UInt32 {
        pci.portWrite(offset: 0, size: 4, value: 0x8000_0000 | 3 << 11 | UInt32(reg & ~3))
        return pci.portRead(offset: 4 + UInt16(reg & 3), size: size)
    }

    /// The IDs, the BAR, pin A and the four vendor capabilities with where each structure is.
    @Test func theFunctionDescribesItsStructures() throws {
        let t = VirtioPCI(device: VirtioRNG(seed: 1), memory: Memory())
        let pci = try Self.configuration(t)
        #expect(Self.config(pci, 0) == 0x1044_1AF4)                       // virtio, device 0x1040 + 4
        #expect(Self.config(pci, 0x2C) == 0x1100_1AF4)
        #expect(Self.config(pci, 0x10) == 0xFE00_0004)                    // 64-bit memory BAR 0
        #expect(Self.config(pci, 0x3C) & 0xFFFF == 0x010B)                // pin A, line 11
        var at = Int(Self.config(pci, 0x34, size: 1))
        var found: [UInt32: (offset: UInt32, length: UInt32, extra: UInt32)] = [:]
        while at != 0 {
            let head = Self.config(pci, at)
            #expect(head & 0xFF == 0x09)
            let type = (head >> 24) & 0xFF
            found[type] = (Self.config(pci, at + 8), Self.config(pci, at + 12), type == 2 ? Self.config(pci, at + 16) : 0)
            at = Int((head >> 8) & 0xFF)
        }
        #expect(found[1]?.offset == 0 && found[3]?.offset == 0x1000 && found[4]?.offset == 0x2000)
        #expect(found[2]?.offset == 0x3000 && found[2]?.extra == 4)
    }

    /// Negotiation: FEATURES_OK sticks only for offered features with VERSION_1; a reset
    /// clears everything.
    @Test func featureNegotiation() {
        let t = VirtioPCI(device: VirtioRNG(seed: 1), memory: Memory())
        t.mmioWrite(offset: 0x00, size: 4, value: 1)
        #expect(t.mmioRead(offset: 0x04, size: 4) & 1 == 1)              // VERSION_1 (bit 32)
        t.mmioWrite(offset: 0x14, size: 1, value: UInt64(VirtioStatus.acknowledge | VirtioStatus.driver))
        // Without VERSION_1: refused.
        t.mmioWrite(offset: 0x14, size: 1, value: UInt64(VirtioStatus.acknowledge | VirtioStatus.driver | VirtioStatus.featuresOK))
        #expect(t.mmioRead(offset: 0x14, size: 1) & UInt64(VirtioStatus.featuresOK) == 0)
        // An unoffered bit: refused too.
        t.mmioWrite(offset: 0x08, size: 4, value: 1)
        t.mmioWrite(offset: 0x0C, size: 4, value: 1)
        t.mmioWrite(offset: 0x08, size: 4, value: 0)
        t.mmioWrite(offset: 0x0C, size: 4, value: 1 << 5)
        t.mmioWrite(offset: 0x14, size: 1, value: UInt64(VirtioStatus.acknowledge | VirtioStatus.driver | VirtioStatus.featuresOK))
        #expect(t.mmioRead(offset: 0x14, size: 1) & UInt64(VirtioStatus.featuresOK) == 0)
        t.mmioWrite(offset: 0x0C, size: 4, value: UInt64(VirtioFeature.eventIndex))
        t.mmioWrite(offset: 0x14, size: 1, value: UInt64(VirtioStatus.acknowledge | VirtioStatus.driver | VirtioStatus.featuresOK))
        #expect(t.mmioRead(offset: 0x14, size: 1) & UInt64(VirtioStatus.featuresOK) != 0)
        #expect(t.driverFeatures == VirtioFeature.version1 | VirtioFeature.eventIndex)
        t.mmioWrite(offset: 0x14, size: 1, value: 0)
        #expect(t.status == 0 && t.driverFeatures == 0)
    }

    /// Sets up queue 0 of `t` on `d`'s rings (two 32-bit halves for each address, as Linux
    /// writes them), enables it and sets DRIVER_OK.
    static func bringUp(_ t: VirtioPCI, _ d: Driver) {
        t.mmioWrite(offset: 0x08, size: 4, value: 1)
        t.mmioWrite(offset: 0x0C, size: 4, value: 1)
        t.mmioWrite(offset: 0x14, size: 1, value: UInt64(VirtioStatus.acknowledge | VirtioStatus.driver | VirtioStatus.featuresOK))
        t.mmioWrite(offset: 0x16, size: 2, value: 0)
        #expect(t.mmioRead(offset: 0x18, size: 2) == UInt64(t.device.queueMaxSize))
        t.mmioWrite(offset: 0x18, size: 2, value: UInt64(d.size))
        for (field, gpa) in [(0x20, Driver.table), (0x28, Driver.available), (0x30, Driver.used)] {
            t.mmioWrite(offset: UInt64(field), size: 4, value: gpa & 0xFFFF_FFFF)
            t.mmioWrite(offset: UInt64(field + 4), size: 4, value: gpa >> 32)
        }
        t.mmioWrite(offset: 0x1C, size: 2, value: 1)
        t.mmioWrite(offset: 0x14, size: 1, value: UInt64(VirtioStatus.acknowledge | VirtioStatus.driver | VirtioStatus.featuresOK | VirtioStatus.driverOK))
    }

    /// A request for 20 bytes gets the generator's first 20, through the used ring, with an
    /// interrupt that reading the ISR clears.
    @Test func entropyThroughTheQueue() throws {
        var d = Driver()
        let t = VirtioPCI(device: VirtioRNG(seed: 42), memory: d.memory)
        var line: [Bool] = []
        t.setInterruptLine = { line.append($0) }
        Self.bringUp(t, d)
        d.descriptor(0, 0x8000, 20, Virtqueue.Flag.write)
        d.makeAvailable(0)
        t.mmioWrite(offset: VirtioPCI.Layout.notify, size: 2, value: 0)
        var rng = SplitMix64(seed: 42)
        let expected = (0..<3).flatMap { _ in withUnsafeBytes(of: rng.next().littleEndian, Array.init) }.prefix(20)
        #expect(Array(d.memory.bytes[0x8000..<0x8014]) == Array(expected))
        #expect(d.memory.get(Driver.used + 2, 2) == 1 && d.memory.get(Driver.used + 8, 4) == 20)
        #expect(line == [true])
        #expect(t.mmioRead(offset: VirtioPCI.Layout.isr, size: 1) == 1)
        #expect(t.mmioRead(offset: VirtioPCI.Layout.isr, size: 1) == 0)
        #expect(line == [true, false])
    }

    /// A hostile queue (a descriptor index past the table): the device needs a reset, says so
    /// with a configuration interrupt, keeps the error, and ignores notifications until reset.
    @Test func aHostileQueueNeedsAReset() throws {
        var d = Driver()
        let t = VirtioPCI(device: VirtioRNG(seed: 1), memory: d.memory)
        Self.bringUp(t, d)
        d.descriptor(0, 0x8000, 8, Virtqueue.Flag.write | Virtqueue.Flag.next, next: 99)
        d.makeAvailable(0)
        t.mmioWrite(offset: VirtioPCI.Layout.notify, size: 2, value: 0)
        #expect(t.lastError == .descriptorIndex(99, tableSize: 8))
        #expect(t.status & VirtioStatus.needsReset != 0)
        #expect(t.mmioRead(offset: VirtioPCI.Layout.isr, size: 1) == 2)
        t.mmioWrite(offset: 0x14, size: 1, value: 0)
        #expect(t.status == 0 && t.queues[0] == nil)
    }
}

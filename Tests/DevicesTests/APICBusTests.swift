import Devices
import Testing

/// Interrupt messages between local APICs (SDM vol. 3, 11.6): who a message reaches by its
/// shorthand, physical or logical destination (flat and cluster models, x2APIC), lowest
/// priority's deterministic choice, and the messages the SDM says do nothing.
@Suite struct APICBusTests {
    /// Four local APICs (IDs 0-3) on a bus, software-enabled; each records what it received.
    final class Bus {
        let bus = APICBus()
        var apics: [LocalAPIC] = []
        var inits: [Int] = [], startups: [(Int, UInt8)] = [], nmis: [Int] = []

        init(count: Int = 4, x2APIC: Bool = false) {
            for i in 0..<count {
                let a = LocalAPIC(clock: GuestClock(), busFrequency: 25_000_000)
                a.initialID = UInt32(i)
                if x2APIC {
                    #expect(a.setBase(enabled: true, x2APIC: true))
                    #expect(a.writeMSR(0x80F, 0x1FF))
                } else {
                    a.mmioWrite(offset: 0xF0, size: 4, value: 0x1FF)
                }
                a.onINIT = { [unowned self] in inits.append(i) }
                a.onStartup = { [unowned self] v in startups.append((i, v)) }
                a.onNMI = { [unowned self] in nmis.append(i) }
                bus.attach(a)
                apics.append(a)
            }
        }

        /// Sends an xAPIC ICR value from APIC `from`.
        func send(from: Int, high: UInt32, low: UInt32) {
            apics[from].mmioWrite(offset: 0x310, size: 4, value: UInt64(high))
            apics[from].mmioWrite(offset: 0x300, size: 4, value: UInt64(low))
        }

        /// Which APICs hold `vector` in their IRR (and take it).
        func took(_ vector: UInt8) -> [Int] {
            apics.indices.filter { i in
                guard apics[i].deliverableVector == vector else { return false }
                _ = apics[i].acknowledge()
                if apics[i].x2APIC { _ = apics[i].writeMSR(0x80B, 0) } else { apics[i].mmioWrite(offset: 0xB0, size: 4, value: 0) }
                return true
            }
        }
    }

    @Test func shorthandsAndPhysicalDestinations() {
        let b = Bus()
        b.send(from: 1, high: 0, low: 1 << 18 | 0x40)      // self
        #expect(b.took(0x40) == [1])
        b.send(from: 1, high: 0, low: 2 << 18 | 0x41)      // all including self
        #expect(b.took(0x41) == [0, 1, 2, 3])
        b.send(from: 1, high: 0, low: 3 << 18 | 0x42)      // all excluding self
        #expect(b.took(0x42) == [0, 2, 3])
        b.send(from: 0, high: 2 << 24, low: 0x43)          // physical APIC ID 2
        #expect(b.took(0x43) == [2])
        b.send(from: 0, high: 0xFF << 24, low: 0x44)       // physical broadcast
        #expect(b.took(0x44) == [0, 1, 2, 3])
        b.send(from: 0, high: 9 << 24, low: 0x45)          // no such APIC: nobody
        #expect(b.took(0x45) == [])
    }

    @Test func logicalDestinationsFlatAndCluster() {
        let b = Bus()
        // Flat model (DFR all ones): logical ID 1 << APIC ID; destination 0x0A names APICs 1 and 3.
        for (i, a) in b.apics.enumerated() { a.mmioWrite(offset: 0xD0, size: 4, value: UInt64(1 << i) << 24) }
        b.send(from: 0, high: 0x0A << 24, low: 1 << 11 | 0x50)
        #expect(b.took(0x50) == [1, 3])
        // Cluster model (DFR 0x0FFFFFFF): cluster in bits 7:4, members in 3:0. APICs 0 and 1 in
        // cluster 1, APICs 2 and 3 in cluster 2, each with member bit 1 << (ID & 1).
        for (i, a) in b.apics.enumerated() {
            a.mmioWrite(offset: 0xE0, size: 4, value: 0x0FFF_FFFF)
            a.mmioWrite(offset: 0xD0, size: 4, value: UInt64((1 + i / 2) << 4 | 1 << (i & 1)) << 24)
        }
        b.send(from: 0, high: 0x23 << 24, low: 1 << 11 | 0x51)  // cluster 2, both members
        #expect(b.took(0x51) == [2, 3])
        b.send(from: 0, high: 0x12 << 24, low: 1 << 11 | 0x52)  // cluster 1, member 1
        #expect(b.took(0x52) == [1])
        b.send(from: 0, high: 0xF1 << 24, low: 1 << 11 | 0x53)  // every cluster, member 0
        #expect(b.took(0x53) == [0, 2])
    }

    /// x2APIC: 32-bit destinations; the logical ID is the cluster (ID >> 4) in bits 31:16 and
    /// bit ID & 15 below.
    @Test func x2APICDestinations() {
        let b = Bus(x2APIC: true)
        #expect(b.apics[0].writeMSR(0x830, 3 << 32 | 0x60))
        #expect(b.took(0x60) == [3])
        #expect(b.apics[0].writeMSR(0x830, 0x0000_0006 << 32 | 1 << 11 | 0x61))  // cluster 0, IDs 1 and 2
        #expect(b.took(0x61) == [1, 2])
        #expect(b.apics[0].writeMSR(0x830, 0xFFFF_FFFF << 32 | 0x62))
        #expect(b.took(0x62) == [0, 1, 2, 3])
    }

    /// Lowest priority goes to one APIC: the lowest processor priority, then the lowest index.
    @Test func lowestPriorityIsADeterministicChoice() {
        let b = Bus()
        b.send(from: 0, high: 0xFF << 24, low: 1 << 8 | 0x70)
        #expect(b.took(0x70) == [0])
        b.apics[0].mmioWrite(offset: 0x80, size: 4, value: 0x20)
        b.apics[1].mmioWrite(offset: 0x80, size: 4, value: 0x10)
        b.send(from: 0, high: 0xFF << 24, low: 1 << 8 | 0x71)
        #expect(b.took(0x71) == [2])
    }

    /// INIT, STARTUP and NMI reach the machine; INIT level de-assert, the reserved delivery
    /// mode 3 and a fixed vector below 16 (not sent: ESR bit 5, send illegal vector) do nothing.
    @Test func systemMessagesAndMalformedOnes() {
        let b = Bus()
        b.send(from: 0, high: 0, low: 3 << 18 | 1 << 14 | 5 << 8)            // INIT assert
        b.send(from: 0, high: 0, low: 3 << 18 | 1 << 15 | 5 << 8)            // INIT level de-assert
        #expect(b.inits == [1, 2, 3])
        b.send(from: 0, high: 2 << 24, low: 1 << 14 | 6 << 8 | 0x9A)         // STARTUP
        #expect(b.startups.map(\.0) == [2] && b.startups.map(\.1) == [0x9A])
        b.send(from: 3, high: 0, low: 4 << 8)                                 // NMI to APIC ID 0
        #expect(b.nmis == [0])
        b.send(from: 0, high: 1 << 24, low: 3 << 8 | 0x80)                   // reserved mode
        #expect(b.took(0x80) == [])
        b.send(from: 0, high: 1 << 24, low: 0x05)                            // illegal vector
        b.apics[0].mmioWrite(offset: 0x280, size: 4, value: 0)
        #expect(b.apics[0].mmioRead(offset: 0x280, size: 4) & 1 << 5 != 0)
        #expect(b.apics[1].mmioRead(offset: 0x200, size: 4) == 0)
    }
}

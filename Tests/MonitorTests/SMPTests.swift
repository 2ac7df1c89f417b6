import FixtureSupport
import Foundation
import GuestMemory
import Testing
import VMM
import Monitor
import X86

/// Several vCPUs on one thread: the SMP fixture guest runs the same way every time (output,
/// each vCPU's instruction count, the order of turns), its configuration survives its text
/// form, and the firmware tables describe every vCPU.
@Suite struct SMPTests {
    struct Outcome: Equatable {
        var output: [UInt8]
        var stop: MachineStop
        var perVCPU: [UInt64]
        var switches: [Int]
    }

    /// Records which vCPU each turn went to.
    final class Turns: MachineObserver {
        var order: [Int] = []
        func exit(_ exit: VMExit, icount: UInt64, rip: UInt64) {}
        func fault(gpa: GuestPhysicalAddress, access: AccessType, outcome: NestedFaultOutcome, icount: UInt64) {}
        func input(_ input: ExternalInput) {}
        func switched(to vcpu: Int, icount: UInt64) { order.append(vcpu) }
    }

    static func run(quantum: UInt64? = nil) throws -> Outcome {
        let guest = try FixtureGuest("smp")
        var config = guest.configuration
        if let quantum { config.quantum = quantum }
        config.maxInstructions = 50_000_000
        let host = try HostPhysicalMemory(frames: 32768)
        var output: [UInt8] = []
        let machine = try Machine(configuration: config, host: host) { output.append($0) }
        let turns = Turns()
        machine.observer = turns
        try machine.boot(image: guest.image)
        let stop = machine.run()
        let outcome = Outcome(output: output, stop: stop, perVCPU: machine.vcpus.map(\.retired), switches: turns.order)
        #expect(machine.icount == outcome.perVCPU.reduce(0, +))
        machine.teardown()
        #expect(host.liveFrames == 0)
        return outcome
    }

    @Test func theSMPGuestRunsTheSameWayTwice() throws {
        let a = try SMPTests.run(), b = try SMPTests.run()
        #expect(a.stop == .debugExit(code: 0))
        #expect(a.perVCPU.count == 4 && a.perVCPU.allSatisfy { $0 > 0 })
        #expect(a == b)
        #expect(Set(a.switches) == [0, 1, 2, 3])
    }

    /// Another quantum interleaves the vCPUs differently, and the guest's checks still hold.
    @Test func anotherQuantumGivesTheSameChecks() throws {
        let a = try SMPTests.run(), b = try SMPTests.run(quantum: 997)
        #expect(a.output == b.output && b.stop == a.stop)
        #expect(b.switches.count > a.switches.count)
    }

    @Test func configurationKeepsTheVCPUsAndQuantum() throws {
        var c = MachineConfiguration()
        #expect(!c.encoded.contains("smp"))
        c.processors = 8
        c.quantum = 1234
        let back = try MachineConfiguration(encoded: c.encoded)
        #expect(back.processors == 8 && back.quantum == 1234)
        c.apicAccessTime = 250
        #expect(try MachineConfiguration(encoded: c.encoded).apicAccessTime == 250)
        #expect(!c.encoded.contains("virtio"))
        c.virtioRNG = true
        #expect(try MachineConfiguration(encoded: c.encoded).virtioRNG)
        #expect(try c.memoryMap().ranges.contains { $0.kind == .mmio && $0.base.rawValue == MachineConfiguration.virtioBase })
        // Shares, serial ports and the RTC's start come back; their defaults write nothing.
        #expect(!c.encoded.contains("share") && !c.encoded.contains("serial-ports") && !c.encoded.contains("rtc"))
        c.shares = [.init(tag: "hostroot", readOnly: true), .init(tag: "work", readOnly: false)]
        c.serialPorts = 3
        c.rtcEpoch = 1_796_000_000
        let shared = try MachineConfiguration(encoded: c.encoded)
        #expect(shared.shares == c.shares && shared.serialPorts == 3 && shared.rtcEpoch == 1_796_000_000)
        #expect(try c.memoryMap().ranges.filter { $0.kind == .mmio && $0.base.rawValue >= MachineConfiguration.virtioBase && $0.base.rawValue < 0xFEB0_0000 }.count == 3)
        #expect(throws: ConfigurationError.self) { try MachineConfiguration(encoded: "share=tag,maybe") }
        #expect(throws: ConfigurationError.self) { try MachineConfiguration(encoded: "serial-ports=5") }
        #expect(throws: ConfigurationError.self) { try MachineConfiguration(encoded: "smp=65") }
        #expect(throws: ConfigurationError.self) { try MachineConfiguration(encoded: "quantum=0") }
    }

    /// With PCI devices the DSDT describes the host bridge (\_SB.PCI0, PNP0A03) with _CRS and a
    /// _PRT entry per slot; its AML package lengths are as the specification encodes them
    /// (20.2.4), and every table's checksum still holds. Without, the tables are as before.
    @Test func theDSDTDescribesThePCIBus() {
        #expect(ACPITables.packageLength(0x3E) == [0x3F])
        #expect(ACPITables.packageLength(0x3F) == [0x41, 0x04])          // 0x41: 1 more byte; 0x41 total
        #expect(ACPITables.packageLength(0x1000) == [0x83, 0x00, 0x01])   // 0x1003 in 2 more bytes
        let plain = ACPITables.build(processors: 2), pci = ACPITables.build(processors: 2, pci: [(3, 11), (4, 10)])
        func u32(_ b: [UInt8], _ at: Int) -> Int { (0..<4).reduce(0) { $0 | Int(b[at + $1]) << (8 * $1) } }
        let dsdt = u32(pci, 0x80 + 40) - Int(ACPITables.base), length = u32(pci, dsdt + 4)
        #expect(Array(pci[dsdt..<dsdt + 4]) == Array("DSDT".utf8))
        #expect(pci[dsdt..<dsdt + length].reduce(0) { $0 &+ $1 } == 0)
        let aml = Array(pci[dsdt + 36..<dsdt + length])
        func find(_ s: String) -> Int? {
            let n = Array(s.utf8)
            return (0...aml.count - n.count).first { Array(aml[$0..<$0 + n.count]) == n }
        }
        #expect(find("_SB_") != nil && find("PCI0") != nil && find("_CRS") != nil && find("_PRT") != nil)
        // _HID EISAID("PNP0A03"), and the two slots' entries: address 0x0003FFFF and 0x0004FFFF.
        #expect(find("_HID").map { Array(aml[$0 + 4..<$0 + 9]) } == [0x0C, 0x41, 0xD0, 0x0A, 0x03])
        let slot3: [UInt8] = [0x0C, 0xFF, 0xFF, 0x03, 0x00], slot4: [UInt8] = [0x0C, 0xFF, 0xFF, 0x04, 0x00]
        #expect((0...aml.count - 5).contains { Array(aml[$0..<$0 + 5]) == slot3 })
        #expect((0...aml.count - 5).contains { Array(aml[$0..<$0 + 5]) == slot4 })
        // After \_S3 and \_S5, Scope (\_SB): its package length covers the rest of the table.
        #expect(aml[28] == 0x10)
        let lead = Int(aml[29]), extra = lead >> 6
        let scopeLength = extra == 0 ? lead & 0x3F : (0..<extra).reduce(lead & 0xF) { $0 | Int(aml[30 + $1]) << (4 + 8 * $1) }
        #expect(29 + scopeLength == aml.count)
        #expect(u32(plain, 0x80 + 40) == Int(ACPITables.base) + 0x140)
    }

    /// The MADT (ACPI 6.5, 5.2.12) lists a local APIC per vCPU, the IOAPIC, ISA IRQ 0 on GSI 2
    /// and LINT1 as NMI, and its checksum holds; with one vCPU the RSDT lists the FADT only.
    @Test func theMADTDescribesEveryVCPU() {
        let one = ACPITables.build(processors: 1)
        #expect(one[0x44] == 40)                                       // RSDT length: one entry
        let b = ACPITables.build(processors: 3)
        let rsdt = 0x40, madt = (Int(b[rsdt + 40]) | Int(b[rsdt + 41]) << 8 | Int(b[rsdt + 42]) << 16) - Int(ACPITables.base)
        #expect(String(decoding: b[madt..<madt + 4], as: UTF8.self) == "APIC")
        let length = Int(b[madt + 4]) | Int(b[madt + 5]) << 8
        #expect(b[madt..<madt + length].reduce(UInt8(0), &+) == 0)
        var at = madt + 44, lapics: [UInt8] = [], ioapics = 0, overrides: [(UInt8, UInt8)] = [], nmi = false
        while at < madt + length {
            switch b[at] {
            case 0: lapics.append(b[at + 3]); #expect(b[at + 4] & 1 == 1)
            case 1: ioapics += 1
            case 2: overrides.append((b[at + 3], b[at + 4]))
            case 4: nmi = b[at + 5] == 1
            default: Issue.record("unexpected MADT structure \(b[at])")
            }
            at += Int(b[at + 1])
        }
        #expect(lapics == [0, 1, 2] && ioapics == 1 && nmi)
        #expect(overrides.contains { $0 == (0, 2) })
    }
}

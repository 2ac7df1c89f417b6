import Devices
import Testing

/// The local APIC's x2APIC MSRs and its self-NMI, as kvm-unit-tests' msr.c and eventinj.c
/// drive them.
@Suite struct LocalAPICTests {
    func x2APIC() -> LocalAPIC {
        let apic = LocalAPIC(clock: GuestClock(), busFrequency: 25_000_000)
        #expect(apic.setBase(enabled: true, x2APIC: true))
        return apic
    }

    /// The version register reports six LVT entries (MaxLVT 5): LVT CMCI (MSR 0x82F) does not
    /// exist in x2APIC mode; SELF IPI's bits 31:8 are reserved.
    @Test func x2APICRegisterSemantics() {
        let apic = x2APIC()
        #expect(apic.readMSR(0x803).map { ($0 >> 16) & 0xFF } == 5)
        #expect(apic.readMSR(0x82F) == nil)
        #expect(!apic.writeMSR(0x82F, 0))
        #expect(!apic.writeMSR(0x83F, 0x100))
        #expect(!apic.writeMSR(0x83F, 0xFF00_0000))
        #expect(apic.writeMSR(0x83F, 0x40))
    }

    /// An NMI sent to itself through the ICR (delivery mode 4) reaches the machine.
    @Test func selfNMIThroughTheICR() {
        let apic = x2APIC()
        var nmis = 0
        apic.onNMI = { nmis += 1 }
        #expect(apic.writeMSR(0x830, 1 << 18 | 4 << 8))   // shorthand self, NMI
        #expect(nmis == 1)
        #expect(apic.writeMSR(0x830, 0x20 | 3 << 18 | 4 << 8))  // all but self: no one here
        #expect(nmis == 1)
    }
}

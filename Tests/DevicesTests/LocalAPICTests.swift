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

    /// IA32_APIC_BASE's transitions (SDM vol. 3, 11.12.5): from disabled only to xAPIC mode,
    /// from x2APIC only to disabled; the xAPIC page of a disabled APIC, or of one in x2APIC
    /// mode, answers nothing (reads all ones, 11.4.3 and 11.12.1.2), as kvm-unit-tests' apic.c
    /// checks.
    @Test func baseTransitionsAndTheAbsentPage() {
        let apic = LocalAPIC(clock: GuestClock(), busFrequency: 25_000_000)
        #expect(apic.mmioRead(offset: 0x30, size: 4) == 0x0005_0014)
        #expect(apic.setBase(enabled: false, x2APIC: false))
        #expect(apic.mmioRead(offset: 0x30, size: 4) == ~0)
        apic.mmioWrite(offset: 0x80, size: 4, value: 0x20)
        #expect(!apic.setBase(enabled: true, x2APIC: true))      // disabled straight to x2APIC
        #expect(apic.setBase(enabled: true, x2APIC: false))
        #expect(apic.mmioRead(offset: 0x80, size: 4) == 0)        // the write went nowhere
        #expect(apic.setBase(enabled: true, x2APIC: true))
        #expect(apic.mmioRead(offset: 0x30, size: 4) == ~0)
        #expect(!apic.setBase(enabled: true, x2APIC: false))     // x2APIC straight back to xAPIC
        #expect(!apic.setBase(enabled: false, x2APIC: true))
        #expect(apic.setBase(enabled: false, x2APIC: false))
    }

    /// Between one-shot and periodic the count runs on (periodic then reloads it at zero, an
    /// expired one-shot stays at zero); into TSC-deadline mode disarms the timer (SDM vol. 3,
    /// 11.5.4.1), as kvm-unit-tests' apic.c test_apic_change_mode checks.
    @Test func timerModeChanges() {
        let clock = GuestClock()
        let apic = LocalAPIC(clock: clock, busFrequency: 1_000_000_000)
        apic.mmioWrite(offset: 0x3E0, size: 4, value: 0xB)             // divide by 1: a count a nanosecond
        apic.mmioWrite(offset: 0x320, size: 4, value: 0x40)            // one-shot, vector 0x40
        apic.mmioWrite(offset: 0x380, size: 4, value: 1000)
        clock.now = 600
        #expect(apic.mmioRead(offset: 0x390, size: 4) == 400)
        apic.mmioWrite(offset: 0x320, size: 4, value: 0x40 | 1 << 17) // periodic
        #expect(apic.mmioRead(offset: 0x390, size: 4) == 400)
        clock.now = 1100
        apic.advance()
        #expect(apic.mmioRead(offset: 0x390, size: 4) == 900)           // reloaded at 1000
        apic.mmioWrite(offset: 0x320, size: 4, value: 0x40)            // one-shot again
        clock.now = 2000
        apic.advance()
        #expect(apic.mmioRead(offset: 0x390, size: 4) == 0)
        apic.mmioWrite(offset: 0x320, size: 4, value: 0x40 | 1 << 17)
        #expect(apic.mmioRead(offset: 0x390, size: 4) == 0)             // stays at zero
        apic.mmioWrite(offset: 0x380, size: 4, value: 1000)
        apic.mmioWrite(offset: 0x320, size: 4, value: 0x40 | 2 << 17)  // TSC deadline
        #expect(apic.mmioRead(offset: 0x390, size: 4) == 0)
        #expect(apic.nextEvent() == nil)
    }

    /// The xAPIC ID is writable; the x2APIC ID is the initial APIC ID whatever was written,
    /// and so is the xAPIC ID once the APIC is enabled again (SDM vol. 3, 11.12.5.1), as
    /// kvm-unit-tests' apic.c test_apic_id checks.
    @Test func initialAPICIDComesBack() {
        let apic = LocalAPIC(clock: GuestClock(), busFrequency: 25_000_000)
        apic.initialID = 3
        #expect(apic.mmioRead(offset: 0x20, size: 4) == 3 << 24)
        apic.mmioWrite(offset: 0x20, size: 4, value: 4 << 24)
        #expect(apic.mmioRead(offset: 0x20, size: 4) == 4 << 24)
        #expect(apic.setBase(enabled: true, x2APIC: true))
        #expect(apic.readMSR(0x802) == 3)
        #expect(!apic.writeMSR(0x802, 4))
        #expect(apic.setBase(enabled: false, x2APIC: false))
        #expect(apic.setBase(enabled: true, x2APIC: false))
        #expect(apic.mmioRead(offset: 0x20, size: 4) == 3 << 24)
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

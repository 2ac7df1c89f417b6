import GuestMemory
import Testing
import VMM
import Monitor
import X86
import X86CPU

/// ACPI S3: a boot sector writes its waking vector into the FACS, lets the RTC alarm wake the
/// machine (alarm every second, AIE, PM1_EN.RTC_EN), marks memory and writes SLP_TYP 1 with
/// SLP_EN. The machine must sleep at that write (the instruction after it never runs), keep
/// RAM, wake at the next whole second of guest time and start in real mode at the vector,
/// where the code reports PM1_STS's high byte (WAK_STS and RTC_STS) through the debug exit.
struct SuspendTests {
    static let sleeper: [UInt8] = [
        0xB8, 0x10, 0xE0,                                           // mov ax, 0xE010 (the FACS)
        0x8E, 0xC0,                                                 // mov es, ax
        0x66, 0x26, 0xC7, 0x06, 0x0C, 0x00, 0x00, 0x7E, 0x00, 0x00, // mov dword es:[0xC], 0x7E00
        0xBA, 0x02, 0x06, 0xB8, 0x00, 0x04, 0xEF,                   // PM1_EN = RTC_EN
        0xB0, 0x01, 0xE6, 0x70, 0xB0, 0xC0, 0xE6, 0x71,             // alarm seconds: any
        0xB0, 0x03, 0xE6, 0x70, 0xB0, 0xC0, 0xE6, 0x71,             // minutes: any
        0xB0, 0x05, 0xE6, 0x70, 0xB0, 0xC0, 0xE6, 0x71,             // hours: any
        0xB0, 0x0B, 0xE6, 0x70, 0xB0, 0x22, 0xE6, 0x71,             // register B: AIE, 24-hour
        0xC6, 0x06, 0x00, 0x05, 0x11,                               // mov byte [0x500], 0x11
        0xBA, 0x04, 0x06, 0xB8, 0x00, 0x24, 0xEF,                   // PM1_CNT = SLP_TYP 1 | SLP_EN
        0xC6, 0x06, 0x00, 0x05, 0x22,                               // mov byte [0x500], 0x22 (never)
        0xEB, 0xFE,                                                 // jmp $
    ]
    /// At 0x7E00: PM1_STS's high byte to the debug exit.
    static let resume: [UInt8] = [0xBA, 0x01, 0x06, 0xEC, 0xE6, 0xF4, 0xF4] // mov dx, 0x601; in al, dx; out 0xf4, al; hlt

    @Test func resumesAtTheWakingVector() throws {
        var image = Self.sleeper + [UInt8](repeating: 0x90, count: 0x200 - Self.sleeper.count)
        image += Self.resume
        var config = MachineConfiguration()
        config.maxInstructions = 10_000_000
        let host = try HostPhysicalMemory(frames: 4096)
        let machine = try Machine(configuration: config, host: host) { _ in }
        try machine.boot(image: image)
        let stop = machine.run()
        #expect(stop == .debugExit(code: 0x84))                            // WAK_STS | RTC_STS
        #expect(machine.vm.readPhysical(0x500, count: 1) == [0x11])
        #expect(machine.vcpu.segment(.cs).selector == 0x7E0 && machine.vcpu.mode == .bits16 && machine.vcpu.getState(.controlRegisters).cr0 & CR0Bit.pe == 0)
        #expect(machine.icount < 100)
        #expect(machine.vcpu.nanoseconds >= 1_000_000_000)                 // the next whole second
        machine.teardown()
        #expect(host.liveFrames == 0)
    }

    /// Without a wake event enabled the machine sleeps for good: the run ends as a halt.
    @Test func sleepsForGoodWithoutAWakeEvent() throws {
        var image = Self.sleeper
        image.replaceSubrange(15..<22, with: [UInt8](repeating: 0x90, count: 7)) // no RTC_EN
        var config = MachineConfiguration()
        config.maxInstructions = 10_000_000
        let host = try HostPhysicalMemory(frames: 4096)
        let machine = try Machine(configuration: config, host: host) { _ in }
        try machine.boot(image: image)
        #expect(machine.run() == .halted(interruptsEnabled: false))
        machine.teardown()
    }
}

import FixtureSupport
import Foundation
import GuestMemory
import Testing
@_spi(Testing) import VMM
import Monitor

/// Every fixture guest in Fixtures/guests/NAME/NAME.bin runs in softvmm; its serial output and
/// exit status must equal what QEMU's TCG produced (NAME.expected, NAME.status, made by
/// Fixtures/guests/expect.sh), and teardown must leave no host frame live.
@Suite struct FixtureGuests {
    static var directory: URL { FixtureGuest.directory }
    static var names: [String] { FixtureGuest.names }

    struct Run {
        var output: String
        var stop: MachineStop
        var liveFrames: Int
        var mmioAssists: Int
        var deviceAccesses: UInt64
        var instructions: UInt64
        var interrupts: Int
    }

    /// Runs a guest (with the `softvmm run` options in NAME.options, if any); returns its serial
    /// output, the stop, the frames live after teardown and the MMIO traffic.
    static func run(_ name: String, maxInstructions: UInt64 = 200_000_000, options: Bool = true) throws -> Run {
        let guest = try FixtureGuest(name, options: options)
        var config = guest.configuration
        config.maxInstructions = maxInstructions
        let host = try HostPhysicalMemory(frames: 32768)
        var output: [UInt8] = []
        let machine = try Machine(configuration: config, host: host) { output.append($0) }
        try machine.boot(image: guest.image)
        let stop = machine.run()
        let assists = machine.mmioOperations, device = machine.testDevice.reads + machine.testDevice.writes
        let instructions = machine.icount, interrupts = machine.interruptsDelivered
        machine.teardown()
        return Run(output: String(decoding: output, as: UTF8.self), stop: stop, liveFrames: host.liveFrames,
                   mmioAssists: assists, deviceAccesses: device, instructions: instructions, interrupts: interrupts)
    }

    @Test func thereAreFixtureGuests() {
        #expect(FixtureGuests.names.count >= 1)
    }

    @Test(arguments: FixtureGuests.names)
    func matchesQEMU(_ name: String) throws {
        let dir = FixtureGuests.directory.appendingPathComponent(name)
        let expected = try String(contentsOf: dir.appendingPathComponent("\(name).expected"), encoding: .utf8)
        let status = Int32(try String(contentsOf: dir.appendingPathComponent("\(name).status"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines))
        let run = try FixtureGuests.run(name)
        let (output, stop, live) = (run.output, run.stop, run.liveFrames)
        // Line by line, so a failure names the first check that differs.
        let ours = output.split(separator: "\n", omittingEmptySubsequences: false)
        let theirs = expected.split(separator: "\n", omittingEmptySubsequences: false)
        for (i, line) in theirs.enumerated() {
            let got = i < ours.count ? String(ours[i]) : "<no output: \(stop)>"
            try #require(got == String(line), "\(name): serial line \(i + 1) differs from QEMU's")
        }
        #expect(ours.count == theirs.count, "\(name): \(ours.count) lines, QEMU printed \(theirs.count)")
        #expect(stop.status == status, "\(name): \(stop), QEMU's status was \(status.map(String.init) ?? "?")")
        #expect(live == 0, "\(name): \(live) host frames live after teardown")
    }

    /// Guest time is the instruction count: a guest driven by timer interrupts gives the same
    /// output, instruction count and interrupt count every time.
    @Test(arguments: ["pit", "apic", "platform", "serial", "smp"])
    func interruptDrivenGuestsAreDeterministic(_ name: String) throws {
        let a = try FixtureGuests.run(name), b = try FixtureGuests.run(name)
        #expect(a.interrupts > 0, "\(name) took no interrupts")
        #expect(a.output == b.output)
        #expect(a.instructions == b.instructions, "\(a.instructions) then \(b.instructions) instructions")
        #expect(a.interrupts == b.interrupts)
    }

    /// The APIC guest with the x2APIC and the TSC-deadline timer that QEMU's TCG lacks (its
    /// options hide them for the comparison): the same output plus what the SDM says those
    /// sections print (vol. 3, 11.5.4.1: the deadline reads 0 once it fired; 11.12: the
    /// x2APIC ID is the APIC ID, SELF IPI delivers, RDMSR of the write-only EOI register and
    /// a direct x2APIC-to-xAPIC switch are #GP).
    @Test func apicGuestWithX2APICAndTSCDeadline() throws {
        let expected = try String(contentsOf: FixtureGuests.directory.appendingPathComponent("apic/apic.expected"), encoding: .utf8)
        var lines = expected.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let masked = try #require(lines.firstIndex { $0.hasPrefix("masked timer interrupts") })
        lines.insert("TSC deadline after it fired: 00000000", at: masked + 1)
        let done = try #require(lines.firstIndex { $0.hasPrefix("apic: all checks ran") })
        lines.insert(contentsOf: ["x2APIC ID: 00000000", "x2APIC self-IPI taken: 00000001", "#GP", "#GP"], at: done)
        let run = try FixtureGuests.run("apic", options: false)
        #expect(run.output == lines.joined(separator: "\n"))
        #expect(run.stop.status == 1)
    }

    /// The MMIO guest's accesses really left the CPU as MMIO-assist exits and reached the device
    /// (QEMU, with RAM there, cannot tell).
    @Test func mmioGuestGoesThroughTheAssist() throws {
        let run = try FixtureGuests.run("mmio")
        #expect(run.mmioAssists >= 120, "\(run.mmioAssists) MMIO-assist exits")
        #expect(run.deviceAccesses >= 300, "\(run.deviceAccesses) test-device accesses")
    }

    /// The smc guest's rewritten blocks each ran as host code before they were rewritten (so
    /// its output, QEMU's, shows the translator running the new code): a fault planted in the
    /// translator on one block (R12 += 1 on each pass run as host code) shows in the R12 line
    /// and nowhere else. Each function runs once after its rewrite, too few for a translation
    /// then, so the passes counted are the old code's.
    @Test(arguments: [("same page", [0xB8, 0x11, 0x11, 0x11, 0x11, 0xC3], 0, UInt64(0)),
                      ("alias", [0xB8, 0x33, 0x33, 0x33, 0x33, 0xC3], 0, UInt64(0x4000_0000)),
                      ("identity", [0xB8, 0x33, 0x33, 0x33, 0x33, 0xC3], 1, UInt64(0)),
                      ("dma", [0xB8, 0x66, 0x66, 0x66, 0x66, 0xC3], 0, UInt64(0)),
                      // cmp ecx, 1; cmove edx, r8d: the block starts 5 bytes before (mov edx, imm32).
                      ("self-rewriting", [0x83, 0xF9, 0x01, 0x41, 0x0F, 0x44, 0xD0], 0, UInt64(bitPattern: -5))] as [(String, [UInt8], Int, UInt64)])
    func smcGuestRewritesTranslatedCode(_ what: String, _ pattern: [UInt8], _ occurrence: Int, _ alias: UInt64) throws {
        // `alias`: added to the pattern's address (the alias mapping's base, or a step back).
        guard ExecutionEngine.preferred == .jit else { return }
        let guest = try FixtureGuest("smc")
        let offsets = guest.image.indices.filter { guest.image[$0...].starts(with: pattern) }
        let rip = 0x100000 + UInt64(try #require(offsets.dropFirst(occurrence).first)) &+ alias
        var config = guest.configuration
        config.engine = .jit
        let host = try HostPhysicalMemory(frames: 32768)
        var output: [UInt8] = []
        let machine = try Machine(configuration: config, host: host) { output.append($0) }
        try machine.boot(image: guest.image)
        #expect(machine.vcpu.plantTranslationFault(at: rip, register: 12))
        let stop = machine.run()
        machine.teardown()
        #expect(stop.status == 1)
        #expect(host.liveFrames == 0)
        let expected = try String(contentsOf: FixtureGuest.file("smc", "expected"), encoding: .utf8).split(separator: "\n").map(String.init)
        let lines = String(decoding: output, as: UTF8.self).split(separator: "\n").map(String.init)
        try #require(lines.count == expected.count, "\(what): \(lines)")
        for (got, want) in zip(lines, expected) {
            if want.hasPrefix("r12") {
                let value = got.split(separator: ":").last?.split(separator: " ").first ?? ""
                let passes = UInt64(value, radix: 16) ?? 0
                #expect(passes > 0, "\(what) at \(String(rip, radix: 16)): never ran as host code")
            } else {
                #expect(got == want, "\(what)")
            }
        }
    }
}

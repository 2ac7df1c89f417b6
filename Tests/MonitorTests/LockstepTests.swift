import GuestMemory
import Testing
@_spi(Testing) import VMM
@testable import Monitor

/// `--engine lockstep`: two machines alike report no difference; a fault planted in the
/// translator (the block of a loop adds 1 to RBX on each pass it runs as host code) is found,
/// narrowed to the one instruction after which the engines part, and named: RBX, the
/// interpreter's 0 against the translator's 1, with the loop's code listed.
@Suite struct LockstepTests {
    /// mov ecx, 1000; loop: add eax, 3; dec ecx; jnz loop; mov eax, 0x21; out 0xf4, al; hlt
    static let code: [UInt8] = [0xB9, 0xE8, 0x03, 0x00, 0x00,
                                0x83, 0xC0, 0x03, 0xFF, 0xC9, 0x75, 0xF9,
                                0xB8, 0x21, 0x00, 0x00, 0x00, 0xE6, 0xF4, 0xF4]
    static let loop: UInt64 = 0x100005

    final class Hosts { var all: [HostPhysicalMemory] = [] }

    /// A lockstep over the loop guest; `plant` plants the fault in the translator's vCPU.
    static func lockstep(plant: Bool, interval: UInt64, hosts: Hosts) -> Lockstep {
        let image = makeELF(is64: true, entry: 0x100000, segments: [(0x100000, code, UInt64(code.count))])
        return Lockstep(interval: interval, memoryInterval: 1000) { engine, output in
            var config = MachineConfiguration()
            config.engine = engine
            let host = try HostPhysicalMemory(frames: 8192)
            hosts.all.append(host)
            let machine = try Machine(configuration: config, host: host, serialOutput: output)
            try machine.boot(image: image)
            if plant && engine == .jit { #expect(machine.vcpu.plantTranslationFault(at: loop, register: 3)) }
            return machine
        }
    }

    @Test func enginesAlike() throws {
        let hosts = Hosts()
        let l = Self.lockstep(plant: false, interval: 100, hosts: hosts)
        guard case .alike(let stop, let icount) = try l.run() else {
            Issue.record("the engines differ")
            return
        }
        #expect(stop == .debugExit(code: 0x21))
        #expect(icount == 1 + 3 * 1000 + 2)
        #expect(l.comparisons == 31)
        #expect(l.memoryComparisons == 4)
        #expect(hosts.all.count == 2 && hosts.all.allSatisfy { $0.liveFrames == 0 })
    }

    @Test(arguments: [7, 100, 5000] as [UInt64]) func plantedFaultIsFound(interval: UInt64) throws {
        guard ExecutionEngine.preferred == .jit else { return }
        let hosts = Hosts()
        let l = Self.lockstep(plant: true, interval: interval, hosts: hosts)
        guard case .differ(let d) = try l.run() else {
            Issue.record("the planted fault was not found")
            return
        }
        // The loop's block becomes host code once it has run 64 times (more when the
        // comparisons cut passes short): RBX goes wrong with the first instruction of the
        // first pass run as host code, and nothing else does.
        #expect(d.differsAt > 1 + 3 * 64)
        #expect(d.differsAt % 3 == 2)
        if interval == 5000 { #expect(d.differsAt == 1 + 3 * 65 + 1) }
        #expect(d.agreedAt == d.differsAt - 1)
        #expect(d.state.map(\.field) == ["rbx"])
        #expect(d.state.first?.jit == "0x1" && d.state.first?.interp == "0x0")
        #expect(d.pages.isEmpty && d.output == nil && d.stops == nil)
        #expect(d.listing.count == 24)
        #expect(d.listing.last?.hasSuffix("0x100005  83 c0 03                       add eax, 0x3") == true)
        #expect(d.listing.last?.contains("icount \(d.differsAt)") == true)
        #expect(d.description.contains("rbx: translator 0x1, interpreter 0x0"))
        #expect(hosts.all.allSatisfy { $0.liveFrames == 0 })
    }
}

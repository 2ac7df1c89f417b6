import CPUCheck
import Foundation
import Testing
import X86
import X86CPU

/// CLFLUSH, CLFLUSHOPT and CLWB (the instruction docs/ARCHITECTURE.md adds as its example)
/// against the host CPU: each steps over a mapped line, the read-only code page included,
/// and faults as a load (#PF, error code 4: user read) on an unmapped one.
@Suite struct CacheLineTests {
    static func hostHas(_ flag: String) -> Bool {
        let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        return info.split(separator: "\n").contains { $0.hasPrefix("flags") && $0.split(separator: " ").contains(Substring(flag)) }
    }

    @Test(arguments: [("clflush", [UInt8(0x0F), 0xAE, 0x3B]), ("clflushopt", [0x66, 0x0F, 0xAE, 0x3B]),
                      ("clwb", [0x66, 0x0F, 0xAE, 0x33])])
    func againstTheHost(_ name: String, _ bytes: [UInt8]) throws {
        try #require(Self.hostHas(name == "clflush" ? "clflush" : name), "the host lacks \(name)")
        var fx = [UInt8](repeating: 0, count: 512)
        fx[0] = 0x7F; fx[1] = 0x03; fx[24] = 0x80; fx[25] = 0x1F
        for rbx in [FlatMemory.dataBase + 0x140, FlatMemory.codeBase, 0x4000] {
            var gpr = [UInt64](repeating: 0, count: 16)
            gpr[GPR.rbx] = rbx
            gpr[GPR.rsp] = FlatMemory.dataBase + 0x1000
            let c = CPUCase(family: .misc, bytes: bytes, gpr: gpr, rflags: 2, data: [UInt8](repeating: 0, count: FlatMemory.dataSize), fx: fx)
            #expect(checkCase(c) == nil, "\(name) [rbx = \(rbx)]")
            let ours = runInterpreter(c)
            if rbx == 0x4000 {
                #expect(ours == .pageFault, "\(name): \(ours)")
                // A load's fault: user, read, not present.
                let cpu = CPU(memory: FlatMemory(data: c.data, code: bytes), model: CPUModel(vendor: hostVendor))
                cpu.state.rip = FlatMemory.codeBase
                cpu.state.rbx = rbx
                #expect(cpu.step() == .exception(.pageFault(address: 0x4000, errorCode: 4)))
            } else if case .stepped(let s) = ours {
                #expect(s.rip == FlatMemory.codeBase + UInt64(bytes.count))
            } else {
                Issue.record("\(name) [rbx = \(rbx)]: \(ours)")
            }
        }
    }
}

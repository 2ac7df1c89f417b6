import Testing
import X86
import X86CPU
import CPUCheck

@Suite struct InterpreterTests {
    func cpu(_ code: [UInt8]) -> CPU<FlatMemory> {
        let cpu = CPU(memory: FlatMemory(data: [UInt8](repeating: 0, count: FlatMemory.dataSize), code: code), vendor: hostVendor)
        cpu.state.rip = FlatMemory.codeBase
        cpu.state.gpr[4] = FlatMemory.dataBase + 0x1000
        return cpu
    }

    /// A small loop: sum 1..10 with LOOP, then store it.
    @Test func runsALoop() throws {
        // mov ecx, 10; xor eax, eax; L: add eax, ecx; loop L; mov [rsp - 8], rax
        let c = cpu([0xB9, 10, 0, 0, 0, 0x31, 0xC0, 0x01, 0xC8, 0xE2, 0xFC, 0x48, 0x89, 0x44, 0x24, 0xF8])
        for _ in 0..<23 { #expect(c.step() == .executed) }
        #expect(c.state.gpr[0] == 55)
        #expect(try c.memory.read(FlatMemory.dataBase + 0xFF8, size: 8) == 55)
    }

    /// A faulting instruction changes no architectural state.
    @Test func exceptionsChangeNothing() {
        // div rbx with rbx = 0; mov [rax], ecx with rax unmapped; push with rsp unmapped.
        for (code, reg, value, expected) in [([UInt8]([0x48, 0xF7, 0xF3]), 3, UInt64(0), CPUException.divideError),
                                             ([0x89, 0x08], 0, 0x4000, .pageFault(address: 0x4000, errorCode: 6)),
                                             ([0x50], 4, 0x8, .pageFault(address: 0, errorCode: 6))] {
            let c = cpu(code)
            c.state.gpr[reg] = value
            c.state.rflags = 0x8D7
            let before = (0..<16).map { c.state.gpr[$0] }
            #expect(c.step() == .exception(expected))
            #expect((0..<16).map { c.state.gpr[$0] } == before)
            #expect(c.state.rflags == 0x8D7 && c.state.rip == FlatMemory.codeBase)
        }
    }

    /// A fixed-seed slice of the host-CPU comparison (the full runs: `softvmm cpu-check`).
    @Test func hostComparisonSlice() {
        let r = runCPUCampaign(count: 2000, seed: 42)
        #expect(r.mismatchCount == 0, "\(r.firstMismatches.map(\.description).joined(separator: "\n"))")
        #expect(r.perFamily.count == Family.allCases.count)
    }
}

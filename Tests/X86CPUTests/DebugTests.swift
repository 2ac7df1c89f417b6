import CPUCheck
import Testing
import X86
@testable import X86CPU

/// Debug exceptions and exception frames as the SDM (vol. 3, chapters 6 and 18) and
/// kvm-unit-tests' x86/debug.c and x86/idt_test.c expect them.
@Suite struct DebugTests {
    /// A CPU at CPL 0 in 64-bit mode with a GDT (a 64-bit code segment at 0x08) and an IDT at
    /// the data pages whose gates all lead to `handler`, and a stack at the top of the data.
    func kernelCPU(_ code: [UInt8], vendor: Vendor = .intel) -> CPU<FlatMemory> {
        var data = [UInt8](repeating: 0, count: FlatMemory.dataSize)
        func put(_ o: Int, _ v: UInt64) { for i in 0..<8 { data[o + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(i))) } }
        put(8, 0x00AF_9B00_0000_FFFF)
        let handler = FlatMemory.codeBase + 0x800
        for v in 0..<32 {
            put(0x100 + 16 * v, handler & 0xFFFF | 0x08 << 16 | 0x8E << 40 | (handler >> 16 & 0xFFFF) << 48)
            put(0x108 + 16 * v, handler >> 32)
        }
        var program = code + [UInt8](repeating: 0x90, count: 0x800 - code.count)
        program += [0xF4] // the handler: HLT
        let cpu = CPU(memory: FlatMemory(data: data, code: program), model: CPUModel(vendor: vendor))
        cpu.state.gdtr = TableRegister(base: FlatMemory.dataBase, limit: 15)
        cpu.state.idtr = TableRegister(base: FlatMemory.dataBase + 0x100, limit: 0x1FF)
        cpu.state.setSegment(.cs, SegmentState(selector: 0x08, base: 0, limit: 0xFFFF_FFFF, attributes: 0xA09B))
        cpu.state.cpl = 0
        cpu.modeMaybeChanged()
        cpu.state.rip = FlatMemory.codeBase
        cpu.state.gpr[4] = FlatMemory.dataBase + UInt64(FlatMemory.dataSize)
        return cpu
    }

    /// The frame an exception pushed: RIP, CS, RFLAGS (after an error code when `error`).
    func frame(_ cpu: CPU<FlatMemory>, error: Bool) throws -> (rip: UInt64, rflags: UInt64) {
        let sp = cpu.state.gpr[4] + (error ? 8 : 0)
        return (try cpu.memory.read(sp, size: 8), try cpu.memory.read(sp + 16, size: 8))
    }

    /// A fault's frame holds RF = 1 (so that IRET back to the instruction skips its
    /// instruction breakpoint); a trap's does not (idt_test: "#GP rflags.rf", "#UD rflags.rf").
    @Test func faultsPushRF() throws {
        let ud = kernelCPU([0x0F, 0x0B])                               // ud2
        _ = ud.run(limit: 1)
        let f = try frame(ud, error: false)
        #expect(f.rip == FlatMemory.codeBase && f.rflags & Flag.rf != 0)
        #expect(ud.state.rflags & Flag.rf == 0, "delivery clears RF")
        let bp = kernelCPU([0xCC])                                     // int3: a trap
        _ = bp.run(limit: 1)
        let t = try frame(bp, error: false)
        #expect(t.rip == FlatMemory.codeBase + 1 && t.rflags & Flag.rf == 0)
    }

    /// DR6's B0-B3 name the breakpoints this #DB matched (earlier ones are cleared); BS stays
    /// (debug.c: "Wanted #DB on ... w/ DR6 = 0xffff4ff4").
    @Test func dr6BreakpointBitsAreReplaced() {
        let cpu = kernelCPU([0x90])
        cpu.state.setDR(2, FlatMemory.codeBase)
        cpu.state.setDR(7, 1 << 5 | 0x400)                                // G2, execute
        cpu.state.setDR(6, DR6Bit.bs | 1 << 1)                            // BS and B1 from before
        _ = cpu.debugStep()
        #expect(cpu.state.dr(6) & 0xF == 1 << 2 && cpu.state.dr(6) & DR6Bit.bs != 0)
    }

    /// MOV SS blocks debug exceptions for one instruction: its single-step trap is taken after
    /// the next instruction, and Intel drops an instruction breakpoint on that instruction where
    /// AMD takes it (debug.c "Single-step #DB w/ MOVSS blocking", emulator.c "#DB suppressed
    /// after MOV SS").
    @Test func movSSBlocking() {
        // mov ss, ax (null SS at CPL 0 in 64-bit mode); nop; nop
        let code: [UInt8] = [0x8E, 0xD0, 0x90, 0x90]
        let stepped = kernelCPU(code)
        stepped.state.rflags |= Flag.tf
        _ = stepped.debugStep()
        #expect(stepped.state.dr(6) & DR6Bit.bs == 0 && stepped.state.rip == FlatMemory.codeBase + 2, "no trap after MOV SS")
        _ = stepped.debugStep()
        #expect(stepped.state.dr(6) & DR6Bit.bs != 0, "one trap after the next instruction")
        for vendor in [Vendor.intel, .amd] {
            let c = kernelCPU(code, vendor: vendor)
            c.state.setDR(0, FlatMemory.codeBase + 2)
            c.state.setDR(7, 1 << 1 | 0x400)
            _ = c.debugStep()                                           // MOV SS
            _ = c.debugStep()                                           // the NOP under the shadow
            #expect((c.state.dr(6) & 1 != 0) == (vendor == .amd), "\(vendor)")
        }
    }

    /// INT n delivers instead of trapping: no single-step trap at the handler (delivery clears
    /// TF); ICEBP's #DB takes the place of what MOV SS blocking held back, INT3 does not.
    @Test func softwareInterruptsAndSingleStep() {
        let int3 = kernelCPU([0xCC])
        int3.state.rflags |= Flag.tf
        _ = int3.debugStep()
        #expect(int3.state.dr(6) & DR6Bit.bs == 0 && int3.state.rip == FlatMemory.codeBase + 0x800)
        // mov ss, ax with TF; then ICEBP: one #DB, ICEBP's (no BS).
        let icebp = kernelCPU([0x8E, 0xD0, 0xF1])
        icebp.state.rflags |= Flag.tf
        _ = icebp.debugStep()
        _ = icebp.debugStep()
        #expect(icebp.state.dr(6) & DR6Bit.bs == 0 && icebp.state.rip == FlatMemory.codeBase + 0x800)
    }

    /// A VMM that hides INVPCID, RDTSCP or RDPID turns them off (#UD), as VMX's controls do
    /// (pcid.c: "Test on INVPCID when disabled").
    @Test func hiddenInstructionsAreUndefined() throws {
        for (bytes, spec) in [([0x66, 0x0F, 0x38, 0x82, 0x03] as [UInt8], "max,-invpcid"), ([0x0F, 0x01, 0xF9], "max,-rdtscp"),
                              ([0xF3, 0x0F, 0xC7, 0xF8], "max,-rdpid")] {
            let cpu = CPU(memory: FlatMemory(data: [UInt8](repeating: 0, count: FlatMemory.dataSize), code: bytes),
                          model: try CPUModel(parsing: spec))
            cpu.state.rip = FlatMemory.codeBase
            cpu.state.cpl = 0
            cpu.state.gpr[3] = FlatMemory.dataBase
            #expect(cpu.step() == .exception(.invalidOpcode), "\(spec)")
        }
    }

    /// The machine-check MSRs CPUID's MCE bit promises (no banks), IA32_PLATFORM_ID on Intel,
    /// and AMD's legacy performance counters (msr.c, and pmu_init on AMD in syscall.c).
    @Test func msrsOfEachVendor() throws {
        var intel = ModelSpecificRegisters(), amd = ModelSpecificRegisters()
        amd.vendor = .amd
        #expect(try intel.read(MSRIndex.mcgCap, tsc: 0) == 0)
        #expect(throws: CPUException.generalProtection(0)) { try intel.write(MSRIndex.mcgCap, 0, longModeActive: true) }
        #expect(throws: CPUException.generalProtection(0)) { try intel.write(MSRIndex.mcgStatus, 1, longModeActive: true) }
        try intel.write(MSRIndex.mcgStatus, 0, longModeActive: true)
        #expect(try intel.read(MSRIndex.platformID, tsc: 0) == 0)
        #expect(throws: CPUException.generalProtection(0)) { try amd.read(MSRIndex.platformID, tsc: 0) }
        try amd.write(MSRIndex.k7EventSelect0 + 1, 0x53_0076, longModeActive: true)
        #expect(try amd.read(MSRIndex.k7EventSelect0 + 1, tsc: 0) == 0x53_0076)
        #expect(throws: CPUException.generalProtection(0)) { try amd.write(MSRIndex.k7Counter0, 1 << 48, longModeActive: true) }
        #expect(throws: CPUException.generalProtection(0)) { try intel.read(MSRIndex.k7EventSelect0, tsc: 0) }
    }
}

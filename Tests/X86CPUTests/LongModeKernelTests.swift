import CPUCheck
import Testing
import X86
@testable import X86CPU

/// CPU faults a real kernel found, each at CPL 0 in 64-bit mode on the CPU alone (they were
/// whole-machine tests started by the loader; every Linux boot in linux-check runs them too).
@Suite struct LongModeKernelTests {
    /// A CPL-0 CPU in 64-bit code with a GDT at the data area's start: null, 64-bit code (0x08),
    /// data (0x10), `extra` descriptors from 0x18 on.
    func kernelCPU(_ code: [UInt8], extra: [UInt64] = [], vendor: Vendor = .intel) -> CPU<FlatMemory> {
        var data = [UInt8](repeating: 0, count: FlatMemory.dataSize)
        let gdt: [UInt64] = [0, 0x00AF_9B00_0000_FFFF, 0x00CF_9300_0000_FFFF] + extra
        for (k, d) in gdt.enumerated() { for i in 0..<8 { data[8 * k + i] = UInt8(truncatingIfNeeded: d >> (8 * UInt64(i))) } }
        let cpu = CPU(memory: FlatMemory(data: data, code: code), model: CPUModel(vendor: vendor))
        cpu.state.gdtr = TableRegister(base: FlatMemory.dataBase, limit: UInt16(8 * gdt.count - 1))
        cpu.state.setSegment(.cs, SegmentState(selector: 0x08, base: 0, limit: 0xFFFF_FFFF, attributes: 0xA09B))
        cpu.state.cpl = 0
        cpu.modeMaybeChanged()
        cpu.state.rip = FlatMemory.codeBase
        return cpu
    }

    func run(_ cpu: CPU<FlatMemory>, _ n: Int) -> [StepResult] { (0..<n).map { _ in cpu.step() } }

    /// Linux's secondary_startup_64 reads EFER and writes it back with SCE and NXE set (LMA
    /// included, as read) after a loader set EFER directly: the WRMSR must not #GP (it did: the
    /// MSR checks compared LMA against a value they had never stored).
    @Test func eferWrittenBackAfterALoaderSetIt() {
        let cpu = kernelCPU([
            0xB9, 0x80, 0x00, 0x00, 0xC0,    // mov ecx, 0xc0000080
            0x0F, 0x32,                      // rdmsr
            0x0F, 0xBA, 0xE8, 0x00,          // bts eax, 0 (SCE)
            0x0F, 0xBA, 0xE8, 0x0B,          // bts eax, 11 (NXE)
            0x31, 0xD2,                      // xor edx, edx
            0x0F, 0x30,                      // wrmsr
            0x0F, 0x32,                      // rdmsr
        ])
        cpu.state.efer = EFERBit.lme | EFERBit.lma   // as the loader enters long mode
        #expect(run(cpu, 7).allSatisfy { $0 == .executed })
        #expect(cpu.state.gpr[0] == EFERBit.sce | EFERBit.lme | EFERBit.lma | EFERBit.nxe)
        #expect(cpu.state.efer == EFERBit.sce | EFERBit.lme | EFERBit.lma | EFERBit.nxe)
    }

    /// LTR of a TSS whose base lies high (Linux's cpu_entry_area, 0xfffffe...): the 16-byte
    /// descriptor's upper half holds the base's bits 63:32, and only that half's type field
    /// (bits 44:40) must be zero. Checking bits 12:8 instead made Linux's LTR a #GP.
    @Test func ltrOfAHighTSSBase() {
        let cpu = kernelCPU([
            0x66, 0xB8, 0x18, 0x00,          // mov ax, 0x18
            0x0F, 0x00, 0xD8,                // ltr ax
            0x0F, 0x00, 0xC9,                // str cx
        ], extra: [0x0000_8900_3000_0067, 0xFFFF_FE00])   // TSS at 0xfffffe0000003000, limit 0x67
        #expect(run(cpu, 3).allSatisfy { $0 == .executed })
        let tr = cpu.state.segment(.tr)
        #expect(tr.selector == 0x18 && tr.base == 0xFFFF_FE00_0000_3000 && tr.limit == 0x67)
        #expect(tr.attributes & 0xF == 0xB, "LTR marks the TSS busy")
        #expect(cpu.state.gpr[1] & 0xFFFF == 0x18)
        // A nonzero type in the upper half is #GP(selector).
        let bad = kernelCPU([0x66, 0xB8, 0x18, 0x00, 0x0F, 0x00, 0xD8], extra: [0x0000_8900_3000_0067, 0x0000_0100_FFFF_FE00])
        #expect(run(bad, 2) == [.executed, .exception(.generalProtection(0x18))])
    }

    /// ENDBR64 and ENDBR32 are hint NOPs without CET (which the CPUID model does not offer):
    /// Debian's busybox starts its functions with them, and #UD there killed init.
    @Test func endbrIsANop() {
        let cpu = kernelCPU([0xF3, 0x0F, 0x1E, 0xFA, 0xF3, 0x0F, 0x1E, 0xFB])
        #expect(run(cpu, 2) == [.executed, .executed])
        #expect(cpu.state.rip == FlatMemory.codeBase + 8)
        #expect(CPUModel().cpuid(7, 0).3 & 1 << 20 == 0, "no CET-IBT")
    }

    /// SWAPGS exchanges GS.base with IA32_KERNEL_GS_BASE, STAC and CLAC set and clear
    /// EFLAGS.AC (a system call's entry and exit, fast forms in blocks too); at CPL 3 SWAPGS
    /// is #GP(0) and STAC #UD.
    @Test func swapgsAndTheSMAPOverride() {
        let code: [UInt8] = [
            0x0F, 0x01, 0xF8,                // swapgs
            0x0F, 0x01, 0xCB,                // stac
            0x0F, 0x01, 0xCA,                // clac
            0x0F, 0x01, 0xF8,                // swapgs
        ]
        let cpu = kernelCPU(code)
        cpu.state.gsBase = 0x1111
        cpu.msrs[MSRIndex.kernelGSBase] = 0x2222
        #expect(cpu.step() == .executed)
        #expect(cpu.state.gsBase == 0x2222 && cpu.msrs[MSRIndex.kernelGSBase] == 0x1111)
        #expect(cpu.step() == .executed)
        #expect(cpu.state.rflags & Flag.ac != 0)
        #expect(cpu.step() == .executed)
        #expect(cpu.state.rflags & Flag.ac == 0)
        #expect(cpu.step() == .executed)
        #expect(cpu.state.gsBase == 0x1111 && cpu.msrs.values[MSRIndex.kernelGSBase] == 0x2222)
        let user = kernelCPU(code)
        user.state.cpl = 3
        #expect(user.step() == .exception(.generalProtection(0)))
        user.state.rip = FlatMemory.codeBase + 3
        #expect(user.step() == .exception(.invalidOpcode))
        #expect(user.state.rflags & Flag.ac == 0)
    }

    /// Execution that runs on to a non-canonical RIP faults there with #GP(0), before any
    /// fetch (kvm-unit-tests' hypercall.c runs a VMCALL at 0x7FFFFFFFFFFD and expects #GP at
    /// 0x800000000000); so does an instruction whose last byte crosses the boundary.
    @Test func fetchAtANonCanonicalRIPIsGP() {
        let cpu = kernelCPU([0x90])
        cpu.state.rip = 0x0000_8000_0000_0000
        #expect(cpu.step() == .exception(.generalProtection(0)))
        #expect(cpu.state.rip == 0x0000_8000_0000_0000)
    }

    /// VMCALL and VMMCALL: #UD outside a VM; in one (`hypercallExiting`), the model's vendor's
    /// instruction exits with RIP at it, the other vendor's is still #UD.
    @Test func hypercallInstructionsByVendor() {
        for vendor in [Vendor.intel, .amd] {
            for (bytes, intelForm) in [([UInt8]([0x0F, 0x01, 0xC1]), true), ([0x0F, 0x01, 0xD9], false)] {
                let cpu = kernelCPU(bytes, vendor: vendor)
                #expect(cpu.step() == .exception(.invalidOpcode))
                cpu.hypercallExiting = true
                let expected: StepResult = intelForm == (vendor == .intel) ? .exception(.exit(.hypercall)) : .exception(.invalidOpcode)
                #expect(cpu.step() == expected)
                #expect(cpu.state.rip == FlatMemory.codeBase)
            }
        }
    }
}

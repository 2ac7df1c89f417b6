import CPUCheck
import Testing
import X86
import X86CPU
import X86ISA

/// The configurable CPUID model and the supervisor features it reports: PCIDs and INVPCID,
/// protection keys, SMAP's STAC/CLAC, five-level paging's canonical addresses. QEMU's TCG
/// has no PCID or INVPCID, so those follow the SDM (vol. 2, INVPCID; vol. 3, 4.10.1); the
/// rest is also checked against QEMU by the paging fixture guest.
@Suite struct CPUModelTests {
    let gp = CPUException.generalProtection(0)

    /// A CPU at CPL 0 in 64-bit mode running `code` against flat memory; `data` is placed at
    /// FlatMemory.dataBase and RBX points at it.
    func kernelCPU(_ code: [UInt8], data: [UInt8] = [], model: CPUModel = CPUModel()) -> CPU<FlatMemory> {
        var bytes = [UInt8](repeating: 0, count: FlatMemory.dataSize)
        bytes.replaceSubrange(0..<data.count, with: data)
        let cpu = CPU(memory: FlatMemory(data: bytes, code: code), model: model)
        cpu.state.rip = FlatMemory.codeBase
        cpu.state.gpr[4] = FlatMemory.dataBase + 0x1000
        cpu.state.gpr[3] = FlatMemory.dataBase
        cpu.state.cpl = 0
        return cpu
    }

    func le(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) } }

    @Test func statesTheTSCFrequency() {
        var m = CPUModel()
        #expect(m.cpuid(0, 0).0 == 0x16)
        let (den, num, crystal, _) = m.cpuid(0x15, 0)
        #expect(UInt64(crystal) == m.crystalFrequency)
        #expect(UInt64(crystal) * UInt64(num) / UInt64(den) == m.tscFrequency)
        #expect(m.cpuid(0x16, 0).0 == 1000)                       // MHz
        m.tscFrequency = 2_400_000_000
        m.crystalFrequency = 24_000_000
        let r = m.cpuid(0x15, 0)
        #expect(r.0 == 1 && r.1 == 100 && r.2 == 24_000_000)
        #expect(m.cpuid(0x16, 0).0 == 2400)
    }

    /// The topology of `--smp` (SDM vol. 2, CPUID leaves 01H and 0BH; AMD's 80000008H ECX):
    /// one package of single-thread cores, each vCPU's APIC ID its index. One processor
    /// reports no topology leaf, as before SMP.
    @Test func topologyOfSeveralProcessors() {
        var m = CPUModel()
        #expect(m.cpuid(0xB, 0) == (0, 0, 0, 0) && m.cpuid(1, 0).1 >> 16 == 0 && m.cpuid(1, 0).3 & 1 << 28 == 0)
        m.processors = 6
        m.apicID = 5
        let (_, ebx, _, edx) = m.cpuid(1, 0)
        #expect(ebx >> 24 == 5 && (ebx >> 16) & 0xFF == 6 && edx & 1 << 28 != 0)
        #expect(m.cpuid(0xB, 0) == (0, 1, 0x100, 5))              // SMT level: one thread
        #expect(m.cpuid(0xB, 1) == (3, 6, 0x201, 5))              // core level: 3 ID bits, 6 cores
        #expect(m.cpuid(0xB, 2) == (0, 0, 2, 5))                  // invalid level
        // Through the CPU: leaf 0xB's answer depends on the subleaf in ECX.
        let cpu = kernelCPU([0x0F, 0xA2], model: m)
        cpu.state.gpr[0] = 0xB
        cpu.state.gpr[1] = 1
        #expect(cpu.step() == .executed)
        #expect(cpu.state.gpr[0] == 3 && cpu.state.gpr[3] == 6 && cpu.state.gpr[1] == 0x201 && cpu.state.gpr[2] == 5)
        var amd = CPUModel(vendor: .amd)
        amd.processors = 4
        #expect(amd.cpuid(0x8000_0008, 0).2 == 3 | 2 << 12)
    }

    /// CPUID.1:EDX.APIC (bit 9) reads 0 while IA32_APIC_BASE.EN (bit 11) is clear (SDM vol. 3,
    /// 11.4.3), as kvm-unit-tests' apic.c checks.
    @Test func apicBitFollowsTheGlobalEnable() {
        for enabled in [true, false] {
            let cpu = kernelCPU([0x0F, 0xA2])
            let base = cpu.msrs[MSRIndex.apicBase] ?? 0
            cpu.msrs[MSRIndex.apicBase] = enabled ? base | 1 << 11 : base & ~(1 << 11)
            cpu.state.gpr[0] = 1
            #expect(cpu.step() == .executed)
            #expect((cpu.state.gpr[2] & 1 << 9 != 0) == enabled)
        }
    }

    @Test func hiddenFeaturesAreAbsentAndTheirCR4BitsReserved() throws {
        let m = try CPUModel(parsing: "max,-smep,-la57")
        #expect(!m.reports(leaf: 7, register: 1, bit: 7))
        #expect(m.reports(leaf: 7, register: 1, bit: 20), "SMAP stays")
        #expect(m.supportedCR4 & CR4Bit.smep == 0 && m.supportedCR4 & CR4Bit.smap != 0)
        #expect(m.cpuid(0x8000_0008, 0).0 >> 8 & 0xFF == 48)
        #expect(CPUModel().cpuid(0x8000_0008, 0).0 >> 8 & 0xFF == 57)
        // mov cr4, rax with SMEP: #GP(0) once SMEP is hidden, accepted otherwise.
        let code: [UInt8] = [0x0F, 0x22, 0xE0]
        let hidden = kernelCPU(code, model: m)
        hidden.state.gpr[0] = hidden.state.cr4 | CR4Bit.smep
        #expect(hidden.step() == .exception(gp))
        let shown = kernelCPU(code)
        shown.state.gpr[0] = shown.state.cr4 | CR4Bit.smep
        #expect(shown.step() == .executed)
        #expect(shown.state.cr4 & CR4Bit.smep != 0)
    }

    @Test func overridesAndParsingErrors() throws {
        var m = CPUModel()
        m.overrides[CPUIDLeaf(0x4000_0000)] = CPUIDResult(0x4000_0001, 0x1234, 0, 0)
        #expect(m.cpuid(0x4000_0000, 7).1 == 0x1234)
        m.hide(leaf: 1, register: 3, bit: 23)                       // MMX
        #expect(m.cpuid(1, 0).3 & 1 << 23 == 0)
        #expect(throws: CPUModelError.unknownModel("pentium")) { try CPUModel(parsing: "pentium") }
        #expect(throws: CPUModelError.unknownFeature("-warp")) { try CPUModel(parsing: "max,-warp") }
        #expect(throws: CPUModelError.unknownFeature("pcid")) { try CPUModel(parsing: "max,pcid") }
        #expect(throws: CPUModelError.notImplemented("pcid")) { try CPUModel(parsing: "max,-pcid,+pcid") }
        #expect(try CPUModel(parsing: "max,+pcid").reports(leaf: 1, register: 2, bit: 17))
    }

    /// CPUID through the CPU: OSPKE follows CR4.PKE as OSXSAVE follows CR4.OSXSAVE.
    @Test func ospkeFollowsCR4() {
        let code: [UInt8] = [0x0F, 0xA2]
        for pke in [false, true] {
            let cpu = kernelCPU(code)
            if pke { cpu.state.cr4 |= CR4Bit.pke }
            cpu.state.gpr[0] = 7
            cpu.state.gpr[1] = 0
            #expect(cpu.step() == .executed)
            #expect((cpu.state.gpr[1] & 1 << 4 != 0) == pke)
            #expect(cpu.state.gpr[1] & 1 << 3 != 0, "PKU is reported either way")
        }
    }

    /// INVPCID's #GP(0) cases (SDM vol. 2): a type above 3; types 0 and 1 with a PCID above
    /// 4095, or nonzero with CR4.PCIDE clear; type 0 with a non-canonical address; CPL > 0.
    @Test func invpcidChecks() {
        let code: [UInt8] = [0x66, 0x0F, 0x38, 0x82, 0x03]          // invpcid rax, [rbx]
        func run(type: UInt64, pcid: UInt64, address: UInt64, pcide: Bool = true, cpl: Int = 0) -> StepResult {
            let cpu = kernelCPU(code, data: le(pcid) + le(address))
            if pcide { cpu.state.cr4 |= CR4Bit.pcide }
            cpu.state.cpl = cpl
            cpu.state.gpr[0] = type
            return cpu.step()
        }
        #expect(run(type: 0, pcid: 5, address: 0x1000) == .executed)
        #expect(run(type: 1, pcid: 5, address: 0) == .executed)
        #expect(run(type: 2, pcid: 0xFFFF, address: 0xDEAD_0000_0000_0000) == .executed, "type 2 ignores the descriptor")
        #expect(run(type: 3, pcid: 0, address: 0) == .executed)
        #expect(run(type: 4, pcid: 0, address: 0) == .exception(gp))
        #expect(run(type: 1 << 32, pcid: 0, address: 0) == .exception(gp), "the whole register is the type")
        #expect(run(type: 0, pcid: 0x1000, address: 0) == .exception(gp))
        #expect(run(type: 1, pcid: 0x1000, address: 0) == .exception(gp))
        #expect(run(type: 0, pcid: 5, address: 0, pcide: false) == .exception(gp))
        #expect(run(type: 0, pcid: 0, address: 0, pcide: false) == .executed)
        #expect(run(type: 0, pcid: 0, address: 0x0123_0000_0000_0000) == .exception(gp))
        #expect(run(type: 0, pcid: 0, address: 0x00FF_0000_0000_0000) == .executed, "57-bit canonical: the processor's width")
        #expect(run(type: 2, pcid: 0, address: 0, cpl: 3) == .exception(gp))
    }

    @Test func protectionKeyRegister() {
        let rdpkru: [UInt8] = [0x0F, 0x01, 0xEE], wrpkru: [UInt8] = [0x0F, 0x01, 0xEF]
        let off = kernelCPU(rdpkru)
        #expect(off.step() == .exception(.invalidOpcode), "#UD without CR4.PKE")
        let cpu = kernelCPU(wrpkru + rdpkru)
        cpu.state.cr4 |= CR4Bit.pke
        cpu.state.cpl = 3                                           // both run at any CPL
        cpu.state.gpr[0] = 0x5555_000C
        cpu.state.gpr[1] = 0
        cpu.state.gpr[2] = 0
        #expect(cpu.step() == .executed)
        cpu.state.gpr[0] = 0
        cpu.state.gpr[2] = 99
        #expect(cpu.step() == .executed)
        #expect(cpu.state.gpr[0] == 0x5555_000C && cpu.state.gpr[2] == 0)
        let bad = kernelCPU(wrpkru)
        bad.state.cr4 |= CR4Bit.pke
        bad.state.gpr[1] = 1
        #expect(bad.step() == .exception(gp), "ECX must be 0")
    }

    /// IA32_PKRS: read and written at CPL 0 where the model reports PKS (the Intel one); bits
    /// 63:32 reserved; #GP on the AMD model, which has no PKS. CR4.PKS follows the same bit.
    @Test func supervisorProtectionKeyRegister() {
        let wrmsr: [UInt8] = [0x0F, 0x30], rdmsr: [UInt8] = [0x0F, 0x32]
        let cpu = kernelCPU(wrmsr + rdmsr)
        cpu.state.gpr[1] = UInt64(MSRIndex.pkrs)
        cpu.state.gpr[0] = 0x30
        cpu.state.gpr[2] = 0
        #expect(cpu.step() == .executed)
        cpu.state.gpr[0] = 0
        #expect(cpu.step() == .executed)
        #expect(cpu.state.pkrs == 0x30 && cpu.state.gpr[0] == 0x30)
        let reserved = kernelCPU(wrmsr)
        reserved.state.gpr[1] = UInt64(MSRIndex.pkrs)
        reserved.state.gpr[2] = 1
        #expect(reserved.step() == .exception(gp))
        let amd = kernelCPU(rdmsr, model: CPUModel(vendor: .amd))
        amd.state.gpr[1] = UInt64(MSRIndex.pkrs)
        #expect(amd.step() == .exception(gp))
        #expect(CPUModel().supportedCR4 & CR4Bit.pks != 0 && CPUModel(vendor: .amd).supportedCR4 & CR4Bit.pks == 0)
    }

    @Test func stacAndClac() {
        let cpu = kernelCPU([0x0F, 0x01, 0xCB, 0x0F, 0x01, 0xCA])
        #expect(cpu.step() == .executed)
        #expect(cpu.state.rflags & Flag.ac != 0)
        #expect(cpu.step() == .executed)
        #expect(cpu.state.rflags & Flag.ac == 0)
        let user = kernelCPU([0x0F, 0x01, 0xCB])
        user.state.cpl = 3
        #expect(user.step() == .exception(.invalidOpcode))
    }

    /// Branch targets and data addresses are canonical for the paging in use (48 bits, or 57
    /// with CR4.LA57); WRFSBASE checks the processor's width whatever CR4.LA57 says.
    @Test func canonicalWidths() throws {
        let jmp: [UInt8] = [0xFF, 0xE0]                              // jmp rax
        let four = kernelCPU(jmp)
        four.state.gpr[0] = 1 << 48
        #expect(four.step() == .exception(gp))
        let five = kernelCPU(jmp)
        five.state.cr4 |= CR4Bit.la57
        five.state.gpr[0] = 1 << 48
        #expect(five.step() == .executed)
        #expect(five.state.rip == 1 << 48)
        five.state.rip = FlatMemory.codeBase
        five.state.gpr[0] = 1 << 56
        #expect(five.step() == .exception(gp))

        let wrfsbase: [UInt8] = [0xF3, 0x48, 0x0F, 0xAE, 0xD0]
        let wide = kernelCPU(wrfsbase)
        wide.state.cr4 |= CR4Bit.fsgsbase
        wide.state.gpr[0] = 1 << 48
        #expect(wide.step() == .executed)
        #expect(wide.state.fsBase == 1 << 48)
        let narrow = kernelCPU(wrfsbase, model: try CPUModel(parsing: "max,-la57"))
        narrow.state.cr4 |= CR4Bit.fsgsbase
        narrow.state.gpr[0] = 1 << 48
        #expect(narrow.step() == .exception(gp))
    }
}

/// The instruction-set description's CPUID features are ones the model knows by name, and a
/// gated instruction is #UD once its feature is hidden.
@Suite struct DescriptionFeatureTests {
    @Test func everyFeatureIsKnown() {
        for m in Mnemonic.allCases where !m.facts.feature.isEmpty {
            #expect(CPUModel.featureNames[m.facts.feature] != nil, "\(m.spelling): cpuid=\(m.facts.feature)")
        }
        #expect(Mnemonic.allCases.filter { $0.facts.gated }.map(\.spelling).sorted() == ["invpcid", "rdpid"])
    }
}

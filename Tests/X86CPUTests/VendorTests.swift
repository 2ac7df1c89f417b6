import CPUCheck
import Testing
import X86
@testable import X86CPU

/// Where Intel and AMD differ, the CPU model's vendor decides, whatever the host is. The
/// values are those each vendor's manual gives or an Intel and an AMD host showed (the
/// host-CPU comparison, cpu-check, settles the host's own vendor on every run).
@Suite struct VendorTests {
    func cpu(_ code: [UInt8], _ vendor: Vendor) -> CPU<FlatMemory> {
        let cpu = CPU(memory: FlatMemory(data: [UInt8](repeating: 0, count: FlatMemory.dataSize), code: code),
                      model: CPUModel(vendor: vendor))
        cpu.state.rip = FlatMemory.codeBase
        return cpu
    }

    func string(_ words: [UInt32]) -> String {
        String(decoding: words.flatMap { w in (0..<4).map { UInt8(truncatingIfNeeded: w >> (8 * UInt32($0))) } }.filter { $0 != 0 },
               as: UTF8.self)
    }

    @Test func identification() throws {
        let intel = CPUModel(), amd = CPUModel(vendor: .amd)
        let (_, b, c, d) = intel.cpuid(0, 0)
        #expect(string([b, d, c]) == "GenuineIntel")
        let (_, b2, c2, d2) = amd.cpuid(0, 0)
        #expect(string([b2, d2, c2]) == "AuthenticAMD")
        // Family: Intel 6; AMD 0xF + extended 8 = 0x17 (Zen), as Linux computes it.
        func family(_ eax: UInt32) -> UInt32 { eax >> 8 & 0xF == 0xF ? 0xF + (eax >> 20 & 0xFF) : eax >> 8 & 0xF }
        #expect(family(intel.cpuid(1, 0).0) == 6 && family(amd.cpuid(1, 0).0) == 0x17)
        // The brand string (Linux's "model name"), NUL-terminated within the 48 bytes.
        for m in [intel, amd] {
            #expect(m.cpuid(0x8000_0000, 0).0 >= 0x8000_0004)
            let words = (0x8000_0002...0x8000_0004).flatMap { l -> [UInt32] in let r = m.cpuid(UInt32(l), 0); return [r.0, r.1, r.2, r.3] }
            #expect(string(words) == m.brand)
            #expect(m.brand.utf8.count < 48 && m.brand.hasSuffix("@ 1.00GHz"))
        }
        #expect(intel.brand.contains("Intel") && amd.brand.contains("AMD"))
        // AMD repeats leaf 1's EDX features in 0x80000001 (FPU, TSC, CMOV, MMX, FXSR); Intel does not.
        #expect(amd.cpuid(0x8000_0001, 0).3 & (1 << 0 | 1 << 4 | 1 << 15 | 1 << 23 | 1 << 24) == 1 << 0 | 1 << 4 | 1 << 15 | 1 << 23 | 1 << 24)
        #expect(intel.cpuid(0x8000_0001, 0).3 & 1 == 0)
        #expect(try CPUModel(parsing: "EPYC,-pcid").vendor == .amd && CPUModel.vendor(ofModel: "EPYC-Rome") == .amd)
        #expect(try CPUModel(parsing: "max").vendor == .intel)
    }

    /// F3 REX.B 90: Intel pauses (REX.B ignored); AMD exchanges r8 and rAX.
    @Test func pauseWithREXB() {
        for vendor in [Vendor.intel, .amd] {
            let c = cpu([0xF3, 0x41, 0x90], vendor)
            c.state.gpr[0] = 0x1111
            c.state.gpr[8] = 0x0123_4567_89AB_CDEF
            #expect(c.step() == .executed)
            #expect(c.state.gpr[0] == (vendor == .amd ? 0x89AB_CDEF : 0x1111))
            #expect(c.state.gpr[8] == (vendor == .amd ? 0x1111 : 0x0123_4567_89AB_CDEF))
        }
    }

    /// A CPU in compatibility mode (a 32-bit code segment under long mode) at CPL 3, SYSCALL enabled.
    func compatibilityMode(_ code: [UInt8], _ vendor: Vendor) -> CPU<FlatMemory> {
        let c = cpu(code, vendor)
        c.state.setSegment(.cs, SegmentState(selector: 0x23, base: 0, limit: 0xFFFF_FFFF, attributes: 0xC0FB))
        c.modeMaybeChanged()
        c.msrs[MSRIndex.star] = 0x0023_0010_0000_0000
        c.msrs[MSRIndex.lstar] = 0xFFFF_FFFF_8000_1000
        c.msrs[MSRIndex.cstar] = 0xFFFF_FFFF_8000_2000
        c.msrs[MSRIndex.fmask] = Flag.tf | Flag.if
        return c
    }

    /// SYSCALL outside 64-bit mode: #UD on Intel (Linux leaves CSTAR 0 there, and a 32-bit
    /// program's SYSCALL must not reach ring 0); AMD enters at CSTAR in 64-bit mode.
    @Test func syscallInCompatibilityMode() {
        let intel = compatibilityMode([0x0F, 0x05], .intel)
        #expect(intel.step() == .exception(.invalidOpcode))
        #expect(intel.state.rip == FlatMemory.codeBase && intel.state.cpl == 3)
        let amd = compatibilityMode([0x0F, 0x05], .amd)
        #expect(amd.step() == .executed)
        #expect(amd.state.rip == 0xFFFF_FFFF_8000_2000 && amd.state.cpl == 0 && amd.state.mode == .bits64)
        #expect(amd.state.gpr[1] == FlatMemory.codeBase + 2)
        // SYSRET back to compatibility mode works on both; from compatibility mode only on AMD.
        let sysret32: [UInt8] = [0x0F, 0x07]
        let back = compatibilityMode(sysret32, .intel)
        #expect(back.step() == .exception(.invalidOpcode), "SYSRET outside 64-bit mode")
    }

    /// The flags the SDM leaves undefined after the decimal adjustments, as each vendor's
    /// host sets them (LegacyModeTests compares every input on the host's own vendor).
    @Test func decimalAdjustFlags() {
        let status = Flag.cf | Flag.pf | Flag.af | Flag.zf | Flag.sf | Flag.of
        for vendor in [Vendor.intel, .amd] {
            // DAA with AL = 0x7A: AL + 6 = 0x80. AMD: the flags of that addition (OF set);
            // Intel: SF, ZF, PF of the result, OF clear.
            let daa = compatibilityMode([0x27], vendor)
            daa.state.gpr[0] = 0x7A
            #expect(daa.step() == .executed)
            #expect(daa.state.gpr[0] & 0xFF == 0x80)
            #expect(daa.state.rflags & status == Flag.af | Flag.sf | (vendor == .amd ? Flag.of : 0))
            // AAA with AX = 0x00FA: AX + 0x106 = 0x0200, then AL's high digit cleared. AMD: SF,
            // ZF and PF of 0x0200 (PF from its low byte: set); Intel: of AL = 0 (ZF and PF).
            let aaa = compatibilityMode([0x37], vendor)
            aaa.state.gpr[0] = 0x00FA
            #expect(aaa.step() == .executed)
            #expect(aaa.state.gpr[0] & 0xFFFF == 0x0200)
            #expect(aaa.state.rflags & status == Flag.af | Flag.cf | Flag.pf | (vendor == .amd ? 0 : Flag.zf))
            // AAD on both: the byte addition AL + AH·10 = 9 + 0xFE (from 0x33·10), CF and AF set.
            let aad = compatibilityMode([0xD5, 0x0A], vendor)
            aad.state.gpr[0] = 0x3309
            #expect(aad.step() == .executed)
            #expect(aad.state.gpr[0] & 0xFFFF == 0x0007)
            #expect(aad.state.rflags & status == Flag.cf | Flag.af)
        }
    }

    /// The x87's last-instruction pointers, as an Intel host keeps them (FIP for every
    /// non-control instruction; FOP and FDP only when one takes an unmasked exception, and
    /// kept until the next: X87Execute.swift), and as AMD does (all three every time, stored
    /// by FXSAVE only while an exception is pending).
    @Test func x87Pointers() {
        for vendor in [Vendor.intel, .amd] {
            // FLD1; then FDIV dword [rbx] by zero with ZE unmasked; then FNOP; then FXSAVE64 [rbx + 0x200].
            let c = cpu([0xD9, 0xE8, 0xD8, 0x33, 0xD9, 0xD0, 0x48, 0x0F, 0xAE, 0x83, 0x00, 0x02, 0x00, 0x00], vendor)
            c.state.gpr[3] = FlatMemory.dataBase + 0x40
            c.state.fcw = 0x37B
            #expect(c.step() == .executed)
            #expect(c.state.fip == FlatMemory.codeBase)
            #expect(c.state.fop == (vendor == .amd ? 0x1E8 : 0) && c.state.fdp == 0)
            #expect(c.step() == .executed)
            #expect(c.state.fsw & FSW.es != 0)
            #expect(c.state.fip == FlatMemory.codeBase + 2 && c.state.fop == 0x033 && c.state.fdp == FlatMemory.dataBase + 0x40)
            // FNCLEX is a control instruction: the pointers stay; FNOP is not, but takes no exception.
            c.state.fsw &= ~0x80FF
            c.state.rip = FlatMemory.codeBase + 4
            #expect(c.step() == .executed)
            #expect(c.state.fip == FlatMemory.codeBase + 4)
            #expect(c.state.fop == (vendor == .amd ? 0x1D0 : 0x033) && c.state.fdp == FlatMemory.dataBase + 0x40)
            #expect(c.step() == .executed)
            let image = c.memory.data[0x240..<0x240 + 24].map { $0 }
            let fip = (0..<8).reduce(UInt64(0)) { $0 | UInt64(image[8 + $1]) << (8 * UInt64($1)) }
            // No exception is pending: AMD stores zeros; Intel stores what it holds.
            #expect(fip == (vendor == .amd ? 0 : FlatMemory.codeBase + 4))
        }
        // CPUID.7.0:EBX: FDP_EXCPTN_ONLY (6) and FCS/FDS deprecated (13) on the Intel model only.
        #expect(CPUModel().cpuid(7, 0).1 & (1 << 6 | 1 << 13) == 1 << 6 | 1 << 13)
        #expect(CPUModel(vendor: .amd).cpuid(7, 0).1 & (1 << 6 | 1 << 13) == 0)
    }

    /// FXRSTOR's reading of FIP and FDP, as an Intel host (LA57) shows it: with REX.W, FDP whole
    /// and FIP sign-extended from bit 56; without, both cut to their low halves.
    @Test func x87PointerWidths() {
        for vendor in [Vendor.intel, .amd] {
            for wide in [true, false] {
                var data = [UInt8](repeating: 0, count: FlatMemory.dataSize)
                data[0] = 0x7F; data[1] = 0x03; data[24] = 0x80; data[25] = 0x1F
                for i in 0..<8 {
                    data[8 + i] = UInt8(truncatingIfNeeded: UInt64(0x0100_0000_0000_5678) >> (8 * UInt64(i)))
                    data[16 + i] = UInt8(truncatingIfNeeded: UInt64(0x8000_0000_0000_1234) >> (8 * UInt64(i)))
                }
                let c = CPU(memory: FlatMemory(data: data, code: (wide ? [0x48] : []) + [0x0F, 0xAE, 0x0B]), model: CPUModel(vendor: vendor))
                c.state.rip = FlatMemory.codeBase
                c.state.gpr[3] = FlatMemory.dataBase
                #expect(c.step() == .executed)
                if wide {
                    #expect(c.state.fip == (vendor == .intel ? 0xFF00_0000_0000_5678 : 0x0100_0000_0000_5678))
                    #expect(c.state.fdp == 0x8000_0000_0000_1234)
                } else {
                    #expect(c.state.fip == 0x5678 && c.state.fdp == 0x1234)
                }
            }
        }
    }

    /// FPREM stopped by an unmasked exception (here 1 rem 0, invalid): an Intel host clears C1
    /// and C2 and keeps C0 and C3 (cpu-check, seed 4, found it with an unnormal divisor); AMD
    /// keeps C2 (no AMD host has contradicted it), C1 cleared as by any other unmasked exception.
    @Test func remainderStoppedByAnUnmaskedException() {
        for vendor in [Vendor.intel, .amd] {
            let c = cpu([0xD9, 0xEE, 0xD9, 0xE8, 0xD9, 0xF8], vendor) // fldz; fld1; fprem
            c.state.fcw = 0x37E
            #expect(c.step() == .executed && c.step() == .executed)
            c.state.fsw |= FSW.conditions
            #expect(c.step() == .executed)
            #expect(c.state.fsw & FSW.es != 0)
            #expect(c.state.fsw & FSW.conditions == (vendor == .intel ? FSW.c0 | FSW.c3 : FSW.c0 | FSW.c2 | FSW.c3))
        }
    }

    /// FST to a non-canonical address with an unmasked invalid operation (ST(0) empty): an
    /// Intel host stores nothing and raises no #GP (cpu-check, x87 seed 21); AMD checks the
    /// address first.
    @Test func x87StoreFaultOrder() {
        for vendor in [Vendor.intel, .amd] {
            let c = cpu([0xD9, 0x13], vendor) // fst dword [rbx]
            c.state.gpr[3] = 0x8000_0000_1000_0000
            c.state.fcw = 0x37E
            c.state.ftw = 0xFFFF
            let r = c.step()
            if vendor == .intel {
                #expect(r == .executed && c.state.fsw & (FSW.es | 0x41) == FSW.es | 0x41)
            } else {
                #expect(r == .exception(.generalProtection(0)) && c.state.fsw == 0)
            }
        }
    }

    /// SYSRET with a non-canonical RCX: Intel raises #GP(0) in ring 0; AMD returns and the
    /// fetch faults in ring 3.
    @Test func sysretNonCanonical() {
        for vendor in [Vendor.intel, .amd] {
            let c = cpu([0x48, 0x0F, 0x07], vendor)
            c.state.cpl = 0
            c.msrs[MSRIndex.star] = 0x0023_0010_0000_0000
            c.state.gpr[1] = 0x0000_8000_0000_0000
            c.state.gpr[11] = 0x202
            let r = c.step()
            if vendor == .intel {
                #expect(r == .exception(.generalProtection(0)) && c.state.cpl == 0)
            } else {
                #expect(r == .executed && c.state.cpl == 3 && c.state.rip == 0x0000_8000_0000_0000)
            }
        }
    }

    /// SYSENTER and SYSEXIT are #UD in long mode on AMD.
    @Test func sysenterInLongMode() {
        for vendor in [Vendor.intel, .amd] {
            let c = cpu([0x0F, 0x34], vendor)
            c.msrs[MSRIndex.sysenterCS] = 0x10
            let r = c.step()
            #expect(vendor == .amd ? r == .exception(.invalidOpcode) : r == .executed)
        }
    }

    /// Single-step around SYSCALL and SYSRET: the trap follows TF at the end of the instruction
    /// (kvm-unit-tests x86/syscall.c): a SYSCALL whose FMASK clears TF does not trap, one whose
    /// FMASK keeps it does; a SYSRET that sets TF traps before the next instruction.
    @Test func singleStepOverSyscallAndSysret() {
        for (mask, traps) in [(Flag.tf, false), (0, true)] {
            let c = cpu([0x0F, 0x05], .intel)
            c.msrs[MSRIndex.star] = 0x0023_0010_0000_0000
            c.msrs[MSRIndex.lstar] = FlatMemory.codeBase + 0x100
            c.msrs[MSRIndex.fmask] = mask
            c.state.rflags |= Flag.tf
            _ = c.debugStep()
            #expect((c.state.dr(6) & DR6Bit.bs != 0) == traps, "FMASK \(mask)")
        }
        // SYSRET to 64-bit mode with R11.TF set, entered with TF clear.
        let c = cpu([0x48, 0x0F, 0x07, 0x90], .intel)
        c.state.cpl = 0
        c.msrs[MSRIndex.star] = 0x0023_0010_0000_0000
        c.state.gpr[1] = FlatMemory.codeBase + 3
        c.state.gpr[11] = 0x202 | Flag.tf
        #expect(c.step() == .executed)
        #expect(c.state.pendingSingleStep && c.state.rip == FlatMemory.codeBase + 3)
        _ = c.debugStep()
        #expect(c.state.dr(6) & DR6Bit.bs != 0, "the trap comes before the NOP runs")
        #expect(!c.state.pendingSingleStep)
    }

    /// DPPS with NaN products in both halves (the case an Intel host found): AMD gives lane 0's
    /// sum, (p0 + p1) + (p2 + p3), to every lane; Intel sums each lane from its own pair first.
    @Test func dppsNaNPropagation() {
        // dpps xmm14, xmm0, 0xef: products of lanes 1-3, written to every lane.
        for vendor in [Vendor.intel, .amd] {
            let c = cpu([0x66, 0x4C, 0x0F, 0x3A, 0x40, 0xF0, 0xEF], vendor)
            c.state.setXMM(14, (lo: 0x36E6_3B6F_6A9E_F3AD, hi: 0xBC02_B6B0_7FF7_9805))
            c.state.setXMM(0, (lo: 0x7FF4_867B_0000_0000, hi: 0x3E13_4CF3_7695_B329))
            #expect(c.step() == .executed)
            let (lo, hi) = c.state.xmm(14)
            #expect(lo == 0x7FF4_867B_7FF4_867B)
            #expect(hi == (vendor == .intel ? 0x7FF7_9805_7FF7_9805 : 0x7FF4_867B_7FF4_867B))
        }
    }

    /// Which product's NaN each lane of DPPS 0xFF gets, for every set of NaN products (1.0
    /// elsewhere), as an Intel host (Sapphire Rapids class) gives it: lane i is
    /// (pi^1 + pi) + (pi^3 + pi^2). AMD gives every lane (p0 + p1) + (p2 + p3): the lowest.
    /// DPPD 0x33: Intel lane i is pi + pi^1; AMD p0 + p1 in both.
    @Test func dotProductNaNOrder() {
        let intel: [Int: [Int]] = [
            0b0001: [0, 0, 0, 0], 0b0010: [1, 1, 1, 1], 0b0011: [1, 0, 1, 0], 0b0100: [2, 2, 2, 2],
            0b0101: [0, 0, 2, 2], 0b0110: [1, 1, 2, 2], 0b0111: [1, 0, 2, 2], 0b1000: [3, 3, 3, 3],
            0b1001: [0, 0, 3, 3], 0b1010: [1, 1, 3, 3], 0b1011: [1, 0, 3, 3], 0b1100: [3, 2, 3, 2],
            0b1101: [0, 0, 3, 2], 0b1110: [1, 1, 3, 2], 0b1111: [1, 0, 3, 2],
        ]
        for vendor in [Vendor.intel, .amd] {
            for (set, lanes) in intel {
                // dpps xmm1, xmm2, 0xff
                let c = cpu([0x66, 0x0F, 0x3A, 0x40, 0xCA, 0xFF], vendor)
                let a = (0..<4).map { UInt64(set >> $0 & 1 != 0 ? 0x7FC0_0000 | UInt32($0 + 1) << 4 : 0x3F80_0000) }
                c.state.setXMM(1, (lo: a[0] | a[1] << 32, hi: a[2] | a[3] << 32))
                c.state.setXMM(2, (lo: 0x3F80_0000_3F80_0000, hi: 0x3F80_0000_3F80_0000))
                #expect(c.step() == .executed)
                let (lo, hi) = c.state.xmm(1)
                let got = [lo & 0xFFFF_FFFF, lo >> 32, hi & 0xFFFF_FFFF, hi >> 32].map { Int($0 >> 4 & 0xF) - 1 }
                let expected = vendor == .intel ? lanes : [Int](repeating: set.trailingZeroBitCount, count: 4)
                #expect(got == expected, "\(vendor) NaN products \(String(set, radix: 2))")
            }
            // dppd xmm1, xmm2, 0x33 with NaNs in both products.
            let c = cpu([0x66, 0x0F, 0x3A, 0x41, 0xCA, 0x33], vendor)
            c.state.setXMM(1, (lo: 0x7FF8_0000_0000_0010, hi: 0x7FF8_0000_0000_0020))
            c.state.setXMM(2, (lo: 0x3FF0_0000_0000_0000, hi: 0x3FF0_0000_0000_0000))
            #expect(c.step() == .executed)
            let (lo, hi) = c.state.xmm(1)
            #expect(lo == 0x7FF8_0000_0000_0010 && hi == (vendor == .intel ? 0x7FF8_0000_0000_0020 : 0x7FF8_0000_0000_0010))
        }
    }
}

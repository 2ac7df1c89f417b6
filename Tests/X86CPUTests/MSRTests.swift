import Testing
import X86CPU

/// WRMSR/RDMSR's #GP(0) rules from the SDM, register by register.
@Suite struct MSRTests {
    let gp = CPUException.generalProtection(0)

    @Test func eferBits() throws {
        var m = ModelSpecificRegisters()
        try m.write(MSRIndex.efer, 1 << 0 | 1 << 8 | 1 << 11, longModeActive: false)
        #expect(try m.read(MSRIndex.efer, tsc: 0) == 0x901)
        #expect(throws: gp) { try m.write(MSRIndex.efer, 0x901 | 1 << 1, longModeActive: false) }   // reserved bit
        #expect(throws: gp) { try m.write(MSRIndex.efer, 0x901 | 1 << 10, longModeActive: false) }  // LMA is read-only
        #expect(throws: gp) { try m.write(MSRIndex.efer, 0x801, longModeActive: true) }             // LME under paging
    }

    @Test func canonicalBasesAndHalves() throws {
        var m = ModelSpecificRegisters()
        try m.write(MSRIndex.lstar, 0xFFFF_8000_0000_1000, longModeActive: true)
        #expect(try m.read(MSRIndex.lstar, tsc: 0) == 0xFFFF_8000_0000_1000)
        for index in [MSRIndex.lstar, MSRIndex.cstar, MSRIndex.fsBase, MSRIndex.gsBase, MSRIndex.kernelGSBase] {
            #expect(throws: gp) { try m.write(index, 0x0000_8000_0000_0000, longModeActive: true) }
        }
        #expect(throws: gp) { try m.write(MSRIndex.tscAux, 1 << 32, longModeActive: true) }
        #expect(throws: gp) { try m.write(MSRIndex.fmask, 1 << 40, longModeActive: true) }
    }

    /// Linux's early_init_intel writes 0 to IA32_BIOS_SIGN_ID and reads the microcode
    /// revision back (SDM vol. 3, 9.11.7.1): no #GP, and 0 with no microcode loaded.
    @Test func microcodeSignature() throws {
        var m = ModelSpecificRegisters()
        try m.write(MSRIndex.biosSignID, 0, longModeActive: true)
        #expect(try m.read(MSRIndex.biosSignID, tsc: 0) == 0)
    }

    @Test func timeStampCounterIsGuestTime() throws {
        var m = ModelSpecificRegisters()
        #expect(try m.read(MSRIndex.tsc, tsc: 12345) == 12345)
        try m.write(MSRIndex.tsc, 7, longModeActive: false)
        #expect(try m.read(MSRIndex.tsc, tsc: 99) == 99)
    }

    @Test func patAndMTRRs() throws {
        var m = ModelSpecificRegisters()
        #expect(try m.read(MSRIndex.pat, tsc: 0) == 0x0007_0406_0007_0406)
        try m.write(MSRIndex.pat, 0x0001_0506_0007_0406, longModeActive: false)
        #expect(throws: gp) { try m.write(MSRIndex.pat, 0x0000_0000_0000_0002, longModeActive: false) }  // type 2
        #expect(throws: gp) { try m.write(MSRIndex.pat, 0x0000_0000_0000_0808, longModeActive: false) }  // bit 3
        #expect(try m.read(MSRIndex.mtrrCap, tsc: 0) == 0x508)
        #expect(throws: gp) { try m.write(MSRIndex.mtrrCap, 0, longModeActive: false) }
        try m.write(MSRIndex.mtrrDefType, 1 << 11 | 1 << 10 | 6, longModeActive: false)
        #expect(throws: gp) { try m.write(MSRIndex.mtrrDefType, 1 << 11 | 2, longModeActive: false) }
        try m.write(0x200, 0x8000_0000 | 6, longModeActive: false)
        #expect(throws: gp) { try m.write(0x200, 1 << 50 | 6, longModeActive: false) }          // beyond MAXPHYADDR
        #expect(throws: gp) { try m.write(0x201, 1 << 10, longModeActive: false) }              // reserved in PHYSMASK
        #expect(throws: gp) { try m.write(MSRIndex.mtrrFix64K, 0x0303_0303_0303_0303, longModeActive: false) }
    }

    @Test func apicBaseAndUnknownIndexes() throws {
        var m = ModelSpecificRegisters()
        #expect(try m.read(MSRIndex.apicBase, tsc: 0) == 0xFEE0_0900)
        #expect(throws: gp) { try m.write(MSRIndex.apicBase, 0xFEE0_0900 | 1 << 9, longModeActive: false) }
        #expect(throws: gp) { _ = try m.read(0x1234_5678, tsc: 0) }
        #expect(throws: gp) { try m.write(0x1234_5678, 0, longModeActive: false) }
    }
}

import Testing
import CPUCheck
import X86CPU

/// MOV to CR0, CR3 and CR4: the SDM's #GP(0) conditions and the switch into long mode.
@Suite struct ControlRegisterTests {
    let gp = CPUException.generalProtection(0)

    @Test func cr0Rules() throws {
        var c = ControlRegisters()
        #expect(c.cr0 == 0x6000_0010)
        #expect(throws: gp) { try c.writeCR0(CR0Bit.pg) }                          // PG without PE
        #expect(throws: gp) { try c.writeCR0(CR0Bit.pe | CR0Bit.nw) }              // NW without CD
        #expect(throws: gp) { try c.writeCR0(CR0Bit.pe | 1 << 32) }                // reserved high half
        try c.writeCR0(CR0Bit.pe)
        #expect(c.cr0 == CR0Bit.pe | CR0Bit.et, "ET reads as one")
    }

    @Test func enteringAndLeavingLongMode() throws {
        var c = ControlRegisters()
        try c.writeCR0(CR0Bit.pe)
        c.efer = EFERBit.lme
        #expect(throws: gp) { try c.writeCR0(CR0Bit.pe | CR0Bit.pg) }             // LME without PAE
        try c.writeCR4(CR4Bit.pae)
        try c.writeCR0(CR0Bit.pe | CR0Bit.pg)
        #expect(c.longModeActive)
        #expect(throws: gp) { try c.writeCR4(0) }                                  // PAE cleared in long mode
        #expect(throws: gp) { try c.writeCR4(CR4Bit.pae | CR4Bit.la57) }           // LA57 changed in long mode
        #expect(throws: gp) { try c.writeCR0(CR0Bit.pe, in64BitCode: true) }       // PG cleared from 64-bit code
        try c.writeCR0(CR0Bit.pe)                                                  // from compatibility mode
        #expect(!c.longModeActive)
    }

    @Test func cr4AndCR3() throws {
        var c = ControlRegisters()
        #expect(throws: gp) { try c.writeCR4(1 << 13) }                            // VMXE: not implemented
        #expect(throws: gp) { try c.writeCR4(CR4Bit.pae | CR4Bit.pcide) }          // PCIDE outside long mode
        c.efer = EFERBit.lme
        try c.writeCR4(CR4Bit.pae)
        try c.writeCR0(CR0Bit.pe | CR0Bit.pg)
        try c.writeCR3(0x1000 | 5)                                                 // PCID 5
        #expect(throws: gp) { try c.writeCR4(CR4Bit.pae | CR4Bit.pcide) }          // PCIDE with a nonzero PCID
        try c.writeCR3(0x1000)
        try c.writeCR4(CR4Bit.pae | CR4Bit.pcide)
        try c.writeCR3(1 << 63 | 0x2000 | 7)                                       // bit 63: no-flush, not stored
        #expect(c.cr3 == 0x2007)
        #expect(throws: gp) { try c.writeCR3(1 << 50) }                            // beyond MAXPHYADDR
    }
}

/// MOV to CR8 exits to the monitor only below its TPR threshold (VMX's TPR threshold): the
/// monitor's local APIC holds an interrupt of that priority class back, and the lower TPR
/// lets it through; any other CR8 write runs on without an exit.
@Suite struct TPRThresholdTests {
    @Test(arguments: [(UInt64(4), UInt64(5), true), (5, 5, false), (9, 5, false), (0, 0, false), (15, 0, false), (0, 1, true)])
    func cr8WritesExitBelowTheThreshold(_ value: UInt64, _ threshold: UInt64, _ exits: Bool) {
        // mov cr8, rax; nop; nop
        let c = CPU(memory: FlatMemory(data: [UInt8](repeating: 0, count: FlatMemory.dataSize), code: [0x44, 0x0F, 0x22, 0xC0, 0x90, 0x90]),
                    model: CPUModel())
        c.state.rip = FlatMemory.codeBase
        c.state.setSegment(.cs, SegmentState(selector: 0x08, base: 0, limit: 0xFFFF_FFFF, attributes: 0xA09B))
        c.state.cpl = 0
        c.modeMaybeChanged()
        c.state.cr8 = 15
        c.state.gpr[0] = value
        c.tprThreshold = threshold
        let stop = c.run(limit: 3)
        #expect(stop == (exits ? .exit(.interruptWindow) : .limit))
        #expect(c.state.cr8 == value)
        #expect(c.state.rip == FlatMemory.codeBase + (exits ? 4 : 6))
    }
}

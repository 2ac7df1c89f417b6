import Testing
import X86
import X86CPU

/// The named register file: the typed views write the fields they name, copies carry
/// everything, and the system-state comparison that decides whether the TLB and decoded code
/// survive a state write sees exactly the fields translation and decoding depend on.
@Suite struct RegisterFileTests {
    @Test func viewsWriteTheirFields() {
        let s = CPUState()
        s.rsp = 0x1234
        #expect(s.gpr[GPR.rsp] == 0x1234 && s.file.pointee.gprs.4 == 0x1234)
        s.setSegment(.fs, SegmentState(selector: 0x10, base: 0xABC0, limit: 0xFFF, attributes: 0x93))
        #expect(s.fsBase == 0xABC0 && s.file.pointee.segmentBases.4 == 0xABC0 && s.file.pointee.selectors.4 == 0x10)
        s.setXMM(15, (lo: 1, hi: 2))
        #expect(s.file.pointee.xmm.1.14 == 1 && s.file.pointee.xmm.1.15 == 2)
        s.setX87Register(7, (significand: 3, se: 0x4000))
        #expect(s.file.pointee.x87.14 == 3 && s.file.pointee.x87.15 == 0x4000)
        s.setDR(7, 0x400)
        #expect(s.file.pointee.dr.7 == 0x400)
        #expect(s.file.pointee.mxcsr == 0x1F80 && s.file.pointee.fcw == 0x37F && s.file.pointee.ftw == 0xFFFF)
    }

    @Test func copiesAndSystemComparison() {
        let a = CPUState(), b = CPUState()
        a.rax = 7
        a.setXMM(3, (lo: 9, hi: 10))
        b.copy(from: a)
        #expect(b.rax == 7 && b.xmm(3) == (lo: 9, hi: 10))
        #expect(b.sameSystemState(as: a))
        b.rax = 8
        b.rip = 0x1000
        #expect(b.sameSystemState(as: a), "general registers and RIP are not system state")
        b.cr3 = 0x5000
        #expect(!b.sameSystemState(as: a), "CR3 is")
        b.copy(from: a)
        b.cpl = 0
        #expect(!b.sameSystemState(as: a), "the CPL is")
        b.copy(from: a)
        b.setSegment(.tr, SegmentState(selector: 0x28, base: 0, limit: 0x67, attributes: 0x8B))
        #expect(!b.sameSystemState(as: a), "TR is")
    }

    /// RESET (SDM vol. 3, table 9-1) clears the general and system registers but leaves the
    /// x87 and SSE registers as they were.
    @Test func resetKeepsFloatingPointState() {
        let s = CPUState()
        s.rax = 5
        s.setXMM(0, (lo: 11, hi: 12))
        s.fcw = 0x27F
        s.resetToPowerOn(signature: 0x806F8)
        #expect(s.rax == 0 && s.rdx == 0x806F8 && s.rip == 0xFFF0 && s.rflags == 2)
        #expect(s.xmm(0) == (lo: 11, hi: 12) && s.fcw == 0x27F)
        #expect(s.segment(.cs).base == 0xFFFF_0000 && s.cr0 == CR0Bit.cd | CR0Bit.nw | CR0Bit.et && s.mode == .bits16)
    }
}

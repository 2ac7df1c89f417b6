import Testing
import X86CPU

/// 64-bit IDT delivery as the SDM lays it out (vol. 3, 6.12-6.14).
@Suite struct InterruptDeliveryTests {
    /// A gate to `offset` through selector 0x08.
    func gate(_ offset: UInt64, type: UInt64 = 0xE, dpl: UInt64 = 0, ist: UInt64 = 0, present: Bool = true) -> InterruptGate {
        let low = offset & 0xFFFF | 0x08 << 16 | ist << 32 | type << 40 | dpl << 45 | (present ? 1 << 47 : 0)
            | ((offset >> 16) & 0xFFFF) << 48
        return InterruptGate(low: low, high: offset >> 32)
    }
    let kernelCode = SegmentDescriptor(0x00AF_9B00_0000_FFFF)
    func deliver(_ g: InterruptGate, code: SegmentDescriptor? = nil, cpl: Int, source: InterruptSource = .external,
                 error: UInt64? = nil, rsp: UInt64 = 0x7FFF_F000_0008) -> Result<InterruptFrame, SegmentFault> {
        InterruptDelivery.target(vector: 14, gate: g, code: code ?? kernelCode, cpl: cpl, source: source).map { t in
            // A TSS whose RSP0 (offset 4) and IST1 (0x24) are set, the rest zero.
            let tss: [UInt64: UInt64] = [4: 0xFFFF_8000_0001_0008, 0x24: 0xFFFF_8000_0002_0000]
            return InterruptDelivery.frame(t, errorCode: error, rip: 0x40_1000, cs: 0x33, rflags: 0x202 | 1 << 8, rsp: rsp,
                                           ss: 0x2B, stack: t.tssStackOffset.map { tss[$0] ?? 0 } ?? 0xDEAD_BEEF)
        }
    }

    @Test func gateFields() {
        let g = gate(0xFFFF_8000_1234_5678, type: 0xF, dpl: 3, ist: 2)
        #expect(g.offset == 0xFFFF_8000_1234_5678 && g.selector.value == 0x08 && g.ist == 2 && g.dpl == 3)
        #expect(!g.isInterruptGate && g.present)
    }

    @Test func idtLimit() {
        #expect(InterruptDelivery.gateAddress(vector: 14, idtBase: 0x1000, idtLimit: 0xEF, source: .external) == .success(0x10E0))
        #expect(InterruptDelivery.gateAddress(vector: 14, idtBase: 0x1000, idtLimit: 0xEE, source: .external)
                == .failure(.generalProtection(14 * 8 + 2 + 1)))
    }

    @Test func userToKernelWithErrorCode() throws {
        let f = try deliver(gate(0xFFFF_8000_0000_2000), cpl: 3, error: 0x6).get()
        // The TSS's RSP0, aligned to 16, then SS, RSP, RFLAGS, CS, RIP and the error code.
        #expect(f.rsp == UInt64(0xFFFF_8000_0001_0000) - 48)
        #expect(f.pushed == [0x2B, 0x7FFF_F000_0008, 0x302, 0x33, 0x40_1000, 6])
        #expect(f.cs.value == 0x08 && f.cpl == 0 && f.ss == SegmentSelector(0) && f.rip == 0xFFFF_8000_0000_2000)
        #expect(f.clearFlags == 1 << 8 | 1 << 14 | 1 << 16 | 1 << 9, "an interrupt gate clears IF too")
    }

    @Test func sameLevelAndIST() throws {
        // CPL 0: the current stack, aligned down to 16; SS:RSP are pushed all the same.
        let same = try deliver(gate(0x2000, type: 0xF), cpl: 0).get()
        #expect(same.rsp == 0x7FFF_F000_0000 - 40 && same.ss == nil && same.clearFlags & (1 << 9) == 0)
        // IST 1 is used even without a privilege change.
        let ist = try deliver(gate(0x2000, ist: 1), cpl: 0).get()
        #expect(ist.rsp == UInt64(0xFFFF_8000_0002_0000) - 40)
    }

    @Test func stackFromTheTSS() throws {
        // IST n at 0x24 + 8(n-1) (SDM vol. 3, figure 8-11), RSP0 at 4 on a change to ring 0, and no
        // TSS read at all for a same-level delivery without IST.
        let t = { (g: InterruptGate, cpl: Int) in try InterruptDelivery.target(vector: 14, gate: g, code: self.kernelCode, cpl: cpl, source: .external).get() }
        #expect(try t(gate(0x2000, ist: 3), 0).tssStackOffset == 0x34)
        #expect(try t(gate(0x2000, ist: 7), 3).tssStackOffset == 0x54)
        #expect(try t(gate(0x2000), 3).tssStackOffset == 4)
        #expect(try t(gate(0x2000), 0).tssStackOffset == nil)
    }

    @Test func faults() {
        #expect(deliver(gate(0x2000, dpl: 0), cpl: 3, source: .software) == .failure(.generalProtection(14 * 8 + 2)))
        #expect(deliver(gate(0x2000, dpl: 3), cpl: 3, source: .software).map(\.cpl) == .success(0))
        #expect(deliver(gate(0x2000, present: false), cpl: 0) == .failure(.notPresent(14 * 8 + 3)))
        #expect(deliver(gate(0x2000, type: 0xC), cpl: 0) == .failure(.generalProtection(14 * 8 + 3)), "a call gate")
        let compatibilityCode = SegmentDescriptor(0x00CF_9B00_0000_FFFF)
        #expect(deliver(gate(0x2000), code: compatibilityCode, cpl: 0) == .failure(.generalProtection(0x09)))
    }
}

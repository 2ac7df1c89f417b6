import Testing
import X86CPU

/// Descriptor fields (SDM vol. 3, figure 3-8) and the MOV/POP Sreg checks (vol. 2).
@Suite struct SegmentTests {
    let code64 = SegmentDescriptor(0x00AF_9B00_0000_FFFF)   // 64-bit code, DPL 0, accessed
    let data = SegmentDescriptor(0x00CF_9300_0000_FFFF)     // flat 4 GiB read/write data, DPL 0
    func with(_ d: SegmentDescriptor, dpl: Int? = nil, type: Int? = nil, present: Bool = true) -> SegmentDescriptor {
        var raw = d.raw
        if let dpl { raw = raw & ~(3 << 45) | UInt64(dpl) << 45 }
        if let type { raw = raw & ~(0xF << 40) | UInt64(type) << 40 }
        if !present { raw &= ~(1 << 47) }
        return SegmentDescriptor(raw)
    }

    @Test func fields() {
        #expect(code64.isCode && code64.longMode && !code64.defaultBig && code64.limit == 0xFFFF_FFFF && code64.dpl == 0)
        #expect(data.isWritable && data.defaultBig && data.limit == 0xFFFF_FFFF && data.base == 0)
        // Base 0x12345678 in its three pieces, a byte-granular limit of 0x5_4321.
        let odd = SegmentDescriptor(0x1205_F234_5678_4321)
        #expect(odd.base == 0x1234_5678 && odd.limit == 0x5_4321 && odd.dpl == 3 && odd.isData && odd.isExpandDown == false)
        #expect(!SegmentDescriptor(0x0000_8200_0000_0000).isReadable, "an LDT descriptor is no data segment")
    }

    @Test func tableLimits() {
        let s = SegmentSelector(3 << 3)
        #expect(Segmentation.descriptorAddress(s, tableBase: 0x1000, tableLimit: 0x17) == nil)
        #expect(Segmentation.descriptorAddress(s, tableBase: 0x1000, tableLimit: 0x1F) == 0x1018)
        #expect(Segmentation.descriptorAddress(s, tableBase: 0x1000, tableLimit: 0x1F, size: 16) == nil)
    }

    @Test func dataSegmentLoads() {
        let sel = SegmentSelector(0x10 | 3)
        #expect(Segmentation.checkLoad(SegmentSelector(0), nil, cpl: 3, stack: false, sixtyFourBit: false) == nil)
        #expect(Segmentation.checkLoad(sel, nil, cpl: 3, stack: false, sixtyFourBit: false) == .generalProtection(0x10))
        #expect(Segmentation.checkLoad(sel, data, cpl: 3, stack: false, sixtyFourBit: false) == .generalProtection(0x10),
                "DPL 0 data from CPL 3")
        #expect(Segmentation.checkLoad(sel, with(data, dpl: 3), cpl: 3, stack: false, sixtyFourBit: false) == nil)
        #expect(Segmentation.checkLoad(sel, with(data, dpl: 3, present: false), cpl: 3, stack: false, sixtyFourBit: false)
                == .notPresent(0x10))
        #expect(Segmentation.checkLoad(sel, with(code64, type: 0x8), cpl: 3, stack: false, sixtyFourBit: false)
                == .generalProtection(0x10), "execute-only code")
        #expect(Segmentation.checkLoad(sel, with(code64, type: 0xE), cpl: 3, stack: false, sixtyFourBit: false) == nil,
                "readable conforming code of any DPL")
    }

    @Test func stackSegmentLoads() {
        #expect(Segmentation.checkLoad(SegmentSelector(0), nil, cpl: 0, stack: true, sixtyFourBit: true) == nil)
        #expect(Segmentation.checkLoad(SegmentSelector(0), nil, cpl: 0, stack: true, sixtyFourBit: false) == .generalProtection(0))
        #expect(Segmentation.checkLoad(SegmentSelector(3), nil, cpl: 3, stack: true, sixtyFourBit: true) == .generalProtection(0))
        let sel = SegmentSelector(0x18)
        #expect(Segmentation.checkLoad(sel, data, cpl: 0, stack: true, sixtyFourBit: false) == nil)
        #expect(Segmentation.checkLoad(SegmentSelector(0x1B), data, cpl: 0, stack: true, sixtyFourBit: false)
                == .generalProtection(0x18), "RPL differs from CPL")
        #expect(Segmentation.checkLoad(sel, with(data, type: 0x1), cpl: 0, stack: true, sixtyFourBit: false)
                == .generalProtection(0x18), "read-only data")
        #expect(Segmentation.checkLoad(sel, with(data, present: false), cpl: 0, stack: true, sixtyFourBit: false)
                == .stackFault(0x18))
    }
}

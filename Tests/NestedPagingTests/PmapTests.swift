import Testing
import X86
import GuestMemory
@testable import NestedPaging

@Suite struct PmapBehaviour {
    func make(_ format: PmapFormat, _ mode: AccessedDirtyMode = .hardware) throws -> (HostPhysicalMemory, Pmap) {
        let host = try HostPhysicalMemory(frames: 4096)
        return (host, try Pmap(format: format, adMode: mode, host: host))
    }
    func g(_ v: UInt64) -> GuestPhysicalAddress { GuestPhysicalAddress(v) }
    func h(_ v: UInt64) -> HostPhysicalAddress { HostPhysicalAddress(v) }

    /// The bits a walker reads are the architectural ones: EPT R/W/X, memory type 6,
    /// ignore-PAT, large page bit 7; NPT P/RW/US, PS, NX.
    @Test func entryLayouts() throws {
        let (_, ept) = try make(.ept)
        try ept.enter(g(0x20_0000), h(0x4000_0000), [.read, .write], size: .size2M)
        let e = ept.leafPointer(g(0x20_0000))!.pointee
        #expect(e == 0x4000_0000 | 0b011 | 6 << 3 | 1 << 6 | 1 << 7)
        let (_, npt) = try make(.npt)
        try npt.enter(g(0x1000), h(0x5000), .read)
        #expect(npt.leafPointer(g(0x1000))!.pointee == UInt64(0x5000) | 1 | 1 << 2 | 1 << 63)
        // Hardware A/D: a read sets A on every level, a write sets D on the leaf.
        _ = npt.translate(g(0x1234), .read)
        #expect(npt.accessedDirty(g(0x1000))! == (true, false))
        #expect(npt.entryPointer(npt.root, 0).pointee & (1 << 5) != 0, "A on the top-level entry")
    }

    @Test func splitsAndPartialRanges() throws {
        let (host, p) = try make(.ept)
        try p.enter(g(0x4000_0000), h(0x8000_0000), .all, size: .size1G)
        #expect(p.tableFrames == 2) // the root and the level-3 table holding the leaf
        // A 4 KiB page inside the 1 GiB leaf: split to 2 MiB, then to 4 KiB; the rest stays mapped.
        try p.enter(g(0x4020_1000), h(0x7000), .read)
        #expect(p.leafCounts == [.size1G: 0, .size2M: 511, .size4K: 512])
        #expect(p.extract(g(0x4020_1010))!.hpa == h(0x7010))
        #expect(p.extract(g(0x4020_2000))!.hpa == h(0x8020_2000))
        #expect(p.extract(g(0x7FFF_FFFF))! == (h(0xBFFF_FFFF), .all, .size2M))
        // remove over part of a 2 MiB leaf removes just those pages.
        try p.remove(g(0x4060_0000), length: 0x3000)
        #expect(p.extract(g(0x4060_2FFF)) == nil && p.extract(g(0x4060_3000))?.hpa == h(0x8060_3000))
        // protect over part of a 2 MiB leaf changes just those pages.
        try p.protect(g(0x4080_0000), length: 0x1000, .read)
        #expect(p.extract(g(0x4080_0000))?.protection == .read && p.extract(g(0x4080_1000))?.protection == .all)
        // A 2 MiB leaf over 4 KiB mappings replaces them, freeing their table.
        let frames = p.tableFrames
        try p.enter(g(0x4020_0000), h(0x9000_0000), .read, size: .size2M)
        #expect(p.tableFrames == frames - 1)
        #expect(p.extract(g(0x4020_1000))?.hpa == h(0x9000_1000))
        // Removing everything frees every table but the root; destroy frees that too.
        try p.remove(g(0), length: 1 << 40)
        #expect(p.entryCount == 0 && p.tableFrames == 1)
        p.destroy()
        #expect(host.liveFrames == 0)
        #expect(throws: PmapError.destroyed) { try p.enter(g(0), h(0), .read) }
    }

    @Test func violationsCarryWhatTheExitReports() throws {
        let (_, ept) = try make(.ept)
        try ept.enter(g(0x3000), h(0x9000), .read)
        guard case .failure(let v) = ept.translate(g(0x3008), .write) else { Issue.record("write allowed"); return }
        #expect(v.present && v.level == 1 && v.entryProtection == .read)
        #expect(v.eptQualification == 0b00_1010) // data write; the entry is readable
        guard case .failure(let none) = ept.translate(g(0x40_0000), .execute) else { Issue.record(); return }
        #expect(!none.present && none.eptQualification == 0b100)
        let (_, npt) = try make(.npt)
        try npt.enter(g(0x3000), h(0x9000), .read)
        guard case .failure(let w) = npt.translate(g(0x3000), .write) else { Issue.record(); return }
        #expect(w.nptErrorCode == 1 | 2 | 4 | 1 << 32)
        guard case .failure(let x) = npt.translate(g(0x3000), .execute) else { Issue.record(); return }
        #expect(x.nptErrorCode == 1 | 4 | 1 << 4 | 1 << 32)
    }

    /// bhyve's emulated A/D: the first read faults and sets A, the first write faults and
    /// sets D, and the dirty query sees exactly the written pages.
    @Test(arguments: PmapFormat.allCases)
    func emulatedAccessedDirty(format: PmapFormat) throws {
        let (_, p) = try make(format, .emulated)
        for i in 0..<8 { try p.enter(g(UInt64(i) << 12), h(0x10_0000 + UInt64(i) << 12), [.read, .write]) }
        let e = p.leafPointer(g(0))!.pointee
        #expect(e & 0b11 == 0 && e & (1 << 52) != 0 && e & (1 << 53) != 0, "intent in bits 52/53, R/W clear")
        #expect(p.accessedDirty(g(0))! == (false, false))
        // First read: a fault the emulation takes; A set; the read then goes through.
        guard case .failure(let r) = p.translate(g(0x10), .read), r.accessedDirtyFault else { Issue.record(); return }
        #expect(p.emulateAccessedDirty(g(0x10), .read))
        #expect(p.accessedDirty(g(0))! == (true, false))
        #expect((try? p.translate(g(0x10), .read).get()) != nil)
        // A write to a page only read so far faults again and sets D.
        guard case .failure(let w) = p.translate(g(0x10), .write), w.accessedDirtyFault else { Issue.record(); return }
        #expect(p.emulateAccessedDirty(g(0x10), .write))
        #expect(p.accessedDirty(g(0))! == (true, true))
        // Pages 3 and 5 written from the start.
        for page in [3, 5] as [UInt64] {
            if case .failure = p.translate(g(page << 12), .write) { p.emulateAccessedDirty(g(page << 12), .write) }
        }
        let dirty = p.dirtyPages(g(0), length: 8 << 12, clear: true).map(\.gpa.rawValue)
        #expect(dirty == [0, 0x3000, 0x5000])
        #expect(p.dirtyPages(g(0), length: 8 << 12).isEmpty, "cleared")
        // After clearing, the next write faults again (and is seen).
        guard case .failure(let again) = p.translate(g(0x5000), .write), again.accessedDirtyFault else { Issue.record(); return }
        // A read-only page's write is a real violation, not an A/D fault.
        try p.enter(g(0x9000), h(0x9000), .read)
        guard case .failure(let ro) = p.translate(g(0x9000), .write) else { Issue.record(); return }
        #expect(!ro.accessedDirtyFault && !p.emulateAccessedDirty(g(0x9000), .write))
    }

    @Test func hardwareDirtyQuery() throws {
        let (_, p) = try make(.ept)
        try p.enter(g(0), h(0x20_0000), .all, size: .size2M)
        try p.enter(g(0x20_0000), h(0x1000), .all)
        try p.enter(g(0x20_1000), h(0x2000), .all)
        _ = p.translate(g(0x20_1008), .write)
        _ = p.translate(g(0x20_0008), .read)
        _ = p.translate(g(0x1F_FFFF), .write)
        let gen = p.generation
        #expect(p.dirtyPages(g(0), length: 0x40_0000, clear: true).map { "\($0.gpa.rawValue) \($0.size)" }
                == ["0 2M", "\(0x20_1000) 4K"])
        #expect(p.generation != gen)
        #expect(p.dirtyPages(g(0), length: 0x40_0000).isEmpty)
    }

    @Test func badInput() throws {
        let (_, p) = try make(.npt)
        #expect(throws: PmapError.misaligned(gpa: g(0x1000), hpa: h(0), size: .size2M)) {
            try p.enter(g(0x1000), h(0), .read, size: .size2M)
        }
        #expect(throws: PmapError.beyondAddressWidth(gpa: g(1 << 48), width: 48)) { try p.enter(g(1 << 48), h(0), .read) }
        #expect(throws: PmapError.noAccess(gpa: g(0))) { try p.enter(g(0), h(0), []) }
        #expect(throws: PmapError.rangeInvalid(start: g(0x10), length: 0x1000)) { try p.remove(g(0x10), length: 0x1000) }
        try p.enter(g(0), h(0), .read)
        #expect(throws: PmapError.notEmpty(entries: 1)) { try p.convert(to: .ept) }
        try p.remove(g(0), length: 0x1000)
        try p.convert(to: .ept)
        #expect(p.format == .ept)
        // The frame allocator's cap is a typed error, not a crash.
        let host = try HostPhysicalMemory(frames: 2)
        let small = try Pmap(format: .ept, host: host)
        #expect(throws: PmapError.host(.outOfFrames(cap: 2))) { try small.enter(g(0), h(0), .read) }
    }

    @Test func fiveLevels() throws {
        let host = try HostPhysicalMemory(frames: 64)
        let p = try Pmap(format: .npt, levels: 5, addressWidth: 52, host: host)
        try p.enter(g(0x000F_0000_0000_0000), h(0x1000), .read)
        #expect(p.extract(g(0x000F_0000_0000_0123))?.hpa == h(0x1123))
        #expect(p.tableFrames == 5)
    }
}

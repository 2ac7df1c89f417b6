import Testing
import X86CPU

/// Page tables in a dictionary of 8-byte entries by guest physical address.
final class TableMemory: GuestPageTables {
    var entries: [UInt64: UInt64] = [:]
    var unbacked: Set<UInt64> = []
    func readEntry(_ gpa: UInt64) -> UInt64? { unbacked.contains(gpa & ~0xFFF) ? nil : entries[gpa] ?? 0 }
    func setEntryBits(_ gpa: UInt64, _ bits: UInt64) { entries[gpa, default: 0] |= bits }
}

/// Cases from the SDM's rules (vol. 3, 4.5-4.7), each with the error code it prescribes.
@Suite struct GuestPagingTests {
    // PML4 at 0x1000, PDPT 0x2000, PD 0x3000, PT 0x4000; VA 0x40_0000 -> PML4[0], PDPT[0], PD[2], PT[0].
    let va: UInt64 = 0x40_0123
    func tables(leaf: UInt64 = 0x8000 | 7, pd: UInt64 = 0x4000 | 7, pdpt: UInt64 = 0x3000 | 7, pml4: UInt64 = 0x2000 | 7) -> TableMemory {
        let m = TableMemory()
        m.entries[0x1000] = pml4
        m.entries[0x2000] = pdpt
        m.entries[0x3000 + 2 * 8] = pd
        m.entries[0x4000] = leaf
        return m
    }
    let control = PagingControl(cr3: 0x1000)
    func walk(_ m: TableMemory, _ kind: PagingAccess.Kind, user: Bool, _ c: PagingControl? = nil, ac: Bool = false) -> PagingResult {
        var a = PagingAccess(kind, user: user)
        a.alignmentCheckFlag = ac
        return GuestPaging.translate(va, c ?? control, a, tables: m)
    }

    @Test func translatesAndSetsAccessedAndDirty() {
        let m = tables()
        #expect(walk(m, .read, user: true) == .translated(gpa: 0x8123, pageSize: 4096))
        #expect(m.entries[0x1000]! & 0x20 != 0 && m.entries[0x3010]! & 0x20 != 0 && m.entries[0x4000]! & 0x60 == 0x20)
        _ = walk(m, .write, user: true)
        #expect(m.entries[0x4000]! & 0x40 != 0, "a write sets the leaf's dirty bit")
        #expect(m.entries[0x3010]! & 0x40 == 0, "and only the leaf's")
    }

    @Test func notPresent() {
        let m = tables(leaf: 0)
        #expect(walk(m, .read, user: false) == .pageFault(errorCode: 0))
        #expect(walk(m, .write, user: true) == .pageFault(errorCode: 6))
        #expect(walk(m, .fetch, user: false) == .pageFault(errorCode: 0x10))
        #expect(m.entries[0x1000]! & 0x20 == 0, "a faulting walk sets no accessed bits")
    }

    @Test func userAndWriteProtection() {
        // U clear at the PD level makes the whole page supervisor-only.
        #expect(walk(tables(pd: 0x4000 | 3), .read, user: true) == .pageFault(errorCode: 5))
        // Read-only at the PDPT level: user writes fault; supervisor writes fault only with CR0.WP.
        let ro = tables(pdpt: 0x3000 | 5)
        #expect(walk(ro, .write, user: true) == .pageFault(errorCode: 7))
        #expect(walk(ro, .write, user: false) == .pageFault(errorCode: 3))
        var noWP = control
        noWP.writeProtect = false
        #expect(walk(ro, .write, user: false, noWP) == .translated(gpa: 0x8123, pageSize: 4096))
    }

    @Test func executeDisableSmepSmap() {
        let nx = tables(leaf: 0x8000 | 7 | 1 << 63)
        #expect(walk(nx, .fetch, user: true) == .pageFault(errorCode: 0x15))
        #expect(walk(nx, .read, user: true) == .translated(gpa: 0x8123, pageSize: 4096))
        var noNX = control
        noNX.executeDisable = false
        #expect(walk(nx, .read, user: true, noNX) == .pageFault(errorCode: 0xD), "bit 63 is reserved without NXE")
        var smep = control
        smep.smep = true
        #expect(walk(tables(), .fetch, user: false, smep) == .pageFault(errorCode: 0x11))
        var smap = control
        smap.smap = true
        #expect(walk(tables(), .read, user: false, smap) == .pageFault(errorCode: 1))
        #expect(walk(tables(), .read, user: false, smap, ac: true) == .translated(gpa: 0x8123, pageSize: 4096))
        var implicit = PagingAccess(.read, user: false)
        implicit.alignmentCheckFlag = true
        implicit.implicitSupervisor = true
        #expect(GuestPaging.translate(va, smap, implicit, tables: tables()) == .pageFault(errorCode: 1))
    }

    @Test func reservedBitsAndLargePages() {
        // Bit 51 beyond MAXPHYADDR 46 in the PDE.
        #expect(walk(tables(pd: 0x4000 | 7 | 1 << 51), .write, user: false) == .pageFault(errorCode: 0xB))
        // A 2-MiB page at the PD, and one with a reserved bit (13) below its alignment.
        let big = tables(pd: 0x60_0000 | 0x80 | 7)
        #expect(walk(big, .read, user: false) == .translated(gpa: 0x60_0123, pageSize: 2 << 20))
        #expect(walk(tables(pd: 0x60_2000 | 0x80 | 7), .read, user: false) == .pageFault(errorCode: 9))
        // A 1-GiB page at the PDPT; PS in the PML4 entry is reserved.
        #expect(walk(tables(pdpt: 0x4000_0000 | 0x80 | 7), .read, user: false) == .translated(gpa: 0x4040_0123, pageSize: 1 << 30))
        #expect(walk(tables(pml4: 0x2000 | 0x80 | 7), .read, user: true) == .pageFault(errorCode: 0xD))
    }

    @Test func protectionKeys() {
        var pk = control
        pk.protectionKeys = true
        pk.pkru = 0b01 << 2 // key 1: access disabled
        let keyed = tables(leaf: 0x8000 | 7 | 1 << 59)
        #expect(walk(keyed, .read, user: true, pk) == .pageFault(errorCode: 0x25))
        #expect(walk(keyed, .fetch, user: true, pk) == .translated(gpa: 0x8123, pageSize: 4096), "keys do not apply to fetches")
        // A write that also breaks the page's rights still reports PK (kvm-unit-tests' access).
        #expect(walk(tables(leaf: 0x8000 | 5 | 1 << 59), .write, user: true, pk) == .pageFault(errorCode: 0x27))
        pk.pkru = 0b10 << 2 // write disabled
        #expect(walk(keyed, .write, user: true, pk) == .pageFault(errorCode: 0x27))
        #expect(walk(keyed, .read, user: true, pk) == .translated(gpa: 0x8123, pageSize: 4096))
    }

    /// CR4.PKS: supervisor pages' keys in IA32_PKRS, for data accesses; write-disable stops a
    /// supervisor write only with CR0.WP (kvm-unit-tests' pks checks the same on a guest).
    @Test func supervisorProtectionKeys() {
        var pks = control
        pks.supervisorProtectionKeys = true
        pks.pkrs = 0b01 << 2 // key 1: access disabled
        let supervisorPage = tables(leaf: 0x8000 | 3 | 1 << 59), userPage = tables(leaf: 0x8000 | 7 | 1 << 59)
        #expect(walk(supervisorPage, .read, user: false, pks) == .pageFault(errorCode: 0x21))
        #expect(walk(supervisorPage, .fetch, user: false, pks) == .translated(gpa: 0x8123, pageSize: 4096))
        #expect(walk(userPage, .read, user: true, pks) == .translated(gpa: 0x8123, pageSize: 4096), "PKRS is not PKRU")
        pks.pkrs = 0b10 << 2 // write disabled
        #expect(walk(supervisorPage, .write, user: false, pks) == .pageFault(errorCode: 0x23))
        #expect(walk(supervisorPage, .read, user: false, pks) == .translated(gpa: 0x8123, pageSize: 4096))
        pks.writeProtect = false
        #expect(walk(supervisorPage, .write, user: false, pks) == .translated(gpa: 0x8123, pageSize: 4096))
    }

    @Test func fiveLevelsAndUnreadableTables() {
        // With LA57, CR3 points at the PML5; VA bit 48 selects PML5 entry 1.
        let m = TableMemory()
        m.entries[0x9000 + 8] = 0x1000 | 7
        m.entries[0x1000] = 0x2000 | 7
        m.entries[0x2000] = 0x3000 | 7
        m.entries[0x3000 + 2 * 8] = 0x4000 | 7
        m.entries[0x4000] = 0x8000 | 7
        var five = PagingControl(cr3: 0x9000)
        five.fiveLevel = true
        #expect(GuestPaging.translate(1 << 48 | va, five, PagingAccess(.read, user: false), tables: m) == .translated(gpa: 0x8123, pageSize: 4096))
        let gone = tables()
        gone.unbacked.insert(0x3000)
        #expect(walk(gone, .read, user: false) == .unreadable(gpa: 0x3010))
    }
}

@Suite struct LegacyPagingTests {
    /// 32-bit paging: a 4 KiB page through a PDE and PTE of 4 bytes each, and a 4 MiB PSE page
    /// with physical-address bits 39:32 in PDE bits 20:13.
    @Test func thirtyTwoBit() {
        let m = TableMemory()
        let va: UInt64 = 0x0040_1234 // PDE 1, PTE 1
        m.entries[0x1000 + 4] = 0x2000 | 7
        m.entries[0x2000 + 4] = 0x5000 | 5 // user, read-only
        var c = PagingControl(cr3: 0x1000)
        c.structure = .bits32(pse: true)
        #expect(GuestPaging.translate(va, c, PagingAccess(.read, user: true), tables: m) == .translated(gpa: 0x5234, pageSize: 4096))
        #expect(GuestPaging.translate(va, c, PagingAccess(.write, user: true), tables: m) == .pageFault(errorCode: 7))
        // No execute-disable in 32-bit paging: a fetch fault carries no I/D bit (SMEP off).
        m.entries[0x2000 + 4] = 0
        #expect(GuestPaging.translate(va, c, PagingAccess(.fetch, user: false), tables: m) == .pageFault(errorCode: 0))
        m.entries[0x1000 + 8] = 0x80 | 0x3 << 13 | 0x0080_0000 | 3 // VA 0x800000: 4 MiB page at 0x3_00800000
        #expect(GuestPaging.translate(0x0080_0010, c, PagingAccess(.read, user: false), tables: m)
                == .translated(gpa: 0x3_0080_0010, pageSize: 4 << 20))
        m.entries[0x1000 + 8]! |= 1 << 21
        #expect(GuestPaging.translate(0x0080_0010, c, PagingAccess(.read, user: false), tables: m) == .pageFault(errorCode: 9))
    }

    /// PAE: the PDPTE registers pick the page directory; a not-present PDPTE is a #PF; 2 MiB pages.
    @Test func pae() {
        let m = TableMemory()
        m.entries[0x3000 + 8 * 1] = 0x4000 | 7          // PD entry 1 -> PT at 0x4000
        m.entries[0x4000 + 8 * 2] = 0x9000 | 7 | 1 << 63 // PT entry 2, execute-disable
        m.entries[0x3000 + 8 * 3] = 0x60_0000 | 0x80 | 7 // PD entry 3: a 2 MiB page
        var c = PagingControl(cr3: 0x1000)
        c.structure = .pae(pdptes: [0x3000 | 1, 0, 0, 0])
        let va: UInt64 = 0x0020_2345
        #expect(GuestPaging.translate(va, c, PagingAccess(.read, user: true), tables: m) == .translated(gpa: 0x9345, pageSize: 4096))
        #expect(GuestPaging.translate(va, c, PagingAccess(.fetch, user: true), tables: m) == .pageFault(errorCode: 0x15))
        #expect(GuestPaging.translate(0x0060_0001, c, PagingAccess(.read, user: false), tables: m)
                == .translated(gpa: 0x60_0001, pageSize: 2 << 20))
        #expect(GuestPaging.translate(0x4000_0000, c, PagingAccess(.write, user: false), tables: m) == .pageFault(errorCode: 2))
    }
}

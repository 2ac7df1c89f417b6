import GuestMemory
import NestedPaging
import X86

/// The kernel side's nested page fault handler, as the MMU sees it: given a GPA the pmap has
/// no translation for (or not with the rights asked), enter the page and say so, or refuse
/// (a device's range, unbacked memory): then the access leaves the CPU as an exit.
public protocol NestedFaultResolver: AnyObject {
    func resolveNestedFault(_ gpa: GuestPhysicalAddress, _ access: AccessType) -> Bool
}

/// A vCPU's memory: linear address -> (guest paging) -> GPA -> (nested pmap) -> host frame,
/// with a TLB that caches the combined translation per 4 KiB page. Three direct-mapped
/// arrays (read, write, fetch) of 32,768 entries each (128 MiB of pages, as QEMU's TLB grows
/// to hold a large working set): tag = epoch · 2^53 + linear page (address bits 12-63) · 2 +
/// user, and the host address of the page. A write entry exists only once a write walk set the
/// guest's dirty bit and the nested entry allows writing, and no entry is made for a
/// non-canonical address, so a hit needs no further checks: not even the canonical one (an
/// access that stays in a page the TLB holds is canonical).
///
/// Flushed by the guest's TLB operations (MOV CR3/CR0/CR4, INVLPG, mode changes) and when the
/// pmap's generation moves (the kernel side removed or protected something), as bhyve's
/// eptgen check does on VM entry. A full flush only moves the epoch (an entry of another
/// epoch never matches), so a guest switching address spaces pays nothing per entry; every
/// 2^11 - 1 flushes the tags are cleared and the epoch starts again.
public final class GuestMMU: CPUMemory, GuestPageTables {
    public let pmap: Pmap
    public let host: HostPhysicalMemory
    public unowned let resolver: NestedFaultResolver
    unowned(unsafe) var state: CPUState! = nil
    static let entries = 32768
    /// Linear-address bits 12-63 of a page (its tag, with the user bit below and the epoch above).
    static let pageBits: UInt64 = (1 << 52) - 1
    static let epochShift: UInt64 = 53
    static let lastEpoch: UInt64 = (1 << 11) - 1
    /// The current epoch, shifted into place (tags of ~0 belong to the last epoch, never used).
    /// In a word of its own, which translated code reads (`translationTLB`).
    var epoch: UInt64 {
        @inline(__always) get { epochWord.pointee }
        set { epochWord.pointee = newValue }
    }
    let epochWord: UnsafeMutablePointer<UInt64> = {
        let p = UnsafeMutablePointer<UInt64>.allocate(capacity: 1)
        p.initialize(to: 0)
        return p
    }()
    /// The pages larger than 4 KiB that entries came from since the last full flush, by their
    /// first linear page and their size in 4 KiB pages: INVLPG of an address in one must drop
    /// the whole large page (SDM vol. 3 4.10.4.1), so it drops every entry of that range.
    /// Past `largePageSlots` of them INVLPG drops everything (`largePagesOverflowed`).
    let largePageFirst: UnsafeMutablePointer<UInt64>
    let largePageCount: UnsafeMutablePointer<UInt64>
    var largePages = 0
    var largePagesOverflowed = false
    static let largePageSlots = 64
    /// Per kind (0 read, 1 write, 2 fetch): tags, then what to add to a linear address in the
    /// entry's page for its host address (the host page's address less the linear page's:
    /// one addition where an AND and an addition were, in the interpreter's probe and in host
    /// code's).
    let tags: UnsafeMutablePointer<UInt64>
    let addends: UnsafeMutablePointer<UInt>
    var seenGeneration: UInt64
    /// Guest-physical pages -> host pages the pmap gave (`nested`), per access kind (read, write,
    /// execute): tag = page | 1, or 0; valid for the pmap's generation `nestedGeneration`.
    static let nestedEntries = 256
    let nestedTags: UnsafeMutablePointer<UInt64>
    let nestedPages: UnsafeMutablePointer<UnsafeMutableRawPointer?>
    var nestedGeneration: UInt64
    /// Per fetch entry: whether its translation is global (a leaf with G set, under CR4.PGE).
    let fetchGlobal: UnsafeMutablePointer<Bool>
    /// Whether the last translation `translate` made is global, and the last `codeFrame`'s.
    var translatedGlobal = false
    public private(set) var lastCodeFrameGlobal = false
    /// Statistics for `--stats`.
    public private(set) var misses: UInt64 = 0
    public private(set) var flushes: UInt64 = 0
    /// One bit per host frame: the frame holds instructions the CPU has decoded. Such a frame
    /// never has a write entry in the TLB, so every store to it comes through `translate`,
    /// which reports it (`CPUState.codeWritten`) and clears the bit (as QEMU's TLB_NOTDIRTY
    /// sends stores to translated code to the slow path). By frame, not by linear address: a
    /// kernel patching its text through another mapping (Linux's text_poke) is caught.
    ///
    /// The bits are the VM's (`CodeFrames`, shared by its vCPUs' MMUs): a frame one vCPU
    /// decoded loses its write entries in every vCPU's TLB, and a store to it by any vCPU drops
    /// the decoded code of every vCPU.
    let codeFrames: UnsafeMutablePointer<UInt64>
    let shared: CodeFrames
    /// One bit per host frame: a write entry for it was made since the bit was last cleared
    /// (it may still be in the TLB). Marking a frame as code scans a TLB's write entries only
    /// where this bit is set, and clears it.
    let writeEntryFrames: UnsafeMutablePointer<UInt64>

    /// `codeFrames`: the VM's code-frame bits, shared with its other vCPUs' MMUs (a new set
    /// when nil: an MMU alone).
    public init(pmap: Pmap, host: HostPhysicalMemory, resolver: NestedFaultResolver, codeFrames: CodeFrames? = nil) {
        self.pmap = pmap
        self.host = host
        self.resolver = resolver
        // The addends a fixed distance after the tags, in one allocation: host code reaches
        // both from one register (`TranslationTLB.pagesOffset`).
        let arrays = UnsafeMutableRawPointer.allocate(byteCount: 6 * GuestMMU.entries * 8, alignment: 64)
        tags = arrays.bindMemory(to: UInt64.self, capacity: 3 * GuestMMU.entries)
        tags.initialize(repeating: ~0, count: 3 * GuestMMU.entries)
        addends = (arrays + 3 * GuestMMU.entries * 8).bindMemory(to: UInt.self, capacity: 3 * GuestMMU.entries)
        addends.initialize(repeating: 0, count: 3 * GuestMMU.entries)
        fetchGlobal = .allocate(capacity: GuestMMU.entries)
        fetchGlobal.initialize(repeating: false, count: GuestMMU.entries)
        seenGeneration = pmap.generation
        nestedTags = .allocate(capacity: 3 * GuestMMU.nestedEntries)
        nestedTags.initialize(repeating: 0, count: 3 * GuestMMU.nestedEntries)
        nestedPages = .allocate(capacity: 3 * GuestMMU.nestedEntries)
        nestedPages.initialize(repeating: nil, count: 3 * GuestMMU.nestedEntries)
        nestedGeneration = pmap.generation
        shared = codeFrames ?? CodeFrames(host: host)
        self.codeFrames = shared.bits
        writeEntryFrames = .allocate(capacity: shared.words)
        writeEntryFrames.initialize(repeating: 0, count: shared.words)
        largePageFirst = .allocate(capacity: GuestMMU.largePageSlots)
        largePageCount = .allocate(capacity: GuestMMU.largePageSlots)
        regs = detachedRegs
        shared.members.append(Unmanaged.passUnretained(self))
    }

    deinit {
        shared.members.removeAll { $0.toOpaque() == Unmanaged.passUnretained(self).toOpaque() }
        detachedRegs.deallocate()
        epochWord.deallocate()
        writeEntryFrames.deallocate()
        largePageFirst.deallocate()
        largePageCount.deallocate()
        UnsafeMutableRawPointer(tags).deallocate()     // the addends with them
        nestedTags.deallocate()
        nestedPages.deallocate()
        fetchGlobal.deallocate()
    }

    public func attach(_ state: CPUState) {
        self.state = state
        regs = state.file
    }

    /// The attached state's register file, for the hot path (loading `state` itself costs a
    /// retain and a release per access): RFLAGS, CPL, implicit supervisor.
    var regs: UnsafeMutablePointer<RegisterFile>
    /// What `regs` points at until a state is attached.
    let detachedRegs: UnsafeMutablePointer<RegisterFile> = {
        let p = UnsafeMutablePointer<RegisterFile>.allocate(capacity: 1)
        p.initialize(to: RegisterFile())
        return p
    }()

    /// Data breakpoints: their pages stay out of the TLB, so every access to them comes
    /// through the slow path, which checks them.
    var watchpoints: [Watchpoint] = []
    public func watch(_ points: [Watchpoint]) {
        watchpoints = points
        flushTLB()
    }

    @inline(never) func checkWatchpoints(_ address: UInt64, _ size: Int, write: Bool) {
        for w in watchpoints where w.overlaps(address, size, write: write) { state.watchHits |= 1 << UInt64(w.index) }
    }

    func watched(_ page: UInt64) -> Bool {
        watchpoints.contains { $0.address >> 12 == page || ($0.address &+ $0.length &- 1) >> 12 == page }
    }

    // MARK: the hot path

    /// 1 for a user access (CPL 3 and not an implicit supervisor access).
    @inline(__always) var userBit: UInt64 { regs.pointee.userAccess }

    @inline(__always) func tag(_ page: UInt64, _ user: UInt64) -> UInt64 {
        (page & GuestMMU.pageBits) << 1 | user | epoch
    }

    /// The linear page (bits 12-63) a tag holds: `tag`'s page back.
    @inline(__always) static func page(ofTag t: UInt64) -> UInt64 { (t >> 1) & GuestMMU.pageBits }

    /// The host address of `address` for an access of `kind` (0 read, 1 write, 2 fetch) that
    /// stays within its page, or nil on a TLB miss; `user` is the tags' user bit (the
    /// access's own: `userBit`). The slot is the first byte's page's, the tag compared the
    /// last byte's: they match only when both bytes are in one page (a slot holds only tags
    /// of pages equal to its number modulo the TLB's size, never two consecutive pages).
    @inline(__always) func hit(_ address: UInt64, _ size: Int, _ kind: Int, user: UInt64) -> UnsafeMutableRawPointer? {
        let page = address >> 12, last = (address &+ UInt64(size &- 1)) >> 12
        let slot = kind &* GuestMMU.entries &+ (Int(truncatingIfNeeded: page) & (GuestMMU.entries - 1))
        guard tags[slot] == tag(last, user) else { return nil }
        return UnsafeMutableRawPointer(bitPattern: addends[slot] &+ UInt(truncatingIfNeeded: address)).unsafelyUnwrapped
    }

    /// The TLB's host address for a data access (0 read, 1 write) it can serve as it stands:
    /// within one page, no alignment check due, and an entry for the page, which is then
    /// canonical.
    @inline(__always)
    public func probe(_ address: UInt64, _ size: Int, _ kind: Int) -> UnsafeMutableRawPointer? {
        if _slowPath(regs.pointee.rflags & Flag.ac != 0) { return probeWithAC(address, size, kind) }
        return hit(address, size, kind, user: userBit)
    }

    /// `probe` with EFLAGS.AC set. At CPL 3 a misaligned access under CR0.AM is left to the
    /// slow path (#AC). Below CPL 3, AC lets an explicit supervisor access reach user pages
    /// under SMAP: besides the supervisor entries, the user-mode ones serve it (`translate`
    /// makes a user-mode entry for such an access, and whatever a user-mode access may do
    /// there, this one may).
    @inline(never) func probeWithAC(_ address: UInt64, _ size: Int, _ kind: Int) -> UnsafeMutableRawPointer? {
        let r = regs
        if r.pointee.cpl == 3 {
            if r.pointee.implicitSupervisor == 0 && r.pointee.cr0 & CR0Bit.am != 0 && size > 1 && address & (UInt64(min(size, 8)) - 1) != 0 {
                return nil
            }
            return hit(address, size, kind, user: userBit)
        }
        if let p = hit(address, size, kind, user: userBit) { return p }
        guard r.pointee.implicitSupervisor == 0 else { return nil }
        return hit(address, size, kind, user: 1)
    }

    @inline(__always)
    public func read(_ address: UInt64, size: Int) throws(CPUException) -> UInt64 {
        if let p = probe(address, size, 0) { return loadLittle(p, size) }
        if _slowPath(regs.pointee.rflags & Flag.ac != 0) { try checkAlignment(address, size) }
        return try readSlow(address, size)
    }

    @inline(__always)
    public func write(_ address: UInt64, size: Int, value: UInt64) throws(CPUException) {
        if let p = probe(address, size, 1) { return storeLittle(p, size, value) }
        if _slowPath(regs.pointee.rflags & Flag.ac != 0) { try checkAlignment(address, size) }
        try writeSlow(address, size, value)
    }

    // MARK: the slow path

    /// #AC: CR0.AM, EFLAGS.AC and CPL 3, for a misaligned data access.
    @inline(never) func checkAlignment(_ address: UInt64, _ size: Int) throws(CPUException) {
        guard state.cpl == 3, !state.implicitSupervisor, state.cr0 & CR0Bit.am != 0, size > 1 else { return }
        let alignment = UInt64(min(size, 8))
        if address & (alignment - 1) != 0 { throw .alignmentCheck }
    }

    @inline(never)
    func readSlow(_ address: UInt64, _ size: Int) throws(CPUException) -> UInt64 {
        if !watchpoints.isEmpty { checkWatchpoints(address, size, write: false) }
        let first = 4096 - Int(address & 0xFFF)
        if size <= first { return loadLittle(try translate(address, 0), size) }
        // Split across two pages: both translate before anything is read.
        let p0 = try translate(address, 0), p1 = try translate(address &+ UInt64(first), 0)
        var v: UInt64 = 0
        for i in 0..<size {
            let b = i < first ? p0.load(fromByteOffset: i, as: UInt8.self) : p1.load(fromByteOffset: i - first, as: UInt8.self)
            v |= UInt64(b) << UInt64(8 * i)
        }
        return v
    }

    @inline(never)
    func writeSlow(_ address: UInt64, _ size: Int, _ value: UInt64) throws(CPUException) {
        if !watchpoints.isEmpty { checkWatchpoints(address, size, write: true) }
        let first = 4096 - Int(address & 0xFFF)
        if size <= first { return storeLittle(try translate(address, 1), size, value) }
        let p0 = try translate(address, 1), p1 = try translate(address &+ UInt64(first), 1)
        for i in 0..<size {
            let b = UInt8(truncatingIfNeeded: value >> UInt64(8 * i))
            if i < first { p0.storeBytes(of: b, toByteOffset: i, as: UInt8.self) } else { p1.storeBytes(of: b, toByteOffset: i - first, as: UInt8.self) }
        }
    }

    public func fetch(_ address: UInt64, into buffer: UnsafeMutablePointer<UInt8>, max: Int) throws(CPUException) -> Int {
        let first = min(max, 4096 - Int(address & 0xFFF))
        let p0: UnsafeMutableRawPointer
        if let p = hit(address, 1, 2, user: userBit) { p0 = p } else { p0 = try translate(address, 2) }
        for i in 0..<first { buffer[i] = p0.load(fromByteOffset: i, as: UInt8.self) }
        guard first < max else { return first }
        // The rest lies on the next page: as much as can be fetched (a fault there is raised
        // only if the instruction turns out to need those bytes).
        guard let p1 = hit(address &+ UInt64(first), 1, 2, user: userBit) ?? (try? translate(address &+ UInt64(first), 2)) else { return first }
        for i in first..<max { buffer[i] = p1.load(fromByteOffset: i - first, as: UInt8.self) }
        return max
    }

    public func block(to destination: UInt64, from source: UInt64?, pattern: UInt64, size: Int, count: Int) -> Bool {
        guard state.rflags & Flag.ac == 0 || state.cpl != 3, watchpoints.isEmpty else { return false }
        guard let d = try? translate(destination, 1) else { return false }
        if let source {
            guard let s = try? translate(source, 0) else { return false }
            d.copyMemory(from: s, byteCount: count)
        } else {
            var i = 0
            while i < count { storeLittle(d + i, size, pattern); i += size }
        }
        return true
    }

    /// Translates `address` for an access of `kind` and fills the TLB: the host address of
    /// the byte, or the guest's #PF, or an exit for a GPA that is not RAM.
    @inline(never)
    public func translate(_ address: UInt64, _ kind: Int) throws(CPUException) -> UnsafeMutableRawPointer {
        misses &+= 1
        syncWithPmap()
        // The state's fields through `regs` (each use of `state` costs a retain and a release).
        let r = regs
        var user = userBit
        var gpa = address
        // A supervisor data access that SMAP allows only because EFLAGS.AC is set must not
        // leave an entry that an access with AC clear would hit (the tag has no AC bit): its
        // entry is the user-mode access's, when one would be allowed (`probeWithAC` looks
        // there), and otherwise there is none.
        var dependsOnAC = false
        var global = false
        if r.pointee.cr0 & CR0Bit.pg != 0 {
            let access = r.pointee.pagingAccess(kind == 0 ? .read : (kind == 1 ? .write : .fetch))
            let control = r.pointee.pagingControl(tables: self)
            var leaf: UInt64 = 0
            switch GuestPaging.translate(address, control, access, tables: self, leaf: &leaf) {
            case .translated(let g, let size):
                gpa = g
                global = leaf & GuestMMU.globalBit != 0 && r.pointee.cr4 & CR4Bit.pge != 0
                if size > 4096 { noteLargePage(address, size) }
                if control.smap && access.alignmentCheckFlag && !access.user && kind != 2 {
                    var withoutAC = access
                    withoutAC.alignmentCheckFlag = false
                    if case .pageFault = GuestPaging.translate(address, control, withoutAC, tables: self) {
                        var asUser = access
                        (asUser.user, asUser.alignmentCheckFlag) = (true, false)
                        if !access.implicitSupervisor, case .translated(g, _) = GuestPaging.translate(address, control, asUser, tables: self) {
                            user = 1
                        } else {
                            dependsOnAC = true
                        }
                    }
                }
            case .pageFault(let code): throw .pageFault(address: address, errorCode: code)
            case .unreadable(let g): throw .exit(.nestedFault(gpa: g, access: .walk, linear: address))
            }
        }
        translatedGlobal = global
        let access: AccessType = kind == 0 ? .read : (kind == 1 ? .write : .execute)
        guard let hostPage = nested(gpa & ~0xFFF, access) else {
            throw .exit(.nestedFault(gpa: gpa, access: NestedAccess(rawValue: UInt8(kind))!, linear: address))
        }
        let page = address >> 12
        // No entry for a non-canonical address (none reaches here from the CPU's own checks):
        // every entry's page is canonical, what `probe` relies on.
        if dependsOnAC || (kind != 2 && !watchpoints.isEmpty && watched(page)) || !canonical(address) {
            return hostPage + Int(address & 0xFFF)
        }
        if kind == 1 {
            let (frame, word, bit) = codeFrameBit(hostPage)
            if codeFrames[word] & bit != 0 {
                shared.written(frame: frame)
                return hostPage + Int(address & 0xFFF)
            }
            writeEntryFrames[word] |= bit
        }
        let index = Int(truncatingIfNeeded: page) & (GuestMMU.entries - 1)
        let slot = kind * GuestMMU.entries + index
        tags[slot] = tag(page, user)
        addends[slot] = UInt(bitPattern: hostPage) &- UInt(truncatingIfNeeded: page << 12)
        if kind == 2 { fetchGlobal[index] = global }
        return hostPage + Int(address & 0xFFF)
    }

    /// A paging-structure entry's G bit.
    static let globalBit: UInt64 = 1 << 8

    /// GPA -> host address of the page through the pmap, asking the resolver on a violation.
    /// The last pages found are kept per access kind (`nestedTags`) while the pmap's generation
    /// stands: a walk of the guest's tables reads four or five entries, each in a page the pmap
    /// would be walked for again (kvm-unit-tests' `access`, which misses the TLB all the time,
    /// spent a fifth of its time in `Pmap.translate`). A kept page needs nothing more from the
    /// pmap: the walk that found it set its accessed (and, for a write, dirty) state, and
    /// whatever clears that state or takes rights away moves the generation.
    func nested(_ gpaPage: UInt64, _ access: AccessType) -> UnsafeMutableRawPointer? {
        let generation = pmap.generation
        if _slowPath(generation != nestedGeneration) {
            nestedTags.update(repeating: 0, count: 3 * GuestMMU.nestedEntries)
            nestedGeneration = generation
        }
        let slot = Int(access.rawValue) &* GuestMMU.nestedEntries
            &+ Int(truncatingIfNeeded: gpaPage >> 12) & (GuestMMU.nestedEntries - 1)
        if nestedTags[slot] == gpaPage | 1 { return nestedPages[slot] }
        return nestedMiss(gpaPage, access, slot)
    }

    @inline(never) func nestedMiss(_ gpaPage: UInt64, _ access: AccessType, _ slot: Int) -> UnsafeMutableRawPointer? {
        for _ in 0..<3 {
            switch pmap.translate(GuestPhysicalAddress(gpaPage), access) {
            case .success(let t):
                let page = host.pointer(HostPhysicalAddress(t.hpa.rawValue & ~0xFFF))
                if pmap.generation == nestedGeneration {
                    nestedTags[slot] = gpaPage | 1
                    nestedPages[slot] = page
                }
                return page
            case .failure:
                let before = access == .write ? pmap.extract(GuestPhysicalAddress(gpaPage)) : nil
                guard resolver.resolveNestedFault(GuestPhysicalAddress(gpaPage), access) else { return nil }
                // The fault may have changed a translation other entries hold (a write to a page
                // shared with a snapshot gives it a new frame): they go now, not at the next entry
                // to the guest, or a fetch would still reach the old frame.
                syncWithPmap()
                // Code decoded from the frame the page left is not what the guest runs there now:
                // it goes as if written (a block would otherwise run its forms on past the store).
                if let old = before?.hpa, pmap.extract(GuestPhysicalAddress(gpaPage))?.hpa != old {
                    let (frame, word, bit) = codeFrameBit(host.pointer(HostPhysicalAddress(old.rawValue & ~0xFFF)))
                    if codeFrames[word] & bit != 0 { shared.written(frame: frame) }
                }
            }
        }
        return nil
    }

    // MARK: guest page tables, read through the pmap

    public func readEntry(_ gpa: UInt64) -> UInt64? {
        guard let p = nested(gpa & ~0xFFF, .read) else { return nil }
        let offset = Int(gpa & 0xFFF)
        // 32-bit paging's entries are 4 bytes: the last one of a page has no upper half.
        return offset <= 0xFF8 ? (p + offset).loadUnaligned(as: UInt64.self) : UInt64((p + offset).loadUnaligned(as: UInt32.self))
    }

    public func setEntryBits(_ gpa: UInt64, _ bits: UInt64) {
        guard let p = nested(gpa & ~0xFFF, .write) else { return }
        // Accessed and dirty are low bits: a 4-byte update serves both entry sizes.
        let e = p + Int(gpa & 0xFFF)
        e.storeBytes(of: e.loadUnaligned(as: UInt32.self) | UInt32(truncatingIfNeeded: bits), as: UInt32.self)
    }

    // MARK: flushing

    /// Drops the TLB if the pmap changed since it was filled (entries that hit never look at
    /// the pmap): the VMM calls this on every entry to the guest, as a hardware VMM compares
    /// the EPT generation on VM entry.
    @inline(__always)
    public func syncWithPmap() {
        if pmap.generation != seenGeneration { flushTLB() }
    }

    public func flushTLB() { flushAll(keepingGlobalCode: false) }

    /// MOV CR3: the TLB loses every entry (it keeps no global ones), but code on global pages
    /// stays valid without a check (`CPUState.globalCodeKey`), as the hardware keeps those
    /// translations.
    public func flushNonGlobalTLB() { flushAll(keepingGlobalCode: true) }

    func flushAll(keepingGlobalCode: Bool) {
        flushes &+= 1
        if keepingGlobalCode { state?.newLocalCodeEpoch() } else { state?.newCodeEpoch() }
        seenGeneration = pmap.generation
        largePages = 0
        largePagesOverflowed = false
        epoch &+= 1 << GuestMMU.epochShift
        if epoch >> GuestMMU.epochShift == GuestMMU.lastEpoch {
            tags.update(repeating: ~0, count: 3 * GuestMMU.entries)
            epoch = 0
        }
    }

    public func flushTLB(page address: UInt64) {
        if largePagesOverflowed { return flushTLB() }
        let page = (address >> 12) & GuestMMU.pageBits
        dropEntries(page)
        state?.newCodeEpoch(page: address)
        // The large page holding the address, if an entry came from one: all of its pages.
        var i = 0
        while i < largePages {
            let first = largePageFirst[i], count = largePageCount[i]
            if page &- first < count {
                if count > 512 { return flushTLB() }
                // Code anywhere in the large page may have moved.
                state?.newCodeEpoch()
                for p in first..<first + count { dropEntries(p) }
                largePages -= 1
                largePageFirst[i] = largePageFirst[largePages]
                largePageCount[i] = largePageCount[largePages]
                return
            }
            i += 1
        }
    }

    /// Whether `address` is canonical under the current paging (57 bits with CR4.LA57).
    func canonical(_ address: UInt64) -> Bool {
        isCanonical(address, bits: regs.pointee.cr4 & CR4Bit.la57 != 0 ? 57 : 48)
    }

    /// Drops the read, write and fetch entries of one linear page (bits 12-63).
    @inline(__always) func dropEntries(_ page: UInt64) {
        for kind in 0..<3 {
            let slot = kind * GuestMMU.entries + (Int(truncatingIfNeeded: page) & (GuestMMU.entries - 1))
            if GuestMMU.page(ofTag: tags[slot]) == page { tags[slot] = ~0 }
        }
    }

    /// An entry is about to come from a page of `size` bytes (more than 4 KiB) holding `address`.
    func noteLargePage(_ address: UInt64, _ size: UInt64) {
        let count = size >> 12, first = ((address >> 12) & GuestMMU.pageBits) & ~(count - 1)
        for i in 0..<largePages where largePageFirst[i] == first && largePageCount[i] == count { return }
        guard largePages < GuestMMU.largePageSlots else {
            largePagesOverflowed = true
            return
        }
        largePageFirst[largePages] = first
        largePageCount[largePages] = count
        largePages += 1
    }

    public static var tracksCodeFrames: Bool { true }

    /// The host frame of the instruction byte at `address`, now marked as holding code: write
    /// entries for it leave the TLB (any linear page may map it).
    public func codeFrame(_ address: UInt64) throws(CPUException) -> UInt64 {
        let p: UnsafeMutableRawPointer
        if let h = hit(address, 1, 2, user: userBit) {
            p = h
            lastCodeFrameGlobal = fetchGlobal[Int(truncatingIfNeeded: address >> 12) & (GuestMMU.entries - 1)]
        } else {
            p = try translate(address, 2)
            lastCodeFrameGlobal = translatedGlobal
        }
        let (frame, word, bit) = codeFrameBit(p)
        if codeFrames[word] & bit == 0 {
            codeFrames[word] |= bit
            let page = UnsafeMutableRawPointer(host.base + Int(frame << 12))
            for member in shared.members {
                let m = member.takeUnretainedValue()
                guard m.writeEntryFrames[word] & bit != 0 else { continue }
                m.writeEntryFrames[word] &= ~bit
                m.dropWriteEntries(page)
            }
        }
        return frame
    }

    /// Drops the write entries that reach a host page (an entry's host page is its addend plus
    /// the linear page its tag holds).
    func dropWriteEntries(_ page: UnsafeMutableRawPointer) {
        let writes = addends + GuestMMU.entries, writeTags = tags + GuestMMU.entries, host = UInt(bitPattern: page)
        for i in 0..<GuestMMU.entries where writes[i] &+ UInt(truncatingIfNeeded: GuestMMU.page(ofTag: writeTags[i]) << 12) == host {
            writeTags[i] = ~0
        }
    }

    /// The host frame of a host address, and its word and bit in `codeFrames`.
    @inline(__always) func codeFrameBit(_ p: UnsafeMutableRawPointer) -> (frame: UInt64, word: Int, bit: UInt64) {
        let frame = UInt64(p - host.base) >> 12
        return (frame, Int(frame >> 6), 1 << (frame & 63))
    }

    /// The fraction of accesses that hit (misses over the instructions retired is the other view).
    public func resetStatistics() { misses = 0; flushes = 0 }
}

/// The host frames that hold code some vCPU of a VM has decoded (one bit each), and the MMUs
/// that share them. The vCPUs run on one host thread, one at a time: nothing here is locked.
public final class CodeFrames {
    let bits: UnsafeMutablePointer<UInt64>
    /// The MMUs of the VM's vCPUs (each removes itself as it goes).
    var members: [Unmanaged<GuestMMU>] = []

    let words: Int

    public init(host: HostPhysicalMemory) {
        words = (host.capacity + 63) / 64
        bits = .allocate(capacity: words)
        bits.initialize(repeating: 0, count: words)
    }

    deinit { bits.deallocate() }

    /// Host frame `frame` was written (by a vCPU's store, or a device's DMA): every vCPU that
    /// decoded code there drops it.
    public func written(frame: UInt64) {
        let word = Int(frame >> 6), bit: UInt64 = 1 << (frame & 63)
        guard word < words, bits[word] & bit != 0 else { return }
        bits[word] &= ~bit
        for m in members { m.takeUnretainedValue().state?.codeWritten(frame: frame) }
    }
}

extension CPUState {
    /// The paging controls from CR0, CR3, CR4, EFER and PKRU. PAE paging's PDPTEs are read
    /// through `tables` at walk time (the SDM loads them at MOV CR3; a guest that changes them
    /// without reloading CR3 sees the difference).
    public func pagingControl(tables: some GuestPageTables) -> PagingControl {
        file.pointee.pagingControl(tables: tables)
    }

    /// How an access of `kind` is seen by paging: user or supervisor, EFLAGS.AC, implicit.
    public func pagingAccess(_ kind: PagingAccess.Kind) -> PagingAccess {
        file.pointee.pagingAccess(kind)
    }
}

extension RegisterFile {
    /// `CPUState.pagingControl`, from the register file itself (the MMU's miss path reads it
    /// through its pointer, without a reference to the state).
    @inline(__always)
    func pagingControl(tables: some GuestPageTables) -> PagingControl {
        var c = PagingControl(cr3: cr3)
        let longModeActive = efer & EFERBit.lma != 0
        if longModeActive {
            c.structure = .long
            c.fiveLevel = cr4 & CR4Bit.la57 != 0
            c.cr3 = cr3 & ~0xFFF
        } else if cr4 & CR4Bit.pae != 0 {
            let base = cr3 & 0xFFFF_FFE0
            let e = { (i: UInt64) in tables.readEntry(base + i * 8) ?? 0 }
            c.structure = .pae(pdptes: PDPTERegisters(e(0), e(1), e(2), e(3)))
        } else {
            c.structure = .bits32(pse: cr4 & CR4Bit.pse != 0)
            c.cr3 = cr3 & 0xFFFF_F000
        }
        c.executeDisable = efer & EFERBit.nxe != 0
        c.writeProtect = cr0 & CR0Bit.wp != 0
        c.smep = cr4 & CR4Bit.smep != 0
        c.smap = cr4 & CR4Bit.smap != 0
        c.protectionKeys = cr4 & CR4Bit.pke != 0 && longModeActive
        c.pkru = UInt32(truncatingIfNeeded: pkru)
        c.supervisorProtectionKeys = cr4 & CR4Bit.pks != 0 && longModeActive
        c.pkrs = UInt32(truncatingIfNeeded: pkrs)
        return c
    }

    @inline(__always)
    func pagingAccess(_ kind: PagingAccess.Kind) -> PagingAccess {
        var access = PagingAccess(kind, user: cpl == 3 && implicitSupervisor == 0)
        access.alignmentCheckFlag = rflags & Flag.ac != 0
        access.implicitSupervisor = implicitSupervisor != 0
        return access
    }
}

@_spi(Translator) extension GuestMMU: TranslationTLBProviding {
    /// The TLB as translated code probes it: the read and write arrays, the epoch's word. The
    /// last epoch, never current, with the user bit clear matches no entry: not a valid one,
    /// nor an empty one (~0).
    public var translationTLB: TranslationTLB {
        TranslationTLB(tags: UnsafeRawPointer(tags), pages: UnsafeRawPointer(addends), epoch: UnsafeRawPointer(epochWord), entries: GuestMMU.entries,
                       noMatch: GuestMMU.lastEpoch << GuestMMU.epochShift)
    }
}

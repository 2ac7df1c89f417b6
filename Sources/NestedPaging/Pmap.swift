import GuestMemory
import X86

/// Misuse of a pmap: a typed error naming what was wrong.
public enum PmapError: Error, Equatable, CustomStringConvertible {
    case misaligned(gpa: GuestPhysicalAddress, hpa: HostPhysicalAddress, size: PageSize)
    case beyondAddressWidth(gpa: GuestPhysicalAddress, width: Int)
    case noAccess(gpa: GuestPhysicalAddress)
    case rangeInvalid(start: GuestPhysicalAddress, length: UInt64)
    case notEmpty(entries: Int)
    case destroyed
    case host(GuestMemoryError)

    public var description: String {
        switch self {
        case .misaligned(let g, let h, let s): "enter of a \(s) page at \(g) -> \(h): not aligned to the page size"
        case .beyondAddressWidth(let g, let w): "\(g) is beyond the \(w)-bit guest physical address width"
        case .noAccess(let g): "enter at \(g) with no access rights"
        case .rangeInvalid(let s, let n): "range at \(s) of \(hex(n)) bytes is not page aligned or wraps"
        case .notEmpty(let n): "the pmap still has \(n) entries: convert needs an empty pmap"
        case .destroyed: "the pmap was destroyed"
        case .host(let e): "host memory: \(e)"
        }
    }
}

/// A nested page table (EPT or NPT format) whose table pages live in host frames,
/// driven like a BSD pmap: `enter`, `extract`, `remove`, `protect`, `destroy`.
///
/// Large pages: entering a page inside an existing larger leaf splits that leaf
/// (its other pages keep their mapping); entering a large page over smaller mappings
/// replaces them (their tables are freed). `remove` and `protect` over part of a large
/// leaf split it and act on the pages inside the range only. Tables left empty by
/// `remove` are freed. Every change to an existing translation bumps `generation`.
public final class Pmap: @unchecked Sendable {
    public let host: HostPhysicalMemory
    public private(set) var format: PmapFormat
    public let adMode: AccessedDirtyMode
    /// 4 or 5.
    public let levels: Int
    /// Guest physical address width the pmap accepts (52 at most).
    public let addressWidth: Int
    /// Bumped by every change to an existing translation (remove, protect, replacing or
    /// clearing dirty state); translation caches compare it (bhyve's eptgen).
    public internal(set) var generation: UInt64 = 0
    /// Table frames in use, the root included.
    public private(set) var tableFrames = 0
    /// Leaf entries per page size.
    public private(set) var leafCounts: [PageSize: Int] = [.size4K: 0, .size2M: 0, .size1G: 0]
    public var entryCount: Int { leafCounts.values.reduce(0, +) }
    public private(set) var root: HostPhysicalAddress
    public private(set) var isDestroyed = false
    var bits: EntryBits

    public init(format: PmapFormat, adMode: AccessedDirtyMode = .hardware, levels: Int = 4,
                addressWidth: Int = 48, host: HostPhysicalMemory) throws(PmapError) {
        precondition(levels == 4 || levels == 5, "a pmap has 4 or 5 levels")
        self.host = host
        self.format = format
        self.adMode = adMode
        self.levels = levels
        self.addressWidth = min(addressWidth, levels == 5 ? 52 : 48)
        bits = EntryBits(format: format)
        root = HostPhysicalAddress(0)
        root = try newTable()
    }

    /// Changes the format of an empty pmap (like pmap_convert).
    public func convert(to format: PmapFormat) throws(PmapError) {
        guard entryCount == 0 else { throw .notEmpty(entries: entryCount) }
        self.format = format
        bits = EntryBits(format: format)
    }

    // MARK: Table memory

    @inline(__always) func entryPointer(_ table: HostPhysicalAddress, _ index: Int) -> UnsafeMutablePointer<UInt64> {
        host.pointer(table).assumingMemoryBound(to: UInt64.self) + index
    }

    @inline(__always) static func index(_ gpa: UInt64, level: Int) -> Int {
        Int((gpa >> (12 + 9 * UInt64(level - 1))) & 511)
    }

    func newTable() throws(PmapError) -> HostPhysicalAddress {
        do {
            let t = try host.allocate()
            tableFrames += 1
            return t
        } catch {
            throw .host(error)
        }
    }

    func freeTable(_ t: HostPhysicalAddress) {
        host.release(t)
        tableFrames -= 1
    }

    func isLeaf(_ e: UInt64, level: Int) -> Bool { level == 1 || e & bits.large != 0 }

    // MARK: enter

    /// Maps the `size` page at `gpa` to `hpa` with `prot`.
    public func enter(_ gpa: GuestPhysicalAddress, _ hpa: HostPhysicalAddress, _ prot: Protection,
                      size: PageSize = .size4K) throws(PmapError) {
        guard !isDestroyed else { throw .destroyed }
        let g = gpa.rawValue
        guard g & (size.bytes - 1) == 0, hpa.rawValue & (size.bytes - 1) == 0 else {
            throw .misaligned(gpa: gpa, hpa: hpa, size: size)
        }
        guard g >> UInt64(addressWidth) == 0 else { throw .beyondAddressWidth(gpa: gpa, width: addressWidth) }
        guard !prot.isEmpty else { throw .noAccess(gpa: gpa) }
        var table = root
        var level = levels
        while level > size.level {
            let p = entryPointer(table, Self.index(g, level: level))
            let e = p.pointee
            if !bits.isPresent(e) {
                let t = try newTable()
                p.pointee = bits.table(t)
                table = t
            } else if isLeaf(e, level: level) {
                // A larger leaf covers the page: split it, then go on inside.
                table = try split(p, level: level)
            } else {
                table = bits.address(e)
            }
            level -= 1
        }
        let p = entryPointer(table, Self.index(g, level: level))
        let old = p.pointee
        if bits.isPresent(old) {
            if isLeaf(old, level: level) {
                leafCounts[PageSize.at(level: level)]! -= 1
            } else {
                // Smaller mappings under a new large leaf go away with their tables.
                releaseSubtree(bits.address(old), level: level - 1)
            }
            generation &+= 1
        }
        p.pointee = bits.leaf(hpa, prot, level: level, mode: adMode)
        leafCounts[size]! += 1
    }

    /// Replaces the leaf at `p` (a `level` leaf) with a table of 512 next-smaller leaves
    /// mapping the same pages with the same rights and A/D state; returns the new table.
    func split(_ p: UnsafeMutablePointer<UInt64>, level: Int) throws(PmapError) -> HostPhysicalAddress {
        let e = p.pointee
        let t = try newTable()
        let step = PageSize.at(level: level - 1).bytes
        var child = e
        if level - 1 == 1 { child &= ~bits.large }
        let base = e & EntryBits.addressMask
        for i in 0..<512 {
            entryPointer(t, i).pointee = (child & ~EntryBits.addressMask) | (base + UInt64(i) * step)
        }
        p.pointee = bits.table(t)
        leafCounts[PageSize.at(level: level)]! -= 1
        leafCounts[PageSize.at(level: level - 1)]! += 512
        return t
    }

    /// Frees a table and everything under it, uncounting its leaves.
    func releaseSubtree(_ table: HostPhysicalAddress, level: Int) {
        for i in 0..<512 {
            let e = entryPointer(table, i).pointee
            guard bits.isPresent(e) else { continue }
            if isLeaf(e, level: level) {
                leafCounts[PageSize.at(level: level)]! -= 1
            } else {
                releaseSubtree(bits.address(e), level: level - 1)
            }
        }
        freeTable(table)
    }

    // MARK: extract

    /// The HPA `gpa` maps to (within its page), the page's rights and size; nil if unmapped.
    public func extract(_ gpa: GuestPhysicalAddress) -> (hpa: HostPhysicalAddress, protection: Protection, size: PageSize)? {
        guard !isDestroyed, gpa.rawValue >> UInt64(addressWidth) == 0 else { return nil }
        var table = root
        var level = levels
        while true {
            let e = entryPointer(table, Self.index(gpa.rawValue, level: level)).pointee
            guard bits.isPresent(e) else { return nil }
            if isLeaf(e, level: level) {
                let size = PageSize.at(level: level)
                let hpa = (e & EntryBits.addressMask & ~(size.bytes - 1)) | (gpa.rawValue & (size.bytes - 1))
                return (HostPhysicalAddress(hpa), bits.protection(e), size)
            }
            table = bits.address(e)
            level -= 1
        }
    }

    // MARK: remove, protect

    /// Unmaps every page in [start, start + length).
    public func remove(_ start: GuestPhysicalAddress, length: UInt64) throws(PmapError) {
        try update(start, length) { _ in nil }
    }

    /// Sets the rights of every mapped page in the range (keeping A/D state).
    public func protect(_ start: GuestPhysicalAddress, length: UInt64, _ prot: Protection) throws(PmapError) {
        guard !prot.isEmpty else { return try remove(start, length: length) }
        try update(start, length) { [bits, adMode] e in
            // The address and large bit stay; the rights are new; A/D state is kept: the A and D
            // bits, and in emulated mode the hardware read/write bits already opened, where the
            // new rights still allow them.
            var n = bits.leaf(bits.address(e), prot, level: 1, mode: adMode) | (e & bits.large)
            n |= e & (bits.accessed | bits.dirty)
            if adMode == .emulated {
                if bits.protection(n).contains(.read) { n |= e & bits.read }
                if prot.contains(.write) { n |= e & bits.write }
            }
            return n
        }
    }

    /// Applies `change` (nil: unmap) to every leaf in the range, splitting large leaves
    /// that stick out of it, and freeing tables it empties.
    func update(_ start: GuestPhysicalAddress, _ length: UInt64, _ change: (UInt64) -> UInt64?) throws(PmapError) {
        guard !isDestroyed else { throw .destroyed }
        let s = start.rawValue
        let (end, overflow) = s.addingReportingOverflow(length)
        guard Page.isAligned(s), Page.isAligned(length), !overflow else { throw .rangeInvalid(start: start, length: length) }
        guard length > 0 else { return }
        let top = UInt64(1) << UInt64(addressWidth)
        _ = try updateTable(root, level: levels, base: 0, from: s, to: min(end, top), change)
        generation &+= 1
    }

    /// Returns whether `table` is empty afterwards.
    func updateTable(_ table: HostPhysicalAddress, level: Int, base: UInt64, from: UInt64, to: UInt64,
                     _ change: (UInt64) -> UInt64?) throws(PmapError) -> Bool {
        let entrySpan = UInt64(1) << (12 + 9 * UInt64(level - 1))
        let first = Int(max(from, base) >> (12 + 9 * UInt64(level - 1)) & 511)
        var empty = true
        for i in 0..<512 {
            let p = entryPointer(table, i)
            let e = p.pointee
            guard bits.isPresent(e) else { continue }
            let lo = base + UInt64(i) * entrySpan
            let hi = lo + entrySpan
            if i < first || lo >= to || hi <= from {
                empty = false
                continue
            }
            if isLeaf(e, level: level) {
                if from <= lo && hi <= to {
                    if let n = change(e) {
                        p.pointee = n
                        empty = false
                    } else {
                        p.pointee = 0
                        leafCounts[PageSize.at(level: level)]! -= 1
                    }
                    continue
                }
                // Only part of a large leaf is in the range: split it and recurse.
                let t = try split(p, level: level)
                if try updateTable(t, level: level - 1, base: lo, from: from, to: to, change) {
                    freeTable(t)
                    p.pointee = 0
                } else {
                    empty = false
                }
                continue
            }
            let t = bits.address(e)
            if try updateTable(t, level: level - 1, base: lo, from: from, to: to, change) {
                freeTable(t)
                p.pointee = 0
            } else {
                empty = false
            }
        }
        return empty
    }

    // MARK: destroy

    /// Frees every table frame, the root included. The pmap cannot be used afterwards.
    public func destroy() {
        guard !isDestroyed else { return }
        releaseSubtree(root, level: levels)
        isDestroyed = true
        generation &+= 1
    }
}

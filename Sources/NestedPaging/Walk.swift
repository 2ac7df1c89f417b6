import GuestMemory
import X86

/// What a guest access wants from a page.
public enum AccessType: UInt8, Sendable, CaseIterable {
    case read, write, execute
    public var needs: Protection { self == .read ? .read : (self == .write ? .write : .execute) }
}

/// A successful nested walk.
public struct Translation: Equatable, Sendable {
    public var hpa: HostPhysicalAddress
    public var size: PageSize
    /// The rights the leaf grants now.
    public var protection: Protection
}

/// Why a nested walk stopped: what an EPT-violation exit qualification or an NPF
/// error code carries.
public struct NestedViolation: Error, Equatable, Sendable, CustomStringConvertible {
    public var gpa: GuestPhysicalAddress
    public var access: AccessType
    /// The level of the entry that stopped the walk (1 = page table).
    public var level: Int
    /// Whether that entry was present (false: no translation at all).
    public var present: Bool
    /// The rights that entry grants now.
    public var entryProtection: Protection
    /// Emulated A/D: the entry allows the access once its accessed/dirty state is set
    /// (a fault for `Pmap.emulateAccessedDirty`, not for the VMM's fault handler).
    public var accessedDirtyFault: Bool

    /// EPT-violation exit qualification bits 0-5 (SDM vol. 3, table 28-7): the access
    /// (read, write, fetch) and the R/W/X rights of the entry.
    public var eptQualification: UInt64 {
        var q: UInt64 = access == .read ? 1 : (access == .write ? 2 : 4)
        if entryProtection.contains(.read) { q |= 1 << 3 }
        if entryProtection.contains(.write) { q |= 1 << 4 }
        if entryProtection.contains(.execute) { q |= 1 << 5 }
        return q
    }

    /// NPF error code (AMD APM vol. 2, 15.25.6): P, W, U (always: guest accesses are user
    /// accesses to the nested tables), ID for fetches, and bit 32 (the final guest physical
    /// address, as opposed to a guest table walk, which the CPU layer reports).
    public var nptErrorCode: UInt64 {
        var c: UInt64 = 1 << 2 | 1 << 32
        if present { c |= 1 }
        if access == .write { c |= 1 << 1 }
        if access == .execute { c |= 1 << 4 }
        return c
    }

    public var description: String {
        "nested \(access) at \(gpa): " + (present ? "level-\(level) entry allows \(entryProtection)" : "no entry at level \(level)")
            + (accessedDirtyFault ? " (accessed/dirty emulation)" : "")
    }
}

extension Pmap {
    /// Walks the nested tables for an access at `gpa`. In hardware A/D mode it sets A on
    /// every entry used and D on the leaf of a write, as the MMU does.
    public func translate(_ gpa: GuestPhysicalAddress, _ access: AccessType) -> Result<Translation, NestedViolation> {
        let g = gpa.rawValue
        guard !isDestroyed, g >> UInt64(addressWidth) == 0 else {
            return .failure(NestedViolation(gpa: gpa, access: access, level: levels, present: false,
                                            entryProtection: [], accessedDirtyFault: false))
        }
        // The class's variables read once (each read of a stored var is an exclusivity check).
        let bits = self.bits
        var table = root
        var level = levels
        while true {
            let p = entryPointer(table, Self.index(g, level: level))
            let e = p.pointee
            guard bits.isPresent(e) else {
                return .failure(NestedViolation(gpa: gpa, access: access, level: level, present: false,
                                                entryProtection: [], accessedDirtyFault: false))
            }
            if level != 1 && e & bits.large == 0 {
                if adMode == .hardware { p.pointee = e | bits.accessed }
                table = bits.address(e)
                level -= 1
                continue
            }
            let now = bits.current(e)
            guard now.contains(access.needs) else {
                let later = bits.protection(e)
                return .failure(NestedViolation(gpa: gpa, access: access, level: level, present: true,
                                                entryProtection: now,
                                                accessedDirtyFault: adMode == .emulated && later.contains(access.needs)))
            }
            if adMode == .hardware {
                p.pointee = e | bits.accessed | (access == .write ? bits.dirty : 0)
            }
            let size = PageSize.at(level: level)
            let hpa = (e & EntryBits.addressMask & ~(size.bytes - 1)) | (g & (size.bytes - 1))
            return .success(Translation(hpa: HostPhysicalAddress(hpa), size: size, protection: now))
        }
    }

    /// Emulated A/D (bhyve's pmap_emulate_accessed_dirty): after an accessed/dirty fault,
    /// opens the hardware read permission (the page is now accessed) and, for a write the
    /// entry's intent allows, the write permission (now dirty). Returns whether it did;
    /// false means a real violation for the VMM's fault handler.
    @discardableResult
    public func emulateAccessedDirty(_ gpa: GuestPhysicalAddress, _ access: AccessType) -> Bool {
        guard adMode == .emulated, let p = leafPointer(gpa) else { return false }
        let e = p.pointee
        let intent = bits.protection(e)
        guard intent.contains(access.needs) else { return false }
        var n = e
        if intent.contains(.read) { n |= bits.read }
        if access == .write { n |= bits.write }
        p.pointee = n
        return true
    }

    /// Sets the page's accessed and dirty state as a snapshot recorded it (hardware A/D: the
    /// bits; emulated: the permissions a fault would have opened). Returns whether `gpa` is mapped.
    @discardableResult
    public func setAccessedDirty(_ gpa: GuestPhysicalAddress, accessed: Bool, dirty: Bool) -> Bool {
        guard let p = leafPointer(gpa) else { return false }
        if adMode == .hardware {
            p.pointee |= (accessed ? bits.accessed : 0) | (dirty ? bits.dirty : 0)
        } else {
            if accessed { emulateAccessedDirty(gpa, .read) }
            if dirty { emulateAccessedDirty(gpa, .write) }
        }
        return true
    }

    /// The leaf entry mapping `gpa`, if any.
    func leafPointer(_ gpa: GuestPhysicalAddress) -> UnsafeMutablePointer<UInt64>? {
        guard !isDestroyed, gpa.rawValue >> UInt64(addressWidth) == 0 else { return nil }
        var table = root
        var level = levels
        while true {
            let p = entryPointer(table, Self.index(gpa.rawValue, level: level))
            let e = p.pointee
            guard bits.isPresent(e) else { return nil }
            if isLeaf(e, level: level) { return p }
            table = bits.address(e)
            level -= 1
        }
    }

    /// The rights of the page mapping `gpa` (nil if unmapped): what it is meant to grant,
    /// and what it grants now (less, in emulated A/D mode, until the access faults).
    public func rights(_ gpa: GuestPhysicalAddress) -> (intended: Protection, current: Protection)? {
        leafPointer(gpa).map { (bits.protection($0.pointee), bits.current($0.pointee)) }
    }

    /// Whether the page is dirty: D set (hardware A/D) or the write permission opened (emulated).
    func isDirty(_ e: UInt64) -> Bool { adMode == .hardware ? e & bits.dirty != 0 : e & bits.write != 0 }
    func isAccessed(_ e: UInt64) -> Bool { adMode == .hardware ? e & bits.accessed != 0 : e & bits.read != 0 }

    /// Accessed and dirty state of the page mapping `gpa`, or nil if unmapped.
    public func accessedDirty(_ gpa: GuestPhysicalAddress) -> (accessed: Bool, dirty: Bool)? {
        leafPointer(gpa).map { (isAccessed($0.pointee), isDirty($0.pointee)) }
    }

    /// The dirty pages of [start, start + length), in ascending order, each reported at
    /// its page's base (a large leaf reports its base once). With `clear`, their dirty
    /// state is reset (D cleared, or the write permission closed again) and the
    /// generation bumped, so the next write is seen.
    public func dirtyPages(_ start: GuestPhysicalAddress, length: UInt64, clear: Bool = false)
        -> [(gpa: GuestPhysicalAddress, size: PageSize)] {
        var out: [(GuestPhysicalAddress, PageSize)] = []
        guard !isDestroyed else { return out }
        let end = start.rawValue &+ length
        collectDirty(root, level: levels, base: 0, from: start.rawValue, to: end, clear: clear, into: &out)
        if clear && !out.isEmpty { generation &+= 1 }
        return out.map { (gpa: $0.0, size: $0.1) }
    }

    private func collectDirty(_ table: HostPhysicalAddress, level: Int, base: UInt64, from: UInt64, to: UInt64,
                              clear: Bool, into out: inout [(GuestPhysicalAddress, PageSize)]) {
        let span = UInt64(1) << (12 + 9 * UInt64(level - 1))
        for i in 0..<512 {
            let lo = base + UInt64(i) * span
            guard lo < to, lo + span > from else { continue }
            let p = entryPointer(table, i)
            let e = p.pointee
            guard bits.isPresent(e) else { continue }
            if isLeaf(e, level: level) {
                guard isDirty(e) else { continue }
                out.append((GuestPhysicalAddress(lo), PageSize.at(level: level)))
                if clear { p.pointee = adMode == .hardware ? e & ~bits.dirty : e & ~bits.write }
            } else {
                collectDirty(bits.address(e), level: level - 1, base: lo, from: from, to: to, clear: clear, into: &out)
            }
        }
    }
}

/// One leaf of a pmap, for enumeration.
public struct PmapLeaf: Equatable, Sendable {
    public var gpa: GuestPhysicalAddress
    public var hpa: HostPhysicalAddress
    public var size: PageSize
    public var protection: Protection
    public var accessed: Bool
    public var dirty: Bool
}

extension Pmap {
    /// Every leaf, in ascending guest physical order.
    public func leaves() -> [PmapLeaf] {
        var out: [PmapLeaf] = []
        guard !isDestroyed else { return out }
        collectLeaves(root, level: levels, base: 0, into: &out)
        return out
    }

    private func collectLeaves(_ table: HostPhysicalAddress, level: Int, base: UInt64, into out: inout [PmapLeaf]) {
        let span = UInt64(1) << (12 + 9 * UInt64(level - 1))
        for i in 0..<512 {
            let e = entryPointer(table, i).pointee
            guard bits.isPresent(e) else { continue }
            let lo = base + UInt64(i) * span
            if isLeaf(e, level: level) {
                let size = PageSize.at(level: level)
                out.append(PmapLeaf(gpa: GuestPhysicalAddress(lo), hpa: HostPhysicalAddress(e & EntryBits.addressMask & ~(size.bytes - 1)),
                                    size: size, protection: bits.protection(e), accessed: isAccessed(e), dirty: isDirty(e)))
            } else {
                collectLeaves(bits.address(e), level: level - 1, base: lo, into: &out)
            }
        }
    }
}

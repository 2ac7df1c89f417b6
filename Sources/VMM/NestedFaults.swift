import Foundation
import GuestMemory
import NestedPaging
import X86

/// What the kernel side made of a nested page fault.
public enum NestedFaultOutcome: Equatable, Sendable, CustomStringConvertible {
    /// RAM: the page was faulted in from its object and entered; the access can be retried.
    case entered(hpa: HostPhysicalAddress)
    /// A write to a page shared with a snapshot (copy-on-write): the page got a frame of its
    /// own, entered writable; retry.
    case copied(hpa: HostPhysicalAddress)
    /// Emulated A/D: the fault only recorded accessed/dirty; retry.
    case accessedDirty
    /// The page was already mapped with the rights asked for (another vCPU got there first).
    case spurious
    /// A device's range: exit to the monitor with the instruction (MMIO assist).
    case mmioAssist(range: Int, offset: UInt64)
    /// The access is not allowed by the page's rights (a write to read-only RAM, say).
    case protection(gpa: GuestPhysicalAddress)
    /// Unbacked or reserved memory: an error exit carrying the GPA.
    case unbacked(gpa: GuestPhysicalAddress)

    public var description: String {
        switch self {
        case .entered(let h): "entered \(h)"
        case .copied(let h): "copied \(h)"
        case .accessedDirty: "accessed-dirty"
        case .spurious: "spurious"
        case .mmioAssist(let r, let o): "mmio \(r) \(hex(o))"
        case .protection(let g): "protection \(g)"
        case .unbacked(let g): "unbacked \(g)"
        }
    }
}

/// The kernel side of one VM's memory, as vmm(4) keeps it: the guest's physical
/// memory (map and objects) and the nested pmap, filled on demand by the nested
/// page fault handler. Faults and their outcomes can be recorded (`FaultLog`).
public final class VMMemory: @unchecked Sendable {
    public let memory: GuestPhysicalMemory
    public let pmap: Pmap
    /// Protection RAM pages are entered with (vmm(4) enters them RWX).
    public let ramProtection: Protection = .all
    /// When set, every fault and its outcome is appended.
    public var recorder: FaultLog.Writer?
    /// When set, told of every fault and its outcome (the machine's seam: a whole-run trace).
    public var onFault: ((GuestPhysicalAddress, AccessType, NestedFaultOutcome) -> Void)?
    public private(set) var isTornDown = false
    /// Nested page faults handled.
    public private(set) var faultCount = 0

    public init(map: MemoryMap, host: HostPhysicalMemory, format: PmapFormat,
                adMode: AccessedDirtyMode = .hardware) throws {
        memory = try GuestPhysicalMemory(map: map, host: host)
        pmap = try Pmap(format: format, adMode: adMode, addressWidth: map.addressWidth, host: host)
    }

    /// The nested page fault handler: classify the GPA by the memory map; RAM: fault the
    /// page in from its object and enter it; MMIO: MMIO assist; anything else: an error exit.
    /// The last fault the vCPU's MMU could not resolve (a device's range, unbacked memory, a
    /// protection violation) and what `classify` found: the exit it becomes carries it.
    var unresolved: (gpa: UInt64, outcome: NestedFaultOutcome)?

    public func handleNestedFault(_ gpa: GuestPhysicalAddress, _ access: AccessType) -> NestedFaultOutcome {
        faultCount += 1
        let outcome = classify(gpa, access)
        recorder?.append(gpa: gpa, access: access, outcome: outcome)
        onFault?(gpa, access, outcome)
        return outcome
    }

    private func classify(_ gpa: GuestPhysicalAddress, _ access: AccessType) -> NestedFaultOutcome {
        switch memory.backing(gpa) {
        case .mmio(let range, let offset):
            return .mmioAssist(range: range, offset: offset)
        case .reserved:
            return .unbacked(gpa: gpa)
        case .ram(let object, let offset):
            // Already mapped: an emulated accessed/dirty fault, a lost race, or a real violation.
            // (No walk here: in hardware A/D mode a walk would set accessed and dirty.)
            if let rights = pmap.rights(gpa) {
                if rights.current.contains(access.needs) { return .spurious }
                if access == .write && object.isCopyOnWrite(at: offset) { return copyOnWrite(gpa, object, offset) }
                if rights.intended.contains(access.needs) && pmap.emulateAccessedDirty(gpa, access) { return .accessedDirty }
                return .protection(gpa: gpa)
            }
            guard ramProtection.contains(access.needs) else { return .protection(gpa: gpa) }
            do {
                let page = GuestPhysicalAddress(gpa.rawValue & ~Page.mask)
                if access == .write && object.isCopyOnWrite(at: offset) { return copyOnWrite(gpa, object, offset) }
                let hpa = try object.frame(at: offset & ~Page.mask)!
                // A page shared with a snapshot is entered without write: the first write copies it.
                try pmap.enter(page, hpa, object.isCopyOnWrite(at: offset) ? ramProtection.subtracting(.write) : ramProtection)
                return .entered(hpa: hpa)
            } catch {
                // Host memory ran out: the guest cannot be given the page.
                return .unbacked(gpa: gpa)
            }
        }
    }

    /// A write to a page shared with a snapshot: the object gives it a frame of its own
    /// (its `onCopy` drops the old mapping), which is entered writable.
    private func copyOnWrite(_ gpa: GuestPhysicalAddress, _ object: MemoryObject, _ offset: UInt64) -> NestedFaultOutcome {
        do {
            let hpa = try object.writableFrame(at: offset & ~Page.mask).hpa
            try pmap.enter(GuestPhysicalAddress(gpa.rawValue & ~Page.mask), hpa, ramProtection)
            return .copied(hpa: hpa)
        } catch {
            return .unbacked(gpa: gpa)
        }
    }

    /// Takes a copy-on-write copy of every RAM object (`MemoryObject.frozenCopy`) and closes
    /// write access in the pmap, so that the first write to each page faults and copies it.
    /// Returns the copies by range (nil for MMIO and reserved ones).
    public func freeze() throws -> [MemoryObject?] {
        var copies: [MemoryObject?] = []
        for (i, r) in memory.map.ranges.enumerated() {
            guard let object = memory.objects[i] else { copies.append(nil); continue }
            copies.append(try object.frozenCopy())
            try pmap.protect(r.base, length: r.size, ramProtection.subtracting(.write))
            if object.onCopy == nil {
                let base = r.base.rawValue
                object.onCopy = { [unowned self] offset in try? pmap.remove(GuestPhysicalAddress(base + offset), length: Page.size) }
            }
        }
        return copies
    }

    /// vmm(4)'s teardown: remove every range from the pmap, drop the VM's object
    /// references (views keep theirs), destroy the pmap.
    public func teardown() {
        guard !isTornDown else { return }
        isTornDown = true
        for r in memory.map.ranges { try? pmap.remove(r.base, length: r.size) }
        memory.teardown()
        pmap.destroy()
    }

    /// A hash of the pmap's leaves and the RAM objects' resident pages and contents
    /// (FNV-1a, 64-bit): equal states hash equal, for replay checks.
    public func stateHash() -> UInt64 {
        var h = FNV1a()
        for leaf in pmap.leaves() {
            h.add(leaf.gpa.rawValue); h.add(leaf.hpa.rawValue)
            h.add(UInt64(leaf.protection.rawValue)); h.add(leaf.size.bytes)
            h.add(leaf.accessed ? 1 : 0); h.add(leaf.dirty ? 1 : 0)
        }
        for case let object? in memory.objects where object.referenceCount > 0 {
            for page in stride(from: UInt64(0), to: object.size, by: Int(Page.size)) {
                guard let hpa = try? object.frame(at: page, create: false) else { continue }
                h.add(page)
                h.add(bytes: UnsafeRawBufferPointer(start: memory.host.pointer(hpa), count: Int(Page.size)))
            }
        }
        return h.value
    }
}

extension VMMemory {
    /// A hash of guest RAM's contents by guest-physical address (FNV-1a, 64-bit), pages of
    /// zeros left out: equal for two machines whose guests see the same memory, however
    /// their host frames and pmaps differ (a restored snapshot against the original run).
    public func contentHash() -> UInt64 {
        var h = FNV1a()
        for (i, r) in memory.map.ranges.enumerated() {
            guard let object = memory.objects[i], object.referenceCount > 0 else { continue }
            for offset in object.residentOffsets {
                guard let hpa = try? object.frame(at: offset, create: false) else { continue }
                let page = UnsafeRawBufferPointer(start: memory.host.pointer(hpa), count: Int(Page.size))
                guard page.contains(where: { $0 != 0 }) else { continue }
                h.add(r.base.rawValue + offset)
                h.add(bytes: page)
            }
        }
        return h.value
    }
}

extension VMMemory {
    /// The guest-physical addresses of the RAM pages whose contents differ between this
    /// memory and `other`'s (the same memory map; a page neither has is zeros), at most
    /// `limit` of them, in ascending order: what the lockstep engine compares.
    public func differingPages(from other: VMMemory, limit: Int = 16) -> [UInt64] {
        precondition(memory.map.ranges == other.memory.map.ranges, "memories of different maps")
        var found: [UInt64] = []
        for (i, r) in memory.map.ranges.enumerated() {
            let mine = memory.objects[i].flatMap { $0.referenceCount > 0 ? $0 : nil }
            let theirs = other.memory.objects[i].flatMap { $0.referenceCount > 0 ? $0 : nil }
            guard mine != nil || theirs != nil else { continue }
            let offsets = Set((mine?.residentOffsets ?? []) + (theirs?.residentOffsets ?? [])).sorted()
            for offset in offsets {
                let a = mine.flatMap { o in (try? o.frame(at: offset, create: false)).flatMap { $0 }.map { memory.host.pointer($0) } }
                let b = theirs.flatMap { o in (try? o.frame(at: offset, create: false)).flatMap { $0 }.map { other.memory.host.pointer($0) } }
                if !VMMemory.samePage(a, b) {
                    found.append(r.base.rawValue + offset)
                    if found.count >= limit { return found }
                }
            }
        }
        return found
    }

    /// Two pages alike (nil: a page of zeros).
    static func samePage(_ a: UnsafeMutableRawPointer?, _ b: UnsafeMutableRawPointer?) -> Bool {
        switch (a, b) {
        case (nil, nil): return true
        case (let p?, let q?): return memcmp(p, q, Int(Page.size)) == 0
        case (let p?, nil), (nil, let p?): return UnsafeRawBufferPointer(start: p, count: Int(Page.size)).allSatisfy { $0 == 0 }
        }
    }
}

/// FNV-1a, 64-bit.
struct FNV1a {
    private(set) var value: UInt64 = 0xCBF2_9CE4_8422_2325
    mutating func add(_ v: UInt64) {
        var x = v
        for _ in 0..<8 { value = (value ^ (x & 0xFF)) &* 0x0000_0100_0000_01B3; x >>= 8 }
    }
    mutating func add(bytes: UnsafeRawBufferPointer) {
        for b in bytes { value = (value ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
    }
}
